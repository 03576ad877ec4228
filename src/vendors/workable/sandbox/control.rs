//! The `/_sandbox` control API (the contract in [`crate::sandbox`]).
//! Application ids here are Workable candidate ids.

use std::time::Duration;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{Value, json};

use super::{
    INTEGRATION_MEMBER_ID, SUBDOMAIN, Shared, Wk, candidate_hex, not_found_error, now,
    parse_candidate_id, unprocessable,
};
use crate::sandbox::data::GenApplication;
use crate::sandbox::{ApiError, Fault, Limit, Stats, lock, parse_json};

pub(super) fn routes() -> Router<Shared> {
    Router::new()
        .route("/_sandbox/stats", get(stats))
        .route("/_sandbox/credentials", get(credentials))
        .route("/_sandbox/credentials/revoke", post(revoke))
        .route("/_sandbox/credentials/restore", post(restore))
        .route("/_sandbox/tokens/expire", post(expire_tokens))
        .route("/_sandbox/faults", post(add_fault).delete(clear_faults))
        .route(
            "/_sandbox/rate_limit",
            put(set_rate_limit).get(get_rate_limit),
        )
        .route("/_sandbox/touch", post(touch))
        .route(
            "/_sandbox/applications",
            get(list_applications).post(add_applications),
        )
        .route("/_sandbox/applications/{id}", get(application))
        .route("/_sandbox/applications/{id}/writes", get(writes))
        .route("/_sandbox/delete", post(delete))
}

async fn stats(State(s): State<Shared>) -> Json<Stats> {
    Json(lock(&s).stats.clone())
}

async fn credentials(State(s): State<Shared>) -> Json<Value> {
    let g = lock(&s);
    Json(json!({
        "secret": {"apiKey": g.api_key},
        "connection": {
            "baseUrl": g.base_url,
            "tokenUrl": null,
            "subdomain": SUBDOMAIN,
            "sub": INTEGRATION_MEMBER_ID,
        },
        "api_key": g.api_key,
        "api_base_url": format!("{}/spi/v3", g.base_url),
        "member_id": INTEGRATION_MEMBER_ID,
        "subdomain": SUBDOMAIN,
    }))
}

async fn revoke(State(s): State<Shared>) -> Json<Value> {
    lock(&s).revoked = true;
    tracing::info!("sandbox credentials revoked");
    Json(json!({"revoked": true}))
}

async fn restore(State(s): State<Shared>) -> Json<Value> {
    lock(&s).revoked = false;
    tracing::info!("sandbox credentials restored");
    Json(json!({"revoked": false}))
}

async fn expire_tokens() -> Json<Value> {
    Json(json!({"expired": false, "reason": "account tokens do not expire"}))
}

#[derive(Deserialize)]
struct FaultReq {
    status: u16,
    count: Option<u32>,
    path_prefix: Option<String>,
}

async fn add_fault(State(s): State<Shared>, body: Bytes) -> Result<Json<Value>, ApiError> {
    let r: FaultReq = parse_json(&body)?;
    let mut g = lock(&s);
    g.faults
        .push(Fault {
            status: r.status,
            count: r.count.unwrap_or(1),
            path_prefix: r.path_prefix.unwrap_or_else(|| "/spi/v3".into()),
        })
        .map_err(unprocessable)?;
    Ok(Json(json!({"pending": g.faults.pending()})))
}

async fn clear_faults(State(s): State<Shared>) -> Json<Value> {
    lock(&s).faults.clear();
    Json(json!({"pending": []}))
}

