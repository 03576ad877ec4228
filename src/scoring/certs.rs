//! Professional certifications named in jobs and resumes.
//!
//! Acronyms are matched as written (upper case), phrases in any case, all on
//! word boundaries. "AWS Certified", "Google Cloud Certified" and "Microsoft
//! Certified" name families: the capitalised words that follow make the name
//! ("AWS Certified Solutions Architect"), and a resume's certification meets a
//! job's when its name starts with the job's ("AWS Certified" is met by any).

use super::taxonomy::on_boundaries;

/// (name, acronyms matched as written, phrases matched in any case).
const CERTS: &[(&str, &[&str], &[&str])] = &[
    ("CKA", &["CKA"], &["Certified Kubernetes Administrator"]),
    (
        "CKAD",
        &["CKAD"],
        &["Certified Kubernetes Application Developer"],
    ),
    (
        "CKS",
        &["CKS"],
        &["Certified Kubernetes Security Specialist"],
    ),
    ("PMP", &["PMP"], &["Project Management Professional"]),
    ("CPA", &["CPA"], &["Certified Public Accountant"]),
    ("CFA", &["CFA"], &["Chartered Financial Analyst"]),
    ("ACCA", &["ACCA"], &[]),
    ("CIMA", &["CIMA"], &[]),
    ("CFP", &["CFP"], &["Certified Financial Planner"]),
    (
        "CISSP",
        &["CISSP"],
        &["Certified Information Systems Security Professional"],
    ),
    ("CISM", &["CISM"], &[]),
    ("CISA", &["CISA"], &[]),
    ("CEH", &["CEH"], &["Certified Ethical Hacker"]),
    ("OSCP", &["OSCP"], &[]),
    ("CCNA", &["CCNA"], &[]),
    ("CCNP", &["CCNP"], &[]),
    ("RHCSA", &["RHCSA"], &[]),
    ("RHCE", &["RHCE"], &[]),
    ("CompTIA Security+", &["Security+"], &["CompTIA Security+"]),
    ("CompTIA Network+", &["Network+"], &["CompTIA Network+"]),
    ("CompTIA A+", &[], &["CompTIA A+"]),
    ("ITIL", &["ITIL"], &[]),
    ("PRINCE2", &["PRINCE2"], &[]),
    (
        "Certified ScrumMaster",
        &["CSM", "PSM"],
        &[
            "Certified ScrumMaster",
            "Certified Scrum Master",
            "Professional Scrum Master",
        ],
    ),
    ("Six Sigma", &[], &["Six Sigma"]),
    ("SHRM-CP", &["SHRM-CP"], &[]),
    ("SHRM-SCP", &["SHRM-SCP"], &[]),
    ("PHR", &["PHR"], &["Professional in Human Resources"]),
    (
        "Terraform Associate",
        &[],
        &[
            "HashiCorp Certified: Terraform Associate",
            "Terraform Associate",
        ],
    ),
];

/// Families whose name continues with capitalised words.
const FAMILIES: &[&str] = &[
    "AWS Certified",
    "Google Cloud Certified",
    "Microsoft Certified",
];

/// A certification mention.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CertMention {
    pub name: String,
    pub start: usize,
    pub end: usize,
}

/// Certifications named in `text`, in order (a name may repeat).
pub fn find(text: &str) -> Vec<CertMention> {
    let mut out = Vec::new();
    let lower = text.to_ascii_lowercase();
    let mut push = |name: String, start: usize, end: usize| {
        out.push(CertMention { name, start, end });
    };
    for (name, acronyms, phrases) in CERTS {
        for a in *acronyms {
            for (i, _) in text.match_indices(a) {
                if on_boundaries(text, i, i + a.len()) {
                    push(name.to_string(), i, i + a.len());
                }
            }
        }
        for p in *phrases {
            let pl = p.to_ascii_lowercase();
            for (i, _) in lower.match_indices(&pl) {
                if on_boundaries(&lower, i, i + pl.len()) {
                    push(name.to_string(), i, i + pl.len());
                }
            }
        }
    }
    for fam in FAMILIES {
        let fl = fam.to_ascii_lowercase();
        for (i, _) in lower.match_indices(&fl) {
            if !on_boundaries(&lower, i, i + fl.len()) {
                continue;
            }
            // The capitalised words that follow: "Solutions Architect".
            let mut end = i + fl.len();
            let mut name = fam.to_string();
            for w in text[end..].split(' ').skip(1).take(4) {
                let w = w.trim_end_matches([',', '.', ';', ')']);
                if !w.chars().next().is_some_and(char::is_uppercase) {
                    break;
                }
                name.push(' ');
                name.push_str(w);
                end = text[end..].find(w).map_or(end, |j| end + j + w.len());
            }
            push(name, i, end);
        }
    }
    out.sort_by(|a, b| (a.start, &a.name).cmp(&(b.start, &b.name)));
    // Overlaps: "Certified ScrumMaster" and "CSM" inside a longer phrase.
    let mut kept: Vec<CertMention> = Vec::new();
    for m in out {
        if kept.last().is_some_and(|k| m.start < k.end) {
            continue;
        }
        kept.push(m);
    }
    kept
}

/// Whether a resume certification meets a job's.
pub fn meets(have: &str, asked: &str) -> bool {
    have.to_lowercase().starts_with(&asked.to_lowercase())
}

/// Whether a skill name is really a certification (kept out of skills).
pub fn is_cert_name(name: &str) -> bool {
    let n = name.trim();
    CERTS.iter().any(|(c, a, p)| {
        c.eq_ignore_ascii_case(n)
            || a.iter().any(|x| x.eq_ignore_ascii_case(n))
            || p.iter().any(|x| x.eq_ignore_ascii_case(n))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(t: &str) -> Vec<String> {
        find(t).into_iter().map(|m| m.name).collect()
    }

    #[test]
    fn finds_certifications() {
        assert_eq!(names("CKA or CKAD; PMP a plus"), vec!["CKA", "CKAD", "PMP"]);
        assert_eq!(
            names("AWS Certified Solutions Architect - Associate (2022)"),
            vec!["AWS Certified Solutions Architect"]
        );
        assert_eq!(names("aws certified preferred"), vec!["AWS Certified"]);
        assert_eq!(names("Certified Public Accountant"), vec!["CPA"]);
        assert_eq!(names("CompTIA Security+ holder"), vec!["CompTIA Security+"]);
        assert!(names("the cpa-style ckad").is_empty());
        assert!(names("CKAX and PMPs").is_empty());
        assert!(meets("AWS Certified Solutions Architect", "AWS Certified"));
        assert!(!meets(
            "AWS Certified Developer",
            "AWS Certified Solutions Architect"
        ));
        assert!(is_cert_name("prince2") && !is_cert_name("Rust"));
    }
}
