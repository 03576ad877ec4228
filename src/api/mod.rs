//! Custom resources of group `ats.dev`, version `v1alpha1`, and their conditions.

pub mod audit;
pub mod conditions;
pub mod job_ads;

use std::collections::BTreeMap;

use kube::CustomResource;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

pub use audit::{BiasAudit, BiasAuditSpec, BiasAuditStatus};
pub use conditions::Condition;

use crate::model::VendorKind;

pub const GROUP: &str = "ats.dev";
pub const FINALIZER: &str = "ats.dev/cleanup";
/// Setting this annotation (to any new value, conventionally a timestamp) asks for a sync now.
pub const SYNC_REQUESTED_ANNOTATION: &str = "ats.dev/sync-requested-at";
/// The label a Secret must carry for the operator to read or write it: a
/// tenant who may create `ats.dev` resources but not read Secrets cannot point
/// a connection at someone else's Secret.
pub const CREDENTIALS_LABEL: &str = "ats.dev/credentials";
/// Its value, and the label selector the operator watches Secrets with.
pub const CREDENTIALS_LABEL_VALUE: &str = "true";
pub const CREDENTIALS_SELECTOR: &str = "ats.dev/credentials=true";

/// Set to the absent count a `SuspiciousDeletions` status names to record those deletions.
pub const CONFIRM_DELETIONS_ANNOTATION: &str = "ats.dev/confirm-deletions";

/// A tenant's connection to one ATS.
#[derive(CustomResource, Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[kube(
    group = "ats.dev",
    version = "v1alpha1",
    kind = "AtsConnection",
    namespaced,
    status = "AtsConnectionStatus",
    shortname = "atsconn",
    category = "ats",
    printcolumn = r#"{"name":"Vendor","type":"string","jsonPath":".spec.vendor"}"#,
    printcolumn = r#"{"name":"Ready","type":"string","jsonPath":".status.conditions[?(@.type==\"Ready\")].status"}"#,
    printcolumn = r#"{"name":"Reason","type":"string","jsonPath":".status.conditions[?(@.type==\"Ready\")].reason"}"#,
    printcolumn = r#"{"name":"Age","type":"date","jsonPath":".metadata.creationTimestamp"}"#
)]
#[serde(rename_all = "camelCase")]
pub struct AtsConnectionSpec {
    pub vendor: VendorKind,
    /// API base URL override (sandbox, regional hosts). Defaults to the vendor's public API.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base_url: Option<String>,
    /// OAuth token endpoint override.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_url: Option<String>,
    /// Account subdomain, for vendors whose API host carries it (Workable).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subdomain: Option<String>,
    pub auth: AuthSpec,
    /// Secret key holding the webhook signing secret.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub webhook_secret_ref: Option<SecretKeyRef>,
    /// Client-side request budget, below the vendor's own limit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rate_limit: Option<RateLimitSpec>,
}

/// Credentials, read from one Secret in the connection's namespace.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct AuthSpec {
    /// Name of the Secret holding the credentials.
    pub secret_name: String,
    /// Key of the OAuth client id (default `clientId`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_id_key: Option<String>,
    /// Key of the OAuth client secret (default `clientSecret`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_secret_key: Option<String>,
    /// Key of an API key or token, for vendors that use one (default `apiKey`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_key_key: Option<String>,
    /// Key of the OAuth refresh token (Lever; default `refreshToken`). The operator
    /// writes each rotated refresh token back to this key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refresh_token_key: Option<String>,
    /// Key where the operator caches the current access token (default `accessToken`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub access_token_key: Option<String>,
    /// Key where the operator caches the access token's expiry (default `accessTokenExpiresAt`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub access_token_expires_at_key: Option<String>,
    /// The acting user: Greenhouse's token `sub`, Lever's `perform_as`, Workable's `member_id`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(pattern(r"^[A-Za-z0-9_-]{1,64}$"))]
    pub sub: Option<String>,
}

