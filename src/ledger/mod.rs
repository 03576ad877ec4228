//! The audit ledger: every decision, write-back state and sync cursor.
//!
//! It stores ids, scores, explanations and fingerprints only: never secrets.
//! Explanations (strengths, gaps) are derived from resumes, so a candidate the
//! vendor reports deleted or anonymized has its rows pseudonymized
//! ([`Ledger::record_erasures`]), and decisions older than the retention are
//! pruned ([`Ledger::prune`], [`retention`]).
//!
//! Two backends behind one interface (`Store`), with the same SQL semantics
//! (transactions, conflict-safe upserts, the write-state machine):
//! - SQLite (`sqlite.rs`, the default): one file on one volume, WAL with
//!   `synchronous=FULL` (a commit survives a power cut). Its calls block, so
//!   they run on tokio's blocking pool, never on a runtime worker thread.
//! - PostgreSQL (`postgres.rs`): one ledger shared by replicas, through
//!   `tokio-postgres` and a `deadpool-postgres` pool (async: no thread is held
//!   while a statement crosses the network). Only the leader writes, but a
//!   deposed leader may still finish a statement: every change is one
//!   transaction of conditional updates and `ON CONFLICT` upserts, so two
//!   writers interleave without corrupting a row.
//!
//! Migrations run when a ledger is opened (`migrations.rs`); the statements
//! both backends run are written once (`sql.rs`).

pub mod export;
mod migrations;
mod postgres;
pub(crate) mod pseudonym;
pub mod retention;
mod sql;
mod sqlite;
pub mod webhooks;

use std::path::Path;

use chrono::{DateTime, SecondsFormat, Utc};
use futures::stream::BoxStream;
use serde::{Deserialize, Serialize};

use crate::model::{Score, VendorKind};

pub use export::{ExportFormat, ExportRow};
pub use retention::Pruned;
pub use webhooks::{
    Acceptance, DeliveryCounts, DeliveryResult, OutcomeRecord, PendingDelivery, ScoredOutcome,
};

#[derive(Debug, thiserror::Error)]
pub enum LedgerError {
    #[error("ledger database: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// The driver's errors name the server's complaint, never the connection
    /// string or its password.
    #[error("ledger database (PostgreSQL): {0}")]
    Postgres(#[from] tokio_postgres::Error),
    #[error("ledger database (PostgreSQL): {0}")]
    Pool(String),
    /// Deliberately without detail: the parser's message may quote the URL.
    #[error(
        "the ledger database URL is not a valid PostgreSQL connection string (postgres://USER:PASSWORD@HOST:PORT/DATABASE)"
    )]
    BadUrl,
    #[error("creating ledger directory {path}: {source}")]
    CreateDir {
        path: String,
        source: std::io::Error,
    },
    #[error("ledger score encoding: {0}")]
    Json(#[from] serde_json::Error),
    #[error("ledger schema version {found} is newer than this operator supports ({supported})")]
    SchemaTooNew { found: i64, supported: i64 },
    #[error("ledger row holds an invalid {what}: {value:?}")]
    Corrupt { what: &'static str, value: String },
    #[error("ledger lock poisoned by a panic in another thread")]
    Poisoned,
    #[error("ledger task failed: {0}")]
    Task(String),
    #[error("{0}")]
    BadArgument(String),
    #[error("writing the export: {0}")]
    Write(String),
    /// The sync already holds `max_pending` unprocessed webhook deliveries:
    /// the delivery is refused (503) and the vendor retries.
    #[error("the webhook queue of {sync_key} is full ({max_pending} unprocessed deliveries)")]
    QueueFull { sync_key: String, max_pending: u32 },
}

/// Where a sync has got to at its source.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Cursor {
    /// What the watermark belongs to (connection/vendor/scope identity); a
    /// cursor whose identity differs from the current one is stale.
    pub identity: String,
    pub watermark: DateTime<Utc>,
    /// When the last full sync (no watermark) ran.
    pub full_sync_at: Option<DateTime<Utc>>,
    /// The profile and write-back settings the watermark was reached with; a
    /// change re-pulls everything in scope so every application is re-scored.
    pub decision_identity: Option<String>,
}

