//! ATS vendors. Each vendor lives in its own folder and implements [`AtsClient`];
//! paging helpers, rate limits, retries and OAuth tokens are shared in [`http`].
//! Adding a vendor means adding a folder and one arm in [`connect`].

pub mod batches;
pub mod greenhouse;
pub mod guard;
pub mod hosts;
pub mod http;
pub mod lever;
pub mod notes;
pub mod registry;
pub mod resume_file;
pub mod webhooks;
pub mod workable;

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::model::{Application, ChangeSet, Job, JobStatus, Score, VendorKind};

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
    /// Which addresses the client may reach.
    pub endpoints: guard::EndpointPolicy,
    /// Resume download hosts the administrator added (`--resume-download-hosts`).
    pub download_hosts: Vec<String>,
}

impl ConnectionConfig {
    /// The credentials this vendor's client rotates itself.
    pub fn vendor_rotated(&self) -> Vec<&'static str> {
        credentials(self.vendor, &crate::api::AuthSpec::default())
            .map(|c| c.rotated)
            .unwrap_or_default()
    }

    /// Where this connection's resume downloads may go.
    pub fn download_policy(&self) -> hosts::DownloadPolicy {
        let custom = self
            .base_url
            .as_deref()
            .filter(|u| !hosts::is_vendor_endpoint(self.vendor, u));
        hosts::DownloadPolicy {
            vendor: Some(self.vendor),
            extra: self.download_hosts.clone(),
            custom_origin: custom.and_then(hosts::origin),
        }
    }

    /// Whether text the endpoints answer may be shown to the tenant: only when
    /// they are the vendor's own (a custom endpoint could be anything, and
    /// its answers must not become a way to read it through status).
    pub fn quotes_vendor_text(&self) -> bool {
        hosts::custom_endpoint_fields(
            self.vendor,
            self.base_url.as_deref(),
            self.token_url.as_deref(),
        )
        .is_empty()
    }

    pub fn credential(&self, name: &str) -> Result<&SecretValue, VendorError> {
        self.credentials
            .get(name)
            .ok_or_else(|| VendorError::Config(format!("credential {name} is not set")))
    }
}

/// A spec field as the user set it: trimmed, `None` when absent or blank.
pub fn given(field: Option<&str>) -> Option<&str> {
    field.map(str::trim).filter(|s| !s.is_empty())
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
    /// The band tag to set, replacing our other band tags.
    pub band_tag: Option<BandTag>,
    /// Idempotency key, embedded in the note so a write that landed before a crash is found again.
    pub key: String,
    /// When the score was decided: the marker carries it, so the newest of the
    /// operator's notes on an application can be told without the ledger.
    pub decided_at: DateTime<Utc>,
    /// The profile that scored, as the note names it: `name (generation N)`.
    pub profile: String,
}

/// A band tag such as `ai-strong-fit`. Tags are sets, so setting one is
/// idempotent; `others` are the operator's other band tags, removed so only
/// the current band shows.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BandTag {
    pub tag: String,
    pub others: Vec<String>,
}

impl BandTag {
    /// The tag for `band` under `prefix`, e.g. `ai-` + strong fit = `ai-strong-fit`.
    pub fn new(prefix: &str, band: crate::model::Band) -> Self {
        let name = |b: crate::model::Band| format!("{prefix}{}", b.as_str().replace('_', "-"));
        BandTag {
            tag: name(band),
            others: crate::model::Band::ALL
                .iter()
                .filter(|b| **b != band)
                .map(|b| name(*b))
                .collect(),
        }
    }
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
        let parts = s.components.listed();
        if !parts.is_empty() {
            body.push_str(&format!("Components: {parts}\n"));
        }
        if !s.summary.is_empty() {
            body.push_str(&format!("Summary: {}\n", s.summary));
        }
        let evidence = note_evidence(&s.evidence);
        if !evidence.is_empty() {
            body.push_str("Evidence:\n");
            body.push_str(&evidence);
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
        if !self.profile.is_empty() {
            body.push_str(&format!("Scoring profile: {}\n", self.profile));
        }
        body.push_str(&self.marker());
        body
    }

    /// The note's key line: the write key, and what the note says, so that
    /// recovery without the ledger can compare it with a new score.
    pub fn marker(&self) -> String {
        format!(
            "{MARKER_PREFIX}{} score={} band={} at={}]",
            self.key,
            self.score.score,
            self.score.band.as_str(),
            self.decided_at.timestamp()
        )
    }
}

