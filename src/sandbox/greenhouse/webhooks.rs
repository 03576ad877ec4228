//! Greenhouse's webhooks: the events and payloads it sends for changes, and
//! `/_sandbox/webhooks`, which stands for its UI (Greenhouse has no API for
//! webhooks): creating one pings the URL, and a failed ping creates it
//! disabled, as in Greenhouse.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use chrono::Utc;
use serde::Deserialize;
use serde_json::{Value, json};

use super::render::stage_id;
use super::{APP_CUSTOM_FIELDS, Gh, SITE_ADMIN_USER_ID, user};
use crate::sandbox::changes::Change;
use crate::sandbox::data::{AppState, GenApplication, RejectReason, STAGES};
use crate::sandbox::errors::ApiError;
use crate::sandbox::request::parse_json;
use crate::sandbox::webhooks::{Outgoing, Subscription, target};
use crate::sandbox::{Shared, lock, ts};

/// The actions whose payload is `{"application": ...}`.
const APPLICATION_EVENTS: [&str; 8] = [
    "new_candidate_application",
    "new_prospect_application",
    "application_updated",
    "candidate_stage_change",
    "reject_candidate",
    "unreject_candidate",
    "hire_candidate",
    "unhire_candidate",
];
/// Every action a web hook may be limited to here.
const EVENTS: [&str; 11] = [
    "new_candidate_application",
    "new_prospect_application",
    "application_updated",
    "candidate_stage_change",
    "reject_candidate",
    "unreject_candidate",
    "hire_candidate",
    "unhire_candidate",
    "delete_application",
    "delete_candidate",
    "candidate_anonymized",
];

/// (id, name, type id, type name) of a rejection reason.
pub(super) fn reason(r: RejectReason) -> (u64, &'static str, u64, &'static str) {
    match r {
        RejectReason::Underqualified => (
            3,
            "Lacking skill(s)/qualification(s)",
            1,
            "We rejected them",
        ),
        RejectReason::Withdrew => (5, "Candidate withdrew", 2, "They rejected us"),
        RejectReason::PositionFilled => (7, "Position filled", 3, "None specified"),
    }
}

/// Generated rejections carry no reason: they read as the first one.
pub(super) fn reason_of(a: &GenApplication) -> Option<RejectReason> {
    (a.state == AppState::Rejected).then(|| a.rejection.unwrap_or(RejectReason::Underqualified))
}

impl Gh {
    /// The application as web hooks render it (not as Harvest does: the
    /// candidate and jobs nested, `source.name`, keyed custom fields).
    fn hook_application(&self, a: &GenApplication) -> Value {
        let c = self.tenant.candidate(a.candidate_id);
        let job = self.tenant.job(a.job_id);
        let status = match a.state {
            AppState::Active => "active",
            AppState::Rejected => "rejected",
            AppState::Hired => "hired",
            AppState::Converted => "converted",
        };
        let rejection = reason_of(a).map(|r| {
            let (id, name, tid, tname) = reason(r);
            json!({"id": id, "name": name, "type": {"id": tid, "name": tname}})
        });
        let admin = user(SITE_ADMIN_USER_ID);
        let mut fields = serde_json::Map::new();
        let set = self.app_fields.get(&a.id);
        for (key, name, ty) in APP_CUSTOM_FIELDS {
            let value = set.and_then(|m| m.get(key)).cloned().unwrap_or(Value::Null);
            fields.insert(
                key.into(),
                json!({"name": name, "type": ty, "value": value}),
            );
        }
        let people = format!("{}/people/{}", self.base_url, a.candidate_id);
        json!({
            "id": a.id,
            "rejected_at": (a.state == AppState::Rejected).then(|| ts(a.updated_at)),
            "prospect": false,
            "status": status,
            "applied_at": ts(a.created_at),
            "last_activity_at": ts(a.last_activity_at),
            "url": format!("{people}?application_id={}", a.id),
            "source": {"id": 1871, "name": "Company Website"},
            "credited_to": admin.map(|u| json!({
                "id": u.id,
                "email": u.email,
                "name": format!("{} {}", u.first_name, u.last_name),
                "employee_id": u.employee_id,
            })),
            "rejection_reason": rejection,
            "rejection_details": null,
            "current_stage": {
                "id": stage_id(a),
                "name": STAGES.get(a.stage).copied().unwrap_or("Application Review"),
                "interviews": [],
            },
            "custom_fields": fields,
            "candidate": c.map(|c| json!({
                "id": c.id,
                "first_name": c.first_name,
                "last_name": c.last_name,
                "title": c.title,
                "company": c.company,
                "created_at": ts(c.created_at),
                "external_id": null,
                "photo_url": null,
                "url": people,
                "is_private": false,
                "can_email": true,
                "phone_numbers": [{"value": c.phone, "type": "mobile"}],
                "email_addresses": [{"value": c.email, "type": "personal"}],
                "addresses": [{"value": c.address(), "type": "home"}],
                "attachments": [{
                    "filename": c.resume_filename(),
                    "url": format!("{}/files/{}/{}", self.base_url, a.attachment_id, c.resume_filename()),
                    "type": "resume",
                }],
                "tags": [],
                "custom_fields": {},
            })),
            "jobs": job.map(|j| vec![json!({
                "id": j.id,
                "name": j.title,
                "requisition_id": format!("REQ-{}", j.id),
                "status": j.state.as_str(),
                "created_at": ts(j.created_at),
                "departments": [{"id": j.department_id, "name": self.tenant.department_name(j.department_id)}],
                "offices": [{"id": j.office_id, "name": j.location, "location": j.location}],
                "custom_fields": {},
            })]).unwrap_or_default(),
        })
    }

