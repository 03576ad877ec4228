//! Greenhouse's hooks for the shared control API, and its extras: a job's
//! status as a recruiter changes it, and the notes of one application.
//! Application ids are Greenhouse application ids.

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::{Value, json};

use super::render::note_json;
use super::{BASIC_USER_ID, DEACTIVATED_USER_ID, Gh, INTEGRATION_USER_ID, SITE_ADMIN_USER_ID};
use crate::sandbox::changes::Change;
use crate::sandbox::control::{Control, find, limit_json};
use crate::sandbox::data::{GenApplication, JobState, Tenant, now};
use crate::sandbox::errors::ApiError;
use crate::sandbox::ratelimit::Limit;
use crate::sandbox::request::{parse_json, query_pairs};
use crate::sandbox::tokens::TokenAuthority;
use crate::sandbox::webhooks::{Outgoing, Webhooks};
use crate::sandbox::{Shared, lock};

impl Control for Gh {
    const API_PREFIX: &'static str = "/v3";

    fn tenant(&self) -> &Tenant {
        &self.tenant
    }

    fn tenant_mut(&mut self) -> &mut Tenant {
        &mut self.tenant
    }

    fn parse_id(id: &str) -> Option<u64> {
        id.trim().parse().ok()
    }

    fn public_id(id: u64) -> String {
        id.to_string()
    }

    fn credentials(&self) -> Value {
        let token_url = format!("{}/token", self.base_url);
        json!({
            "client_id": self.client_id,
            "client_secret": self.client_secret,
            "site_admin_user_id": SITE_ADMIN_USER_ID,
            "basic_user_id": BASIC_USER_ID,
            "integration_user_id": INTEGRATION_USER_ID,
            "token_url": token_url,
            "base_url": self.base_url,
            "secret": {"clientId": self.client_id, "clientSecret": self.client_secret},
            "connection": {
                "baseUrl": self.base_url,
                "tokenUrl": token_url,
                "subdomain": null,
                "sub": SITE_ADMIN_USER_ID.to_string(),
            },
            "deactivated_user_id": DEACTIVATED_USER_ID,
            "partner": {
                "client_id": self.partner.client_id,
                "client_secret": self.partner.client_secret,
                "authorize_url": format!("{}/authorize", self.base_url),
                "token_url": token_url,
                "redirect_uri": self.partner.redirect_uri,
                "live_grants": self.partner.live_grants(Utc::now()),
            },
        })
    }

    fn tokens(&mut self) -> Option<&mut TokenAuthority> {
        Some(&mut self.tokens)
    }

    fn rate_limit(&self) -> Value {
        limit_json(self.api_limiter.limit())
    }

    fn set_rate_limit(&mut self, limit: Option<Limit>) {
        self.api_limiter.set_limit(limit);
    }

    /// The v3 application plus `job_status`.
    fn application_json(&self, a: &GenApplication) -> Value {
        let mut v = self.app_json(a);
        if let Some(o) = v.as_object_mut() {
            o.insert(
                "job_status".into(),
                json!(self.tenant.job(a.job_id).map(|j| j.state.as_str())),
            );
        }
        v
    }

    /// Newest first, as v3 lists.
    fn list(&self) -> Vec<Value> {
        self.tenant
            .applications
            .iter()
            .rev()
            .map(|a| self.record(a))
            .collect()
    }

    fn writes(&self, app: &GenApplication) -> Value {
        let notes: Vec<&str> = self
            .notes
            .iter()
            .filter(|n| n.application_id == Some(app.id))
            .map(|n| n.body.as_str())
            .collect();
        let tags: Vec<&str> = self
            .applied_tags
            .iter()
            .filter(|t| t.candidate_id == app.candidate_id)
            .filter_map(|t| self.tags.iter().find(|x| x.id == t.candidate_tag_id))
            .map(|t| t.name.as_str())
            .collect();
        let fields = self.app_fields.get(&app.id).cloned().unwrap_or_default();
        json!({"notes": notes, "tags": tags, "custom_fields": fields})
    }

    /// v3 lists no deletions: deleted applications simply stop appearing.
    fn delete(&mut self, ids: &[u64], _at: DateTime<Utc>) {
        for id in ids {
            self.tenant.delete_application(*id);
            self.app_fields.remove(id);
        }
    }

    fn extra_routes() -> Router<Shared<Self>> {
        Router::new()
            .route("/_sandbox/applications/{id}/notes", get(notes))
            .route("/_sandbox/jobs/{id}/status", post(job_status))
            .route("/_sandbox/oauth/callback", get(callback))
            .route(
                "/_sandbox/refresh_tokens/expire",
                post(expire_refresh_tokens),
            )
            .merge(super::webhooks::routes())
    }

    fn webhooks(&self) -> &Webhooks {
        &self.hooks
    }

    fn webhooks_mut(&mut self) -> &mut Webhooks {
        &mut self.hooks
    }

    fn events(&self, change: &Change) -> Vec<Outgoing> {
        self.hook_events(change)
    }

    fn event(&self, name: &str, a: &GenApplication) -> Option<Outgoing> {
        self.hook_event(name, a)
    }
}

/// The partner's registered redirect URI: shows what the authorization
/// step sent (`code` and `state`, or `error`), so a client that follows the
/// redirect can read the code.
async fn callback(RawQuery(raw): RawQuery) -> Json<Value> {
    let fields: serde_json::Map<String, Value> = query_pairs(raw.as_deref())
        .into_iter()
        .map(|(k, v)| (k, Value::String(v)))
        .collect();
    Json(Value::Object(fields))
}

/// Every partner refresh token dies (as after 24 idle hours); only a new
/// authorization helps.
async fn expire_refresh_tokens(State(s): State<Shared<Gh>>) -> Json<Value> {
    lock(&s).partner.expire_refresh_tokens();
    Json(json!({"expired": true}))
}

/// The notes on one application, as `/v3/notes` renders them.
async fn notes(
    State(s): State<Shared<Gh>>,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let g = lock(&s);
    let id = find(&*g, &id)?.id;
    Ok(Json(Value::Array(
        g.notes
            .iter()
            .filter(|n| n.application_id == Some(id))
            .map(note_json)
            .collect(),
    )))
}

#[derive(Deserialize)]
struct JobStatusReq {
    status: String,
}

/// Opens or closes a job as a recruiter would (its `updated_at` moves); the
/// applications stay, but leave a sync scoped to open jobs.
async fn job_status(
    State(s): State<Shared<Gh>>,
    Path(id): Path<u64>,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let r: JobStatusReq = parse_json(&body)?;
    let state = match r.status.as_str() {
        "open" => JobState::Open,
        "closed" => JobState::Closed,
        "draft" => JobState::Draft,
        other => return Err(ApiError::unprocessable(format!("unknown status {other:?}"))),
    };
    let mut g = lock(&s);
    let Some(job) = g.tenant.jobs.iter_mut().find(|j| j.id == id) else {
        return Err(ApiError::not_found(format!("job {id} not found")));
    };
    job.state = state;
    job.updated_at = now();
    Ok(Json(
        json!({"id": id.to_string(), "status": state.as_str()}),
    ))
}
