//! Vendor sandboxes: HTTP servers that behave as the vendors' documented APIs do,
//! over deterministic generated tenant data ([`data`]).
//!
//! This module holds what every vendor sandbox shares: options, the running
//! server handle, the fixed-window limiter ([`ratelimit`]), fault injection,
//! request statistics, opaque list cursors, timestamp filters, signed access
//! tokens and JSON errors. Vendor routers live with their vendor, e.g.
//! [`crate::vendors::greenhouse::sandbox`].
//!
//! # The control API (every vendor's sandbox serves it, so one conformance suite drives them all)
//!
//! Application ids are strings: the id the operator's common model uses
//! (Greenhouse application id, Lever opportunity id, Workable candidate id).
//!
//! | request | effect / answer |
//! |---|---|
//! | `GET /_sandbox/credentials` | `{"secret": {<Secret key>: value}, "connection": {"baseUrl", "tokenUrl", "subdomain", "sub"}, ...vendor extras}` |
//! | `GET /_sandbox/stats` | [`Stats`]: `requests` by `"METHOD /route"`, `token_requests`, `rate_limited`, `faults_injected`, `notes_created`, `application_patches`, `tags_applied` |
//! | `POST /_sandbox/credentials/revoke`, `.../restore` | the credentials stop / start working (401, or `invalid_grant` at the token endpoint) |
//! | `POST /_sandbox/tokens/expire` | every access token issued so far is expired (401 until refreshed) |
//! | `POST /_sandbox/faults` `{"status": 429\|500\|503, "count", "path_prefix"?}`, `DELETE` clears | the next `count` API requests fail |
//! | `PUT /_sandbox/rate_limit` `{"requests", "window_seconds"}` or `{"disabled": true}`; `GET` | the API limit |
//! | `POST /_sandbox/touch` `{"application_ids": [..]}` or `{"count": n}` | changes the resume behind each (so its score input changes) and bumps `updated_at`; answers `{"application_ids": [..]}` |
//! | `POST /_sandbox/applications` `{"count": n}` | adds applications to open jobs; answers `{"application_ids": [..]}` |
//! | `POST /_sandbox/delete` `{"application_ids": [..]}` | deletes them as a user of the ATS would; answers `{"application_ids": [..]}` |
//! | `POST /_sandbox/jobs/{id}/status` `{"status": "open\|closed\|draft"}` (Greenhouse) | opens or closes a job as a recruiter would |
//! | `GET /_sandbox/applications` | `[{"id": "<string>", "job_id": "<string>", "job_status": "open\|closed\|draft", ...}]` |
//! | `GET /_sandbox/applications/{id}/writes` | what the operator wrote: `{"notes": ["<body>", ..], "tags": ["..", ..], "custom_fields": {"<key>": value}}` |

pub mod data;
pub mod ratelimit;

use std::collections::BTreeMap;
use std::fmt;
use std::net::SocketAddr;
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use axum::Json;
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use chrono::{DateTime, NaiveDate, SecondsFormat, Utc};
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use sha2::Sha256;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::model::VendorKind;

pub use ratelimit::{Decision, FixedWindow, Limit};

/// How a sandbox is set up.
#[derive(Clone)]
pub struct SandboxOptions {
    /// Seed for the generated tenant; same seed, same data.
    pub seed: u64,
    pub jobs: usize,
    pub applications: usize,
    /// API rate limit as (requests, window); `None` disables it.
    pub rate_limit: Option<(u32, Duration)>,
    /// Lifetime of issued access tokens.
    pub token_ttl: Duration,
    /// How long an unused refresh token stays valid (Lever: 90 days).
    pub refresh_token_idle_ttl: Duration,
    pub client_id: String,
    pub client_secret: String,
}

impl Default for SandboxOptions {
    fn default() -> Self {
        SandboxOptions {
            seed: 42,
            jobs: 14,
            applications: 300,
            rate_limit: Some((50, Duration::from_secs(30))),
            token_ttl: Duration::from_secs(3600),
            refresh_token_idle_ttl: Duration::from_secs(90 * 24 * 3600),
            client_id: "sandbox-client-id".into(),
            client_secret: "sandbox-client-secret".into(),
        }
    }
}

