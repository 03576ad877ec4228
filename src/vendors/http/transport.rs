//! The HTTP clients, the retry loop, capped body reads, and [`VendorHttp`]:
//! one connection's client, limiter and auth.

use std::fmt;
use std::time::Duration;

use chrono::Utc;
use reqwest::header::{AUTHORIZATION, HeaderValue};
use reqwest::{RequestBuilder, Response, StatusCode};
use serde::de::DeserializeOwned;
use url::Url;

use super::auth::Auth;
use super::headers::{describe, error_message, retry_after};
use super::limiter::{Hold, RateLimiter, Waited};
use super::retry::RetryPolicy;
use crate::metrics;
use crate::model::VendorKind;
use crate::vendors::hosts::DownloadPolicy;
use crate::vendors::{VendorError, guard};

/// The HTTP clients and the retry policy. Cheap to clone (the clients are shared).
///
/// API and token calls follow no redirect: a 3xx is an answer, not an
/// invitation to send credentials elsewhere. File downloads (presigned URLs,
/// no credentials) may follow a few.
#[derive(Clone, Debug)]
pub struct Transport {
    client: reqwest::Client,
    downloads: reqwest::Client,
    /// Where files may come from; every redirect hop is checked too.
    files: std::sync::Arc<DownloadPolicy>,
    policy: RetryPolicy,
    /// The `vendor` label of this transport's requests.
    vendor: &'static str,
}

/// What a request is, for its `route` label: an API route (templated from
/// its path), or a token request or a file download (whose URLs are not the
/// vendor's API, so they are named, not templated).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Call {
    Api,
    Token,
    Download,
}

impl Call {
    fn route(self, url: &Url) -> String {
        match self {
            Call::Api => metrics::route::template(url.path()),
            Call::Token => "token".into(),
            Call::Download => "download".into(),
        }
    }
}

/// Largest JSON body read (one page of a listing, a token response).
pub const MAX_JSON_BODY: usize = 32 * 1024 * 1024;
/// Largest error body read; only a short summary of it is ever kept.
pub const MAX_ERROR_BODY: usize = 64 * 1024;

/// The most reserved up front for a body of announced length.
const PRESIZE_LIMIT: usize = 2 * 1024 * 1024;

