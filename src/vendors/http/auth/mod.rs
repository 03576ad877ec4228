//! Where the `Authorization` header comes from: the [`Auth`] trait, and what
//! the OAuth flows share (expiry parsing, refresh margins, redaction).

pub mod client_credentials;
pub mod refresh_token;
pub mod static_key;

pub use client_credentials::ClientCredentials;
pub use refresh_token::{ACCESS_TOKEN, ACCESS_TOKEN_EXPIRES_AT, REFRESH_TOKEN, RefreshTokenAuth};
pub use static_key::StaticAuth;

use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use reqwest::header::HeaderValue;
use reqwest::{RequestBuilder, StatusCode};
use serde_json::Value;

use super::transport::{Call, MAX_ERROR_BODY, Transport, read_capped};
use crate::vendors::{SecretValue, VendorError};

/// Where the `Authorization` header comes from.
#[async_trait]
pub trait Auth: Send + Sync {
    /// The header for the next request (`None`: send none).
    async fn header(&self) -> Result<Option<HeaderValue>, VendorError>;

    /// Called after a 401 with the header that was rejected. Returns whether a
    /// fresh header may succeed (a static key: no).
    async fn invalidate(&self, rejected: Option<&HeaderValue>) -> bool;

    /// Removes this auth's secrets from a message (vendors echo odd things back).
    fn redact(&self, msg: &str) -> String {
        msg.to_string()
    }
}

/// No authentication (public endpoints, presigned downloads).
pub struct NoAuth;

#[async_trait]
impl Auth for NoAuth {
    async fn header(&self) -> Result<Option<HeaderValue>, VendorError> {
        Ok(None)
    }
    async fn invalidate(&self, _rejected: Option<&HeaderValue>) -> bool {
        false
    }
}

/// A header value that is never logged, if `value` may be one.
fn sensitive(value: &str) -> Option<HeaderValue> {
    let mut header = HeaderValue::from_str(value).ok()?;
    header.set_sensitive(true);
    Some(header)
}

/// `Authorization` for an access token: `<token_type> <token>`, Bearer when
/// the type is absent or any spelling of bearer.
fn token_header(token_type: Option<&str>, token: &str) -> Option<HeaderValue> {
    let scheme = match token_type {
        Some(t) if !t.eq_ignore_ascii_case("bearer") => t,
        _ => "Bearer",
    };
    sensitive(&format!("{scheme} {token}"))
}

/// What a token endpoint answered. Only the body's start is read: a token
/// response is small, and an error body is only ever summarised.
struct TokenReply {
    status: StatusCode,
    body: String,
}

impl TokenReply {
    /// Sends a token request outside the API limiter, retried as idempotent.
    async fn fetch<F>(transport: &Transport, make: &F) -> Result<Self, VendorError>
    where
        F: Fn() -> RequestBuilder + Send + Sync,
    {
        let resp = transport
            .retrying(Call::Token, None, None, make, true)
            .await?
            .0;
        let status = resp.status();
        let body =
            String::from_utf8_lossy(&read_capped(resp, MAX_ERROR_BODY, "token response").await?)
                .into_owned();
        Ok(TokenReply { status, body })
    }

    /// The OAuth `error` code of a refusal (`invalid_grant`, ...).
    fn error_code(&self) -> Option<String> {
        serde_json::from_str::<Value>(&self.body)
            .ok()
            .and_then(|v| v.get("error").and_then(Value::as_str).map(str::to_string))
    }

    /// A success's JSON and its non-empty `access_token`.
    fn granted(&self) -> Result<(Value, String), VendorError> {
        let v: Value = serde_json::from_str(&self.body)
            .map_err(|e| VendorError::Decode(format!("token response is not JSON: {e}")))?;
        let token = v
            .get("access_token")
            .and_then(Value::as_str)
            .filter(|t| !t.is_empty())
            .ok_or_else(|| VendorError::Decode("token response has no access_token".into()))?
            .to_string();
        Ok((v, token))
    }
}

fn redact(msg: &str, secrets: &[&SecretValue]) -> String {
    let mut out = msg.to_string();
    for s in secrets {
        // Very short values would blank out ordinary words.
        if s.expose().len() >= 4 {
            out = out.replace(s.expose(), "***");
        }
    }
    out
}

/// The longest token lifetime believed.
const MAX_TOKEN_LIFETIME_SECS: f64 = 86_400.0;

