//! Lever's error bodies: `{"code", "message"}`.

use axum::http::StatusCode;
use serde_json::{Value, json};

use crate::sandbox::errors::ApiError;

/// Lever's error body: `{"code", "message"}`.
pub(super) fn error(status: StatusCode, code: &str, message: impl Into<String>) -> ApiError {
    ApiError::body(status, json!({"code": code, "message": message.into()}))
}

pub(super) fn bad_request(message: impl Into<String>) -> ApiError {
    error(StatusCode::BAD_REQUEST, "BadRequestError", message)
}

pub(super) fn not_found(message: impl Into<String>) -> ApiError {
    error(StatusCode::NOT_FOUND, "ResourceNotFound", message)
}

pub(super) fn unauthorized(message: &str) -> ApiError {
    error(StatusCode::UNAUTHORIZED, "UnauthorizedError", message)
}

/// Lever's 429: no `Retry-After`, no rate-limit headers.
pub(super) fn too_many_requests() -> ApiError {
    error(
        StatusCode::TOO_MANY_REQUESTS,
        "TooManyRequests",
        "Rate limit exceeded. Please retry with exponential backoff.",
    )
}

/// An injected fault, in Lever's error format.
pub(super) fn fault_response(status: u16) -> ApiError {
    match status {
        429 => too_many_requests(),
        500 => error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "InternalError",
            "An internal error occurred.",
        ),
        _ => error(
            StatusCode::SERVICE_UNAVAILABLE,
            "ServiceUnavailableError",
            "Lever is temporarily unavailable for maintenance. Please retry.",
        ),
    }
}

pub(super) async fn not_found_fallback() -> ApiError {
    not_found("Not Found")
}

pub(super) async fn method_not_allowed() -> ApiError {
    error(
        StatusCode::METHOD_NOT_ALLOWED,
        "MethodNotAllowedError",
        "Method not allowed",
    )
}

/// Parses a JSON object body.
pub(super) fn json_body(bytes: &[u8]) -> Result<serde_json::Map<String, Value>, ApiError> {
    match serde_json::from_slice::<Value>(bytes) {
        Ok(Value::Object(m)) => Ok(m),
        Ok(_) => Err(bad_request("Request body must be a JSON object")),
        Err(e) => Err(bad_request(format!("Request body is not valid JSON: {e}"))),
    }
}
