//! The audit ledger: every decision, write-back state and sync cursor.
//!
//! It stores ids, scores, explanations and fingerprints only: never secrets and
//! never personal data. SQLite (WAL, `synchronous=FULL`: a commit survives a
//! power cut, not only a process crash) behind a mutex;
//! every operation is a few sub-millisecond statements, so async callers call
//! it directly. The SQL is kept plain so a PostgreSQL backend can mirror it.

use std::path::Path;
use std::sync::{Mutex, MutexGuard};

use chrono::{DateTime, SecondsFormat, Utc};
use rusqlite::{Connection, OptionalExtension, Transaction, params};
use serde::{Deserialize, Serialize};

use crate::model::{Score, VendorKind};

#[derive(Debug, thiserror::Error)]
pub enum LedgerError {
    #[error("ledger database: {0}")]
    Sqlite(#[from] rusqlite::Error),
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
    fn as_str(self) -> &'static str {
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
    fn as_str(self) -> &'static str {
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

/// Counts since a sync was created.
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

/// Longest error text kept; vendor errors are summaries, not payloads.
const MAX_ERROR_CHARS: usize = 500;

/// Schema migrations; `PRAGMA user_version` is the number applied.
const MIGRATIONS: &[&str] = &[
    r#"
CREATE TABLE cursors (
    sync_key   TEXT PRIMARY KEY,
    identity   TEXT NOT NULL,
    watermark  TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE TABLE decisions (
    id                 INTEGER PRIMARY KEY AUTOINCREMENT,
    sync_key           TEXT NOT NULL,
    tenant             TEXT NOT NULL,
    vendor             TEXT NOT NULL,
    application_id     TEXT NOT NULL,
    candidate_id       TEXT NOT NULL,
    job_id             TEXT NOT NULL,
    fingerprint        TEXT NOT NULL,
    profile_generation INTEGER NOT NULL,
    score              INTEGER NOT NULL,
    band               TEXT NOT NULL,
    score_json         TEXT NOT NULL,
    write_key          TEXT NOT NULL,
    outcome            TEXT NOT NULL,
    decided_at         TEXT NOT NULL
);
CREATE INDEX decisions_by_application ON decisions (sync_key, application_id, id);
CREATE TABLE write_states (
    sync_key           TEXT NOT NULL,
    application_id     TEXT NOT NULL,
    fingerprint        TEXT NOT NULL,
    profile_generation INTEGER NOT NULL,
    write_key          TEXT NOT NULL,
    state              TEXT NOT NULL,
    attempts           INTEGER NOT NULL,
    last_error         TEXT,
    updated_at         TEXT NOT NULL,
    PRIMARY KEY (sync_key, application_id)
);
CREATE INDEX write_states_by_state ON write_states (sync_key, state);
CREATE TABLE events (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    sync_key       TEXT NOT NULL,
    application_id TEXT NOT NULL,
    write_key      TEXT NOT NULL,
    kind           TEXT NOT NULL,
    detail         TEXT,
    at             TEXT NOT NULL
);
CREATE INDEX events_by_sync ON events (sync_key, kind);
"#,
    r#"
ALTER TABLE cursors ADD COLUMN full_sync_at TEXT;
CREATE TABLE deletions (
    sync_key       TEXT NOT NULL,
    application_id TEXT NOT NULL,
    source         TEXT NOT NULL,
    deleted_at     TEXT NOT NULL,
    PRIMARY KEY (sync_key, application_id)
);
"#,
    r#"
ALTER TABLE write_states ADD COLUMN deleted_at TEXT;
ALTER TABLE write_states ADD COLUMN written_mark TEXT;
ALTER TABLE write_states ADD COLUMN settings TEXT NOT NULL DEFAULT '';
ALTER TABLE write_states ADD COLUMN next_attempt_at TEXT;
ALTER TABLE write_states ADD COLUMN seen_at TEXT;
ALTER TABLE write_states ADD COLUMN written_at TEXT;
ALTER TABLE cursors ADD COLUMN decision_identity TEXT;
CREATE TABLE checkpoints (
    sync_key          TEXT PRIMARY KEY,
    identity          TEXT NOT NULL,
    decision_identity TEXT NOT NULL,
    data              TEXT NOT NULL,
    updated_at        TEXT NOT NULL
);
"#,
    // 4: what each application was when last processed (the vendor's
    // `updated_at` and its job's fingerprint), so a pull skips the details of
    // records that did not change.
    r#"
ALTER TABLE write_states ADD COLUMN source_version TEXT;
ALTER TABLE write_states ADD COLUMN job_fingerprint TEXT;
"#,
];

/// Application id → (vendor `updated_at`, job fingerprint) when last processed.
pub type Versions = std::collections::HashMap<String, (DateTime<Utc>, String)>;

/// The columns [`write_state_from_row`] reads, in its order.
const WRITE_STATE_COLUMNS: &str = "application_id, fingerprint, profile_generation, write_key, \
    state, attempts, deleted_at, written_mark, settings, written_at";

pub struct Ledger {
    conn: Mutex<Connection>,
}

fn corrupt(what: &'static str, value: &str) -> LedgerError {
    LedgerError::Corrupt {
        what,
        value: value.to_string(),
    }
}

/// Fixed-width RFC 3339 so that stored timestamps sort as text.
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

impl Ledger {
    /// Opens (creating if needed) the ledger at `path` and migrates its schema.
    pub fn open(path: &Path) -> Result<Self, LedgerError> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|source| LedgerError::CreateDir {
                path: dir.display().to_string(),
                source,
            })?;
        }
        let conn = Connection::open(path)?;
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        // WAL lets readers proceed during writes; FULL syncs the WAL on every
        // commit, so a decision survives a power cut as well as a crash.
        let _mode: String =
            conn.pragma_update_and_check(None, "journal_mode", "WAL", |r| r.get(0))?;
        conn.pragma_update(None, "synchronous", "FULL")?;
        Self::init(conn)
    }

