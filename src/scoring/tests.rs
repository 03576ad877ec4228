use super::*;
use crate::api::{Bands, Weights};
use crate::model::{ApplicationStatus, Candidate, PersonalInfo, Resume, resume::parse_resume};
use timeline::YearMonth;

const NOW: i32 = 2026;

fn job() -> Job {
    Job {
        location: Some("Remote".into()),
        ..Job::from_text(
            "job-1",
            "Senior Backend Engineer",
            "We build payments infrastructure.\n\n\
            What you will do:\n- Own services in production\n\n\
            Requirements:\n- 5+ years of experience as a backend engineer\n\
            - Strong proficiency in Rust and Kubernetes\n\
            - Hands-on experience with PostgreSQL and Kafka\n\
            - Experience with Terraform\n\
            - Bachelor's degree in Computer Science or related field\n\n\
            Nice to have:\n- Experience with gRPC\n- Experience with Redis\n",
        )
    }
}

const STRONG: &str = "Jane Doe
jane.doe@example.com | +1 555 0100 | 12 Elm St, Springfield, IL

SUMMARY
Backend engineer with 8 years of experience building distributed systems.

EXPERIENCE
Senior Software Engineer, Acme Corp (2021 - present)
- Built a high-throughput event pipeline using Kafka
Software Engineer, Initech (2018 - 2021)
- Designed and shipped APIs in Rust
Software Engineer, Hooli (2019 - 2020)
- Overlapping contract work

EDUCATION
Bachelor of Science in Computer Science, State University (2014 - 2018)

SKILLS
Rust, k8s, Postgres, Kafka, gRPC
";

const WEAK: &str = "John Roe
john@example.com

SUMMARY
Sales professional with 2 years of experience closing B2B deals.

EXPERIENCE
Account Executive, Globex (2024 - present)
- Exceeded quota using Salesforce

EDUCATION
High School Diploma, Central High (2016 - 2020)

SKILLS
Salesforce, Negotiation
";

fn candidate(text: &str, first: &str, email: &str) -> Candidate {
    Candidate {
        id: "cand-1".into(),
        personal: PersonalInfo {
            first_name: Some(first.into()),
            last_name: Some("Doe".into()),
            email: Some(email.into()),
            phone: Some("+1 555 0100".into()),
            address: None,
        },
        title: None,
        resume: Resume {
            url: None,
            parsed_text: text.into(),
            structured: parse_resume(text),
            readability: Default::default(),
        },
        source: None,
        updated_at: None,
    }
}

fn blind(text: &str) -> BlindCandidate {
    BlindCandidate::from_candidate(&candidate(text, "Jane", "jane.doe@example.com"))
}

fn app() -> Application {
    Application {
        id: "app-1".into(),
        candidate_id: "cand-1".into(),
        job_id: "job-1".into(),
        status: ApplicationStatus::New,
        stage: Some("Application Review".into()),
        applied_at: None,
        updated_at: None,
        number_fields: Default::default(),
    }
}

#[test]
fn strong_candidate_outscores_weak() {
    let p = ScoringProfileSpec::default();
    let strong = score(&job(), &blind(STRONG), &p, NOW);
    let weak = score(&job(), &blind(WEAK), &p, NOW);
    assert!(strong.score > weak.score, "{strong:?}\n{weak:?}");
    assert!(strong.score >= 80, "{strong:?}");
    assert_eq!(strong.band, Band::StrongFit);
    assert_eq!(weak.band, Band::WeakFit);
    assert!(weak.score < 30, "{weak:?}");
}

