//! Greenhouse's error bodies: `{"message", "errors"}`.

use axum::http::StatusCode;
use serde_json::json;

use crate::sandbox::errors::ApiError;

pub(super) async fn not_found() -> ApiError {
    ApiError::not_found("Not Found")
}

pub(super) async fn method_not_allowed() -> ApiError {
    ApiError::new(StatusCode::METHOD_NOT_ALLOWED, "Method Not Allowed")
}

pub(super) fn unauthorized(error: &str) -> ApiError {
    ApiError::body(
        StatusCode::UNAUTHORIZED,
        json!({"message": "Unauthorized", "errors": [error]}),
    )
}

/// A write's validation error, naming the field.
pub(super) fn field_error(field: &str, message: &str) -> ApiError {
    ApiError::body(
        StatusCode::UNPROCESSABLE_ENTITY,
        json!({"message": "Validation error", "errors": [{"field": field, "message": message}]}),
    )
}