impl fmt::Debug for SandboxOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SandboxOptions")
            .field("seed", &self.seed)
            .field("jobs", &self.jobs)
            .field("applications", &self.applications)
            .field("rate_limit", &self.rate_limit)
            .field("token_ttl", &self.token_ttl)
            .field("refresh_token_idle_ttl", &self.refresh_token_idle_ttl)
            .field("client_id", &self.client_id)
            .field("client_secret", &"***")
            .finish()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SandboxError {
    #[error("cannot bind {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        #[source]
        source: std::io::Error,
    },
    #[error("invalid sandbox options: {0}")]
    Options(String),
}

/// How to connect to a sandbox: the Secret data and `AtsConnection` fields
/// (for tests, the demo and the CLI). The same facts are served at
/// `GET /_sandbox/credentials` as `{"secret": {...}, "connection": {...}}`.
#[derive(Clone, PartialEq, Eq, Serialize)]
pub struct SandboxCredentials {
    /// Secret data by the operator's default key names (`clientId`, `apiKey`, ...).
    pub secret: BTreeMap<String, String>,
    /// `spec.baseUrl`.
    pub base_url: String,
    /// `spec.tokenUrl`, for OAuth vendors.
    pub token_url: Option<String>,
    /// `spec.subdomain` (Workable).
    pub subdomain: Option<String>,
    /// `spec.auth.sub`: the acting user.
    pub sub: Option<String>,
}

impl SandboxCredentials {
    /// A Secret value by key; empty when absent.
    pub fn get(&self, key: &str) -> &str {
        self.secret.get(key).map(String::as_str).unwrap_or("")
    }

    /// The `connection` object of `GET /_sandbox/credentials`.
    pub fn connection_json(&self) -> Value {
        json!({
            "baseUrl": self.base_url,
            "tokenUrl": self.token_url,
            "subdomain": self.subdomain,
            "sub": self.sub,
        })
    }
}

impl fmt::Debug for SandboxCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SandboxCredentials")
            .field("secret_keys", &self.secret.keys().collect::<Vec<_>>())
            .field("base_url", &self.base_url)
            .field("token_url", &self.token_url)
            .field("subdomain", &self.subdomain)
            .field("sub", &self.sub)
            .finish()
    }
}

/// A sandbox serving in the background. Dropping it stops the server.
#[derive(Debug)]
pub struct RunningSandbox {
    /// Server root, e.g. `http://127.0.0.1:43121` (the connection's `baseUrl`).
    pub base_url: String,
    /// The OAuth token endpoint; empty for vendors without one.
    pub token_url: String,
    pub addr: SocketAddr,
    pub credentials: SandboxCredentials,
    shutdown: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
}

impl RunningSandbox {
    /// Stops accepting connections and waits (briefly) for the server to end.
    pub async fn shutdown(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(task) = self.task.take() {
            let abort = task.abort_handle();
            if tokio::time::timeout(Duration::from_secs(5), task)
                .await
                .is_err()
            {
                abort.abort();
            }
        }
    }