#[test]
fn strong_candidate_explanations() {
    let s = score(&job(), &blind(STRONG), &ScoringProfileSpec::default(), NOW);
    assert_eq!(
        s.strengths,
        vec![
            "Has 4 of 5 required skills: Rust, Kubernetes, PostgreSQL, Kafka",
            "8 years of experience (5+ asked)",
            "Current title is related: Senior Software Engineer",
            "Holds a bachelor's degree (bachelor's degree asked)",
            "Studied a related field: Computer Science",
        ]
    );
    assert_eq!(
        s.gaps,
        vec![
            "Missing required skills: Terraform",
            "Missing nice-to-have skills: Redis"
        ]
    );
    // Skills: (2*4 + 1) / (2*5 + 2) = 75.
    assert_eq!(s.components.skills, Some(75));
    assert_eq!(s.components.experience, Some(100));
    assert_eq!(s.components.education, Some(100));
    // Deterministic.
    assert_eq!(
        s,
        score(&job(), &blind(STRONG), &ScoringProfileSpec::default(), NOW)
    );
}

#[test]
fn weak_candidate_gaps() {
    let s = score(&job(), &blind(WEAK), &ScoringProfileSpec::default(), NOW);
    assert_eq!(s.components.skills, Some(0));
    assert_eq!(s.components.experience, Some(40));
    assert_eq!(
        s.gaps[..2],
        [
            "Missing required skills: Rust, Kubernetes, PostgreSQL, Kafka, Terraform",
            "2 years of experience (5+ asked)",
        ]
    );
    assert!(
        s.gaps.contains(
            &"Highest education is a high school diploma (bachelor's degree asked)".into()
        )
    );
    assert!(s.gaps.len() <= MAX_REASONS);
}

#[test]
fn zero_weights_drop_components() {
    let p = ScoringProfileSpec {
        weights: Weights {
            skills: 1,
            experience: 0,
            title: 0,
            education: 0,
            semantic: None,
        },
        ..Default::default()
    };
    let s = score(&job(), &blind(STRONG), &p, NOW);
    assert_eq!(
        s.components,
        ComponentScores {
            skills: Some(75),
            experience: None,
            title: None,
            education: None,
            semantic: None
        }
    );
    assert_eq!(s.score, 75);
    // Only reasons of weighed components are given.
    assert!(s.strengths.iter().all(|x| x.contains("skills")), "{s:?}");
    assert!(s.gaps.iter().all(|x| x.contains("skills")), "{s:?}");
}

#[test]
fn bands_follow_thresholds() {
    let p = ScoringProfileSpec::default();
    assert_eq!(band(80, &p), Band::StrongFit);
    assert_eq!(band(79, &p), Band::GoodFit);
    assert_eq!(band(65, &p), Band::GoodFit);
    assert_eq!(band(64, &p), Band::ModerateFit);
    assert_eq!(band(45, &p), Band::ModerateFit);
    assert_eq!(band(44, &p), Band::WeakFit);
    let strict = ScoringProfileSpec {
        bands: Bands {
            strong_fit: 99,
            good_fit: 98,
            moderate_fit: 97,
        },
        ..Default::default()
    };
    let s = score(&job(), &blind(STRONG), &strict, NOW);
    assert_eq!(s.band, Band::WeakFit);
}

#[test]
fn personal_fields_do_not_change_the_score() {
    let p = ScoringProfileSpec::default();
    let a = BlindCandidate::from_candidate(&candidate(STRONG, "Jane", "jane.doe@example.com"));
    // Same resume, different person: the name and contact lines differ.
    let other_text = STRONG
        .replace("Jane", "Mohammed")
        .replace("jane.doe@example.com", "m.k@example.org");
    let mut other = candidate(&other_text, "Mohammed", "m.k@example.org");
    other.personal.last_name = Some("Doe".into());
    other.id = "someone-else".into();
    let b = BlindCandidate::from_candidate(&other);
    assert_eq!(a, b, "blind views must be identical");
    assert_eq!(score(&job(), &a, &p, NOW), score(&job(), &b, &p, NOW));
    assert_eq!(
        fingerprint(&job(), &a, &app()),
        fingerprint(&job(), &b, &app())
    );
}

