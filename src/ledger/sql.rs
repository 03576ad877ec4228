//! The statements both backends run, written once so they mean the same on
//! each: `$n` parameters (SQLite reads them as `?n`), `ON CONFLICT` upserts,
//! conditional updates that change a row only in the state they expect, and
//! `RETURNING`. Statements only one backend can run live in its own module.

pub(super) const CURSOR_GET: &str = "SELECT identity, watermark, full_sync_at, decision_identity
     FROM cursors WHERE sync_key = $1";

pub(super) const CURSOR_SET: &str =
    "INSERT INTO cursors (sync_key, identity, watermark, updated_at,
        full_sync_at, decision_identity)
     VALUES ($1, $2, $3, $4, $5, $6)
     ON CONFLICT (sync_key) DO UPDATE SET
        identity = excluded.identity,
        watermark = excluded.watermark,
        updated_at = excluded.updated_at,
        full_sync_at = excluded.full_sync_at,
        decision_identity = excluded.decision_identity";

pub(super) const CHECKPOINT_GET: &str = "SELECT data FROM checkpoints WHERE sync_key = $1";

pub(super) const CHECKPOINT_SET: &str =
    "INSERT INTO checkpoints (sync_key, identity, decision_identity, data, updated_at)
     VALUES ($1, $2, $3, $4, $5)
     ON CONFLICT (sync_key) DO UPDATE SET identity = excluded.identity,
        decision_identity = excluded.decision_identity, data = excluded.data,
        updated_at = excluded.updated_at";

pub(super) const CHECKPOINT_CLEAR: &str = "DELETE FROM checkpoints WHERE sync_key = $1";

pub(super) const MARK_SEEN: &str =
    "UPDATE write_states SET seen_at = $3 WHERE sync_key = $1 AND application_id = $2";

pub(super) const SET_VERSION: &str =
    "UPDATE write_states SET source_version = $3, job_fingerprint = $4
     WHERE sync_key = $1 AND application_id = $2";

pub(super) const VERSIONS: &str =
    "SELECT application_id, source_version, job_fingerprint FROM write_states
     WHERE sync_key = $1 AND deleted_at IS NULL
     AND source_version IS NOT NULL AND job_fingerprint IS NOT NULL";

pub(super) const UNSEEN_SINCE: &str =
    "SELECT application_id FROM write_states WHERE sync_key = $1 AND deleted_at IS NULL
     AND (seen_at IS NULL OR seen_at < $2) ORDER BY application_id";

pub(super) const KNOWN: &str =
    "SELECT application_id FROM write_states WHERE sync_key = $1 AND deleted_at IS NULL";

pub(super) const TOMBSTONE: &str = "UPDATE write_states SET deleted_at = $3
     WHERE sync_key = $1 AND application_id = $2 AND deleted_at IS NULL";

pub(super) const DELETION_UPSERT: &str =
    "INSERT INTO deletions (sync_key, application_id, source, deleted_at)
     VALUES ($1, $2, $3, $4)
     ON CONFLICT (sync_key, application_id) DO UPDATE SET
        source = excluded.source, deleted_at = excluded.deleted_at";

pub(super) const EVENT: &str =
    "INSERT INTO events (sync_key, application_id, write_key, kind, detail, at)
     VALUES ($1, $2, $3, $4, $5, $6)";

/// The columns a write state is read from, in the order the backends read them.
pub(super) const WRITE_STATE_COLUMNS: &str = "application_id, fingerprint, profile_generation, write_key, \
    state, attempts, deleted_at, written_mark, settings, written_at";

pub(super) const DECISION_INSERT: &str =
    "INSERT INTO decisions (sync_key, tenant, vendor, application_id, candidate_id, job_id,
        fingerprint, profile_generation, score, band, score_json, write_key, outcome, decided_at,
        scorer_version)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)";

/// A new decision becomes the current write state: attempts, error and
/// backoff start over, and a tombstone comes back to life.
pub(super) const WRITE_STATE_UPSERT: &str =
    "INSERT INTO write_states (sync_key, application_id, fingerprint, profile_generation,
        write_key, state, attempts, last_error, updated_at, settings)
     VALUES ($1, $2, $3, $4, $5, $6, 0, NULL, $7, $8)
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
        deleted_at = NULL";

/// Done, only for the application's current write key.
pub(super) const SETTLE_WRITTEN: &str =
    "UPDATE write_states SET state = $4, attempts = attempts + 1, last_error = NULL,
        updated_at = $5, written_mark = $6, next_attempt_at = NULL, written_at = $5
     WHERE sync_key = $1 AND application_id = $2 AND write_key = $3
     RETURNING attempts";