impl AuthSpec {
    pub fn client_id_key(&self) -> &str {
        self.client_id_key.as_deref().unwrap_or("clientId")
    }
    pub fn client_secret_key(&self) -> &str {
        self.client_secret_key.as_deref().unwrap_or("clientSecret")
    }
    pub fn api_key_key(&self) -> &str {
        self.api_key_key.as_deref().unwrap_or("apiKey")
    }
    pub fn refresh_token_key(&self) -> &str {
        self.refresh_token_key.as_deref().unwrap_or("refreshToken")
    }
    pub fn access_token_key(&self) -> &str {
        self.access_token_key.as_deref().unwrap_or("accessToken")
    }
    pub fn access_token_expires_at_key(&self) -> &str {
        self.access_token_expires_at_key
            .as_deref()
            .unwrap_or("accessTokenExpiresAt")
    }
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct SecretKeyRef {
    pub name: String,
    pub key: String,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct RateLimitSpec {
    /// Requests allowed per window.
    #[schemars(range(min = 1))]
    pub requests: u32,
    /// Window length in seconds.
    #[schemars(range(min = 1, max = 3600))]
    pub window_seconds: u32,
}

// The status of a resource that reports only its conditions. No doc comment:
// it would become the status schema's description in the CRDs.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ConditionsStatus {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub conditions: Vec<Condition>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,
}

impl ConditionsStatus {
    /// This status with `desired` merged in (see [`conditions::merge`]), as
    /// observed at `generation`.
    pub fn merged(&self, desired: Vec<Condition>, now: &str, generation: Option<i64>) -> Self {
        ConditionsStatus {
            conditions: conditions::merge(&self.conditions, desired, now, generation),
            observed_generation: generation,
        }
    }
}

pub type AtsConnectionStatus = ConditionsStatus;

/// How applications are scored.
#[derive(CustomResource, Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[kube(
    group = "ats.dev",
    version = "v1alpha1",
    kind = "ScoringProfile",
    namespaced,
    status = "ScoringProfileStatus",
    shortname = "atsprofile",
    category = "ats",
    printcolumn = r#"{"name":"Ready","type":"string","jsonPath":".status.conditions[?(@.type==\"Ready\")].status"}"#,
    printcolumn = r#"{"name":"Age","type":"date","jsonPath":".metadata.creationTimestamp"}"#
)]
#[serde(rename_all = "camelCase")]
pub struct ScoringProfileSpec {
    #[serde(default)]
    pub weights: Weights,
    /// Skills every hire needs, in addition to those the job text names.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub must_have_skills: Vec<String>,
    /// Skills that help, in addition to those the job text names.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub nice_to_have_skills: Vec<String>,
    #[serde(default)]
    pub bands: Bands,
    /// Adds a semantic component: all-MiniLM-L6-v2 similarity between the
    /// job's requirements and the resume's sentences (weight `weights.semantic`,
    /// default 20). Needs the operator's `--model-dir`; without it the profile
    /// says so in its `SemanticModel` condition and scores without it.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub semantic: bool,
    /// When band labels (tags) and the score custom field are written; the
    /// note with its evidence is always written.
    #[serde(default)]
    pub labels: LabelPolicy,
}

/// Whether a profile's band labels and score field reach the ATS.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub enum LabelPolicy {
    /// Only while the profile's last `BiasAudit` passed and is under a year old.
    #[default]
    AuditPassed,
    /// Always (the employer takes responsibility for auditing elsewhere).
    Always,
}

/// Relative weights of the component scores; they need not sum to 100.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Weights {
    #[schemars(range(min = 0, max = 100))]
    pub skills: u32,
    #[schemars(range(min = 0, max = 100))]
    pub experience: u32,
    #[schemars(range(min = 0, max = 100))]
    pub title: u32,
    #[schemars(range(min = 0, max = 100))]
    pub education: u32,
    /// Only with `semantic: true`; unset: 20.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0, max = 100))]
    pub semantic: Option<u32>,
}

impl Default for Weights {
    fn default() -> Self {
        Weights {
            skills: 40,
            experience: 30,
            title: 20,
            education: 10,
            semantic: None,
        }
    }
}

/// Lowest scores of each band; below `moderateFit` is a weak fit.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Bands {
    #[schemars(range(min = 0, max = 100))]
    pub strong_fit: u8,
    #[schemars(range(min = 0, max = 100))]
    pub good_fit: u8,
    #[schemars(range(min = 0, max = 100))]
    pub moderate_fit: u8,
}

impl Default for Bands {
    fn default() -> Self {
        Bands {
            strong_fit: 80,
            good_fit: 65,
            moderate_fit: 45,
        }
    }
}

pub type ScoringProfileStatus = ConditionsStatus;

