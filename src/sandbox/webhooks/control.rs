//! The webhook side of the control API (the table in [`super`]): recruiter
//! changes that send events, `emit`, the deliveries log and the time scale.
//! Served for every vendor over the [`Control`] hooks.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post, put};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::sandbox::changes::{Change, ChangeError};
use crate::sandbox::control::{Control, find};
use crate::sandbox::data::{RejectReason, STAGES, now};
use crate::sandbox::errors::ApiError;
use crate::sandbox::request::parse_json;
use crate::sandbox::{Shared, lock};

type Result<T> = std::result::Result<T, ApiError>;

/// Largest time scale accepted (slower than the vendor, for manual tests).
const MAX_SCALE: f64 = 100.0;

pub fn routes<S: Control>() -> Router<Shared<S>> {
    Router::new()
        .route("/_sandbox/applications/{id}/stage", post(stage::<S>))
        .route("/_sandbox/applications/{id}/reject", post(reject::<S>))
        .route("/_sandbox/applications/{id}/hire", post(hire::<S>))
        .route(
            "/_sandbox/applications/{id}/delete_candidate",
            post(delete_candidate::<S>),
        )
        .route(
            "/_sandbox/applications/{id}/anonymize_candidate",
            post(anonymize_candidate::<S>),
        )
        .route("/_sandbox/webhooks/emit", post(emit::<S>))
        .route(
            "/_sandbox/webhooks/deliveries",
            get(deliveries::<S>).delete(clear_deliveries::<S>),
        )
        .route(
            "/_sandbox/webhook_timing",
            put(set_timing::<S>).get(timing::<S>),
        )
}

/// Queues the vendor's events for `change` (rendered from the state now);
/// returns the deliveries queued.
pub fn notify<S: Control>(g: &S, change: &Change) -> usize {
    g.events(change)
        .iter()
        .map(|out| g.webhooks().deliver(out))
        .sum()
}

fn change_error<S: Control>(e: ChangeError) -> ApiError {
    let status = match e {
        ChangeError::NoApplication(_) | ChangeError::NoCandidate(_) => StatusCode::NOT_FOUND,
        ChangeError::Invalid(_) => StatusCode::UNPROCESSABLE_ENTITY,
    };
    S::error(status, e.to_string())
}

fn answer<S: Control>(ids: &[u64], events: usize) -> Json<Value> {
    let ids: Vec<String> = ids.iter().map(|id| S::public_id(*id)).collect();
    Json(json!({"application_ids": ids, "events": events}))
}

#[derive(Deserialize)]
struct StageReq {
    stage: Value,
}

fn stage_index(v: &Value) -> Option<usize> {
    match v {
        Value::Number(n) => n.as_u64().and_then(|n| usize::try_from(n).ok()),
        Value::String(s) => STAGES.iter().position(|x| x.eq_ignore_ascii_case(s.trim())),
        _ => None,
    }
    .filter(|i| *i < STAGES.len())
}