    /// Serves until the server stops (for the CLI; pair with a signal).
    pub async fn wait(mut self) {
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for RunningSandbox {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

/// Starts the Greenhouse Harvest v3 sandbox on `addr` (port 0 picks a free port).
pub async fn start_greenhouse(
    addr: SocketAddr,
    opts: SandboxOptions,
) -> Result<RunningSandbox, SandboxError> {
    start(VendorKind::Greenhouse, addr, opts).await
}

/// Starts `vendor`'s sandbox on `addr` (port 0 picks a free port).
pub async fn start(
    vendor: VendorKind,
    addr: SocketAddr,
    opts: SandboxOptions,
) -> Result<RunningSandbox, SandboxError> {
    validate(&opts)?;
    let (listener, base_url) = bind(addr).await?;
    let (router, credentials) = match vendor {
        VendorKind::Greenhouse => crate::vendors::greenhouse::sandbox::router(&opts, &base_url),
        VendorKind::Lever => crate::vendors::lever::sandbox::router(&opts, &base_url),
        VendorKind::Workable => crate::vendors::workable::sandbox::router(&opts, &base_url),
        other => {
            return Err(SandboxError::Options(format!(
                "{other} has no sandbox yet (greenhouse, lever, workable do)"
            )));
        }
    };
    tracing::info!(
        %vendor,
        %base_url,
        seed = opts.seed,
        jobs = opts.jobs,
        applications = opts.applications,
        "sandbox listening"
    );
    let token_url = credentials.token_url.clone().unwrap_or_default();
    Ok(serve(listener, router, base_url, token_url, credentials))
}

fn validate(opts: &SandboxOptions) -> Result<(), SandboxError> {
    if opts.jobs == 0 {
        return Err(SandboxError::Options("jobs must be at least 1".into()));
    }
    if let Some((n, w)) = opts.rate_limit
        && (n == 0 || w.is_zero())
    {
        return Err(SandboxError::Options(
            "rate limit needs at least one request and a non-zero window".into(),
        ));
    }
    if opts.token_ttl.is_zero() {
        return Err(SandboxError::Options("token_ttl must be positive".into()));
    }
    if opts.client_id.is_empty() || opts.client_secret.is_empty() {
        return Err(SandboxError::Options(
            "client_id and client_secret must not be empty".into(),
        ));
    }
    Ok(())
}

/// Binds and works out the URL clients should use (an unspecified address
/// such as 0.0.0.0 is reported as loopback).
pub async fn bind(addr: SocketAddr) -> Result<(TcpListener, String), SandboxError> {
    let listener = TcpListener::bind(addr)
        .await
        .map_err(|source| SandboxError::Bind { addr, source })?;
    let mut local = listener
        .local_addr()
        .map_err(|source| SandboxError::Bind { addr, source })?;
    if local.ip().is_unspecified() {
        local.set_ip(match local {
            SocketAddr::V4(_) => std::net::Ipv4Addr::LOCALHOST.into(),
            SocketAddr::V6(_) => std::net::Ipv6Addr::LOCALHOST.into(),
        });
    }
    Ok((listener, format!("http://{local}")))
}

/// Serves `router` in the background until shut down.
pub fn serve(
    listener: TcpListener,
    router: axum::Router,
    base_url: String,
    token_url: String,
    credentials: SandboxCredentials,
) -> RunningSandbox {
    let addr = listener
        .local_addr()
        .unwrap_or_else(|_| SocketAddr::from(([127, 0, 0, 1], 0)));
    let (tx, rx) = oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        let res = axum::serve(listener, router)
            .with_graceful_shutdown(async move {
                let _ = rx.await;
            })
            .await;
        if let Err(e) = res {
            tracing::error!(error = %e, "sandbox server stopped");
        }
    });
    RunningSandbox {
        base_url,
        token_url,
        addr,
        credentials,
        shutdown: Some(tx),
        task: Some(task),
    }
}

/// Locks shared state; a panicked handler must not take the sandbox down.
pub fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// The wire format for timestamps: RFC 3339 with milliseconds and `Z`.
pub fn ts(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

// ---------------------------------------------------------------------------
// JSON errors

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

/// Parses a JSON request body, answering malformed input with a JSON 400.
pub fn parse_json<T: serde::de::DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    serde_json::from_slice(bytes).map_err(|e| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            format!("Request body is not valid JSON: {e}"),
        )
    })
}

/// `err-` followed by random hex, as Greenhouse's auth server reports.
pub fn error_id() -> String {
    format!("err-{}", hex::encode(rand::random::<[u8; 8]>()))
}