/// Failed or abandoned, only for the current key of a write not yet confirmed.
pub(super) const SETTLE_FAILED: &str =
    "UPDATE write_states SET state = $4, attempts = attempts + 1, last_error = $5,
        updated_at = $6, next_attempt_at = $7
     WHERE sync_key = $1 AND application_id = $2 AND write_key = $3
        AND state IN ($8, $9)
     RETURNING attempts";

pub(super) const SUPERSEDE: &str =
    "UPDATE write_states SET state = $4, updated_at = $5, next_attempt_at = NULL
     WHERE sync_key = $1 AND application_id = $2 AND write_key = $3 AND state IN ($6, $7)";

pub(super) const REVIVE: &str =
    "UPDATE write_states SET deleted_at = NULL WHERE sync_key = $1 AND application_id = $2";

pub(super) const TOTALS: &str = "SELECT
        (SELECT COUNT(*) FROM decisions WHERE sync_key = $1),
        (SELECT COUNT(*) FROM events WHERE sync_key = $1
            AND kind IN ('written', 'written_superseded', 'adopted')),
        (SELECT COUNT(*) FROM write_states WHERE sync_key = $1 AND state = $2),
        (SELECT COUNT(*) FROM write_states WHERE sync_key = $1 AND state = $3)";

pub(super) const DECISIONS: &str =
    "SELECT d.sync_key, d.tenant, d.vendor, d.application_id, d.candidate_id, d.job_id,
        d.fingerprint, d.profile_generation, d.score_json, d.write_key, d.outcome,
        d.decided_at, COALESCE(w.settings, '')
     FROM decisions d LEFT JOIN write_states w
        ON w.sync_key = d.sync_key AND w.application_id = d.application_id
        AND w.write_key = d.write_key
     WHERE d.sync_key = $1 AND d.application_id = $2 ORDER BY d.id";

// Retention: a chunk per statement.
pub(super) const PRUNE_DECISIONS: &str = "DELETE FROM decisions WHERE id IN
     (SELECT id FROM decisions WHERE decided_at < $1 LIMIT $2)";
pub(super) const PRUNE_EVENTS: &str = "DELETE FROM events WHERE id IN
     (SELECT id FROM events WHERE at < $1 LIMIT $2)";
pub(super) const PRUNE_DELETIONS: &str = "DELETE FROM deletions WHERE (sync_key, application_id) IN
     (SELECT sync_key, application_id FROM deletions WHERE deleted_at < $1 LIMIT $2)";
pub(super) const PRUNE_TOMBSTONES: &str =
    "DELETE FROM write_states WHERE (sync_key, application_id) IN
     (SELECT sync_key, application_id FROM write_states
      WHERE deleted_at IS NOT NULL AND deleted_at < $1 LIMIT $2)";

/// A tenant's decisions from `$2` on, with the latest event about each one's
/// write and the application's latest outcome.
pub(super) fn export() -> String {
    format!(
        "SELECT d.decided_at, d.sync_key, d.vendor, d.application_id, d.job_id, d.score_json,
            d.band, d.profile_generation, d.scorer_version, d.outcome,
            (SELECT e.kind FROM events e
             WHERE e.sync_key = d.sync_key AND e.application_id = d.application_id
                AND e.write_key = d.write_key AND e.kind IN ({})
             ORDER BY e.id DESC LIMIT 1),
            o.category, o.stage, o.reason_category, COALESCE(o.occurred_at, o.recorded_at)
         FROM decisions d LEFT JOIN outcomes o ON o.id = {}
         WHERE d.tenant = $1 AND d.decided_at >= $2
         ORDER BY d.decided_at, d.id",
        super::export::WRITE_EVENT_KINDS,
        latest_outcome("d")
    )
}

// Erasure (see `Ledger::record_erasures`).
pub(super) const ERASE_SELECT_DECISIONS: &str =
    "SELECT id, candidate_id, write_key, score_json FROM decisions
     WHERE sync_key = $1 AND application_id = $2";
pub(super) const ERASE_DECISION: &str =
    "UPDATE decisions SET application_id = $2, candidate_id = $3, write_key = $4,
        fingerprint = '', score_json = $5
     WHERE id = $1";
pub(super) const ERASE_SELECT_WRITE_KEY: &str =
    "SELECT write_key FROM write_states WHERE sync_key = $1 AND application_id = $2";
/// An earlier erasure's row under the same pseudonym gives way to the newer.
pub(super) const ERASE_DROP_WRITE_STATE: &str =
    "DELETE FROM write_states WHERE sync_key = $1 AND application_id = $2";