/// How far a pull got: saved after each batch, so an interrupted sync (restart,
/// new leader, edited spec) resumes instead of starting over.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Checkpoint {
    /// Source identity and decision identity the pull belongs to; a checkpoint
    /// for others is stale.
    pub identity: String,
    pub decision_identity: String,
    pub started_at: DateTime<Utc>,
    pub since: Option<DateTime<Utc>>,
    pub full: bool,
    /// The client's resume token: everything up to it has been processed.
    pub after: String,
    /// The newest update seen so far.
    pub high_watermark: Option<DateTime<Utc>>,
    /// Update times of applications that must come back (see `sync::decide::next_watermark`).
    pub held: Vec<Option<DateTime<Utc>>>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WriteStatus {
    /// Decided, not yet confirmed written: retried (after checking the vendor) on the next run.
    Pending,
    Done,
    /// The last attempt failed; retried on the next run.
    Failed,
    /// No longer matches the sync's write-back settings or source: never sent.
    Superseded,
    /// Failed permanently (404, 410, 422) too often: given up.
    Abandoned,
}

impl WriteStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            WriteStatus::Pending => "pending",
            WriteStatus::Done => "done",
            WriteStatus::Failed => "failed",
            WriteStatus::Superseded => "superseded",
            WriteStatus::Abandoned => "abandoned",
        }
    }
    fn parse(s: &str) -> Result<Self, LedgerError> {
        match s {
            "pending" => Ok(WriteStatus::Pending),
            "done" => Ok(WriteStatus::Done),
            "failed" => Ok(WriteStatus::Failed),
            "superseded" => Ok(WriteStatus::Superseded),
            "abandoned" => Ok(WriteStatus::Abandoned),
            other => Err(corrupt("write status", other)),
        }
    }
}

/// What a decision asks to be done with its score.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DecisionOutcome {
    /// Write the score back to the ATS.
    ToWrite,
    /// Recorded only, because the sync is a dry run.
    DryRun,
    /// Recorded only, because write-back mode is `none`.
    NoWriteBack,
    /// Re-scored with the same score, band and write-back settings as the
    /// write that is already in the ATS: nothing to write.
    NoChange,
}

impl DecisionOutcome {
    pub fn as_str(self) -> &'static str {
        match self {
            DecisionOutcome::ToWrite => "to_write",
            DecisionOutcome::DryRun => "dry_run",
            DecisionOutcome::NoWriteBack => "no_write_back",
            DecisionOutcome::NoChange => "no_change",
        }
    }
    fn parse(s: &str) -> Result<Self, LedgerError> {
        match s {
            "to_write" => Ok(DecisionOutcome::ToWrite),
            "dry_run" => Ok(DecisionOutcome::DryRun),
            "no_write_back" => Ok(DecisionOutcome::NoWriteBack),
            "no_change" => Ok(DecisionOutcome::NoChange),
            other => Err(corrupt("decision outcome", other)),
        }
    }

    /// The write state a new decision starts in.
    fn initial_state(self) -> WriteStatus {
        match self {
            DecisionOutcome::ToWrite => WriteStatus::Pending,
            DecisionOutcome::DryRun | DecisionOutcome::NoWriteBack | DecisionOutcome::NoChange => {
                WriteStatus::Done
            }
        }
    }
}

