//! The SQLite backend (the default): one file on one volume, one connection
//! behind a mutex. WAL lets readers (`ledger export`, a test) proceed during
//! writes; `synchronous=FULL` syncs the WAL on every commit, so a decision
//! survives a power cut as well as a crash. Every call blocks on the disk, so
//! it runs on tokio's blocking pool: a slow fsync never stalls the runtime's
//! worker threads, and so never the watches, the Lease or other syncs.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};
use futures::stream::BoxStream;
use futures::{SinkExt, StreamExt};
use rusqlite::{Connection, OptionalExtension, Transaction, params};

mod webhooks;

use super::export::{ExportRow, RawRow};
use super::migrations::{self, PSEUDONYM_KEY};
use super::retention::Pruned;
use super::{
    Attempt, Checkpoint, Cursor, Decision, DecisionOutcome, LedgerError, Settlement, Store, Totals,
    Versions, WriteState, WriteStatus, count, parse_ts, parse_vendor, pseudonym, sql, ts,
};

/// Export rows buffered between the reading thread and the writer.
const EXPORT_BUFFER: usize = 256;

pub(super) struct SqliteStore {
    conn: Arc<Mutex<Connection>>,
    /// `None` in memory.
    path: Option<PathBuf>,
    /// Keys erased candidates' pseudonyms.
    pseudonym_key: Arc<String>,
}

/// The `$n` parameters of [`sql`] as SQLite's numbered `?n`.
fn q(statement: &str) -> String {
    statement.replace('$', "?")
}

impl SqliteStore {
    pub(super) fn open(path: &Path) -> Result<Self, LedgerError> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|source| LedgerError::CreateDir {
                path: dir.display().to_string(),
                source,
            })?;
        }
        let conn = Connection::open(path)?;
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        let _mode: String =
            conn.pragma_update_and_check(None, "journal_mode", "WAL", |r| r.get(0))?;
        conn.pragma_update(None, "synchronous", "FULL")?;
        Self::init(conn, Some(path.to_path_buf()))
    }

    pub(super) fn open_in_memory() -> Result<Self, LedgerError> {
        Self::init(Connection::open_in_memory()?, None)
    }

    fn init(mut conn: Connection, path: Option<PathBuf>) -> Result<Self, LedgerError> {
        let version: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
        let supported = migrations::SQLITE.len() as i64;
        if version > supported {
            return Err(LedgerError::SchemaTooNew {
                found: version,
                supported,
            });
        }
        for (i, statements) in migrations::SQLITE
            .iter()
            .enumerate()
            .skip(usize::try_from(version).unwrap_or(0))
        {
            let tx = conn.transaction()?;
            tx.execute_batch(statements)?;
            tx.pragma_update(None, "user_version", (i + 1) as i64)?;
            tx.commit()?;
        }
        conn.execute(
            &q(sql::META_INIT),
            params![PSEUDONYM_KEY, pseudonym::new_key()],
        )?;
        let key: String =
            conn.query_row(&q(sql::META_GET), params![PSEUDONYM_KEY], |r| r.get(0))?;
        Ok(SqliteStore {
            conn: Arc::new(Mutex::new(conn)),
            path,
            pseudonym_key: Arc::new(key),
        })
    }

    /// Runs `f` with the connection on the blocking pool.
    async fn call<T, F>(&self, f: F) -> Result<T, LedgerError>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> Result<T, LedgerError> + Send + 'static,
    {
        let conn = self.conn.clone();
        tokio::task::spawn_blocking(move || {
            let mut conn = conn.lock().map_err(|_| LedgerError::Poisoned)?;
            f(&mut conn)
        })
        .await
        .map_err(|e| LedgerError::Task(e.to_string()))?
    }

    /// Runs `f` in one transaction on the blocking pool.
    async fn transaction<T, F>(&self, f: F) -> Result<T, LedgerError>
    where
        T: Send + 'static,
        F: FnOnce(&Transaction<'_>) -> Result<T, LedgerError> + Send + 'static,
    {
        self.call(move |conn| {
            let tx = conn.transaction()?;
            let out = f(&tx)?;
            tx.commit()?;
            Ok(out)
        })
        .await
    }
}