pub(super) const ERASE_WRITE_STATE: &str =
    "UPDATE write_states SET application_id = $3, write_key = $4, fingerprint = '',
        last_error = NULL, source_version = NULL, job_fingerprint = NULL
     WHERE sync_key = $1 AND application_id = $2";
pub(super) const ERASE_SELECT_EVENT_KEYS: &str =
    "SELECT DISTINCT write_key FROM events WHERE sync_key = $1 AND application_id = $2";
pub(super) const ERASE_EVENTS: &str = "UPDATE events SET application_id = $4, write_key = $5,
        detail = CASE WHEN kind IN ('failed', 'failed_superseded', 'abandoned') THEN NULL ELSE detail END
     WHERE sync_key = $1 AND application_id = $2 AND write_key = $3";
pub(super) const ERASE_DROP_DELETION: &str =
    "DELETE FROM deletions WHERE sync_key = $1 AND application_id = $2";
pub(super) const ERASE_DELETION: &str =
    "UPDATE deletions SET application_id = $3 WHERE sync_key = $1 AND application_id = $2";

pub(super) const META_GET: &str = "SELECT value FROM ledger_meta WHERE key = $1";
pub(super) const META_INIT: &str =
    "INSERT INTO ledger_meta (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING";

// Webhooks (see `webhooks.rs`).

/// `RETURNING` a row only when the delivery is new to the sync: a concurrent
/// insert of the same id (two replicas during a rolling update) waits for the
/// first to commit and then returns nothing.
pub(super) const DELIVERY_INSERT: &str =
    "INSERT INTO deliveries (sync_key, delivery_id, vendor, body_sha256, event, application_id,
        order_at, received_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
     ON CONFLICT (sync_key, delivery_id) DO NOTHING
     RETURNING seq";
pub(super) const DELIVERY_HASH: &str =
    "SELECT body_sha256 FROM deliveries WHERE sync_key = $1 AND delivery_id = $2";
pub(super) const DELIVERY_APPLICATION: &str =
    "INSERT INTO delivery_applications (seq, sync_key, application_id) VALUES ($1, $2, $3)
     ON CONFLICT (seq, application_id) DO NOTHING";
/// Counts a new delivery unless the sync already has `$3` pending: the row
/// lock makes the bound exact even when replicas accept at the same time.
pub(super) const DELIVERY_COUNT_NEW: &str =
    "INSERT INTO delivery_counts (sync_key, accepted, duplicates, processed, skipped, pending,
        last_received_at)
     VALUES ($1, 1, 0, 0, 0, 1, $2)
     ON CONFLICT (sync_key) DO UPDATE SET
        accepted = delivery_counts.accepted + 1,
        pending = delivery_counts.pending + 1,
        last_received_at = CASE WHEN delivery_counts.last_received_at IS NULL
            OR delivery_counts.last_received_at < excluded.last_received_at
            THEN excluded.last_received_at ELSE delivery_counts.last_received_at END
     WHERE delivery_counts.pending < $3
     RETURNING pending";
pub(super) const DELIVERY_COUNT_DUPLICATE: &str =
    "UPDATE delivery_counts SET duplicates = duplicates + 1,
        last_received_at = CASE WHEN last_received_at IS NULL OR last_received_at < $2
            THEN $2 ELSE last_received_at END
     WHERE sync_key = $1";
/// The unprocessed deliveries, grouped by application, the groups in the
/// order their first delivery arrived, each in the events' own order. Only
/// the applications of the `$2` oldest can come first (see
/// `webhooks::tests::the_head_holds_every_group_that_comes_first`), so
/// only their deliveries are read (`CROSS JOIN` keeps SQLite to that order).
pub(super) const DELIVERIES_PENDING: &str =
    "WITH head AS (SELECT application_id, seq FROM deliveries
            WHERE sync_key = $1 AND finished_at IS NULL ORDER BY seq LIMIT $2),
        groups AS (SELECT application_id, MIN(seq) AS first FROM head GROUP BY application_id)
     SELECT d.seq, d.delivery_id, d.vendor, d.body_sha256, d.event, d.received_at
     FROM groups g CROSS JOIN deliveries d
     WHERE d.application_id = g.application_id AND d.sync_key = $1 AND d.finished_at IS NULL
     ORDER BY g.first, d.order_at, d.received_at, d.delivery_id
     LIMIT $2";
pub(super) const DELIVERY_FINISH: &str =
    "UPDATE deliveries SET finished_at = $3, result = $4, skip_reason = $5
     WHERE sync_key = $1 AND delivery_id = $2 AND finished_at IS NULL";