/// When a token expires, from an OAuth token response.
///
/// Accepts `expires_in` (seconds, number or numeric string), `expires_at`
/// (RFC 3339, or `%Y-%m-%dT%H:%M:%S%z` as Greenhouse is also seen to send), and
/// `expires` (Greenhouse's transition endpoint: either of the above).
pub fn token_expiry(body: &Value, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
    let secs = |v: &Value| -> Option<f64> {
        match v {
            Value::Number(n) => n.as_f64(),
            Value::String(s) => s.trim().parse::<f64>().ok(),
            _ => None,
        }
        .filter(|n| n.is_finite() && *n >= 0.0)
    };
    let at = |v: &Value| v.as_str().and_then(parse_expiry);
    // Capped: a token "valid for 1e16 s" is refreshed like one valid for a day.
    let from_secs = |s: f64| {
        let ms = (s.min(MAX_TOKEN_LIFETIME_SECS) * 1000.0) as i64;
        now.checked_add_signed(chrono::Duration::milliseconds(ms))
            .unwrap_or(now)
    };
    let latest = from_secs(MAX_TOKEN_LIFETIME_SECS);
    if let Some(s) = body.get("expires_in").and_then(secs) {
        return Some(from_secs(s));
    }
    if let Some(t) = body.get("expires_at").and_then(at) {
        return Some(t.min(latest));
    }
    let e = body.get("expires")?;
    secs(e)
        .map(from_secs)
        .or_else(|| at(e).map(|t| t.min(latest)))
}

/// An absolute expiry time in the formats token endpoints use.
pub fn parse_expiry(s: &str) -> Option<DateTime<Utc>> {
    let s = s.trim();
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Some(t.with_timezone(&Utc));
    }
    [
        "%Y-%m-%dT%H:%M:%S%z",
        "%Y-%m-%dT%H:%M:%S%.f%z",
        "%Y-%m-%d %H:%M:%S%z",
    ]
    .iter()
    .find_map(|f| DateTime::parse_from_str(s, f).ok())
    .map(|t| t.with_timezone(&Utc))
}

/// When to refresh a token that lives `lifetime`: a minute early, or a fifth
/// of the lifetime for short-lived tokens.
pub fn refresh_margin(lifetime: Duration) -> Duration {
    (lifetime / 5).min(Duration::from_secs(60))
}

/// The lifetime assumed when a token response names none; a 401 refreshes anyway.
const DEFAULT_TOKEN_LIFETIME: Duration = Duration::from_secs(3600);

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn expiry_parsing() {
        let now = Utc.with_ymd_and_hms(2026, 9, 1, 11, 0, 0).unwrap();
        let in_hour = Utc.with_ymd_and_hms(2026, 9, 1, 12, 0, 0).unwrap();
        let v = serde_json::json!({"expires_in": 3600});
        assert_eq!(token_expiry(&v, now), Some(in_hour));
        let v = serde_json::json!({"expires_in": "3600"});
        assert_eq!(token_expiry(&v, now), Some(in_hour));
        let v = serde_json::json!({"expires_at": "2026-09-01T12:00:00Z"});
        assert_eq!(token_expiry(&v, now), Some(in_hour));
        let v = serde_json::json!({"expires_at": "2026-09-01T12:00:00+0000"});
        assert_eq!(token_expiry(&v, now), Some(in_hour));
        let v = serde_json::json!({"expires_at": "2026-09-01T14:00:00.000+02:00"});
        assert_eq!(token_expiry(&v, now), Some(in_hour));
        let v = serde_json::json!({"expires": "2026-09-01T12:00:00Z"});
        assert_eq!(token_expiry(&v, now), Some(in_hour));
        // expires_in wins over expires_at when both are present.
        let v = serde_json::json!({"expires_in": 60, "expires_at": "2030-01-01T00:00:00Z"});
        assert_eq!(
            token_expiry(&v, now),
            Some(now + chrono::Duration::seconds(60))
        );
        assert_eq!(
            token_expiry(&serde_json::json!({"expires_at": "tomorrow"}), now),
            None
        );
        assert_eq!(token_expiry(&serde_json::json!({}), now), None);

        assert_eq!(
            refresh_margin(Duration::from_secs(3600)),
            Duration::from_secs(60)
        );
        assert_eq!(
            refresh_margin(Duration::from_secs(10)),
            Duration::from_secs(2)
        );
    }

    #[test]
    fn absurd_token_lifetimes_are_capped_not_a_panic() {
        let now = Utc::now();
        let day = chrono::Duration::seconds(86_400);
        for body in [
            serde_json::json!({"expires_in": 1e16}),
            serde_json::json!({"expires_in": "1e300"}),
            serde_json::json!({"expires_at": "9999-12-31T23:59:59Z"}),
            serde_json::json!({"expires": 1e16}),
        ] {
            let t = token_expiry(&body, now).unwrap();
            assert!(t <= now + day && t >= now, "{body}: {t}");
        }
    }

    #[test]
    fn token_headers_default_to_bearer_and_are_sensitive() {
        for (kind, want) in [
            (None, "Bearer t-1"),
            (Some("bearer"), "Bearer t-1"),
            (Some("BEARER"), "Bearer t-1"),
            (Some("MAC"), "MAC t-1"),
        ] {
            let h = token_header(kind, "t-1").unwrap();
            assert_eq!(h.to_str().unwrap(), want);
            assert!(h.is_sensitive());
        }
        assert!(token_header(None, "bad\ntoken").is_none());
    }
}
