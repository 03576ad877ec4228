//! Shared HTTP for vendor clients: rate limits, retries with backoff, OAuth tokens.
//!
//! A vendor client builds requests; [`VendorHttp::send`] paces them through the
//! connection's [`RateLimiter`], adds the `Authorization` header from an [`Auth`],
//! retries what may succeed later and classifies the rest into [`VendorError`].
//! Error messages carry status codes and vendor messages, never credentials.

use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use rand::Rng;
use reqwest::header::{AUTHORIZATION, HeaderMap, RETRY_AFTER};
use reqwest::{RequestBuilder, Response, StatusCode};
use serde::Deserialize;
use tracing::{debug, warn};

use super::{SecretValue, VendorError};

/// Retry and timeout settings.
#[derive(Clone, Debug)]
pub struct HttpPolicy {
    /// Attempts for 5xx, resets and timeouts before giving up.
    pub max_attempts: u32,
    pub base_backoff: Duration,
    pub max_backoff: Duration,
    /// 429s honoured in a row before giving up.
    pub max_rate_limited: u32,
    /// The longest `Retry-After` honoured; longer ones are capped.
    pub max_retry_after: Duration,
    pub timeout: Duration,
}

impl Default for HttpPolicy {
    fn default() -> Self {
        HttpPolicy {
            max_attempts: 6,
            base_backoff: Duration::from_millis(200),
            max_backoff: Duration::from_secs(10),
            max_rate_limited: 30,
            max_retry_after: Duration::from_secs(300),
            timeout: Duration::from_secs(30),
        }
    }
}

/// Full-jitter exponential backoff: uniform in `[0, min(max, base * 2^attempt)]`.
pub fn backoff(policy: &HttpPolicy, attempt: u32) -> Duration {
    let cap = policy
        .base_backoff
        .saturating_mul(1u32 << attempt.min(16))
        .min(policy.max_backoff);
    let millis = cap.as_millis() as u64;
    Duration::from_millis(rand::thread_rng().gen_range(0..=millis))
}

/// Supplies the `Authorization` header.
#[async_trait]
pub trait Auth: Send + Sync {
    async fn header(&self, http: &reqwest::Client) -> Result<String, VendorError>;
    /// Forgets a token the vendor rejected; true when a fresh one may help.
    async fn invalidate(&self) -> bool;
}

/// A fixed `Authorization` value (API keys, account tokens).
pub struct StaticAuth(pub SecretValue);

#[async_trait]
impl Auth for StaticAuth {
    async fn header(&self, _http: &reqwest::Client) -> Result<String, VendorError> {
        Ok(self.0.expose().to_string())
    }
    async fn invalidate(&self) -> bool {
        false
    }
}

/// An access token and when it stops working.
#[derive(Clone)]
struct CachedToken {
    value: SecretValue,
    expires_at: Instant,
}

/// OAuth 2.0 client credentials with HTTP Basic client authentication.
pub struct ClientCredentials {
    token_url: String,
    client_id: SecretValue,
    client_secret: SecretValue,
    /// Extra form fields (Greenhouse's acting user `sub`).
    extra: Vec<(String, String)>,
    policy: HttpPolicy,
    /// Held across the refresh, so concurrent callers wait for one refresh.
    cache: tokio::sync::Mutex<Option<CachedToken>>,
}

/// Tokens are refreshed this long before they expire.
const REFRESH_MARGIN: Duration = Duration::from_secs(60);

impl ClientCredentials {
    pub fn new(
        token_url: String,
        client_id: SecretValue,
        client_secret: SecretValue,
        extra: Vec<(String, String)>,
        policy: HttpPolicy,
    ) -> Self {
        ClientCredentials {
            token_url,
            client_id,
            client_secret,
            extra,
            policy,
            cache: tokio::sync::Mutex::new(None),
        }
    }