pub(super) const DELIVERY_COUNT_FINISHED: &str =
    "UPDATE delivery_counts SET pending = CASE WHEN pending > 0 THEN pending - 1 ELSE 0 END,
        processed = processed + $2, skipped = skipped + $3
     WHERE sync_key = $1";
pub(super) const DELIVERY_COUNTS: &str =
    "SELECT accepted, duplicates, processed, skipped, pending, last_received_at
     FROM delivery_counts WHERE sync_key = $1";

pub(super) const OUTCOME_INSERT: &str =
    "INSERT INTO outcomes (sync_key, application_id, delivery_id, category, stage,
        reason_category, occurred_at, recorded_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
     ON CONFLICT (sync_key, application_id, delivery_id) DO NOTHING";
pub(super) const OUTCOMES: &str =
    "SELECT application_id, delivery_id, category, stage, reason_category, occurred_at,
        recorded_at
     FROM outcomes WHERE sync_key = $1 AND application_id = $2
     ORDER BY COALESCE(occurred_at, recorded_at), id";

/// The id of the latest outcome (by the vendor's clock, else when recorded)
/// of the application in `{alias}`'s row.
fn latest_outcome(alias: &str) -> String {
    format!(
        "(SELECT o2.id FROM outcomes o2
          WHERE o2.sync_key = {alias}.sync_key AND o2.application_id = {alias}.application_id
          ORDER BY COALESCE(o2.occurred_at, o2.recorded_at) DESC, o2.id DESC LIMIT 1)"
    )
}

/// Per application of one sync decided in [`$3`, `$4`): its latest decision
/// and its latest outcome.
pub(super) fn decisions_with_outcomes() -> String {
    format!(
        "SELECT x.application_id, x.score, x.band, x.decided_at, o.delivery_id, o.category,
            o.stage, o.reason_category, o.occurred_at, o.recorded_at
         FROM (SELECT sync_key, application_id, score, band, decided_at,
                ROW_NUMBER() OVER (PARTITION BY application_id
                    ORDER BY decided_at DESC, id DESC) AS n
               FROM decisions
               WHERE tenant = $1 AND sync_key = $2 AND decided_at >= $3 AND decided_at < $4) x
         LEFT JOIN outcomes o ON o.id = {}
         WHERE x.n = 1 ORDER BY x.application_id",
        latest_outcome("x")
    )
}

// Erasure of deliveries and outcomes (see `Ledger::record_erasures`).
pub(super) const ERASE_SELECT_DELIVERIES: &str =
    "SELECT d.seq, d.event, d.application_id FROM delivery_applications da
     JOIN deliveries d ON d.seq = da.seq
     WHERE da.sync_key = $1 AND da.application_id = $2";
pub(super) const ERASE_DELIVERY: &str =
    "UPDATE deliveries SET event = $2, application_id = $3 WHERE seq = $1";
pub(super) const ERASE_DROP_DELIVERY_APPLICATIONS: &str =
    "DELETE FROM delivery_applications WHERE sync_key = $1 AND application_id = $3
        AND seq IN (SELECT seq FROM delivery_applications
                    WHERE sync_key = $1 AND application_id = $2)";
pub(super) const ERASE_DELIVERY_APPLICATIONS: &str =
    "UPDATE delivery_applications SET application_id = $3
     WHERE sync_key = $1 AND application_id = $2";
/// An earlier erasure's outcome under the same pseudonym gives way to the newer.
pub(super) const ERASE_DROP_OUTCOMES: &str =
    "DELETE FROM outcomes WHERE sync_key = $1 AND application_id = $3
        AND EXISTS (SELECT 1 FROM outcomes o2 WHERE o2.sync_key = $1
            AND o2.delivery_id = outcomes.delivery_id AND o2.application_id = $2)";
pub(super) const ERASE_OUTCOMES: &str =
    "UPDATE outcomes SET application_id = $3 WHERE sync_key = $1 AND application_id = $2";

// Retention of webhooks: outcomes like decisions; processed deliveries (the
// pending stay whatever their age), their applications first.
pub(super) const PRUNE_OUTCOMES: &str = "DELETE FROM outcomes WHERE id IN
     (SELECT id FROM outcomes WHERE recorded_at < $1 LIMIT $2)";
pub(super) const PRUNE_DELIVERY_APPLICATIONS: &str =
    "DELETE FROM delivery_applications WHERE (seq, application_id) IN
     (SELECT da.seq, da.application_id FROM deliveries d
      JOIN delivery_applications da ON da.seq = d.seq
      WHERE d.finished_at < $1 LIMIT $2)";
pub(super) const PRUNE_DELIVERIES: &str = "DELETE FROM deliveries WHERE seq IN
     (SELECT seq FROM deliveries WHERE finished_at < $1 LIMIT $2)";