const MARKER_PREFIX: &str = "[ats-operator:";

/// Evidence lines in a note: at most this many, each at most this long.
const NOTE_EVIDENCE_LINES: usize = 12;
const NOTE_LINE_CHARS: usize = 240;

/// Pure: the evidence part of a note, bounded: "+" met, "~" met in part,
/// "-" not met, each with the resume sentence it rests on.
pub fn note_evidence(evidence: &[crate::model::Evidence]) -> String {
    use crate::model::EvidenceKind;
    let mut out = String::new();
    for e in evidence.iter().take(NOTE_EVIDENCE_LINES) {
        let mark = match (e.matched, e.strength) {
            (false, _) => '-',
            (true, s) if s < 100 => '~',
            _ => '+',
        };
        let kind = match e.kind {
            EvidenceKind::Must => "required",
            EvidenceKind::Nice => "nice to have",
            EvidenceKind::Years => "experience",
            EvidenceKind::Cert => "certification",
            EvidenceKind::Education => "education",
        };
        let mut line = format!("{mark} {} ({kind})", e.requirement);
        if let Some(n) = &e.note {
            line.push_str(&format!(", {n}"));
        }
        match (&e.sentence, e.matched) {
            (Some(q), _) => line.push_str(&format!(": \"{q}\"")),
            (None, false) if e.kind == EvidenceKind::Must || e.kind == EvidenceKind::Nice => {
                line.push_str(": not found")
            }
            _ => {}
        }
        if line.chars().count() > NOTE_LINE_CHARS {
            line = line.chars().take(NOTE_LINE_CHARS - 1).collect();
            line.push('…');
        }
        out.push_str(&line);
        out.push('\n');
    }
    if evidence.len() > NOTE_EVIDENCE_LINES {
        out.push_str(&format!(
            "({} more requirements not shown)\n",
            evidence.len() - NOTE_EVIDENCE_LINES
        ));
    }
    out
}

/// The key line of one of the operator's notes, parsed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NoteMark {
    pub key: String,
    pub score: Option<u8>,
    pub band: Option<String>,
    /// Unix seconds of the decision.
    pub at: Option<i64>,
}

impl NoteMark {
    /// Pure: the marker in a note body, if it is one of the operator's notes.
    /// Older notes carry the key alone (`[ats-operator:KEY]`).
    pub fn parse(body: &str) -> Option<NoteMark> {
        let start = body.rfind(MARKER_PREFIX)? + MARKER_PREFIX.len();
        let rest = &body[start..];
        let inner = &rest[..rest.find(']')?];
        let mut words = inner.split_whitespace();
        let key = words.next()?.to_string();
        let mut mark = NoteMark {
            key,
            score: None,
            band: None,
            at: None,
        };
        for w in words {
            match w.split_once('=') {
                Some(("score", v)) => mark.score = v.parse().ok(),
                Some(("band", v)) => mark.band = Some(v.to_string()),
                Some(("at", v)) => mark.at = v.parse().ok(),
                _ => {}
            }
        }
        Some(mark)
    }

    /// Pure: the newest mark among note bodies (by decision time; list order
    /// breaks ties and orders old markers without one).
    pub fn latest<'a>(bodies: impl IntoIterator<Item = &'a str>) -> Option<NoteMark> {
        bodies
            .into_iter()
            .filter_map(NoteMark::parse)
            .enumerate()
            .max_by_key(|(i, m)| (m.at.unwrap_or(i64::MIN), *i))
            .map(|(_, m)| m)
    }

    /// Whether this note already says what `req` would write.
    pub fn says(&self, req: &WriteBackRequest) -> bool {
        self.key == req.key
            || (self.score == Some(req.score.score)
                && self.band.as_deref() == Some(req.score.band.as_str()))
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
    #[error(
        "rate limited by the vendor; it asks to wait {}s (at most 3600s is believed), \
         and the sync tries again then",
        retry_after.as_secs()
    )]
    RateLimited { retry_after: Duration },
    #[error("vendor unavailable: {0}")]
    Unavailable(String),
    #[error("vendor rejected the request ({status}): {message}")]
    Rejected { status: u16, message: String },
    #[error("unexpected vendor response: {0}")]
    Decode(String),
    #[error("connection misconfigured: {0}")]
    Config(String),
    #[error("endpoint not allowed: {0}")]
    EndpointNotAllowed(String),
}