    async fn fetch(&self, http: &reqwest::Client) -> Result<CachedToken, VendorError> {
        let mut form = vec![("grant_type".to_string(), "client_credentials".to_string())];
        form.extend(self.extra.iter().cloned());
        let mut attempt = 0;
        loop {
            let sent = http
                .post(&self.token_url)
                .basic_auth(self.client_id.expose(), Some(self.client_secret.expose()))
                .form(&form)
                .timeout(self.policy.timeout)
                .send()
                .await;
            let retry = match sent {
                Ok(r) if r.status().is_success() => {
                    let body: TokenResponse = r
                        .json()
                        .await
                        .map_err(|e| VendorError::Decode(format!("token response: {e}")))?;
                    return Ok(CachedToken {
                        value: SecretValue::new(format!("Bearer {}", body.access_token)),
                        expires_at: Instant::now() + body.lifetime(Utc::now()),
                    });
                }
                Ok(r)
                    if r.status().is_server_error()
                        || r.status() == StatusCode::TOO_MANY_REQUESTS =>
                {
                    format!("token endpoint answered {}", r.status())
                }
                Ok(r) => {
                    let status = r.status();
                    let msg = error_message(r).await;
                    return Err(VendorError::Auth(format!(
                        "the token endpoint rejected the client credentials ({status}): {msg}"
                    )));
                }
                Err(e) => format!("token endpoint unreachable: {}", without_url(&e)),
            };
            attempt += 1;
            if attempt >= self.policy.max_attempts {
                return Err(VendorError::Unavailable(retry));
            }
            tokio::time::sleep(backoff(&self.policy, attempt)).await;
        }
    }
}

#[async_trait]
impl Auth for ClientCredentials {
    async fn header(&self, http: &reqwest::Client) -> Result<String, VendorError> {
        let mut cache = self.cache.lock().await;
        if let Some(t) = cache.as_ref()
            && t.expires_at > Instant::now() + REFRESH_MARGIN
        {
            return Ok(t.value.expose().to_string());
        }
        debug!("requesting an access token");
        let token = self.fetch(http).await?;
        let value = token.value.expose().to_string();
        *cache = Some(token);
        Ok(value)
    }

    async fn invalidate(&self) -> bool {
        *self.cache.lock().await = None;
        true
    }
}

#[derive(Deserialize)]
struct TokenResponse {
    access_token: String,
    #[serde(default)]
    expires_in: Option<serde_json::Value>,
    #[serde(default)]
    expires_at: Option<String>,
}

impl TokenResponse {
    /// Greenhouse has been seen answering `expires_in` (seconds) or `expires_at`.
    fn lifetime(&self, now: DateTime<Utc>) -> Duration {
        if let Some(v) = &self.expires_in {
            let secs = v
                .as_u64()
                .or_else(|| v.as_str().and_then(|s| s.parse().ok()));
            if let Some(s) = secs {
                return Duration::from_secs(s);
            }
        }
        if let Some(at) = self.expires_at.as_deref().and_then(parse_time)
            && let Ok(d) = (at - now).to_std()
        {
            return d;
        }
        Duration::from_secs(3600)
    }
}

