//! Webhook deliveries and recruiters' outcomes in the ledger, the same tests
//! on both backends (included by `tests/ledger.rs`, whose fixture they use).

use super::*;
use ats_operator::ledger::{Acceptance, DeliveryResult, OutcomeRecord, PendingDelivery};
use ats_operator::webhooks::{Delivery, Event, EventKind, Outcome, OutcomeCategory};
use chrono::SubsecRound;

on_both_backends!(
    accept_tells_new_duplicate_and_replayed,
    accept_fans_out_to_every_sync_of_the_connection,
    pending_deliveries_follow_each_applications_events,
    the_queue_of_a_sync_is_bounded,
    finish_counts_once_and_first_result_stands,
    outcomes_are_recorded_once_beside_the_score,
    erasure_pseudonymizes_deliveries_and_outcomes,
    pending_deliveries_survive_a_restart,
    retention_prunes_processed_deliveries_and_old_outcomes,
    export_shows_the_recruiters_decision_beside_the_score,
    replicas_accepting_at_once_record_each_delivery_once,
);

const OTHER: &str = "ns/sync-b";

/// Ids that cannot occur inside a pseudonym (`anon-` and hex).
const APP: &str = "gh-app-1";
const CANDIDATE: &str = "gh-cand-9";

fn t(minute: i64) -> DateTime<Utc> {
    at(2026, 3, 1) + chrono::Duration::minutes(minute)
}

fn delivery(id: &str, apps: &[&str], occurred_at: Option<DateTime<Utc>>) -> Delivery {
    Delivery {
        id: id.into(),
        vendor: VendorKind::Greenhouse,
        body_sha256: format!("sha-{id}"),
        event: Event {
            name: "candidate_stage_change".into(),
            kind: EventKind::ApplicationChanged,
            application_ids: apps.iter().map(|a| a.to_string()).collect(),
            candidate_id: Some(CANDIDATE.into()),
            occurred_at,
            outcome: None,
        },
        // At the ledger's precision (microseconds), so it reads back equal.
        received_at: Utc::now().trunc_subsecs(6),
    }
}

fn syncs(keys: &[&str]) -> Vec<String> {
    keys.iter().map(|k| k.to_string()).collect()
}

fn ids(pending: &[PendingDelivery]) -> Vec<String> {
    pending.iter().map(|p| p.delivery.id.clone()).collect()
}

fn outcome(category: OutcomeCategory, stage: &str) -> Outcome {
    Outcome {
        category,
        stage: Some(stage.into()),
        reason_category: (category == OutcomeCategory::Rejected).then(|| "withdrew".into()),
        reason_id: None,
    }
}

async fn accept_tells_new_duplicate_and_replayed(f: Fixture) {
    let l = f.open().await;
    let d = delivery("ev-1", &[APP], Some(t(0)));
    let one = syncs(&[SYNC]);
    assert_eq!(
        l.accept_delivery(&one, &d, 100).await.unwrap(),
        Acceptance::New
    );
    // The vendor's retry, hours later: same id, same body.
    let mut retry = d.clone();
    retry.received_at = d.received_at + chrono::Duration::hours(3);
    assert_eq!(
        l.accept_delivery(&one, &retry, 100).await.unwrap(),
        Acceptance::Duplicate
    );
    // A replayed token with another body: refused, nothing recorded.
    let mut replayed = d.clone();
    replayed.body_sha256 = "sha-forged".into();
    replayed.event.application_ids = vec!["gh-app-2".into()];
    assert_eq!(
        l.accept_delivery(&one, &replayed, 100).await.unwrap(),
        Acceptance::Replayed
    );
    let pending = l.pending_deliveries(SYNC, 10).await.unwrap();
    assert_eq!(pending.len(), 1);
    assert_eq!(pending[0].delivery, d, "read back as recorded");
    assert!(!pending[0].erased());
    let counts = l.delivery_counts(SYNC).await.unwrap();
    assert_eq!(
        (
            counts.accepted,
            counts.duplicates,
            counts.pending,
            counts.processed
        ),
        (1, 1, 1, 0)
    );
    assert_eq!(counts.last_received_at, Some(retry.received_at));
    // A connection without syncs is the caller's to answer.
    assert!(matches!(
        l.accept_delivery(&[], &d, 100).await,
        Err(LedgerError::BadArgument(_))
    ));
}

