//! ATS vendors. Each vendor lives in its own folder and implements [`AtsClient`];
//! paging helpers, rate limits, retries and OAuth tokens are shared in [`http`].
//! Adding a vendor means adding a folder and one arm in [`connect`].

pub mod greenhouse;
pub mod lever;
pub mod workable;
pub mod http;

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::model::{Application, ChangeSet, JobStatus, Score, VendorKind};

/// A credential value. Its `Debug` and `Display` never show the value.
#[derive(Clone, PartialEq, Eq)]
pub struct SecretValue(String);

impl SecretValue {
    pub fn new(v: impl Into<String>) -> Self {
        SecretValue(v.into())
    }
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for SecretValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretValue(***)")
    }
}

/// A connection with its credentials resolved from the Secret.
#[derive(Clone, Debug, PartialEq)]
pub struct ConnectionConfig {
    pub vendor: VendorKind,
    pub base_url: Option<String>,
    pub token_url: Option<String>,
    pub subdomain: Option<String>,
    /// Credential values by their logical name (`clientId`, `clientSecret`, `apiKey`, ...).
    pub credentials: BTreeMap<String, SecretValue>,
    /// The acting user id.
    pub sub: Option<String>,
    /// A client-side budget: (requests, window).
    pub rate_limit: Option<(u32, Duration)>,
}

impl ConnectionConfig {
    pub fn credential(&self, name: &str) -> Result<&SecretValue, VendorError> {
        self.credentials
            .get(name)
            .ok_or_else(|| VendorError::Config(format!("credential {name} is not set")))
    }
}

/// Which applications a sync covers.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PullScope {
    /// Empty means any status.
    pub job_statuses: Vec<JobStatus>,
    /// Empty means any job.
    pub job_ids: Vec<String>,
}

impl PullScope {
    pub fn includes_job(&self, job: &crate::model::Job) -> bool {
        (self.job_statuses.is_empty() || self.job_statuses.contains(&job.status))
            && (self.job_ids.is_empty() || self.job_ids.contains(&job.id))
    }
}

/// One score to write back into the ATS.
#[derive(Clone, Debug, PartialEq)]
pub struct WriteBackRequest {
    pub application: Application,
    pub score: Score,
    pub note: bool,
    /// The custom field to set, if any.
    pub custom_field: Option<String>,
    /// Idempotency key, embedded in the note so a write that landed before a crash is found again.
    pub key: String,
}

impl WriteBackRequest {
    /// The note text every vendor writes; the key line lets recovery find it.
    pub fn note_body(&self) -> String {
        let s = &self.score;
        let mut body = format!(
            "AI match score: {}/100 ({})\n",
            s.score,
            s.band.as_str().replace('_', " ")
        );
        let c = &s.components;
        let parts: Vec<String> = [
            ("skills", c.skills),
            ("experience", c.experience),
            ("title", c.title),
            ("education", c.education),
        ]
        .into_iter()
        .filter_map(|(n, v)| v.map(|v| format!("{n} {v}")))
        .collect();
        if !parts.is_empty() {
            body.push_str(&format!("Components: {}\n", parts.join(", ")));
        }
        if !s.strengths.is_empty() {
            body.push_str("Strengths:\n");
            for x in &s.strengths {
                body.push_str(&format!("- {x}\n"));
            }
        }
        if !s.gaps.is_empty() {
            body.push_str("Gaps:\n");
            for x in &s.gaps {
                body.push_str(&format!("- {x}\n"));
            }
        }
        body.push_str(&format!("[ats-operator:{}]", self.key));
        body
    }

    pub fn marker(&self) -> String {
        format!("[ats-operator:{}]", self.key)
    }
}

/// What a vendor client reports. The classification drives status conditions.
#[derive(Debug, thiserror::Error)]
pub enum VendorError {
    #[error("credentials rejected: {0}")]
    Auth(String),
    #[error("forbidden: {0}")]
    Forbidden(String),
    #[error("reauthorization required: {0}")]
    ReauthorizationRequired(String),
    #[error("rate limited by the vendor; retry after {retry_after:?}")]
    RateLimited { retry_after: Duration },
    #[error("vendor unavailable: {0}")]
    Unavailable(String),
    #[error("vendor rejected the request ({status}): {message}")]
    Rejected { status: u16, message: String },
    #[error("unexpected vendor response: {0}")]
    Decode(String),
    #[error("connection misconfigured: {0}")]
    Config(String),
}

impl VendorError {
    /// Whether a later attempt may succeed without the user changing anything.
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            VendorError::RateLimited { .. } | VendorError::Unavailable(_)
        )
    }
}

/// The small interface every vendor implements.
#[async_trait]
pub trait AtsClient: Send + Sync {
    /// Jobs in scope, and the candidates and applications changed since `since`
    /// (everything when `None`).
    async fn pull(
        &self,
        since: Option<DateTime<Utc>>,
        scope: &PullScope,
    ) -> Result<ChangeSet, VendorError>;

    /// Writes a score back.
    async fn write_back(&self, req: &WriteBackRequest) -> Result<(), VendorError>;

    /// Whether the note of `req` is already in the ATS (recovery after a crash).
    async fn note_exists(&self, req: &WriteBackRequest) -> Result<bool, VendorError>;

    /// Checks that the credentials work (obtains a token, or makes one cheap call).
    async fn verify(&self) -> Result<(), VendorError>;
}

/// Builds the client for a connection.
pub fn connect(cfg: &ConnectionConfig) -> Result<Arc<dyn AtsClient>, VendorError> {
    match cfg.vendor {
        VendorKind::Greenhouse => Ok(Arc::new(greenhouse::GreenhouseClient::new(cfg)?)),
        other => Err(VendorError::Config(format!(
            "vendor {other} is not supported yet"
        ))),
    }
}

/// The credential names a vendor reads from the Secret, as (logical name, Secret key).
pub fn required_credentials(
    vendor: VendorKind,
    auth: &crate::api::AuthSpec,
) -> Vec<(&'static str, String)> {
    match vendor {
        VendorKind::Greenhouse => vec![
            ("clientId", auth.client_id_key().to_string()),
            ("clientSecret", auth.client_secret_key().to_string()),
        ],
        _ => vec![("apiKey", auth.api_key_key().to_string())],
    }
}
