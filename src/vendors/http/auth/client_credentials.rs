//! OAuth 2.0 client credentials (Greenhouse).

use std::fmt;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use chrono::Utc;
use reqwest::StatusCode;
use reqwest::header::HeaderValue;
use serde_json::Value;
use tracing::Instrument;
use url::Url;

use super::{
    Auth, DEFAULT_TOKEN_LIFETIME, TokenReply, redact, refresh_margin, token_expiry, token_header,
};
use crate::vendors::http::headers::error_message;
use crate::vendors::http::transport::Transport;
use crate::vendors::{SecretValue, VendorError};

const TOKEN_REJECTED: &str = "client credentials rejected by the token endpoint";

/// OAuth 2.0 client credentials with a cached token.
///
/// The cache sits behind an async mutex held during a refresh, so concurrent
/// requests wait for one token request instead of each making their own.
pub struct ClientCredentials {
    transport: Transport,
    token_url: Url,
    client_id: SecretValue,
    client_secret: SecretValue,
    /// Form fields besides `grant_type` (e.g. Greenhouse's `sub`).
    extra: Vec<(String, String)>,
    cache: tokio::sync::Mutex<Option<CachedToken>>,
}

struct CachedToken {
    header: HeaderValue,
    refresh_at: Instant,
}

impl fmt::Debug for ClientCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientCredentials")
            .field("token_url", &self.token_url.as_str())
            .finish_non_exhaustive()
    }
}

impl ClientCredentials {
    pub fn new(
        transport: Transport,
        token_url: &str,
        client_id: SecretValue,
        client_secret: SecretValue,
        extra: Vec<(String, String)>,
    ) -> Result<Self, VendorError> {
        let token_url = Url::parse(token_url)
            .map_err(|e| VendorError::Config(format!("invalid token URL: {e}")))?;
        Ok(ClientCredentials {
            transport,
            token_url,
            client_id,
            client_secret,
            extra,
            cache: tokio::sync::Mutex::new(None),
        })
    }

    async fn fetch(&self) -> Result<CachedToken, VendorError> {
        let mut form = vec![("grant_type".to_string(), "client_credentials".to_string())];
        form.extend(self.extra.iter().cloned());
        let make = || {
            self.transport
                .client()
                .post(self.token_url.clone())
                .basic_auth(self.client_id.expose(), Some(self.client_secret.expose()))
                .header(reqwest::header::ACCEPT, "application/json")
                .form(&form)
        };
        // Token requests are idempotent; the API limiter does not cover them
        // (Greenhouse counts them in a window of their own).
        let reply = TokenReply::fetch(&self.transport, &make).await?;
        let status = reply.status;
        if !status.is_success() {
            let code = reply.error_code();
            let rejected = status == StatusCode::UNAUTHORIZED
                || matches!(
                    code.as_deref(),
                    Some("invalid_client" | "invalid_grant" | "unauthorized_client")
                );
            if rejected {
                tracing::warn!(
                    status = status.as_u16(),
                    "token endpoint rejected the client credentials"
                );
                return Err(VendorError::Auth(TOKEN_REJECTED.into()));
            }
            return Err(VendorError::Rejected {
                status: status.as_u16(),
                message: format!(
                    "token endpoint: {}",
                    self.redact(&error_message(&reply.body))
                ),
            });
        }
        let (v, token) = reply.granted()?;
        let header =
            token_header(v.get("token_type").and_then(Value::as_str), &token).ok_or_else(|| {
                VendorError::Decode("access_token is not a valid header value".into())
            })?;
        let now = Utc::now();
        let lifetime = token_expiry(&v, now)
            .map(|at| (at - now).to_std().unwrap_or(Duration::ZERO))
            .unwrap_or(DEFAULT_TOKEN_LIFETIME);
        tracing::debug!(lifetime_s = lifetime.as_secs(), "obtained access token");
        Ok(CachedToken {
            header,
            refresh_at: Instant::now() + lifetime.saturating_sub(refresh_margin(lifetime)),
        })
    }
}

#[async_trait]
impl Auth for ClientCredentials {
    async fn header(&self) -> Result<Option<HeaderValue>, VendorError> {
        let mut cache = self.cache.lock().await;
        if let Some(t) = cache.as_ref()
            && Instant::now() < t.refresh_at
        {
            return Ok(Some(t.header.clone()));
        }
        let span = tracing::debug_span!("oauth_token", url = %self.token_url);
        let t = self.fetch().instrument(span).await;
        crate::metrics::global().token_refresh(self.transport.vendor(), &t);
        let t = t?;
        let h = t.header.clone();
        *cache = Some(t);
        Ok(Some(h))
    }

    async fn invalidate(&self, rejected: Option<&HeaderValue>) -> bool {
        let mut cache = self.cache.lock().await;
        // Another request may already have replaced the rejected token.
        if cache.as_ref().map(|t| &t.header) == rejected || rejected.is_none() {
            *cache = None;
        }
        true
    }

    fn redact(&self, msg: &str) -> String {
        redact(msg, &[&self.client_id, &self.client_secret])
    }
}
