//! The `/_sandbox` control API (the contract in [`crate::sandbox`]), plus
//! Lever's extras: refresh-token expiry and reissue, and the access-token
//! lifetime. Application ids here are opportunity ids.

use std::time::Duration;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use chrono::Utc;
use serde::Deserialize;
use serde_json::{Value, json};

use super::ids::{self, Kind};
use super::render::{self, Expand, opportunity_id, posting_id};
use super::{Deleted, Lever, Shared, bucket, new_refresh_token, now};
use crate::sandbox::data::GenApplication;
use crate::sandbox::{ApiError, Fault, Limit, Stats, lock, parse_json};

type Result<T> = std::result::Result<T, ApiError>;

pub(super) async fn stats(State(s): State<Shared>) -> Json<Stats> {
    Json(lock(&s).stats.clone())
}

pub(super) async fn credentials(State(s): State<Shared>) -> Json<Value> {
    let g = lock(&s);
    let token_url = format!("{}/oauth/token", g.base_url);
    let sub = render::integration_user_id();
    Json(json!({
        "secret": {
            "apiKey": g.api_key,
            "clientId": g.client_id,
            "clientSecret": g.client_secret,
            "refreshToken": g.refresh.token,
        },
        "connection": {
            "baseUrl": g.base_url,
            "tokenUrl": token_url,
            "subdomain": null,
            "sub": sub,
        },
        "api_key": g.api_key,
        "client_id": g.client_id,
        "client_secret": g.client_secret,
        "refresh_token": g.refresh.token,
        "refresh_token_valid": !g.refresh.dead && !g.tokens.revoked,
        "integration_user_id": sub,
        "base_url": g.base_url,
        "token_url": token_url,
    }))
}

pub(super) async fn revoke(State(s): State<Shared>) -> Json<Value> {
    lock(&s).tokens.revoke();
    tracing::info!("sandbox credentials revoked");
    Json(json!({"revoked": true}))
}

pub(super) async fn restore(State(s): State<Shared>) -> Json<Value> {
    lock(&s).tokens.restore();
    tracing::info!("sandbox credentials restored");
    Json(json!({"revoked": false}))
}

pub(super) async fn expire_tokens(State(s): State<Shared>) -> Json<Value> {
    lock(&s).tokens.expire_all();
    Json(json!({"expired": true}))
}

/// The current refresh token dies (as after 90 idle days); restore does not
/// revive it, only a reissue does.
pub(super) async fn expire_refresh_token(State(s): State<Shared>) -> Json<Value> {
    lock(&s).refresh.dead = true;
    Json(json!({"expired": true}))
}

/// The user authorized the app again: a fresh refresh token, reported by
/// `/_sandbox/credentials`.
pub(super) async fn reissue_refresh_token(State(s): State<Shared>) -> Json<Value> {
    let mut g = lock(&s);
    g.refresh.token = new_refresh_token();
    g.refresh.last_used = Utc::now();
    g.refresh.dead = false;
    Json(json!({"refresh_token": g.refresh.token}))
}

#[derive(Deserialize)]
struct TtlReq {
    seconds: f64,
}

/// Lifetime of access tokens issued from now on.
pub(super) async fn set_token_ttl(State(s): State<Shared>, body: Bytes) -> Result<Json<Value>> {
    let r: TtlReq = parse_json(&body)?;
    if !(r.seconds.is_finite() && r.seconds >= 1.0 && r.seconds <= 366.0 * 86_400.0) {
        return Err(ApiError::unprocessable(
            "seconds must be between 1 and 31622400",
        ));
    }
    let mut g = lock(&s);
    g.tokens.ttl = Duration::from_secs_f64(r.seconds);
    Ok(Json(json!({"seconds": g.tokens.ttl.as_secs_f64()})))
}

pub(super) async fn get_token_ttl(State(s): State<Shared>) -> Json<Value> {
    Json(json!({"seconds": lock(&s).tokens.ttl.as_secs_f64()}))
}

#[derive(Deserialize)]
struct FaultReq {
    status: u16,
    count: Option<u32>,
    path_prefix: Option<String>,
}

pub(super) async fn add_fault(State(s): State<Shared>, body: Bytes) -> Result<Json<Value>> {
    let r: FaultReq = parse_json(&body)?;
    let mut g = lock(&s);
    g.faults
        .push(Fault {
            status: r.status,
            count: r.count.unwrap_or(1),
            path_prefix: r.path_prefix.unwrap_or_else(|| "/v1".into()),
        })
        .map_err(ApiError::unprocessable)?;
    Ok(Json(json!({"pending": g.faults.pending()})))
}

pub(super) async fn clear_faults(State(s): State<Shared>) -> Json<Value> {
    lock(&s).faults.clear();
    Json(json!({"pending": []}))
}

fn rate_limit_json(g: &Lever) -> Value {
    match g.limiter.limit() {
        Some(l) => json!({
            "requests": l.requests,
            "window_seconds": l.window.as_secs_f64(),
            "burst": g.limiter.burst(),
            "disabled": false,
        }),
        None => json!({"disabled": true}),
    }
}

#[derive(Deserialize)]
struct RateLimitReq {
    requests: Option<u32>,
    window_seconds: Option<f64>,
    #[serde(default)]
    disabled: bool,
}

