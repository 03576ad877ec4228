//! The audit ledger, the same tests on both backends: SQLite (a file) and
//! PostgreSQL (a real server from Debian's packages, one per test binary and
//! a database per test; see `support::postgres`). Each test body takes a
//! [`Fixture`]; `on_both_backends!` runs it once per backend.

mod support;

use std::collections::HashSet;

use ats_operator::ledger::{
    Attempt, Cursor, Decision, DecisionOutcome, ExportFormat, Ledger, LedgerError, Settlement,
    Totals, WriteState, WriteStatus,
};
use ats_operator::model::{Band, ComponentScores, Score, VendorKind};
use chrono::{DateTime, TimeZone, Utc};
use futures::TryStreamExt;

const SYNC: &str = "ns/sync-a";

#[derive(Clone, Copy, Debug)]
enum Backend {
    Sqlite,
    Postgres,
}

/// Where one test's ledger lives; [`Fixture::open`] may be called again (a
/// restart, or a second replica on the same record).
struct Fixture {
    backend: Backend,
    /// SQLite: the file's directory. PostgreSQL: unused.
    dir: tempfile::TempDir,
    url: String,
}

impl Fixture {
    fn new(backend: Backend) -> Fixture {
        let url = match backend {
            Backend::Sqlite => String::new(),
            Backend::Postgres => support::postgres::database_url(),
        };
        Fixture {
            backend,
            dir: tempfile::tempdir().unwrap(),
            url,
        }
    }

    fn sqlite_path(&self) -> std::path::PathBuf {
        self.dir.path().join("nested/dir/ledger.db")
    }

    async fn open(&self) -> Ledger {
        match self.backend {
            Backend::Sqlite => Ledger::open(&self.sqlite_path()).unwrap(),
            Backend::Postgres => Ledger::connect_postgres(&self.url).await.unwrap(),
        }
    }

    /// Every value of one text column, read with the backend's own driver.
    async fn column(&self, sql: &str) -> Vec<Option<String>> {
        match self.backend {
            Backend::Sqlite => {
                let conn = rusqlite::Connection::open(self.sqlite_path()).unwrap();
                let mut stmt = conn.prepare(sql).unwrap();
                stmt.query_map([], |r| r.get::<_, Option<String>>(0))
                    .unwrap()
                    .collect::<Result<_, _>>()
                    .unwrap()
            }
            Backend::Postgres => {
                let (client, conn) = tokio_postgres::connect(&self.url, tokio_postgres::NoTls)
                    .await
                    .unwrap();
                tokio::spawn(conn);
                client
                    .query(sql, &[])
                    .await
                    .unwrap()
                    .iter()
                    .map(|r| r.get::<_, Option<String>>(0))
                    .collect()
            }
        }
    }

    async fn execute(&self, sql: &str) {
        match self.backend {
            Backend::Sqlite => {
                let conn = rusqlite::Connection::open(self.sqlite_path()).unwrap();
                conn.execute_batch(sql).unwrap();
            }
            Backend::Postgres => {
                let (client, conn) = tokio_postgres::connect(&self.url, tokio_postgres::NoTls)
                    .await
                    .unwrap();
                tokio::spawn(conn);
                client.batch_execute(sql).await.unwrap();
            }
        }
    }
}

macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name(super::Fixture::new(super::Backend::Sqlite)).await
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name(super::Fixture::new(super::Backend::Postgres)).await
                }
            )*
        }
    };
}

on_both_backends!(
    cursor_roundtrip_and_overwrite,
    checkpoint_roundtrip_and_clear,
    decision_without_mark_written_stays_pending,
    written_failed_and_retry,
    dry_run_and_no_write_back_are_done,
    syncs_are_isolated,
    persists_across_reopen,
    refuses_newer_schema,
    long_errors_are_truncated,
    deletions_leave_tombstones_and_are_audited_once,
    permanent_failures_are_abandoned_and_changed_settings_supersede,
    settle_records_a_batch_in_one_call,
    versions_seen_and_write_states_in_batches,
    timestamps_compare_as_times,
    erasure_pseudonymizes_rows_and_keeps_the_aggregate,
    retention_prunes_what_is_older_than_the_cutoff,
    export_streams_a_tenants_decisions_without_personal_data,
    two_replicas_on_one_record_do_not_corrupt_it,
    vendor_deletions_erase_the_persons_rows,
);

fn score(n: u8) -> Score {
    Score {
        score: n,
        components: ComponentScores {
            skills: Some(n),
            experience: None,
            title: Some(50),
            education: Some(90),
            semantic: None,
        },
        strengths: vec!["Has all 3 required skills: Rust, Go, SQL".into()],
        gaps: vec!["Missing nice-to-have skills: Kafka".into()],
        band: Band::GoodFit,
        evidence: vec![],
        requirements_found: true,
        summary: String::new(),
        candidate_summary: String::new(),
        semantic_model: None,
    }
}

fn at(y: i32, m: u32, d: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, m, d, 12, 0, 0).single().unwrap()
}

fn decision(app: &str, key: &str, outcome: DecisionOutcome) -> Decision {
    Decision {
        sync_key: SYNC.into(),
        tenant: "ns".into(),
        vendor: VendorKind::Greenhouse,
        application_id: app.into(),
        candidate_id: format!("c-{app}"),
        job_id: "j-1".into(),
        fingerprint: format!("fp-{key}"),
        profile_generation: 3,
        score: score(70),
        write_key: key.into(),
        outcome,
        decided_at: at(2026, 3, 1),
        settings: "s1".into(),
    }
}

fn later() -> DateTime<Utc> {
    Utc::now() + chrono::Duration::days(1)
}