fn opt_ts(s: Option<String>) -> Result<Option<DateTime<Utc>>, LedgerError> {
    s.as_deref().map(parse_ts).transpose()
}

fn append_event(
    tx: &Connection,
    sync_key: &str,
    application_id: &str,
    write_key: &str,
    kind: &str,
    detail: Option<&str>,
) -> Result<(), LedgerError> {
    tx.prepare_cached(&q(sql::EVENT))?.execute(params![
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
        attempts: super::attempts(attempts),
        deleted: deleted_at.is_some(),
        written_mark: row.get(7)?,
        settings: row.get(8)?,
        written_at: opt_ts(row.get(9)?)?,
    })
}

/// Pseudonymizes every row of one application (see `Ledger::record_erasures`).
fn erase(tx: &Connection, key: &str, sync_key: &str, app: &str) -> Result<(), LedgerError> {
    let pseudo = |kind: &str, id: &str| -> Result<String, LedgerError> {
        if id.is_empty() {
            Ok(String::new())
        } else {
            pseudonym::pseudonym(key, kind, id)
        }
    };
    let papp = pseudo("application", app)?;
    let rows: Vec<(i64, String, String, String)> = tx
        .prepare_cached(&q(sql::ERASE_SELECT_DECISIONS))?
        .query_map(params![sync_key, app], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
        })?
        .collect::<Result<_, _>>()?;
    for (id, candidate, write_key, score_json) in rows {
        tx.prepare_cached(&q(sql::ERASE_DECISION))?
            .execute(params![
                id,
                papp,
                pseudo("candidate", &candidate)?,
                pseudo("write", &write_key)?,
                pseudonym::scrub_score_json(&score_json)?,
            ])?;
    }
    let write_key: Option<String> = tx
        .prepare_cached(&q(sql::ERASE_SELECT_WRITE_KEY))?
        .query_row(params![sync_key, app], |r| r.get(0))
        .optional()?;
    if let Some(write_key) = write_key {
        tx.prepare_cached(&q(sql::ERASE_DROP_WRITE_STATE))?
            .execute(params![sync_key, papp])?;
        tx.prepare_cached(&q(sql::ERASE_WRITE_STATE))?
            .execute(params![sync_key, app, papp, pseudo("write", &write_key)?])?;
    }
    let keys: Vec<String> = tx
        .prepare_cached(&q(sql::ERASE_SELECT_EVENT_KEYS))?
        .query_map(params![sync_key, app], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    for k in keys {
        tx.prepare_cached(&q(sql::ERASE_EVENTS))?.execute(params![
            sync_key,
            app,
            k,
            papp,
            pseudo("write", &k)?
        ])?;
    }
    tx.prepare_cached(&q(sql::ERASE_DROP_DELETION))?
        .execute(params![sync_key, papp])?;
    tx.prepare_cached(&q(sql::ERASE_DELETION))?
        .execute(params![sync_key, app, papp])?;
    webhooks::erase(tx, key, sync_key, app, &papp)
}

fn read_export_row(r: &rusqlite::Row<'_>) -> Result<ExportRow, LedgerError> {
    let decided_at: String = r.get(0)?;
    ExportRow::from_raw(RawRow {
        decided_at: parse_ts(&decided_at)?,
        sync_key: r.get(1)?,
        vendor: r.get(2)?,
        application_id: r.get(3)?,
        job_id: r.get(4)?,
        score_json: r.get(5)?,
        band: r.get(6)?,
        profile_generation: r.get(7)?,
        scorer_version: r.get(8)?,
        outcome: r.get(9)?,
        last_write_event: r.get(10)?,
        recruiter_decision: r.get(11)?,
        recruiter_stage: r.get(12)?,
        recruiter_reason: r.get(13)?,
        recruiter_decided_at: opt_ts(r.get(14)?)?,
    })
}

