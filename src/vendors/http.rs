//! Shared HTTP for vendor clients: rate limits, retries with backoff, OAuth tokens.
//!
//! A vendor client holds one [`VendorHttp`] per connection. It builds requests
//! (with a closure, so a retry can rebuild them) and gets back a successful
//! response or a classified [`VendorError`]; everything between — the
//! `Authorization` header from an [`Auth`], the shared [`RateLimiter`],
//! `Retry-After`, backoff with jitter, the one token refresh after a 401 — is
//! done here, so each vendor folder only knows its own paths and payloads.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use chrono::{DateTime, Utc};
use rand::Rng;
use reqwest::header::{AUTHORIZATION, HeaderMap, HeaderValue, RETRY_AFTER};
use reqwest::{RequestBuilder, Response, StatusCode};
use serde::de::DeserializeOwned;
use serde_json::Value;
use tracing::Instrument;
use url::Url;

use super::{CredentialLock, CredentialStore, SecretValue, VendorError};

// ---------------------------------------------------------------------------
// Retry policy and backoff

/// How hard a request is retried.
#[derive(Clone, Debug, PartialEq)]
pub struct RetryPolicy {
    /// Backoff base: the first retry waits up to this long.
    pub base: Duration,
    /// Backoff ceiling for one wait.
    pub cap: Duration,
    /// Attempts in total for 5xx, resets and timeouts.
    pub max_attempts: u32,
    /// A `Retry-After` longer than this is not waited out; the caller gets `RateLimited`.
    pub max_retry_after: Duration,
    /// How many 429s one request waits out before giving up.
    pub rate_limit_retries: u32,
    /// The wait after a 429 without a usable `Retry-After`.
    pub default_retry_after: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            base: Duration::from_millis(200),
            cap: Duration::from_secs(10),
            max_attempts: 6,
            max_retry_after: Duration::from_secs(300),
            rate_limit_retries: 10,
            default_retry_after: Duration::from_secs(1),
        }
    }
}

impl RetryPolicy {
    /// The largest wait before retry number `retry` (0-based): `min(cap, base * 2^retry)`.
    pub fn backoff_ceiling(&self, retry: u32) -> Duration {
        let factor = 1u32.checked_shl(retry.min(31)).unwrap_or(u32::MAX);
        self.base.saturating_mul(factor).min(self.cap)
    }

    /// "Full jitter": uniform in `[0, ceiling]`, so clients that failed together
    /// do not retry together.
    pub fn backoff(&self, retry: u32) -> Duration {
        full_jitter(self.backoff_ceiling(retry), &mut rand::thread_rng())
    }
}

pub fn full_jitter(ceiling: Duration, rng: &mut impl Rng) -> Duration {
    let ms = u64::try_from(ceiling.as_millis()).unwrap_or(u64::MAX);
    Duration::from_millis(rng.gen_range(0..=ms))
}

// ---------------------------------------------------------------------------
// Header parsing

/// The longest wait a vendor's header can ask for; a larger one (or `1e20`)
/// is clamped, never trusted into a panic or a year-long stall.
pub const MAX_VENDOR_WAIT: Duration = Duration::from_secs(3600);

/// Seconds from a vendor, clamped to `0..=MAX_VENDOR_WAIT`.
fn clamped_secs(secs: f64) -> Duration {
    if !secs.is_finite() || secs <= 0.0 {
        return Duration::ZERO;
    }
    Duration::from_secs_f64(secs.min(MAX_VENDOR_WAIT.as_secs_f64()))
}

/// `Retry-After` as delay-seconds or an HTTP date, at most [`MAX_VENDOR_WAIT`].
pub fn retry_after(headers: &HeaderMap, now: DateTime<Utc>) -> Option<Duration> {
    let v = headers.get(RETRY_AFTER)?.to_str().ok()?.trim();
    if let Ok(secs) = v.parse::<f64>() {
        return (secs.is_finite() && secs >= 0.0).then(|| clamped_secs(secs));
    }
    let at = DateTime::parse_from_rfc2822(v).ok()?.with_timezone(&Utc);
    Some(
        (at - now)
            .to_std()
            .unwrap_or(Duration::ZERO)
            .min(MAX_VENDOR_WAIT),
    )
}

/// What a response said about the vendor's rate-limit window.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RateLimitInfo {
    pub limit: Option<u32>,
    pub remaining: u32,
    /// Until the window resets, when the vendor said.
    pub reset_in: Option<Duration>,
}

/// Epoch values are at least this; smaller `Reset` values are seconds from now.
const EPOCH_THRESHOLD: f64 = 1_000_000_000.0;

/// Reads `X-RateLimit-Limit/Remaining/Reset` (Greenhouse) or the
/// `X-Rate-Limit-*` spelling (Workable). `None` without a `Remaining`.
pub fn rate_limit_info(headers: &HeaderMap, now: DateTime<Utc>) -> Option<RateLimitInfo> {
    let get = |suffix: &str| -> Option<f64> {
        [
            format!("x-ratelimit-{suffix}"),
            format!("x-rate-limit-{suffix}"),
        ]
        .iter()
        .find_map(|name| headers.get(name.as_str()))
        .and_then(|v| v.to_str().ok())
        .and_then(|s| s.trim().parse::<f64>().ok())
        .filter(|n| n.is_finite() && *n >= 0.0)
    };
    let remaining = get("remaining")?;
    let reset_in = get("reset").map(|r| {
        if r >= EPOCH_THRESHOLD {
            let now_s = now.timestamp() as f64 + f64::from(now.timestamp_subsec_millis()) / 1000.0;
            clamped_secs(r - now_s)
        } else {
            clamped_secs(r)
        }
    });
    Some(RateLimitInfo {
        // `as` saturates: 1e25 is u32::MAX, not a panic.
        limit: get("limit").map(|l| l as u32),
        remaining: remaining as u32,
        reset_in,
    })
}

