//! The `/_sandbox` control API (the contract in [`crate::sandbox`]), served
//! once for every vendor over the [`Control`] hooks its sandbox implements.

use std::time::Duration;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::handler::Handler;
use axum::http::StatusCode;
use axum::routing::{get, post, put};
use axum::{Json, Router, middleware};
use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::{Value, json};

use super::changes::Change;
use super::data::{GenApplication, Tenant, now};
use super::errors::ApiError;
use super::faults::Fault;
use super::guard::Gate;
use super::ratelimit::Limit;
use super::request::parse_json;
use super::server::log_request;
use super::stats::Stats;
use super::tokens::TokenAuthority;
use super::webhooks::control::notify;
use super::webhooks::{Outgoing, Webhooks};
use super::{Shared, lock};

/// What a vendor sandbox supplies so the shared control API can drive it.
/// Application ids here are the ids of the operator's common model.
pub trait Control: Gate + Sized {
    /// Where injected faults apply when a request names no prefix (`/v3`).
    const API_PREFIX: &'static str;

    fn tenant(&self) -> &Tenant;
    fn tenant_mut(&mut self) -> &mut Tenant;
    /// The tenant id behind an application id this sandbox issues.
    fn parse_id(id: &str) -> Option<u64>;
    /// A tenant application id as the vendor's API names it.
    fn public_id(id: u64) -> String;
    /// A control-API error in the vendor's error shape.
    fn error(status: StatusCode, message: String) -> ApiError {
        ApiError::new(status, message)
    }

    /// `GET /_sandbox/credentials`: `secret`, `connection` and vendor extras.
    fn credentials(&self) -> Value;
    /// The access tokens it issues, if any: revoking and expiring act on them.
    fn tokens(&mut self) -> Option<&mut TokenAuthority> {
        None
    }
    /// Credentials stop (true) or start (false) working.
    fn set_revoked(&mut self, revoked: bool) {
        if let Some(t) = self.tokens() {
            t.set_revoked(revoked);
        }
    }
    /// Every access token issued so far expires; the answer says whether any can.
    fn expire_tokens(&mut self) -> Value {
        match self.tokens() {
            Some(t) => {
                t.expire_all();
                json!({"expired": true})
            }
            None => json!({"expired": false, "reason": "account tokens do not expire"}),
        }
    }
    /// The API limit as `GET /_sandbox/rate_limit` reports it.
    fn rate_limit(&self) -> Value;
    fn set_rate_limit(&mut self, limit: Option<Limit>);

    /// One record of `GET /_sandbox/applications`: the vendor's own JSON plus
    /// the contract's `job_id` and `job_status`.
    fn application_json(&self, a: &GenApplication) -> Value;
    /// [`application_json`](Self::application_json) with the contract's
    /// `resume_file`: the kind of file the candidate uploaded (`pdf`, `docx`,
    /// `html`, `text`, or unreadable: `scanned_pdf`, `damaged_docx`).
    fn record(&self, a: &GenApplication) -> Value {
        let mut v = self.application_json(a);
        let file = self
            .tenant()
            .candidate(a.candidate_id)
            .map(|c| c.resume_file);
        if let (Some(o), Some(file)) = (v.as_object_mut(), file) {
            o.insert("resume_file".into(), json!(file.as_str()));
        }
        v
    }
    /// Every application, in the order the vendor lists them.
    fn list(&self) -> Vec<Value> {
        self.tenant()
            .applications
            .iter()
            .map(|a| self.record(a))
            .collect()
    }
    /// What the operator wrote: `{"notes", "tags", "custom_fields"}`.
    fn writes(&self, a: &GenApplication) -> Value;
    /// Changes the resume behind one application (its score input).
    fn touch(&mut self, id: u64, at: DateTime<Utc>) {
        self.tenant_mut().touch_application(id, at);
    }
    fn add_applications(&mut self, count: usize, at: DateTime<Utc>) -> Vec<u64> {
        self.tenant_mut().add_applications(count, at)
    }
    /// Deletes existing applications as a user of the ATS would.
    fn delete(&mut self, ids: &[u64], at: DateTime<Utc>);
    /// Control routes only this vendor has.
    fn extra_routes() -> Router<Shared<Self>> {
        Router::new()
    }

    /// The sandbox's webhook subscriptions and sender.
    fn webhooks(&self) -> &Webhooks;
    fn webhooks_mut(&mut self) -> &mut Webhooks;
    /// The vendor's events for `change`, rendered from the state now: before
    /// a deletion is applied, after any other change.
    fn events(&self, change: &Change) -> Vec<Outgoing>;
    /// Event `name` about application `a` as it is now (for
    /// `/_sandbox/webhooks/emit`); `None` when the vendor has no such event.
    fn event(&self, name: &str, a: &GenApplication) -> Option<Outgoing>;
}