    /// `delete_application`'s flat record.
    fn hook_deleted_application(a: &GenApplication) -> Value {
        let rejected = a.state == AppState::Rejected;
        json!({
            "id": a.id,
            "candidate_id": a.candidate_id,
            "job_id": a.job_id,
            "created_at": ts(a.created_at),
            "source_id": 1871,
            "candidate_rejection_reason_id": reason_of(a).map(|r| reason(r).0),
            "rejection_note_id": null,
            "rejected_at": rejected.then(|| ts(a.updated_at)),
            "referrer_id": null,
            "prospect": false,
            "rejected_by_user_id": rejected.then_some(SITE_ADMIN_USER_ID),
        })
    }

    fn hook_person(&self, candidate: u64, apps: &[u64]) -> Option<Value> {
        let c = self.tenant.candidate(candidate)?;
        Some(json!({
            "id": c.id,
            "first_name": c.first_name,
            "last_name": c.last_name,
            "company": c.company,
            "title": c.title,
            "created_at": ts(c.created_at),
            "headline": null,
            "is_private": false,
            "recruiter_user_id": SITE_ADMIN_USER_ID,
            "coordinator_user_id": null,
            "can_email": true,
            "deleted_application_ids": apps,
        }))
    }

    pub(super) fn hook_event(&self, name: &str, a: &GenApplication) -> Option<Outgoing> {
        let payload = if APPLICATION_EVENTS.contains(&name) {
            json!({"application": self.hook_application(a)})
        } else {
            match name {
                "delete_application" => json!({"application": Self::hook_deleted_application(a)}),
                "delete_candidate" => {
                    let apps = self.tenant.applications_of(a.candidate_id);
                    json!({"person": self.hook_person(a.candidate_id, &apps)?})
                }
                "candidate_anonymized" => anonymized(a.candidate_id),
                _ => return None,
            }
        };
        Some(Outgoing {
            event: name.to_string(),
            data: payload,
            attrs: Vec::new(),
        })
    }

    pub(super) fn hook_events(&self, change: &Change) -> Vec<Outgoing> {
        let app = |name: &str, id: &u64| {
            self.tenant
                .application(*id)
                .and_then(|a| self.hook_event(name, a))
        };
        let one = match change {
            Change::Created { app: id } => app("new_candidate_application", id),
            Change::Moved { app: id, .. } => app("candidate_stage_change", id),
            Change::Rejected { app: id, .. } => app("reject_candidate", id),
            Change::Hired { app: id, .. } => app("hire_candidate", id),
            Change::ApplicationDeleted { app: id, .. } => app("delete_application", id),
            Change::CandidateDeleted { candidate, apps } => {
                self.hook_person(*candidate, apps).map(|p| Outgoing {
                    event: "delete_candidate".into(),
                    data: json!({"person": p}),
                    attrs: Vec::new(),
                })
            }
            Change::Anonymized { candidate, .. } => Some(Outgoing {
                event: "candidate_anonymized".into(),
                data: anonymized(*candidate),
                attrs: Vec::new(),
            }),
        };
        one.into_iter().collect()
    }
}