/// Steady `requests` per `window_seconds`, bursts of twice that.
pub(super) async fn set_rate_limit(State(s): State<Shared>, body: Bytes) -> Result<Json<Value>> {
    let r: RateLimitReq = parse_json(&body)?;
    let limit = if r.disabled {
        None
    } else {
        let requests = r.requests.filter(|n| *n > 0).ok_or_else(|| {
            ApiError::unprocessable("requests must be a positive integer (or disabled: true)")
        })?;
        let secs = r
            .window_seconds
            .filter(|w| w.is_finite() && *w > 0.0 && *w < 86_400.0)
            .ok_or_else(|| ApiError::unprocessable("window_seconds must be positive"))?;
        Some(Limit {
            requests,
            window: Duration::from_secs_f64(secs),
        })
    };
    let mut g = lock(&s);
    g.limiter = bucket(limit);
    Ok(Json(rate_limit_json(&g)))
}

pub(super) async fn get_rate_limit(State(s): State<Shared>) -> Json<Value> {
    Json(rate_limit_json(&lock(&s)))
}

/// Application (= opportunity) ids from a request body, resolved to tenant ids.
fn resolve(g: &Lever, ids_in: &[Value]) -> Result<Vec<u64>> {
    ids_in
        .iter()
        .map(|v| {
            let s = v.as_str().unwrap_or_default();
            ids::parse(Kind::Opportunity, s)
                .filter(|id| g.tenant.application(*id).is_some())
                .ok_or_else(|| ApiError::not_found(format!("application {v} not found")))
        })
        .collect()
}

fn id_list(ids_in: &[u64]) -> Json<Value> {
    let out: Vec<String> = ids_in
        .iter()
        .map(|id| ids::uuid(Kind::Opportunity, *id))
        .collect();
    Json(json!({ "application_ids": out }))
}

#[derive(Deserialize)]
struct TouchReq {
    application_ids: Option<Vec<Value>>,
    count: Option<usize>,
}

pub(super) async fn touch(State(s): State<Shared>, body: Bytes) -> Result<Json<Value>> {
    let r: TouchReq = parse_json(&body)?;
    let mut g = lock(&s);
    let ids_in = match (r.application_ids, r.count) {
        (Some(v), _) => resolve(&g, &v)?,
        (None, Some(n)) => g.tenant.pick_applications(n),
        (None, None) => return Err(ApiError::unprocessable("give application_ids or count")),
    };
    let at = now();
    for id in &ids_in {
        g.tenant.touch_application(*id, at);
    }
    Ok(id_list(&ids_in))
}

#[derive(Deserialize)]
struct AddReq {
    count: usize,
}

pub(super) async fn add_applications(State(s): State<Shared>, body: Bytes) -> Result<Json<Value>> {
    let r: AddReq = parse_json(&body)?;
    if r.count > 100_000 {
        return Err(ApiError::unprocessable("count must be at most 100000"));
    }
    let mut g = lock(&s);
    let added = g.tenant.add_applications(r.count, now());
    Ok(id_list(&added))
}

#[derive(Deserialize)]
struct DeleteReq {
    application_ids: Vec<Value>,
}

/// Deletes opportunities as a Lever user would; they show up in
/// `/v1/opportunities/deleted` from now on.
pub(super) async fn delete(State(s): State<Shared>, body: Bytes) -> Result<Json<Value>> {
    let r: DeleteReq = parse_json(&body)?;
    let mut g = lock(&s);
    let ids_in = resolve(&g, &r.application_ids)?;
    let at = now();
    for id in &ids_in {
        if g.tenant.delete_application(*id).is_some() {
            let seq = g.deleted.last().map_or(1, |d| d.seq + 1);
            g.deleted.push(Deleted {
                seq,
                app_id: *id,
                at,
            });
            g.notes.remove(id);
            g.tags.remove(id);
            g.written_tags.remove(id);
        }
    }
    Ok(id_list(&ids_in))
}

/// The opportunity as `/v1` serves it, plus the contract's `job_id` and `job_status`.
fn ctl_json(g: &Lever, a: &GenApplication) -> Value {
    let mut v = g.opportunity_json(a, &Expand::default());
    if let Some(o) = v.as_object_mut() {
        o.insert("job_id".into(), json!(posting_id(a.job_id)));
        o.insert(
            "job_status".into(),
            json!(g.tenant.job(a.job_id).map(|j| j.state.as_str())),
        );
    }
    v
}

pub(super) async fn list_applications(State(s): State<Shared>) -> Json<Value> {
    let g = lock(&s);
    Json(Value::Array(
        g.tenant
            .applications
            .iter()
            .map(|a| ctl_json(&g, a))
            .collect(),
    ))
}

fn find<'a>(g: &'a Lever, id: &str) -> Result<&'a GenApplication> {
    ids::parse(Kind::Opportunity, id)
        .and_then(|id| g.tenant.application(id))
        .ok_or_else(|| ApiError::not_found("Application not found"))
}

pub(super) async fn application(
    State(s): State<Shared>,
    Path(id): Path<String>,
) -> Result<Json<Value>> {
    let g = lock(&s);
    let a = find(&g, &id)?;
    Ok(Json(ctl_json(&g, a)))
}

/// What the operator wrote: note bodies (every field of every note) and the
/// tags it added that are still there. Lever has no custom fields.
pub(super) async fn writes(State(s): State<Shared>, Path(id): Path<String>) -> Result<Json<Value>> {
    let g = lock(&s);
    let a = find(&g, &id)?;
    let notes: Vec<&str> = g
        .notes
        .get(&a.id)
        .into_iter()
        .flatten()
        .flat_map(|n| n.fields.iter().map(|f| f.value.as_str()))
        .collect();
    let tags = g.written_tags.get(&a.id).cloned().unwrap_or_default();
    Ok(Json(json!({
        "id": opportunity_id(a),
        "notes": notes,
        "tags": tags,
        "custom_fields": {},
    })))
}
