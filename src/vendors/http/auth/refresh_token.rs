//! OAuth 2.0 with rotating refresh tokens (Lever), saved under the
//! connection's credential lock.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use reqwest::StatusCode;
use reqwest::header::HeaderValue;
use serde_json::Value;
use tracing::Instrument;
use url::Url;

use super::{
    Auth, DEFAULT_TOKEN_LIFETIME, TokenReply, parse_expiry, redact, refresh_margin, token_expiry,
    token_header,
};
use crate::vendors::http::headers::error_message;
use crate::vendors::http::transport::Transport;
use crate::vendors::{CredentialLock, CredentialStore, SecretValue, VendorError};

/// Logical credential names [`RefreshTokenAuth`] reads from and saves to its store.
pub const REFRESH_TOKEN: &str = "refreshToken";
pub const ACCESS_TOKEN: &str = "accessToken";
pub const ACCESS_TOKEN_EXPIRES_AT: &str = "accessTokenExpiresAt";

/// A stored access token is adopted only with at least this much life left;
/// anything shorter would be refreshed again almost at once.
const ADOPT_MIN_REMAINING: Duration = Duration::from_secs(120);

const REFRESH_REJECTED: &str = "the token endpoint rejected the refresh token (unused for 90 days, \
revoked, or already used); re-authorize the app and put the new refresh token in the connection's Secret";

const CLIENT_REJECTED: &str = "the token endpoint rejected the OAuth client id or secret";

/// OAuth 2.0 refresh-token grant where every refresh returns a new refresh
/// token and kills the old one at once (Lever).
///
/// The refresh token is shared by every worker and operator replica of the
/// connection, so a refresh happens under the [`CredentialStore`] lock: load
/// (someone may have refreshed already: adopt their access token), refresh,
/// save the new refresh token before the access token is used, release. An
/// async mutex keeps this client's own requests to one refresh at a time.
pub struct RefreshTokenAuth {
    transport: Transport,
    token_url: Url,
    client_id: SecretValue,
    client_secret: SecretValue,
    store: Arc<dyn CredentialStore>,
    state: tokio::sync::Mutex<RefreshState>,
    /// The current tokens, for [`Auth::redact`] (which cannot wait for `state`).
    secrets: Mutex<Vec<SecretValue>>,
}

struct RefreshState {
    refresh_token: SecretValue,
    access: Option<AccessToken>,
    /// The access token the API last refused: never adopted from the store again.
    rejected: Option<SecretValue>,
    /// Rotated credentials whose save failed. The in-memory refresh token is
    /// then the only live one; the save is retried on every call until it lands.
    unsaved: Option<BTreeMap<String, SecretValue>>,
}

struct AccessToken {
    token: SecretValue,
    header: HeaderValue,
    expires_at: DateTime<Utc>,
    refresh_at: Instant,
}

impl AccessToken {
    fn new(
        token: SecretValue,
        token_type: Option<&str>,
        expires_at: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<Self, VendorError> {
        let header = token_header(token_type, token.expose()).ok_or_else(|| {
            VendorError::Decode("access token is not a valid header value".into())
        })?;
        let remaining = (expires_at - now).to_std().unwrap_or(Duration::ZERO);
        Ok(AccessToken {
            token,
            header,
            expires_at,
            refresh_at: Instant::now() + remaining.saturating_sub(refresh_margin(remaining)),
        })
    }

    /// A token from the store (or the Secret), when it has comfortably long to live.
    fn adoptable(
        creds: &BTreeMap<String, SecretValue>,
        rejected: Option<&SecretValue>,
        now: DateTime<Utc>,
    ) -> Option<AccessToken> {
        let token = creds.get(ACCESS_TOKEN).filter(|t| !t.expose().is_empty())?;
        if rejected == Some(token) {
            return None;
        }
        let expires_at = parse_expiry(creds.get(ACCESS_TOKEN_EXPIRES_AT)?.expose())?;
        if (expires_at - now).to_std().ok()? < ADOPT_MIN_REMAINING {
            return None;
        }
        AccessToken::new(token.clone(), None, expires_at, now).ok()
    }
}

/// What a refresh returned.
struct Rotated {
    access: AccessToken,
    /// `None` when the server kept the old refresh token.
    refresh_token: Option<SecretValue>,
}

impl fmt::Debug for RefreshTokenAuth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RefreshTokenAuth")
            .field("token_url", &self.token_url.as_str())
            .finish_non_exhaustive()
    }
}

