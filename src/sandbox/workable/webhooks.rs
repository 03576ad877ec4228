//! Workable's webhook subscriptions (`/spi/v3/subscriptions`) and the events
//! it sends: `candidate_created`, `candidate_moved`, `candidate_deleted`,
//! each with the candidate in "candidate details" shape under `data`,
//! signed with the account token (`X-Workable-Signature`). Workable has no
//! event for a disqualification or an anonymization.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use chrono::Utc;
use serde_json::{Value, json};

use super::Wk;
use super::errors::{body_json, error, not_found_error, unprocessable};
use super::render::stage_of;
use crate::sandbox::changes::Change;
use crate::sandbox::data::GenApplication;
use crate::sandbox::errors::ApiError;
use crate::sandbox::webhooks::{Outgoing, Subscription, target};
use crate::sandbox::{Shared, lock, ts};

const EVENTS: [&str; 8] = [
    "candidate_created",
    "candidate_deleted",
    "candidate_moved",
    "employee_created",
    "employee_updated",
    "employee_published",
    "onboarding_completed",
    "timeoff_updated",
];
/// Subscription ids count up from here (as recorded: `104693`).
const FIRST_ID: u64 = 104_692;

fn condition<'a>(s: &'a Subscription, key: &str) -> Option<&'a str> {
    s.conditions
        .iter()
        .find(|(k, _)| k == key)
        .and_then(|(_, v)| v.first())
        .map(String::as_str)
        .filter(|v| !v.is_empty())
}

fn subscription_json(s: &Subscription) -> Value {
    json!({
        "id": s.id.parse::<u64>().unwrap_or_default(),
        "event": s.events.first(),
        "target": s.url,
        "valid_until": null,
        "created_at": ts(s.created_at),
        "stage_slug": condition(s, "stage_slug"),
        "job_shortcode": condition(s, "job_shortcode"),
    })
}

pub(super) async fn list(State(s): State<Shared<Wk>>) -> Json<Value> {
    let g = lock(&s);
    Json(json!({"subscriptions": g.hooks.subs.iter().map(subscription_json).collect::<Vec<_>>()}))
}

/// `{"target", "event", "args"?}` → `{"id"}`. The same target and event
/// twice is a 409. The signing key is the account token.
pub(super) async fn create(
    State(s): State<Shared<Wk>>,
    body: Bytes,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let body = body_json(&body)?;
    let url = body
        .get("target")
        .and_then(Value::as_str)
        .ok_or_else(|| unprocessable("target is required"))?;
    target::check(url).map_err(unprocessable)?;
    let url = url.trim().to_string();
    let event = body
        .get("event")
        .and_then(Value::as_str)
        .filter(|e| EVENTS.contains(e))
        .ok_or_else(|| unprocessable(format!("event must be one of {}", EVENTS.join(", "))))?
        .to_string();
    let mut conditions = Vec::new();
    if let Some(args) = body.get("args").filter(|a| !a.is_null()) {
        let args = args
            .as_object()
            .ok_or_else(|| unprocessable("args must be an object"))?;
        for key in ["job_shortcode", "stage_slug"] {
            let v = match args.get(key) {
                None | Some(Value::Null) => String::new(),
                Some(Value::String(v)) => v.clone(),
                Some(_) => return Err(unprocessable(format!("args.{key} must be a string"))),
            };
            conditions.push((key.to_string(), vec![v]));
        }
    }
    let mut g = lock(&s);
    if g.hooks
        .subs
        .iter()
        .any(|h| h.url == url && h.events.first() == Some(&event))
    {
        return Err(error(
            StatusCode::CONFLICT,
            "A subscription for this target and event already exists",
        ));
    }
    let id = (FIRST_ID + g.hooks.serial()).to_string();
    let now = Utc::now();
    let key = g.api_key.clone();
    g.hooks
        .add(Subscription {
            id: id.clone(),
            events: vec![event],
            url,
            key,
            active: true,
            conditions,
            created_at: now,
            updated_at: now,
        })
        .map_err(unprocessable)?;
    Ok((
        StatusCode::CREATED,
        Json(json!({"id": id.parse::<u64>().unwrap_or_default()})),
    ))
}

pub(super) async fn delete(
    State(s): State<Shared<Wk>>,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    if lock(&s).hooks.remove(&id) {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(not_found_error())
    }
}

impl Wk {
    pub(super) fn hook_event(&self, name: &str, a: &GenApplication) -> Option<Outgoing> {
        if !matches!(
            name,
            "candidate_created" | "candidate_moved" | "candidate_deleted"
        ) {
            return None;
        }
        let shortcode = self
            .job_index(a.job_id)
            .map(|i| self.shortcodes[i].clone())
            .unwrap_or_default();
        Some(Outgoing {
            event: name.to_string(),
            data: self.candidate_detail_json(a),
            attrs: vec![
                ("job_shortcode", shortcode),
                ("stage_slug", stage_of(a).0.to_string()),
            ],
        })
    }

    pub(super) fn hook_events(&self, change: &Change) -> Vec<Outgoing> {
        let on = |name: &str, id: &u64| {
            self.tenant
                .application(*id)
                .and_then(|a| self.hook_event(name, a))
        };
        match change {
            Change::Created { app } => on("candidate_created", app).into_iter().collect(),
            Change::Moved { app, .. } | Change::Hired { app, .. } => {
                on("candidate_moved", app).into_iter().collect()
            }
            Change::ApplicationDeleted { app, .. } => {
                on("candidate_deleted", app).into_iter().collect()
            }
            Change::CandidateDeleted { apps, .. } => apps
                .iter()
                .filter_map(|id| on("candidate_deleted", id))
                .collect(),
            Change::Rejected { .. } | Change::Anonymized { .. } => Vec::new(),
        }
    }
}