    /// A ledger that lives as long as the value (tests, dry runs).
    pub fn open_in_memory() -> Result<Self, LedgerError> {
        Self::init(Connection::open_in_memory()?)
    }

    fn init(mut conn: Connection) -> Result<Self, LedgerError> {
        let version: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
        let supported = MIGRATIONS.len() as i64;
        if version > supported {
            return Err(LedgerError::SchemaTooNew {
                found: version,
                supported,
            });
        }
        for (i, sql) in MIGRATIONS.iter().enumerate().skip(version as usize) {
            let tx = conn.transaction()?;
            tx.execute_batch(sql)?;
            tx.pragma_update(None, "user_version", (i + 1) as i64)?;
            tx.commit()?;
        }
        Ok(Ledger {
            conn: Mutex::new(conn),
        })
    }

    fn conn(&self) -> Result<MutexGuard<'_, Connection>, LedgerError> {
        self.conn.lock().map_err(|_| LedgerError::Poisoned)
    }

    pub fn cursor(&self, sync_key: &str) -> Result<Option<Cursor>, LedgerError> {
        let conn = self.conn()?;
        type Row = (String, String, Option<String>, Option<String>);
        let row: Option<Row> = conn
            .query_row(
                "SELECT identity, watermark, full_sync_at, decision_identity
                 FROM cursors WHERE sync_key = ?1",
                params![sync_key],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
            )
            .optional()?;
        row.map(|(identity, w, full, decision_identity)| {
            Ok(Cursor {
                identity,
                watermark: parse_ts(&w)?,
                full_sync_at: full.as_deref().map(parse_ts).transpose()?,
                decision_identity,
            })
        })
        .transpose()
    }

    pub fn set_cursor(&self, sync_key: &str, cursor: &Cursor) -> Result<(), LedgerError> {
        let conn = self.conn()?;
        conn.execute(
            "INSERT INTO cursors (sync_key, identity, watermark, updated_at, full_sync_at,
                decision_identity)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)
             ON CONFLICT (sync_key) DO UPDATE SET
                identity = excluded.identity,
                watermark = excluded.watermark,
                updated_at = excluded.updated_at,
                full_sync_at = excluded.full_sync_at,
                decision_identity = excluded.decision_identity",
            params![
                sync_key,
                cursor.identity,
                ts(cursor.watermark),
                ts(Utc::now()),
                cursor.full_sync_at.map(ts),
                cursor.decision_identity,
            ],
        )?;
        Ok(())
    }

    pub fn checkpoint(&self, sync_key: &str) -> Result<Option<Checkpoint>, LedgerError> {
        let conn = self.conn()?;
        let data: Option<String> = conn
            .query_row(
                "SELECT data FROM checkpoints WHERE sync_key = ?1",
                params![sync_key],
                |r| r.get(0),
            )
            .optional()?;
        Ok(data.map(|d| serde_json::from_str(&d)).transpose()?)
    }

    pub fn set_checkpoint(&self, sync_key: &str, c: &Checkpoint) -> Result<(), LedgerError> {
        let conn = self.conn()?;
        conn.prepare_cached(
            "INSERT INTO checkpoints (sync_key, identity, decision_identity, data, updated_at)
             VALUES (?1, ?2, ?3, ?4, ?5)
             ON CONFLICT (sync_key) DO UPDATE SET identity = excluded.identity,
                decision_identity = excluded.decision_identity, data = excluded.data,
                updated_at = excluded.updated_at",
        )?
        .execute(params![
            sync_key,
            c.identity,
            c.decision_identity,
            serde_json::to_string(c)?,
            ts(Utc::now())
        ])?;
        Ok(())
    }

    pub fn clear_checkpoint(&self, sync_key: &str) -> Result<(), LedgerError> {
        let conn = self.conn()?;
        conn.prepare_cached("DELETE FROM checkpoints WHERE sync_key = ?1")?
            .execute(params![sync_key])?;
        Ok(())
    }

    /// Notes that a full pull saw these applications (at `at`), so that a pull
    /// resumed after an interruption still knows what the earlier part saw.
    pub fn mark_seen(
        &self,
        sync_key: &str,
        application_ids: &[&str],
        at: DateTime<Utc>,
    ) -> Result<(), LedgerError> {
        let at = ts(at);
        let mut conn = self.conn()?;
        let tx = conn.transaction()?;
        for id in application_ids {
            tx.prepare_cached(
                "UPDATE write_states SET seen_at = ?3 WHERE sync_key = ?1 AND application_id = ?2",
            )?
            .execute(params![sync_key, id, at])?;
        }
        tx.commit()?;
        Ok(())
    }

    /// Records what each application was when processed: its vendor `updated_at`
    /// and its job's fingerprint. An application without an `updated_at` is
    /// never taken as unchanged.
    pub fn set_versions(
        &self,
        sync_key: &str,
        versions: &[(&str, Option<DateTime<Utc>>, &str)],
    ) -> Result<(), LedgerError> {
        let mut conn = self.conn()?;
        let tx = conn.transaction()?;
        for (id, version, job_fp) in versions {
            tx.prepare_cached(
                "UPDATE write_states SET source_version = ?3, job_fingerprint = ?4
                 WHERE sync_key = ?1 AND application_id = ?2",
            )?
            .execute(params![sync_key, id, version.map(ts), job_fp])?;
        }
        tx.commit()?;
        Ok(())
    }

    /// Alive applications with a recorded version: id → (vendor `updated_at`,
    /// job fingerprint) as last processed.
    pub fn versions(&self, sync_key: &str) -> Result<Versions, LedgerError> {
        let conn = self.conn()?;
        let mut stmt = conn.prepare_cached(
            "SELECT application_id, source_version, job_fingerprint FROM write_states
             WHERE sync_key = ?1 AND deleted_at IS NULL
             AND source_version IS NOT NULL AND job_fingerprint IS NOT NULL",
        )?;
        let rows = stmt.query_map(params![sync_key], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
            ))
        })?;
        let mut out = Versions::new();
        for row in rows {
            let (id, version, job_fp) = row?;
            let version = DateTime::parse_from_rfc3339(&version)
                .map_err(|_| corrupt("source_version", &version))?
                .with_timezone(&Utc);
            out.insert(id, (version, job_fp));
        }
        Ok(out)
    }

    /// Known, alive applications a full pull that started at `started` did not see.
    pub fn unseen_since(
        &self,
        sync_key: &str,
        started: DateTime<Utc>,
    ) -> Result<Vec<String>, LedgerError> {
        let conn = self.conn()?;
        let mut stmt = conn.prepare_cached(
            "SELECT application_id FROM write_states WHERE sync_key = ?1 AND deleted_at IS NULL
             AND (seen_at IS NULL OR seen_at < ?2) ORDER BY application_id",
        )?;
        let ids = stmt
            .query_map(params![sync_key, ts(started)], |r| r.get::<_, String>(0))?
            .collect::<Result<_, _>>()?;
        Ok(ids)
    }

    /// Applications this sync has a write state for (scored before, not deleted).
    pub fn known_applications(
        &self,
        sync_key: &str,
    ) -> Result<std::collections::HashSet<String>, LedgerError> {
        let conn = self.conn()?;
        let mut stmt = conn.prepare_cached(
            "SELECT application_id FROM write_states WHERE sync_key = ?1 AND deleted_at IS NULL",
        )?;
        let ids = stmt
            .query_map(params![sync_key], |r| r.get::<_, String>(0))?
            .collect::<Result<_, _>>()?;
        Ok(ids)
    }

    /// Records that applications are gone from the ATS (or out of scope): their
    /// write state becomes a tombstone (no write is retried for them, but the
    /// fingerprint and the write stay, so one that returns is not written again)
    /// and the audit trail says why. Returns how many were known and alive.
    pub fn record_deletions(
        &self,
        sync_key: &str,
        application_ids: &[String],
        source: &str,
    ) -> Result<u64, LedgerError> {
        let now = ts(Utc::now());
        let mut conn = self.conn()?;
        let tx = conn.transaction()?;
        let mut known = 0;
        for id in application_ids {
            let removed = tx
                .prepare_cached(
                    "UPDATE write_states SET deleted_at = ?3
                     WHERE sync_key = ?1 AND application_id = ?2 AND deleted_at IS NULL",
                )?
                .execute(params![sync_key, id, now])?;
            if removed == 0 {
                continue;
            }
            known += 1;
            tx.prepare_cached(
                "INSERT INTO deletions (sync_key, application_id, source, deleted_at)
                 VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (sync_key, application_id) DO UPDATE SET
                    source = excluded.source, deleted_at = excluded.deleted_at",
            )?
            .execute(params![sync_key, id, source, now])?;
            append_event(&tx, sync_key, id, "", "deleted", Some(source))?;
        }
        tx.commit()?;
        Ok(known)
    }

    pub fn write_state(
        &self,
        sync_key: &str,
        application_id: &str,
    ) -> Result<Option<WriteState>, LedgerError> {
        let conn = self.conn()?;
        let mut stmt = conn.prepare_cached(&format!(
            "SELECT {WRITE_STATE_COLUMNS} FROM write_states WHERE sync_key = ?1 AND application_id = ?2"
        ))?;
        let mut rows = stmt.query(params![sync_key, application_id])?;
        match rows.next()? {
            Some(row) => Ok(Some(write_state_from_row(row)?)),
            None => Ok(None),
        }
    }

    /// Appends the decision to the audit trail and makes it the application's
    /// current write state: Pending when it is to be written, Done otherwise.
    /// A crash after this and before [`Ledger::mark_written`] leaves the row
    /// Pending, which is how the next run knows to finish the write.
    pub fn record_decision(&self, d: &Decision) -> Result<(), LedgerError> {
        self.record_decisions(std::slice::from_ref(d))
    }

    /// [`Ledger::record_decision`] for many decisions in one transaction (a
    /// full sync records thousands; one commit each would dominate its time).
    pub fn record_decisions(&self, decisions: &[Decision]) -> Result<(), LedgerError> {
        let now = ts(Utc::now());
        let mut conn = self.conn()?;
        let tx = conn.transaction()?;
        for d in decisions {
            let score_json = serde_json::to_string(&d.score)?;
            let state = match d.outcome {
                DecisionOutcome::ToWrite => WriteStatus::Pending,
                DecisionOutcome::DryRun
                | DecisionOutcome::NoWriteBack
                | DecisionOutcome::NoChange => WriteStatus::Done,
            };
            tx.prepare_cached(
                "INSERT INTO decisions (sync_key, tenant, vendor, application_id, candidate_id, job_id,
                    fingerprint, profile_generation, score, band, score_json, write_key, outcome, decided_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)",
            )?
            .execute(params![
                d.sync_key,
                d.tenant,
                d.vendor.as_str(),
                d.application_id,
                d.candidate_id,
                d.job_id,
                d.fingerprint,
                d.profile_generation,
                i64::from(d.score.score),
                d.score.band.as_str(),
                score_json,
                d.write_key,
                d.outcome.as_str(),
                ts(d.decided_at),
            ])?;
            tx.prepare_cached(
                "INSERT INTO write_states (sync_key, application_id, fingerprint, profile_generation,
                    write_key, state, attempts, last_error, updated_at, settings)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, 0, NULL, ?7, ?8)
                 ON CONFLICT (sync_key, application_id) DO UPDATE SET
                    fingerprint = excluded.fingerprint,
                    profile_generation = excluded.profile_generation,
                    write_key = excluded.write_key,
                    state = excluded.state,
                    attempts = 0,
                    last_error = NULL,
                    updated_at = excluded.updated_at,
                    settings = excluded.settings,
                    next_attempt_at = NULL,
                    deleted_at = NULL",
            )?
            .execute(params![
                d.sync_key,
                d.application_id,
                d.fingerprint,
                d.profile_generation,
                d.write_key,
                state.as_str(),
                now,
                d.settings,
            ])?;
            append_event(
                &tx,
                &d.sync_key,
                &d.application_id,
                &d.write_key,
                "decided",
                Some(d.outcome.as_str()),
            )?;
        }
        tx.commit()?;
        Ok(())
    }

    /// Marks the write with `write_key` as done; `mark` is what it put into the
    /// ATS. A key that is no longer the application's current one (a newer
    /// decision superseded it) leaves the state alone; the event is still audited
    /// because the write did land. `adopted`: the ATS already had it (found by
    /// its marker), nothing was sent.
    pub fn mark_written(
        &self,
        sync_key: &str,
        application_id: &str,
        write_key: &str,
        mark: &str,
        adopted: bool,
    ) -> Result<(), LedgerError> {
        let mut conn = self.conn()?;
        let tx = conn.transaction()?;
        let changed = tx.execute(
            "UPDATE write_states SET state = ?4, attempts = attempts + 1, last_error = NULL,
                updated_at = ?5, written_mark = ?6, next_attempt_at = NULL, written_at = ?5
             WHERE sync_key = ?1 AND application_id = ?2 AND write_key = ?3",
            params![
                sync_key,
                application_id,
                write_key,
                WriteStatus::Done.as_str(),
                ts(Utc::now()),
                mark,
            ],
        )?;
        let kind = match (changed > 0, adopted) {
            (true, false) => "written",
            (true, true) => "adopted",
            (false, _) => "written_superseded",
        };
        append_event(&tx, sync_key, application_id, write_key, kind, None)?;
        tx.commit()?;
        Ok(())
    }

    /// Records a failed write attempt; the state stays retryable from
    /// `retry_at` on ([`Ledger::pending_writes`] returns it then). Ignored for a
    /// superseded key or a confirmed write. Returns the attempts so far, or
    /// `None` when ignored.
    pub fn mark_failed(
        &self,
        sync_key: &str,
        application_id: &str,
        write_key: &str,
        error: &str,
        retry_at: DateTime<Utc>,
    ) -> Result<Option<u32>, LedgerError> {
        self.close_attempt(
            sync_key,
            application_id,
            write_key,
            WriteStatus::Failed,
            error,
            Some(retry_at),
        )
    }

    /// Gives a write up: it is never sent again (until a new decision).
    pub fn mark_abandoned(
        &self,
        sync_key: &str,
        application_id: &str,
        write_key: &str,
        error: &str,
    ) -> Result<(), LedgerError> {
        self.close_attempt(
            sync_key,
            application_id,
            write_key,
            WriteStatus::Abandoned,
            error,
            None,
        )
        .map(|_| ())
    }

    /// A pending write that no longer matches the sync's settings or source:
    /// never sent.
    pub fn mark_superseded(
        &self,
        sync_key: &str,
        application_id: &str,
        write_key: &str,
        why: &str,
    ) -> Result<(), LedgerError> {
        let mut conn = self.conn()?;
        let tx = conn.transaction()?;
        tx.execute(
            "UPDATE write_states SET state = ?4, updated_at = ?5, next_attempt_at = NULL
             WHERE sync_key = ?1 AND application_id = ?2 AND write_key = ?3 AND state IN (?6, ?7)",
            params![
                sync_key,
                application_id,
                write_key,
                WriteStatus::Superseded.as_str(),
                ts(Utc::now()),
                WriteStatus::Pending.as_str(),
                WriteStatus::Failed.as_str(),
            ],
        )?;
        append_event(
            &tx,
            sync_key,
            application_id,
            write_key,
            "superseded",
            Some(why),
        )?;
        tx.commit()?;
        Ok(())
    }

    fn close_attempt(
        &self,
        sync_key: &str,
        application_id: &str,
        write_key: &str,
        state: WriteStatus,
        error: &str,
        retry_at: Option<DateTime<Utc>>,
    ) -> Result<Option<u32>, LedgerError> {
        let error: String = error.chars().take(MAX_ERROR_CHARS).collect();
        let mut conn = self.conn()?;
        let tx = conn.transaction()?;
        let attempts: Option<i64> = tx
            .query_row(
                "UPDATE write_states SET state = ?4, attempts = attempts + 1, last_error = ?5,
                    updated_at = ?6, next_attempt_at = ?7
                 WHERE sync_key = ?1 AND application_id = ?2 AND write_key = ?3
                    AND state IN (?8, ?9)
                 RETURNING attempts",
                params![
                    sync_key,
                    application_id,
                    write_key,
                    state.as_str(),
                    error,
                    ts(Utc::now()),
                    retry_at.map(ts),
                    WriteStatus::Pending.as_str(),
                    WriteStatus::Failed.as_str(),
                ],
                |r| r.get(0),
            )
            .optional()?;
        let kind = match (attempts.is_some(), state) {
            (true, WriteStatus::Abandoned) => "abandoned",
            (true, _) => "failed",
            (false, _) => "failed_superseded",
        };
        append_event(&tx, sync_key, application_id, write_key, kind, Some(&error))?;
        tx.commit()?;
        Ok(attempts.map(|a| u32::try_from(a).unwrap_or(u32::MAX)))
    }

    /// An application that was a tombstone is back (in scope, or undeleted).
    pub fn revive(&self, sync_key: &str, application_id: &str) -> Result<(), LedgerError> {
        let conn = self.conn()?;
        conn.prepare_cached(
            "UPDATE write_states SET deleted_at = NULL WHERE sync_key = ?1 AND application_id = ?2",
        )?
        .execute(params![sync_key, application_id])?;
        Ok(())
    }

    /// Writes still to do (Pending, or Failed and due again at `now`) of
    /// applications that are not tombstones, oldest first.
    pub fn pending_writes(
        &self,
        sync_key: &str,
        now: DateTime<Utc>,
    ) -> Result<Vec<WriteState>, LedgerError> {
        let conn = self.conn()?;
        let mut stmt = conn.prepare_cached(&format!(
            "SELECT {WRITE_STATE_COLUMNS} FROM write_states
             WHERE sync_key = ?1 AND state IN (?2, ?3) AND deleted_at IS NULL
                AND (next_attempt_at IS NULL OR next_attempt_at <= ?4)
             ORDER BY updated_at, application_id"
        ))?;
        let mut rows = stmt.query(params![
            sync_key,
            WriteStatus::Pending.as_str(),
            WriteStatus::Failed.as_str(),
            ts(now),
        ])?;
        let mut out = Vec::new();
        while let Some(row) = rows.next()? {
            out.push(write_state_from_row(row)?);
        }
        Ok(out)
    }

    pub fn totals(&self, sync_key: &str) -> Result<Totals, LedgerError> {
        let conn = self.conn()?;
        let scored: i64 = conn.query_row(
            "SELECT COUNT(*) FROM decisions WHERE sync_key = ?1",
            params![sync_key],
            |r| r.get(0),
        )?;
        let written: i64 = conn.query_row(
            "SELECT COUNT(*) FROM events WHERE sync_key = ?1
             AND kind IN ('written', 'written_superseded', 'adopted')",
            params![sync_key],
            |r| r.get(0),
        )?;
        let failed: i64 = conn.query_row(
            "SELECT COUNT(*) FROM write_states WHERE sync_key = ?1 AND state = ?2",
            params![sync_key, WriteStatus::Failed.as_str()],
            |r| r.get(0),
        )?;
        let abandoned: i64 = conn.query_row(
            "SELECT COUNT(*) FROM write_states WHERE sync_key = ?1 AND state = ?2",
            params![sync_key, WriteStatus::Abandoned.as_str()],
            |r| r.get(0),
        )?;
        Ok(Totals {
            scored: count(scored),
            written_back: count(written),
            failed: count(failed),
            abandoned: count(abandoned),
        })
    }

    /// The application's decisions in this sync, oldest first.
    pub fn decisions(
        &self,
        sync_key: &str,
        application_id: &str,
    ) -> Result<Vec<Decision>, LedgerError> {
        let conn = self.conn()?;
        let mut stmt = conn.prepare_cached(
            "SELECT d.sync_key, d.tenant, d.vendor, d.application_id, d.candidate_id, d.job_id,
                d.fingerprint, d.profile_generation, d.score_json, d.write_key, d.outcome,
                d.decided_at, COALESCE(w.settings, '')
             FROM decisions d LEFT JOIN write_states w
                ON w.sync_key = d.sync_key AND w.application_id = d.application_id
                AND w.write_key = d.write_key
             WHERE d.sync_key = ?1 AND d.application_id = ?2 ORDER BY d.id",
        )?;
        let mut rows = stmt.query(params![sync_key, application_id])?;
        let mut out = Vec::new();
        while let Some(r) = rows.next()? {
            let vendor: String = r.get(2)?;
            let score_json: String = r.get(8)?;
            let outcome: String = r.get(10)?;
            let decided_at: String = r.get(11)?;
            out.push(Decision {
                sync_key: r.get(0)?,
                tenant: r.get(1)?,
                vendor: parse_vendor(&vendor)?,
                application_id: r.get(3)?,
                candidate_id: r.get(4)?,
                job_id: r.get(5)?,
                fingerprint: r.get(6)?,
                profile_generation: r.get(7)?,
                score: serde_json::from_str(&score_json)?,
                write_key: r.get(9)?,
                outcome: DecisionOutcome::parse(&outcome)?,
                decided_at: parse_ts(&decided_at)?,
                settings: r.get(12)?,
            });
        }
        Ok(out)
    }
}