/// An id given as a JSON number or a numeric string.
pub fn json_id(v: &Value) -> Option<u64> {
    match v {
        Value::Number(n) => n.as_u64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

// ---------------------------------------------------------------------------
// Statistics

/// Request counts, served by the control API.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Stats {
    /// By "METHOD /route/{template}".
    pub requests: BTreeMap<String, u64>,
    pub token_requests: u64,
    pub rate_limited: u64,
    pub faults_injected: u64,
    pub notes_created: u64,
    pub application_patches: u64,
    pub tags_applied: u64,
}

impl Stats {
    pub fn count_request(&mut self, key: String) {
        *self.requests.entry(key).or_default() += 1;
    }
}

// ---------------------------------------------------------------------------
// Fault injection

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Fault {
    pub status: u16,
    pub count: u32,
    pub path_prefix: String,
}

/// Queued faults: each fails its next `count` requests under `path_prefix`.
#[derive(Debug, Default)]
pub struct Faults {
    queue: Vec<Fault>,
}

impl Faults {
    pub const SUPPORTED: [u16; 3] = [429, 500, 503];

    pub fn push(&mut self, f: Fault) -> Result<(), String> {
        if !Self::SUPPORTED.contains(&f.status) {
            return Err(format!(
                "status {} is not supported; use one of 429, 500, 503",
                f.status
            ));
        }
        if f.count > 0 {
            self.queue.push(f);
        }
        Ok(())
    }

    pub fn clear(&mut self) {
        self.queue.clear();
    }

    pub fn pending(&self) -> &[Fault] {
        &self.queue
    }

    /// Consumes one fault matching `path`, oldest first.
    pub fn take(&mut self, path: &str) -> Option<u16> {
        let i = self
            .queue
            .iter()
            .position(|f| path.starts_with(&f.path_prefix))?;
        let f = &mut self.queue[i];
        let status = f.status;
        f.count -= 1;
        if f.count == 0 {
            self.queue.remove(i);
        }
        Some(status)
    }

    /// The response an injected fault produces.
    pub fn response(status: u16) -> ApiError {
        match status {
            429 => ApiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                "Rate limit exceeded. Please retry after 1 seconds.",
            )
            .header(
                HeaderName::from_static("retry-after"),
                HeaderValue::from_static("1"),
            ),
            500 => ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "Internal Server Error"),
            _ => ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "Service Unavailable"),
        }
    }
}

// ---------------------------------------------------------------------------
// Cursors and filters

/// An opaque list cursor: the first request's filters, the page size and the
/// last id returned (lists go by id descending).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cursor {
    #[serde(rename = "q")]
    pub params: Vec<(String, String)>,
    #[serde(rename = "n")]
    pub per_page: usize,
    #[serde(rename = "a")]
    pub after: u64,
}

impl Cursor {
    /// URL-safe base64 without padding: needs no escaping in a query string.
    pub fn encode(&self) -> String {
        URL_SAFE_NO_PAD.encode(serde_json::to_vec(self).unwrap_or_default())
    }