async fn accept_fans_out_to_every_sync_of_the_connection(f: Fixture) {
    let l = f.open().await;
    let d = delivery("ev-1", &[APP], None);
    assert_eq!(
        l.accept_delivery(&syncs(&[SYNC, OTHER, SYNC]), &d, 100)
            .await
            .unwrap(),
        Acceptance::New
    );
    for s in [SYNC, OTHER] {
        assert_eq!(ids(&l.pending_deliveries(s, 10).await.unwrap()), ["ev-1"]);
        assert_eq!(l.delivery_counts(s).await.unwrap().accepted, 1);
    }
    // A sync added to the connection since gets the retry; the others count
    // a duplicate.
    let third = "ns/sync-c";
    assert_eq!(
        l.accept_delivery(&syncs(&[SYNC, OTHER, third]), &d, 100)
            .await
            .unwrap(),
        Acceptance::New
    );
    assert_eq!(l.delivery_counts(third).await.unwrap().accepted, 1);
    assert_eq!(l.delivery_counts(SYNC).await.unwrap().duplicates, 1);
    // Replayed for one sync: nothing for any, not even a new one.
    let mut replayed = delivery("ev-1", &[APP], None);
    replayed.body_sha256 = "sha-other".into();
    let fourth = "ns/sync-d";
    assert_eq!(
        l.accept_delivery(&syncs(&[fourth, SYNC]), &replayed, 100)
            .await
            .unwrap(),
        Acceptance::Replayed
    );
    assert!(l.pending_deliveries(fourth, 10).await.unwrap().is_empty());
    assert_eq!(l.delivery_counts(fourth).await.unwrap(), Default::default());
    assert_eq!(l.delivery_counts(SYNC).await.unwrap().duplicates, 1);
}

async fn pending_deliveries_follow_each_applications_events(f: Fixture) {
    let l = f.open().await;
    let one = syncs(&[SYNC]);
    // Arrival order; the vendor's times say otherwise for gh-app-1.
    for d in [
        delivery("a-third", &[APP], Some(t(3))),
        delivery("b-only", &["gh-app-2"], Some(t(2))),
        delivery("a-first", &[APP], Some(t(1))),
        delivery("no-app", &[], None),
        delivery("a-second", &[APP], Some(t(2))),
        delivery("b-untimed", &["gh-app-2"], None),
    ] {
        assert_eq!(
            l.accept_delivery(&one, &d, 100).await.unwrap(),
            Acceptance::New
        );
    }
    let pending = l.pending_deliveries(SYNC, 100).await.unwrap();
    assert_eq!(
        ids(&pending),
        [
            "a-first",
            "a-second",
            "a-third",
            "b-only",
            // Without a time of its own: when it arrived (now, after t(2)).
            "b-untimed",
            "no-app"
        ]
    );
    // Sequence numbers are the arrival order, and stable.
    let seq = |id: &str| pending.iter().find(|p| p.delivery.id == id).unwrap().seq;
    assert!(seq("a-third") < seq("b-only") && seq("b-only") < seq("a-first"));
    assert_eq!(
        ids(&l.pending_deliveries(SYNC, 2).await.unwrap()),
        ["a-first", "a-second"]
    );
    assert!(l.pending_deliveries(SYNC, 0).await.unwrap().is_empty());
    // gh-app-1 done: gh-app-2's deliveries come first now.
    for id in ["a-first", "a-second", "a-third"] {
        l.finish_delivery(SYNC, id, Utc::now(), DeliveryResult::Processed)
            .await
            .unwrap();
    }
    let again = l.pending_deliveries(SYNC, 100).await.unwrap();
    assert_eq!(ids(&again), ["b-only", "b-untimed", "no-app"]);
    assert_eq!(again[0].seq, seq("b-only"));
}

