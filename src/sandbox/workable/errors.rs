//! Workable's error bodies: `{"error": "..."}`.

use axum::http::StatusCode;
use serde_json::{Value, json};

use crate::sandbox::errors::ApiError;

/// Workable's error shape: `{"error": "..."}`.
pub(super) fn error(status: StatusCode, message: impl Into<String>) -> ApiError {
    ApiError::body(status, json!({ "error": message.into() }))
}

pub(super) fn not_found_error() -> ApiError {
    error(StatusCode::NOT_FOUND, "Not found")
}

pub(super) fn unprocessable(message: impl Into<String>) -> ApiError {
    error(StatusCode::UNPROCESSABLE_ENTITY, message)
}

pub(super) async fn not_found() -> ApiError {
    not_found_error()
}

pub(super) async fn api_not_found() -> ApiError {
    not_found_error()
}

pub(super) async fn method_not_allowed() -> ApiError {
    error(StatusCode::METHOD_NOT_ALLOWED, "Method not allowed")
}

/// An injected fault in Workable's shape (no `Retry-After`: Workable sends none).
pub(super) fn fault_response(status: u16) -> ApiError {
    match status {
        429 => error(
            StatusCode::TOO_MANY_REQUESTS,
            "Rate limit exceeded, retry after X-Rate-Limit-Reset",
        ),
        500 => error(StatusCode::INTERNAL_SERVER_ERROR, "Internal server error"),
        _ => error(StatusCode::SERVICE_UNAVAILABLE, "Service unavailable"),
    }
}

/// Parses a JSON body, answering malformed input in Workable's error shape.
pub(super) fn body_json(bytes: &[u8]) -> Result<Value, ApiError> {
    serde_json::from_slice(bytes)
        .map_err(|e| error(StatusCode::BAD_REQUEST, format!("Invalid JSON body: {e}")))
}