/// A vendor sandbox's whole app: `vendor` (its API and extras) with the
/// control API, the vendor's answers to unknown paths and methods, and
/// request logging around all of it.
pub fn app<S, F, TF, M, TM>(
    vendor: Router<Shared<S>>,
    state: Shared<S>,
    not_found: F,
    method_not_allowed: M,
) -> Router
where
    S: Control,
    F: Handler<TF, Shared<S>>,
    TF: 'static,
    M: Handler<TM, Shared<S>>,
    TM: 'static,
{
    vendor
        .merge(routes::<S>())
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(middleware::from_fn(log_request))
        .with_state(state)
}

/// The control API for `S`, its extras included.
pub fn routes<S: Control>() -> Router<Shared<S>> {
    Router::new()
        .route("/_sandbox/stats", get(stats::<S>))
        .route("/_sandbox/credentials", get(credentials::<S>))
        .route("/_sandbox/credentials/revoke", post(revoke::<S>))
        .route("/_sandbox/credentials/restore", post(restore::<S>))
        .route("/_sandbox/tokens/expire", post(expire_tokens::<S>))
        .route(
            "/_sandbox/faults",
            post(add_fault::<S>).delete(clear_faults::<S>),
        )
        .route(
            "/_sandbox/rate_limit",
            put(set_rate_limit::<S>).get(get_rate_limit::<S>),
        )
        .route("/_sandbox/touch", post(touch::<S>))
        .route(
            "/_sandbox/applications",
            get(list::<S>).post(add_applications::<S>),
        )
        .route("/_sandbox/applications/{id}", get(application::<S>))
        .route("/_sandbox/applications/{id}/writes", get(writes::<S>))
        .route("/_sandbox/delete", post(delete::<S>))
        .merge(super::webhooks::control::routes::<S>())
        .merge(S::extra_routes())
}

/// `{"requests", "window_seconds", "disabled"}`, as most limits report.
pub fn limit_json(limit: Option<Limit>) -> Value {
    match limit {
        Some(l) => json!({
            "requests": l.requests,
            "window_seconds": l.window.as_secs_f64(),
            "disabled": false,
        }),
        None => json!({"disabled": true}),
    }
}

/// The application behind a path id, or the vendor's 404.
pub fn find<'a, S: Control>(g: &'a S, id: &str) -> Result<&'a GenApplication> {
    S::parse_id(id)
        .and_then(|id| g.tenant().application(id))
        .ok_or_else(|| S::error(StatusCode::NOT_FOUND, "Application not found".into()))
}

type Result<T> = std::result::Result<T, ApiError>;

fn unprocessable<S: Control>(message: impl Into<String>) -> ApiError {
    S::error(StatusCode::UNPROCESSABLE_ENTITY, message.into())
}

/// Ids from a request body (strings, or numbers where the vendor's are);
/// every one must name an existing application.
fn resolve<S: Control>(g: &S, ids: &[Value]) -> Result<Vec<u64>> {
    ids.iter()
        .map(|v| {
            let id = match v {
                Value::String(s) => s.clone(),
                Value::Number(n) => n.to_string(),
                _ => return Err(unprocessable::<S>(format!("{v} is not an id"))),
            };
            S::parse_id(&id)
                .filter(|id| g.tenant().application(*id).is_some())
                .ok_or_else(|| {
                    S::error(StatusCode::NOT_FOUND, format!("application {v} not found"))
                })
        })
        .collect()
}

fn ids_json<S: Control>(ids: &[u64]) -> Json<Value> {
    let ids: Vec<String> = ids.iter().map(|id| S::public_id(*id)).collect();
    Json(json!({ "application_ids": ids }))
}

async fn stats<S: Control>(State(s): State<Shared<S>>) -> Json<Stats> {
    Json(lock(&s).stats().clone())
}

async fn credentials<S: Control>(State(s): State<Shared<S>>) -> Json<Value> {
    Json(lock(&s).credentials())
}

async fn revoke<S: Control>(State(s): State<Shared<S>>) -> Json<Value> {
    lock(&s).set_revoked(true);
    tracing::info!("sandbox credentials revoked");
    Json(json!({"revoked": true}))
}

async fn restore<S: Control>(State(s): State<Shared<S>>) -> Json<Value> {
    lock(&s).set_revoked(false);
    tracing::info!("sandbox credentials restored");
    Json(json!({"revoked": false}))
}

async fn expire_tokens<S: Control>(State(s): State<Shared<S>>) -> Json<Value> {
    Json(lock(&s).expire_tokens())
}

#[derive(Deserialize)]
struct FaultReq {
    status: u16,
    count: Option<u32>,
    path_prefix: Option<String>,
}

