//! The PostgreSQL backend: one ledger shared by the replicas of a Deployment,
//! so a standby that takes over finds the same record.
//!
//! `tokio-postgres` through a `deadpool-postgres` pool: both async, so no
//! thread waits while a statement crosses the network, and a statement's
//! batch is pipelined (sent together, answered together) instead of costing
//! a round trip per row. (The synchronous `postgres` crate would run its own
//! runtime inside each call, on the blocking pool: threads for nothing.)
//!
//! Only the leader writes, but a deposed leader may still finish a statement:
//! each operation is one transaction, rows change only in the state they are
//! expected in (`… WHERE write_key = $3 AND state IN (…)`), and inserts of a
//! current state are `ON CONFLICT` upserts, so two writers interleave without
//! corrupting a row. Migrations take an advisory lock, so replicas starting
//! together apply each one once.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod, Runtime};
use futures::StreamExt;
use futures::stream::BoxStream;
use tokio_postgres::config::SslMode;
use tokio_postgres::types::ToSql;
use tokio_postgres::{NoTls, Row};

mod webhooks;

use super::export::{ExportRow, RawRow};
use super::migrations::{self, PSEUDONYM_KEY};
use super::retention::Pruned;
use super::{
    Attempt, Checkpoint, Cursor, Decision, DecisionOutcome, LedgerError, Settlement, Store, Totals,
    Versions, WriteState, WriteStatus, count, parse_vendor, pseudonym, sql,
};

/// Connections per replica: syncs run 10 at a time by default, each making
/// one ledger call at a time.
const POOL_SIZE: usize = 16;
/// A database that does not answer fails the call instead of hanging the sync.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
const WAIT_TIMEOUT: Duration = Duration::from_secs(30);
/// Serializes migrations across replicas (`pg_advisory_xact_lock`).
const MIGRATION_LOCK: i64 = 0x6174_735f_6c65_6467; // "ats_ledg"

type Param<'a> = &'a (dyn ToSql + Sync);

pub(super) struct PgStore {
    pool: Pool,
    pseudonym_key: Arc<String>,
}

/// TLS for `sslmode=require`: rustls with the platform's trusted roots.
fn tls() -> Result<tokio_postgres_rustls::MakeRustlsConnect, LedgerError> {
    let mut roots = rustls::RootCertStore::empty();
    for cert in rustls_native_certs::load_native_certs().certs {
        // A certificate the platform lists but rustls cannot parse is skipped.
        let _ = roots.add(cert);
    }
    if roots.is_empty() {
        return Err(LedgerError::Pool(
            "sslmode=require, but no trusted CA certificate was found: mount the database's CA and set SSL_CERT_FILE".into(),
        ));
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| LedgerError::Pool(format!("TLS: {e}")))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(tokio_postgres_rustls::MakeRustlsConnect::new(config))
}

fn pool_err(e: impl std::fmt::Display) -> LedgerError {
    LedgerError::Pool(e.to_string())
}

impl PgStore {
    pub(super) async fn connect(url: &str) -> Result<Self, LedgerError> {
        let mut config: tokio_postgres::Config = url.parse().map_err(|_| LedgerError::BadUrl)?;
        config.connect_timeout(CONNECT_TIMEOUT);
        config.application_name("ats-operator");
        let manager_config = ManagerConfig {
            recycling_method: RecyclingMethod::Fast,
        };
        // `sslmode=require` in the URL: TLS, verified against the system's CA
        // certificates (or `SSL_CERT_FILE`); the default (`prefer`) and
        // `disable` connect without TLS.
        let manager = match config.get_ssl_mode() {
            SslMode::Disable | SslMode::Prefer => {
                Manager::from_config(config, NoTls, manager_config)
            }
            _ => Manager::from_config(config, tls()?, manager_config),
        };
        let pool = Pool::builder(manager)
            .max_size(POOL_SIZE)
            .runtime(Runtime::Tokio1)
            .create_timeout(Some(CONNECT_TIMEOUT))
            .wait_timeout(Some(WAIT_TIMEOUT))
            .build()
            .map_err(pool_err)?;
        let key = migrate(&pool).await?;
        Ok(PgStore {
            pool,
            pseudonym_key: Arc::new(key),
        })
    }