async fn ledger_with(f: &Fixture, decisions: &[(&str, &str, DecisionOutcome)]) -> Ledger {
    let l = f.open().await;
    for &(app, key, outcome) in decisions {
        l.record_decision(&decision(app, key, outcome))
            .await
            .unwrap();
    }
    l
}

async fn cursor_roundtrip_and_overwrite(f: Fixture) {
    let l = f.open().await;
    assert_eq!(l.cursor(SYNC).await.unwrap(), None);
    let c1 = Cursor {
        identity: "greenhouse|https://sandbox".into(),
        // Microseconds survive on both backends.
        watermark: Utc
            .timestamp_micros(1_767_225_600_123_456)
            .single()
            .unwrap(),
        full_sync_at: Some(at(2026, 1, 1)),
        decision_identity: Some("p/1|s1|false".into()),
    };
    l.set_cursor(SYNC, &c1).await.unwrap();
    assert_eq!(l.cursor(SYNC).await.unwrap(), Some(c1.clone()));
    let c2 = Cursor {
        identity: "other".into(),
        watermark: c1.watermark + chrono::Duration::hours(1),
        full_sync_at: None,
        decision_identity: None,
    };
    l.set_cursor(SYNC, &c2).await.unwrap();
    assert_eq!(l.cursor(SYNC).await.unwrap(), Some(c2));
    assert_eq!(l.cursor("ns/other").await.unwrap(), None);
}

async fn checkpoint_roundtrip_and_clear(f: Fixture) {
    let l = f.open().await;
    assert_eq!(l.checkpoint(SYNC).await.unwrap(), None);
    let c = ats_operator::ledger::Checkpoint {
        identity: "id".into(),
        decision_identity: "d".into(),
        started_at: at(2026, 2, 1),
        since: None,
        full: true,
        after: "a100".into(),
        high_watermark: Some(at(2026, 1, 31)),
        held: vec![None, Some(at(2026, 1, 30))],
    };
    l.set_checkpoint(SYNC, &c).await.unwrap();
    l.set_checkpoint(SYNC, &c).await.unwrap();
    assert_eq!(l.checkpoint(SYNC).await.unwrap(), Some(c));
    l.clear_checkpoint(SYNC).await.unwrap();
    assert_eq!(l.checkpoint(SYNC).await.unwrap(), None);
}

async fn decision_without_mark_written_stays_pending(f: Fixture) {
    let l = f.open().await;
    let d = decision("a1", "k1", DecisionOutcome::ToWrite);
    l.record_decision(&d).await.unwrap();
    let ws = l.write_state(SYNC, "a1").await.unwrap().unwrap();
    assert_eq!(
        ws,
        WriteState {
            application_id: "a1".into(),
            fingerprint: "fp-k1".into(),
            profile_generation: 3,
            write_key: "k1".into(),
            state: WriteStatus::Pending,
            attempts: 0,
            deleted: false,
            written_mark: None,
            settings: "s1".into(),
            written_at: None,
        }
    );
    assert_eq!(l.pending_writes(SYNC, later()).await.unwrap(), vec![ws]);
    assert_eq!(l.decisions(SYNC, "a1").await.unwrap(), vec![d]);
    assert_eq!(l.write_state(SYNC, "nope").await.unwrap(), None);
    assert_eq!(l.write_state("ns/other", "a1").await.unwrap(), None);
}

async fn written_failed_and_retry(f: Fixture) {
    let l = ledger_with(&f, &[("a1", "k1", DecisionOutcome::ToWrite)]).await;
    let retry_at = Utc::now() + chrono::Duration::minutes(1);
    l.mark_failed(SYNC, "a1", "k1", "HTTP 503", retry_at)
        .await
        .unwrap();
    // Not due before its backoff.
    assert!(l.pending_writes(SYNC, Utc::now()).await.unwrap().is_empty());
    let ws = l.write_state(SYNC, "a1").await.unwrap().unwrap();
    assert_eq!((ws.state, ws.attempts), (WriteStatus::Failed, 1));
    // Failed stays retryable.
    assert_eq!(l.pending_writes(SYNC, later()).await.unwrap().len(), 1);
    assert_eq!(
        l.totals(SYNC).await.unwrap(),
        Totals {
            scored: 1,
            written_back: 0,
            failed: 1,
            abandoned: 0,
        }
    );

    // A stale key does not complete the current write.
    l.mark_written(SYNC, "a1", "old-key", "70|good_fit|s1", false)
        .await
        .unwrap();
    assert_eq!(
        l.write_state(SYNC, "a1").await.unwrap().unwrap().state,
        WriteStatus::Failed
    );

    l.mark_written(SYNC, "a1", "k1", "70|good_fit|s1", false)
        .await
        .unwrap();
    let ws = l.write_state(SYNC, "a1").await.unwrap().unwrap();
    assert_eq!((ws.state, ws.attempts), (WriteStatus::Done, 2));
    assert_eq!(ws.written_mark.as_deref(), Some("70|good_fit|s1"));
    assert!(ws.written_at.is_some());
    assert!(l.pending_writes(SYNC, later()).await.unwrap().is_empty());
    // A late failure report cannot undo a confirmed write.
    assert_eq!(
        l.mark_failed(SYNC, "a1", "k1", "timeout", Utc::now())
            .await
            .unwrap(),
        None
    );
    assert_eq!(
        l.write_state(SYNC, "a1").await.unwrap().unwrap().state,
        WriteStatus::Done
    );
    let t = l.totals(SYNC).await.unwrap();
    assert_eq!((t.scored, t.failed), (1, 0));
    assert_eq!(t.written_back, 2, "both landed writes are audited");

    // A new decision resets the state to Pending with the new key.
    let mut d2 = decision("a1", "k2", DecisionOutcome::ToWrite);
    d2.score = score(90);
    l.record_decision(&d2).await.unwrap();
    let ws = l.write_state(SYNC, "a1").await.unwrap().unwrap();
    assert_eq!(
        (ws.state, ws.attempts, ws.write_key.as_str()),
        (WriteStatus::Pending, 0, "k2")
    );
    // What the ATS has is still known, so the same score is not written again.
    assert_eq!(ws.written_mark.as_deref(), Some("70|good_fit|s1"));
    let ds = l.decisions(SYNC, "a1").await.unwrap();
    assert_eq!(ds.len(), 2);
    assert_eq!(ds[1].score.score, 90);
    assert_eq!(l.totals(SYNC).await.unwrap().scored, 2);
}