#[test]
fn fingerprint_stable_and_sensitive() {
    let b = blind(STRONG);
    let fp = fingerprint(&job(), &b, &app());
    assert_eq!(fp.len(), 64);
    assert!(fp.chars().all(|c| c.is_ascii_hexdigit()));

    // Unchanged data, new timestamps, stage, status, location: same fingerprint.
    let mut j2 = job();
    j2.updated_at = Some(chrono::Utc::now());
    j2.location = Some("Berlin".into());
    let mut a2 = app();
    a2.updated_at = Some(chrono::Utc::now());
    a2.stage = Some("Offer".into());
    a2.status = ApplicationStatus::Reviewed;
    assert_eq!(fp, fingerprint(&j2, &b, &a2));

    // Anything the score reads changes it.
    let mut j3 = job();
    j3.description.push_str("- Experience with Go\n");
    assert_ne!(fp, fingerprint(&j3, &b, &app()));
    let mut j4 = job();
    j4.title = "Staff Backend Engineer".into();
    assert_ne!(fp, fingerprint(&j4, &b, &app()));
    let mut j5 = job();
    j5.requirements = vec!["Go".into()];
    assert_ne!(fp, fingerprint(&j5, &b, &app()));
    let b2 = blind(&STRONG.replace("gRPC", "gRPC, Go"));
    assert_ne!(fp, fingerprint(&job(), &b2, &app()));
    let mut a3 = app();
    a3.job_id = "job-2".into();
    assert_ne!(fp, fingerprint(&job(), &b, &a3));
}

#[test]
fn profile_validation_messages() {
    assert_eq!(validate_profile(&ScoringProfileSpec::default()), Ok(()));
    let err = |p: ScoringProfileSpec| validate_profile(&p).map_err(|e| e.to_string());
    let zero = ScoringProfileSpec {
        weights: Weights {
            skills: 0,
            experience: 0,
            title: 0,
            education: 0,
            semantic: None,
        },
        ..Default::default()
    };
    assert_eq!(
        err(zero),
        Err("spec.weights: at least one weight must be above 0".into())
    );
    let bands = |strong, good, moderate| ScoringProfileSpec {
        bands: Bands {
            strong_fit: strong,
            good_fit: good,
            moderate_fit: moderate,
        },
        ..Default::default()
    };
    assert_eq!(
        err(bands(60, 65, 45)),
        Err("spec.bands: strongFit (60) must be above goodFit (65)".into())
    );
    assert_eq!(
        err(bands(80, 50, 50)),
        Err("spec.bands: goodFit (50) must be above moderateFit (50)".into())
    );
    assert_eq!(
        err(bands(101, 50, 40)),
        Err("spec.bands.strongFit: 101 is above the maximum of 100".into())
    );
    let skills = ScoringProfileSpec {
        must_have_skills: vec!["Rust".into()],
        nice_to_have_skills: vec!["Go".into(), "  ".into()],
        ..Default::default()
    };
    assert_eq!(
        err(skills),
        Err("spec.niceToHaveSkills[1]: a skill must be a non-empty string".into())
    );
    let mut heavy = ScoringProfileSpec::default();
    heavy.weights.title = 500;
    assert_eq!(
        err(heavy),
        Err("spec.weights.title: 500 is above the maximum of 100".into())
    );
}

#[test]
fn overlapping_years_are_not_double_counted() {
    let w = |s, e| crate::model::BlindPosition {
        title: "Engineer".into(),
        start_year: Some(s),
        end_year: e,
    };
    assert_eq!(total_years(&[], NOW), 0);
    assert_eq!(
        total_years(&[w(2018, Some(2021)), w(2019, Some(2020))], NOW),
        3
    );
    assert_eq!(total_years(&[w(2021, None), w(2018, Some(2021))], NOW), 8);
    assert_eq!(
        total_years(&[w(2010, Some(2012)), w(2015, Some(2016))], NOW),
        3
    );
    // A start in the future counts nothing.
    assert_eq!(total_years(&[w(2030, None)], NOW), 0);
}