async fn the_queue_of_a_sync_is_bounded(f: Fixture) {
    let l = f.open().await;
    let one = syncs(&[SYNC]);
    for i in 0..3 {
        let d = delivery(&format!("ev-{i}"), &[APP], None);
        assert_eq!(
            l.accept_delivery(&one, &d, 3).await.unwrap(),
            Acceptance::New
        );
    }
    let fourth = delivery("ev-3", &[APP], None);
    match l.accept_delivery(&one, &fourth, 3).await {
        Err(LedgerError::QueueFull {
            sync_key,
            max_pending: 3,
        }) => assert_eq!(sync_key, SYNC),
        other => panic!("{other:?}"),
    }
    // A retry of what is held is still answered as such.
    assert_eq!(
        l.accept_delivery(&one, &delivery("ev-0", &[APP], None), 3)
            .await
            .unwrap(),
        Acceptance::Duplicate
    );
    // One full sync refuses the delivery for all: the retry reaches each.
    let both = syncs(&[SYNC, OTHER]);
    assert!(matches!(
        l.accept_delivery(&both, &fourth, 3).await,
        Err(LedgerError::QueueFull { .. })
    ));
    assert!(l.pending_deliveries(OTHER, 10).await.unwrap().is_empty());
    assert_eq!(l.delivery_counts(SYNC).await.unwrap().pending, 3);
    // Processing makes room.
    l.finish_delivery(SYNC, "ev-0", Utc::now(), DeliveryResult::Processed)
        .await
        .unwrap();
    assert_eq!(
        l.accept_delivery(&both, &fourth, 3).await.unwrap(),
        Acceptance::New
    );
    assert_eq!(l.delivery_counts(OTHER).await.unwrap().pending, 1);
    assert!(matches!(
        l.accept_delivery(&one, &delivery("ev-9", &[APP], None), 0)
            .await,
        Err(LedgerError::QueueFull { .. })
    ));
}

async fn finish_counts_once_and_first_result_stands(f: Fixture) {
    let l = f.open().await;
    let one = syncs(&[SYNC]);
    for id in ["ev-1", "ev-2", "ev-3"] {
        l.accept_delivery(&one, &delivery(id, &[APP], None), 100)
            .await
            .unwrap();
    }
    let done = |id: &'static str, r| {
        let l = &l;
        async move { l.finish_delivery(SYNC, id, Utc::now(), r).await.unwrap() }
    };
    assert!(done("ev-1", DeliveryResult::Processed).await);
    assert!(
        !done("ev-1", DeliveryResult::Skipped("stale")).await,
        "finished before"
    );
    assert!(done("ev-2", DeliveryResult::Skipped("outOfScope")).await);
    assert!(!done("unknown", DeliveryResult::Processed).await);
    // Another sync's finish does not touch this one's.
    assert!(
        !l.finish_delivery(OTHER, "ev-3", Utc::now(), DeliveryResult::Processed)
            .await
            .unwrap()
    );
    let counts = l.delivery_counts(SYNC).await.unwrap();
    assert_eq!(
        (
            counts.accepted,
            counts.processed,
            counts.skipped,
            counts.pending
        ),
        (3, 1, 1, 1)
    );
    assert_eq!(
        ids(&l.pending_deliveries(SYNC, 10).await.unwrap()),
        ["ev-3"]
    );
    let mut results = f
        .column("SELECT result || ':' || COALESCE(skip_reason, '') FROM deliveries WHERE finished_at IS NOT NULL")
        .await;
    results.sort();
    assert_eq!(
        results,
        [
            Some("processed:".to_string()),
            Some("skipped:outOfScope".to_string())
        ]
    );
    assert_eq!(
        l.delivery_counts("ns/none").await.unwrap(),
        Default::default()
    );
}