/// The `rel="next"` target of `Link` headers, if any.
pub fn next_link(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(reqwest::header::LINK)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|v| link_with_rel(v, "next"))
}

/// Parses one `Link` value (`<url>; rel="next", <url>; rel="last"`).
pub fn link_with_rel(value: &str, rel: &str) -> Option<String> {
    let mut rest = value;
    loop {
        let open = rest.find('<')?;
        let close = open + rest[open..].find('>')?;
        let target = &rest[open + 1..close];
        rest = &rest[close + 1..];
        // Parameters run to the next entry; URLs (inside <>) may hold commas, params not.
        let end = rest.find('<').unwrap_or(rest.len());
        let params = &rest[..end];
        let matches = params.split(';').any(|p| {
            let Some((k, v)) = p.split_once('=') else {
                return false;
            };
            k.trim().eq_ignore_ascii_case("rel")
                && v.trim()
                    .trim_matches(|c| c == '"' || c == ',')
                    .split_ascii_whitespace()
                    .any(|r| r.eq_ignore_ascii_case(rel))
        });
        if matches && !target.trim().is_empty() {
            return Some(target.trim().to_string());
        }
    }
}

/// A short, single-line message from an error body: JSON `message`,
/// `error`/`error_description` and `errors`, else the text itself.
pub fn error_message(body: &str) -> String {
    const MAX: usize = 300;
    let body = body.trim();
    let mut parts: Vec<String> = Vec::new();
    if let Ok(Value::Object(o)) = serde_json::from_str::<Value>(body) {
        for key in ["message", "error", "error_description", "code"] {
            if let Some(s) = o.get(key).and_then(Value::as_str) {
                let s = s.trim();
                if !s.is_empty() && !parts.iter().any(|p| p == s) {
                    parts.push(s.to_string());
                }
            }
        }
        match o.get("errors") {
            Some(Value::Array(items)) => {
                for it in items {
                    match it {
                        Value::String(s) => parts.push(s.trim().to_string()),
                        Value::Object(e) => {
                            if let Some(s) = e.get("message").and_then(Value::as_str) {
                                let field = e.get("field").and_then(Value::as_str);
                                parts.push(match field {
                                    Some(f) => format!("{f} {s}"),
                                    None => s.to_string(),
                                });
                            }
                        }
                        _ => {}
                    }
                }
            }
            Some(Value::Object(fields)) => {
                for (k, v) in fields {
                    parts.push(format!("{k}: {}", flatten(v)));
                }
            }
            _ => {}
        }
    }
    let msg = if parts.is_empty() {
        body.split_whitespace().collect::<Vec<_>>().join(" ")
    } else {
        parts.join(": ")
    };
    if msg.is_empty() {
        return "no message".into();
    }
    truncate(&msg, MAX)
}

fn flatten(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Array(a) => a.iter().map(flatten).collect::<Vec<_>>().join(", "),
        other => other.to_string(),
    }
}

fn truncate(s: &str, max: usize) -> String {
    match s.char_indices().nth(max) {
        Some((i, _)) => format!("{}…", &s[..i]),
        None => s.to_string(),
    }
}

/// A transport error without its URL (presigned URLs carry signatures), with its causes.
fn describe(e: reqwest::Error) -> String {
    let e = e.without_url();
    let mut msg = e.to_string();
    let mut src = std::error::Error::source(&e);
    while let Some(s) = src {
        msg.push_str(": ");
        msg.push_str(&s.to_string());
        src = s.source();
    }
    truncate(&msg, 300)
}

// ---------------------------------------------------------------------------
// Rate limiter

/// One limiter per connection, shared by all its requests. It honours the
/// vendor's rate-limit headers and, optionally, a client-side fixed-window
/// budget and a token bucket. Without any of them `acquire` is one uncontended
/// lock.
#[derive(Debug)]
pub struct RateLimiter {
    state: Mutex<LimiterState>,
    /// Never sleep longer than this on a vendor's word (guards against clock skew).
    max_wait: Duration,
}

#[derive(Debug)]
struct LimiterState {
    /// Requests left in the vendor's window, counted down locally between responses.
    remaining: Option<u32>,
    reset_at: Option<Instant>,
    /// After a 429 every request of the connection waits, not only the one refused.
    blocked_until: Option<Instant>,
    window: Option<FixedBudget>,
    bucket: Option<TokenBucket>,
}

#[derive(Debug)]
struct FixedBudget {
    requests: u32,
    window: Duration,
    start: Option<Instant>,
    used: u32,
}

#[derive(Debug)]
struct TokenBucket {
    per_second: f64,
    burst: f64,
    tokens: f64,
    last: Instant,
}

impl Default for RateLimiter {
    fn default() -> Self {
        RateLimiter::new(None, None)
    }
}