    async fn client(&self) -> Result<deadpool_postgres::Client, LedgerError> {
        self.pool.get().await.map_err(pool_err)
    }
}

/// Applies the migrations not yet applied; returns the pseudonym key.
async fn migrate(pool: &Pool) -> Result<String, LedgerError> {
    let mut client = pool.get().await.map_err(pool_err)?;
    let tx = client.transaction().await?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])
        .await?;
    tx.batch_execute("CREATE TABLE IF NOT EXISTS ledger_schema (version BIGINT NOT NULL)")
        .await?;
    let version: i64 = tx
        .query_opt("SELECT version FROM ledger_schema", &[])
        .await?
        .map(|r| r.try_get(0))
        .transpose()?
        .unwrap_or(0);
    let supported = migrations::POSTGRES.len() as i64;
    if version > supported {
        return Err(LedgerError::SchemaTooNew {
            found: version,
            supported,
        });
    }
    for statements in migrations::POSTGRES
        .iter()
        .skip(usize::try_from(version).unwrap_or(0))
    {
        tx.batch_execute(statements).await?;
    }
    tx.execute("DELETE FROM ledger_schema", &[]).await?;
    tx.execute(
        "INSERT INTO ledger_schema (version) VALUES ($1)",
        &[&supported],
    )
    .await?;
    tx.execute(sql::META_INIT, &[&PSEUDONYM_KEY, &pseudonym::new_key()])
        .await?;
    let key: String = tx
        .query_one(sql::META_GET, &[&PSEUDONYM_KEY])
        .await?
        .try_get(0)?;
    tx.commit().await?;
    Ok(key)
}

fn write_state_from_row(row: &Row) -> Result<WriteState, LedgerError> {
    let state: String = row.try_get(4)?;
    let attempts: i64 = row.try_get(5)?;
    let deleted_at: Option<DateTime<Utc>> = row.try_get(6)?;
    Ok(WriteState {
        application_id: row.try_get(0)?,
        fingerprint: row.try_get(1)?,
        profile_generation: row.try_get(2)?,
        write_key: row.try_get(3)?,
        state: WriteStatus::parse(&state)?,
        attempts: super::attempts(attempts),
        deleted: deleted_at.is_some(),
        written_mark: row.try_get(7)?,
        settings: row.try_get(8)?,
        written_at: row.try_get(9)?,
    })
}

async fn append_event(
    tx: &deadpool_postgres::Transaction<'_>,
    sync_key: &str,
    application_id: &str,
    write_key: &str,
    kind: &str,
    detail: Option<&str>,
) -> Result<(), LedgerError> {
    let stmt = tx.prepare_cached(sql::EVENT).await?;
    tx.execute(
        &stmt,
        &[
            &sync_key,
            &application_id,
            &write_key,
            &kind,
            &detail,
            &Utc::now(),
        ],
    )
    .await?;
    Ok(())
}

