//! Stand-in for `https://auth.lever.co/oauth/token` (an Auth0 tenant): the
//! refresh-token grant with rotation. Errors are OAuth's
//! `{"error", "error_description"}`, with Auth0's statuses (403 for a bad
//! grant, 401 for a bad client).

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use serde_json::{Value, json};

use super::{SCOPES, Shared, fault_response, new_refresh_token, render};
use crate::sandbox::{ApiError, basic_credentials, lock};

fn oauth_error(status: StatusCode, error: &str, description: &str) -> Response {
    ApiError::body(
        status,
        json!({"error": error, "error_description": description}),
    )
    .into_response()
}

fn invalid_grant(description: &str) -> Response {
    oauth_error(StatusCode::FORBIDDEN, "invalid_grant", description)
}

/// Form fields (Auth0 also takes a JSON body).
fn fields(headers: &HeaderMap, body: &[u8]) -> Vec<(String, String)> {
    let is_json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if is_json {
        return match serde_json::from_slice::<Value>(body) {
            Ok(Value::Object(m)) => m
                .into_iter()
                .filter_map(|(k, v)| v.as_str().map(|s| (k, s.to_string())))
                .collect(),
            _ => Vec::new(),
        };
    }
    url::form_urlencoded::parse(body)
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

pub(super) async fn token(State(s): State<Shared>, headers: HeaderMap, body: Bytes) -> Response {
    let mut g = lock(&s);
    g.stats.token_requests += 1;
    if let Some(status) = g.faults.take("/oauth/token") {
        g.stats.faults_injected += 1;
        return fault_response(status).into_response();
    }
    let form = fields(&headers, &body);
    let field = |k: &str| {
        form.iter()
            .rev()
            .find(|(fk, _)| fk == k)
            .map(|(_, v)| v.trim().to_string())
            .filter(|v| !v.is_empty())
    };
    // client_secret_post or client_secret_basic, as Auth0 accepts both.
    let (client_id, client_secret) = match basic_credentials(&headers) {
        Some((id, secret)) => (Some(id), Some(secret)),
        None => (field("client_id"), field("client_secret")),
    };
    if client_id.as_deref() != Some(g.client_id.as_str())
        || client_secret.as_deref() != Some(g.client_secret.as_str())
    {
        return oauth_error(StatusCode::UNAUTHORIZED, "access_denied", "Unauthorized");
    }
    let Some(grant) = field("grant_type") else {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "Missing required parameter: grant_type",
        );
    };
    match grant.as_str() {
        "refresh_token" => {}
        // There is no authorization step here to have issued a code.
        "authorization_code" => return invalid_grant("Invalid authorization code"),
        other => {
            return oauth_error(
                StatusCode::FORBIDDEN,
                "unauthorized_client",
                &format!("Grant type '{other}' not allowed for the client."),
            );
        }
    }
    let Some(presented) = field("refresh_token") else {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "Missing required parameter: refresh_token",
        );
    };
    const UNKNOWN: &str = "Unknown or invalid refresh token.";
    if g.tokens.revoked || g.refresh.dead || presented != g.refresh.token {
        return invalid_grant(UNKNOWN);
    }
    let now = Utc::now();
    let idle = chrono::Duration::from_std(g.refresh.idle_ttl).unwrap_or(chrono::Duration::MAX);
    if now - g.refresh.last_used > idle {
        g.refresh.dead = true;
        return invalid_grant(UNKNOWN);
    }
    // Rotation: the presented token is dead from this moment on.
    g.refresh.token = new_refresh_token();
    g.refresh.last_used = now;
    let (access_token, expires_at) = g.tokens.issue(&render::integration_user_id(), now);
    let mut out_headers = HeaderMap::new();
    out_headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    (
        StatusCode::OK,
        out_headers,
        Json(json!({
            "access_token": access_token,
            "refresh_token": g.refresh.token,
            "token_type": "Bearer",
            "scope": SCOPES,
            "expires_in": (expires_at - now).num_seconds(),
        })),
    )
        .into_response()
}