impl RateLimiter {
    /// `budget`: at most `requests` per `window`, counted from the window's first
    /// request. `bucket`: `(requests per second, burst)`.
    pub fn new(budget: Option<(u32, Duration)>, bucket: Option<(f64, u32)>) -> Self {
        RateLimiter {
            state: Mutex::new(LimiterState {
                remaining: None,
                reset_at: None,
                blocked_until: None,
                window: budget
                    .filter(|(n, w)| *n > 0 && !w.is_zero())
                    .map(|(requests, window)| FixedBudget {
                        requests,
                        window,
                        start: None,
                        used: 0,
                    }),
                bucket: bucket
                    .filter(|(r, b)| *r > 0.0 && *b > 0)
                    .map(|(per_second, burst)| TokenBucket {
                        per_second,
                        burst: f64::from(burst),
                        tokens: f64::from(burst),
                        last: Instant::now(),
                    }),
            }),
            max_wait: Duration::from_secs(300),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, LimiterState> {
        // The state stays consistent even if a holder panicked.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Waits until a request may be sent, and counts it.
    pub async fn acquire(&self) {
        loop {
            let wait = self.try_reserve(Instant::now());
            match wait {
                None => return,
                Some(d) => {
                    tracing::debug!(wait_ms = d.as_millis() as u64, "waiting for rate limit");
                    tokio::time::sleep(d).await;
                }
            }
        }
    }

    /// Reserves a request slot at `now`, or says how long to wait first.
    fn try_reserve(&self, now: Instant) -> Option<Duration> {
        let mut s = self.lock();
        let max_wait = self.max_wait;
        if let Some(until) = s.blocked_until {
            if now < until {
                return Some(until - now);
            }
            s.blocked_until = None;
        }
        // The vendor's window, as last reported.
        if let Some(reset) = s.reset_at
            && now >= reset
        {
            s.reset_at = None;
            s.remaining = None;
        }
        if s.remaining == Some(0) {
            if let Some(reset) = s.reset_at {
                return Some((reset - now).min(max_wait));
            }
            // Exhausted with no reset time: let the vendor's 429 say how long.
            s.remaining = None;
        }
        if let Some(w) = &mut s.window {
            let start = match w.start {
                Some(st) if now < st + w.window => st,
                _ => {
                    w.used = 0;
                    w.start = Some(now);
                    now
                }
            };
            if w.used >= w.requests {
                return Some(start + w.window - now);
            }
        }
        if let Some(b) = &mut s.bucket {
            let elapsed = now.saturating_duration_since(b.last).as_secs_f64();
            b.tokens = (b.tokens + elapsed * b.per_second).min(b.burst);
            b.last = now;
            if b.tokens < 1.0 {
                return Some(Duration::from_secs_f64((1.0 - b.tokens) / b.per_second));
            }
        }
        // Every limit agreed: count the request everywhere.
        if let Some(w) = &mut s.window {
            w.used += 1;
        }
        if let Some(b) = &mut s.bucket {
            b.tokens -= 1.0;
        }
        if let Some(r) = &mut s.remaining {
            *r = r.saturating_sub(1);
        }
        None
    }

    /// Holds every request back for `d` (after a 429).
    pub fn block_for(&self, d: Duration) {
        let until = Instant::now() + d.min(self.max_wait);
        let mut s = self.lock();
        s.blocked_until = s.blocked_until.max(Some(until));
    }

    /// Takes in a response's rate-limit headers.
    pub fn observe(&self, headers: &HeaderMap) {
        let Some(info) = rate_limit_info(headers, Utc::now()) else {
            return;
        };
        self.observe_info(info, Instant::now());
    }

    fn observe_info(&self, info: RateLimitInfo, now: Instant) {
        let mut s = self.lock();
        let reset_at = info.reset_in.map(|d| now + d.min(self.max_wait));
        // Responses of concurrent requests arrive out of order: within the same
        // window the smallest `remaining` is the freshest.
        let same_window = match (s.reset_at, reset_at) {
            (Some(a), Some(b)) => a.max(b) - a.min(b) < Duration::from_secs(1),
            _ => false,
        };
        s.remaining = Some(match (same_window, s.remaining) {
            (true, Some(r)) => r.min(info.remaining),
            _ => info.remaining,
        });
        if reset_at.is_some() || !same_window {
            s.reset_at = reset_at;
        }
    }
}

// ---------------------------------------------------------------------------
// Authentication

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

/// A fixed header: an API key as Basic (`key:`) or Bearer.
pub struct StaticAuth {
    header: HeaderValue,
    secret: SecretValue,
}

impl StaticAuth {
    /// `Authorization: Basic base64("<user>:<password>")`.
    pub fn basic(user: &SecretValue, password: Option<&SecretValue>) -> Result<Self, VendorError> {
        let raw = format!(
            "{}:{}",
            user.expose(),
            password.map(SecretValue::expose).unwrap_or("")
        );
        Self::with(format!("Basic {}", STANDARD.encode(raw)), user.clone())
    }

    /// `Authorization: Bearer <token>`.
    pub fn bearer(token: &SecretValue) -> Result<Self, VendorError> {
        Self::with(format!("Bearer {}", token.expose()), token.clone())
    }

    fn with(value: String, secret: SecretValue) -> Result<Self, VendorError> {
        let mut header = HeaderValue::from_str(&value).map_err(|_| {
            VendorError::Config("credential contains characters not allowed in a header".into())
        })?;
        header.set_sensitive(true);
        Ok(StaticAuth { header, secret })
    }
}

impl fmt::Debug for StaticAuth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("StaticAuth(***)")
    }
}

#[async_trait]
impl Auth for StaticAuth {
    async fn header(&self) -> Result<Option<HeaderValue>, VendorError> {
        Ok(Some(self.header.clone()))
    }
    async fn invalidate(&self, _rejected: Option<&HeaderValue>) -> bool {
        false
    }
    fn redact(&self, msg: &str) -> String {
        redact(msg, &[&self.secret])
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
                .client
                .post(self.token_url.clone())
                .basic_auth(self.client_id.expose(), Some(self.client_secret.expose()))
                .header(reqwest::header::ACCEPT, "application/json")
                .form(&form)
        };
        // Token requests are idempotent; the API limiter does not cover them
        // (Greenhouse counts them in a window of their own).
        let resp = self.transport.retrying(None, None, &make, true).await?.0;
        let status = resp.status();
        let body =
            String::from_utf8_lossy(&read_capped(resp, MAX_ERROR_BODY, "token response").await?)
                .into_owned();
        if !status.is_success() {
            let code = serde_json::from_str::<Value>(&body)
                .ok()
                .and_then(|v| v.get("error").and_then(Value::as_str).map(str::to_string));
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
                message: format!("token endpoint: {}", self.redact(&error_message(&body))),
            });
        }
        let v: Value = serde_json::from_str(&body)
            .map_err(|e| VendorError::Decode(format!("token response is not JSON: {e}")))?;
        let token = v
            .get("access_token")
            .and_then(Value::as_str)
            .filter(|t| !t.is_empty())
            .ok_or_else(|| VendorError::Decode("token response has no access_token".into()))?;
        let scheme = match v.get("token_type").and_then(Value::as_str) {
            None => "Bearer".to_string(),
            Some(t) if t.eq_ignore_ascii_case("bearer") => "Bearer".to_string(),
            Some(t) => t.to_string(),
        };
        let mut header = HeaderValue::from_str(&format!("{scheme} {token}"))
            .map_err(|_| VendorError::Decode("access_token is not a valid header value".into()))?;
        header.set_sensitive(true);
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
        let t = self.fetch().instrument(span).await?;
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

