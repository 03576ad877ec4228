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

/// A tenant's decisions from `$2` on, with the latest event about each one's write.
pub(super) fn export() -> String {
    format!(
        "SELECT d.decided_at, d.sync_key, d.vendor, d.application_id, d.job_id, d.score_json,
            d.band, d.profile_generation, d.scorer_version, d.outcome,
            (SELECT e.kind FROM events e
             WHERE e.sync_key = d.sync_key AND e.application_id = d.application_id
                AND e.write_key = d.write_key AND e.kind IN ({})
             ORDER BY e.id DESC LIMIT 1)
         FROM decisions d WHERE d.tenant = $1 AND d.decided_at >= $2
         ORDER BY d.decided_at, d.id",
        super::export::WRITE_EVENT_KINDS
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
