use chrono::TimeZone;

use super::*;
use crate::model::{Band, ComponentScores};

fn score(n: u8) -> Score {
    Score {
        score: n,
        components: ComponentScores {
            skills: Some(n),
            experience: None,
            title: Some(50),
            education: Some(90),
        },
        strengths: vec!["Has all 3 required skills: Rust, Go, SQL".into()],
        gaps: vec!["Missing nice-to-have skills: Kafka".into()],
        band: Band::GoodFit,
    }
}

fn decision(app: &str, key: &str, outcome: DecisionOutcome) -> Decision {
    Decision {
        sync_key: "ns/sync-a".into(),
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
        decided_at: Utc.with_ymd_and_hms(2026, 3, 1, 12, 0, 0).single().unwrap(),
        settings: "s1".into(),
    }
}

fn later() -> DateTime<Utc> {
    Utc::now() + chrono::Duration::days(1)
}

const SYNC: &str = "ns/sync-a";

/// An in-memory ledger holding a decision for each `(application, write key, outcome)`.
fn ledger_with(decisions: &[(&str, &str, DecisionOutcome)]) -> Ledger {
    let l = Ledger::open_in_memory().unwrap();
    for &(app, key, outcome) in decisions {
        l.record_decision(&decision(app, key, outcome)).unwrap();
    }
    l
}

#[test]
fn cursor_roundtrip_and_overwrite() {
    let l = Ledger::open_in_memory().unwrap();
    assert_eq!(l.cursor(SYNC).unwrap(), None);
    let c1 = Cursor {
        identity: "greenhouse|https://sandbox".into(),
        watermark: Utc
            .timestamp_micros(1_767_225_600_123_456)
            .single()
            .unwrap(),
        full_sync_at: Some(Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).single().unwrap()),
        decision_identity: Some("p/1|s1|false".into()),
    };
    l.set_cursor(SYNC, &c1).unwrap();
    assert_eq!(l.cursor(SYNC).unwrap(), Some(c1.clone()));
    let c2 = Cursor {
        identity: "other".into(),
        watermark: c1.watermark + chrono::Duration::hours(1),
        full_sync_at: None,
        decision_identity: None,
    };
    l.set_cursor(SYNC, &c2).unwrap();
    assert_eq!(l.cursor(SYNC).unwrap(), Some(c2));
    assert_eq!(l.cursor("ns/other").unwrap(), None);
}

#[test]
fn decision_without_mark_written_stays_pending() {
    let l = Ledger::open_in_memory().unwrap();
    let d = decision("a1", "k1", DecisionOutcome::ToWrite);
    l.record_decision(&d).unwrap();
    let ws = l.write_state(SYNC, "a1").unwrap().unwrap();
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
    assert_eq!(l.pending_writes(SYNC, later()).unwrap(), vec![ws]);
    assert_eq!(l.decisions(SYNC, "a1").unwrap(), vec![d]);
    assert_eq!(l.write_state(SYNC, "nope").unwrap(), None);
    assert_eq!(l.write_state("ns/other", "a1").unwrap(), None);
}

#[test]
fn written_failed_and_retry() {
    let l = ledger_with(&[("a1", "k1", DecisionOutcome::ToWrite)]);
    l.mark_failed(
        SYNC,
        "a1",
        "k1",
        "HTTP 503",
        Utc::now() + chrono::Duration::minutes(1),
    )
    .unwrap();
    // Not due before its backoff.
    assert!(l.pending_writes(SYNC, Utc::now()).unwrap().is_empty());
    let ws = l.write_state(SYNC, "a1").unwrap().unwrap();
    assert_eq!((ws.state, ws.attempts), (WriteStatus::Failed, 1));
    // Failed stays retryable.
    assert_eq!(l.pending_writes(SYNC, later()).unwrap().len(), 1);
    assert_eq!(
        l.totals(SYNC).unwrap(),
        Totals {
            scored: 1,
            written_back: 0,
            failed: 1,
            abandoned: 0,
        }
    );

    // A stale key does not complete the current write.
    l.mark_written(SYNC, "a1", "old-key", "70|good_fit|s1", false)
        .unwrap();
    assert_eq!(
        l.write_state(SYNC, "a1").unwrap().unwrap().state,
        WriteStatus::Failed
    );

    l.mark_written(SYNC, "a1", "k1", "70|good_fit|s1", false)
        .unwrap();
    let ws = l.write_state(SYNC, "a1").unwrap().unwrap();
    assert_eq!((ws.state, ws.attempts), (WriteStatus::Done, 2));
    assert_eq!(ws.written_mark.as_deref(), Some("70|good_fit|s1"));
    assert!(l.pending_writes(SYNC, later()).unwrap().is_empty());
    // A late failure report cannot undo a confirmed write.
    assert_eq!(
        l.mark_failed(SYNC, "a1", "k1", "timeout", Utc::now())
            .unwrap(),
        None
    );
    assert_eq!(
        l.write_state(SYNC, "a1").unwrap().unwrap().state,
        WriteStatus::Done
    );
    let t = l.totals(SYNC).unwrap();
    assert_eq!((t.scored, t.failed), (1, 0));
    assert_eq!(t.written_back, 2, "both landed writes are audited");

    // A new decision resets the state to Pending with the new key.
    let mut d2 = decision("a1", "k2", DecisionOutcome::ToWrite);
    d2.score = score(90);
    l.record_decision(&d2).unwrap();
    let ws = l.write_state(SYNC, "a1").unwrap().unwrap();
    assert_eq!(
        (ws.state, ws.attempts, ws.write_key.as_str()),
        (WriteStatus::Pending, 0, "k2")
    );
    // What the ATS has is still known, so the same score is not written again.
    assert_eq!(ws.written_mark.as_deref(), Some("70|good_fit|s1"));
    let ds = l.decisions(SYNC, "a1").unwrap();
    assert_eq!(ds.len(), 2);
    assert_eq!(ds[1].score.score, 90);
    assert_eq!(l.totals(SYNC).unwrap().scored, 2);
}

