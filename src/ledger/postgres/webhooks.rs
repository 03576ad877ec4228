//! Webhook deliveries and outcomes on PostgreSQL (see `ledger::webhooks`).
//!
//! Replicas may accept the same delivery at once (a rolling update overlaps
//! two leaders): the unique key (sync, delivery id) with `ON CONFLICT DO
//! NOTHING` makes exactly one of them insert it, the other waits for that
//! commit and sees a duplicate. The sync's counter row is locked by the
//! insert that counts, so the queue bound holds across replicas too.

use chrono::{DateTime, Utc};
use tokio_postgres::Row;

use super::super::webhooks::{
    self, Acceptance, DeliveryCounts, DeliveryResult, NewDelivery, OutcomeColumns, OutcomeRecord,
    PendingDelivery, ScoredOutcome, WebhookStore,
};
use super::super::{LedgerError, count, sql};
use super::{Param, PgStore};

/// Pseudonymizes an erased application's deliveries and outcomes (see
/// `Ledger::record_erasures`), in the caller's transaction.
pub(super) async fn erase(
    tx: &deadpool_postgres::Transaction<'_>,
    key: &str,
    sync_key: &str,
    app: &str,
    papp: &str,
) -> Result<(), LedgerError> {
    for r in tx
        .query(sql::ERASE_SELECT_DELIVERIES, &[&sync_key, &app])
        .await?
    {
        let seq: i64 = r.try_get(0)?;
        let event: String = r.try_get(1)?;
        let first: String = r.try_get(2)?;
        let event = webhooks::erased_event(key, &event, app, papp)?;
        let first = if first == app { papp } else { first.as_str() };
        tx.execute(sql::ERASE_DELIVERY, &[&seq, &event, &first])
            .await?;
    }
    for statement in [
        sql::ERASE_DROP_DELIVERY_APPLICATIONS,
        sql::ERASE_DELIVERY_APPLICATIONS,
        sql::ERASE_DROP_OUTCOMES,
        sql::ERASE_OUTCOMES,
    ] {
        tx.execute(statement, &[&sync_key, &app, &papp]).await?;
    }
    Ok(())
}

fn outcome_columns(r: &Row, first: usize) -> Result<OutcomeColumns, LedgerError> {
    Ok(OutcomeColumns {
        delivery_id: r.try_get(first)?,
        category: r.try_get(first + 1)?,
        stage: r.try_get(first + 2)?,
        reason_category: r.try_get(first + 3)?,
        occurred_at: r.try_get(first + 4)?,
        recorded_at: r.try_get(first + 5)?,
    })
}