impl VendorError {
    /// The same error again, for each run that meets a client that could not
    /// be built (the classification is kept; the details become text).
    pub fn again(&self) -> VendorError {
        match self {
            VendorError::EndpointNotAllowed(m) => VendorError::EndpointNotAllowed(m.clone()),
            VendorError::Config(m) => VendorError::Config(m.clone()),
            other => VendorError::Config(other.to_string()),
        }
    }

    /// A `Forbidden` with `hint` (what the vendor's credentials must be
    /// granted) appended; any other error as it is.
    pub fn with_hint(self, hint: &str) -> VendorError {
        match self {
            VendorError::Forbidden(m) => VendorError::Forbidden(format!("{m}; {hint}")),
            other => other,
        }
    }

    /// Whether a later attempt may succeed without the user changing anything.
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            VendorError::RateLimited { .. } | VendorError::Unavailable(_)
        )
    }
}

/// The batches of a pull.
pub type Batches<'a> = futures::stream::BoxStream<'a, Result<ChangeSet, VendorError>>;

/// What the pipeline already holds, so that a client can skip the per-record
/// details (a detail request, a resume download) of records that did not
/// change; a full sync of an unchanged tenant then costs list requests only.
pub trait Known: Send + Sync {
    /// Whether application `id` of `job`, listed with `updated_at`, is as the
    /// pipeline last processed it. A client reports such an application in
    /// [`ChangeSet::unchanged_application_ids`] instead of fetching it.
    fn unchanged(&self, id: &str, job: &Job, updated_at: Option<DateTime<Utc>>) -> bool;
}

/// Knows nothing: every record is fetched.
pub struct NothingKnown;

impl Known for NothingKnown {
    fn unchanged(&self, _: &str, _: &Job, _: Option<DateTime<Utc>>) -> bool {
        false
    }
}

