//! Reading requests: query strings, form and JSON bodies, ids in bodies.

use axum::http::{HeaderMap, StatusCode, header};
use serde_json::Value;

use super::errors::ApiError;

/// Query parameters in order, decoded (repeated keys stay repeated).
pub fn query_pairs(raw: Option<&str>) -> Vec<(String, String)> {
    raw.map(|q| form_pairs(q.as_bytes())).unwrap_or_default()
}

/// An `application/x-www-form-urlencoded` body, decoded.
pub fn form_pairs(body: &[u8]) -> Vec<(String, String)> {
    url::form_urlencoded::parse(body)
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

/// The fields of a token request: a form, or (as Auth0 also takes) a JSON object.
pub struct Form(Vec<(String, String)>);

impl Form {
    pub fn parse(headers: &HeaderMap, body: &[u8], json_too: bool) -> Form {
        let is_json = headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("application/json"));
        if json_too && is_json {
            return Form(match serde_json::from_slice::<Value>(body) {
                Ok(Value::Object(m)) => m
                    .into_iter()
                    .filter_map(|(k, v)| v.as_str().map(|s| (k, s.to_string())))
                    .collect(),
                _ => Vec::new(),
            });
        }
        Form(form_pairs(body))
    }

    /// The last non-empty value of `key`, trimmed.
    pub fn get(&self, key: &str) -> Option<String> {
        self.0
            .iter()
            .rev()
            .find(|(k, v)| k == key && !v.trim().is_empty())
            .map(|(_, v)| v.trim().to_string())
    }
}

/// Parses a JSON request body, answering malformed input with a JSON 400.
pub fn parse_json<T: serde::de::DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    serde_json::from_slice(bytes).map_err(|e| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            format!("Request body is not valid JSON: {e}"),
        )
    })
}

/// An id given as a JSON number or a numeric string.
pub fn json_id(v: &Value) -> Option<u64> {
    match v {
        Value::Number(n) => n.as_u64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}