/// The write-back state of one application in one sync.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WriteState {
    pub application_id: String,
    pub fingerprint: String,
    pub profile_generation: i64,
    pub write_key: String,
    pub state: WriteStatus,
    /// Write attempts since the last decision.
    pub attempts: u32,
    /// A tombstone: deleted in the ATS or out of scope. Kept (with its
    /// fingerprint and write) so an application that returns is not written again.
    pub deleted: bool,
    /// What the last confirmed write put into the ATS (see `sync::pipeline::mark`).
    pub written_mark: Option<String>,
    /// The write-back settings and source the pending write was decided for.
    pub settings: String,
    /// When this ledger last confirmed a write (sent, or found in the ATS).
    pub written_at: Option<DateTime<Utc>>,
}

/// One scoring decision, as audited.
#[derive(Clone, Debug, PartialEq)]
pub struct Decision {
    pub sync_key: String,
    pub tenant: String,
    pub vendor: VendorKind,
    pub application_id: String,
    pub candidate_id: String,
    pub job_id: String,
    pub fingerprint: String,
    pub profile_generation: i64,
    pub score: Score,
    pub write_key: String,
    pub outcome: DecisionOutcome,
    pub decided_at: DateTime<Utc>,
    /// The write-back settings and source identity this decision is for; a
    /// pending write whose settings no longer match is superseded, not sent.
    pub settings: String,
}

/// Counts since a sync was created (within the retention).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Totals {
    /// Scoring decisions recorded.
    pub scored: u64,
    /// Successful write-backs.
    pub written_back: u64,
    /// Applications whose last write-back attempt failed (still to retry).
    pub failed: u64,
    /// Writes given up after repeated permanent failures.
    pub abandoned: u64,
}

/// What one write attempt came to, for [`Ledger::settle`].
#[derive(Clone, Debug, PartialEq)]
pub struct Settlement {
    pub application_id: String,
    pub write_key: String,
    pub result: Attempt,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Attempt {
    /// Landed; `mark` is what it put into the ATS. `adopted`: the ATS already
    /// had it (found by its marker), nothing was sent.
    Written { mark: String, adopted: bool },
    /// Failed; retryable from `retry_at` on.
    Failed {
        error: String,
        retry_at: DateTime<Utc>,
    },
    /// Failed permanently too often: never sent again (until a new decision).
    Abandoned { error: String },
}

/// Application id → (vendor `updated_at`, job fingerprint) when last processed.
pub type Versions = std::collections::HashMap<String, (DateTime<Utc>, String)>;

/// Longest error text kept; vendor errors are summaries, not payloads.
pub const MAX_ERROR_CHARS: usize = 500;

/// Retention's statements, in the order of [`Pruned::from_counts`].
const PRUNE_STATEMENTS: [&str; 7] = [
    sql::PRUNE_DECISIONS,
    sql::PRUNE_EVENTS,
    sql::PRUNE_DELETIONS,
    sql::PRUNE_TOMBSTONES,
    sql::PRUNE_OUTCOMES,
    sql::PRUNE_DELIVERY_APPLICATIONS,
    sql::PRUNE_DELIVERIES,
];

/// The start of an export without `--since`: before any decision.
fn export_floor() -> DateTime<Utc> {
    DateTime::<Utc>::UNIX_EPOCH
}

fn corrupt(what: &'static str, value: &str) -> LedgerError {
    LedgerError::Corrupt {
        what,
        value: value.to_string(),
    }
}

/// Fixed-width RFC 3339 so that stored timestamps sort as text (SQLite).
fn ts(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Micros, true)
}

fn parse_ts(s: &str) -> Result<DateTime<Utc>, LedgerError> {
    DateTime::parse_from_rfc3339(s)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|_| corrupt("timestamp", s))
}

fn parse_vendor(s: &str) -> Result<VendorKind, LedgerError> {
    serde_json::from_value(serde_json::Value::String(s.to_string()))
        .map_err(|_| corrupt("vendor", s))
}

fn count(n: i64) -> u64 {
    u64::try_from(n).unwrap_or(0)
}

fn attempts(n: i64) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

fn truncate_error(error: &str) -> String {
    error.chars().take(MAX_ERROR_CHARS).collect()
}