#[test]
fn dry_run_and_no_write_back_are_done() {
    let l = ledger_with(&[
        ("a1", "k1", DecisionOutcome::DryRun),
        ("a2", "k2", DecisionOutcome::NoWriteBack),
    ]);
    assert!(l.pending_writes(SYNC, later()).unwrap().is_empty());
    assert_eq!(
        l.write_state(SYNC, "a1").unwrap().unwrap().state,
        WriteStatus::Done
    );
    assert_eq!(
        l.decisions(SYNC, "a2").unwrap()[0].outcome,
        DecisionOutcome::NoWriteBack
    );
    assert_eq!(
        l.totals(SYNC).unwrap(),
        Totals {
            scored: 2,
            written_back: 0,
            failed: 0,
            abandoned: 0,
        }
    );
}

#[test]
fn syncs_are_isolated() {
    let l = ledger_with(&[("a1", "k1", DecisionOutcome::ToWrite)]);
    let mut other = decision("a1", "k9", DecisionOutcome::ToWrite);
    other.sync_key = "ns/sync-b".into();
    l.record_decision(&other).unwrap();
    l.mark_written("ns/sync-b", "a1", "k9", "m", false).unwrap();
    assert_eq!(l.pending_writes(SYNC, later()).unwrap().len(), 1);
    assert!(l.pending_writes("ns/sync-b", later()).unwrap().is_empty());
    assert_eq!(l.totals(SYNC).unwrap().written_back, 0);
    assert_eq!(l.totals("ns/sync-b").unwrap().written_back, 1);
}

#[test]
fn persists_across_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("nested/dir/ledger.db");
    let d = decision("a1", "k1", DecisionOutcome::ToWrite);
    let cursor = Cursor {
        identity: "id".into(),
        watermark: Utc.with_ymd_and_hms(2026, 1, 2, 3, 4, 5).single().unwrap(),
        full_sync_at: None,
        decision_identity: None,
    };
    {
        let l = Ledger::open(&path).unwrap();
        l.set_cursor(SYNC, &cursor).unwrap();
        l.record_decision(&d).unwrap();
        l.record_decision(&decision("a2", "k2", DecisionOutcome::ToWrite))
            .unwrap();
        l.mark_written(SYNC, "a2", "k2", "m", false).unwrap();
    }
    // Reopening runs no migration twice and finds everything.
    let l = Ledger::open(&path).unwrap();
    assert_eq!(l.cursor(SYNC).unwrap(), Some(cursor));
    assert_eq!(l.decisions(SYNC, "a1").unwrap(), vec![d]);
    let pending = l.pending_writes(SYNC, later()).unwrap();
    assert_eq!(pending.len(), 1);
    assert_eq!(pending[0].application_id, "a1");
    assert_eq!(l.totals(SYNC).unwrap().written_back, 1);
    let conn = l.conn().unwrap();
    let version: i64 = conn
        .pragma_query_value(None, "user_version", |r| r.get(0))
        .unwrap();
    assert_eq!(version, MIGRATIONS.len() as i64);
    let mode: String = conn
        .pragma_query_value(None, "journal_mode", |r| r.get(0))
        .unwrap();
    assert_eq!(mode, "wal");
}