async fn outcomes_are_recorded_once_beside_the_score(f: Fixture) {
    let l = f.open().await;
    let mut first = decision(APP, "k1", DecisionOutcome::ToWrite);
    first.decided_at = t(0);
    let mut second = decision(APP, "k2", DecisionOutcome::ToWrite);
    second.decided_at = t(10);
    second.score = score(80);
    let mut unrelated = decision("gh-app-2", "k3", DecisionOutcome::ToWrite);
    unrelated.decided_at = t(5);
    let mut outside = decision("gh-app-3", "k4", DecisionOutcome::ToWrite);
    outside.decided_at = t(120);
    l.record_decisions(&[first, second, unrelated, outside])
        .await
        .unwrap();
    // The rejection (later, by the vendor's clock) arrives first.
    let rejected = outcome(OutcomeCategory::Rejected, "Phone Screen");
    let advanced = outcome(OutcomeCategory::Advanced, "Phone Screen");
    assert!(
        l.record_outcome(SYNC, APP, "ev-9", &rejected, Some(t(30)))
            .await
            .unwrap()
    );
    assert!(
        l.record_outcome(SYNC, APP, "ev-8", &advanced, Some(t(20)))
            .await
            .unwrap()
    );
    assert!(
        !l.record_outcome(SYNC, APP, "ev-9", &rejected, Some(t(30)))
            .await
            .unwrap(),
        "a retried delivery is recorded once"
    );
    let recorded: Vec<OutcomeRecord> = l.outcomes(SYNC, APP).await.unwrap();
    assert_eq!(
        recorded
            .iter()
            .map(|o| o.delivery_id.as_str())
            .collect::<Vec<_>>(),
        ["ev-8", "ev-9"],
        "in the vendor's order"
    );
    assert_eq!(recorded[1].outcome, rejected);
    assert_eq!(recorded[1].occurred_at, Some(t(30)));
    assert!(l.outcomes(OTHER, APP).await.unwrap().is_empty());

    let rows = l
        .decisions_with_outcomes("ns", &syncs(&[SYNC]), t(0), t(60))
        .await
        .unwrap();
    assert_eq!(
        rows.len(),
        2,
        "one per application decided in the period: {rows:?}"
    );
    let app = rows.iter().find(|r| r.application_id == APP).unwrap();
    assert_eq!(
        (app.score, app.band.as_str()),
        (80, "good_fit"),
        "its latest decision"
    );
    assert_eq!(app.decided_at, t(10));
    assert!(!app.erased);
    let latest = app.outcome.as_ref().unwrap();
    assert_eq!(
        (latest.outcome.category, latest.delivery_id.as_str()),
        (OutcomeCategory::Rejected, "ev-9")
    );
    let other = rows
        .iter()
        .find(|r| r.application_id == "gh-app-2")
        .unwrap();
    assert_eq!(other.outcome, None, "no recruiter decision yet");
    // The period's end is excluded; another tenant's key finds nothing.
    assert!(
        l.decisions_with_outcomes("ns", &syncs(&[SYNC]), t(11), t(120))
            .await
            .unwrap()
            .is_empty()
    );
    assert!(
        l.decisions_with_outcomes("other", &syncs(&[SYNC]), t(0), t(60))
            .await
            .unwrap()
            .is_empty()
    );
}