/// The event kind a settlement is audited as, from whether it changed the
/// current write state.
fn settlement_kind(result: &Attempt, changed: bool) -> &'static str {
    match (result, changed) {
        (Attempt::Written { adopted: false, .. }, true) => "written",
        (Attempt::Written { adopted: true, .. }, true) => "adopted",
        (Attempt::Written { .. }, false) => "written_superseded",
        (Attempt::Abandoned { .. }, true) => "abandoned",
        (Attempt::Failed { .. }, true) => "failed",
        (Attempt::Failed { .. } | Attempt::Abandoned { .. }, false) => "failed_superseded",
    }
}

/// What both backends implement; [`Ledger`] forwards to it.
#[async_trait::async_trait]
trait Store: webhooks::WebhookStore + Send + Sync {
    async fn cursor(&self, sync_key: &str) -> Result<Option<Cursor>, LedgerError>;
    async fn set_cursor(&self, sync_key: &str, cursor: &Cursor) -> Result<(), LedgerError>;
    async fn checkpoint(&self, sync_key: &str) -> Result<Option<Checkpoint>, LedgerError>;
    async fn set_checkpoint(&self, sync_key: &str, c: &Checkpoint) -> Result<(), LedgerError>;
    async fn clear_checkpoint(&self, sync_key: &str) -> Result<(), LedgerError>;
    async fn mark_seen(
        &self,
        sync_key: &str,
        application_ids: &[&str],
        at: DateTime<Utc>,
    ) -> Result<(), LedgerError>;
    async fn set_versions(
        &self,
        sync_key: &str,
        versions: &[(&str, Option<DateTime<Utc>>, &str)],
    ) -> Result<(), LedgerError>;
    async fn versions(&self, sync_key: &str) -> Result<Versions, LedgerError>;
    async fn unseen_since(
        &self,
        sync_key: &str,
        started: DateTime<Utc>,
    ) -> Result<Vec<String>, LedgerError>;
    async fn known_applications(
        &self,
        sync_key: &str,
    ) -> Result<std::collections::HashSet<String>, LedgerError>;
    async fn record_deletions(
        &self,
        sync_key: &str,
        application_ids: &[String],
        source: &str,
        erase: bool,
    ) -> Result<u64, LedgerError>;
    async fn write_states(
        &self,
        sync_key: &str,
        application_ids: &[&str],
    ) -> Result<Vec<WriteState>, LedgerError>;
    async fn record_decisions(&self, decisions: &[Decision]) -> Result<(), LedgerError>;
    async fn settle(
        &self,
        sync_key: &str,
        settlements: &[Settlement],
    ) -> Result<Vec<Option<u32>>, LedgerError>;
    async fn mark_superseded(
        &self,
        sync_key: &str,
        application_id: &str,
        write_key: &str,
        why: &str,
    ) -> Result<(), LedgerError>;
    async fn revive(&self, sync_key: &str, application_id: &str) -> Result<(), LedgerError>;
    async fn pending_writes(
        &self,
        sync_key: &str,
        now: DateTime<Utc>,
    ) -> Result<Vec<WriteState>, LedgerError>;
    async fn totals(&self, sync_key: &str) -> Result<Totals, LedgerError>;
    async fn decisions(
        &self,
        sync_key: &str,
        application_id: &str,
    ) -> Result<Vec<Decision>, LedgerError>;
    async fn prune(&self, before: DateTime<Utc>, chunk: u32) -> Result<Pruned, LedgerError>;
    fn export(
        &self,
        tenant: &str,
        since: Option<DateTime<Utc>>,
    ) -> BoxStream<'static, Result<ExportRow, LedgerError>>;
    /// Bytes the ledger's data takes on disk (database file or relations).
    async fn size_bytes(&self) -> Result<u64, LedgerError>;
}

/// The audit ledger, on whichever backend it was opened with.
pub struct Ledger {
    store: Box<dyn Store>,
}

