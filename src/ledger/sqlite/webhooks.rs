//! Webhook deliveries and outcomes on SQLite (see `ledger::webhooks`). One
//! connection behind a mutex serializes writers, so the dedup and the queue
//! bound hold trivially; the statements are the ones PostgreSQL runs.

use chrono::{DateTime, Utc};
use rusqlite::{Connection, OptionalExtension, params};

use super::super::webhooks::{
    self, Acceptance, DeliveryCounts, DeliveryResult, NewDelivery, OutcomeColumns, OutcomeRecord,
    PendingDelivery, ScoredOutcome, WebhookStore,
};
use super::super::{LedgerError, count, parse_ts, sql, ts};
use super::{SqliteStore, opt_ts, q};

/// Records the delivery for each sync in the caller's transaction; an error
/// or [`Acceptance::Replayed`] leaves it to be rolled back.
fn accept(
    tx: &Connection,
    sync_keys: &[String],
    d: &NewDelivery,
    max_pending: u32,
) -> Result<Acceptance, LedgerError> {
    let received = ts(d.received_at);
    let mut new = false;
    for key in sync_keys {
        let seq: Option<i64> = tx
            .prepare_cached(&q(sql::DELIVERY_INSERT))?
            .query_row(
                params![
                    key,
                    d.id,
                    d.vendor,
                    d.body_sha256,
                    d.event,
                    d.application_id,
                    ts(d.order_at),
                    received
                ],
                |r| r.get(0),
            )
            .optional()?;
        let Some(seq) = seq else {
            let held: String = tx
                .prepare_cached(&q(sql::DELIVERY_HASH))?
                .query_row(params![key, d.id], |r| r.get(0))?;
            if held != d.body_sha256 {
                return Ok(Acceptance::Replayed);
            }
            tx.prepare_cached(&q(sql::DELIVERY_COUNT_DUPLICATE))?
                .execute(params![key, received])?;
            continue;
        };
        for app in &d.application_ids {
            tx.prepare_cached(&q(sql::DELIVERY_APPLICATION))?
                .execute(params![seq, key, app])?;
        }
        let counted: Option<i64> = tx
            .prepare_cached(&q(sql::DELIVERY_COUNT_NEW))?
            .query_row(params![key, received, i64::from(max_pending)], |r| r.get(0))
            .optional()?;
        if counted.is_none() {
            return Err(LedgerError::QueueFull {
                sync_key: key.clone(),
                max_pending,
            });
        }
        new = true;
    }
    Ok(if new {
        Acceptance::New
    } else {
        Acceptance::Duplicate
    })
}

/// Pseudonymizes an erased application's deliveries and outcomes (see
/// `Ledger::record_erasures`), in the caller's transaction.
pub(super) fn erase(
    tx: &Connection,
    key: &str,
    sync_key: &str,
    app: &str,
    papp: &str,
) -> Result<(), LedgerError> {
    let rows: Vec<(i64, String, String)> = tx
        .prepare_cached(&q(sql::ERASE_SELECT_DELIVERIES))?
        .query_map(params![sync_key, app], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?))
        })?
        .collect::<Result<_, _>>()?;
    for (seq, event, first) in rows {
        let event = webhooks::erased_event(key, &event, app, papp)?;
        let first = if first == app { papp } else { first.as_str() };
        tx.prepare_cached(&q(sql::ERASE_DELIVERY))?
            .execute(params![seq, event, first])?;
    }
    for statement in [
        sql::ERASE_DROP_DELIVERY_APPLICATIONS,
        sql::ERASE_DELIVERY_APPLICATIONS,
        sql::ERASE_DROP_OUTCOMES,
        sql::ERASE_OUTCOMES,
    ] {
        tx.prepare_cached(&q(statement))?
            .execute(params![sync_key, app, papp])?;
    }
    Ok(())
}

fn outcome_columns(r: &rusqlite::Row<'_>, first: usize) -> Result<OutcomeColumns, LedgerError> {
    let recorded_at: String = r.get(first + 5)?;
    Ok(OutcomeColumns {
        delivery_id: r.get(first)?,
        category: r.get(first + 1)?,
        stage: r.get(first + 2)?,
        reason_category: r.get(first + 3)?,
        occurred_at: opt_ts(r.get(first + 4)?)?,
        recorded_at: parse_ts(&recorded_at)?,
    })
}

#[async_trait::async_trait]
impl WebhookStore for SqliteStore {
    async fn accept_delivery(
        &self,
        sync_keys: &[String],
        d: &NewDelivery,
        max_pending: u32,
    ) -> Result<Acceptance, LedgerError> {
        let (keys, d) = (sync_keys.to_vec(), d.clone());
        self.call(move |conn| {
            let tx = conn.transaction()?;
            let out = accept(&tx, &keys, &d, max_pending)?;
            if out != Acceptance::Replayed {
                tx.commit()?;
            }
            Ok(out)
        })
        .await
    }