/// What to sync from a connection, how to score it, and when.
#[derive(CustomResource, Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[kube(
    group = "ats.dev",
    version = "v1alpha1",
    kind = "AtsSync",
    namespaced,
    status = "AtsSyncStatus",
    shortname = "atssync",
    category = "ats",
    printcolumn = r#"{"name":"Vendor","type":"string","jsonPath":".status.vendor"}"#,
    printcolumn = r#"{"name":"Ready","type":"string","jsonPath":".status.conditions[?(@.type==\"Ready\")].status"}"#,
    printcolumn = r#"{"name":"Synced","type":"string","jsonPath":".status.conditions[?(@.type==\"Synced\")].status"}"#,
    printcolumn = r#"{"name":"Reason","type":"string","jsonPath":".status.conditions[?(@.type==\"Ready\")].reason","priority":1}"#,
    printcolumn = r#"{"name":"Last Sync","type":"date","jsonPath":".status.lastSyncTime"}"#,
    printcolumn = r#"{"name":"Scored","type":"integer","jsonPath":".status.totals.scored"}"#,
    printcolumn = r#"{"name":"Next Sync","type":"date","jsonPath":".status.nextSyncTime","priority":1}"#,
    printcolumn = r#"{"name":"Age","type":"date","jsonPath":".metadata.creationTimestamp"}"#
)]
#[serde(rename_all = "camelCase")]
pub struct AtsSyncSpec {
    pub connection_ref: LocalRef,
    pub scoring_profile_ref: LocalRef,
    /// An interval such as `30s`, `15m`, `1h`, or a five-field cron expression (UTC).
    pub schedule: String,
    #[serde(default)]
    pub suspend: bool,
    #[serde(default)]
    pub scope: Scope,
    #[serde(default)]
    pub write_back: WriteBackSpec,
    /// How often a full sync replaces the incremental one (an interval such as `24h`):
    /// it finds records whose update time the vendor does not report (Lever's null
    /// `updatedAt`) and deletions a vendor does not list (Greenhouse, Workable).
    /// `0s` makes every sync a full one.
    #[serde(default = "default_full_sync_interval")]
    pub full_sync_interval: String,
    /// A full sync that finds more than this share (percent) of the known
    /// applications absent records no deletion and says `SuspiciousDeletions`
    /// until the user confirms by setting the annotation
    /// `ats.dev/confirm-deletions` to the absent count the status names. `100` disables the guard.
    #[serde(default = "default_deletion_guard_percent")]
    #[schemars(range(min = 0, max = 100))]
    pub deletion_guard_percent: u32,
    /// Real-time scoring from the vendor's signed webhooks, beside the schedule.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub webhooks: Option<WebhooksSpec>,
}

/// Webhooks of a sync. Deliveries arrive at
/// `<publicBaseUrl>/webhooks/<namespace>/<connection>` and are verified with
/// the connection's `webhookSecretRef` (Greenhouse: the secret key typed into
/// its webhook form; Workable: the API token, when no ref is set) or with the
/// signing tokens the operator registered (Lever).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct WebhooksSpec {
    /// Register the webhooks with the vendor (Lever, Workable) and remove
    /// them when the sync is deleted. Greenhouse webhooks are created in its
    /// UI: status shows the URL to paste.
    #[serde(default)]
    pub enabled: bool,
    /// The operator's public https base URL as the vendor reaches it (an
    /// Ingress or Gateway in front of the operator's HTTP port), without the path.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(pattern(r"^https?://[^\s/?#]+(/[^\s?#]*)?$"))]
    pub public_base_url: Option<String>,
}

fn default_deletion_guard_percent() -> u32 {
    20
}

fn default_full_sync_interval() -> String {
    "24h".to_string()
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct LocalRef {
    pub name: String,
}

/// Which jobs' applications are synced. Empty lists mean no restriction.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Scope {
    #[serde(default = "default_job_statuses")]
    pub job_statuses: Vec<ScopeJobStatus>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub job_ids: Vec<String>,
}

fn default_job_statuses() -> Vec<ScopeJobStatus> {
    vec![ScopeJobStatus::Open]
}