impl std::fmt::Debug for Ledger {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Ledger")
    }
}

impl Ledger {
    /// Opens (creating if needed) the SQLite ledger at `path` and migrates its
    /// schema. Blocks briefly: call it at start-up.
    pub fn open(path: &Path) -> Result<Self, LedgerError> {
        Ok(Ledger {
            store: Box::new(sqlite::SqliteStore::open(path)?),
        })
    }

    /// A SQLite ledger that lives as long as the value (tests, dry runs).
    pub fn open_in_memory() -> Result<Self, LedgerError> {
        Ok(Ledger {
            store: Box::new(sqlite::SqliteStore::open_in_memory()?),
        })
    }

    /// Connects to the PostgreSQL ledger at `url` (`postgres://…`) and
    /// migrates its schema; replicas may do this at the same time.
    pub async fn connect_postgres(url: &str) -> Result<Self, LedgerError> {
        Ok(Ledger {
            store: Box::new(postgres::PgStore::connect(url).await?),
        })
    }

    pub async fn cursor(&self, sync_key: &str) -> Result<Option<Cursor>, LedgerError> {
        self.store.cursor(sync_key).await
    }

    pub async fn set_cursor(&self, sync_key: &str, cursor: &Cursor) -> Result<(), LedgerError> {
        self.store.set_cursor(sync_key, cursor).await
    }

    pub async fn checkpoint(&self, sync_key: &str) -> Result<Option<Checkpoint>, LedgerError> {
        self.store.checkpoint(sync_key).await
    }

    pub async fn set_checkpoint(&self, sync_key: &str, c: &Checkpoint) -> Result<(), LedgerError> {
        self.store.set_checkpoint(sync_key, c).await
    }

    pub async fn clear_checkpoint(&self, sync_key: &str) -> Result<(), LedgerError> {
        self.store.clear_checkpoint(sync_key).await
    }

    /// Notes that a full pull saw these applications (at `at`), so that a pull
    /// resumed after an interruption still knows what the earlier part saw.
    pub async fn mark_seen(
        &self,
        sync_key: &str,
        application_ids: &[&str],
        at: DateTime<Utc>,
    ) -> Result<(), LedgerError> {
        if application_ids.is_empty() {
            return Ok(());
        }
        self.store.mark_seen(sync_key, application_ids, at).await
    }

    /// Records what each application was when processed: its vendor `updated_at`
    /// and its job's fingerprint. An application without an `updated_at` is
    /// never taken as unchanged.
    pub async fn set_versions(
        &self,
        sync_key: &str,
        versions: &[(&str, Option<DateTime<Utc>>, &str)],
    ) -> Result<(), LedgerError> {
        if versions.is_empty() {
            return Ok(());
        }
        self.store.set_versions(sync_key, versions).await
    }

    /// Alive applications with a recorded version: id → (vendor `updated_at`,
    /// job fingerprint) as last processed.
    pub async fn versions(&self, sync_key: &str) -> Result<Versions, LedgerError> {
        self.store.versions(sync_key).await
    }

    /// Known, alive applications a full pull that started at `started` did not see.
    pub async fn unseen_since(
        &self,
        sync_key: &str,
        started: DateTime<Utc>,
    ) -> Result<Vec<String>, LedgerError> {
        self.store.unseen_since(sync_key, started).await
    }

    /// Applications this sync has a write state for (scored before, not deleted).
    pub async fn known_applications(
        &self,
        sync_key: &str,
    ) -> Result<std::collections::HashSet<String>, LedgerError> {
        self.store.known_applications(sync_key).await
    }