/// The small interface every vendor implements.
#[async_trait]
pub trait AtsClient: Send + Sync {
    /// Jobs in scope, and the candidates and applications changed since `since`
    /// (everything when `None`), in bounded batches, resuming after the
    /// `resume_after` token of an earlier batch. The details of what `known`
    /// says is unchanged are not fetched (those applications are listed as
    /// unchanged). Every batch carries the jobs in scope.
    fn pull_batches<'a>(
        &'a self,
        since: Option<DateTime<Utc>>,
        scope: &'a PullScope,
        resume_after: Option<String>,
        known: &'a dyn Known,
    ) -> Batches<'a>;

    /// The whole pull as one change set (its batches merged).
    async fn pull_known(
        &self,
        since: Option<DateTime<Utc>>,
        scope: &PullScope,
        known: &dyn Known,
    ) -> Result<ChangeSet, VendorError> {
        use futures::StreamExt;
        let mut batches = self.pull_batches(since, scope, None, known);
        let mut out: Option<ChangeSet> = None;
        while let Some(b) = batches.next().await {
            let b = b?;
            match &mut out {
                None => out = Some(b),
                Some(o) => o.absorb(b),
            }
        }
        let mut out = out.unwrap_or_default();
        out.resume_after = None;
        Ok(out)
    }

    /// [`AtsClient::pull_known`], fetching everything.
    async fn pull(
        &self,
        since: Option<DateTime<Utc>>,
        scope: &PullScope,
    ) -> Result<ChangeSet, VendorError> {
        self.pull_known(since, scope, &NothingKnown).await
    }

    /// The current state of applications `ids`, as a webhook names them: each
    /// with its candidate (the resume read as [`AtsClient::pull_batches`] reads
    /// it) and its job. An application whose job is outside `scope` (or that
    /// has none) is listed in [`ChangeSet::out_of_scope_application_ids`] and
    /// nothing more is fetched for it; one the vendor no longer has (404, or
    /// absent from an id filter) or has anonymized is listed in
    /// [`ChangeSet::deleted_application_ids`]. At most [`batches::BY_ID`] ids
    /// per request; more are fetched in chunks. The result carries no
    /// watermark and no resume token: it is not a pull of what changed.
    async fn pull_applications(
        &self,
        ids: &[String],
        scope: &PullScope,
    ) -> Result<ChangeSet, VendorError> {
        let _ = (ids, scope);
        Err(VendorError::Config(
            "this vendor's client cannot fetch applications by id".into(),
        ))
    }

    /// Writes a score back.
    async fn write_back(&self, req: &WriteBackRequest) -> Result<(), VendorError>;

    /// The bodies of the operator's notes on the application (those with a
    /// marker), in the order the vendor lists them.
    async fn operator_notes(&self, application: &Application) -> Result<Vec<String>, VendorError>;

    /// Whether the note of `req` is already in the ATS (recovery after a crash).
    async fn note_exists(&self, req: &WriteBackRequest) -> Result<bool, VendorError> {
        Ok(self
            .operator_notes(&req.application)
            .await?
            .iter()
            .filter_map(|b| NoteMark::parse(b))
            .any(|m| m.key == req.key))
    }

    /// Checks that the credentials work (obtains a token, or makes one cheap call).
    async fn verify(&self) -> Result<(), VendorError>;

    /// The candidates' voluntary self-identification for `application_ids`,
    /// by application id, for bias audits only (never for scoring, never
    /// stored). `None`: the vendor has no API for it.
    async fn demographics(
        &self,
        application_ids: &[String],
    ) -> Result<Option<std::collections::HashMap<String, crate::audit::Demographics>>, VendorError>
    {
        let _ = application_ids;
        Ok(None)
    }

    /// The vendor's rejection (archive) reasons by id, for outcome events that
    /// carry only a reason's id (Lever). `None`: the events carry what is needed.
    async fn rejection_reasons(
        &self,
    ) -> Result<
        Option<std::collections::HashMap<String, crate::webhooks::parse::ReasonInfo>>,
        VendorError,
    > {
        Ok(None)
    }

    /// Registers a webhook to `url` for each event the operator needs
    /// (idempotent: existing registrations for `url` are adopted or
    /// replaced, see [`webhooks::plan`]). Vendors without an API for it
    /// (Greenhouse) answer [`webhooks::unsupported`].
    async fn register_webhooks(
        &self,
        url: &str,
    ) -> Result<Vec<webhooks::WebhookRegistration>, VendorError> {
        self.register_webhooks_known(url, &[]).await
    }

    /// As [`register_webhooks`](Self::register_webhooks), adopting the
    /// registrations in `known` whose signing tokens the caller holds.
    async fn register_webhooks_known(
        &self,
        url: &str,
        known: &[webhooks::WebhookRegistration],
    ) -> Result<Vec<webhooks::WebhookRegistration>, VendorError> {
        let _ = (url, known);
        Err(webhooks::unsupported())
    }

    /// Removes registrations by id; one already gone counts as removed.
    async fn unregister_webhooks(&self, ids: &[String]) -> Result<(), VendorError> {
        let _ = ids;
        Err(webhooks::unsupported())
    }

    /// The webhooks the vendor holds (all URLs), without signing tokens.
    async fn list_webhooks(&self) -> Result<Vec<webhooks::WebhookRegistration>, VendorError> {
        Err(webhooks::unsupported())
    }
}

/// What a vendor can write back.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WriteCapabilities {
    pub note: bool,
    pub custom_field: bool,
    pub band_tag: bool,
}