async fn erasure_pseudonymizes_deliveries_and_outcomes(f: Fixture) {
    let l = f.open().await;
    let one = syncs(&[SYNC]);
    l.record_decision(&decision(APP, "k1", DecisionOutcome::ToWrite))
        .await
        .unwrap();
    // A stage change of the application, then the candidate's deletion
    // naming all their applications; one of them was never scored.
    let mut change = delivery("ev-1", &[APP], Some(t(1)));
    change.event.kind = EventKind::Outcome;
    change.event.outcome = Some(outcome(OutcomeCategory::Rejected, "Offer"));
    let mut deleted = delivery("ev-2", &["gh-app-3", APP], Some(t(2)));
    deleted.event.kind = EventKind::Erased;
    let mut kept = delivery("ev-3", &["gh-app-2"], Some(t(3)));
    kept.event.candidate_id = Some("gh-cand-7".into());
    for d in [&change, &deleted, &kept] {
        l.accept_delivery(&one, d, 100).await.unwrap();
    }
    let rejected = outcome(OutcomeCategory::Rejected, "Offer");
    l.record_outcome(SYNC, APP, "ev-1", &rejected, Some(t(1)))
        .await
        .unwrap();
    l.record_outcome(SYNC, "gh-app-3", "ev-1b", &rejected, None)
        .await
        .unwrap();
    l.finish_delivery(SYNC, "ev-1", Utc::now(), DeliveryResult::Processed)
        .await
        .unwrap();

    let erased = vec![APP.to_string(), "gh-app-3".to_string()];
    l.record_erasures(SYNC, &erased, "delete_candidate webhook")
        .await
        .unwrap();

    for (table, column) in [
        ("deliveries", "event"),
        ("deliveries", "application_id"),
        ("delivery_applications", "application_id"),
        ("outcomes", "application_id"),
    ] {
        for v in f.column(&format!("SELECT {column} FROM {table}")).await {
            let v = v.unwrap_or_default();
            for id in [APP, "gh-app-3", CANDIDATE] {
                assert!(!v.contains(id), "{table}.{column} still holds {id:?}: {v}");
            }
        }
    }
    // The other application's delivery is as it was.
    let pending = l.pending_deliveries(SYNC, 10).await.unwrap();
    assert_eq!(ids(&pending), ["ev-2", "ev-3"]);
    assert!(
        pending[0].erased(),
        "nothing to fetch for an erased application"
    );
    assert!(!pending[1].erased());
    assert_eq!(pending[1].delivery.event.application_ids, ["gh-app-2"]);
    // Outcomes stay, pseudonymous, for the aggregate audit.
    assert!(l.outcomes(SYNC, APP).await.unwrap().is_empty());
    let rows = l
        .decisions_with_outcomes("ns", &one, at(2026, 1, 1), at(2026, 12, 1))
        .await
        .unwrap();
    assert_eq!(rows.len(), 1);
    assert!(rows[0].erased && rows[0].application_id.starts_with("anon-"));
    assert_eq!(
        rows[0].outcome.as_ref().map(|o| o.outcome.clone()),
        Some(rejected.clone())
    );
    // Retries of erased deliveries are still duplicates; erasing again is harmless.
    assert_eq!(
        l.accept_delivery(&one, &change, 100).await.unwrap(),
        Acceptance::Duplicate
    );
    l.record_outcome(SYNC, APP, "ev-1", &rejected, Some(t(1)))
        .await
        .unwrap();
    l.record_erasures(SYNC, &erased, "again").await.unwrap();
    assert!(l.outcomes(SYNC, APP).await.unwrap().is_empty());
    assert_eq!(
        f.column("SELECT application_id FROM outcomes").await.len(),
        2,
        "the re-recorded outcome gave way to its pseudonymous twin"
    );
}

async fn pending_deliveries_survive_a_restart(f: Fixture) {
    let d = delivery("ev-1", &[APP], Some(t(1)));
    {
        let l = f.open().await;
        // The 202 goes out after this returns; then the operator stops.
        l.accept_delivery(&syncs(&[SYNC]), &d, 100).await.unwrap();
    }
    let l = f.open().await;
    let pending = l.pending_deliveries(SYNC, 10).await.unwrap();
    assert_eq!(pending.len(), 1);
    assert_eq!(pending[0].delivery, d);
    assert_eq!(l.delivery_counts(SYNC).await.unwrap().pending, 1);
    assert_eq!(
        l.accept_delivery(&syncs(&[SYNC]), &d, 100).await.unwrap(),
        Acceptance::Duplicate
    );
}

