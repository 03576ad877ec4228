//! What a profile's `semantic: true` means for weights, validation, status and
//! the decision identity. Pure.

use crate::api::ScoringProfileSpec;
use crate::api::conditions::Condition;
use crate::scoring::ScoringError;

/// The component's weight when the profile sets `semantic: true` and no
/// `weights.semantic`: a fifth of the default weights' total (100).
pub const DEFAULT_WEIGHT: u32 = 20;

/// The profile condition saying whether the semantic component runs.
pub const CONDITION: &str = "SemanticModel";
pub const REASON_LOADED: &str = "ModelLoaded";
pub const REASON_UNAVAILABLE: &str = "SemanticModelUnavailable";

/// The semantic weight in effect: 0 unless the profile asks for the component.
pub fn weight(spec: &ScoringProfileSpec) -> u32 {
    if spec.semantic {
        spec.weights.semantic.unwrap_or(DEFAULT_WEIGHT)
    } else {
        0
    }
}

/// `weights.semantic` is within the schema's 0-100 (checked even when unused,
/// so switching `semantic` on cannot make a valid profile invalid).
pub fn validate(spec: &ScoringProfileSpec) -> Result<(), ScoringError> {
    match spec.weights.semantic {
        Some(value) if value > 100 => Err(ScoringError::WeightTooLarge {
            field: "semantic",
            value,
        }),
        _ => Ok(()),
    }
}

/// The `SemanticModel` condition of a profile: absent unless it asks for
/// the component; `False` with [`REASON_UNAVAILABLE`] when the operator has no
/// model, so the profile's owner sees why scores lack the component.
pub fn model_condition(spec: &ScoringProfileSpec, model_id: Option<&str>) -> Option<Condition> {
    if !spec.semantic {
        return None;
    }
    Some(match model_id {
        Some(id) => Condition::new(
            CONDITION,
            true,
            REASON_LOADED,
            format!("The semantic component runs with {id}"),
        ),
        None => Condition::new(
            CONDITION,
            false,
            REASON_UNAVAILABLE,
            "semantic: true, but the operator runs without a model (--model-dir, Helm \
             scoring.semantic.modelDir): applications are scored without the semantic component",
        ),
    })
}

/// Appends the model in use to a profile identity when the profile asks for
/// the semantic component: loading or changing the model changes every
/// decision's fingerprint, so applications are re-scored once (a full sync).
pub fn tag_identity(identity: &mut String, spec: &ScoringProfileSpec, model_id: Option<&str>) {
    if spec.semantic {
        identity.push_str("|semantic=");
        identity.push_str(model_id.unwrap_or("none"));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weight_only_when_asked() {
        let mut p = ScoringProfileSpec::default();
        assert_eq!(weight(&p), 0);
        p.weights.semantic = Some(35);
        assert_eq!(weight(&p), 0);
        p.semantic = true;
        assert_eq!(weight(&p), 35);
        p.weights.semantic = None;
        assert_eq!(weight(&p), DEFAULT_WEIGHT);
    }

    #[test]
    fn validation_and_profile_errors() {
        let mut p = ScoringProfileSpec::default();
        p.weights.semantic = Some(101);
        assert_eq!(
            crate::scoring::validate_profile(&p).map_err(|e| e.to_string()),
            Err("spec.weights.semantic: 101 is above the maximum of 100".into())
        );
        p.weights.semantic = Some(100);
        assert_eq!(validate(&p), Ok(()));
    }

    #[test]
    fn condition_says_whether_the_model_runs() {
        let mut p = ScoringProfileSpec::default();
        assert_eq!(model_condition(&p, None), None);
        p.semantic = true;
        let c = model_condition(&p, None).expect("a condition");
        assert_eq!(
            (c.type_.as_str(), c.status.as_str(), c.reason.as_str()),
            ("SemanticModel", "False", "SemanticModelUnavailable")
        );
        assert!(c.message.contains("--model-dir"), "{}", c.message);
        let c = model_condition(&p, Some("all-MiniLM-L6-v2@sha256:ab")).expect("a condition");
        assert_eq!(
            (c.status.as_str(), c.reason.as_str()),
            ("True", "ModelLoaded")
        );
    }

    #[test]
    fn identity_names_the_model_only_when_asked() {
        let mut p = ScoringProfileSpec::default();
        let mut id = "uid/3".to_string();
        tag_identity(&mut id, &p, Some("m"));
        assert_eq!(id, "uid/3");
        p.semantic = true;
        tag_identity(&mut id, &p, None);
        assert_eq!(id, "uid/3|semantic=none");
        let mut id = "uid/3".to_string();
        tag_identity(&mut id, &p, Some("m"));
        assert_eq!(id, "uid/3|semantic=m");
    }
}