#[async_trait::async_trait]
impl WebhookStore for PgStore {
    async fn accept_delivery(
        &self,
        sync_keys: &[String],
        d: &NewDelivery,
        max_pending: u32,
    ) -> Result<Acceptance, LedgerError> {
        let max = i64::from(max_pending);
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        let insert = tx.prepare_cached(sql::DELIVERY_INSERT).await?;
        let application = tx.prepare_cached(sql::DELIVERY_APPLICATION).await?;
        let count_new = tx.prepare_cached(sql::DELIVERY_COUNT_NEW).await?;
        let mut new = false;
        // Each sync in turn (in one order: see `webhooks::sync_order`). An
        // early return drops the transaction, which rolls it back.
        for key in sync_keys {
            let inserted = tx
                .query_opt(
                    &insert,
                    &[
                        key,
                        &d.id,
                        &d.vendor,
                        &d.body_sha256,
                        &d.event,
                        &d.application_id,
                        &d.order_at,
                        &d.received_at,
                    ],
                )
                .await?;
            let Some(inserted) = inserted else {
                let held: String = tx
                    .query_one(sql::DELIVERY_HASH, &[key, &d.id])
                    .await?
                    .try_get(0)?;
                if held != d.body_sha256 {
                    return Ok(Acceptance::Replayed);
                }
                tx.execute(sql::DELIVERY_COUNT_DUPLICATE, &[key, &d.received_at])
                    .await?;
                continue;
            };
            let seq: i64 = inserted.try_get(0)?;
            let params: Vec<[Param<'_>; 3]> = d
                .application_ids
                .iter()
                .map(|app| [&seq as Param<'_>, key, app])
                .collect();
            futures::future::try_join_all(params.iter().map(|p| tx.execute(&application, p)))
                .await?;
            if tx
                .query_opt(&count_new, &[key, &d.received_at, &max])
                .await?
                .is_none()
            {
                return Err(LedgerError::QueueFull {
                    sync_key: key.clone(),
                    max_pending,
                });
            }
            new = true;
        }
        tx.commit().await?;
        Ok(if new {
            Acceptance::New
        } else {
            Acceptance::Duplicate
        })
    }

    async fn pending_deliveries(
        &self,
        sync_key: &str,
        limit: u32,
    ) -> Result<Vec<PendingDelivery>, LedgerError> {
        let client = self.client().await?;
        let stmt = client.prepare_cached(sql::DELIVERIES_PENDING).await?;
        client
            .query(&stmt, &[&sync_key, &i64::from(limit)])
            .await?
            .iter()
            .map(|r| {
                let vendor: String = r.try_get(2)?;
                let event: String = r.try_get(4)?;
                webhooks::pending(
                    r.try_get(0)?,
                    r.try_get(1)?,
                    &vendor,
                    r.try_get(3)?,
                    &event,
                    r.try_get(5)?,
                )
            })
            .collect()
    }

    async fn finish_delivery(
        &self,
        sync_key: &str,
        delivery_id: &str,
        at: DateTime<Utc>,
        result: DeliveryResult,
    ) -> Result<bool, LedgerError> {
        let (kind, why) = webhooks::result_columns(result);
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        let finish = tx.prepare_cached(sql::DELIVERY_FINISH).await?;
        let n = tx
            .execute(&finish, &[&sync_key, &delivery_id, &at, &kind, &why])
            .await?;
        if n > 0 {
            let processed = i64::from(result == DeliveryResult::Processed);
            let counted = tx.prepare_cached(sql::DELIVERY_COUNT_FINISHED).await?;
            tx.execute(&counted, &[&sync_key, &processed, &(1 - processed)])
                .await?;
        }
        tx.commit().await?;
        Ok(n > 0)
    }

    async fn delivery_counts(&self, sync_key: &str) -> Result<DeliveryCounts, LedgerError> {
        let client = self.client().await?;
        let stmt = client.prepare_cached(sql::DELIVERY_COUNTS).await?;
        let Some(r) = client.query_opt(&stmt, &[&sync_key]).await? else {
            return Ok(DeliveryCounts::default());
        };
        Ok(DeliveryCounts {
            accepted: count(r.try_get(0)?),
            duplicates: count(r.try_get(1)?),
            processed: count(r.try_get(2)?),
            skipped: count(r.try_get(3)?),
            pending: count(r.try_get(4)?),
            last_received_at: r.try_get(5)?,
        })
    }

    async fn record_outcome(&self, o: &OutcomeRecord) -> Result<bool, LedgerError> {
        let (category, stage, reason) = webhooks::outcome_columns(&o.outcome);
        let client = self.client().await?;
        let stmt = client.prepare_cached(sql::OUTCOME_INSERT).await?;
        let n = client
            .execute(
                &stmt,
                &[
                    &o.sync_key,
                    &o.application_id,
                    &o.delivery_id,
                    &category,
                    &stage,
                    &reason,
                    &o.occurred_at,
                    &o.recorded_at,
                ],
            )
            .await?;
        Ok(n > 0)
    }

    async fn outcomes(
        &self,
        sync_key: &str,
        application_id: &str,
    ) -> Result<Vec<OutcomeRecord>, LedgerError> {
        let client = self.client().await?;
        let stmt = client.prepare_cached(sql::OUTCOMES).await?;
        client
            .query(&stmt, &[&sync_key, &application_id])
            .await?
            .iter()
            .map(|r| {
                let app: String = r.try_get(0)?;
                outcome_columns(r, 1)?.record(sync_key, &app)
            })
            .collect()
    }

    async fn decisions_with_outcomes(
        &self,
        tenant: &str,
        sync_key: &str,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<ScoredOutcome>, LedgerError> {
        let client = self.client().await?;
        let stmt = client
            .prepare_cached(&sql::decisions_with_outcomes())
            .await?;
        client
            .query(&stmt, &[&tenant, &sync_key, &from, &to])
            .await?
            .iter()
            .map(|r| {
                let delivery_id: Option<String> = r.try_get(4)?;
                let outcome = match delivery_id {
                    Some(_) => Some(outcome_columns(r, 4)?),
                    None => None,
                };
                let score: i32 = r.try_get(1)?;
                webhooks::scored(
                    sync_key,
                    r.try_get(0)?,
                    i64::from(score),
                    r.try_get(2)?,
                    r.try_get(3)?,
                    outcome,
                )
            })
            .collect()
    }
}