async fn stage<S: Control>(
    State(s): State<Shared<S>>,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Json<Value>> {
    let r: StageReq = parse_json(&body)?;
    let to = stage_index(&r.stage).ok_or_else(|| {
        S::error(
            StatusCode::UNPROCESSABLE_ENTITY,
            format!(
                "stage must be 0..{} or one of {}",
                STAGES.len() - 1,
                STAGES.join(", ")
            ),
        )
    })?;
    let mut g = lock(&s);
    let app = find(&*g, &id)?.id;
    let from = g
        .tenant_mut()
        .move_stage(app, to, now())
        .map_err(change_error::<S>)?;
    let n = notify(&*g, &Change::Moved { app, from, to });
    Ok(answer::<S>(&[app], n))
}

#[derive(Deserialize)]
struct RejectReq {
    reason: Option<String>,
}

async fn reject<S: Control>(
    State(s): State<Shared<S>>,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Json<Value>> {
    let r: RejectReq = if body.is_empty() {
        RejectReq { reason: None }
    } else {
        parse_json(&body)?
    };
    let reason = match r.reason.as_deref() {
        None => RejectReason::Underqualified,
        Some(x) => RejectReason::parse(x).ok_or_else(|| {
            S::error(
                StatusCode::UNPROCESSABLE_ENTITY,
                "reason must be underqualified, withdrew or position_filled".into(),
            )
        })?,
    };
    let mut g = lock(&s);
    let app = find(&*g, &id)?.id;
    g.tenant_mut()
        .reject(app, reason, now())
        .map_err(change_error::<S>)?;
    let n = notify(&*g, &Change::Rejected { app, reason });
    Ok(answer::<S>(&[app], n))
}

async fn hire<S: Control>(
    State(s): State<Shared<S>>,
    Path(id): Path<String>,
) -> Result<Json<Value>> {
    let mut g = lock(&s);
    let app = find(&*g, &id)?.id;
    let from = g.tenant_mut().hire(app, now()).map_err(change_error::<S>)?;
    let n = notify(&*g, &Change::Hired { app, from });
    Ok(answer::<S>(&[app], n))
}

/// The events are rendered before the deletion (they describe what goes).
async fn delete_candidate<S: Control>(
    State(s): State<Shared<S>>,
    Path(id): Path<String>,
) -> Result<Json<Value>> {
    let mut g = lock(&s);
    let candidate = find(&*g, &id)?.candidate_id;
    let apps = g.tenant().applications_of(candidate);
    let n = notify(
        &*g,
        &Change::CandidateDeleted {
            candidate,
            apps: apps.clone(),
        },
    );
    // The vendor's own deletion first (its deletion lists, its writes).
    g.delete(&apps, now());
    g.tenant_mut()
        .delete_candidate(candidate)
        .map_err(change_error::<S>)?;
    Ok(answer::<S>(&apps, n))
}

async fn anonymize_candidate<S: Control>(
    State(s): State<Shared<S>>,
    Path(id): Path<String>,
) -> Result<Json<Value>> {
    let mut g = lock(&s);
    let candidate = find(&*g, &id)?.candidate_id;
    let apps = g
        .tenant_mut()
        .anonymize_candidate(candidate, now())
        .map_err(change_error::<S>)?;
    let n = notify(
        &*g,
        &Change::Anonymized {
            candidate,
            apps: apps.clone(),
        },
    );
    Ok(answer::<S>(&apps, n))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct EmitReq {
    event: String,
    application_id: Value,
}

/// Sends `event` about the application as it is now, changing nothing.
async fn emit<S: Control>(State(s): State<Shared<S>>, body: Bytes) -> Result<Json<Value>> {
    let r: EmitReq = parse_json(&body)?;
    let id = match &r.application_id {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        _ => {
            return Err(S::error(
                StatusCode::UNPROCESSABLE_ENTITY,
                "applicationId must be an id".into(),
            ));
        }
    };
    let g = lock(&s);
    let a = find(&*g, &id)?;
    let out = g.event(&r.event, a).ok_or_else(|| {
        S::error(
            StatusCode::UNPROCESSABLE_ENTITY,
            format!("{:?} is not an event this sandbox sends", r.event),
        )
    })?;
    let n = g.webhooks().deliver(&out);
    Ok(answer::<S>(&[a.id], n))
}

async fn deliveries<S: Control>(State(s): State<Shared<S>>) -> Json<Value> {
    let g = lock(&s);
    let sender = g.webhooks().sender();
    Json(json!({"counts": sender.counts(), "attempts": sender.log()}))
}

async fn clear_deliveries<S: Control>(State(s): State<Shared<S>>) -> Json<Value> {
    lock(&s).webhooks().sender().clear_log();
    Json(json!({"attempts": []}))
}

#[derive(Deserialize)]
struct TimingReq {
    scale: f64,
}

/// Whether `scale` is a usable time scale.
pub fn valid_scale(scale: f64) -> bool {
    scale.is_finite() && scale > 0.0 && scale <= MAX_SCALE
}

async fn set_timing<S: Control>(State(s): State<Shared<S>>, body: Bytes) -> Result<Json<Value>> {
    let r: TimingReq = parse_json(&body)?;
    if !valid_scale(r.scale) {
        return Err(S::error(
            StatusCode::UNPROCESSABLE_ENTITY,
            format!("scale must be above 0 and at most {MAX_SCALE}"),
        ));
    }
    let g = lock(&s);
    g.webhooks().sender().set_scale(r.scale);
    Ok(Json(json!({"scale": r.scale})))
}

async fn timing<S: Control>(State(s): State<Shared<S>>) -> Json<Value> {
    Json(json!({"scale": lock(&s).webhooks().sender().scale()}))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stages_by_index_or_name() {
        assert_eq!(stage_index(&json!(2)), Some(2));
        assert_eq!(stage_index(&json!("offer")), Some(STAGES.len() - 1));
        assert_eq!(stage_index(&json!(99)), None);
        assert_eq!(stage_index(&json!(-1)), None);
        assert_eq!(stage_index(&json!("nowhere")), None);
        assert!(valid_scale(0.001) && !valid_scale(0.0) && !valid_scale(f64::NAN));
    }
}