async fn retention_prunes_processed_deliveries_and_old_outcomes(f: Fixture) {
    let l = f.open().await;
    let one = syncs(&[SYNC]);
    for id in ["old-done", "old-skipped", "old-pending", "new-done"] {
        l.accept_delivery(&one, &delivery(id, &[APP, "gh-app-2"], None), 100)
            .await
            .unwrap();
    }
    for (id, when) in [("old-done", at(2020, 1, 1)), ("new-done", Utc::now())] {
        l.finish_delivery(SYNC, id, when, DeliveryResult::Processed)
            .await
            .unwrap();
    }
    l.finish_delivery(
        SYNC,
        "old-skipped",
        at(2020, 1, 2),
        DeliveryResult::Skipped("stale"),
    )
    .await
    .unwrap();
    let rejected = outcome(OutcomeCategory::Rejected, "Offer");
    l.record_outcome(SYNC, APP, "old-done", &rejected, Some(at(2020, 1, 1)))
        .await
        .unwrap();
    l.record_outcome(SYNC, APP, "new-done", &rejected, None)
        .await
        .unwrap();
    f.execute(match f.backend {
        Backend::Sqlite => {
            "UPDATE outcomes SET recorded_at = '2020-01-01T12:00:00.000000Z' WHERE delivery_id = 'old-done';
             UPDATE deliveries SET received_at = '2020-01-01T12:00:00.000000Z' WHERE delivery_id = 'old-pending';"
        }
        Backend::Postgres => {
            "UPDATE outcomes SET recorded_at = '2020-01-01T12:00:00Z' WHERE delivery_id = 'old-done';
             UPDATE deliveries SET received_at = '2020-01-01T12:00:00Z' WHERE delivery_id = 'old-pending';"
        }
    })
    .await;
    let before = l.delivery_counts(SYNC).await.unwrap();
    let cutoff = ats_operator::ledger::retention::cutoff(at(2026, 3, 1), 1095).unwrap();
    let pruned = l.prune(cutoff).await.unwrap();
    assert_eq!((pruned.deliveries, pruned.outcomes), (2, 1));
    // However old, an unprocessed delivery stays.
    assert_eq!(
        ids(&l.pending_deliveries(SYNC, 10).await.unwrap()),
        ["old-pending"]
    );
    assert_eq!(
        f.column("SELECT application_id FROM delivery_applications")
            .await
            .len(),
        4,
        "the pruned deliveries' rows went with them"
    );
    assert_eq!(l.outcomes(SYNC, APP).await.unwrap().len(), 1);
    assert_eq!(
        l.delivery_counts(SYNC).await.unwrap(),
        before,
        "counts are since the start"
    );
    assert_eq!(l.prune(cutoff).await.unwrap(), Default::default());
    // A pruned delivery's id is free again: the vendor stopped retrying years ago.
    assert_eq!(
        l.accept_delivery(&one, &delivery("old-done", &[APP], None), 100)
            .await
            .unwrap(),
        Acceptance::New
    );
}

