//! Counterfactual suite: the same resume under different names (across
//! gender- and ethnicity-associated first and last names, including names
//! that are also skills), pronouns, gendered words, emails, phones and
//! addresses scores exactly the same, with the same explanation.
//!
//! Deterministic: resumes come from the sandbox generator with fixed seeds.

use super::*;
use crate::model::resume::parse_resume;
use crate::model::{Candidate, PersonalInfo, Resume};
use crate::sandbox::data::{GenCandidate, Tenant};

/// (first, last): a spread of associations, plus names that are skills or
/// everyday words.
const PEOPLE: &[(&str, &str)] = &[
    ("Emily", "Walsh"),
    ("Greg", "Baker"),
    ("Lakisha", "Washington"),
    ("Jamal", "Jones"),
    ("Mohammed", "Al-Hassan"),
    ("Fatima", "Rahman"),
    ("Priya", "Raghunathan"),
    ("Wei", "Zhang"),
    ("José", "Hernández"),
    ("Olusegun", "Adeyemi"),
    ("Ruby", "Jenkins"),
    ("Swift", "Chase"),
    ("Julia", "Mark"),
    ("Mark", "Rust"),
    ("Grace", "Go"),
    ("Chase", "Swift"),
];

const PHONES: &[&str] = &[
    "+1 555 0100",
    "(555) 987-6543",
    "555.987.6543",
    "+44 20 7946 0000",
    "+33 6 12 34 56 78",
];

/// Gendered sentences with the same meaning; each redacts to the same text.
const ABOUT: &[&str] = &[
    "She led her team through a migration and mentored him. Mother of two, sorority alumna.",
    "He led his team through a migration and mentored her. Father of two, fraternity alumnus.",
];

fn variant(base: &GenCandidate, person: usize, pronouns: usize, phone: usize) -> Candidate {
    let (first, last) = PEOPLE[person];
    let mut g = base.clone();
    g.first_name = first.to_string();
    g.last_name = last.to_string();
    g.email = format!(
        "{}.{}{}@example.{}",
        first.to_lowercase(),
        last.to_lowercase(),
        person,
        ["com", "org", "net"][person % 3]
    );
    g.phone = PHONES[phone % PHONES.len()].to_string();
    g.street = format!(
        "{} {}",
        10 + person * 7,
        ["Elm St", "Oak Ave", "Lake View Blvd"][person % 3]
    );
    g.summary = format!(
        "{} Hi, I'm {first}. {first} led the platform work. {}",
        g.summary,
        ABOUT[pronouns % ABOUT.len()]
    );
    let text = g.resume_text();
    Candidate {
        id: format!("{}-{person}", g.id),
        personal: PersonalInfo {
            first_name: Some(g.first_name.clone()),
            last_name: Some(g.last_name.clone()),
            email: Some(g.email.clone()),
            phone: Some(g.phone.clone()),
            address: Some(g.address()),
        },
        title: Some(g.title.clone()),
        resume: Resume {
            url: None,
            structured: parse_resume(&text),
            parsed_text: text,
            readability: Default::default(),
        },
        source: None,
        updated_at: None,
    }
}

#[test]
fn names_pronouns_and_contacts_do_not_move_the_score() {
    let profile = crate::api::ScoringProfileSpec::default();
    let mut cases = 0usize;
    let mut moved = Vec::new();
    for seed in [7u64, 11, 23] {
        let tenant = Tenant::generate(seed, 6, 16);
        let jobs: Vec<Job> = tenant
            .jobs
            .iter()
            .map(|j| Job::from_text(j.id.to_string(), j.title.clone(), j.description_text()))
            .collect();
        for (ci, base) in tenant.candidates.iter().enumerate() {
            let job = &jobs[ci % jobs.len()];
            let reference = BlindCandidate::from_candidate(&variant(base, 0, 0, 0));
            let expected = score(job, &reference, &profile, 2026);
            for (person, who) in PEOPLE.iter().enumerate() {
                for pronouns in 0..ABOUT.len() {
                    let c = variant(base, person, pronouns, person + pronouns);
                    let blind = BlindCandidate::from_candidate(&c);
                    let got = score(job, &blind, &profile, 2026);
                    cases += 1;
                    if got != expected || blind != reference {
                        moved.push(format!(
                            "seed {seed} candidate {ci} as {:?}/{pronouns}: {} -> {}\n{}\n---\n{}",
                            who,
                            expected.score,
                            got.score,
                            reference.resume_text,
                            blind.resume_text
                        ));
                    }
                }
            }
        }
    }
    assert!(cases >= 500, "only {cases} cases");
    assert!(
        moved.is_empty(),
        "{} of {cases} moved:\n{}",
        moved.len(),
        moved[..moved.len().min(3)].join("\n====\n")
    );
}