/// Reads a body through a limit as it arrives: an endless or oversized body
/// stops at `cap` bytes instead of filling memory.
pub async fn read_capped(
    mut resp: Response,
    cap: usize,
    what: &str,
) -> Result<Vec<u8>, VendorError> {
    let announced = resp.content_length();
    if announced.is_some_and(|n| n > cap as u64) {
        return Err(VendorError::Decode(format!(
            "{what}: body larger than {} KiB",
            cap / 1024
        )));
    }
    // Sized once from the announced length: growing by doubling would hold up
    // to twice a page (and both copies while reallocating). Only up to
    // PRESIZE_LIMIT: an announcement costs a hostile vendor nothing.
    let presize = announced.map_or(0, |n| n.min(PRESIZE_LIMIT as u64) as usize);
    let mut out = Vec::with_capacity(presize);
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
        endpoints: guard::EndpointPolicy,
        files: DownloadPolicy,
    ) -> Result<Self, VendorError> {
        let files = std::sync::Arc::new(files);
        let build = |redirects: reqwest::redirect::Policy| {
            let b = reqwest::Client::builder();
            let b = match guard::resolver(endpoints) {
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
        let hops = files.clone();
        let follow = reqwest::redirect::Policy::custom(move |attempt| {
            if attempt.previous().len() >= 5 || !hops.allows(attempt.url().as_str()) {
                attempt.stop()
            } else {
                attempt.follow()
            }
        });
        Ok(Transport {
            client: build(reqwest::redirect::Policy::none())?,
            downloads: build(follow)?,
            files,
            policy,
            vendor: "unknown",
        })
    }

    /// Labels this transport's metrics with `vendor`.
    pub fn for_vendor(mut self, vendor: VendorKind) -> Self {
        self.vendor = vendor.as_str();
        self
    }

    /// The `vendor` label of this transport's metrics.
    pub fn vendor(&self) -> &'static str {
        self.vendor
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
    pub(super) async fn retrying<F>(
        &self,
        call: Call,
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
                // A hold-off longer than we would wait for one answer fails the
                // request now, so the run reports it instead of stalling.
                let mut waited = Waited::default();
                let acquired = l.acquire_counting(p.max_retry_after, &mut waited).await;
                for hold in Hold::ALL {
                    metrics::global().rate_limit_wait(self.vendor, hold, waited.get(hold));
                }
                if let Err(wait) = acquired {
                    return Err(VendorError::RateLimited {
                        retry_after: Duration::from_secs(wait.as_secs_f64().ceil() as u64),
                    });
                }
            }
            let header = match auth {
                Some(a) => a.header().await?,
                None => None,
            };
            let mut rb = make();
            if let Some(h) = &header {
                rb = rb.header(AUTHORIZATION, h.clone());
            }
            let (http, request) = rb.build_split();
            let request = request
                .map_err(|e| VendorError::Config(format!("invalid request: {}", describe(e))))?;
            let (method, route) = (
                metrics::method_label(request.method()),
                call.route(request.url()),
            );
            let sent = http.execute(request).await;
            let status = sent.as_ref().ok().map(|r| r.status().as_u16());
            metrics::global().vendor_request(self.vendor, method, route, status);
            match sent {
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
                            metrics::global().rate_limit_wait(self.vendor, Hold::RetryAfter, wait);
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
                    if status.is_redirection() {
                        return Err(VendorError::Rejected {
                            status: status.as_u16(),
                            message: format!("{}: {REDIRECT_REFUSED}", resp.url().path()),
                        });
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
/// Listings that span pages are in [`paging`](super::paging).
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

    /// DELETEs each of `urls`; one already gone (404) counts as deleted, so
    /// removing registrations twice is harmless.
    pub async fn delete_each(&self, urls: &[reqwest::Url]) -> Result<(), VendorError> {
        for url in urls {
            match self.send(|| self.client().delete(url.clone())).await {
                Ok(_) | Err(VendorError::Rejected { status: 404, .. }) => {}
                Err(e) => return Err(e),
            }
        }
        Ok(())
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
                .retrying(
                    Call::Api,
                    Some(&self.limiter),
                    Some(&*self.auth),
                    &make,
                    idempotent,
                )
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

    /// GETs `url` and drops the answer: a cheap call that needs the access a
    /// sync needs (connection checks).
    pub async fn probe(&self, url: &Url) -> Result<(), VendorError> {
        self.send(|| self.client().get(url.clone())).await.map(drop)
    }

    /// Downloads a file from a presigned-style URL: no auth header, no rate
    /// limit, redirects followed, 5xx retried.
    pub async fn download(&self, url: &str) -> Result<Vec<u8>, VendorError> {
        if !self.transport.files.allows(url) {
            // The file is skipped (scored without it), as a refused one is.
            let host = Url::parse(url)
                .ok()
                .and_then(|u| u.host_str().map(str::to_string))
                .unwrap_or_default();
            return Err(VendorError::Forbidden(format!(
                "file download from {}: not one of the vendor's file hosts (https); an \
                 administrator can add it with --resume-download-hosts",
                super::headers::quoted(&host)
            )));
        }
        let url =
            Url::parse(url).map_err(|e| VendorError::Decode(format!("invalid file URL: {e}")))?;
        let make = || self.transport.downloads.get(url.clone());
        let (resp, _) = self
            .transport
            .retrying(Call::Download, None, None, &make, true)
            .await?;
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

/// `base` with `segments` appended, each escaped (ids come from vendor data),
/// and `params` as the query.
pub fn api_url<V: AsRef<str>>(
    base: &Url,
    segments: &[&str],
    params: &[(&str, V)],
) -> Result<Url, VendorError> {
    let mut u = base.clone();
    u.path_segments_mut()
        .map_err(|_| VendorError::Config("spec.baseUrl must be an http(s) URL".into()))?
        .pop_if_empty()
        .extend(segments);
    if !params.is_empty() {
        u.query_pairs_mut().extend_pairs(params);
    }
    Ok(u)
}

/// What a redirect from an API or token endpoint becomes.
pub const REDIRECT_REFUSED: &str = "the endpoint answered with a redirect, which is not \
    followed (credentials go only to the configured URL); set spec.baseUrl or spec.tokenUrl \
    to the address it redirects to";

/// Decodes a JSON body; errors name the path, never the query.
pub async fn decode<T: DeserializeOwned>(resp: Response) -> Result<T, VendorError> {
    let path = resp.url().path().to_string();
    let bytes = read_capped(resp, MAX_JSON_BODY, &path).await?;
    decode_bytes(&path, &bytes)
}

/// Pure: decodes a JSON body read from `path`. What serde says quotes the
/// body, so it is marked as the vendor's words.
pub fn decode_bytes<T: DeserializeOwned>(path: &str, bytes: &[u8]) -> Result<T, VendorError> {
    serde_json::from_slice(bytes).map_err(|e| {
        let first = bytes.iter().find(|b| !b.is_ascii_whitespace());
        if !matches!(first, Some(b'{' | b'[' | b'"')) && e.is_syntax() {
            VendorError::Decode(format!(
                "{path}: the answer is not JSON (is spec.baseUrl the vendor's API?)"
            ))
        } else {
            VendorError::Decode(format!(
                "{path}: {}",
                super::headers::quoted(&e.to_string())
            ))
        }
    })
}