async fn add_fault<S: Control>(State(s): State<Shared<S>>, body: Bytes) -> Result<Json<Value>> {
    let r: FaultReq = parse_json(&body)?;
    let mut g = lock(&s);
    let faults = g.faults();
    faults
        .push(Fault {
            status: r.status,
            count: r.count.unwrap_or(1),
            path_prefix: r.path_prefix.unwrap_or_else(|| S::API_PREFIX.into()),
        })
        .map_err(unprocessable::<S>)?;
    Ok(Json(json!({"pending": faults.pending()})))
}

async fn clear_faults<S: Control>(State(s): State<Shared<S>>) -> Json<Value> {
    lock(&s).faults().clear();
    Json(json!({"pending": []}))
}

#[derive(Deserialize)]
struct RateLimitReq {
    requests: Option<u32>,
    window_seconds: Option<f64>,
    #[serde(default)]
    disabled: bool,
}

async fn set_rate_limit<S: Control>(
    State(s): State<Shared<S>>,
    body: Bytes,
) -> Result<Json<Value>> {
    let r: RateLimitReq = parse_json(&body)?;
    let limit = if r.disabled {
        None
    } else {
        let requests = r.requests.filter(|n| *n > 0).ok_or_else(|| {
            unprocessable::<S>("requests must be a positive integer (or disabled: true)")
        })?;
        let secs = r
            .window_seconds
            .filter(|w| w.is_finite() && *w > 0.0 && *w < 86_400.0)
            .ok_or_else(|| unprocessable::<S>("window_seconds must be positive"))?;
        Some(Limit {
            requests,
            window: Duration::from_secs_f64(secs),
        })
    };
    let mut g = lock(&s);
    g.set_rate_limit(limit);
    Ok(Json(g.rate_limit()))
}

async fn get_rate_limit<S: Control>(State(s): State<Shared<S>>) -> Json<Value> {
    Json(lock(&s).rate_limit())
}

#[derive(Deserialize)]
struct TouchReq {
    application_ids: Option<Vec<Value>>,
    count: Option<usize>,
}

async fn touch<S: Control>(State(s): State<Shared<S>>, body: Bytes) -> Result<Json<Value>> {
    let r: TouchReq = parse_json(&body)?;
    let mut g = lock(&s);
    let ids = match (r.application_ids, r.count) {
        (Some(ids), _) => resolve(&*g, &ids)?,
        (None, Some(n)) => g.tenant_mut().pick_applications(n),
        (None, None) => return Err(unprocessable::<S>("give application_ids or count")),
    };
    let at = now();
    for id in &ids {
        g.touch(*id, at);
    }
    Ok(ids_json::<S>(&ids))
}

#[derive(Deserialize)]
struct AddReq {
    count: usize,
}

async fn add_applications<S: Control>(
    State(s): State<Shared<S>>,
    body: Bytes,
) -> Result<Json<Value>> {
    let r: AddReq = parse_json(&body)?;
    if r.count > 100_000 {
        return Err(unprocessable::<S>("count must be at most 100000"));
    }
    let mut g = lock(&s);
    let ids = g.add_applications(r.count, now());
    for app in &ids {
        notify(&*g, &Change::Created { app: *app });
    }
    Ok(ids_json::<S>(&ids))
}

#[derive(Deserialize)]
struct DeleteReq {
    application_ids: Vec<Value>,
}

async fn delete<S: Control>(State(s): State<Shared<S>>, body: Bytes) -> Result<Json<Value>> {
    let r: DeleteReq = parse_json(&body)?;
    let mut g = lock(&s);
    let ids = resolve(&*g, &r.application_ids)?;
    // The events describe what goes: rendered before the deletion.
    for app in &ids {
        if let Some(candidate) = g.tenant().application(*app).map(|a| a.candidate_id) {
            notify(
                &*g,
                &Change::ApplicationDeleted {
                    app: *app,
                    candidate,
                },
            );
        }
    }
    g.delete(&ids, now());
    Ok(ids_json::<S>(&ids))
}

async fn list<S: Control>(State(s): State<Shared<S>>) -> Json<Value> {
    Json(Value::Array(lock(&s).list()))
}

async fn application<S: Control>(
    State(s): State<Shared<S>>,
    Path(id): Path<String>,
) -> Result<Json<Value>> {
    let g = lock(&s);
    let a = find(&*g, &id)?;
    Ok(Json(g.record(a)))
}

async fn writes<S: Control>(
    State(s): State<Shared<S>>,
    Path(id): Path<String>,
) -> Result<Json<Value>> {
    let g = lock(&s);
    let a = find(&*g, &id)?;
    Ok(Json(g.writes(a)))
}
