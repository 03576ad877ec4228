//! JSON error responses.

use axum::Json;
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

/// An error response with a JSON body.
#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub body: Value,
    pub headers: Vec<(HeaderName, HeaderValue)>,
}

impl ApiError {
    /// `{"message": ...}`
    pub fn new(status: StatusCode, message: impl Into<String>) -> Self {
        ApiError::body(status, json!({ "message": message.into() }))
    }
    pub fn body(status: StatusCode, body: Value) -> Self {
        ApiError {
            status,
            body,
            headers: Vec::new(),
        }
    }
    pub fn unprocessable(message: impl Into<String>) -> Self {
        ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, message)
    }
    pub fn not_found(message: impl Into<String>) -> Self {
        ApiError::new(StatusCode::NOT_FOUND, message)
    }
    /// OAuth's `{"error", "error_description"}` (RFC 6749 section 5.2).
    pub fn oauth(status: StatusCode, error: &str, description: &str) -> Self {
        ApiError::body(
            status,
            json!({"error": error, "error_description": description}),
        )
    }
    pub fn header(mut self, name: HeaderName, value: HeaderValue) -> Self {
        self.headers.push((name, value));
        self
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut headers = HeaderMap::new();
        for (k, v) in self.headers {
            headers.insert(k, v);
        }
        (self.status, headers, Json(self.body)).into_response()
    }
}

/// `err-` followed by random hex, as Greenhouse's auth server reports.
pub fn error_id() -> String {
    format!("err-{}", hex::encode(rand::random::<[u8; 8]>()))
}