    pub fn decode(s: &str) -> Result<Cursor, String> {
        let bytes = URL_SAFE_NO_PAD
            .decode(s.trim_end_matches('='))
            .map_err(|_| "cursor is not valid".to_string())?;
        serde_json::from_slice(&bytes).map_err(|_| "cursor is not valid".to_string())
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CmpOp {
    Gt,
    Gte,
    Lt,
    Lte,
}

/// A pipe-syntax timestamp filter: `gte|2024-01-01T00:00:00Z|lte|2024-02-01T00:00:00Z`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TimeFilter(pub Vec<(CmpOp, DateTime<Utc>)>);

impl TimeFilter {
    pub fn parse(s: &str) -> Result<TimeFilter, String> {
        let parts: Vec<&str> = s.split('|').collect();
        if !parts.len().is_multiple_of(2) || parts.is_empty() {
            return Err(format!(
                "'{s}' must be operator|timestamp pairs, e.g. gte|2024-01-01T00:00:00Z"
            ));
        }
        let mut out = Vec::new();
        for pair in parts.chunks(2) {
            let op = match pair[0].trim().to_ascii_lowercase().as_str() {
                "gt" => CmpOp::Gt,
                "gte" => CmpOp::Gte,
                "lt" => CmpOp::Lt,
                "lte" => CmpOp::Lte,
                other => {
                    return Err(format!(
                        "unknown operator '{other}'; use one of gt, gte, lt, lte"
                    ));
                }
            };
            out.push((op, parse_timestamp(pair[1])?));
        }
        Ok(TimeFilter(out))
    }

    pub fn matches(&self, t: DateTime<Utc>) -> bool {
        self.0.iter().all(|&(op, v)| match op {
            CmpOp::Gt => t > v,
            CmpOp::Gte => t >= v,
            CmpOp::Lt => t < v,
            CmpOp::Lte => t <= v,
        })
    }
}

/// RFC 3339 or a bare date. A `+` offset decoded from a query string as a
/// space is put back.
pub fn parse_timestamp(s: &str) -> Result<DateTime<Utc>, String> {
    let s = s.trim().replace(' ', "+");
    if let Ok(t) = DateTime::parse_from_rfc3339(&s) {
        return Ok(t.with_timezone(&Utc));
    }
    if let Ok(t) = DateTime::parse_from_str(&s, "%Y-%m-%dT%H:%M:%S%.f%z") {
        return Ok(t.with_timezone(&Utc));
    }
    if let Ok(d) = NaiveDate::parse_from_str(&s, "%Y-%m-%d")
        && let Some(t) = d.and_hms_opt(0, 0, 0)
    {
        return Ok(t.and_utc());
    }
    Err(format!("'{s}' is not an ISO 8601 timestamp"))
}

/// A comma-separated id list of at most `max` ids.
pub fn parse_id_list(s: &str, max: usize) -> Result<Vec<u64>, String> {
    let ids: Vec<u64> = s
        .split(',')
        .map(str::trim)
        .filter(|x| !x.is_empty())
        .map(|x| x.parse::<u64>().map_err(|_| format!("'{x}' is not an id")))
        .collect::<Result<_, _>>()?;
    if ids.len() > max {
        return Err(format!("at most {max} ids may be given, got {}", ids.len()));
    }
    Ok(ids)
}

/// One page of `items` (sorted by id ascending) in id-descending order,
/// starting below `after`. Returns the page and, when more match, the last id
/// on it (the next cursor's position).
pub fn page_desc<T>(
    items: &[T],
    id: impl Fn(&T) -> u64,
    after: Option<u64>,
    per_page: usize,
    pred: impl Fn(&T) -> bool,
) -> (Vec<&T>, Option<u64>) {
    let end = match after {
        Some(a) => items.partition_point(|x| id(x) < a),
        None => items.len(),
    };
    let mut it = items[..end].iter().rev().filter(|x| pred(x));
    let page: Vec<&T> = it.by_ref().take(per_page).collect();
    let more = page.len() == per_page && it.next().is_some();
    let next = if more {
        page.last().map(|x| id(x))
    } else {
        None
    };
    (page, next)
}

// ---------------------------------------------------------------------------
// Access tokens

type HmacSha256 = Hmac<Sha256>;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    pub iss: String,
    pub sub: String,
    pub iat: i64,
    pub exp: i64,
    /// Issue serial; tokens below the current floor are void.
    pub jti: u64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TokenRejection {
    Malformed,
    Expired,
    Revoked,
}

/// Issues and checks HMAC-signed JWT-like access tokens
/// (`base64url(header).base64url(claims).base64url(signature)`).
pub struct TokenAuthority {
    key: [u8; 32],
    issuer: String,
    pub ttl: Duration,
    next_serial: u64,
    /// Tokens with a serial below this are void (expire-all, revoke).
    floor: u64,
    pub revoked: bool,
}

impl fmt::Debug for TokenAuthority {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenAuthority")
            .field("issuer", &self.issuer)
            .field("ttl", &self.ttl)
            .field("revoked", &self.revoked)
            .finish_non_exhaustive()
    }
}

impl TokenAuthority {
    pub fn new(issuer: impl Into<String>, ttl: Duration) -> Self {
        TokenAuthority {
            key: rand::random(),
            issuer: issuer.into(),
            ttl,
            next_serial: 1,
            floor: 1,
            revoked: false,
        }
    }

    fn sign(&self, msg: &[u8]) -> Vec<u8> {
        // HMAC accepts keys of any length; an empty signature would only
        // make every token invalid.
        match <HmacSha256 as Mac>::new_from_slice(&self.key) {
            Ok(mut mac) => {
                mac.update(msg);
                mac.finalize().into_bytes().to_vec()
            }
            Err(_) => Vec::new(),
        }
    }

