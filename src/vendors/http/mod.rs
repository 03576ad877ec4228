//! Shared HTTP for vendor clients: rate limits, retries with backoff, OAuth tokens.
//!
//! A vendor client holds one [`VendorHttp`] per connection. It builds requests
//! (with a closure, so a retry can rebuild them) and gets back a successful
//! response or a classified [`VendorError`](crate::vendors::VendorError);
//! everything between — the `Authorization` header from an [`Auth`], the shared
//! [`RateLimiter`], `Retry-After`, backoff with jitter, the one token refresh
//! after a 401 — is done here, so each vendor folder only knows its own paths
//! and payloads.
//!
//! - [`retry`]: the retry policy and jittered backoff.
//! - [`headers`]: `Retry-After`, rate-limit and `Link` headers, error messages.
//! - [`limiter`]: the per-connection rate limiter.
//! - [`transport`]: the clients, the retry loop, capped reads, [`VendorHttp`].
//! - [`paging`]: listings that follow next-page URLs.
//! - [`auth`]: static keys, client credentials, rotating refresh tokens.

pub mod auth;
pub mod headers;
pub mod limiter;
pub mod paging;
pub mod retry;
pub mod transport;

pub use auth::{
    ACCESS_TOKEN, ACCESS_TOKEN_EXPIRES_AT, Auth, ClientCredentials, NoAuth, REFRESH_TOKEN,
    RefreshTokenAuth, StaticAuth, parse_expiry, refresh_margin, token_expiry,
};
pub use headers::{
    MAX_VENDOR_WAIT, RateLimitInfo, error_message, link_with_rel, next_link, quoted,
    rate_limit_info, retry_after, unquoted,
};
pub use limiter::RateLimiter;
pub use paging::MAX_PAGES;
pub use retry::{RetryPolicy, full_jitter};
pub use transport::{
    MAX_ERROR_BODY, MAX_JSON_BODY, REDIRECT_REFUSED, Transport, VendorHttp, api_url, decode,
    decode_bytes, error_body, read_capped,
};