    /// Records that applications are gone from the ATS (or out of scope): their
    /// write state becomes a tombstone (no write is retried for them, but the
    /// fingerprint and the write stay, so one that returns is not written again)
    /// and the audit trail says why. Returns how many were known and alive.
    pub async fn record_deletions(
        &self,
        sync_key: &str,
        application_ids: &[String],
        source: &str,
    ) -> Result<u64, LedgerError> {
        if application_ids.is_empty() {
            return Ok(0);
        }
        self.store
            .record_deletions(sync_key, application_ids, source, false)
            .await
    }

    /// Applications the vendor reports deleted or anonymized (erased): in one
    /// transaction, tombstoned as [`Ledger::record_deletions`] does, and every
    /// row of theirs pseudonymized: the application, candidate and write key
    /// become stable keyed hashes (`anon-…`), the explanations (strengths and
    /// gaps, derived from the resume), fingerprints, versions and vendor error
    /// texts are removed. Score, components, band, times and outcomes stay,
    /// for the aggregate audit. The application's webhook deliveries and
    /// recruiters' outcomes keep their times and categories under the same
    /// pseudonyms (the candidate's too). Returns how many were known and alive.
    pub async fn record_erasures(
        &self,
        sync_key: &str,
        application_ids: &[String],
        source: &str,
    ) -> Result<u64, LedgerError> {
        if application_ids.is_empty() {
            return Ok(0);
        }
        self.store
            .record_deletions(sync_key, application_ids, source, true)
            .await
    }

    pub async fn write_state(
        &self,
        sync_key: &str,
        application_id: &str,
    ) -> Result<Option<WriteState>, LedgerError> {
        Ok(self
            .store
            .write_states(sync_key, &[application_id])
            .await?
            .into_iter()
            .next())
    }

    /// The write states of these applications (those it has), in one query.
    pub async fn write_states(
        &self,
        sync_key: &str,
        application_ids: &[&str],
    ) -> Result<std::collections::HashMap<String, WriteState>, LedgerError> {
        if application_ids.is_empty() {
            return Ok(Default::default());
        }
        Ok(self
            .store
            .write_states(sync_key, application_ids)
            .await?
            .into_iter()
            .map(|w| (w.application_id.clone(), w))
            .collect())
    }

    /// Appends the decision to the audit trail and makes it the application's
    /// current write state: Pending when it is to be written, Done otherwise.
    /// A crash after this and before [`Ledger::mark_written`] leaves the row
    /// Pending, which is how the next run knows to finish the write.
    pub async fn record_decision(&self, d: &Decision) -> Result<(), LedgerError> {
        self.record_decisions(std::slice::from_ref(d)).await
    }

    /// [`Ledger::record_decision`] for many decisions in one transaction (a
    /// full sync records thousands; one commit each would dominate its time).
    pub async fn record_decisions(&self, decisions: &[Decision]) -> Result<(), LedgerError> {
        if decisions.is_empty() {
            return Ok(());
        }
        self.store.record_decisions(decisions).await
    }

    /// Records what write attempts came to, in one transaction. A written key
    /// that is no longer the application's current one (a newer decision
    /// superseded it) leaves the state alone, and so does a failure reported
    /// for a superseded key or a confirmed write; each is still audited.
    /// Returns, per settlement, the attempts so far, or `None` when it left
    /// the state alone.
    pub async fn settle(
        &self,
        sync_key: &str,
        settlements: &[Settlement],
    ) -> Result<Vec<Option<u32>>, LedgerError> {
        if settlements.is_empty() {
            return Ok(Vec::new());
        }
        self.store.settle(sync_key, settlements).await
    }

    async fn settle_one(
        &self,
        sync_key: &str,
        application_id: &str,
        write_key: &str,
        result: Attempt,
    ) -> Result<Option<u32>, LedgerError> {
        let s = Settlement {
            application_id: application_id.to_string(),
            write_key: write_key.to_string(),
            result,
        };
        Ok(self
            .store
            .settle(sync_key, std::slice::from_ref(&s))
            .await?
            .pop()
            .flatten())
    }

