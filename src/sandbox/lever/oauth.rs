//! Stand-in for `https://auth.lever.co/oauth/token` (an Auth0 tenant): the
//! refresh-token grant with rotation. Errors are OAuth's
//! `{"error", "error_description"}`, with Auth0's statuses (403 for a bad
//! grant, 401 for a bad client).

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use chrono::Utc;
use serde_json::json;

use super::errors::fault_response;
use super::{Lever, SCOPES, render};
use crate::sandbox::errors::ApiError;
use crate::sandbox::request::Form;
use crate::sandbox::tokens::{basic_credentials, token_response};
use crate::sandbox::{Shared, lock};

fn invalid_grant(description: &str) -> ApiError {
    ApiError::oauth(StatusCode::FORBIDDEN, "invalid_grant", description)
}

fn invalid_request(description: &str) -> ApiError {
    ApiError::oauth(StatusCode::BAD_REQUEST, "invalid_request", description)
}

pub(super) async fn token(
    State(s): State<Shared<Lever>>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let mut g = lock(&s);
    g.stats.token_requests += 1;
    if let Some(status) = g.faults.take("/oauth/token") {
        g.stats.faults_injected += 1;
        return Err(fault_response(status));
    }
    let form = Form::parse(&headers, &body, true);
    // client_secret_post or client_secret_basic, as Auth0 accepts both.
    let (client_id, client_secret) = match basic_credentials(&headers) {
        Some((id, secret)) => (Some(id), Some(secret)),
        None => (form.get("client_id"), form.get("client_secret")),
    };
    if client_id.as_deref() != Some(g.client_id.as_str())
        || client_secret.as_deref() != Some(g.client_secret.as_str())
    {
        return Err(ApiError::oauth(
            StatusCode::UNAUTHORIZED,
            "access_denied",
            "Unauthorized",
        ));
    }
    let grant = form
        .get("grant_type")
        .ok_or_else(|| invalid_request("Missing required parameter: grant_type"))?;
    match grant.as_str() {
        "refresh_token" => {}
        // There is no authorization step here to have issued a code.
        "authorization_code" => return Err(invalid_grant("Invalid authorization code")),
        other => {
            return Err(ApiError::oauth(
                StatusCode::FORBIDDEN,
                "unauthorized_client",
                &format!("Grant type '{other}' not allowed for the client."),
            ));
        }
    }
    let presented = form
        .get("refresh_token")
        .ok_or_else(|| invalid_request("Missing required parameter: refresh_token"))?;
    let now = Utc::now();
    // Rotation: the presented token is dead from this moment on.
    let rotated = if g.tokens.revoked {
        None
    } else {
        g.refresh.rotate(&presented, now).map(str::to_string)
    };
    let refresh_token =
        rotated.ok_or_else(|| invalid_grant("Unknown or invalid refresh token."))?;
    let (access_token, expires_at) = g.tokens.issue(&render::integration_user_id(), now);
    Ok(token_response(json!({
        "access_token": access_token,
        "refresh_token": refresh_token,
        "token_type": "Bearer",
        "scope": SCOPES,
        "expires_in": (expires_at - now).num_seconds(),
    })))
}