#[async_trait::async_trait]
impl Store for SqliteStore {
    async fn cursor(&self, sync_key: &str) -> Result<Option<Cursor>, LedgerError> {
        let sync_key = sync_key.to_owned();
        self.call(move |conn| {
            type Row = (String, String, Option<String>, Option<String>);
            let row: Option<Row> = conn
                .prepare_cached(&q(sql::CURSOR_GET))?
                .query_row(params![sync_key], |r| {
                    Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
                })
                .optional()?;
            row.map(|(identity, w, full, decision_identity)| {
                Ok(Cursor {
                    identity,
                    watermark: parse_ts(&w)?,
                    full_sync_at: opt_ts(full)?,
                    decision_identity,
                })
            })
            .transpose()
        })
        .await
    }

    async fn set_cursor(&self, sync_key: &str, cursor: &Cursor) -> Result<(), LedgerError> {
        let (sync_key, c) = (sync_key.to_owned(), cursor.clone());
        self.call(move |conn| {
            conn.prepare_cached(&q(sql::CURSOR_SET))?.execute(params![
                sync_key,
                c.identity,
                ts(c.watermark),
                ts(Utc::now()),
                c.full_sync_at.map(ts),
                c.decision_identity,
            ])?;
            Ok(())
        })
        .await
    }

    async fn checkpoint(&self, sync_key: &str) -> Result<Option<Checkpoint>, LedgerError> {
        let sync_key = sync_key.to_owned();
        self.call(move |conn| {
            let data: Option<String> = conn
                .prepare_cached(&q(sql::CHECKPOINT_GET))?
                .query_row(params![sync_key], |r| r.get(0))
                .optional()?;
            Ok(data.map(|d| serde_json::from_str(&d)).transpose()?)
        })
        .await
    }

    async fn set_checkpoint(&self, sync_key: &str, c: &Checkpoint) -> Result<(), LedgerError> {
        let (sync_key, c) = (sync_key.to_owned(), c.clone());
        self.call(move |conn| {
            conn.prepare_cached(&q(sql::CHECKPOINT_SET))?
                .execute(params![
                    sync_key,
                    c.identity,
                    c.decision_identity,
                    serde_json::to_string(&c)?,
                    ts(Utc::now())
                ])?;
            Ok(())
        })
        .await
    }

    async fn clear_checkpoint(&self, sync_key: &str) -> Result<(), LedgerError> {
        let sync_key = sync_key.to_owned();
        self.call(move |conn| {
            conn.prepare_cached(&q(sql::CHECKPOINT_CLEAR))?
                .execute(params![sync_key])?;
            Ok(())
        })
        .await
    }

    async fn mark_seen(
        &self,
        sync_key: &str,
        application_ids: &[&str],
        at: DateTime<Utc>,
    ) -> Result<(), LedgerError> {
        let sync_key = sync_key.to_owned();
        let ids: Vec<String> = application_ids.iter().map(|s| s.to_string()).collect();
        self.transaction(move |tx| {
            let at = ts(at);
            for id in ids {
                tx.prepare_cached(&q(sql::MARK_SEEN))?
                    .execute(params![sync_key, id, at])?;
            }
            Ok(())
        })
        .await
    }

    async fn set_versions(
        &self,
        sync_key: &str,
        versions: &[(&str, Option<DateTime<Utc>>, &str)],
    ) -> Result<(), LedgerError> {
        let sync_key = sync_key.to_owned();
        let versions: Vec<(String, Option<String>, String)> = versions
            .iter()
            .map(|(id, v, fp)| (id.to_string(), v.map(ts), fp.to_string()))
            .collect();
        self.transaction(move |tx| {
            for (id, version, job_fp) in versions {
                tx.prepare_cached(&q(sql::SET_VERSION))?
                    .execute(params![sync_key, id, version, job_fp])?;
            }
            Ok(())
        })
        .await
    }