fn rate_limit_json(l: Option<Limit>) -> Value {
    match l {
        Some(l) => json!({
            "requests": l.requests,
            "window_seconds": l.window.as_secs_f64(),
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

async fn set_rate_limit(State(s): State<Shared>, body: Bytes) -> Result<Json<Value>, ApiError> {
    let r: RateLimitReq = parse_json(&body)?;
    let limit = if r.disabled {
        None
    } else {
        let requests = r.requests.filter(|n| *n > 0).ok_or_else(|| {
            unprocessable("requests must be a positive integer (or disabled: true)")
        })?;
        let secs = r
            .window_seconds
            .filter(|w| w.is_finite() && *w > 0.0 && *w < 86_400.0)
            .ok_or_else(|| unprocessable("window_seconds must be positive"))?;
        Some(Limit {
            requests,
            window: Duration::from_secs_f64(secs),
        })
    };
    lock(&s).limiter.set_limit(limit);
    Ok(Json(rate_limit_json(limit)))
}

async fn get_rate_limit(State(s): State<Shared>) -> Json<Value> {
    Json(rate_limit_json(lock(&s).limiter.limit()))
}

/// Application ids from a JSON list of candidate id strings; every one must exist.
fn existing_ids(g: &Wk, ids: &[Value]) -> Result<Vec<u64>, ApiError> {
    ids.iter()
        .map(|v| {
            let s = v
                .as_str()
                .ok_or_else(|| unprocessable(format!("{v} is not a candidate id")))?;
            parse_candidate_id(s)
                .filter(|id| g.tenant.application(*id).is_some())
                .ok_or_else(|| {
                    ApiError::body(
                        axum::http::StatusCode::NOT_FOUND,
                        json!({"error": format!("candidate {s} not found")}),
                    )
                })
        })
        .collect()
}

fn ids_json(ids: &[u64]) -> Json<Value> {
    Json(json!({"application_ids": ids.iter().map(|i| candidate_hex(*i)).collect::<Vec<_>>()}))
}

#[derive(Deserialize)]
struct TouchReq {
    application_ids: Option<Vec<Value>>,
    count: Option<usize>,
}

async fn touch(State(s): State<Shared>, body: Bytes) -> Result<Json<Value>, ApiError> {
    let r: TouchReq = parse_json(&body)?;
    let mut g = lock(&s);
    let ids = match (r.application_ids, r.count) {
        (Some(ids), _) => existing_ids(&g, &ids)?,
        (None, Some(n)) => g.tenant.pick_applications(n),
        (None, None) => return Err(unprocessable("give application_ids or count")),
    };
    let at = now();
    for id in &ids {
        g.touch(*id, at);
    }
    Ok(ids_json(&ids))
}

#[derive(Deserialize)]
struct AddReq {
    count: usize,
}

async fn add_applications(State(s): State<Shared>, body: Bytes) -> Result<Json<Value>, ApiError> {
    let r: AddReq = parse_json(&body)?;
    if r.count > 100_000 {
        return Err(unprocessable("count must be at most 100000"));
    }
    let mut g = lock(&s);
    let ids = g.tenant.add_applications(r.count, now());
    g.rebuild_origin();
    Ok(ids_json(&ids))
}

#[derive(Deserialize)]
struct DeleteReq {
    application_ids: Vec<Value>,
}

/// Deletes candidates as a Workable user would: they vanish from lists and
/// their detail answers 404 (Workable lists no deletions).
async fn delete(State(s): State<Shared>, body: Bytes) -> Result<Json<Value>, ApiError> {
    let r: DeleteReq = parse_json(&body)?;
    let mut g = lock(&s);
    let ids = existing_ids(&g, &r.application_ids)?;
    for id in &ids {
        g.tenant.delete_application(*id);
        g.writes.remove(id);
        g.frozen.remove(id);
    }
    g.rebuild_origin();
    Ok(ids_json(&ids))
}

/// The candidates list item plus the contract's `job_id` and `job_status`.
fn ctl_app_json(g: &Wk, a: &GenApplication) -> Value {
    let mut v = g.candidate_json(a);
    let ji = g.job_index(a.job_id);
    if let Some(o) = v.as_object_mut() {
        o.insert("job_id".into(), json!(ji.map(|i| &g.shortcodes[i])));
        o.insert(
            "job_status".into(),
            json!(ji.map(|i| g.tenant.jobs[i].state.as_str())),
        );
    }
    v
}

async fn list_applications(State(s): State<Shared>) -> Json<Value> {
    let g = lock(&s);
    Json(Value::Array(
        g.tenant
            .applications
            .iter()
            .map(|a| ctl_app_json(&g, a))
            .collect(),
    ))
}

async fn application(
    State(s): State<Shared>,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let g = lock(&s);
    let ai = g.app_index(&id).ok_or_else(not_found_error)?;
    Ok(Json(ctl_app_json(&g, &g.tenant.applications[ai])))
}

async fn writes(State(s): State<Shared>, Path(id): Path<String>) -> Result<Json<Value>, ApiError> {
    let g = lock(&s);
    let ai = g.app_index(&id).ok_or_else(not_found_error)?;
    let w = g.writes.get(&g.tenant.applications[ai].id);
    Ok(Json(json!({
        "notes": w.map(|w| w.comments.iter().map(|c| c.body.clone()).collect::<Vec<_>>()).unwrap_or_default(),
        "tags": w.map(|w| w.tags.clone()).unwrap_or_default(),
        "custom_fields": w.map(|w| w.attributes.clone()).unwrap_or_default(),
    })))
}