/// Pseudonymizes every row of one application (see `Ledger::record_erasures`).
async fn erase(
    tx: &deadpool_postgres::Transaction<'_>,
    key: &str,
    sync_key: &str,
    app: &str,
) -> Result<(), LedgerError> {
    let pseudo = |kind: &str, id: &str| -> Result<String, LedgerError> {
        if id.is_empty() {
            Ok(String::new())
        } else {
            pseudonym::pseudonym(key, kind, id)
        }
    };
    let papp = pseudo("application", app)?;
    for r in tx
        .query(sql::ERASE_SELECT_DECISIONS, &[&sync_key, &app])
        .await?
    {
        let id: i64 = r.try_get(0)?;
        let candidate: String = r.try_get(1)?;
        let write_key: String = r.try_get(2)?;
        let score_json: String = r.try_get(3)?;
        tx.execute(
            sql::ERASE_DECISION,
            &[
                &id,
                &papp,
                &pseudo("candidate", &candidate)?,
                &pseudo("write", &write_key)?,
                &pseudonym::scrub_score_json(&score_json)?,
            ],
        )
        .await?;
    }
    if let Some(r) = tx
        .query_opt(sql::ERASE_SELECT_WRITE_KEY, &[&sync_key, &app])
        .await?
    {
        let write_key: String = r.try_get(0)?;
        tx.execute(sql::ERASE_DROP_WRITE_STATE, &[&sync_key, &papp])
            .await?;
        tx.execute(
            sql::ERASE_WRITE_STATE,
            &[&sync_key, &app, &papp, &pseudo("write", &write_key)?],
        )
        .await?;
    }
    for r in tx
        .query(sql::ERASE_SELECT_EVENT_KEYS, &[&sync_key, &app])
        .await?
    {
        let k: String = r.try_get(0)?;
        tx.execute(
            sql::ERASE_EVENTS,
            &[&sync_key, &app, &k, &papp, &pseudo("write", &k)?],
        )
        .await?;
    }
    tx.execute(sql::ERASE_DROP_DELETION, &[&sync_key, &papp])
        .await?;
    tx.execute(sql::ERASE_DELETION, &[&sync_key, &app, &papp])
        .await?;
    webhooks::erase(tx, key, sync_key, app, &papp).await
}

fn read_export_row(r: &Row) -> Result<ExportRow, LedgerError> {
    ExportRow::from_raw(RawRow {
        decided_at: r.try_get(0)?,
        sync_key: r.try_get(1)?,
        vendor: r.try_get(2)?,
        application_id: r.try_get(3)?,
        job_id: r.try_get(4)?,
        score_json: r.try_get(5)?,
        band: r.try_get(6)?,
        profile_generation: r.try_get(7)?,
        scorer_version: r.try_get(8)?,
        outcome: r.try_get(9)?,
        last_write_event: r.try_get(10)?,
        recruiter_decision: r.try_get(11)?,
        recruiter_stage: r.try_get(12)?,
        recruiter_reason: r.try_get(13)?,
        recruiter_decided_at: r.try_get(14)?,
    })
}

#[async_trait::async_trait]
impl Store for PgStore {
    async fn cursor(&self, sync_key: &str) -> Result<Option<Cursor>, LedgerError> {
        let client = self.client().await?;
        let stmt = client.prepare_cached(sql::CURSOR_GET).await?;
        client
            .query_opt(&stmt, &[&sync_key])
            .await?
            .map(|r| {
                Ok(Cursor {
                    identity: r.try_get(0)?,
                    watermark: r.try_get(1)?,
                    full_sync_at: r.try_get(2)?,
                    decision_identity: r.try_get(3)?,
                })
            })
            .transpose()
    }

    async fn set_cursor(&self, sync_key: &str, c: &Cursor) -> Result<(), LedgerError> {
        let client = self.client().await?;
        let stmt = client.prepare_cached(sql::CURSOR_SET).await?;
        client
            .execute(
                &stmt,
                &[
                    &sync_key,
                    &c.identity,
                    &c.watermark,
                    &Utc::now(),
                    &c.full_sync_at,
                    &c.decision_identity,
                ],
            )
            .await?;
        Ok(())
    }

    async fn checkpoint(&self, sync_key: &str) -> Result<Option<Checkpoint>, LedgerError> {
        let client = self.client().await?;
        let stmt = client.prepare_cached(sql::CHECKPOINT_GET).await?;
        let data: Option<String> = client
            .query_opt(&stmt, &[&sync_key])
            .await?
            .map(|r| r.try_get(0))
            .transpose()?;
        Ok(data.map(|d| serde_json::from_str(&d)).transpose()?)
    }

    async fn set_checkpoint(&self, sync_key: &str, c: &Checkpoint) -> Result<(), LedgerError> {
        let client = self.client().await?;
        let stmt = client.prepare_cached(sql::CHECKPOINT_SET).await?;
        let data = serde_json::to_string(c)?;
        client
            .execute(
                &stmt,
                &[
                    &sync_key,
                    &c.identity,
                    &c.decision_identity,
                    &data,
                    &Utc::now(),
                ],
            )
            .await?;
        Ok(())
    }