async fn dry_run_and_no_write_back_are_done(f: Fixture) {
    let l = ledger_with(
        &f,
        &[
            ("a1", "k1", DecisionOutcome::DryRun),
            ("a2", "k2", DecisionOutcome::NoWriteBack),
            ("a3", "k3", DecisionOutcome::NoChange),
        ],
    )
    .await;
    assert!(l.pending_writes(SYNC, later()).await.unwrap().is_empty());
    assert_eq!(
        l.write_state(SYNC, "a1").await.unwrap().unwrap().state,
        WriteStatus::Done
    );
    assert_eq!(
        l.decisions(SYNC, "a2").await.unwrap()[0].outcome,
        DecisionOutcome::NoWriteBack
    );
    assert_eq!(
        l.totals(SYNC).await.unwrap(),
        Totals {
            scored: 3,
            written_back: 0,
            failed: 0,
            abandoned: 0,
        }
    );
}

async fn syncs_are_isolated(f: Fixture) {
    let l = ledger_with(&f, &[("a1", "k1", DecisionOutcome::ToWrite)]).await;
    let mut other = decision("a1", "k9", DecisionOutcome::ToWrite);
    other.sync_key = "ns/sync-b".into();
    l.record_decision(&other).await.unwrap();
    l.mark_written("ns/sync-b", "a1", "k9", "m", false)
        .await
        .unwrap();
    assert_eq!(l.pending_writes(SYNC, later()).await.unwrap().len(), 1);
    assert!(
        l.pending_writes("ns/sync-b", later())
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(l.totals(SYNC).await.unwrap().written_back, 0);
    assert_eq!(l.totals("ns/sync-b").await.unwrap().written_back, 1);
}

async fn persists_across_reopen(f: Fixture) {
    let d = decision("a1", "k1", DecisionOutcome::ToWrite);
    let cursor = Cursor {
        identity: "id".into(),
        watermark: Utc.with_ymd_and_hms(2026, 1, 2, 3, 4, 5).single().unwrap(),
        full_sync_at: None,
        decision_identity: None,
    };
    {
        let l = f.open().await;
        l.set_cursor(SYNC, &cursor).await.unwrap();
        l.record_decision(&d).await.unwrap();
        l.record_decision(&decision("a2", "k2", DecisionOutcome::ToWrite))
            .await
            .unwrap();
        l.mark_written(SYNC, "a2", "k2", "m", false).await.unwrap();
    }
    // Reopening runs no migration twice and finds everything.
    let l = f.open().await;
    assert_eq!(l.cursor(SYNC).await.unwrap(), Some(cursor));
    assert_eq!(l.decisions(SYNC, "a1").await.unwrap(), vec![d]);
    let pending = l.pending_writes(SYNC, later()).await.unwrap();
    assert_eq!(pending.len(), 1);
    assert_eq!(pending[0].application_id, "a1");
    assert_eq!(l.totals(SYNC).await.unwrap().written_back, 1);
    assert!(l.size_bytes().await.unwrap() > 0);
}

async fn refuses_newer_schema(f: Fixture) {
    drop(f.open().await);
    match f.backend {
        Backend::Sqlite => f.execute("PRAGMA user_version = 99").await,
        Backend::Postgres => f.execute("UPDATE ledger_schema SET version = 99").await,
    }
    let opened = match f.backend {
        Backend::Sqlite => Ledger::open(&f.sqlite_path()),
        Backend::Postgres => Ledger::connect_postgres(&f.url).await,
    };
    match opened {
        Err(LedgerError::SchemaTooNew { found: 99, .. }) => {}
        Err(e) => panic!("unexpected error {e}"),
        Ok(_) => panic!("opened a newer schema"),
    }
}

async fn long_errors_are_truncated(f: Fixture) {
    let l = ledger_with(&f, &[("a1", "k1", DecisionOutcome::ToWrite)]).await;
    l.mark_failed(SYNC, "a1", "k1", &"é".repeat(10_000), Utc::now())
        .await
        .unwrap();
    let stored = f.column("SELECT last_error FROM write_states").await;
    let stored = stored[0].as_deref().unwrap();
    assert_eq!(
        stored.chars().count(),
        ats_operator::ledger::MAX_ERROR_CHARS
    );
}

async fn deletions_leave_tombstones_and_are_audited_once(f: Fixture) {
    let l = ledger_with(
        &f,
        &[
            ("a1", "k1", DecisionOutcome::ToWrite),
            ("a2", "k2", DecisionOutcome::ToWrite),
        ],
    )
    .await;
    l.mark_written(SYNC, "a1", "k1", "70|good_fit|s1", false)
        .await
        .unwrap();
    let known = l.known_applications(SYNC).await.unwrap();
    assert_eq!(known.len(), 2);
    let ids = vec!["a1".to_string(), "a2".to_string(), "never-seen".to_string()];
    assert_eq!(l.record_deletions(SYNC, &ids, "test").await.unwrap(), 2);
    // A tombstone: not known, no pending write retried, but the fingerprint and
    // the write stay, so an application that comes back is not written again.
    assert!(l.known_applications(SYNC).await.unwrap().is_empty());
    assert!(l.pending_writes(SYNC, later()).await.unwrap().is_empty());
    let ws = l.write_state(SYNC, "a1").await.unwrap().unwrap();
    assert!(ws.deleted);
    assert_eq!(ws.fingerprint, "fp-k1");
    assert_eq!(ws.written_mark.as_deref(), Some("70|good_fit|s1"));
    // Deleting again is not counted again.
    assert_eq!(l.record_deletions(SYNC, &ids, "test").await.unwrap(), 0);
    l.revive(SYNC, "a1").await.unwrap();
    assert_eq!(l.known_applications(SYNC).await.unwrap().len(), 1);
    // A new decision for a tombstone revives it too.
    l.record_decision(&decision("a2", "k3", DecisionOutcome::ToWrite))
        .await
        .unwrap();
    assert!(!l.write_state(SYNC, "a2").await.unwrap().unwrap().deleted);
}

async fn permanent_failures_are_abandoned_and_changed_settings_supersede(f: Fixture) {
    let l = ledger_with(&f, &[("a1", "k1", DecisionOutcome::ToWrite)]).await;
    for n in 1..=3 {
        let attempts = l
            .mark_failed(SYNC, "a1", "k1", "HTTP 404", Utc::now())
            .await
            .unwrap();
        assert_eq!(attempts, Some(n));
    }
    l.mark_abandoned(SYNC, "a1", "k1", "HTTP 404")
        .await
        .unwrap();
    let ws = l.write_state(SYNC, "a1").await.unwrap().unwrap();
    assert_eq!((ws.state, ws.attempts), (WriteStatus::Abandoned, 4));
    assert!(l.pending_writes(SYNC, later()).await.unwrap().is_empty());
    assert_eq!(l.totals(SYNC).await.unwrap().abandoned, 1);

    l.record_decision(&decision("a2", "k2", DecisionOutcome::ToWrite))
        .await
        .unwrap();
    l.mark_superseded(SYNC, "a2", "k2", "settings changed")
        .await
        .unwrap();
    assert_eq!(
        l.write_state(SYNC, "a2").await.unwrap().unwrap().state,
        WriteStatus::Superseded
    );
    assert!(l.pending_writes(SYNC, later()).await.unwrap().is_empty());
    // A superseded write cannot be completed by a late confirmation either.
    l.mark_failed(SYNC, "a2", "k2", "late", Utc::now())
        .await
        .unwrap();
    assert_eq!(
        l.write_state(SYNC, "a2").await.unwrap().unwrap().state,
        WriteStatus::Superseded
    );
}

async fn settle_records_a_batch_in_one_call(f: Fixture) {
    let l = ledger_with(
        &f,
        &[
            ("a1", "k1", DecisionOutcome::ToWrite),
            ("a2", "k2", DecisionOutcome::ToWrite),
            ("a3", "k3", DecisionOutcome::ToWrite),
        ],
    )
    .await;
    let s = |app: &str, key: &str, result| Settlement {
        application_id: app.into(),
        write_key: key.into(),
        result,
    };
    let retry_at = later();
    let out = l
        .settle(
            SYNC,
            &[
                s(
                    "a1",
                    "k1",
                    Attempt::Written {
                        mark: "m1".into(),
                        adopted: false,
                    },
                ),
                s(
                    "a2",
                    "k2",
                    Attempt::Failed {
                        error: "HTTP 503".into(),
                        retry_at,
                    },
                ),
                s(
                    "a3",
                    "k3",
                    Attempt::Written {
                        mark: "m3".into(),
                        adopted: true,
                    },
                ),
                s(
                    "a3",
                    "stale",
                    Attempt::Abandoned {
                        error: "HTTP 404".into(),
                    },
                ),
            ],
        )
        .await
        .unwrap();
    assert_eq!(out, vec![Some(1), Some(1), Some(1), None]);
    let states = l
        .write_states(SYNC, &["a1", "a2", "a3", "a4"])
        .await
        .unwrap();
    assert_eq!(states.len(), 3);
    assert_eq!(states["a1"].state, WriteStatus::Done);
    assert_eq!(states["a2"].state, WriteStatus::Failed);
    assert_eq!(states["a3"].written_mark.as_deref(), Some("m3"));
    assert_eq!(
        l.pending_writes(SYNC, retry_at).await.unwrap()[0].application_id,
        "a2"
    );
    // Written and adopted both count as landed.
    assert_eq!(l.totals(SYNC).await.unwrap().written_back, 2);
    assert!(l.settle(SYNC, &[]).await.unwrap().is_empty());
}

async fn versions_seen_and_write_states_in_batches(f: Fixture) {
    let l = ledger_with(
        &f,
        &[
            ("a1", "k1", DecisionOutcome::ToWrite),
            ("a2", "k2", DecisionOutcome::ToWrite),
            ("a3", "k3", DecisionOutcome::ToWrite),
        ],
    )
    .await;
    let v1 = Utc
        .timestamp_micros(1_767_225_600_000_001)
        .single()
        .unwrap();
    l.set_versions(SYNC, &[("a1", Some(v1), "jf1"), ("a2", None, "jf1")])
        .await
        .unwrap();
    let versions = l.versions(SYNC).await.unwrap();
    assert_eq!(
        versions.len(),
        1,
        "without an updated_at nothing is unchanged"
    );
    assert_eq!(versions["a1"], (v1, "jf1".to_string()));

    let started = Utc::now();
    l.mark_seen(SYNC, &["a1", "a3"], started).await.unwrap();
    assert_eq!(l.unseen_since(SYNC, started).await.unwrap(), vec!["a2"]);
    assert_eq!(
        l.unseen_since(SYNC, started + chrono::Duration::microseconds(1))
            .await
            .unwrap(),
        vec!["a1", "a2", "a3"]
    );
    let known: HashSet<String> = ["a1", "a2", "a3"].map(String::from).into();
    assert_eq!(l.known_applications(SYNC).await.unwrap(), known);
}

/// Times compare as times, to the microsecond, on both backends (SQLite keeps
/// fixed-width text, PostgreSQL `timestamptz`).
async fn timestamps_compare_as_times(f: Fixture) {
    let l = ledger_with(&f, &[("a1", "k1", DecisionOutcome::ToWrite)]).await;
    let due = Utc
        .timestamp_micros(1_900_000_000_000_010)
        .single()
        .unwrap();
    l.mark_failed(SYNC, "a1", "k1", "HTTP 503", due)
        .await
        .unwrap();
    let just_before = due - chrono::Duration::microseconds(1);
    assert!(
        l.pending_writes(SYNC, just_before)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(l.pending_writes(SYNC, due).await.unwrap().len(), 1);
    // Across a year boundary and a digit-count change, too.
    let d = |y| {
        let mut d = decision("t", &format!("k{y}"), DecisionOutcome::DryRun);
        d.decided_at = at(y, 12, 31);
        d
    };
    l.record_decisions(&[d(2099), d(2100), d(2031)])
        .await
        .unwrap();
    let times: Vec<DateTime<Utc>> = l
        .export("ns", Some(at(2030, 1, 1)))
        .map_ok(|r| r.decided_at)
        .try_collect()
        .await
        .unwrap();
    assert_eq!(
        times,
        vec![at(2031, 12, 31), at(2099, 12, 31), at(2100, 12, 31)]
    );
}

async fn erasure_pseudonymizes_rows_and_keeps_the_aggregate(f: Fixture) {
    let l = ledger_with(
        &f,
        &[
            ("a1", "k1", DecisionOutcome::ToWrite),
            ("a2", "k2", DecisionOutcome::ToWrite),
        ],
    )
    .await;
    l.mark_failed(SYNC, "a1", "k1", "HTTP 503 for candidate c-a1", Utc::now())
        .await
        .unwrap();
    l.mark_written(SYNC, "a1", "k1", "70|good_fit|s1", false)
        .await
        .unwrap();
    let mut again = decision("a1", "k1b", DecisionOutcome::ToWrite);
    again.score = score(80);
    l.record_decision(&again).await.unwrap();
    let before = l.totals(SYNC).await.unwrap();

    let ids = vec!["a1".to_string()];
    let n = l
        .record_erasures(SYNC, &ids, "reported deleted or anonymized by the vendor")
        .await
        .unwrap();
    assert_eq!(n, 1, "a known application was tombstoned");

    // Nothing under the vendor's ids remains, and no explanation.
    assert!(l.decisions(SYNC, "a1").await.unwrap().is_empty());
    assert_eq!(l.write_state(SYNC, "a1").await.unwrap(), None);
    for (table, column) in [
        ("decisions", "application_id"),
        ("decisions", "candidate_id"),
        ("decisions", "write_key"),
        ("decisions", "score_json"),
        ("decisions", "fingerprint"),
        ("write_states", "application_id"),
        ("write_states", "write_key"),
        ("write_states", "fingerprint"),
        ("write_states", "last_error"),
        ("events", "application_id"),
        ("events", "write_key"),
        ("events", "detail"),
        ("deletions", "application_id"),
    ] {
        for v in f.column(&format!("SELECT {column} FROM {table}")).await {
            let v = v.unwrap_or_default();
            for id in ["a1", "c-a1", "k1", "k1b", "fp-k1", "fp-k1b"] {
                assert_ne!(v, id, "{table}.{column} still holds {id:?}");
            }
            assert!(!v.contains("c-a1"), "{table}.{column}: {v}");
        }
    }
    // Only a2's decision still explains itself.
    let explained = f.column("SELECT score_json FROM decisions").await;
    assert_eq!(
        explained
            .iter()
            .filter(|j| j.as_deref().unwrap_or_default().contains("Rust, Go"))
            .count(),
        1
    );
    // The pseudonymous rows keep score, band, outcome and time, and stay one
    // application's.
    let rows: Vec<_> = l.export("ns", None).try_collect().await.unwrap();
    let erased: Vec<_> = rows.iter().filter(|r| r.erased).collect();
    assert_eq!(erased.len(), 2);
    assert!(erased[0].application_id.starts_with("anon-"));
    assert_eq!(erased[0].application_id, erased[1].application_id);
    assert_eq!(
        (erased[0].score, erased[1].score, erased[0].band.as_str()),
        (70, 80, "good_fit")
    );
    assert_eq!(erased[0].write_back, "written");
    assert_eq!(erased[1].write_back, "pending");
    // The untouched application still has its explanations.
    assert_eq!(l.decisions(SYNC, "a2").await.unwrap()[0].score, score(70));
    // The aggregate is unchanged: counts, and the erased write is not retried.
    assert_eq!(l.totals(SYNC).await.unwrap(), before);
    assert_eq!(
        l.pending_writes(SYNC, later()).await.unwrap()[0].application_id,
        "a2"
    );
    // Reported again (Workable lists anonymized candidates every time): no-op.
    assert_eq!(l.record_erasures(SYNC, &ids, "again").await.unwrap(), 0);
    let again: Vec<_> = l.export("ns", None).try_collect().await.unwrap();
    assert_eq!(again, rows);
}

async fn retention_prunes_what_is_older_than_the_cutoff(f: Fixture) {
    let l = f.open().await;
    let old = |app: &str| {
        let mut d = decision(app, &format!("k-{app}"), DecisionOutcome::ToWrite);
        d.decided_at = at(2020, 1, 1);
        d
    };
    let mut decisions: Vec<Decision> = (0..12).map(|i| old(&format!("old{i}"))).collect();
    decisions.push(decision("new", "k-new", DecisionOutcome::ToWrite));
    l.record_decisions(&decisions).await.unwrap();
    l.record_deletions(SYNC, &["old0".to_string()], "test")
        .await
        .unwrap();
    // Events carry the time they were recorded: age them as a clock would.
    f.execute(match f.backend {
        Backend::Sqlite => {
            "UPDATE events SET at = '2020-01-01T12:00:00.000000Z' WHERE application_id <> 'new';
             UPDATE deletions SET deleted_at = '2020-01-01T12:00:00.000000Z';
             UPDATE write_states SET deleted_at = '2020-01-01T12:00:00.000000Z' WHERE deleted_at IS NOT NULL;"
        }
        Backend::Postgres => {
            "UPDATE events SET at = '2020-01-01T12:00:00Z' WHERE application_id <> 'new';
             UPDATE deletions SET deleted_at = '2020-01-01T12:00:00Z';
             UPDATE write_states SET deleted_at = '2020-01-01T12:00:00Z' WHERE deleted_at IS NOT NULL;"
        }
    })
    .await;
    let cutoff = ats_operator::ledger::retention::cutoff(at(2026, 3, 1), 1095).unwrap();
    let pruned = l.prune(cutoff).await.unwrap();
    assert_eq!(
        (pruned.decisions, pruned.deletions, pruned.tombstones),
        (12, 1, 1)
    );
    assert_eq!(pruned.events, 13, "12 decided, 1 deleted");
    assert_eq!(l.totals(SYNC).await.unwrap().scored, 1);
    assert!(l.decisions(SYNC, "old1").await.unwrap().is_empty());
    assert_eq!(l.decisions(SYNC, "new").await.unwrap().len(), 1);
    // Live write states stay: they keep a write from being sent twice.
    assert_eq!(l.known_applications(SYNC).await.unwrap().len(), 12);
    assert_eq!(l.write_state(SYNC, "old0").await.unwrap(), None);
    assert_eq!(l.prune(cutoff).await.unwrap(), Default::default());
}

async fn export_streams_a_tenants_decisions_without_personal_data(f: Fixture) {
    let l = f.open().await;
    let mut ds = Vec::new();
    for i in 0..1200 {
        let mut d = decision(
            &format!("a{i:04}"),
            &format!("k{i}"),
            if i % 2 == 0 {
                DecisionOutcome::ToWrite
            } else {
                DecisionOutcome::NoChange
            },
        );
        d.decided_at = at(2026, 3, 1) + chrono::Duration::seconds(i);
        ds.push(d);
    }
    let mut other = decision("x1", "kx", DecisionOutcome::ToWrite);
    other.tenant = "other-tenant".into();
    other.sync_key = "other-tenant/s".into();
    ds.push(other);
    l.record_decisions(&ds).await.unwrap();
    l.mark_written(SYNC, "a0000", "k0", "m", false)
        .await
        .unwrap();
    l.mark_failed(SYNC, "a0002", "k2", "HTTP 503", later())
        .await
        .unwrap();

    let since = at(2026, 3, 1) + chrono::Duration::seconds(1000);
    let rows: Vec<_> = l.export("ns", Some(since)).try_collect().await.unwrap();
    assert_eq!(rows.len(), 200);
    assert_eq!(rows[0].decided_at, since);
    assert_eq!(rows[0].application_id, "a1000");
    let all: Vec<_> = l.export("ns", None).try_collect().await.unwrap();
    assert_eq!(all.len(), 1200, "only the tenant's");
    assert_eq!(
        [&all[0], &all[1], &all[2], &all[4]].map(|r| r.write_back.as_str()),
        ["written", "none", "failed", "pending"]
    );
    assert_eq!(
        (
            all[0].sync.as_str(),
            all[0].score,
            all[0].skills,
            all[0].experience
        ),
        ("sync-a", 70, Some(70), None)
    );

    let mut out = Vec::new();
    let n = ats_operator::ledger::export::write_rows(
        l.export("ns", Some(since)),
        ExportFormat::Csv,
        &mut out,
    )
    .await
    .unwrap();
    assert_eq!(n, 200);
    let text = String::from_utf8(out).unwrap();
    assert_eq!(text.lines().count(), 201);
    for personal in ["c-a1000", "Rust, Go", "Kafka", "fp-k1000"] {
        assert!(!text.contains(personal), "the export holds {personal:?}");
    }
}

/// Two replicas on one record (a deposed leader finishing its statements
/// while the new leader works): no error, no lost or doubled row, and a late
/// confirmation of an old key never completes the newer decision.
async fn two_replicas_on_one_record_do_not_corrupt_it(f: Fixture) {
    // Both start (and migrate) at the same time.
    let (a, b) = tokio::join!(f.open(), f.open());
    let apps: Vec<String> = (0..200).map(|i| format!("r{i:03}")).collect();
    let decide = |key: &'static str| {
        apps.iter()
            .map(|app| decision(app, &format!("{key}-{app}"), DecisionOutcome::ToWrite))
            .collect::<Vec<_>>()
    };
    let (old, new) = (decide("old"), decide("new"));
    let settle = |ds: &[Decision]| {
        ds.iter()
            .map(|d| Settlement {
                application_id: d.application_id.clone(),
                write_key: d.write_key.clone(),
                result: Attempt::Written {
                    mark: d.write_key.clone(),
                    adopted: false,
                },
            })
            .collect::<Vec<_>>()
    };
    async fn run(l: &Ledger, ds: Vec<Decision>, s: Vec<Settlement>) {
        for chunk in ds.chunks(50) {
            l.record_decisions(chunk).await.unwrap();
        }
        for chunk in s.chunks(20) {
            l.settle(SYNC, chunk).await.unwrap();
        }
    }
    a.record_decisions(&old).await.unwrap();
    tokio::join!(
        run(&a, old.clone(), settle(&old)),
        run(&b, new.clone(), settle(&new))
    );
    // Whichever decision came last is current; its own key was confirmed, or
    // (the other replica's decision came after this one's confirmation) it is
    // Pending, to be checked in the ATS by the next run.
    let states = a
        .write_states(SYNC, &apps.iter().map(String::as_str).collect::<Vec<_>>())
        .await
        .unwrap();
    assert_eq!(states.len(), apps.len());
    for app in &apps {
        let ws = &states[app];
        match ws.state {
            WriteStatus::Done => assert_eq!(ws.written_mark.as_ref(), Some(&ws.write_key)),
            WriteStatus::Pending => {}
            other => panic!("{app}: {other:?}"),
        }
        assert_eq!(b.decisions(SYNC, app).await.unwrap().len(), 3);
    }
    assert_eq!(a.totals(SYNC).await.unwrap().scored, 600);
    assert_eq!(b.totals(SYNC).await.unwrap().written_back, 400);
}

// --- SQLite only: how the file is kept.

#[tokio::test]
async fn sqlite_commits_are_synced_to_disk_in_wal_mode() {
    let f = Fixture::new(Backend::Sqlite);
    drop(f.open().await);
    let conn = rusqlite::Connection::open(f.sqlite_path()).unwrap();
    let mode: String = conn
        .pragma_query_value(None, "journal_mode", |r| r.get(0))
        .unwrap();
    assert_eq!(mode, "wal");
    // `synchronous` is per connection: the ledger's own says FULL (2), which
    // a second connection cannot see; the schema version it can.
    let version: i64 = conn
        .pragma_query_value(None, "user_version", |r| r.get(0))
        .unwrap();
    assert_eq!(version, 6);
}

// --- `ats-operator ledger export` and the backend flags, as a user runs them.

fn operator(args: &[&str], env: &[(&str, &str)]) -> (bool, String, String) {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_ats-operator"))
        .args(args)
        .env_remove("ATS_LEDGER_DATABASE_URL")
        .env_remove("ATS_LEDGER_BACKEND")
        .envs(env.iter().copied())
        .output()
        .expect("running ats-operator");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

async fn seeded(f: &Fixture) {
    let l = f.open().await;
    let ds: Vec<Decision> = (0..30)
        .map(|i| {
            let mut d = decision(
                &format!("a{i:02}"),
                &format!("k{i}"),
                DecisionOutcome::ToWrite,
            );
            d.decided_at = at(2026, 3, 1) + chrono::Duration::minutes(i);
            d
        })
        .collect();
    l.record_decisions(&ds).await.unwrap();
    l.mark_written(SYNC, "a00", "k0", "m", false).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn export_command_streams_csv_from_sqlite() {
    let f = Fixture::new(Backend::Sqlite);
    seeded(&f).await;
    let path = f.sqlite_path().display().to_string();
    let (ok, out, err) = operator(
        &[
            "ledger",
            "export",
            "--ledger-path",
            &path,
            "--namespace",
            "ns",
            "--format",
            "csv",
            "--since",
            "2026-03-01T12:10:00Z",
        ],
        &[],
    );
    assert!(ok, "{err}");
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 21, "a header and 20 decisions: {out}");
    assert!(lines[0].starts_with("decided_at,sync,vendor,application_id,job_id,score"));
    assert!(lines[1].starts_with("2026-03-01T12:10:00.000000Z,sync-a,greenhouse,a10,j-1,70,"));
    assert!(!out.contains("c-a1") && !out.contains("Rust"), "{out}");
    // Another namespace has nothing.
    let (ok, out, _) = operator(
        &[
            "ledger",
            "export",
            "--ledger-path",
            &path,
            "--namespace",
            "nobody",
        ],
        &[],
    );
    assert!(ok && out.is_empty(), "{out}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn export_command_streams_jsonl_from_postgres() {
    let f = Fixture::new(Backend::Postgres);
    seeded(&f).await;
    let (ok, out, err) = operator(
        &[
            "ledger",
            "export",
            "--ledger-backend",
            "postgres",
            "--namespace",
            "ns",
        ],
        &[("ATS_LEDGER_DATABASE_URL", &f.url)],
    );
    assert!(ok, "{err}");
    let rows: Vec<serde_json::Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(rows.len(), 30);
    assert_eq!(rows[0]["application_id"], "a00");
    assert_eq!(rows[0]["write_back"], "written");
    assert_eq!(rows[1]["write_back"], "pending");
    assert!(rows[0].get("candidate_id").is_none());
}

#[test]
fn ledger_flags_give_clear_errors_and_never_echo_the_url() {
    let export = |extra: &[&str], env: &[(&str, &str)]| {
        let mut args = vec!["ledger", "export", "--namespace", "ns"];
        args.extend_from_slice(extra);
        let (ok, _, err) = operator(&args, env);
        assert!(!ok, "{args:?} succeeded");
        err
    };
    assert!(export(&["--format", "xml"], &[]).contains("use csv or jsonl"));
    assert!(export(&["--since", "last week"], &[]).contains("RFC 3339"));
    assert!(export(&["--ledger-backend", "mysql"], &[]).contains("use sqlite or postgres"));
    assert!(
        export(&["--ledger-backend", "postgres"], &[]).contains("ATS_LEDGER_DATABASE_URL"),
        "names what to set"
    );
    let secret = "s3cr3t-Pa55word";
    for url in [
        format!("postgres://ats:{secret}@127.0.0.1:notaport/db"),
        // Nothing listens on port 1: the connection is refused.
        format!("postgres://ats:{secret}@127.0.0.1:1/db"),
    ] {
        let err = export(
            &["--ledger-backend", "postgres"],
            &[("ATS_LEDGER_DATABASE_URL", &url)],
        );
        assert!(
            err.contains("PostgreSQL") || err.contains("postgres"),
            "{err}"
        );
        assert!(!err.contains(secret), "the password leaked: {err}");
        assert!(!err.contains("127.0.0.1"), "the URL leaked: {err}");
    }
}

/// End to end: an opportunity deleted in Lever (reported by
/// `/opportunities/deleted` on the next incremental sync) has its rows
/// pseudonymized by the pipeline, on both backends.
async fn vendor_deletions_erase_the_persons_rows(f: Fixture) {
    use ats_operator::model::JobStatus;
    use ats_operator::sandbox::{self, SandboxOptions};
    use ats_operator::sync::pipeline::{self, RunInput};
    let sb = sandbox::start(
        VendorKind::Lever,
        "127.0.0.1:0".parse().unwrap(),
        SandboxOptions {
            applications: 12,
            jobs: 2,
            rate_limit: None,
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let http = reqwest::Client::new();
    let creds: serde_json::Value = http
        .get(format!("{}/_sandbox/credentials", sb.base_url))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let mut spec = support::spec::sync(
        support::spec::described(VendorKind::Lever, &creds, &["apiKey"]),
        ("tenant", "lever"),
        "p",
        vec![JobStatus::Open],
    );
    spec.write_back.dry_run = true;
    let client = ats_operator::vendors::connect(&spec.connection, None).unwrap();
    let l = f.open().await;
    let first = pipeline::run_once(client.as_ref(), &l, &spec, Utc::now(), &RunInput::default())
        .await
        .unwrap();
    assert!(first.counts.scored > 0);
    let lkey = spec.key.ledger_key();
    let gone = l
        .known_applications(&lkey)
        .await
        .unwrap()
        .into_iter()
        .min()
        .unwrap();
    assert!(!l.decisions(&lkey, &gone).await.unwrap().is_empty());
    let deleted: serde_json::Value = http
        .post(format!("{}/_sandbox/delete", sb.base_url))
        .json(&serde_json::json!({"application_ids": [gone.clone()]}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(deleted["application_ids"][0], gone.as_str());

    let second = pipeline::run_once(client.as_ref(), &l, &spec, Utc::now(), &RunInput::default())
        .await
        .unwrap();
    assert!(!second.full, "an incremental sync reads Lever's deletions");
    assert_eq!(second.counts.deleted, 1, "{:?}", second.counts);
    assert!(l.decisions(&lkey, &gone).await.unwrap().is_empty());
    let rows: Vec<_> = l.export("tenant", None).try_collect().await.unwrap();
    let erased: Vec<_> = rows.iter().filter(|r| r.erased).collect();
    assert_eq!(erased.len(), 1, "{rows:?}");
    assert!(rows.iter().all(|r| r.application_id != gone));
    assert_eq!(
        l.totals(&lkey).await.unwrap().scored,
        first.counts.scored,
        "the decision still counts"
    );
}

/// `sslmode=require` means TLS or nothing: against the test server (which
/// offers none) the connection fails, saying so, without the password.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_tls_is_required_when_the_url_asks_for_it() {
    let url = support::postgres::database_url();
    assert!(Ledger::connect_postgres(&url).await.is_ok());
    let e = Ledger::connect_postgres(&format!("{url}?sslmode=require"))
        .await
        .map(|_| ())
        .unwrap_err()
        .to_string();
    assert!(e.contains("TLS"), "{e}");
    assert!(!e.contains(support::postgres::server().password()), "{e}");
}

/// Over TLS (`sslmode=require`) the server's certificate is verified against
/// the CA that `SSL_CERT_FILE` names; without it, refused.
#[test]
fn postgres_over_tls_verifies_the_server() {
    use ats_operator::devdb::{DevPostgres, DevPostgresOptions};
    let server = DevPostgres::start(DevPostgresOptions {
        tls: true,
        ..Default::default()
    })
    .unwrap_or_else(|e| panic!("PostgreSQL with TLS: {e}"));
    let url = format!("{}?sslmode=require", server.create_database("tls").unwrap());
    let ca = server.ca_file().display().to_string();
    let args = [
        "ledger",
        "export",
        "--ledger-backend",
        "postgres",
        "--namespace",
        "ns",
    ];
    let (ok, out, err) = operator(
        &args,
        &[("ATS_LEDGER_DATABASE_URL", &url), ("SSL_CERT_FILE", &ca)],
    );
    assert!(ok, "{err}");
    assert!(out.is_empty(), "a new ledger has no decision: {out}");
    let (ok, _, err) = operator(&args, &[("ATS_LEDGER_DATABASE_URL", &url)]);
    assert!(!ok, "a certificate from an unknown CA was accepted");
    assert!(err.contains("TLS handshake"), "{err}");
    assert!(!err.contains(server.password()), "{err}");
}

// --- Webhook deliveries and recruiters' outcomes.

#[path = "ledger/webhooks.rs"]
mod webhooks;
