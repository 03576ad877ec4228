//! Vendor sandboxes: HTTP servers that behave as the vendors' documented APIs do,
//! over deterministic generated tenant data ([`data`]).
//!
//! Each vendor's sandbox has a folder of the same shape: [`greenhouse`],
//! [`lever`], [`workable`], each with `mod.rs` (state and router assembly),
//! `api.rs` (the vendor's API routes), `auth.rs` (the API guard's vendor
//! hooks: limit, faults, authentication), `control.rs` (its control-API
//! hooks and extras), `errors.rs` (its error bodies), `query.rs` (list
//! parameters and paging) and `render.rs` (its JSON), plus `oauth.rs` where
//! it has token endpoints. What they share lives here: options, the running
//! server, rate limits ([`ratelimit`]), faults, statistics, cursors and
//! filters, access and rotating refresh tokens, JSON errors, the API
//! [`guard`] and the [`control`] API. Nothing here depends on the operator's
//! vendor clients, and they do not depend on it.
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
//! | `GET /_sandbox/applications` | `[{"id": "<string>", "job_id": "<string>", "job_status": "open\|closed\|draft", "resume_file": "pdf\|docx\|html\|text\|scanned_pdf\|damaged_docx", ...}]` |
//! | `GET /_sandbox/applications/{id}` | one of those |
//! | `GET /_sandbox/applications/{id}/writes` | what the operator wrote: `{"notes": ["<body>", ..], "tags": ["..", ..], "custom_fields": {"<key>": value}}` |
//!
//! Recruiter changes that send signed webhooks (stage, reject, hire, delete
//! or anonymize a candidate), `emit`, the deliveries log and the time scale
//! are in [`webhooks`].
//!
//! Vendor extras: Greenhouse `POST /_sandbox/jobs/{id}/status` `{"status":
//! "open\|closed\|draft"}` (a recruiter opens or closes a job),
//! `GET /_sandbox/applications/{id}/notes`, `POST
//! /_sandbox/refresh_tokens/expire` (every partner grant dies) and `GET
//! /_sandbox/oauth/callback` (the partner app's registered redirect URI: it
//! shows the `code` and `state` it was sent); Lever `POST
//! /_sandbox/refresh_tokens/expire` and `.../reissue`, `PUT|GET
//! /_sandbox/token_ttl` `{"seconds"}`. Greenhouse and Lever: `PUT
//! /_sandbox/demographics` `{"disparity": 0..50}`, the built-in disparity of
//! the self-identification answers they serve (`GET /v3/eeoc`, `GET
//! /v1/eeo/responses/pii`; see [`demographics`]).

pub mod changes;
pub mod control;
pub mod cursors;
pub mod data;
pub mod demographics;
pub mod documents;
pub mod errors;
pub mod faults;
pub mod greenhouse;
pub mod guard;
pub mod lever;
pub mod options;
pub mod ratelimit;
pub mod refresh;
pub mod request;
pub mod server;
pub mod stats;
pub mod tokens;
pub mod webhooks;
pub mod workable;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};

use chrono::{DateTime, SecondsFormat, Utc};

use crate::model::VendorKind;

pub use errors::ApiError;
pub use options::{SandboxCredentials, SandboxError, SandboxOptions};
pub use ratelimit::{Decision, FixedWindow, Limit};
pub use server::{RunningSandbox, bind, serve};
pub use stats::Stats;

/// A sandbox's state as its handlers share it.
pub type Shared<T> = Arc<Mutex<T>>;

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
    options::validate(&opts)?;
    let (listener, base_url) = bind(addr).await?;
    let (router, credentials) = match vendor {
        VendorKind::Greenhouse => greenhouse::router(&opts, &base_url),
        VendorKind::Lever => lever::router(&opts, &base_url),
        VendorKind::Workable => workable::router(&opts, &base_url),
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

/// Locks shared state; a panicked handler must not take the sandbox down.
pub fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// The wire format for timestamps: RFC 3339 with milliseconds and `Z`.
pub fn ts(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}