#[test]
fn experience_without_ask_uses_title_seniority() {
    let mut j = job();
    j.description = "Requirements:\n- Rust".into();
    j.title = "Staff Engineer".into();
    let s = score(&j, &blind(WEAK), &ScoringProfileSpec::default(), NOW);
    // 2 years of 7 expected for a staff title.
    assert_eq!(s.components.experience, Some(29));
    assert!(
        s.gaps
            .contains(&"2 years of experience (about 7 expected for this title)".into()),
        "{s:?}"
    );
}

#[test]
fn title_similarity_is_seniority_and_family_aware() {
    assert_eq!(
        title_similarity("Senior Backend Engineer", "Sr. Back-end Developer"),
        100
    );
    assert!(
        title_similarity("Senior Backend Engineer", "Senior Software Engineer")
            > title_similarity("Senior Backend Engineer", "Junior Software Engineer")
    );
    assert_eq!(
        title_similarity("Senior Backend Engineer", "Account Executive"),
        0
    );
    assert_eq!(title_similarity("Data Engineer", "Data Scientist"), 50);
    assert_eq!(
        title_similarity("Backend Engineer", "Site Reliability Engineer"),
        50
    );
    assert_eq!(title_similarity("Product Manager", ""), 0);
}

#[test]
fn education_not_asked_is_neutral_high() {
    let mut j = job();
    j.description = "Requirements:\n- Rust\n- 1+ years of experience".into();
    let edu = |level| BlindCandidate {
        title: None,
        resume_text: String::new(),
        structured: crate::model::BlindResume {
            education: vec![crate::model::BlindEducation {
                degree: None,
                discipline: Some("History".into()),
                level,
            }],
            ..Default::default()
        },
    };
    let p = ScoringProfileSpec::default();
    assert_eq!(
        score(&j, &edu(Some(EducationLevel::HighSchool)), &p, NOW)
            .components
            .education,
        Some(85)
    );
    let mut rust_job = j.clone();
    rust_job.description.push_str("\n- Background in History");
    assert_eq!(
        score(&rust_job, &edu(Some(EducationLevel::HighSchool)), &p, NOW)
            .components
            .education,
        Some(95)
    );
}

#[test]
fn current_title_from_ats_field() {
    let mut c = candidate(WEAK, "John", "john@example.com");
    c.title = Some("Senior Backend Engineer".into());
    let s = score(
        &job(),
        &BlindCandidate::from_candidate(&c),
        &ScoringProfileSpec::default(),
        NOW,
    );
    assert_eq!(s.components.title, Some(100));
    assert!(
        s.strengths
            .contains(&"Current title closely matches: Senior Backend Engineer".into())
    );
}

// ------------------------------------------------ requirements and evidence

fn text_candidate(text: &str) -> BlindCandidate {
    BlindCandidate::from_candidate(&candidate(text, "Jane", "jane.doe@example.com"))
}

#[test]
fn a_job_without_requirements_says_so_and_leaves_skills_out() {
    let j = Job::from_text(
        "job-9",
        "Backend Engineer",
        "We are a friendly team.\n\nBenefits:\n- Lunch\n",
    );
    let p = ScoringProfileSpec::default();
    let strong = score(&j, &blind(STRONG), &p, NOW);
    let weak = score(&j, &blind(WEAK), &p, NOW);
    for s in [&strong, &weak] {
        assert!(!s.requirements_found);
        assert_eq!(s.components.skills, None, "{s:?}");
        assert!(
            s.summary.contains("No requirements found in the job"),
            "{}",
            s.summary
        );
        assert!(
            s.gaps
                .iter()
                .any(|g| g.starts_with("No requirements found in the job"))
        );
        assert!(
            s.candidate_summary
                .contains("no skill or certification requirements")
        );
        assert!(s.evidence.is_empty(), "{:?}", s.evidence);
    }
    // Not one middling score for everyone: the other components still differ.
    assert!(strong.score > weak.score, "{strong:?} {weak:?}");
}