// ---------------------------------------------------------------------------
// OAuth with rotating refresh tokens

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
        let scheme = match token_type {
            Some(t) if !t.eq_ignore_ascii_case("bearer") => t,
            _ => "Bearer",
        };
        let mut header = HeaderValue::from_str(&format!("{scheme} {}", token.expose()))
            .map_err(|_| VendorError::Decode("access token is not a valid header value".into()))?;
        header.set_sensitive(true);
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
        let rotated = self.fetch(&st.refresh_token).await?;
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
                .client
                .post(self.token_url.clone())
                .header(reqwest::header::ACCEPT, "application/json")
                .form(&form)
        };
        // Retried like any request: a 5xx or a reset most likely never rotated
        // anything, and a lost rotation cannot be recovered either way.
        let resp = self.transport.retrying(None, None, &make, true).await?.0;
        let status = resp.status();
        let body =
            String::from_utf8_lossy(&read_capped(resp, MAX_ERROR_BODY, "token response").await?)
                .into_owned();
        if !status.is_success() {
            let code = serde_json::from_str::<Value>(&body)
                .ok()
                .and_then(|v| v.get("error").and_then(Value::as_str).map(str::to_string));
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
                    &error_message(&body),
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
        let v: Value = serde_json::from_str(&body)
            .map_err(|e| VendorError::Decode(format!("token response is not JSON: {e}")))?;
        let token = v
            .get("access_token")
            .and_then(Value::as_str)
            .filter(|t| !t.is_empty())
            .ok_or_else(|| VendorError::Decode("token response has no access_token".into()))?;
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

// ---------------------------------------------------------------------------
// Transport and the per-connection client

/// The HTTP clients and the retry policy. Cheap to clone (the clients are shared).
///
/// API and token calls follow no redirect: a 3xx is an answer, not an
/// invitation to send credentials elsewhere. File downloads (presigned URLs,
/// no credentials) may follow a few.
#[derive(Clone, Debug)]
pub struct Transport {
    client: reqwest::Client,
    downloads: reqwest::Client,
    policy: RetryPolicy,
}

/// Largest JSON body read (one page of a listing, a token response).
pub const MAX_JSON_BODY: usize = 32 * 1024 * 1024;
/// Largest error body read; only a short summary of it is ever kept.
pub const MAX_ERROR_BODY: usize = 64 * 1024;

/// Reads a body through a limit as it arrives: an endless or oversized body
/// stops at `cap` bytes instead of filling memory.
pub async fn read_capped(
    mut resp: Response,
    cap: usize,
    what: &str,
) -> Result<Vec<u8>, VendorError> {
    if resp.content_length().is_some_and(|n| n > cap as u64) {
        return Err(VendorError::Decode(format!(
            "{what}: body larger than {} KiB",
            cap / 1024
        )));
    }
    let mut out = Vec::new();
    while let Some(chunk) = resp
        .chunk()
        .await
        .map_err(|e| VendorError::Unavailable(format!("{what}: reading body: {}", describe(e))))?
    {
        if out.len().saturating_add(chunk.len()) > cap {
            return Err(VendorError::Decode(format!(
                "{what}: body larger than {} KiB",
                cap / 1024
            )));
        }
        out.extend_from_slice(&chunk);
    }
    Ok(out)
}

/// The start of an error body as text (at most [`MAX_ERROR_BODY`] bytes read).
pub async fn error_body(mut resp: Response) -> String {
    let mut out = Vec::new();
    while out.len() < MAX_ERROR_BODY {
        match resp.chunk().await {
            Ok(Some(c)) => out.extend_from_slice(&c[..c.len().min(MAX_ERROR_BODY - out.len())]),
            _ => break,
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

impl Transport {
    /// The clients for `policy`, resolving host names through the address
    /// guard under `endpoints`.
    pub fn guarded(
        policy: RetryPolicy,
        endpoints: super::guard::EndpointPolicy,
    ) -> Result<Self, VendorError> {
        let build = |redirects: reqwest::redirect::Policy| {
            let b = reqwest::Client::builder();
            let b = match super::guard::resolver(endpoints) {
                Some(r) => b.dns_resolver(r),
                None => b,
            };
            b.use_rustls_tls()
                .user_agent(concat!("ats-operator/", env!("CARGO_PKG_VERSION")))
                .connect_timeout(Duration::from_secs(10))
                .timeout(Duration::from_secs(60))
                .pool_idle_timeout(Duration::from_secs(60))
                .redirect(redirects)
                .build()
                .map_err(|e| {
                    VendorError::Config(format!("building the HTTP client: {}", describe(e)))
                })
        };
        Ok(Transport {
            client: build(reqwest::redirect::Policy::none())?,
            downloads: build(reqwest::redirect::Policy::limited(5))?,
            policy,
        })
    }

    pub fn client(&self) -> &reqwest::Client {
        &self.client
    }

    pub fn policy(&self) -> &RetryPolicy {
        &self.policy
    }

    /// Sends until the response is neither a 429 nor a 5xx (and the transport
    /// did not fail), within the policy's budgets. Returns the response and the
    /// `Authorization` header it was sent with.
    ///
    /// A non-idempotent request is retried only when it cannot have reached the
    /// vendor (connect errors, 429); on 5xx or timeouts the caller decides.
    async fn retrying<F>(
        &self,
        limiter: Option<&RateLimiter>,
        auth: Option<&dyn Auth>,
        make: &F,
        idempotent: bool,
    ) -> Result<(Response, Option<HeaderValue>), VendorError>
    where
        F: Fn() -> RequestBuilder + Send + Sync,
    {
        let p = &self.policy;
        let mut failures = 0u32;
        let mut limited = 0u32;
        loop {
            // The slot first, then the header: a wait for the limiter must not
            // outlast a short-lived token taken before it.
            if let Some(l) = limiter {
                l.acquire().await;
            }
            let header = match auth {
                Some(a) => a.header().await?,
                None => None,
            };
            let mut rb = make();
            if let Some(h) = &header {
                rb = rb.header(AUTHORIZATION, h.clone());
            }
            match rb.send().await {
                Ok(resp) => {
                    if let Some(l) = limiter {
                        l.observe(resp.headers());
                    }
                    let status = resp.status();
                    if status == StatusCode::TOO_MANY_REQUESTS {
                        let wait = retry_after(resp.headers(), Utc::now())
                            .unwrap_or(p.default_retry_after);
                        if wait > p.max_retry_after || limited >= p.rate_limit_retries {
                            return Err(VendorError::RateLimited { retry_after: wait });
                        }
                        limited += 1;
                        if let Some(l) = limiter {
                            l.block_for(wait);
                        }
                        tracing::warn!(
                            path = resp.url().path(),
                            wait_ms = wait.as_millis() as u64,
                            "rate limited by the vendor; waiting"
                        );
                        if limiter.is_none() {
                            tokio::time::sleep(wait).await;
                        }
                        continue;
                    }
                    if status.is_server_error() {
                        failures += 1;
                        let path = resp.url().path().to_string();
                        let hinted = retry_after(resp.headers(), Utc::now());
                        if !idempotent || failures >= p.max_attempts {
                            let body = error_body(resp).await;
                            let msg = error_message(&body);
                            let msg = auth.map(|a| a.redact(&msg)).unwrap_or(msg);
                            return Err(VendorError::Unavailable(format!(
                                "{path}: HTTP {} after {failures} attempt(s): {msg}",
                                status.as_u16()
                            )));
                        }
                        let wait = p
                            .backoff(failures - 1)
                            .max(hinted.unwrap_or_default().min(p.cap));
                        tracing::warn!(
                            %path,
                            status = status.as_u16(),
                            attempt = failures,
                            wait_ms = wait.as_millis() as u64,
                            "vendor error; retrying"
                        );
                        tokio::time::sleep(wait).await;
                        continue;
                    }
                    return Ok((resp, header));
                }
                Err(e) => {
                    if e.is_builder() {
                        return Err(VendorError::Config(format!(
                            "invalid request: {}",
                            describe(e)
                        )));
                    }
                    failures += 1;
                    let safe = idempotent || e.is_connect();
                    let msg = describe(e);
                    if !safe || failures >= p.max_attempts {
                        return Err(VendorError::Unavailable(format!(
                            "{msg} (after {failures} attempt(s))"
                        )));
                    }
                    let wait = p.backoff(failures - 1);
                    tracing::warn!(error = %msg, attempt = failures, wait_ms = wait.as_millis() as u64, "request failed; retrying");
                    tokio::time::sleep(wait).await;
                }
            }
        }
    }
}

/// The HTTP side of one vendor connection: one client, one limiter, one auth.
pub struct VendorHttp {
    transport: Transport,
    limiter: RateLimiter,
    auth: Box<dyn Auth>,
}

impl fmt::Debug for VendorHttp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("VendorHttp")
            .field("limiter", &self.limiter)
            .finish_non_exhaustive()
    }
}

/// How many pages a listing may have before we suspect a cursor loop.
const MAX_PAGES: usize = 100_000;
/// Largest download accepted (resumes).
const MAX_DOWNLOAD: usize = 20 * 1024 * 1024;

impl VendorHttp {
    pub fn new(transport: Transport, limiter: RateLimiter, auth: Box<dyn Auth>) -> Self {
        VendorHttp {
            transport,
            limiter,
            auth,
        }
    }

    pub fn client(&self) -> &reqwest::Client {
        &self.transport.client
    }

    pub fn limiter(&self) -> &RateLimiter {
        &self.limiter
    }

    /// Obtains credentials (e.g. a token) without calling the API.
    pub async fn authenticate(&self) -> Result<(), VendorError> {
        self.auth.header().await.map(|_| ())
    }

    /// Sends an idempotent request: auth, rate limit, retries; 2xx or a classified error.
    pub async fn send<F>(&self, make: F) -> Result<Response, VendorError>
    where
        F: Fn() -> RequestBuilder + Send + Sync,
    {
        self.send_with(make, true).await
    }

    /// As [`send`](Self::send); a non-idempotent request (a POST creating
    /// something) is not resent after a 5xx or a timeout, since it may have
    /// landed: the caller checks and decides.
    pub async fn send_with<F>(&self, make: F, idempotent: bool) -> Result<Response, VendorError>
    where
        F: Fn() -> RequestBuilder + Send + Sync,
    {
        let mut refreshed = false;
        loop {
            let (resp, used) = self
                .transport
                .retrying(Some(&self.limiter), Some(&*self.auth), &make, idempotent)
                .await?;
            let status = resp.status();
            if status.is_success() {
                return Ok(resp);
            }
            let path = resp.url().path().to_string();
            let body = error_body(resp).await;
            let msg = self.auth.redact(&error_message(&body));
            match status {
                StatusCode::UNAUTHORIZED => {
                    // An expired or revoked token: one fresh token, one more try.
                    if !refreshed && self.auth.invalidate(used.as_ref()).await {
                        refreshed = true;
                        tracing::info!(%path, "401 from the vendor; refreshing credentials");
                        continue;
                    }
                    return Err(VendorError::Auth(msg));
                }
                StatusCode::FORBIDDEN => return Err(VendorError::Forbidden(msg)),
                s => {
                    return Err(VendorError::Rejected {
                        status: s.as_u16(),
                        message: format!("{path}: {msg}"),
                    });
                }
            }
        }
    }

    /// GETs `url` and decodes a JSON body.
    pub async fn get_json<T: DeserializeOwned>(&self, url: &Url) -> Result<T, VendorError> {
        let resp = self.send(|| self.client().get(url.clone())).await?;
        decode(resp).await
    }

    /// GETs a bare-JSON-array listing and every following page named by
    /// `Link: <…>; rel="next"`, followed exactly as given.
    pub async fn get_link_paged<T: DeserializeOwned>(
        &self,
        first: Url,
    ) -> Result<Vec<T>, VendorError> {
        let mut out = Vec::new();
        let mut url = first;
        let origin = url.origin();
        let mut seen = std::collections::HashSet::new();
        for _ in 0..MAX_PAGES {
            let resp = self.send(|| self.client().get(url.clone())).await?;
            let next = next_link(resp.headers());
            let page: Vec<T> = decode(resp).await?;
            out.extend(page);
            let Some(next) = next else {
                return Ok(out);
            };
            let next = url
                .join(&next)
                .map_err(|e| VendorError::Decode(format!("invalid next link: {e}")))?;
            // The bearer token must not follow a link to another host.
            if next.origin() != origin {
                return Err(VendorError::Decode(format!(
                    "next link points to another origin ({})",
                    next.origin().ascii_serialization()
                )));
            }
            if !seen.insert(next.to_string()) {
                return Err(VendorError::Decode(format!("{}: paging loops", url.path())));
            }
            url = next;
        }
        Err(VendorError::Decode(format!(
            "{}: more than {MAX_PAGES} pages",
            url.path()
        )))
    }

    /// Downloads a file from a presigned-style URL: no auth header, no rate
    /// limit, redirects followed, 5xx retried.
    pub async fn download(&self, url: &str) -> Result<Vec<u8>, VendorError> {
        let url =
            Url::parse(url).map_err(|e| VendorError::Decode(format!("invalid file URL: {e}")))?;
        let make = || self.transport.downloads.get(url.clone());
        let (resp, _) = self.transport.retrying(None, None, &make, true).await?;
        let status = resp.status();
        if !status.is_success() {
            let body = error_body(resp).await;
            let message = format!("file download: {}", error_message(&body));
            return Err(match status {
                StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN => VendorError::Forbidden(message),
                s => VendorError::Rejected {
                    status: s.as_u16(),
                    message,
                },
            });
        }
        match read_capped(resp, MAX_DOWNLOAD, "file download").await {
            Ok(bytes) => Ok(bytes),
            // Too large is the file's fault, not the vendor's: skip it.
            Err(VendorError::Decode(_)) => Err(VendorError::Rejected {
                status: status.as_u16(),
                message: "file download: file too large".into(),
            }),
            Err(e) => Err(e),
        }
    }
}

/// Decodes a JSON body; errors name the path, never the query.
pub async fn decode<T: DeserializeOwned>(resp: Response) -> Result<T, VendorError> {
    let path = resp.url().path().to_string();
    let bytes = read_capped(resp, MAX_JSON_BODY, &path).await?;
    serde_json::from_slice(&bytes).map_err(|e| VendorError::Decode(format!("{path}: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use rand::SeedableRng;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(*k, HeaderValue::from_str(v).unwrap());
        }
        h
    }

    #[test]
    fn backoff_bounds() {
        let p = RetryPolicy::default();
        assert_eq!(p.backoff_ceiling(0), Duration::from_millis(200));
        assert_eq!(p.backoff_ceiling(1), Duration::from_millis(400));
        assert_eq!(p.backoff_ceiling(5), Duration::from_millis(6400));
        assert_eq!(p.backoff_ceiling(6), Duration::from_secs(10));
        assert_eq!(p.backoff_ceiling(40), Duration::from_secs(10));
        let mut rng = rand::rngs::StdRng::seed_from_u64(7);
        for retry in 0..10 {
            for _ in 0..200 {
                let d = full_jitter(p.backoff_ceiling(retry), &mut rng);
                assert!(d <= p.backoff_ceiling(retry));
            }
            assert!(p.backoff(retry) <= p.cap);
        }
        // Jitter actually spreads.
        let samples: std::collections::HashSet<_> = (0..50)
            .map(|_| full_jitter(Duration::from_secs(1), &mut rng))
            .collect();
        assert!(samples.len() > 10);
    }

    #[test]
    fn retry_after_forms() {
        let now = Utc.with_ymd_and_hms(2015, 10, 21, 7, 27, 0).unwrap();
        assert_eq!(
            retry_after(&headers(&[("retry-after", "7")]), now),
            Some(Duration::from_secs(7))
        );
        assert_eq!(
            retry_after(
                &headers(&[("retry-after", "Wed, 21 Oct 2015 07:28:00 GMT")]),
                now
            ),
            Some(Duration::from_secs(60))
        );
        assert_eq!(retry_after(&headers(&[("retry-after", "soon")]), now), None);
        assert_eq!(retry_after(&HeaderMap::new(), now), None);
    }

    #[test]
    fn rate_limit_headers_both_spellings() {
        let now = Utc.timestamp_opt(1_700_000_000, 0).unwrap();
        let gh = headers(&[
            ("x-ratelimit-limit", "50"),
            ("x-ratelimit-remaining", "0"),
            ("x-ratelimit-reset", "1700000012"),
        ]);
        assert_eq!(
            rate_limit_info(&gh, now),
            Some(RateLimitInfo {
                limit: Some(50),
                remaining: 0,
                reset_in: Some(Duration::from_secs(12))
            })
        );
        let wk = headers(&[
            ("x-rate-limit-limit", "10"),
            ("x-rate-limit-remaining", "3"),
            ("x-rate-limit-reset", "4"),
        ]);
        assert_eq!(
            rate_limit_info(&wk, now),
            Some(RateLimitInfo {
                limit: Some(10),
                remaining: 3,
                reset_in: Some(Duration::from_secs(4))
            })
        );
        // A reset already past waits nothing.
        let past = headers(&[
            ("x-ratelimit-remaining", "0"),
            ("x-ratelimit-reset", "1699999990"),
        ]);
        assert_eq!(
            rate_limit_info(&past, now).unwrap().reset_in,
            Some(Duration::ZERO)
        );
        assert_eq!(
            rate_limit_info(&headers(&[("x-ratelimit-limit", "5")]), now),
            None
        );
    }

    #[test]
    fn limiter_waits_for_reset_when_exhausted() {
        let l = RateLimiter::default();
        let now = Instant::now();
        assert_eq!(l.try_reserve(now), None);
        l.observe_info(
            RateLimitInfo {
                limit: Some(2),
                remaining: 1,
                reset_in: Some(Duration::from_secs(10)),
            },
            now,
        );
        // One left: taken locally, then the next must wait for the reset.
        assert_eq!(l.try_reserve(now), None);
        let w = l.try_reserve(now).unwrap();
        assert!(w > Duration::from_secs(9) && w <= Duration::from_secs(10));
        // A stale response of the same window does not give budget back.
        l.observe_info(
            RateLimitInfo {
                limit: Some(2),
                remaining: 1,
                reset_in: Some(Duration::from_secs(10)),
            },
            now,
        );
        assert!(l.try_reserve(now).is_some());
        assert_eq!(l.try_reserve(now + Duration::from_secs(11)), None);
    }

    #[test]
    fn limiter_fixed_window_and_bucket() {
        let l = RateLimiter::new(Some((2, Duration::from_secs(30))), None);
        let t0 = Instant::now();
        assert_eq!(l.try_reserve(t0), None);
        assert_eq!(l.try_reserve(t0), None);
        assert_eq!(
            l.try_reserve(t0 + Duration::from_secs(5)),
            Some(Duration::from_secs(25))
        );
        assert_eq!(l.try_reserve(t0 + Duration::from_secs(30)), None);

        let b = RateLimiter::new(None, Some((10.0, 2)));
        let t0 = Instant::now();
        assert_eq!(b.try_reserve(t0), None);
        assert_eq!(b.try_reserve(t0), None);
        let w = b.try_reserve(t0).unwrap();
        assert!(w <= Duration::from_millis(100), "{w:?}");
        assert_eq!(b.try_reserve(t0 + Duration::from_millis(150)), None);
    }

    #[test]
    fn link_parsing() {
        let h = headers(&[(
            "link",
            "<https://harvest.greenhouse.io/v3/jobs?cursor=abc,def>; rel=\"next\"",
        )]);
        assert_eq!(
            next_link(&h).as_deref(),
            Some("https://harvest.greenhouse.io/v3/jobs?cursor=abc,def")
        );
        let v1 = "<https://x/v1/a?page=1>; rel=\"prev\", <https://x/v1/a?page=3>; rel=\"next\", <https://x/v1/a?page=9>; rel=\"last\"";
        assert_eq!(
            link_with_rel(v1, "next").as_deref(),
            Some("https://x/v1/a?page=3")
        );
        assert_eq!(
            link_with_rel(v1, "last").as_deref(),
            Some("https://x/v1/a?page=9")
        );
        assert_eq!(
            link_with_rel("<https://x/a>; rel=next", "next").as_deref(),
            Some("https://x/a")
        );
        assert_eq!(
            link_with_rel("<https://x/a>; rel=\"prev next\"", "next").as_deref(),
            Some("https://x/a")
        );
        assert_eq!(link_with_rel("<https://x/a>; rel=\"prev\"", "next"), None);
        assert_eq!(next_link(&HeaderMap::new()), None);
        assert_eq!(next_link(&headers(&[("link", "")])), None);
        // Separate header lines.
        let two = headers(&[
            ("link", "<https://x/p>; rel=\"prev\""),
            ("link", "<https://x/n>; rel=\"next\""),
        ]);
        assert_eq!(next_link(&two).as_deref(), Some("https://x/n"));
    }

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

    #[test]
    fn error_messages() {
        assert_eq!(
            error_message(
                r#"{"message":"Forbidden","errors":["List endpoints require a Site Admin."]}"#
            ),
            "Forbidden: List endpoints require a Site Admin."
        );
        assert_eq!(
            error_message(r#"{"error":"invalid_client"}"#),
            "invalid_client"
        );
        assert_eq!(
            error_message(
                r#"{"message":"Validation error","errors":[{"field":"body","message":"is required"}]}"#
            ),
            "Validation error: body is required"
        );
        assert_eq!(
            error_message("  <html>\n bad gateway </html> "),
            "<html> bad gateway </html>"
        );
        assert_eq!(error_message(""), "no message");
        assert!(error_message(&"x".repeat(1000)).chars().count() <= 301);
    }

    #[test]
    fn secrets_are_redacted_and_not_debug_printed() {
        let id = SecretValue::new("client-abc");
        let secret = SecretValue::new("s3cr3t-value");
        let a = StaticAuth::basic(&id, Some(&secret)).unwrap();
        assert_eq!(a.redact("bad client-abc here"), "bad *** here");
        assert!(!format!("{a:?}").contains("client-abc"));
        assert_eq!(
            a.header.to_str().unwrap(),
            format!("Basic {}", STANDARD.encode("client-abc:s3cr3t-value"))
        );
        assert!(a.header.is_sensitive());
    }

    #[test]
    fn absurd_vendor_times_are_clamped_not_a_panic() {
        let now = Utc::now();
        let mut h = HeaderMap::new();
        h.insert(RETRY_AFTER, HeaderValue::from_static("1e20"));
        assert_eq!(retry_after(&h, now), Some(MAX_VENDOR_WAIT));
        h.insert(
            RETRY_AFTER,
            HeaderValue::from_static("Fri, 31 Dec 9999 23:59:59 GMT"),
        );
        assert_eq!(retry_after(&h, now), Some(MAX_VENDOR_WAIT));
        let mut h = HeaderMap::new();
        h.insert("x-ratelimit-remaining", HeaderValue::from_static("1"));
        h.insert("x-ratelimit-reset", HeaderValue::from_static("1e25"));
        h.insert("x-ratelimit-limit", HeaderValue::from_static("1e25"));
        let info = rate_limit_info(&h, now).unwrap();
        assert_eq!(info.reset_in, Some(MAX_VENDOR_WAIT));
        assert_eq!(info.limit, Some(u32::MAX));
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

    #[tokio::test]
    async fn a_budget_below_the_bucket_paces_to_the_budget() {
        let l = RateLimiter::new(Some((3, Duration::from_millis(100))), Some((1000.0, 20)));
        let t = Instant::now();
        for _ in 0..10 {
            l.acquire().await;
        }
        // 3 per window: the 10th request goes out in the fourth window.
        assert!(
            t.elapsed() >= Duration::from_millis(300),
            "{:?}",
            t.elapsed()
        );
    }
}
