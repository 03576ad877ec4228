//! The ledger's schema, as migrations applied in order when a ledger opens.
//! SQLite counts them in `PRAGMA user_version`; PostgreSQL in `ledger_schema`.
//!
//! The two schemas hold the same tables and columns. SQLite stores times as
//! fixed-width RFC 3339 text (which sorts as time does); PostgreSQL as
//! `timestamptz` (text would sort by the database's collation).

/// SQLite migrations; `PRAGMA user_version` is the number applied.
pub(super) const SQLITE: &[&str] = &[
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
    // 5: lifecycle. The scorer's version in each decision (1 before); export
    // by tenant and time, retention by time, the write outcome of a decision
    // by its key; the key of erased candidates' pseudonyms.
    r#"
ALTER TABLE decisions ADD COLUMN scorer_version INTEGER NOT NULL DEFAULT 1;
CREATE INDEX decisions_by_tenant ON decisions (tenant, decided_at, id);
CREATE INDEX decisions_by_time ON decisions (decided_at);
CREATE INDEX events_by_write ON events (sync_key, application_id, write_key);
CREATE INDEX events_by_time ON events (at);
CREATE TABLE ledger_meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
"#,
    // 6: webhooks. Deliveries, deduplicated per sync by the vendor's
    // delivery id and kept until processed (a restart between the 202 and
    // processing loses nothing), the applications each one names (erasure
    // finds them by id), per-sync counters (the queue bound and status read
    // one row), and recruiters' outcomes beside the scores.
    r#"
CREATE TABLE deliveries (
    seq            INTEGER PRIMARY KEY AUTOINCREMENT,
    sync_key       TEXT NOT NULL,
    delivery_id    TEXT NOT NULL,
    vendor         TEXT NOT NULL,
    body_sha256    TEXT NOT NULL,
    event          TEXT NOT NULL,
    application_id TEXT NOT NULL,
    order_at       TEXT NOT NULL,
    received_at    TEXT NOT NULL,
    finished_at    TEXT,
    result         TEXT,
    skip_reason    TEXT,
    UNIQUE (sync_key, delivery_id)
);
CREATE INDEX deliveries_pending ON deliveries (sync_key, seq) WHERE finished_at IS NULL;
CREATE INDEX deliveries_pending_by_application ON deliveries (sync_key, application_id)
    WHERE finished_at IS NULL;
CREATE INDEX deliveries_by_finish ON deliveries (finished_at);
CREATE TABLE delivery_applications (
    seq            INTEGER NOT NULL,
    sync_key       TEXT NOT NULL,
    application_id TEXT NOT NULL,
    PRIMARY KEY (seq, application_id)
);
CREATE INDEX delivery_applications_by_application
    ON delivery_applications (sync_key, application_id);
CREATE TABLE delivery_counts (
    sync_key         TEXT PRIMARY KEY,
    accepted         INTEGER NOT NULL,
    duplicates       INTEGER NOT NULL,
    processed        INTEGER NOT NULL,
    skipped          INTEGER NOT NULL,
    pending          INTEGER NOT NULL,
    last_received_at TEXT
);
CREATE TABLE outcomes (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    sync_key        TEXT NOT NULL,
    application_id  TEXT NOT NULL,
    delivery_id     TEXT NOT NULL,
    category        TEXT NOT NULL,
    stage           TEXT,
    reason_category TEXT,
    occurred_at     TEXT,
    recorded_at     TEXT NOT NULL,
    UNIQUE (sync_key, application_id, delivery_id)
);
CREATE INDEX outcomes_by_time ON outcomes (recorded_at);
"#,
];