#[test]
fn negated_and_partial_mentions() {
    let j = Job::from_text(
        "job-2",
        "Platform Engineer",
        "Requirements:\n- Kubernetes\n- Terraform\n- Go\n",
    );
    let text = "SUMMARY\nNo experience with Kubernetes. Familiar with Terraform.\n\
                EXPERIENCE\nPlatform Engineer, Acme (Jan 2022 - present)\n- Built services in Go\n\
                SKILLS\nGo, Rust\n";
    let s = score(
        &j,
        &text_candidate(text),
        &ScoringProfileSpec::default(),
        NOW,
    );
    let e = |name: &str| {
        s.evidence
            .iter()
            .find(|e| e.requirement == name)
            .cloned()
            .expect("evidence")
    };
    let k8s = e("Kubernetes");
    assert!(!k8s.matched);
    assert_eq!(k8s.note.as_deref(), Some("mentioned only as not used"));
    let tf = e("Terraform");
    assert!(tf.matched && tf.strength == 50, "{tf:?}");
    assert_eq!(tf.sentence.as_deref(), Some("Familiar with Terraform."));
    let go = e("Go");
    assert_eq!(go.strength, 100);
    // The position's sentence, not the skills list, is quoted.
    assert_eq!(go.sentence.as_deref(), Some("Built services in Go"));
    // Skills: (2*0 + 2*50 + 2*100) / (2*300) = 50.
    assert_eq!(s.components.skills, Some(50));
    assert!(
        s.gaps
            .contains(&"Missing required skills: Kubernetes".to_string()),
        "{s:?}"
    );
    assert!(
        s.summary
            .contains("Meets 2 of 3 required skills; missing: Kubernetes")
    );
}

#[test]
fn stale_skills_count_less_and_months_count() {
    let j = Job::from_text(
        "job-3",
        "Engineer",
        "Requirements:\n- Perl\n- 3+ years of experience\n",
    );
    let recent = "EXPERIENCE\nEngineer, Acme (Jan 2024 - present)\n- Wrote Perl tools\n";
    let old = "EXPERIENCE\nEngineer, Acme (Feb 2009 - Nov 2013)\n- Wrote Perl tools\n";
    let p = ScoringProfileSpec::default();
    let now = YearMonth::new(2026, 6);
    let r = score(&j, &text_candidate(recent), &p, now);
    let o = score(&j, &text_candidate(old), &p, now);
    assert_eq!(r.components.skills, Some(100));
    assert_eq!(o.components.skills, Some(50));
    assert!(
        o.evidence[0].note.as_deref() == Some("last used 12 years ago"),
        "{o:?}"
    );
    // Jan 2024 - Jun 2026: 29 months of 36.
    assert_eq!(r.components.experience, Some(81));
    let years = r
        .evidence
        .iter()
        .find(|e| e.kind == EvidenceKind::Years)
        .expect("years");
    assert_eq!(years.requirement, "3+ years of experience");
    assert!(!years.matched);
    // Feb 2009 - Nov 2013 inclusive: 58 months, enough.
    assert_eq!(o.components.experience, Some(100));
}

#[test]
fn strong_candidate_evidence_and_summaries() {
    let s = score(&job(), &blind(STRONG), &ScoringProfileSpec::default(), NOW);
    let kafka = s
        .evidence
        .iter()
        .find(|e| e.requirement == "Kafka")
        .expect("kafka");
    assert_eq!(
        kafka.sentence.as_deref(),
        Some("Built a high-throughput event pipeline using Kafka")
    );
    let tf = s
        .evidence
        .iter()
        .find(|e| e.requirement == "Terraform")
        .expect("terraform");
    assert!(!tf.matched && tf.kind == EvidenceKind::Must);
    assert!(
        s.evidence
            .iter()
            .any(|e| e.kind == EvidenceKind::Years && e.matched)
    );
    assert!(
        s.evidence
            .iter()
            .any(|e| e.kind == EvidenceKind::Education && e.requirement == "bachelor's degree")
    );
    assert!(
        s.summary
            .starts_with(&format!("{}/100, strong fit.", s.score)),
        "{}",
        s.summary
    );
    assert!(s.summary.contains("missing: Terraform"));
    assert!(s.summary.contains("a person reviews"));
    let c = &s.candidate_summary;
    for part in [
        "automated tool",
        "Senior Backend Engineer",
        "Qualifications used: Rust, Kubernetes",
        "Required skills not found in your application: Terraform",
        "as received from the employer's applicant tracking system",
        "a person at the employer reviews",
        "alternative selection process or a reasonable accommodation",
        "how long it is kept",
    ] {
        assert!(c.contains(part), "{part:?} not in {c}");
    }
    assert!(c.chars().count() <= 1500);
}

