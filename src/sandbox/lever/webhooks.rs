//! Lever's webhooks: `/v1/webhooks` (one webhook per event; the
//! `signatureToken` is returned only by the `POST` that creates it) and the
//! events Lever sends for changes. Event `data` shapes follow Lever's
//! documentation (`opportunityId`, `candidateId` = the same legacy id,
//! `contactId`, plus the event's own fields).

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::{Extension, Json};
use chrono::{DateTime, Utc};
use serde_json::{Map, Value, json};

use super::errors::{bad_request, json_body, not_found};
use super::ids::{self, Kind};
use super::query::envelope;
use super::render::{archived, opportunity_id, origin, stage_id, user_id};
use super::{Actor, Lever, ms};
use crate::sandbox::changes::Change;
use crate::sandbox::data::GenApplication;
use crate::sandbox::errors::ApiError;
use crate::sandbox::webhooks::envelope::random_hex;
use crate::sandbox::webhooks::{Outgoing, Subscription, target, uuid_v4};
use crate::sandbox::{Shared, lock};

/// Events a webhook may be created for.
pub(super) const EVENTS: [&str; 10] = [
    "applicationCreated",
    "candidateHired",
    "candidateStageChange",
    "candidateArchiveChange",
    "candidateDeleted",
    "interviewCreated",
    "interviewUpdated",
    "interviewDeleted",
    "contactCreated",
    "contactUpdated",
];
/// Events that take `configuration.conditions.origins`.
const CONDITIONAL: [&str; 4] = [
    "applicationCreated",
    "candidateArchiveChange",
    "candidateHired",
    "candidateStageChange",
];
const ORIGINS: [&str; 6] = [
    "applied",
    "sourced",
    "referred",
    "university",
    "agency",
    "internal",
];

fn webhook_json(s: &Subscription, token: bool) -> Value {
    let origins = s
        .conditions
        .iter()
        .find(|(k, _)| k == "origin")
        .map(|(_, v)| v.clone());
    let mut configuration = Map::new();
    configuration.insert(
        "conditions".into(),
        origins.map_or(Value::Null, |o| json!({"origins": o})),
    );
    if token {
        configuration.insert("signatureToken".into(), json!(s.key));
    }
    json!({
        "id": s.id,
        "event": s.events.first(),
        "url": s.url,
        "configuration": configuration,
        "createdAt": ms(s.created_at),
        "updatedAt": ms(s.updated_at),
    })
}

/// `configuration.conditions.origins`, checked against the event.
fn conditions(event: &str, config: Option<&Value>) -> Result<Vec<(String, Vec<String>)>, ApiError> {
    let Some(origins) = config
        .and_then(|c| c.get("conditions"))
        .filter(|c| !c.is_null())
        .map(|c| c.get("origins").cloned().unwrap_or(Value::Null))
    else {
        return Ok(Vec::new());
    };
    if !CONDITIONAL.contains(&event) {
        return Err(bad_request(format!(
            "Conditions are not supported for {event} webhooks"
        )));
    }
    let list: Vec<String> = origins
        .as_array()
        .ok_or_else(|| bad_request("configuration.conditions.origins must be an array"))?
        .iter()
        .map(|o| o.as_str().map(str::to_string))
        .collect::<Option<_>>()
        .ok_or_else(|| bad_request("origins must be strings"))?;
    if let Some(bad) = list.iter().find(|o| !ORIGINS.contains(&o.as_str())) {
        return Err(bad_request(format!(
            "Invalid origin '{bad}'; use {}",
            ORIGINS.join(", ")
        )));
    }
    Ok(vec![("origin".into(), list)])
}

/// The url, on loopback ([`target`]); Lever itself wants HTTPS with a CA-signed certificate.
fn url_of(body: &Map<String, Value>) -> Result<String, ApiError> {
    let url = body
        .get("url")
        .and_then(Value::as_str)
        .ok_or_else(|| bad_request("url is required"))?;
    target::check(url).map_err(bad_request)?;
    Ok(url.trim().to_string())
}

pub(super) async fn list(State(s): State<Shared<Lever>>) -> Json<Value> {
    let g = lock(&s);
    envelope(
        g.hooks
            .subs
            .iter()
            .map(|h| webhook_json(h, false))
            .collect(),
        None,
    )
}

pub(super) async fn create(
    State(s): State<Shared<Lever>>,
    Extension(_actor): Extension<Actor>,
    body: Bytes,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let body = json_body(&body)?;
    let url = url_of(&body)?;
    let event = body
        .get("event")
        .and_then(Value::as_str)
        .filter(|e| EVENTS.contains(e))
        .ok_or_else(|| bad_request(format!("event must be one of {}", EVENTS.join(", "))))?
        .to_string();
    let conditions = conditions(&event, body.get("configuration"))?;
    let now = Utc::now();
    let sub = Subscription {
        id: uuid_v4(),
        events: vec![event],
        url,
        key: random_hex(48),
        active: true,
        conditions,
        created_at: now,
        updated_at: now,
    };
    let answer = webhook_json(&sub, true);
    lock(&s).hooks.add(sub).map_err(bad_request)?;
    Ok((StatusCode::CREATED, Json(json!({ "data": answer }))))
}