    /// Issues a token for `sub`; returns it with its expiry.
    pub fn issue(&mut self, sub: &str, now: DateTime<Utc>) -> (String, DateTime<Utc>) {
        let ttl = chrono::Duration::from_std(self.ttl).unwrap_or(chrono::Duration::hours(1));
        let exp = now + ttl;
        let claims = Claims {
            iss: self.issuer.clone(),
            sub: sub.to_string(),
            iat: now.timestamp(),
            exp: exp.timestamp(),
            jti: self.next_serial,
        };
        self.next_serial += 1;
        let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"HS256","typ":"JWT"}"#);
        let payload = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&claims).unwrap_or_default());
        let signing_input = format!("{header}.{payload}");
        let sig = URL_SAFE_NO_PAD.encode(self.sign(signing_input.as_bytes()));
        (format!("{signing_input}.{sig}"), exp)
    }

    pub fn validate(&self, token: &str, now: DateTime<Utc>) -> Result<Claims, TokenRejection> {
        let mut parts = token.split('.');
        let (Some(h), Some(p), Some(s), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(TokenRejection::Malformed);
        };
        let sig = URL_SAFE_NO_PAD
            .decode(s)
            .map_err(|_| TokenRejection::Malformed)?;
        let mut mac = <HmacSha256 as Mac>::new_from_slice(&self.key)
            .map_err(|_| TokenRejection::Malformed)?;
        mac.update(format!("{h}.{p}").as_bytes());
        mac.verify_slice(&sig)
            .map_err(|_| TokenRejection::Malformed)?;
        let claims: Claims = URL_SAFE_NO_PAD
            .decode(p)
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok())
            .ok_or(TokenRejection::Malformed)?;
        if self.revoked || claims.jti < self.floor {
            return Err(if self.revoked {
                TokenRejection::Revoked
            } else {
                TokenRejection::Expired
            });
        }
        if claims.exp <= now.timestamp() {
            return Err(TokenRejection::Expired);
        }
        Ok(claims)
    }

    /// Every token issued so far stops working.
    pub fn expire_all(&mut self) {
        self.floor = self.next_serial;
    }

    /// Client credentials stop working and every issued token is void, also
    /// after a later [`restore`](Self::restore).
    pub fn revoke(&mut self) {
        self.revoked = true;
        self.expire_all();
    }

    pub fn restore(&mut self) {
        self.revoked = false;
    }
}

/// Decodes `Authorization: Basic base64(id:secret)`.
pub fn basic_credentials(headers: &HeaderMap) -> Option<(String, String)> {
    let v = headers
        .get(axum::http::header::AUTHORIZATION)?
        .to_str()
        .ok()?;
    let (scheme, rest) = v.trim().split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = String::from_utf8(STANDARD.decode(rest.trim()).ok()?).ok()?;
    let (id, secret) = decoded.split_once(':')?;
    Some((id.to_string(), secret.to_string()))
}

/// The token of `Authorization: Bearer <token>`.
pub fn bearer_token(headers: &HeaderMap) -> Option<&str> {
    let v = headers
        .get(axum::http::header::AUTHORIZATION)?
        .to_str()
        .ok()?;
    let (scheme, rest) = v.trim().split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then_some(rest.trim())
        .filter(|t| !t.is_empty())
}