    async fn versions(&self, sync_key: &str) -> Result<Versions, LedgerError> {
        let sync_key = sync_key.to_owned();
        self.call(move |conn| {
            let mut stmt = conn.prepare_cached(&q(sql::VERSIONS))?;
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
                out.insert(id, (parse_ts(&version)?, job_fp));
            }
            Ok(out)
        })
        .await
    }

    async fn unseen_since(
        &self,
        sync_key: &str,
        started: DateTime<Utc>,
    ) -> Result<Vec<String>, LedgerError> {
        let sync_key = sync_key.to_owned();
        self.call(move |conn| {
            let ids = conn
                .prepare_cached(&q(sql::UNSEEN_SINCE))?
                .query_map(params![sync_key, ts(started)], |r| r.get::<_, String>(0))?
                .collect::<Result<_, _>>()?;
            Ok(ids)
        })
        .await
    }

    async fn known_applications(
        &self,
        sync_key: &str,
    ) -> Result<std::collections::HashSet<String>, LedgerError> {
        let sync_key = sync_key.to_owned();
        self.call(move |conn| {
            let ids = conn
                .prepare_cached(&q(sql::KNOWN))?
                .query_map(params![sync_key], |r| r.get::<_, String>(0))?
                .collect::<Result<_, _>>()?;
            Ok(ids)
        })
        .await
    }

    async fn record_deletions(
        &self,
        sync_key: &str,
        application_ids: &[String],
        source: &str,
        erase_rows: bool,
    ) -> Result<u64, LedgerError> {
        let (sync_key, source) = (sync_key.to_owned(), source.to_owned());
        let ids = application_ids.to_vec();
        let key = self.pseudonym_key.clone();
        self.transaction(move |tx| {
            let now = ts(Utc::now());
            let mut known = 0;
            for id in &ids {
                let removed = tx
                    .prepare_cached(&q(sql::TOMBSTONE))?
                    .execute(params![sync_key, id, now])?;
                if removed > 0 {
                    known += 1;
                    tx.prepare_cached(&q(sql::DELETION_UPSERT))?
                        .execute(params![sync_key, id, source, now])?;
                    append_event(tx, &sync_key, id, "", "deleted", Some(&source))?;
                }
                if erase_rows {
                    erase(tx, &key, &sync_key, id)?;
                }
            }
            Ok(known)
        })
        .await
    }

    async fn write_states(
        &self,
        sync_key: &str,
        application_ids: &[&str],
    ) -> Result<Vec<WriteState>, LedgerError> {
        let sync_key = sync_key.to_owned();
        let ids: Vec<String> = application_ids.iter().map(|s| s.to_string()).collect();
        self.call(move |conn| {
            let mut stmt = conn.prepare_cached(&format!(
                "SELECT {} FROM write_states WHERE sync_key = ?1 AND application_id = ?2",
                sql::WRITE_STATE_COLUMNS
            ))?;
            let mut out = Vec::new();
            for id in ids {
                let mut rows = stmt.query(params![sync_key, id])?;
                if let Some(row) = rows.next()? {
                    out.push(write_state_from_row(row)?);
                }
            }
            Ok(out)
        })
        .await
    }

    async fn record_decisions(&self, decisions: &[Decision]) -> Result<(), LedgerError> {
        let decisions = decisions.to_vec();
        self.transaction(move |tx| {
            let now = ts(Utc::now());
            let scorer_version = i64::from(crate::scoring::SCORER_VERSION);
            for d in &decisions {
                tx.prepare_cached(&q(sql::DECISION_INSERT))?
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
                        serde_json::to_string(&d.score)?,
                        d.write_key,
                        d.outcome.as_str(),
                        ts(d.decided_at),
                        scorer_version,
                    ])?;
                tx.prepare_cached(&q(sql::WRITE_STATE_UPSERT))?
                    .execute(params![
                        d.sync_key,
                        d.application_id,
                        d.fingerprint,
                        d.profile_generation,
                        d.write_key,
                        d.outcome.initial_state().as_str(),
                        now,
                        d.settings,
                    ])?;
                append_event(
                    tx,
                    &d.sync_key,
                    &d.application_id,
                    &d.write_key,
                    "decided",
                    Some(d.outcome.as_str()),
                )?;
            }
            Ok(())
        })
        .await
    }

    async fn settle(
        &self,
        sync_key: &str,
        settlements: &[Settlement],
    ) -> Result<Vec<Option<u32>>, LedgerError> {
        let sync_key = sync_key.to_owned();
        let settlements = settlements.to_vec();
        self.transaction(move |tx| {
            let now = ts(Utc::now());
            let mut out = Vec::with_capacity(settlements.len());
            for s in &settlements {
                let (attempts, detail): (Option<i64>, Option<String>) = match &s.result {
                    Attempt::Written { mark, .. } => {
                        let a = tx
                            .prepare_cached(&q(sql::SETTLE_WRITTEN))?
                            .query_row(
                                params![
                                    sync_key,
                                    s.application_id,
                                    s.write_key,
                                    WriteStatus::Done.as_str(),
                                    now,
                                    mark,
                                ],
                                |r| r.get(0),
                            )
                            .optional()?;
                        (a, None)
                    }
                    Attempt::Failed { error, .. } | Attempt::Abandoned { error } => {
                        let (state, retry_at) = match &s.result {
                            Attempt::Failed { retry_at, .. } => {
                                (WriteStatus::Failed, Some(ts(*retry_at)))
                            }
                            _ => (WriteStatus::Abandoned, None),
                        };
                        let error = super::truncate_error(error);
                        let a = tx
                            .prepare_cached(&q(sql::SETTLE_FAILED))?
                            .query_row(
                                params![
                                    sync_key,
                                    s.application_id,
                                    s.write_key,
                                    state.as_str(),
                                    error,
                                    now,
                                    retry_at,
                                    WriteStatus::Pending.as_str(),
                                    WriteStatus::Failed.as_str(),
                                ],
                                |r| r.get(0),
                            )
                            .optional()?;
                        (a, Some(error))
                    }
                };
                let kind = super::settlement_kind(&s.result, attempts.is_some());
                append_event(
                    tx,
                    &sync_key,
                    &s.application_id,
                    &s.write_key,
                    kind,
                    detail.as_deref(),
                )?;
                out.push(attempts.map(super::attempts));
            }
            Ok(out)
        })
        .await
    }

    async fn mark_superseded(
        &self,
        sync_key: &str,
        application_id: &str,
        write_key: &str,
        why: &str,
    ) -> Result<(), LedgerError> {
        let args = [sync_key, application_id, write_key, why].map(str::to_owned);
        self.transaction(move |tx| {
            let [sync_key, app, key, why] = args;
            tx.prepare_cached(&q(sql::SUPERSEDE))?.execute(params![
                sync_key,
                app,
                key,
                WriteStatus::Superseded.as_str(),
                ts(Utc::now()),
                WriteStatus::Pending.as_str(),
                WriteStatus::Failed.as_str(),
            ])?;
            append_event(tx, &sync_key, &app, &key, "superseded", Some(&why))
        })
        .await
    }

    async fn revive(&self, sync_key: &str, application_id: &str) -> Result<(), LedgerError> {
        let (sync_key, app) = (sync_key.to_owned(), application_id.to_owned());
        self.call(move |conn| {
            conn.prepare_cached(&q(sql::REVIVE))?
                .execute(params![sync_key, app])?;
            Ok(())
        })
        .await
    }

    async fn pending_writes(
        &self,
        sync_key: &str,
        now: DateTime<Utc>,
    ) -> Result<Vec<WriteState>, LedgerError> {
        let sync_key = sync_key.to_owned();
        self.call(move |conn| {
            let mut stmt = conn.prepare_cached(&format!(
                "SELECT {} FROM write_states
                 WHERE sync_key = ?1 AND state IN (?2, ?3) AND deleted_at IS NULL
                    AND (next_attempt_at IS NULL OR next_attempt_at <= ?4)
                 ORDER BY updated_at, application_id",
                sql::WRITE_STATE_COLUMNS
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
        })
        .await
    }

    async fn totals(&self, sync_key: &str) -> Result<Totals, LedgerError> {
        let sync_key = sync_key.to_owned();
        self.call(move |conn| {
            let (scored, written, failed, abandoned): (i64, i64, i64, i64) =
                conn.prepare_cached(&q(sql::TOTALS))?.query_row(
                    params![
                        sync_key,
                        WriteStatus::Failed.as_str(),
                        WriteStatus::Abandoned.as_str()
                    ],
                    |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
                )?;
            Ok(Totals {
                scored: count(scored),
                written_back: count(written),
                failed: count(failed),
                abandoned: count(abandoned),
            })
        })
        .await
    }

    async fn decisions(
        &self,
        sync_key: &str,
        application_id: &str,
    ) -> Result<Vec<Decision>, LedgerError> {
        let (sync_key, app) = (sync_key.to_owned(), application_id.to_owned());
        self.call(move |conn| {
            let mut stmt = conn.prepare_cached(&q(sql::DECISIONS))?;
            let mut rows = stmt.query(params![sync_key, app])?;
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
        })
        .await
    }

    async fn prune(&self, before: DateTime<Utc>, chunk: u32) -> Result<Pruned, LedgerError> {
        let chunk = chunk.max(1);
        let before = ts(before);
        let mut counts = [0u64; 7];
        for (i, statement) in super::PRUNE_STATEMENTS.into_iter().enumerate() {
            loop {
                // One short statement per chunk, each taking the lock on its
                // own: syncs interleave with a long prune.
                let b = before.clone();
                let n = self
                    .call(move |conn| {
                        let n = conn
                            .prepare_cached(&q(statement))?
                            .execute(params![b, i64::from(chunk)])?;
                        Ok(n as u64)
                    })
                    .await?;
                counts[i] += n;
                if n < u64::from(chunk) {
                    break;
                }
            }
        }
        Ok(Pruned::from_counts(counts))
    }

    fn export(
        &self,
        tenant: &str,
        since: Option<DateTime<Utc>>,
    ) -> BoxStream<'static, Result<ExportRow, LedgerError>> {
        let (tx, rx) = futures::channel::mpsc::channel(EXPORT_BUFFER);
        let conn = self.conn.clone();
        let tenant = tenant.to_owned();
        let since = ts(since.unwrap_or_else(super::export_floor));
        // The reading thread blocks on the channel when the writer falls behind:
        // memory stays at the buffer, whatever the tenant's size. It holds this
        // handle's connection meanwhile: `ledger export` opens its own.
        tokio::task::spawn_blocking(move || {
            let mut tx = tx;
            let run = |tx: &mut futures::channel::mpsc::Sender<Result<ExportRow, LedgerError>>| -> Result<(), LedgerError> {
                let conn = conn.lock().map_err(|_| LedgerError::Poisoned)?;
                let mut stmt = conn.prepare(&q(&sql::export()))?;
                let mut rows = stmt.query(params![tenant, since])?;
                while let Some(r) = rows.next()? {
                    let row = read_export_row(r);
                    if futures::executor::block_on(tx.send(row)).is_err() {
                        return Ok(()); // the reader went away
                    }
                }
                Ok(())
            };
            if let Err(e) = run(&mut tx) {
                let _ = futures::executor::block_on(tx.send(Err(e)));
            }
        });
        rx.boxed()
    }

    async fn size_bytes(&self) -> Result<u64, LedgerError> {
        let Some(path) = self.path.clone() else {
            return Ok(0);
        };
        self.call(move |_| {
            let mut total = 0;
            for suffix in ["", "-wal", "-shm"] {
                let p = PathBuf::from(format!("{}{suffix}", path.display()));
                total += std::fs::metadata(&p).map(|m| m.len()).unwrap_or(0);
            }
            Ok(total)
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commits_are_synced_to_disk() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(&dir.path().join("ledger.db")).unwrap();
        let conn = store.conn.lock().unwrap();
        // 2 = FULL: the WAL is synced on every commit (power-cut safe).
        let sync: i64 = conn
            .pragma_query_value(None, "synchronous", |r| r.get(0))
            .unwrap();
        assert_eq!(sync, 2);
    }

    #[test]
    fn parameters_are_numbered_for_sqlite() {
        assert_eq!(q("a = $1 AND b IN ($2, $10)"), "a = ?1 AND b IN (?2, ?10)");
    }
}