    async fn pending_deliveries(
        &self,
        sync_key: &str,
        limit: u32,
    ) -> Result<Vec<PendingDelivery>, LedgerError> {
        let sync_key = sync_key.to_owned();
        self.call(move |conn| {
            let mut stmt = conn.prepare_cached(&q(sql::DELIVERIES_PENDING))?;
            let mut rows = stmt.query(params![sync_key, i64::from(limit)])?;
            let mut out = Vec::new();
            while let Some(r) = rows.next()? {
                let vendor: String = r.get(2)?;
                let event: String = r.get(4)?;
                let received_at: String = r.get(5)?;
                out.push(webhooks::pending(
                    r.get(0)?,
                    r.get(1)?,
                    &vendor,
                    r.get(3)?,
                    &event,
                    parse_ts(&received_at)?,
                )?);
            }
            Ok(out)
        })
        .await
    }

    async fn finish_delivery(
        &self,
        sync_key: &str,
        delivery_id: &str,
        at: DateTime<Utc>,
        result: DeliveryResult,
    ) -> Result<bool, LedgerError> {
        let (sync_key, id) = (sync_key.to_owned(), delivery_id.to_owned());
        self.transaction(move |tx| {
            let (kind, why) = webhooks::result_columns(result);
            let n = tx
                .prepare_cached(&q(sql::DELIVERY_FINISH))?
                .execute(params![sync_key, id, ts(at), kind, why])?;
            if n > 0 {
                let processed = i64::from(result == DeliveryResult::Processed);
                tx.prepare_cached(&q(sql::DELIVERY_COUNT_FINISHED))?
                    .execute(params![sync_key, processed, 1 - processed])?;
            }
            Ok(n > 0)
        })
        .await
    }

    async fn delivery_counts(&self, sync_key: &str) -> Result<DeliveryCounts, LedgerError> {
        let sync_key = sync_key.to_owned();
        self.call(move |conn| {
            type Row = (i64, i64, i64, i64, i64, Option<String>);
            let row: Option<Row> = conn
                .prepare_cached(&q(sql::DELIVERY_COUNTS))?
                .query_row(params![sync_key], |r| {
                    Ok((
                        r.get(0)?,
                        r.get(1)?,
                        r.get(2)?,
                        r.get(3)?,
                        r.get(4)?,
                        r.get(5)?,
                    ))
                })
                .optional()?;
            let Some((accepted, duplicates, processed, skipped, pending, last)) = row else {
                return Ok(DeliveryCounts::default());
            };
            Ok(DeliveryCounts {
                accepted: count(accepted),
                duplicates: count(duplicates),
                processed: count(processed),
                skipped: count(skipped),
                pending: count(pending),
                last_received_at: opt_ts(last)?,
            })
        })
        .await
    }

    async fn record_outcome(&self, o: &OutcomeRecord) -> Result<bool, LedgerError> {
        let o = o.clone();
        self.call(move |conn| {
            let (category, stage, reason) = webhooks::outcome_columns(&o.outcome);
            let n = conn
                .prepare_cached(&q(sql::OUTCOME_INSERT))?
                .execute(params![
                    o.sync_key,
                    o.application_id,
                    o.delivery_id,
                    category,
                    stage,
                    reason,
                    o.occurred_at.map(ts),
                    ts(o.recorded_at),
                ])?;
            Ok(n > 0)
        })
        .await
    }

    async fn outcomes(
        &self,
        sync_key: &str,
        application_id: &str,
    ) -> Result<Vec<OutcomeRecord>, LedgerError> {
        let (sync_key, app) = (sync_key.to_owned(), application_id.to_owned());
        self.call(move |conn| {
            let mut stmt = conn.prepare_cached(&q(sql::OUTCOMES))?;
            let mut rows = stmt.query(params![sync_key, app])?;
            let mut out = Vec::new();
            while let Some(r) = rows.next()? {
                let app: String = r.get(0)?;
                out.push(outcome_columns(r, 1)?.record(&sync_key, &app)?);
            }
            Ok(out)
        })
        .await
    }

    async fn decisions_with_outcomes(
        &self,
        tenant: &str,
        sync_key: &str,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<ScoredOutcome>, LedgerError> {
        let (tenant, sync_key) = (tenant.to_owned(), sync_key.to_owned());
        self.call(move |conn| {
            let mut stmt = conn.prepare_cached(&q(&sql::decisions_with_outcomes()))?;
            let mut rows = stmt.query(params![tenant, sync_key, ts(from), ts(to)])?;
            let mut out = Vec::new();
            while let Some(r) = rows.next()? {
                let decided_at: String = r.get(3)?;
                let delivery_id: Option<String> = r.get(4)?;
                let outcome = match delivery_id {
                    Some(_) => Some(outcome_columns(r, 4)?),
                    None => None,
                };
                out.push(webhooks::scored(
                    &sync_key,
                    r.get(0)?,
                    r.get(1)?,
                    r.get(2)?,
                    parse_ts(&decided_at)?,
                    outcome,
                )?);
            }
            Ok(out)
        })
        .await
    }
}