impl RefreshTokenAuth {
    /// `credentials` are the connection's as resolved (`refreshToken`, and a
    /// cached `accessToken`/`accessTokenExpiresAt` that is used while it lives).
    pub fn new(
        transport: Transport,
        token_url: &str,
        client_id: SecretValue,
        client_secret: SecretValue,
        credentials: &BTreeMap<String, SecretValue>,
        store: Arc<dyn CredentialStore>,
    ) -> Result<Self, VendorError> {
        let token_url = Url::parse(token_url)
            .map_err(|e| VendorError::Config(format!("invalid token URL: {e}")))?;
        let refresh_token = credentials
            .get(REFRESH_TOKEN)
            .filter(|t| !t.expose().is_empty())
            .cloned()
            .ok_or_else(|| VendorError::Config(format!("credential {REFRESH_TOKEN} is not set")))?;
        let access = AccessToken::adoptable(credentials, None, Utc::now());
        let secrets = [
            Some(refresh_token.clone()),
            access.as_ref().map(|a| a.token.clone()),
        ]
        .into_iter()
        .flatten()
        .collect();
        Ok(RefreshTokenAuth {
            transport,
            token_url,
            client_id,
            client_secret,
            store,
            state: tokio::sync::Mutex::new(RefreshState {
                refresh_token,
                access,
                rejected: None,
                unsaved: None,
            }),
            secrets: Mutex::new(secrets),
        })
    }

    fn remember_secrets(&self, st: &RefreshState) {
        let mut s = self.secrets.lock().unwrap_or_else(|e| e.into_inner());
        s.clear();
        s.push(st.refresh_token.clone());
        if let Some(a) = &st.access {
            s.push(a.token.clone());
        }
    }

    /// Retries a save that failed earlier.
    async fn save_pending(&self, st: &mut RefreshState) {
        let Some(updates) = st.unsaved.take() else {
            return;
        };
        let saved = match self.store.lock().await {
            Ok(mut lock) => {
                let r = lock.save(&updates).await;
                lock.release().await;
                r
            }
            Err(e) => Err(e),
        };
        match saved {
            Ok(()) => tracing::info!("saved the rotated refresh token after an earlier failure"),
            Err(e) => {
                tracing::error!(error = %e, "saving the rotated refresh token failed again; it lives only in memory");
                st.unsaved = Some(updates);
            }
        }
    }

    /// Obtains a fresh access token under the store lock.
    async fn refresh(&self, st: &mut RefreshState) -> Result<(), VendorError> {
        let mut lock = self.store.lock().await?;
        let result = self.refresh_locked(st, lock.as_mut()).await;
        lock.release().await;
        self.remember_secrets(st);
        result
    }

    async fn refresh_locked(
        &self,
        st: &mut RefreshState,
        lock: &mut dyn CredentialLock,
    ) -> Result<(), VendorError> {
        if let Some(updates) = st.unsaved.take() {
            // Ours is the only live refresh token: the store's is dead.
            if let Err(e) = lock.save(&updates).await {
                tracing::error!(error = %e, "saving the rotated refresh token failed again; it lives only in memory");
                st.unsaved = Some(updates);
            }
        } else {
            let stored = lock.load().await?;
            if let Some(a) = AccessToken::adoptable(&stored, st.rejected.as_ref(), Utc::now()) {
                // Another worker or replica refreshed already.
                tracing::debug!("adopted the access token another holder obtained");
                st.access = Some(a);
                if let Some(r) = stored.get(REFRESH_TOKEN).filter(|r| !r.expose().is_empty()) {
                    st.refresh_token = r.clone();
                }
                return Ok(());
            }
            // The stored refresh token is the newest (someone may have rotated it).
            if let Some(r) = stored.get(REFRESH_TOKEN).filter(|r| !r.expose().is_empty()) {
                st.refresh_token = r.clone();
            }
        }
        let rotated = self.fetch(&st.refresh_token).await;
        crate::metrics::global().token_refresh(self.transport.vendor(), &rotated);
        let rotated = rotated?;
        if let Some(r) = rotated.refresh_token {
            st.refresh_token = r;
        }
        let a = rotated.access;
        let updates = BTreeMap::from([
            (REFRESH_TOKEN.to_string(), st.refresh_token.clone()),
            (ACCESS_TOKEN.to_string(), a.token.clone()),
            (
                ACCESS_TOKEN_EXPIRES_AT.to_string(),
                SecretValue::new(
                    a.expires_at
                        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                ),
            ),
        ]);
        st.access = Some(a);
        st.rejected = None;
        // Saved before the access token is used: the old refresh token is dead.
        match lock.save(&updates).await {
            Ok(()) => {
                tracing::info!("refreshed the access token and saved the rotated refresh token")
            }
            Err(e) => {
                tracing::error!(error = %e, "saving the rotated refresh token failed; keeping it in memory and retrying on the next request");
                st.unsaved = Some(updates);
            }
        }
        Ok(())
    }

