//! The `ScoringProfile` reconciler: validates the profile and reports it in status.

use std::sync::Arc;

use chrono::Utc;
use kube::ResourceExt;
use kube::runtime::controller::Action;

use super::{Context, ControllerError, status::ts};
use crate::api::ScoringProfile;
use crate::api::conditions::{Condition, READY, reason};

/// Pure: the Ready condition of a profile.
pub fn ready_condition(profile: &ScoringProfile) -> Condition {
    match crate::scoring::validate_profile(&profile.spec) {
        Ok(()) => Condition::new(READY, true, reason::VALID, "Profile is valid"),
        Err(e) => Condition::new(READY, false, reason::INVALID_SPEC, e.to_string()),
    }
}

pub async fn reconcile(
    profile: Arc<ScoringProfile>,
    ctx: Arc<Context>,
) -> Result<Action, ControllerError> {
    let ns = profile.namespace().ok_or(ControllerError::NoNamespace)?;
    let previous = profile.status.clone().unwrap_or_default();
    let model = ctx.semantic.as_deref().map(|s| s.model_id());
    let semantic = crate::scoring::semantic::model_condition(&profile.spec, model);
    let status = previous.merged(
        std::iter::once(ready_condition(&profile))
            .chain(semantic)
            .collect(),
        &ts(Utc::now()),
        profile.metadata.generation,
    );
    if status != previous {
        super::apply_status::<ScoringProfile>(&ctx.client, &profile.name_any(), &ns, &status)
            .await?;
    }
    Ok(Action::await_change())
}