#[test]
fn certifications_are_requirements() {
    let j = Job::from_text(
        "job-4",
        "Cloud Engineer",
        "Requirements:\n- CKA\n- AWS Certified (any)\n\nNice to have:\n- PMP\n",
    );
    let text = "SUMMARY\nHolds the CKA and AWS Certified Developer - Associate.\n";
    let s = score(
        &j,
        &text_candidate(text),
        &ScoringProfileSpec::default(),
        NOW,
    );
    let certs: Vec<(&str, bool)> = s
        .evidence
        .iter()
        .filter(|e| e.kind == EvidenceKind::Cert)
        .map(|e| (e.requirement.as_str(), e.matched))
        .collect();
    assert_eq!(
        certs,
        vec![
            ("CKA", true),
            ("AWS Certified", true),
            ("PMP (preferred)", false)
        ]
    );
    // (2*100 + 2*100 + 0) / (2+2+1)*100 = 80.
    assert_eq!(s.components.skills, Some(80));
    assert!(
        s.strengths
            .contains(&"Holds certifications: CKA, AWS Certified".to_string())
    );
}

#[test]
fn semantic_component_weighs_in_only_when_asked() {
    let p = ScoringProfileSpec::default();
    let ask = job::analyze(&job(), &p);
    let base = score_with(&ask, &job(), &blind(STRONG), &p, NOW);
    let same = score_with_semantic(&ask, &job(), &blind(STRONG), &p, NOW, Some(0));
    assert_eq!(base, same, "a profile without `semantic` ignores the value");
    let mut sp = p.clone();
    sp.semantic = true;
    sp.weights.semantic = Some(100);
    let absent = score_with_semantic(&ask, &job(), &blind(STRONG), &sp, NOW, None);
    assert_eq!(base.score, absent.score, "no model value, no component");
    let low = score_with_semantic(&ask, &job(), &blind(STRONG), &sp, NOW, Some(0));
    assert!(low.score < base.score);
    assert_eq!(low.components.semantic, Some(0));
}

/// Words that would state or hint at a protected or proxy attribute.
const ATTRIBUTE_WORDS: &[&str] = &[
    "age",
    "aged",
    "old",
    "young",
    "born",
    "birth",
    "gender",
    "male",
    "female",
    "man",
    "woman",
    "he",
    "she",
    "his",
    "her",
    "him",
    "married",
    "pregnant",
    "pregnancy",
    "religion",
    "nationality",
    "ethnicity",
    "race",
    "disability",
    "citizen",
    "graduated",
    "graduation",
    "university",
    "college",
    "school name",
    "employer name",
    "lives",
    "located",
    "address",
];