#[test]
fn refuses_newer_schema() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ledger.db");
    {
        let conn = Connection::open(&path).unwrap();
        conn.pragma_update(None, "user_version", 99).unwrap();
    }
    match Ledger::open(&path) {
        Err(LedgerError::SchemaTooNew { found: 99, .. }) => {}
        Err(e) => panic!("unexpected error {e}"),
        Ok(_) => panic!("opened a newer schema"),
    }
}

#[test]
fn long_errors_are_truncated() {
    let l = ledger_with(&[("a1", "k1", DecisionOutcome::ToWrite)]);
    l.mark_failed(SYNC, "a1", "k1", &"x".repeat(10_000), Utc::now())
        .unwrap();
    let conn = l.conn().unwrap();
    let stored: String = conn
        .query_row("SELECT last_error FROM write_states", [], |r| r.get(0))
        .unwrap();
    assert_eq!(stored.len(), MAX_ERROR_CHARS);
}

#[test]
fn deletions_leave_tombstones_and_are_audited_once() {
    let l = ledger_with(&[
        ("a1", "k1", DecisionOutcome::ToWrite),
        ("a2", "k2", DecisionOutcome::ToWrite),
    ]);
    l.mark_written(SYNC, "a1", "k1", "70|good_fit|s1", false)
        .unwrap();
    let known = l.known_applications("ns/sync-a").unwrap();
    assert_eq!(known.len(), 2);
    let ids = vec!["a1".to_string(), "a2".to_string(), "never-seen".to_string()];
    assert_eq!(l.record_deletions("ns/sync-a", &ids, "test").unwrap(), 2);
    // A tombstone: not known, no pending write retried, but the fingerprint and
    // the write stay, so an application that comes back is not written again.
    assert!(l.known_applications("ns/sync-a").unwrap().is_empty());
    assert!(l.pending_writes("ns/sync-a", later()).unwrap().is_empty());
    let ws = l.write_state("ns/sync-a", "a1").unwrap().unwrap();
    assert!(ws.deleted);
    assert_eq!(ws.fingerprint, "fp-k1");
    assert_eq!(ws.written_mark.as_deref(), Some("70|good_fit|s1"));
    // Deleting again is not counted again.
    assert_eq!(l.record_deletions("ns/sync-a", &ids, "test").unwrap(), 0);
    l.revive("ns/sync-a", "a1").unwrap();
    assert_eq!(l.known_applications("ns/sync-a").unwrap().len(), 1);
    // A new decision for a tombstone revives it too.
    l.record_decision(&decision("a2", "k3", DecisionOutcome::ToWrite))
        .unwrap();
    assert!(!l.write_state("ns/sync-a", "a2").unwrap().unwrap().deleted);
}

#[test]
fn permanent_failures_are_abandoned_and_changed_settings_supersede() {
    let l = ledger_with(&[("a1", "k1", DecisionOutcome::ToWrite)]);
    for n in 1..=3 {
        let attempts = l
            .mark_failed(SYNC, "a1", "k1", "HTTP 404", Utc::now())
            .unwrap();
        assert_eq!(attempts, Some(n));
    }
    l.mark_abandoned(SYNC, "a1", "k1", "HTTP 404").unwrap();
    let ws = l.write_state(SYNC, "a1").unwrap().unwrap();
    assert_eq!((ws.state, ws.attempts), (WriteStatus::Abandoned, 4));
    assert!(l.pending_writes(SYNC, later()).unwrap().is_empty());
    assert_eq!(l.totals(SYNC).unwrap().abandoned, 1);

    l.record_decision(&decision("a2", "k2", DecisionOutcome::ToWrite))
        .unwrap();
    l.mark_superseded(SYNC, "a2", "k2", "settings changed")
        .unwrap();
    assert_eq!(
        l.write_state(SYNC, "a2").unwrap().unwrap().state,
        WriteStatus::Superseded
    );
    assert!(l.pending_writes(SYNC, later()).unwrap().is_empty());
}

#[test]
fn commits_are_synced_to_disk() {
    let dir = tempfile::tempdir().unwrap();
    let l = Ledger::open(&dir.path().join("ledger.db")).unwrap();
    let conn = l.conn().unwrap();
    // 2 = FULL: the WAL is synced on every commit (power-cut safe).
    let sync: i64 = conn
        .pragma_query_value(None, "synchronous", |r| r.get(0))
        .unwrap();
    assert_eq!(sync, 2);
}
