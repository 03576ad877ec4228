//! How a sandbox is set up, and how clients connect to it.

use std::collections::BTreeMap;
use std::fmt;
use std::net::SocketAddr;
use std::time::Duration;

use serde::Serialize;
use serde_json::{Value, json};

use super::data::{ResumeRule, Tenant};

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
    /// Which resume files candidates have: real PDF and DOCX files for most
    /// by default; a share may be unreadable.
    pub resumes: ResumeRule,
    /// Time scale of webhook retries and timeouts (1 = the vendor's; 0.001
    /// turns Greenhouse's 15 hours into under a minute).
    pub webhook_time_scale: f64,
    /// Webhook deliveries waiting at most (first attempts and retries);
    /// beyond it the oldest is dropped and counted.
    pub webhook_queue_cap: usize,
}

impl SandboxOptions {
    /// The generated tenant these options describe.
    pub fn tenant(&self) -> Tenant {
        let mut t = Tenant::generate(self.seed, self.jobs, self.applications);
        t.set_resume_rule(self.resumes);
        t
    }
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
            resumes: ResumeRule::default(),
            webhook_time_scale: 1.0,
            webhook_queue_cap: super::webhooks::sender::QUEUE_CAP,
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
            .field("resumes", &self.resumes)
            .field("webhook_time_scale", &self.webhook_time_scale)
            .field("webhook_queue_cap", &self.webhook_queue_cap)
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

/// Rejects options no sandbox can serve.
pub(crate) fn validate(opts: &SandboxOptions) -> Result<(), SandboxError> {
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
    if opts.resumes.unreadable_percent > 100 {
        return Err(SandboxError::Options(
            "unreadable resume share is a percentage (0-100)".into(),
        ));
    }
    if !super::webhooks::control::valid_scale(opts.webhook_time_scale) {
        return Err(SandboxError::Options(
            "webhook time scale must be above 0 and at most 100".into(),
        ));
    }
    if !(1..=super::webhooks::sender::QUEUE_CAP).contains(&opts.webhook_queue_cap) {
        return Err(SandboxError::Options(format!(
            "webhook queue cap must be 1..={}",
            super::webhooks::sender::QUEUE_CAP
        )));
    }
    if opts.client_id.is_empty() || opts.client_secret.is_empty() {
        return Err(SandboxError::Options(
            "client_id and client_secret must not be empty".into(),
        ));
    }
    Ok(())
}