    /// Marks the write with `write_key` as done (see [`Ledger::settle`]).
    pub async fn mark_written(
        &self,
        sync_key: &str,
        application_id: &str,
        write_key: &str,
        mark: &str,
        adopted: bool,
    ) -> Result<(), LedgerError> {
        let result = Attempt::Written {
            mark: mark.to_string(),
            adopted,
        };
        self.settle_one(sync_key, application_id, write_key, result)
            .await
            .map(|_| ())
    }

    /// Records a failed write attempt; the state stays retryable from
    /// `retry_at` on ([`Ledger::pending_writes`] returns it then). Ignored for a
    /// superseded key or a confirmed write. Returns the attempts so far, or
    /// `None` when ignored.
    pub async fn mark_failed(
        &self,
        sync_key: &str,
        application_id: &str,
        write_key: &str,
        error: &str,
        retry_at: DateTime<Utc>,
    ) -> Result<Option<u32>, LedgerError> {
        let result = Attempt::Failed {
            error: error.to_string(),
            retry_at,
        };
        self.settle_one(sync_key, application_id, write_key, result)
            .await
    }

    /// Gives a write up: it is never sent again (until a new decision).
    pub async fn mark_abandoned(
        &self,
        sync_key: &str,
        application_id: &str,
        write_key: &str,
        error: &str,
    ) -> Result<(), LedgerError> {
        let result = Attempt::Abandoned {
            error: error.to_string(),
        };
        self.settle_one(sync_key, application_id, write_key, result)
            .await
            .map(|_| ())
    }

    /// A pending write that no longer matches the sync's settings or source:
    /// never sent.
    pub async fn mark_superseded(
        &self,
        sync_key: &str,
        application_id: &str,
        write_key: &str,
        why: &str,
    ) -> Result<(), LedgerError> {
        self.store
            .mark_superseded(sync_key, application_id, write_key, why)
            .await
    }

    /// An application that was a tombstone is back (in scope, or undeleted).
    pub async fn revive(&self, sync_key: &str, application_id: &str) -> Result<(), LedgerError> {
        self.store.revive(sync_key, application_id).await
    }

    /// Writes still to do (Pending, or Failed and due again at `now`) of
    /// applications that are not tombstones, oldest first.
    pub async fn pending_writes(
        &self,
        sync_key: &str,
        now: DateTime<Utc>,
    ) -> Result<Vec<WriteState>, LedgerError> {
        self.store.pending_writes(sync_key, now).await
    }

    pub async fn totals(&self, sync_key: &str) -> Result<Totals, LedgerError> {
        self.store.totals(sync_key).await
    }

    /// The application's decisions in this sync, oldest first.
    pub async fn decisions(
        &self,
        sync_key: &str,
        application_id: &str,
    ) -> Result<Vec<Decision>, LedgerError> {
        self.store.decisions(sync_key, application_id).await
    }

    /// Deletes decisions, events, deletion records and outcomes older than
    /// `before`, tombstones deleted before it and webhook deliveries finished
    /// before it, a chunk per transaction so writers are never held up for long. Write states of live applications stay: they
    /// carry no explanation and keep a write from being sent twice.
    pub async fn prune(&self, before: DateTime<Utc>) -> Result<Pruned, LedgerError> {
        self.store.prune(before, retention::PRUNE_CHUNK).await
    }

    /// The tenant's decisions at or after `since`, oldest first, as rows
    /// without personal data, streamed from the database (never all in memory).
    pub fn export(
        &self,
        tenant: &str,
        since: Option<DateTime<Utc>>,
    ) -> BoxStream<'static, Result<ExportRow, LedgerError>> {
        self.store.export(tenant, since)
    }

    /// Bytes the ledger takes on disk: the SQLite file (with its WAL), or the
    /// ledger's PostgreSQL relations with their indexes and TOAST.
    pub async fn size_bytes(&self) -> Result<u64, LedgerError> {
        self.store.size_bytes().await
    }
}