fn anonymized(candidate: u64) -> Value {
    json!({
        "candidate_id": candidate,
        "anonymized_fields": ["full_name", "email_addresses", "phone_numbers", "addresses", "current_title"],
    })
}

pub(super) fn routes() -> Router<Shared<Gh>> {
    Router::new()
        .route("/_sandbox/webhooks", get(list).post(create))
        .route("/_sandbox/webhooks/{id}", get(show).delete(remove))
}

fn hook_json(s: &Subscription) -> Value {
    json!({
        "id": s.id.parse::<u64>().unwrap_or_default(),
        "endpoint_url": s.url,
        "events": s.events,
        "active": s.active,
        "created_at": ts(s.created_at),
        "updated_at": ts(s.updated_at),
    })
}

#[derive(Deserialize)]
struct CreateReq {
    url: String,
    secret: String,
    events: Option<Vec<String>>,
}

/// Creates a web hook as a Greenhouse admin would, then pings it: the answer
/// says whether it is active.
async fn create(
    State(s): State<Shared<Gh>>,
    body: Bytes,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let r: CreateReq = parse_json(&body)?;
    target::check(&r.url).map_err(ApiError::unprocessable)?;
    if r.secret.trim().is_empty() || r.secret.len() > 1024 {
        return Err(ApiError::unprocessable(
            "secret is required (at most 1024 characters)",
        ));
    }
    let events = r.events.unwrap_or_default();
    if let Some(bad) = events.iter().find(|e| !EVENTS.contains(&e.as_str())) {
        return Err(ApiError::unprocessable(format!(
            "unknown event {bad:?}; use {}",
            EVENTS.join(", ")
        )));
    }
    let (id, ping, handle) = {
        let mut g = lock(&s);
        let id = (4_001_693_000 + g.hooks.serial()).to_string();
        let now = Utc::now();
        let sub = Subscription {
            id: id.clone(),
            events,
            url: r.url.trim().to_string(),
            key: r.secret,
            active: false,
            conditions: Vec::new(),
            created_at: now,
            updated_at: now,
        };
        let ping = Outgoing {
            event: "ping".into(),
            data: json!({
                "web_hook_id": id.parse::<u64>().unwrap_or_default(),
                "endpoint_url": sub.url,
                "created_at": ts(now),
                "updated_at": ts(now),
                "name": "ats-operator",
                "event": "All events",
                "active": true,
                "content-type": "application/json",
            }),
            attrs: Vec::new(),
        };
        let ping = g.hooks.prepare(&sub, &ping);
        g.hooks.add(sub).map_err(ApiError::unprocessable)?;
        (id, ping, g.hooks.sender().handle())
    };
    // Outside the lock: the receiver may call the API while answering.
    let ok = handle.send_once(ping).await;
    let mut g = lock(&s);
    let sub = g
        .hooks
        .get_mut(&id)
        .ok_or_else(|| ApiError::not_found("web hook deleted meanwhile"))?;
    sub.active = ok;
    Ok((StatusCode::CREATED, Json(hook_json(sub))))
}

async fn list(State(s): State<Shared<Gh>>) -> Json<Value> {
    Json(Value::Array(
        lock(&s).hooks.subs.iter().map(hook_json).collect(),
    ))
}

async fn show(
    State(s): State<Shared<Gh>>,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let g = lock(&s);
    g.hooks
        .get(&id)
        .map(|h| Json(hook_json(h)))
        .ok_or_else(|| ApiError::not_found("web hook not found"))
}

async fn remove(
    State(s): State<Shared<Gh>>,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    if lock(&s).hooks.remove(&id) {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::not_found("web hook not found"))
    }
}
