//! Stand-in for `https://auth.greenhouse.io/token`: the client-credentials
//! grant of custom integrations, with the errors Greenhouse's auth server
//! answers (`{"message", "errorId"}` or OAuth's `{"error"}`) and its own
//! 60 s window.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::Response;
use chrono::{SecondsFormat, Utc};
use serde_json::json;

use super::{Gh, INTEGRATION_USER_ID, user};
use crate::sandbox::errors::{ApiError, error_id};
use crate::sandbox::faults::Faults;
use crate::sandbox::ratelimit::Decision;
use crate::sandbox::request::Form;
use crate::sandbox::tokens::{basic_credentials, token_response};
use crate::sandbox::{Shared, lock};

/// Every grant the auth server knows, in its own order (for the error text).
const GRANTS: &str = "authorization_code, refresh_token, client_credentials, urn:ietf:params:oauth:grant-type:token-exchange";

/// `{"message", "errorId"}`, as the auth server answers malformed requests.
fn malformed(status: StatusCode, message: String) -> ApiError {
    ApiError::body(status, json!({"message": message, "errorId": error_id()}))
}

fn bad_grant(error: &str, description: &str) -> ApiError {
    ApiError::oauth(StatusCode::BAD_REQUEST, error, description)
}

pub(super) async fn token(
    State(s): State<Shared<Gh>>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let mut g = lock(&s);
    g.stats.token_requests += 1;
    if let Decision::Limited { retry_after, .. } = g.token_limiter.check() {
        g.stats.rate_limited += 1;
        return Err(ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            format!("Rate limit exceeded. Please retry after {retry_after} seconds."),
        )
        .header(header::RETRY_AFTER, HeaderValue::from(retry_after)));
    }
    if let Some(status) = g.faults.take("/token") {
        g.stats.faults_injected += 1;
        return Err(Faults::response(status));
    }
    let (id, secret) = basic_credentials(&headers)
        .ok_or_else(|| malformed(StatusCode::UNAUTHORIZED, "Unauthorized".into()))?;
    if g.tokens.revoked || id != g.client_id || secret != g.client_secret {
        return Err(ApiError::body(
            StatusCode::UNAUTHORIZED,
            json!({"error": "invalid_client"}),
        ));
    }
    let form = Form::parse(&headers, &body, false);
    let grant = form.get("grant_type").ok_or_else(|| {
        malformed(
            StatusCode::BAD_REQUEST,
            "Must include `grant_type` parameter in the request body".into(),
        )
    })?;
    match grant.as_str() {
        "client_credentials" => {}
        "authorization_code"
        | "refresh_token"
        | "urn:ietf:params:oauth:grant-type:token-exchange" => {
            return Err(bad_grant(
                "unauthorized_client",
                &format!("This client may not use the {grant} grant"),
            ));
        }
        other => {
            return Err(malformed(
                StatusCode::BAD_REQUEST,
                format!("grant_type={other} is invalid, please use one of: {GRANTS}"),
            ));
        }
    }
    let sub = match form.get("sub") {
        None => INTEGRATION_USER_ID,
        Some(s) => s
            .parse::<u64>()
            .ok()
            .and_then(user)
            .map(|u| u.id)
            .ok_or_else(|| bad_grant("invalid_grant", "sub is not a user of this organization"))?,
    };
    let issued = Utc::now();
    let (access_token, expires_at) = g.tokens.issue(&sub.to_string(), issued);
    Ok(token_response(json!({
        "access_token": access_token,
        "token_type": "Bearer",
        "expires_in": (expires_at - issued).num_seconds(),
        "expires_at": expires_at.to_rfc3339_opts(SecondsFormat::Secs, true),
    })))
}