impl Default for Scope {
    fn default() -> Self {
        Scope {
            job_statuses: default_job_statuses(),
            job_ids: Vec::new(),
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum ScopeJobStatus {
    Draft,
    Open,
    Closed,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub enum WriteBackMode {
    /// A note (Greenhouse note, Lever note, Workable comment).
    Note,
    /// The custom field (Greenhouse custom field, Workable custom attribute; Lever has none).
    CustomField,
    /// The note, and the custom field where the vendor has one.
    #[default]
    Both,
    /// Nothing but band tags, if `bandTag` is set.
    None,
}

impl WriteBackMode {
    pub fn note(self) -> bool {
        matches!(self, WriteBackMode::Note | WriteBackMode::Both)
    }
    pub fn custom_field(self) -> bool {
        matches!(self, WriteBackMode::CustomField | WriteBackMode::Both)
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct WriteBackSpec {
    #[serde(default)]
    pub mode: WriteBackMode,
    /// The custom field that receives the score.
    #[serde(default = "default_custom_field_key")]
    #[schemars(pattern(r"^[a-z0-9_]{1,64}$"))]
    pub custom_field_key: String,
    /// Also tag the application with its band (`<tagPrefix>strong-fit`, ...),
    /// replacing the previous band tag. Lever and Workable.
    #[serde(default)]
    pub band_tag: bool,
    /// Prefix of band tags.
    #[serde(default = "default_tag_prefix")]
    #[schemars(pattern(r"^[a-z0-9][a-z0-9_-]{0,31}$"))]
    pub tag_prefix: String,
    /// Score and record, but write nothing to the ATS: an emergency stop that
    /// also holds back writes still pending from earlier runs.
    #[serde(default)]
    pub dry_run: bool,
    /// Attempts at a write the vendor rejects permanently (404, 410, 422)
    /// before it is abandoned, with a Warning Event.
    #[serde(default = "default_max_attempts")]
    #[schemars(range(min = 1, max = 100))]
    pub max_attempts: u32,
}

fn default_max_attempts() -> u32 {
    5
}

fn default_tag_prefix() -> String {
    "ai-".to_string()
}

fn default_custom_field_key() -> String {
    "ai_score".to_string()
}

impl Default for WriteBackSpec {
    fn default() -> Self {
        WriteBackSpec {
            mode: WriteBackMode::default(),
            custom_field_key: default_custom_field_key(),
            band_tag: false,
            tag_prefix: default_tag_prefix(),
            dry_run: false,
            max_attempts: default_max_attempts(),
        }
    }
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct AtsSyncStatus {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub conditions: Vec<Condition>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,
    /// The connection's vendor, for `kubectl get`. A string: an optional enum renders
    /// `null` into the schema's enum, which kube-apiserver 1.20 rejects.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vendor: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_sync_time: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_successful_sync_time: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_sync_time: Option<String>,
    /// The vendor `updated_at` up to which everything has been seen.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub watermark: Option<String>,
    /// Counts of the last sync.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_sync: Option<SyncCounts>,
    /// Counts since the sync was created (from the ledger).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub totals: Option<SyncCounts>,
    /// When the first sync started. From then on the ATS may hold notes a
    /// ledger does not know (another replica's, a lost ledger's), so a worker
    /// started later checks the ATS before its first write of each application.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_sync_time: Option<String>,
    /// The last `ats.dev/sync-requested-at` value acted on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_handled_sync_request: Option<String>,
    /// Job-description checks (coded wording, exclusionary and age-coded
    /// phrases, pay range, inflated experience) of the jobs last pulled.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub job_ads: Option<job_ads::JobAdFindings>,
    /// Webhook deliveries of the sync's connection.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub webhooks: Option<WebhookStatus>,
}

/// What the webhook endpoint received for a sync, and where to point the vendor.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct WebhookStatus {
    /// The URL to register with the vendor (with `spec.webhooks.publicBaseUrl`),
    /// else the path on the operator's HTTP port.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// Registrations the operator made with the vendor (ids), removed with the sync.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub registered: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_delivery_time: Option<String>,
    /// Deliveries accepted (recorded before the 202), duplicates excluded.
    #[serde(default)]
    pub accepted: u64,
    /// Accepted deliveries processed (scored, written back, recorded).
    #[serde(default)]
    pub processed: u64,
    /// Accepted and not processed yet.
    #[serde(default)]
    pub pending: u64,
    /// Refused deliveries since the operator started, by reason
    /// (`BadSignature`, `Stale`, `Replayed`, `Malformed`, `TooLarge`, `QueueFull`...).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub refused: BTreeMap<String, u64>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct SyncCounts {
    pub jobs: u64,
    pub applications_seen: u64,
    pub scored: u64,
    pub unchanged: u64,
    pub written_back: u64,
    pub failed: u64,
    /// Applications the vendor reports deleted, or a full sync no longer finds.
    #[serde(default)]
    pub deleted: u64,
    /// Writes given up after repeated permanent failures (404, 410, 422).
    #[serde(default)]
    pub abandoned: u64,
    /// Pending writes dropped because the write-back settings or the source changed.
    #[serde(default)]
    pub superseded: u64,
}

/// All CRDs of the operator, in a stable order.
pub fn crds()
-> Vec<k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition>
{
    use kube::CustomResourceExt;
    vec![
        AtsConnection::crd(),
        ScoringProfile::crd(),
        AtsSync::crd(),
        BiasAudit::crd(),
    ]
}

/// The CRDs as one multi-document YAML stream, as in `crds/`.
pub fn crds_yaml() -> Result<String, serde_yaml::Error> {
    let mut out = String::new();
    for crd in crds() {
        out.push_str("---\n");
        out.push_str(&serde_yaml::to_string(&crd)?);
    }
    Ok(out)
}

/// Labels every object the operator creates carries.
pub fn managed_labels() -> BTreeMap<String, String> {
    BTreeMap::from([(
        "app.kubernetes.io/managed-by".to_string(),
        "ats-operator".to_string(),
    )])
}