/// The Secret keys a vendor reads: the first alternative whose keys are all
/// present wins (Lever: an API key, or OAuth client and refresh token).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CredentialSpec {
    /// Alternatives of (logical name, Secret key).
    pub alternatives: Vec<Vec<(&'static str, String)>>,
    /// Read when present (e.g. a cached access token).
    pub optional: Vec<(&'static str, String)>,
    /// Logical names the client itself rotates and saves back to the Secret:
    /// a change to these must not restart the worker.
    pub rotated: Vec<&'static str>,
}

impl CredentialSpec {
    /// One set of required keys.
    pub fn required(keys: Vec<(&'static str, String)>) -> Self {
        CredentialSpec {
            alternatives: vec![keys],
            optional: Vec::new(),
            rotated: Vec::new(),
        }
    }
}

/// Where a client saves credentials it rotates (Lever's refresh tokens): the
/// tenant's Secret in the operator, memory in tests and benchmarks.
#[async_trait]
pub trait CredentialStore: Send + Sync {
    /// Takes the tenant's rotation lock, across workers and operator replicas.
    /// Only the holder refreshes; the lock goes when the guard is released.
    async fn lock(&self) -> Result<Box<dyn CredentialLock>, VendorError>;
}

/// A held rotation lock.
#[async_trait]
pub trait CredentialLock: Send {
    /// The current credentials by logical name (another holder may have rotated them).
    async fn load(&mut self) -> Result<BTreeMap<String, SecretValue>, VendorError>;
    /// Saves rotated credentials (by logical name) before they are used.
    async fn save(&mut self, updates: &BTreeMap<String, SecretValue>) -> Result<(), VendorError>;
    /// Gives the lock up.
    async fn release(self: Box<Self>);
}

/// A [`CredentialStore`] in memory: for tests, benchmarks and the CLI.
#[derive(Clone, Default)]
pub struct MemoryStore {
    creds: Arc<tokio::sync::Mutex<BTreeMap<String, SecretValue>>>,
}

impl MemoryStore {
    pub fn new(creds: BTreeMap<String, SecretValue>) -> Self {
        MemoryStore {
            creds: Arc::new(tokio::sync::Mutex::new(creds)),
        }
    }

    /// What is stored now.
    pub async fn snapshot(&self) -> BTreeMap<String, SecretValue> {
        self.creds.lock().await.clone()
    }
}

struct MemoryLock(tokio::sync::OwnedMutexGuard<BTreeMap<String, SecretValue>>);

#[async_trait]
impl CredentialStore for MemoryStore {
    async fn lock(&self) -> Result<Box<dyn CredentialLock>, VendorError> {
        Ok(Box::new(MemoryLock(self.creds.clone().lock_owned().await)))
    }
}

#[async_trait]
impl CredentialLock for MemoryLock {
    async fn load(&mut self) -> Result<BTreeMap<String, SecretValue>, VendorError> {
        Ok(self.0.clone())
    }
    async fn save(&mut self, updates: &BTreeMap<String, SecretValue>) -> Result<(), VendorError> {
        self.0.extend(updates.clone());
        Ok(())
    }
    async fn release(self: Box<Self>) {}
}

/// The registry: each vendor folder exposes `credentials`, `WRITES` and `connect`.
/// Adding a vendor adds one arm to each of these three functions, nothing else.
pub fn credentials(
    vendor: VendorKind,
    auth: &crate::api::AuthSpec,
) -> Result<CredentialSpec, VendorError> {
    match vendor {
        VendorKind::Greenhouse => Ok(greenhouse::credentials(auth)),
        VendorKind::Lever => Ok(lever::credentials(auth)),
        VendorKind::Workable => Ok(workable::credentials(auth)),
        other => Err(unsupported(other)),
    }
}

/// What `vendor` can write back.
pub fn write_capabilities(vendor: VendorKind) -> Result<WriteCapabilities, VendorError> {
    match vendor {
        VendorKind::Greenhouse => Ok(greenhouse::WRITES),
        VendorKind::Lever => Ok(lever::WRITES),
        VendorKind::Workable => Ok(workable::WRITES),
        other => Err(unsupported(other)),
    }
}

/// Builds the client for a connection. `store` persists rotated credentials;
/// `None` keeps them in memory (they are lost on restart).
pub fn connect(
    cfg: &ConnectionConfig,
    store: Option<Arc<dyn CredentialStore>>,
) -> Result<Arc<dyn AtsClient>, VendorError> {
    let store = store.unwrap_or_else(|| Arc::new(MemoryStore::new(cfg.credentials.clone())));
    for (field, url) in [
        ("spec.baseUrl", &cfg.base_url),
        ("spec.tokenUrl", &cfg.token_url),
    ] {
        if let Some(u) = url {
            guard::check_url(field, u, cfg.endpoints)?;
        }
    }
    match cfg.vendor {
        VendorKind::Greenhouse => Ok(Arc::new(greenhouse::GreenhouseClient::new(cfg)?)),
        VendorKind::Lever => lever::connect(cfg, store),
        VendorKind::Workable => workable::connect(cfg, store),
        other => Err(unsupported(other)),
    }
}

fn unsupported(vendor: VendorKind) -> VendorError {
    VendorError::Config(format!(
        "vendor {vendor} is not supported yet (greenhouse, lever and workable are)"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Band, ComponentScores};

    fn req(key: &str, score: u8, band: Band, at: i64) -> WriteBackRequest {
        WriteBackRequest {
            application: Application {
                id: "a1".into(),
                candidate_id: "c1".into(),
                job_id: "j1".into(),
                status: crate::model::ApplicationStatus::New,
                stage: None,
                applied_at: None,
                updated_at: None,
                number_fields: Default::default(),
            },
            score: Score {
                score,
                components: ComponentScores {
                    skills: Some(score),
                    experience: None,
                    title: None,
                    education: None,
                    semantic: None,
                },
                strengths: vec![],
                gaps: vec![],
                band,
                evidence: vec![],
                requirements_found: true,
                summary: String::new(),
                candidate_summary: String::new(),
                semantic_model: None,
            },
            note: true,
            custom_field: None,
            band_tag: None,
            key: key.into(),
            decided_at: DateTime::from_timestamp(at, 0).unwrap_or_default(),
            profile: "default (generation 3)".into(),
        }
    }

    #[test]
    fn the_note_shows_evidence_bounded() {
        use crate::model::{Evidence, EvidenceKind};
        let mut r = req("k1", 64, Band::ModerateFit, 1_700_000_000);
        r.score.summary = "64/100, moderate fit.".into();
        let ev = |name: &str, matched, strength, sentence: Option<&str>| Evidence {
            requirement: name.into(),
            kind: EvidenceKind::Must,
            matched,
            strength,
            sentence: sentence.map(str::to_string),
            note: (strength > 0 && strength < 100).then(|| "counted in part".to_string()),
        };
        r.score.evidence = vec![
            ev("Kafka", true, 100, Some("Built a pipeline using Kafka")),
            ev(
                "Terraform",
                true,
                50,
                Some(&"Familiar with Terraform ".repeat(40)),
            ),
            ev("Kubernetes", false, 0, None),
        ];
        for i in 0..20 {
            r.score
                .evidence
                .push(ev(&format!("Skill{i}"), false, 0, None));
        }
        let body = r.note_body();
        assert!(body.contains("Summary: 64/100, moderate fit."));
        assert!(body.contains("+ Kafka (required): \"Built a pipeline using Kafka\""));
        assert!(body.contains("~ Terraform (required), counted in part: \"Familiar with"));
        assert!(body.contains("- Kubernetes (required): not found"));
        assert!(body.contains("(11 more requirements not shown)"), "{body}");
        assert!(body.lines().all(|l| l.chars().count() <= 240), "{body}");
        assert!(NoteMark::parse(&body).is_some());
    }

    #[test]
    fn the_note_names_its_profile_and_its_marker_parses_back() {
        let r = req("abc123", 73, Band::GoodFit, 1_700_000_000);
        let body = r.note_body();
        assert!(body.contains("Scoring profile: default (generation 3)"));
        let m = NoteMark::parse(&body).unwrap();
        assert_eq!(
            m,
            NoteMark {
                key: "abc123".into(),
                score: Some(73),
                band: Some("good_fit".into()),
                at: Some(1_700_000_000),
            }
        );
        assert!(m.says(&r));
        // The same score and band under another key (a lost ledger) is the same note.
        assert!(m.says(&req("other", 73, Band::GoodFit, 1)));
        assert!(!m.says(&req("other", 74, Band::GoodFit, 1)));
        // Old markers carry the key alone.
        let old = NoteMark::parse("AI match score\n[ats-operator:k1]").unwrap();
        assert_eq!((old.key.as_str(), old.score), ("k1", None));
        assert_eq!(NoteMark::parse("a note a recruiter wrote"), None);
        assert_eq!(NoteMark::parse("[ats-operator:unterminated"), None);
    }

    #[test]
    fn the_latest_mark_is_the_newest_decision() {
        let a = req("k1", 60, Band::ModerateFit, 100).note_body();
        let b = req("k2", 80, Band::StrongFit, 300).note_body();
        let c = req("k3", 70, Band::GoodFit, 200).note_body();
        // Vendors list newest first or last; the decision time decides.
        let latest = NoteMark::latest([a.as_str(), b.as_str(), c.as_str()]).unwrap();
        assert_eq!(latest.key, "k2");
        let latest = NoteMark::latest([b.as_str(), c.as_str(), a.as_str()]).unwrap();
        assert_eq!(latest.key, "k2");
        assert_eq!(NoteMark::latest(["no marker"]), None);
    }
}