    async fn fetch(&self, refresh_token: &SecretValue) -> Result<Rotated, VendorError> {
        let form = [
            ("grant_type", "refresh_token"),
            ("client_id", self.client_id.expose()),
            ("client_secret", self.client_secret.expose()),
            ("refresh_token", refresh_token.expose()),
        ];
        let make = || {
            self.transport
                .client()
                .post(self.token_url.clone())
                .header(reqwest::header::ACCEPT, "application/json")
                .form(&form)
        };
        // Retried like any request: a 5xx or a reset most likely never rotated
        // anything, and a lost rotation cannot be recovered either way.
        let reply = TokenReply::fetch(&self.transport, &make).await?;
        let status = reply.status;
        if !status.is_success() {
            let code = reply.error_code();
            let auth_status = matches!(
                status,
                StatusCode::BAD_REQUEST | StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN
            );
            if auth_status && code.as_deref() == Some("invalid_grant") {
                tracing::warn!(
                    status = status.as_u16(),
                    "token endpoint rejected the refresh token"
                );
                return Err(VendorError::ReauthorizationRequired(
                    REFRESH_REJECTED.into(),
                ));
            }
            if status == StatusCode::UNAUTHORIZED
                || matches!(
                    code.as_deref(),
                    Some("invalid_client" | "unauthorized_client")
                )
            {
                tracing::warn!(
                    status = status.as_u16(),
                    "token endpoint rejected the client credentials"
                );
                return Err(VendorError::Auth(CLIENT_REJECTED.into()));
            }
            let message = format!(
                "token endpoint: {}",
                redact(
                    &error_message(&reply.body),
                    &[&self.client_id, &self.client_secret, refresh_token]
                )
            );
            return Err(match status {
                StatusCode::FORBIDDEN => VendorError::Forbidden(message),
                s => VendorError::Rejected {
                    status: s.as_u16(),
                    message,
                },
            });
        }
        let (v, token) = reply.granted()?;
        let now = Utc::now();
        let lifetime = chrono::Duration::from_std(DEFAULT_TOKEN_LIFETIME)
            .unwrap_or(chrono::Duration::hours(1));
        let expires_at = token_expiry(&v, now).unwrap_or(now + lifetime);
        let access = AccessToken::new(
            SecretValue::new(token),
            v.get("token_type").and_then(Value::as_str),
            expires_at,
            now,
        )?;
        tracing::debug!(
            lifetime_s = (expires_at - now).num_seconds(),
            "obtained access token"
        );
        Ok(Rotated {
            access,
            refresh_token: v
                .get("refresh_token")
                .and_then(Value::as_str)
                .filter(|t| !t.is_empty())
                .map(SecretValue::new),
        })
    }
}

#[async_trait]
impl Auth for RefreshTokenAuth {
    async fn header(&self) -> Result<Option<HeaderValue>, VendorError> {
        let mut st = self.state.lock().await;
        if st.unsaved.is_some() {
            self.save_pending(&mut st).await;
        }
        if let Some(a) = &st.access
            && Instant::now() < a.refresh_at
        {
            return Ok(Some(a.header.clone()));
        }
        let span = tracing::debug_span!("oauth_refresh", url = %self.token_url);
        self.refresh(&mut st).instrument(span).await?;
        Ok(st.access.as_ref().map(|a| a.header.clone()))
    }

    async fn invalidate(&self, rejected: Option<&HeaderValue>) -> bool {
        let mut st = self.state.lock().await;
        // Another request may already have replaced the rejected token.
        let current = st.access.as_ref().map(|a| &a.header);
        if (rejected.is_none() || current == rejected)
            && let Some(a) = st.access.take()
        {
            st.rejected = Some(a.token);
        }
        true
    }

    fn redact(&self, msg: &str) -> String {
        let tokens = self.secrets.lock().unwrap_or_else(|e| e.into_inner());
        let mut all: Vec<&SecretValue> = vec![&self.client_id, &self.client_secret];
        all.extend(tokens.iter());
        redact(msg, &all)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn stored_access_tokens_are_adopted_only_when_fresh_and_not_rejected() {
        let now = Utc.with_ymd_and_hms(2026, 9, 1, 11, 0, 0).unwrap();
        let creds = |token: &str, expires: &str| {
            BTreeMap::from([
                (ACCESS_TOKEN.to_string(), SecretValue::new(token)),
                (
                    ACCESS_TOKEN_EXPIRES_AT.to_string(),
                    SecretValue::new(expires),
                ),
            ])
        };
        let fresh = creds("tok-1", "2026-09-01T11:30:00Z");
        let a = AccessToken::adoptable(&fresh, None, now).expect("adopted");
        assert_eq!(a.header.to_str().unwrap(), "Bearer tok-1");
        assert!(a.header.is_sensitive());
        // The token the API just refused is not taken back.
        assert!(AccessToken::adoptable(&fresh, Some(&SecretValue::new("tok-1")), now).is_none());
        // About to expire, unparseable or missing: refresh instead.
        assert!(
            AccessToken::adoptable(&creds("tok-1", "2026-09-01T11:01:00Z"), None, now).is_none()
        );
        assert!(AccessToken::adoptable(&creds("tok-1", "soon"), None, now).is_none());
        assert!(AccessToken::adoptable(&creds("", "2026-09-01T12:00:00Z"), None, now).is_none());
        assert!(AccessToken::adoptable(&BTreeMap::new(), None, now).is_none());
    }
}