/// Adds `X-RateLimit-*` headers for a limiter decision.
pub fn rate_limit_headers(headers: &mut HeaderMap, d: Decision) {
    let (limit, remaining, reset) = match d {
        Decision::Unlimited => return,
        Decision::Allowed {
            limit,
            remaining,
            reset_epoch,
        } => (limit, remaining, reset_epoch),
        Decision::Limited {
            limit, reset_epoch, ..
        } => (limit, 0, reset_epoch),
    };
    headers.insert("x-ratelimit-limit", HeaderValue::from(limit));
    headers.insert("x-ratelimit-remaining", HeaderValue::from(remaining));
    headers.insert("x-ratelimit-reset", HeaderValue::from(reset));
    if let Decision::Limited { retry_after, .. } = d {
        headers.insert("retry-after", HeaderValue::from(retry_after));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursor_round_trip() {
        let c = Cursor {
            params: vec![
                ("updated_at".into(), "gte|2025-01-01T00:00:00Z".into()),
                ("job_ids".into(), "1,2".into()),
            ],
            per_page: 50,
            after: 90_000_123,
        };
        let s = c.encode();
        assert!(
            s.chars()
                .all(|ch| ch.is_ascii_alphanumeric() || ch == '-' || ch == '_')
        );
        assert_eq!(Cursor::decode(&s), Ok(c));
        assert!(Cursor::decode("not a cursor!").is_err());
        assert!(Cursor::decode(&URL_SAFE_NO_PAD.encode(b"{}")).is_err());
    }

    #[test]
    fn time_filters() {
        let f = TimeFilter::parse("gte|2025-01-01T00:00:00Z|lt|2025-02-01T00:00:00.000Z")
            .expect("parse");
        assert_eq!(f.0.len(), 2);
        let t = |s: &str| parse_timestamp(s).expect("ts");
        assert!(f.matches(t("2025-01-01T00:00:00Z")));
        assert!(f.matches(t("2025-01-31T23:59:59Z")));
        assert!(!f.matches(t("2025-02-01T00:00:00Z")));
        assert!(!f.matches(t("2024-12-31T23:59:59Z")));
        // '+' decoded as space from a query string.
        assert_eq!(t("2025-01-01T01:00:00 01:00"), t("2025-01-01T00:00:00Z"));
        assert_eq!(t("2025-01-01"), t("2025-01-01T00:00:00Z"));
        assert!(TimeFilter::parse("2025-01-01").is_err());
        assert!(TimeFilter::parse("after|2025-01-01").is_err());
        assert!(TimeFilter::parse("gte|yesterday").is_err());
        let g = TimeFilter::parse("gt|2025-01-01T00:00:00Z").expect("parse");
        assert!(!g.matches(t("2025-01-01T00:00:00Z")));
    }

    #[test]
    fn id_lists() {
        assert_eq!(parse_id_list("1, 2,3", 50), Ok(vec![1, 2, 3]));
        assert!(parse_id_list("1,x", 50).is_err());
        let many: Vec<String> = (0..51).map(|i| i.to_string()).collect();
        assert!(parse_id_list(&many.join(","), 50).is_err());
    }

    #[test]
    fn paging_desc() {
        let items: Vec<u64> = (1..=10).collect();
        let (p, next) = page_desc(&items, |x| *x, None, 4, |_| true);
        assert_eq!(p, vec![&10, &9, &8, &7]);
        assert_eq!(next, Some(7));
        let (p, next) = page_desc(&items, |x| *x, Some(7), 4, |_| true);
        assert_eq!(p, vec![&6, &5, &4, &3]);
        let (p, next2) = page_desc(&items, |x| *x, next, 4, |_| true);
        assert_eq!(p, vec![&2, &1]);
        assert_eq!(next2, None);
        // Exactly full last page: no next.
        let (_, n) = page_desc(&items, |x| *x, None, 10, |_| true);
        assert_eq!(n, None);
        let (p, _) = page_desc(&items, |x| *x, None, 3, |x| x % 2 == 0);
        assert_eq!(p, vec![&10, &8, &6]);
    }

    #[test]
    fn tokens() {
        let mut a = TokenAuthority::new("sandbox", Duration::from_secs(60));
        let now = Utc::now();
        let (t, exp) = a.issue("100", now);
        assert_eq!(exp.timestamp() - now.timestamp(), 60);
        assert_eq!(a.validate(&t, now).map(|c| c.sub), Ok("100".into()));
        assert_eq!(
            a.validate(&t, now + chrono::Duration::seconds(61)),
            Err(TokenRejection::Expired)
        );
        let mut forged = t.clone();
        forged.push('x');
        assert_eq!(a.validate(&forged, now), Err(TokenRejection::Malformed));
        assert_eq!(a.validate("abc", now), Err(TokenRejection::Malformed));
        a.expire_all();
        assert_eq!(a.validate(&t, now), Err(TokenRejection::Expired));
        let (t2, _) = a.issue("100", now);
        assert!(a.validate(&t2, now).is_ok());
        a.revoke();
        assert_eq!(a.validate(&t2, now), Err(TokenRejection::Revoked));
        a.restore();
        assert_eq!(a.validate(&t2, now), Err(TokenRejection::Expired));
    }

    #[test]
    fn faults_are_consumed() {
        let mut f = Faults::default();
        assert!(
            f.push(Fault {
                status: 404,
                count: 1,
                path_prefix: "/v3".into()
            })
            .is_err()
        );
        f.push(Fault {
            status: 503,
            count: 2,
            path_prefix: "/v3/applications".into(),
        })
        .expect("push");
        assert_eq!(f.take("/v3/jobs"), None);
        assert_eq!(f.take("/v3/applications"), Some(503));
        assert_eq!(f.take("/v3/applications/1"), Some(503));
        assert_eq!(f.take("/v3/applications"), None);
    }
}