fn append_event(
    tx: &Transaction<'_>,
    sync_key: &str,
    application_id: &str,
    write_key: &str,
    kind: &str,
    detail: Option<&str>,
) -> Result<(), LedgerError> {
    tx.prepare_cached(
        "INSERT INTO events (sync_key, application_id, write_key, kind, detail, at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?
    .execute(params![
        sync_key,
        application_id,
        write_key,
        kind,
        detail,
        ts(Utc::now())
    ])?;
    Ok(())
}

fn write_state_from_row(row: &rusqlite::Row<'_>) -> Result<WriteState, LedgerError> {
    let state: String = row.get(4)?;
    let attempts: i64 = row.get(5)?;
    let deleted_at: Option<String> = row.get(6)?;
    Ok(WriteState {
        application_id: row.get(0)?,
        fingerprint: row.get(1)?,
        profile_generation: row.get(2)?,
        write_key: row.get(3)?,
        state: WriteStatus::parse(&state)?,
        attempts: u32::try_from(attempts).unwrap_or(u32::MAX),
        deleted: deleted_at.is_some(),
        written_mark: row.get(7)?,
        settings: row.get(8)?,
        written_at: row
            .get::<_, Option<String>>(9)?
            .as_deref()
            .map(parse_ts)
            .transpose()?,
    })
}

#[cfg(test)]
mod tests;