/// `{"data": [{id, url?, configuration?}]}`: every entry is checked before
/// any changes.
pub(super) async fn update(
    State(s): State<Shared<Lever>>,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let body = json_body(&body)?;
    let items = body
        .get("data")
        .and_then(Value::as_array)
        .ok_or_else(|| bad_request("data must be an array of webhooks"))?;
    let mut g = lock(&s);
    let mut changes = Vec::new();
    for item in items {
        let item = item
            .as_object()
            .ok_or_else(|| bad_request("each webhook must be an object"))?;
        let id = item
            .get("id")
            .and_then(Value::as_str)
            .ok_or_else(|| bad_request("each webhook needs an id"))?;
        let current = g
            .hooks
            .get(id)
            .ok_or_else(|| not_found(format!("webhook {id} was not found")))?;
        let url = if item.contains_key("url") {
            Some(url_of(item)?)
        } else {
            None
        };
        let event = current.events.first().cloned().unwrap_or_default();
        let conds = if item.contains_key("configuration") {
            Some(conditions(&event, item.get("configuration"))?)
        } else {
            None
        };
        changes.push((id.to_string(), url, conds));
    }
    let now: DateTime<Utc> = Utc::now();
    let mut out = Vec::new();
    for (id, url, conds) in changes {
        if let Some(h) = g.hooks.get_mut(&id) {
            if let Some(u) = url {
                h.url = u;
            }
            if let Some(c) = conds {
                h.conditions = c;
            }
            h.updated_at = now;
            out.push(webhook_json(h, false));
        }
    }
    Ok(Json(json!({ "data": out })))
}

pub(super) async fn delete(
    State(s): State<Shared<Lever>>,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    if lock(&s).hooks.remove(&id) {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(not_found(format!("webhook {id} was not found")))
    }
}

/// The ids every event about an opportunity carries.
fn ids_of(a: &GenApplication) -> Map<String, Value> {
    let id = opportunity_id(a);
    let mut m = Map::new();
    m.insert("opportunityId".into(), json!(id));
    m.insert("candidateId".into(), json!(id));
    m.insert(
        "contactId".into(),
        json!(ids::uuid(Kind::Contact, a.candidate_id)),
    );
    m
}

fn archived_json(a: &GenApplication) -> Value {
    archived(a).map_or(
        Value::Null,
        |(r, at)| json!({"archivedAt": at, "reason": ids::uuid(Kind::ArchiveReason, r)}),
    )
}

impl Lever {
    /// Event `name` about opportunity `a`; `from` is the stage it left.
    fn hook(name: &str, a: &GenApplication, from: Option<usize>) -> Option<Outgoing> {
        let mut data = ids_of(a);
        match name {
            "applicationCreated" => {
                data.insert(
                    "applicationId".into(),
                    json!(ids::uuid(Kind::Application, a.id)),
                );
            }
            "candidateStageChange" => {
                data.insert("toStageId".into(), json!(stage_id(a.stage)));
                data.insert(
                    "fromStageId".into(),
                    json!(stage_id(from.unwrap_or(a.stage.saturating_sub(1)))),
                );
            }
            "candidateArchiveChange" => {
                data.insert("fromArchived".into(), Value::Null);
                data.insert("toArchived".into(), archived_json(a));
            }
            "candidateHired" => {}
            "candidateDeleted" => {
                data.insert(
                    "deletedBy".into(),
                    json!(user_id(super::INTEGRATION_USER + 1)),
                );
            }
            _ => return None,
        }
        Some(Outgoing {
            event: name.to_string(),
            data: Value::Object(data),
            attrs: vec![("origin", origin(a).0.to_string())],
        })
    }

    pub(super) fn hook_event(&self, name: &str, a: &GenApplication) -> Option<Outgoing> {
        Self::hook(name, a, None)
    }

    pub(super) fn hook_events(&self, change: &Change) -> Vec<Outgoing> {
        let app = |id: &u64| self.tenant.application(*id);
        let on = |names: &[&str], id: &u64, from: Option<usize>| -> Vec<Outgoing> {
            app(id)
                .map(|a| {
                    names
                        .iter()
                        .filter_map(|n| Self::hook(n, a, from))
                        .collect()
                })
                .unwrap_or_default()
        };
        match change {
            Change::Created { app } => on(&["applicationCreated"], app, None),
            Change::Moved { app, from, .. } => on(&["candidateStageChange"], app, Some(*from)),
            Change::Rejected { app, .. } => on(&["candidateArchiveChange"], app, None),
            // Hiring archives the opportunity with the "Hired" reason.
            Change::Hired { app, .. } => {
                on(&["candidateArchiveChange", "candidateHired"], app, None)
            }
            Change::ApplicationDeleted { app, .. } => on(&["candidateDeleted"], app, None),
            Change::CandidateDeleted { apps, .. } => apps
                .iter()
                .flat_map(|id| on(&["candidateDeleted"], id, None))
                .collect(),
            // Lever has no event for anonymization.
            Change::Anonymized { .. } => Vec::new(),
        }
    }
}