/// RFC 3339, or `%Y-%m-%dT%H:%M:%S%z` as Greenhouse's docs show.
pub fn parse_time(s: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(s)
        .or_else(|_| DateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%z"))
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

/// Paces requests of one connection: the vendor's own headers, 429 pauses and an
/// optional client-side budget.
#[derive(Default)]
pub struct RateLimiter {
    state: std::sync::Mutex<LimiterState>,
}

#[derive(Default)]
pub struct LimiterState {
    /// Requests left in the vendor's window, as last reported (decremented locally).
    remaining: Option<u64>,
    reset_at: Option<Instant>,
    blocked_until: Option<Instant>,
    budget: Option<Budget>,
}

pub struct Budget {
    limit: u32,
    window: Duration,
    started: Option<Instant>,
    used: u32,
}

impl LimiterState {
    /// Pure: how long to wait before a request at `now`, or `None` after counting
    /// the request as sent.
    pub fn take(&mut self, now: Instant) -> Option<Duration> {
        let mut until: Option<Instant> = self.blocked_until.filter(|t| *t > now);
        if self.remaining == Some(0)
            && let Some(reset) = self.reset_at.filter(|t| *t > now)
        {
            until = until.max(Some(reset));
        }
        if let Some(b) = self.budget.as_mut() {
            match b.started {
                Some(st) if now < st + b.window => {
                    if b.used >= b.limit {
                        until = until.max(Some(st + b.window));
                    }
                }
                _ => {
                    b.started = Some(now);
                    b.used = 0;
                }
            }
        }
        if let Some(t) = until {
            return Some(t - now);
        }
        if let Some(b) = self.budget.as_mut() {
            b.used += 1;
        }
        if let Some(r) = self.remaining.as_mut() {
            *r = r.saturating_sub(1);
        }
        None
    }
}

/// Rate-limit headers as vendors send them.
#[derive(Debug, PartialEq)]
pub struct RateHeaders {
    pub remaining: Option<u64>,
    /// Seconds until the window resets.
    pub reset_in: Option<f64>,
}

/// Reads `X-RateLimit-*` (Greenhouse) or `X-Rate-Limit-*` (Workable). `Reset` is an
/// epoch second when large, else seconds from now.
pub fn rate_headers(h: &HeaderMap, now_epoch: f64) -> RateHeaders {
    let get = |names: [&str; 2]| {
        names
            .iter()
            .find_map(|n| h.get(*n))
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<f64>().ok())
    };
    let remaining = get(["x-ratelimit-remaining", "x-rate-limit-remaining"]).map(|v| v as u64);
    let reset_in = get(["x-ratelimit-reset", "x-rate-limit-reset"]).map(|r| {
        if r > 1_000_000_000.0 {
            (r - now_epoch).max(0.0)
        } else {
            r
        }
    });
    RateHeaders {
        remaining,
        reset_in,
    }
}

/// `Retry-After` in seconds (the HTTP-date form is rare from these vendors).
pub fn retry_after(h: &HeaderMap) -> Option<Duration> {
    h.get(RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<f64>().ok())
        .map(|s| Duration::from_secs_f64(s.max(0.0)))
}

fn now_epoch() -> f64 {
    Utc::now().timestamp_millis() as f64 / 1000.0
}

impl RateLimiter {
    pub fn new(budget: Option<(u32, Duration)>) -> Self {
        RateLimiter {
            state: std::sync::Mutex::new(LimiterState {
                budget: budget.map(|(limit, window)| Budget {
                    limit: limit.max(1),
                    window,
                    started: None,
                    used: 0,
                }),
                ..Default::default()
            }),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, LimiterState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Waits until a request may be sent, and counts it.
    pub async fn acquire(&self) {
        loop {
            let wait = self.lock().take(Instant::now());
            match wait {
                None => return,
                Some(wait) => {
                    debug!(wait_ms = wait.as_millis() as u64, "rate limit: waiting");
                    tokio::time::sleep(wait).await;
                }
            }
        }
    }

    /// Takes in the vendor's view of the window from a response.
    pub fn observe(&self, headers: &HeaderMap) {
        let h = rate_headers(headers, now_epoch());
        let mut s = self.lock();
        if let Some(r) = h.remaining {
            s.remaining = Some(r);
        }
        if let Some(secs) = h.reset_in {
            s.reset_at = Some(Instant::now() + Duration::from_secs_f64(secs));
        }
    }

    /// Holds every request back for `d` (after a 429).
    pub fn block_for(&self, d: Duration) {
        let mut s = self.lock();
        let until = Instant::now() + d;
        s.blocked_until = s.blocked_until.max(Some(until));
    }
}

/// One connection's HTTP: a shared client, its auth, its rate limiter.
pub struct VendorHttp {
    pub client: reqwest::Client,
    auth: Arc<dyn Auth>,
    limiter: RateLimiter,
    policy: HttpPolicy,
}

impl VendorHttp {
    pub fn new(
        auth: Arc<dyn Auth>,
        budget: Option<(u32, Duration)>,
        policy: HttpPolicy,
    ) -> Result<Self, VendorError> {
        let client = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(10))
            .pool_max_idle_per_host(16)
            .user_agent(concat!("ats-operator/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| VendorError::Config(format!("HTTP client: {e}")))?;
        Ok(VendorHttp {
            client,
            auth,
            limiter: RateLimiter::new(budget),
            policy,
        })
    }

    pub fn policy(&self) -> &HttpPolicy {
        &self.policy
    }

    /// Sends the request `make` builds (called again for each retry) and returns a
    /// 2xx response, or the classified error.
    pub async fn send(
        &self,
        make: impl Fn(&reqwest::Client) -> RequestBuilder,
    ) -> Result<Response, VendorError> {
        self.send_inner(make, true).await
    }

    /// For requests that are not idempotent (creating a note): a request lost in
    /// transit may have landed, so it is not retried blindly; the caller's
    /// recovery checks the vendor first.
    pub async fn send_once(
        &self,
        make: impl Fn(&reqwest::Client) -> RequestBuilder,
    ) -> Result<Response, VendorError> {
        self.send_inner(make, false).await
    }

    async fn send_inner(
        &self,
        make: impl Fn(&reqwest::Client) -> RequestBuilder,
        idempotent: bool,
    ) -> Result<Response, VendorError> {
        let mut failures = 0u32;
        let mut limited = 0u32;
        let mut refreshed = false;
        loop {
            self.limiter.acquire().await;
            let auth = self.auth.header(&self.client).await?;
            let sent = make(&self.client)
                .header(AUTHORIZATION, auth)
                .timeout(self.policy.timeout)
                .send()
                .await;
            let resp = match sent {
                Ok(r) => r,
                Err(e) => {
                    failures += 1;
                    let msg = without_url(&e);
                    if failures >= self.policy.max_attempts || !idempotent {
                        return Err(VendorError::Unavailable(msg));
                    }
                    warn!(attempt = failures, error = %msg, "request failed; retrying");
                    tokio::time::sleep(backoff(&self.policy, failures)).await;
                    continue;
                }
            };
            self.limiter.observe(resp.headers());
            let status = resp.status();
            if status.is_success() {
                return Ok(resp);
            }
            match status {
                StatusCode::UNAUTHORIZED => {
                    if !refreshed && self.auth.invalidate().await {
                        refreshed = true;
                        continue;
                    }
                    let msg = error_message(resp).await;
                    return Err(VendorError::Auth(format!("401 Unauthorized: {msg}")));
                }
                StatusCode::FORBIDDEN => {
                    let msg = error_message(resp).await;
                    return Err(VendorError::Forbidden(format!("403 Forbidden: {msg}")));
                }
                StatusCode::TOO_MANY_REQUESTS => {
                    limited += 1;
                    let wait = retry_after(resp.headers())
                        .or_else(|| {
                            rate_headers(resp.headers(), now_epoch())
                                .reset_in
                                .map(Duration::from_secs_f64)
                        })
                        .unwrap_or(Duration::from_secs(1))
                        .min(self.policy.max_retry_after);
                    if limited > self.policy.max_rate_limited {
                        return Err(VendorError::RateLimited { retry_after: wait });
                    }
                    debug!(
                        wait_ms = wait.as_millis() as u64,
                        "429: honouring Retry-After"
                    );
                    self.limiter.block_for(wait);
                }
                s if s.is_server_error() => {
                    failures += 1;
                    if failures >= self.policy.max_attempts {
                        let msg = error_message(resp).await;
                        return Err(VendorError::Unavailable(format!("{s}: {msg}")));
                    }
                    warn!(attempt = failures, status = %s, "server error; retrying");
                    tokio::time::sleep(backoff(&self.policy, failures)).await;
                }
                s => {
                    let msg = error_message(resp).await;
                    return Err(VendorError::Rejected {
                        status: s.as_u16(),
                        message: msg,
                    });
                }
            }
        }
    }
}

/// reqwest's error text without the URL (which may carry query parameters).
fn without_url(e: &reqwest::Error) -> String {
    let kind = if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "could not connect"
    } else if e.is_body() || e.is_decode() {
        "broken response body"
    } else {
        "request failed"
    };
    match e.url() {
        Some(u) => format!("{kind} ({}{})", u.host_str().unwrap_or(""), u.path()),
        None => kind.to_string(),
    }
}

/// The vendor's message from an error body: `message`, `error_description`,
/// `error` or `errors`, else the text, trimmed.
pub async fn error_message(resp: Response) -> String {
    let text = resp.text().await.unwrap_or_default();
    let from_json = serde_json::from_str::<serde_json::Value>(&text)
        .ok()
        .and_then(|v| {
            ["message", "error_description", "error", "errors"]
                .iter()
                .find_map(|k| match &v[*k] {
                    serde_json::Value::Null => None,
                    serde_json::Value::String(s) => Some(s.clone()),
                    other => Some(other.to_string()),
                })
        });
    let mut msg = from_json.unwrap_or(text);
    if msg.len() > 300 {
        let mut cut = 300;
        while !msg.is_char_boundary(cut) {
            cut -= 1;
        }
        msg.truncate(cut);
        msg.push('…');
    }
    msg
}

/// The `rel="next"` URL of a `Link` header.
pub fn next_link(h: &HeaderMap) -> Option<String> {
    for value in h.get_all(reqwest::header::LINK) {
        let Ok(value) = value.to_str() else { continue };
        for part in value.split(',') {
            let mut pieces = part.split(';');
            let url = pieces.next()?.trim();
            let is_next = pieces.any(|p| {
                let p = p.trim().replace(' ', "");
                p == "rel=\"next\"" || p == "rel=next"
            });
            if is_next && url.starts_with('<') && url.ends_with('>') {
                return Some(url[1..url.len() - 1].to_string());
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    #[test]
    fn backoff_is_bounded() {
        let p = HttpPolicy::default();
        for attempt in 0..20 {
            assert!(backoff(&p, attempt) <= p.max_backoff);
        }
        assert!(backoff(&p, 1) <= Duration::from_millis(400));
    }

    #[test]
    fn link_next() {
        let mut h = HeaderMap::new();
        h.insert(
            reqwest::header::LINK,
            HeaderValue::from_static(
                "<https://x/v3/jobs?cursor=abc>; rel=\"next\", <https://x/v3/jobs?cursor=zz>; rel=\"prev\"",
            ),
        );
        assert_eq!(
            next_link(&h).as_deref(),
            Some("https://x/v3/jobs?cursor=abc")
        );
        h.insert(
            reqwest::header::LINK,
            HeaderValue::from_static("<https://x/v3/jobs?cursor=zz>; rel=\"prev\""),
        );
        assert_eq!(next_link(&h), None);
        assert_eq!(next_link(&HeaderMap::new()), None);
    }

    #[test]
    fn rate_headers_both_spellings() {
        let mut h = HeaderMap::new();
        h.insert("X-RateLimit-Remaining", HeaderValue::from_static("7"));
        h.insert("X-RateLimit-Reset", HeaderValue::from_static("1000000030"));
        assert_eq!(
            rate_headers(&h, 1_000_000_000.0),
            RateHeaders {
                remaining: Some(7),
                reset_in: Some(30.0)
            }
        );
        let mut w = HeaderMap::new();
        w.insert("X-Rate-Limit-Remaining", HeaderValue::from_static("0"));
        w.insert("X-Rate-Limit-Reset", HeaderValue::from_static("4"));
        assert_eq!(rate_headers(&w, 0.0).reset_in, Some(4.0));
        let mut r = HeaderMap::new();
        r.insert(RETRY_AFTER, HeaderValue::from_static("3"));
        assert_eq!(retry_after(&r), Some(Duration::from_secs(3)));
    }

    #[test]
    fn token_lifetimes() {
        let now = parse_time("2026-09-01T11:00:00Z").unwrap();
        let t: TokenResponse =
            serde_json::from_str(r#"{"access_token":"a","expires_in":3600}"#).unwrap();
        assert_eq!(t.lifetime(now), Duration::from_secs(3600));
        let t: TokenResponse =
            serde_json::from_str(r#"{"access_token":"a","expires_at":"2026-09-01T12:00:00+0000"}"#)
                .unwrap();
        assert_eq!(t.lifetime(now), Duration::from_secs(3600));
        let t: TokenResponse =
            serde_json::from_str(r#"{"access_token":"a","expires_at":"2026-09-01T11:30:00Z"}"#)
                .unwrap();
        assert_eq!(t.lifetime(now), Duration::from_secs(1800));
    }

    #[test]
    fn budget_and_vendor_window() {
        let l = RateLimiter::new(Some((2, Duration::from_secs(30))));
        let mut s = l.lock();
        let t0 = Instant::now();
        assert_eq!(s.take(t0), None);
        assert_eq!(s.take(t0), None);
        assert_eq!(
            s.take(t0 + Duration::from_secs(10)),
            Some(Duration::from_secs(20))
        );
        assert_eq!(s.take(t0 + Duration::from_secs(30)), None);
        // The vendor says none remain until its reset.
        s.budget = None;
        s.remaining = Some(0);
        s.reset_at = Some(t0 + Duration::from_secs(40));
        assert_eq!(
            s.take(t0 + Duration::from_secs(35)),
            Some(Duration::from_secs(5))
        );
        assert_eq!(s.take(t0 + Duration::from_secs(40)), None);
        // A 429 blocks everything until its Retry-After.
        s.blocked_until = Some(t0 + Duration::from_secs(50));
        assert_eq!(
            s.take(t0 + Duration::from_secs(45)),
            Some(Duration::from_secs(5))
        );
    }
}