async fn export_shows_the_recruiters_decision_beside_the_score(f: Fixture) {
    let l = f.open().await;
    let mut d1 = decision(APP, "k1", DecisionOutcome::ToWrite);
    d1.decided_at = t(0);
    let mut d2 = decision("gh-app-2", "k2", DecisionOutcome::ToWrite);
    d2.decided_at = t(1);
    l.record_decisions(&[d1, d2]).await.unwrap();
    l.record_outcome(
        SYNC,
        APP,
        "ev-1",
        &outcome(OutcomeCategory::Advanced, "Onsite"),
        Some(t(5)),
    )
    .await
    .unwrap();
    l.record_outcome(
        SYNC,
        APP,
        "ev-2",
        &outcome(OutcomeCategory::Rejected, "Onsite"),
        None,
    )
    .await
    .unwrap();
    let rows: Vec<_> = l.export("ns", None).try_collect().await.unwrap();
    assert_eq!(rows.len(), 2, "one row per decision, as before");
    assert_eq!(
        (
            rows[0].score,
            rows[0].recruiter_decision.as_deref(),
            rows[0].recruiter_stage.as_deref(),
            rows[0].recruiter_reason.as_deref(),
        ),
        (70, Some("rejected"), Some("Onsite"), Some("withdrew")),
        "the latest: recorded now, after the vendor's t(5)"
    );
    assert!(rows[0].recruiter_decided_at.unwrap() > t(5));
    assert_eq!(rows[1].recruiter_decision, None);
    let mut out = Vec::new();
    ats_operator::ledger::export::write_rows(l.export("ns", None), ExportFormat::Csv, &mut out)
        .await
        .unwrap();
    let text = String::from_utf8(out).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert!(lines[0].ends_with(
        ",erased,recruiter_decision,recruiter_stage,recruiter_reason,recruiter_decided_at"
    ));
    assert!(
        lines[1].contains(",false,rejected,Onsite,withdrew,2"),
        "{}",
        lines[1]
    );
    assert!(lines[2].ends_with(",false,,,,"), "{}", lines[2]);
    assert!(!text.contains("c-gh-app-1"), "no candidate id");
}

/// Two replicas (a rolling update) accept the same deliveries at the same
/// time: each is recorded once; and distinct deliveries past the bound are
/// refused, never queued beyond it.
async fn replicas_accepting_at_once_record_each_delivery_once(f: Fixture) {
    let (a, b) = tokio::join!(f.open(), f.open());
    let (a, b) = (std::sync::Arc::new(a), std::sync::Arc::new(b));
    let deliveries: Vec<Delivery> = (0..60)
        .map(|i| delivery(&format!("ev-{i}"), &[&format!("gh-app-{i}")], None))
        .collect();
    let run = |l: std::sync::Arc<Ledger>, ds: Vec<Delivery>, max: u32| {
        tokio::spawn(async move {
            let mut out = Vec::new();
            for d in &ds {
                out.push(l.accept_delivery(&syncs(&[SYNC, OTHER]), d, max).await);
            }
            out
        })
    };
    let (ra, rb) = tokio::join!(
        run(a.clone(), deliveries.clone(), 1_000),
        run(b.clone(), deliveries.clone(), 1_000)
    );
    let all: Vec<Acceptance> = ra
        .unwrap()
        .into_iter()
        .chain(rb.unwrap())
        .map(|r| r.unwrap())
        .collect();
    let new = all.iter().filter(|r| **r == Acceptance::New).count();
    assert_eq!(new, 60, "{all:?}");
    assert_eq!(all.len() - new, 60);
    for s in [SYNC, OTHER] {
        let c = a.delivery_counts(s).await.unwrap();
        assert_eq!((c.accepted, c.duplicates, c.pending), (60, 60, 60));
        assert_eq!(b.pending_deliveries(s, 1_000).await.unwrap().len(), 60);
    }
    // Distinct deliveries from both past a bound of 80: exactly 20 more fit.
    let more = |from: usize| -> Vec<Delivery> {
        (from..from + 30)
            .map(|i| delivery(&format!("ev-{i}"), &[APP], None))
            .collect()
    };
    let (ra, rb) = tokio::join!(run(a.clone(), more(100), 80), run(b.clone(), more(200), 80));
    let results: Vec<_> = ra.unwrap().into_iter().chain(rb.unwrap()).collect();
    let accepted = results
        .iter()
        .filter(|r| matches!(r, Ok(Acceptance::New)))
        .count();
    let full = results
        .iter()
        .filter(|r| matches!(r, Err(LedgerError::QueueFull { .. })))
        .count();
    assert_eq!((accepted, full), (20, 40), "{results:?}");
    assert_eq!(a.delivery_counts(SYNC).await.unwrap().pending, 80);
    assert_eq!(a.pending_deliveries(SYNC, 1_000).await.unwrap().len(), 80);
}