    async fn clear_checkpoint(&self, sync_key: &str) -> Result<(), LedgerError> {
        let client = self.client().await?;
        let stmt = client.prepare_cached(sql::CHECKPOINT_CLEAR).await?;
        client.execute(&stmt, &[&sync_key]).await?;
        Ok(())
    }

    async fn mark_seen(
        &self,
        sync_key: &str,
        application_ids: &[&str],
        at: DateTime<Utc>,
    ) -> Result<(), LedgerError> {
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        let stmt = tx.prepare_cached(sql::MARK_SEEN).await?;
        let params: Vec<[Param<'_>; 3]> = application_ids
            .iter()
            .map(|id| [&sync_key as Param<'_>, id, &at])
            .collect();
        futures::future::try_join_all(params.iter().map(|p| tx.execute(&stmt, p))).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn set_versions(
        &self,
        sync_key: &str,
        versions: &[(&str, Option<DateTime<Utc>>, &str)],
    ) -> Result<(), LedgerError> {
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        let stmt = tx.prepare_cached(sql::SET_VERSION).await?;
        let params: Vec<[Param<'_>; 4]> = versions
            .iter()
            .map(|(id, v, fp)| [&sync_key as Param<'_>, id, v, fp])
            .collect();
        futures::future::try_join_all(params.iter().map(|p| tx.execute(&stmt, p))).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn versions(&self, sync_key: &str) -> Result<Versions, LedgerError> {
        let client = self.client().await?;
        let stmt = client.prepare_cached(sql::VERSIONS).await?;
        let mut out = Versions::new();
        for r in client.query(&stmt, &[&sync_key]).await? {
            out.insert(r.try_get(0)?, (r.try_get(1)?, r.try_get(2)?));
        }
        Ok(out)
    }

    async fn unseen_since(
        &self,
        sync_key: &str,
        started: DateTime<Utc>,
    ) -> Result<Vec<String>, LedgerError> {
        let client = self.client().await?;
        let stmt = client.prepare_cached(sql::UNSEEN_SINCE).await?;
        client
            .query(&stmt, &[&sync_key, &started])
            .await?
            .iter()
            .map(|r| Ok(r.try_get(0)?))
            .collect()
    }

    async fn known_applications(
        &self,
        sync_key: &str,
    ) -> Result<std::collections::HashSet<String>, LedgerError> {
        let client = self.client().await?;
        let stmt = client.prepare_cached(sql::KNOWN).await?;
        client
            .query(&stmt, &[&sync_key])
            .await?
            .iter()
            .map(|r| Ok(r.try_get(0)?))
            .collect()
    }

    async fn record_deletions(
        &self,
        sync_key: &str,
        application_ids: &[String],
        source: &str,
        erase_rows: bool,
    ) -> Result<u64, LedgerError> {
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        // Only ids the ledger has cost statements: Workable reports its
        // anonymized candidates on every sync, long after they were erased.
        let ids: Vec<&str> = application_ids.iter().map(String::as_str).collect();
        let present = tx
            .prepare_cached(
                "SELECT application_id FROM write_states
                    WHERE sync_key = $1 AND application_id = ANY($2)
                 UNION SELECT application_id FROM decisions
                    WHERE sync_key = $1 AND application_id = ANY($2)
                 UNION SELECT application_id FROM delivery_applications
                    WHERE sync_key = $1 AND application_id = ANY($2)
                 UNION SELECT application_id FROM outcomes
                    WHERE sync_key = $1 AND application_id = ANY($2)",
            )
            .await?;
        let present: std::collections::HashSet<String> = tx
            .query(&present, &[&sync_key, &ids])
            .await?
            .iter()
            .map(|r| r.try_get(0))
            .collect::<Result<_, _>>()?;
        let tombstone = tx.prepare_cached(sql::TOMBSTONE).await?;
        let upsert = tx.prepare_cached(sql::DELETION_UPSERT).await?;
        let now = Utc::now();
        let mut known = 0;
        for id in application_ids.iter().filter(|id| present.contains(*id)) {
            if tx.execute(&tombstone, &[&sync_key, id, &now]).await? > 0 {
                known += 1;
                tx.execute(&upsert, &[&sync_key, id, &source, &now]).await?;
                append_event(&tx, sync_key, id, "", "deleted", Some(source)).await?;
            }
            if erase_rows {
                erase(&tx, &self.pseudonym_key, sync_key, id).await?;
            }
        }
        tx.commit().await?;
        Ok(known)
    }

    async fn write_states(
        &self,
        sync_key: &str,
        application_ids: &[&str],
    ) -> Result<Vec<WriteState>, LedgerError> {
        let client = self.client().await?;
        let stmt = client
            .prepare_cached(&format!(
                "SELECT {} FROM write_states WHERE sync_key = $1 AND application_id = ANY($2)",
                sql::WRITE_STATE_COLUMNS
            ))
            .await?;
        client
            .query(&stmt, &[&sync_key, &application_ids])
            .await?
            .iter()
            .map(write_state_from_row)
            .collect()
    }

    async fn record_decisions(&self, decisions: &[Decision]) -> Result<(), LedgerError> {
        let now = Utc::now();
        let scorer_version = i64::from(crate::scoring::SCORER_VERSION);
        // What the statements bind beyond the decision's own fields.
        type Extra = (i32, String, [&'static str; 4]);
        let extra: Vec<Extra> = decisions
            .iter()
            .map(|d| {
                Ok((
                    i32::from(d.score.score),
                    serde_json::to_string(&d.score)?,
                    [
                        d.vendor.as_str(),
                        d.score.band.as_str(),
                        d.outcome.as_str(),
                        d.outcome.initial_state().as_str(),
                    ],
                ))
            })
            .collect::<Result<_, LedgerError>>()?;
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        let insert = tx.prepare_cached(sql::DECISION_INSERT).await?;
        let upsert = tx.prepare_cached(sql::WRITE_STATE_UPSERT).await?;
        let event = tx.prepare_cached(sql::EVENT).await?;
        // Each decision's parameters for its three statements.
        let params: Vec<([Param<'_>; 15], [Param<'_>; 8], [Param<'_>; 6])> = decisions
            .iter()
            .zip(&extra)
            .map(|(d, (score, score_json, [vendor, band, outcome, state]))| {
                (
                    [
                        &d.sync_key as Param<'_>,
                        &d.tenant,
                        vendor,
                        &d.application_id,
                        &d.candidate_id,
                        &d.job_id,
                        &d.fingerprint,
                        &d.profile_generation,
                        score,
                        band,
                        score_json,
                        &d.write_key,
                        outcome,
                        &d.decided_at,
                        &scorer_version,
                    ],
                    [
                        &d.sync_key as Param<'_>,
                        &d.application_id,
                        &d.fingerprint,
                        &d.profile_generation,
                        &d.write_key,
                        state,
                        &now,
                        &d.settings,
                    ],
                    [
                        &d.sync_key as Param<'_>,
                        &d.application_id,
                        &d.write_key,
                        &"decided",
                        outcome,
                        &now,
                    ],
                )
            })
            .collect();
        // Pipelined: sent in order when first polled (so the upserts of one
        // application apply in the decisions' order), answered together.
        let mut calls = Vec::with_capacity(decisions.len() * 3);
        for (i, u, e) in &params {
            calls.push(tx.execute(&insert, i));
            calls.push(tx.execute(&upsert, u));
            calls.push(tx.execute(&event, e));
        }
        futures::future::try_join_all(calls).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn settle(
        &self,
        sync_key: &str,
        settlements: &[Settlement],
    ) -> Result<Vec<Option<u32>>, LedgerError> {
        let now = Utc::now();
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        let written = tx.prepare_cached(sql::SETTLE_WRITTEN).await?;
        let failed = tx.prepare_cached(sql::SETTLE_FAILED).await?;
        let event = tx.prepare_cached(sql::EVENT).await?;
        // What each settlement binds beyond its own fields: state, error, retry time.
        let bound: Vec<(&'static str, Option<String>, Option<DateTime<Utc>>)> = settlements
            .iter()
            .map(|s| match &s.result {
                Attempt::Written { .. } => (WriteStatus::Done.as_str(), None, None),
                Attempt::Failed { error, retry_at } => (
                    WriteStatus::Failed.as_str(),
                    Some(super::truncate_error(error)),
                    Some(*retry_at),
                ),
                Attempt::Abandoned { error } => (
                    WriteStatus::Abandoned.as_str(),
                    Some(super::truncate_error(error)),
                    None,
                ),
            })
            .collect();
        let pending = WriteStatus::Pending.as_str();
        let failed_state = WriteStatus::Failed.as_str();
        let updates: Vec<(&tokio_postgres::Statement, Vec<Param<'_>>)> = settlements
            .iter()
            .zip(&bound)
            .map(|(s, (state, error, retry_at))| match &s.result {
                Attempt::Written { mark, .. } => (
                    &written,
                    vec![
                        &sync_key as Param<'_>,
                        &s.application_id,
                        &s.write_key,
                        state,
                        &now,
                        mark,
                    ],
                ),
                Attempt::Failed { .. } | Attempt::Abandoned { .. } => (
                    &failed,
                    vec![
                        &sync_key as Param<'_>,
                        &s.application_id,
                        &s.write_key,
                        state,
                        error,
                        &now,
                        retry_at,
                        &pending,
                        &failed_state,
                    ],
                ),
            })
            .collect();
        // Pipelined, in order (two settlements of one application apply in
        // turn); then each one's event, which depends on what its update did.
        let rows = futures::future::try_join_all(
            updates
                .iter()
                .map(|(stmt, params)| tx.query_opt(*stmt, params)),
        )
        .await?;
        let attempts: Vec<Option<i64>> = rows
            .into_iter()
            .map(|r| r.map(|r| r.try_get(0)).transpose())
            .collect::<Result<_, _>>()?;
        let kinds: Vec<&'static str> = settlements
            .iter()
            .zip(&attempts)
            .map(|(s, a)| super::settlement_kind(&s.result, a.is_some()))
            .collect();
        let events: Vec<[Param<'_>; 6]> = settlements
            .iter()
            .zip(&kinds)
            .zip(&bound)
            .map(|((s, kind), (_, error, _))| {
                [
                    &sync_key as Param<'_>,
                    &s.application_id,
                    &s.write_key,
                    kind,
                    error,
                    &now,
                ]
            })
            .collect();
        futures::future::try_join_all(events.iter().map(|p| tx.execute(&event, p))).await?;
        let out = attempts
            .into_iter()
            .map(|a| a.map(super::attempts))
            .collect();
        tx.commit().await?;
        Ok(out)
    }

    async fn mark_superseded(
        &self,
        sync_key: &str,
        application_id: &str,
        write_key: &str,
        why: &str,
    ) -> Result<(), LedgerError> {
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        tx.execute(
            sql::SUPERSEDE,
            &[
                &sync_key,
                &application_id,
                &write_key,
                &WriteStatus::Superseded.as_str(),
                &Utc::now(),
                &WriteStatus::Pending.as_str(),
                &WriteStatus::Failed.as_str(),
            ],
        )
        .await?;
        append_event(
            &tx,
            sync_key,
            application_id,
            write_key,
            "superseded",
            Some(why),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn revive(&self, sync_key: &str, application_id: &str) -> Result<(), LedgerError> {
        let client = self.client().await?;
        let stmt = client.prepare_cached(sql::REVIVE).await?;
        client.execute(&stmt, &[&sync_key, &application_id]).await?;
        Ok(())
    }

    async fn pending_writes(
        &self,
        sync_key: &str,
        now: DateTime<Utc>,
    ) -> Result<Vec<WriteState>, LedgerError> {
        let client = self.client().await?;
        let stmt = client
            .prepare_cached(&format!(
                "SELECT {} FROM write_states
                 WHERE sync_key = $1 AND state IN ($2, $3) AND deleted_at IS NULL
                    AND (next_attempt_at IS NULL OR next_attempt_at <= $4)
                 ORDER BY updated_at, application_id",
                sql::WRITE_STATE_COLUMNS
            ))
            .await?;
        client
            .query(
                &stmt,
                &[
                    &sync_key,
                    &WriteStatus::Pending.as_str(),
                    &WriteStatus::Failed.as_str(),
                    &now,
                ],
            )
            .await?
            .iter()
            .map(write_state_from_row)
            .collect()
    }

    async fn totals(&self, sync_key: &str) -> Result<Totals, LedgerError> {
        let client = self.client().await?;
        let stmt = client.prepare_cached(sql::TOTALS).await?;
        let r = client
            .query_one(
                &stmt,
                &[
                    &sync_key,
                    &WriteStatus::Failed.as_str(),
                    &WriteStatus::Abandoned.as_str(),
                ],
            )
            .await?;
        Ok(Totals {
            scored: count(r.try_get(0)?),
            written_back: count(r.try_get(1)?),
            failed: count(r.try_get(2)?),
            abandoned: count(r.try_get(3)?),
        })
    }

    async fn decisions(
        &self,
        sync_key: &str,
        application_id: &str,
    ) -> Result<Vec<Decision>, LedgerError> {
        let client = self.client().await?;
        let stmt = client.prepare_cached(sql::DECISIONS).await?;
        let mut out = Vec::new();
        for r in client.query(&stmt, &[&sync_key, &application_id]).await? {
            let vendor: String = r.try_get(2)?;
            let score_json: String = r.try_get(8)?;
            let outcome: String = r.try_get(10)?;
            out.push(Decision {
                sync_key: r.try_get(0)?,
                tenant: r.try_get(1)?,
                vendor: parse_vendor(&vendor)?,
                application_id: r.try_get(3)?,
                candidate_id: r.try_get(4)?,
                job_id: r.try_get(5)?,
                fingerprint: r.try_get(6)?,
                profile_generation: r.try_get(7)?,
                score: serde_json::from_str(&score_json)?,
                write_key: r.try_get(9)?,
                outcome: DecisionOutcome::parse(&outcome)?,
                decided_at: r.try_get(11)?,
                settings: r.try_get(12)?,
            });
        }
        Ok(out)
    }

    async fn prune(&self, before: DateTime<Utc>, chunk: u32) -> Result<Pruned, LedgerError> {
        let chunk = i64::from(chunk.max(1));
        let client = self.client().await?;
        let mut counts = [0u64; 7];
        for (i, statement) in super::PRUNE_STATEMENTS.into_iter().enumerate() {
            let stmt = client.prepare_cached(statement).await?;
            loop {
                // Each chunk commits on its own: writers wait at most one chunk.
                let n = client.execute(&stmt, &[&before, &chunk]).await?;
                counts[i] += n;
                if n < chunk as u64 {
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
        let pool = self.pool.clone();
        let tenant = tenant.to_owned();
        let since = since.unwrap_or_else(super::export_floor);
        futures::stream::once(async move {
            let client = pool.get().await.map_err(pool_err)?;
            let stmt = client.prepare(&sql::export()).await?;
            let params: [Param<'_>; 2] = [&tenant, &since];
            // Rows arrive as the stream is read: the driver's channel holds
            // one message at a time, so the server waits for the writer.
            let rows = client.query_raw(&stmt, params).await?;
            Ok::<_, LedgerError>((client, Box::pin(rows)))
        })
        .map(|opened| match opened {
            Ok((client, rows)) => rows
                .map(move |row| {
                    // The connection stays out of the pool while its rows are read.
                    let _connection = &client;
                    read_export_row(&row?)
                })
                .boxed(),
            Err(e) => futures::stream::once(async move { Err(e) }).boxed(),
        })
        .flatten()
        .boxed()
    }

    async fn size_bytes(&self) -> Result<u64, LedgerError> {
        let client = self.client().await?;
        let tables: Vec<&str> = migrations::TABLES.to_vec();
        let r = client
            .query_one(
                "SELECT COALESCE(SUM(pg_total_relation_size(c.oid)), 0)::BIGINT
                 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                 WHERE n.nspname = current_schema() AND c.relkind = 'r'
                    AND c.relname = ANY($1)",
                &[&tables],
            )
            .await?;
        Ok(count(r.try_get(0)?))
    }
}