/// PostgreSQL migrations; `ledger_schema.version` is the number applied.
pub(super) const POSTGRES: &[&str] = &[
    r#"
CREATE TABLE cursors (
    sync_key          TEXT PRIMARY KEY,
    identity          TEXT NOT NULL,
    watermark         TIMESTAMPTZ NOT NULL,
    updated_at        TIMESTAMPTZ NOT NULL,
    full_sync_at      TIMESTAMPTZ,
    decision_identity TEXT
);
CREATE TABLE decisions (
    id                 BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    sync_key           TEXT NOT NULL,
    tenant             TEXT NOT NULL,
    vendor             TEXT NOT NULL,
    application_id     TEXT NOT NULL,
    candidate_id       TEXT NOT NULL,
    job_id             TEXT NOT NULL,
    fingerprint        TEXT NOT NULL,
    profile_generation BIGINT NOT NULL,
    score              INTEGER NOT NULL,
    band               TEXT NOT NULL,
    score_json         TEXT NOT NULL,
    write_key          TEXT NOT NULL,
    outcome            TEXT NOT NULL,
    decided_at         TIMESTAMPTZ NOT NULL,
    scorer_version     BIGINT NOT NULL
);
CREATE INDEX decisions_by_application ON decisions (sync_key, application_id, id);
CREATE INDEX decisions_by_tenant ON decisions (tenant, decided_at, id);
CREATE INDEX decisions_by_time ON decisions (decided_at);
CREATE TABLE write_states (
    sync_key           TEXT NOT NULL,
    application_id     TEXT NOT NULL,
    fingerprint        TEXT NOT NULL,
    profile_generation BIGINT NOT NULL,
    write_key          TEXT NOT NULL,
    state              TEXT NOT NULL,
    attempts           BIGINT NOT NULL,
    last_error         TEXT,
    updated_at         TIMESTAMPTZ NOT NULL,
    deleted_at         TIMESTAMPTZ,
    written_mark       TEXT,
    settings           TEXT NOT NULL DEFAULT '',
    next_attempt_at    TIMESTAMPTZ,
    seen_at            TIMESTAMPTZ,
    written_at         TIMESTAMPTZ,
    source_version     TIMESTAMPTZ,
    job_fingerprint    TEXT,
    PRIMARY KEY (sync_key, application_id)
);
CREATE INDEX write_states_by_state ON write_states (sync_key, state);
CREATE TABLE events (
    id             BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    sync_key       TEXT NOT NULL,
    application_id TEXT NOT NULL,
    write_key      TEXT NOT NULL,
    kind           TEXT NOT NULL,
    detail         TEXT,
    at             TIMESTAMPTZ NOT NULL
);
CREATE INDEX events_by_sync ON events (sync_key, kind);
CREATE INDEX events_by_write ON events (sync_key, application_id, write_key);
CREATE INDEX events_by_time ON events (at);
CREATE TABLE deletions (
    sync_key       TEXT NOT NULL,
    application_id TEXT NOT NULL,
    source         TEXT NOT NULL,
    deleted_at     TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (sync_key, application_id)
);
CREATE TABLE checkpoints (
    sync_key          TEXT PRIMARY KEY,
    identity          TEXT NOT NULL,
    decision_identity TEXT NOT NULL,
    data              TEXT NOT NULL,
    updated_at        TIMESTAMPTZ NOT NULL
);
CREATE TABLE ledger_meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
"#,
    // 2: webhooks (see SQLite's 6).
    r#"
CREATE TABLE deliveries (
    seq            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    sync_key       TEXT NOT NULL,
    delivery_id    TEXT NOT NULL,
    vendor         TEXT NOT NULL,
    body_sha256    TEXT NOT NULL,
    event          TEXT NOT NULL,
    application_id TEXT NOT NULL,
    order_at       TIMESTAMPTZ NOT NULL,
    received_at    TIMESTAMPTZ NOT NULL,
    finished_at    TIMESTAMPTZ,
    result         TEXT,
    skip_reason    TEXT,
    UNIQUE (sync_key, delivery_id)
);
CREATE INDEX deliveries_pending ON deliveries (sync_key, seq) WHERE finished_at IS NULL;
CREATE INDEX deliveries_pending_by_application ON deliveries (sync_key, application_id)
    WHERE finished_at IS NULL;
CREATE INDEX deliveries_by_finish ON deliveries (finished_at);
CREATE TABLE delivery_applications (
    seq            BIGINT NOT NULL,
    sync_key       TEXT NOT NULL,
    application_id TEXT NOT NULL,
    PRIMARY KEY (seq, application_id)
);
CREATE INDEX delivery_applications_by_application
    ON delivery_applications (sync_key, application_id);
CREATE TABLE delivery_counts (
    sync_key         TEXT PRIMARY KEY,
    accepted         BIGINT NOT NULL,
    duplicates       BIGINT NOT NULL,
    processed        BIGINT NOT NULL,
    skipped          BIGINT NOT NULL,
    pending          BIGINT NOT NULL,
    last_received_at TIMESTAMPTZ
);
CREATE TABLE outcomes (
    id              BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    sync_key        TEXT NOT NULL,
    application_id  TEXT NOT NULL,
    delivery_id     TEXT NOT NULL,
    category        TEXT NOT NULL,
    stage           TEXT,
    reason_category TEXT,
    occurred_at     TIMESTAMPTZ,
    recorded_at     TIMESTAMPTZ NOT NULL,
    UNIQUE (sync_key, application_id, delivery_id)
);
CREATE INDEX outcomes_by_time ON outcomes (recorded_at);
"#,
];

/// The tables of the ledger, for sizes and tests.
pub(super) const TABLES: &[&str] = &[
    "cursors",
    "decisions",
    "write_states",
    "events",
    "deletions",
    "checkpoints",
    "ledger_meta",
    "deliveries",
    "delivery_applications",
    "delivery_counts",
    "outcomes",
];

/// `ledger_meta` key of the secret that keys erased candidates' pseudonyms.
pub(super) const PSEUDONYM_KEY: &str = "pseudonym_key";