/// A candidate named like a skill the job asks for keeps that skill, and one
/// who lacks it does not gain it from their name.
#[test]
fn a_skill_name_neither_adds_nor_removes_the_skill() {
    let profile = crate::api::ScoringProfileSpec::default();
    let job = Job::from_text(
        "j",
        "Backend Engineer",
        "Requirements:\n- Ruby\n- Swift\n- Go\n- 2+ years of experience",
    );
    let resume = |name: &str, skills: &str| {
        let text = format!(
            "{name}\n\nSUMMARY\nBackend engineer.\n\nEXPERIENCE\nEngineer, Acme (2018 - present)\n\nSKILLS\n{skills}\n"
        );
        let (first, last) = name.split_once(' ').unwrap();
        Candidate {
            id: "c".into(),
            personal: PersonalInfo {
                first_name: Some(first.into()),
                last_name: Some(last.into()),
                ..Default::default()
            },
            title: None,
            resume: Resume {
                url: None,
                structured: parse_resume(&text),
                parsed_text: text,
                readability: Default::default(),
            },
            source: None,
            updated_at: None,
        }
    };
    let s = |name: &str, skills: &str| {
        score(
            &job,
            &BlindCandidate::from_candidate(&resume(name, skills)),
            &profile,
            2026,
        )
    };
    assert_eq!(
        s("Ruby Swift", "Ruby, Swift, Go"),
        s("Jane Doe", "Ruby, Swift, Go")
    );
    assert_eq!(s("Ruby Swift", "Python"), s("Jane Doe", "Python"));
    assert_eq!(s("Grace Go", "Java"), s("Jane Doe", "Java"));
}

mod props {
    use super::*;
    use crate::model::redact::AMBIGUOUS;
    use proptest::prelude::*;

    /// A capitalised name: random letters, or a word that is also a skill.
    fn name() -> impl Strategy<Value = String> {
        prop_oneof![
            "[A-Z][a-z]{1,9}",
            proptest::sample::select(AMBIGUOUS).prop_map(|w| {
                let mut c = w.chars();
                c.next()
                    .map(|f| f.to_uppercase().chain(c).collect())
                    .unwrap_or_default()
            }),
        ]
    }

    fn plain(base: &GenCandidate, first: &str, last: &str, phone: usize) -> Candidate {
        let mut g = base.clone();
        g.first_name = first.to_string();
        g.last_name = last.to_string();
        g.email = format!(
            "{}.{}@example.org",
            first.to_lowercase(),
            last.to_lowercase()
        );
        g.phone = PHONES[phone].to_string();
        let text = g.resume_text();
        Candidate {
            id: "x".into(),
            personal: PersonalInfo {
                first_name: Some(first.to_string()),
                last_name: Some(last.to_string()),
                email: Some(g.email.clone()),
                phone: Some(g.phone.clone()),
                address: Some(g.address()),
            },
            title: Some(g.title.clone()),
            resume: Resume {
                url: None,
                structured: parse_resume(&text),
                parsed_text: text,
                readability: Default::default(),
            },
            source: None,
            updated_at: None,
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(200))]

        /// Any two names give the same blind view of the same resume, unless
        /// the name is itself a word the resume uses (then that word goes,
        /// as it must: it could be the name).
        #[test]
        fn any_name_same_blind_view(
            first in name(),
            last in name(),
            which in 0usize..20,
            phone in 0usize..5,
        ) {
            let tenant = Tenant::generate(3, 4, 20);
            let base = &tenant.candidates[which % tenant.candidates.len()];
            let body = base.resume_text();
            let used = |w: &str| {
                body.split(|c: char| !c.is_alphanumeric())
                    .any(|x| x.eq_ignore_ascii_case(w))
            };
            prop_assume!(!used(&first) && !used(&last) && first != last);
            let a = BlindCandidate::from_candidate(&plain(base, &first, &last, phone));
            let b = BlindCandidate::from_candidate(&plain(base, "Emily", "Walsh", 0));
            prop_assert_eq!(a, b);
        }
    }
}