#[test]
fn explanations_never_mention_protected_or_proxy_attributes() {
    let people = [
        (
            "Maria",
            "Gonzalez",
            "she",
            "Universidad de Sevilla",
            "Iberia Bank",
            "Madrid",
            "2009",
        ),
        (
            "Kwame",
            "Mensah",
            "he",
            "University of Ghana",
            "Ashanti Gold",
            "Accra",
            "1994",
        ),
        (
            "Ruby",
            "Swift",
            "she",
            "Wellesley College",
            "Hooli",
            "Boston",
            "2016",
        ),
        (
            "Mark",
            "Jenkins",
            "he",
            "Ohio State University",
            "Globex",
            "Columbus",
            "2001",
        ),
    ];
    let jobs = [
        job(),
        Job::from_text(
            "j2",
            "Data Analyst",
            "Requirements:\n- SQL\n- Tableau\n- Statistics\n- 2+ years of experience\n- Bachelor's degree\nNice to have:\n- Python\n- CPA",
        ),
        Job::from_text("j3", "Office Manager", "We are a friendly team."),
    ];
    let p = ScoringProfileSpec::default();
    let mut scanned = 0usize;
    for (first, last, pronoun, school, employer, city, grad) in people {
        let text = format!(
            "{first} {last}\n{first}.{last}@example.com | +1 555 0199 | 1 Main St, {city}\n\n\
             SUMMARY\n{first} is a data engineer; {pronoun} built Kafka and SQL pipelines in {city}.\n\n\
             EXPERIENCE\nData Engineer, {employer} ({grad} - present)\n\
             - At {employer} {pronoun} led the Rust rewrite\n\
             - Familiar with Tableau\n\n\
             EDUCATION\nBachelor of Science in Statistics, {school} (2005 - {grad})\n\n\
             SKILLS\nRust, SQL, Kafka, Python\n"
        );
        let c = BlindCandidate::from_candidate(&candidate(
            &text,
            first,
            &format!("{first}.{last}@example.com"),
        ));
        for j in &jobs {
            let s = score(j, &c, &p, NOW);
            let mut texts: Vec<String> = vec![s.summary.clone(), s.candidate_summary.clone()];
            texts.extend(s.strengths.iter().cloned());
            texts.extend(s.gaps.iter().cloned());
            for e in &s.evidence {
                texts.push(e.requirement.clone());
                texts.extend(e.sentence.clone());
                texts.extend(e.note.clone());
            }
            let values = [
                first,
                last,
                school,
                employer,
                city,
                grad,
                "example.com",
                "555",
            ];
            for t in &texts {
                scanned += 1;
                let lower = t.to_lowercase();
                let words: Vec<&str> = lower
                    .split(|c: char| !c.is_alphanumeric() && c != '.')
                    .map(|w| w.trim_end_matches('.'))
                    .collect();
                for v in values {
                    assert!(!lower.contains(&v.to_lowercase()), "{v:?} in {t:?}");
                }
                for w in ATTRIBUTE_WORDS {
                    if w.contains(' ') {
                        assert!(!lower.contains(w), "{w:?} in {t:?}");
                    } else {
                        assert!(!words.contains(w), "{w:?} in {t:?}");
                    }
                }
            }
        }
    }
    assert!(scanned > 100, "{scanned}");
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(64))]
    /// Hostile text never panics, and quotes stay bounded.
    #[test]
    fn hostile_text_scores_without_panicking(
        resume in "(\\PC|\n|Go|R&D|C\\+\\+|\\.NET|never |familiar with |\\(20[0-9]{2} - [A-Z][a-z]{2} 20[0-9]{2}\\)|EXPERIENCE\n|- ){0,60}",
        desc in "(\\PC|\n|Requirements:\n|Nice to have:\n|- |CKA |AWS Certified |[0-9]{1,3}\\+ years ){0,40}",
    ) {
        let j = Job::from_text("j", "Engineer", desc);
        let c = BlindCandidate {
            title: Some(resume.chars().take(30).collect()),
            resume_text: resume,
            structured: crate::model::BlindResume::default(),
        };
        let s = score(&j, &c, &ScoringProfileSpec::default(), NOW);
        proptest::prop_assert!(s.score <= 100);
        for e in &s.evidence {
            if let Some(q) = &e.sentence {
                proptest::prop_assert!(q.chars().count() <= evidence::MAX_SENTENCE + 2);
            }
            proptest::prop_assert!(e.strength <= 100);
        }
        proptest::prop_assert!(s.summary.chars().count() <= 700);
        proptest::prop_assert!(s.candidate_summary.chars().count() <= 1500);
    }
}
