//! Pure: how an erased candidate's rows lose what identifies the person.
//!
//! Ids become stable keyed hashes (HMAC-SHA256 under a random key kept in the
//! ledger), so the audit can still count one application's decisions together
//! but nobody can recover the vendor's id, and someone holding a vendor id
//! cannot test it against the ledger without the key. Explanations
//! (strengths, gaps, cited sentences, summaries) quote or describe what the
//! resume says and are removed; the score, its components, band and which
//! requirements were met stay.

use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::Sha256;

use super::LedgerError;
use crate::model::Score;

/// Every pseudonym starts so; a row carrying one has been erased.
pub const PREFIX: &str = "anon-";

/// A fresh random key (hex), made once per ledger.
pub(super) fn new_key() -> String {
    let mut raw = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut raw);
    hex::encode(raw)
}

/// The pseudonym of `id` (of the given kind: application, candidate, write key).
pub(super) fn pseudonym(key: &str, kind: &str, id: &str) -> Result<String, LedgerError> {
    // HMAC takes keys of any length; the error cannot happen.
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(key.as_bytes())
        .map_err(|_| super::corrupt("pseudonym key", ""))?;
    mac.update(kind.as_bytes());
    mac.update(b"|");
    mac.update(id.as_bytes());
    let digest = hex::encode(mac.finalize().into_bytes());
    Ok(format!("{PREFIX}{}", &digest[..24]))
}

/// The stored score without its explanations.
pub(super) fn scrub_score_json(json: &str) -> Result<String, LedgerError> {
    let mut score: Score = serde_json::from_str(json)?;
    score.strengths.clear();
    score.gaps.clear();
    score.summary.clear();
    score.candidate_summary.clear();
    for e in &mut score.evidence {
        e.sentence = None;
        e.note = None;
    }
    Ok(serde_json::to_string(&score)?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Band, ComponentScores};

    #[test]
    fn pseudonyms_are_stable_keyed_and_hide_the_id() {
        let p = |k, kind, id| pseudonym(k, kind, id).unwrap();
        let a = p("k1", "application", "90000213");
        assert_eq!(a, p("k1", "application", "90000213"));
        assert!(a.starts_with(PREFIX) && !a.contains("90000213"));
        assert_ne!(a, p("k2", "application", "90000213"));
        assert_ne!(a, p("k1", "candidate", "90000213"));
        assert_ne!(new_key(), new_key());
    }

    #[test]
    fn old_rows_without_explanations_still_read() {
        let old = r#"{"score":70,"components":{"skills":70,"experience":null,"title":null,"education":null},"strengths":[],"gaps":[],"band":"good_fit"}"#;
        let s: Score = serde_json::from_str(old).unwrap();
        assert!(s.requirements_found && s.evidence.is_empty() && s.summary.is_empty());
        assert!(scrub_score_json(old).is_ok());
    }

    #[test]
    fn scrubbing_keeps_the_score_and_drops_explanations() {
        let s = Score {
            score: 81,
            components: ComponentScores {
                skills: Some(90),
                experience: Some(70),
                title: None,
                education: Some(60),
                semantic: None,
            },
            strengths: vec!["Has all 3 required skills: Rust, Go, SQL".into()],
            gaps: vec!["Missing nice-to-have skills: Kafka".into()],
            band: Band::StrongFit,
            evidence: vec![crate::model::Evidence {
                requirement: "Rust".into(),
                kind: crate::model::EvidenceKind::Must,
                matched: true,
                strength: 100,
                sentence: Some("Built Rust services".into()),
                note: Some("counted in part".into()),
            }],
            requirements_found: true,
            summary: "81/100, strong fit.".into(),
            candidate_summary: "An automated tool".into(),
            semantic_model: None,
        };
        let scrubbed: Score =
            serde_json::from_str(&scrub_score_json(&serde_json::to_string(&s).unwrap()).unwrap())
                .unwrap();
        assert_eq!(
            scrubbed,
            Score {
                strengths: vec![],
                gaps: vec![],
                evidence: vec![crate::model::Evidence {
                    sentence: None,
                    note: None,
                    ..s.evidence[0].clone()
                }],
                summary: String::new(),
                candidate_summary: String::new(),
                ..s.clone()
            }
        );
    }
}
