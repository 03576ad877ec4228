use super::*;

const NOW: i32 = 2026;

fn job(title: &str, description: &str) -> Job {
    Job::from_text("j1", title, description)
}

fn kinds(c: &JobCheck) -> Vec<(FindingKind, Severity, String)> {
    c.findings
        .iter()
        .map(|f| (f.kind, f.severity, f.phrase.clone()))
        .collect()
}

const CLEAN: &str = "We build payment infrastructure. You will work with a team of engineers \
                     on Rust services. Requirements: 3+ years of Rust. Salary: $120,000 - $150,000.";

#[test]
fn a_clean_ad_has_no_findings() {
    let c = check(&job("Backend Engineer", CLEAN), NOW);
    assert!(c.findings.is_empty(), "{:?}", c.findings);
    assert_eq!(c.worst(), None);
}

#[test]
fn coded_wording_is_reported_with_its_words() {
    let text = format!(
        "{CLEAN} We want an aggressive, ambitious, competitive, fearless, dominant rockstar \
         who thrives in a challenging, hierarchical environment."
    );
    let c = check(&job("Backend Engineer", &text), NOW);
    let g = c
        .findings
        .iter()
        .find(|f| f.kind == FindingKind::GenderCoded)
        .expect("gender-coded finding");
    assert_eq!(g.severity, Severity::Medium);
    assert!(
        g.message
            .starts_with("strongly masculine-coded (7 masculine-coded"),
        "{}",
        g.message
    );
    assert!(
        g.phrase.contains("aggressive") && g.phrase.contains("dominant"),
        "{}",
        g.phrase
    );
    assert!(kinds(&c).contains(&(
        FindingKind::Exclusionary,
        Severity::Medium,
        "rockstar".into()
    )));
}

#[test]
fn exclusionary_age_and_gendered_phrases() {
    let text = format!(
        "{CLEAN} Join our young and energetic team of bros! Perfect for a recent graduate \
         (class of 2025) and digital natives. Must be a native English speaker. \
         He will report to the chairman. Able-bodied applicants only."
    );
    let c = check(&job("Backend Engineer", &text), NOW);
    let got = kinds(&c);
    for want in [
        (FindingKind::AgeCoded, Severity::High, "young and energetic"),
        (FindingKind::Exclusionary, Severity::High, "bros"),
        (FindingKind::AgeCoded, Severity::Medium, "recent graduate"),
        (FindingKind::AgeCoded, Severity::High, "class of 2025"),
        (FindingKind::AgeCoded, Severity::Medium, "digital natives"),
        (
            FindingKind::Exclusionary,
            Severity::High,
            "native English speaker",
        ),
        (FindingKind::GenderedLanguage, Severity::Medium, "He"),
        (FindingKind::GenderedLanguage, Severity::Medium, "chairman"),
        (FindingKind::Exclusionary, Severity::High, "Able-bodied"),
    ] {
        assert!(
            got.contains(&(want.0, want.1, want.2.to_string())),
            "{want:?} not in {got:?}"
        );
    }
    // "young and energetic" is one finding, not "young" and "energetic" too.
    assert!(!got.iter().any(|(_, _, p)| p == "young" || p == "energetic"));
    assert_eq!(c.worst().map(|f| f.severity), Some(Severity::High));
}

#[test]
fn words_inside_other_words_do_not_count() {
    // "bro" inside "brotherly", "he" inside "the", "young" inside "Youngstown".
    let text = format!("{CLEAN} Their brotherly ethos; the theme; Youngstown office.");
    let c = check(&job("Backend Engineer", &text), NOW);
    assert!(c.findings.is_empty(), "{:?}", c.findings);
}

#[test]
fn missing_and_single_pay() {
    let c = check(
        &job("Backend Engineer", "Rust services. 3+ years of Rust."),
        NOW,
    );
    assert_eq!(
        kinds(&c),
        vec![(
            FindingKind::MissingPayRange,
            Severity::Medium,
            "no salary or pay range".into()
        )]
    );
    let c = check(&job("Backend Engineer", "Rust. Salary: $120,000."), NOW);
    assert_eq!(kinds(&c)[0].1, Severity::Low);
}

#[test]
fn inflated_experience() {
    let text = "Requirements: 13+ years of Kubernetes, 15 years of Rust, 8 years of Go. \
                Pay: $90,000 - $110,000.";
    let c = check(&job("Junior Platform Engineer", text), NOW);
    let got: Vec<(Severity, String)> = c
        .findings
        .iter()
        .filter(|f| f.kind == FindingKind::InflatedExperience)
        .map(|f| (f.severity, f.phrase.clone()))
        .collect();
    assert_eq!(
        got,
        vec![
            (Severity::High, "13+ years of Kubernetes".into()),
            (Severity::High, "15 years of Rust".into()),
            (Severity::Medium, "8 years".into()),
        ]
    );
    let k = &c
        .findings
        .iter()
        .find(|f| f.phrase.contains("Kubernetes"))
        .unwrap()
        .message;
    assert!(
        k.contains("released in 2014 (at most 12 years possible)"),
        "{k}"
    );
    // 12 years of Kubernetes in 2026 is possible (2014 + 12); 13 is not.
    let ok = check(
        &job("Platform Engineer", "12 years of Kubernetes. Pay $1 - $2"),
        NOW,
    );
    assert!(
        ok.findings
            .iter()
            .all(|f| f.kind != FindingKind::InflatedExperience)
    );
    let bad = check(
        &job("Platform Engineer", "13 years of Kubernetes. Pay $1 - $2"),
        NOW,
    );
    assert!(
        bad.findings
            .iter()
            .any(|f| f.kind == FindingKind::InflatedExperience)
    );
}

#[test]
fn phrases_are_bounded() {
    let long = "aggressive ".repeat(40);
    let c = check(&job("Engineer", &long), NOW);
    assert!(c.findings.iter().all(|f| f.phrase.chars().count() <= 80));
}

#[test]
fn hostile_input_never_panics() {
    for text in [
        "",
        "$",
        "€",
        "9999999999999999999999 years of rust",
        "class of",
        "0 years",
        "\u{0}\u{feff}é́́́",
        "50-",
        "-5 years",
    ] {
        let _ = check(&job(text, text), NOW);
    }
}

mod props {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn check_never_panics_and_is_deterministic(title in ".{0,40}", text in ".{0,400}") {
            let a = check(&job(&title, &text), NOW);
            let b = check(&job(&title, &text), NOW);
            prop_assert_eq!(&a, &b);
            prop_assert!(a.findings.iter().all(|f| f.phrase.chars().count() <= 80));
        }
    }
}
