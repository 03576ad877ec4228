//! A targeted run: what a webhook asks for. The applications it names are
//! fetched as they are now ([`AtsClient::pull_applications`]), scored and
//! written back through the same ledger and fence as a scheduled run
//! ([`pipeline`]'s batch processing and writes), so exactly once holds across
//! both: a write is recorded Pending before it is sent, carries its marker,
//! and an application whose decision fingerprint did not change is not
//! scored or written again.
//!
//! A targeted run is not a pull: it leaves the cursor, the watermark, the
//! checkpoint and the full sync's deletion guard alone (it marks nothing
//! seen). It does record the versions of what it processed, so the next
//! scheduled run does not fetch those details again.
//!
//! Assumption: a scheduled run and a targeted run of the same sync never run
//! at the same time; the sync's worker serializes them. Both read the write
//! states, decide, then write: side by side, both could decide the same
//! change before either records it, and write it twice.

use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::{DateTime, Utc};
use tracing::info;

use super::SyncSpec;
use super::decide;
use super::fence::Lost;
use super::pipeline::{
    BatchState, Plan, Processed, RunInput, RunReport, SyncError, decide_batch, recover_unfinished,
    write_all,
};
use crate::ledger::{Attempt, DecisionOutcome, Ledger, Settlement};
use crate::vendors::{AtsClient, batches};

/// What a targeted run did with one application, so the caller can finish
/// the delivery that named it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Its inputs are as last decided: nothing scored, nothing written.
    Unchanged,
    /// Scored and recorded; nothing to write (the ATS already shows this
    /// score and band, a dry run, or write-back `none`).
    Scored,
    /// Written back; `adopted`: the ATS already had it (found by its marker),
    /// nothing was sent.
    Written { adopted: bool },
    /// Scored; the write failed. The ledger holds it and a later run retries
    /// it (`abandoned`: given up after repeated permanent rejections), so the
    /// delivery is done.
    WriteFailed { abandoned: bool },
    /// Its job is outside the sync's scope, or it has none: nothing done.
    Skipped,
    /// Gone from the ATS, or anonymized: erased from the ledger.
    Deleted,
    /// Not processed (the vendor's answer lacked its candidate): the delivery
    /// should be retried.
    Incomplete,
}

/// A targeted run's report.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct TargetedReport {
    /// Every requested id (without repeats), with what became of it.
    pub outcomes: BTreeMap<String, Outcome>,
    /// Counts as a scheduled run counts them (for status and metrics); no
    /// watermark, never full.
    pub run: RunReport,
}

/// Fetches applications `ids`, scores what changed, writes back exactly once
/// and records erasures for those the vendor no longer has. Pending writes
/// of these applications left by an earlier run (a crash between decision
/// and write) are finished first, asking the ATS whether they landed. A
/// vendor error fails the run (what earlier chunks of [`batches::BY_ID`]
/// ids decided and wrote stays recorded, so a retry writes none of it again);
/// failed writes do not. The caller must not run a scheduled run of the same
/// sync at the same time (see the module's documentation).
pub async fn run_for_applications(
    client: &dyn AtsClient,
    ledger: &Ledger,
    spec: &SyncSpec,
    now: DateTime<Utc>,
    input: &RunInput,
    ids: &[String],
) -> Result<TargetedReport, SyncError> {
    let settings = decide::write_settings(spec);
    let wanted: HashSet<String> = ids.iter().cloned().collect();
    let mut report = RunReport {
        settlements: Some(Vec::new()),
        ..RunReport::default()
    };

    // An emergency stop holds back pending writes too.
    if !spec.write_back.dry_run {
        recover_unfinished(
            client,
            ledger,
            spec,
            &settings,
            now,
            input,
            &mut report,
            Some(&wanted),
        )
        .await?;
    }
    let recovered = report.settlements.replace(Vec::new()).unwrap_or_default();

    // A chunk at a time, so a long list holds one chunk's resumes at once.
    let mut state = BatchState::new(spec, &settings, input, true);
    let (mut out_of_scope, mut deleted) = (Vec::new(), Vec::new());
    for chunk in batches::id_chunks(ids) {
        let changes = tokio::select! {
            c = client.pull_applications(&chunk, &spec.scope) => c?,
            _ = input.fence.until_stopped() => return Err(Lost.into()),
        };
        info!(
            requested = chunk.len(),
            applications = changes.applications.len(),
            deleted = changes.deleted_application_ids.len(),
            out_of_scope = changes.out_of_scope_application_ids.len(),
            "fetched applications by id"
        );
        let to_write = decide_batch(
            ledger,
            spec,
            &changes,
            now,
            &mut state,
            &mut Plan::targeted(now),
            &mut report,
        )
        .await?;
        // The records are not needed while writing: the writes hold what they send.
        out_of_scope.extend(changes.out_of_scope_application_ids);
        deleted.extend(changes.deleted_application_ids);
        drop(changes.candidates);
        drop(changes.applications);
        write_all(client, ledger, spec, to_write, now, input, &mut report).await?;
    }

    let written = report.settlements.take().unwrap_or_default();
    let outcomes = outcomes(
        ids,
        state.processed.take().unwrap_or_default(),
        &out_of_scope,
        &deleted,
        &recovered,
        &written,
    );
    Ok(TargetedReport {
        outcomes,
        run: report,
    })
}

/// Pure: each requested id's outcome. What the fetch found (deleted, out of
/// scope, not processed) stands; a write of this run says more than its
/// decision; a recovered write of an earlier decision says more than
/// "unchanged" or "scored" (the delivery's change reached the ATS by it).
/// An id nothing is known of is [`Outcome::Incomplete`].
fn outcomes(
    ids: &[String],
    processed: HashMap<String, Processed>,
    out_of_scope: &[String],
    deleted: &[String],
    recovered: &[Settlement],
    written: &[Settlement],
) -> BTreeMap<String, Outcome> {
    let mut out: BTreeMap<String, Outcome> = processed
        .into_iter()
        .map(|(id, p)| {
            let o = match p {
                Processed::Unchanged => Outcome::Unchanged,
                Processed::Decided(DecisionOutcome::ToWrite) => Outcome::Incomplete,
                Processed::Decided(_) => Outcome::Scored,
                Processed::CandidateMissing => Outcome::Incomplete,
            };
            (id, o)
        })
        .collect();
    for s in written {
        out.insert(s.application_id.clone(), of_write(&s.result));
    }
    for s in recovered {
        let o = out
            .entry(s.application_id.clone())
            .or_insert(Outcome::Unchanged);
        if matches!(o, Outcome::Unchanged | Outcome::Scored) {
            *o = of_write(&s.result);
        }
    }
    for id in out_of_scope {
        out.insert(id.clone(), Outcome::Skipped);
    }
    for id in deleted {
        out.insert(id.clone(), Outcome::Deleted);
    }
    let asked: HashSet<&str> = ids.iter().map(String::as_str).collect();
    out.retain(|id, _| asked.contains(id.as_str()));
    for id in ids {
        out.entry(id.clone()).or_insert(Outcome::Incomplete);
    }
    out
}

fn of_write(a: &Attempt) -> Outcome {
    match a {
        Attempt::Written { adopted, .. } => Outcome::Written { adopted: *adopted },
        Attempt::Failed { .. } => Outcome::WriteFailed { abandoned: false },
        Attempt::Abandoned { .. } => Outcome::WriteFailed { abandoned: true },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settled(id: &str, result: Attempt) -> Settlement {
        Settlement {
            application_id: id.into(),
            write_key: "k".into(),
            result,
        }
    }

    fn written(id: &str) -> Settlement {
        settled(
            id,
            Attempt::Written {
                mark: "m".into(),
                adopted: false,
            },
        )
    }

    #[test]
    fn every_requested_id_gets_one_outcome() {
        let ids: Vec<String> = ["a", "b", "c", "d", "e", "f", "g", "h"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let processed = HashMap::from([
            ("a".to_string(), Processed::Unchanged),
            (
                "b".to_string(),
                Processed::Decided(DecisionOutcome::NoChange),
            ),
            (
                "c".to_string(),
                Processed::Decided(DecisionOutcome::ToWrite),
            ),
            (
                "d".to_string(),
                Processed::Decided(DecisionOutcome::ToWrite),
            ),
            ("e".to_string(), Processed::CandidateMissing),
            // Recovered before, unchanged now: the recovery wrote the change.
            ("h".to_string(), Processed::Unchanged),
        ]);
        let failed = settled(
            "d",
            Attempt::Failed {
                error: "x".into(),
                retry_at: Utc::now(),
            },
        );
        let o = outcomes(
            &ids,
            processed,
            &["f".to_string()],
            &["g".to_string()],
            &[written("h"), written("e"), written("zz")],
            &[written("c"), failed],
        );
        use Outcome::*;
        let expected = [
            ("a", Unchanged),
            ("b", Scored),
            ("c", Written { adopted: false }),
            ("d", WriteFailed { abandoned: false }),
            ("e", Incomplete),
            ("f", Skipped),
            ("g", Deleted),
            ("h", Written { adopted: false }),
        ];
        assert_eq!(
            o,
            expected
                .iter()
                .map(|(k, v)| (k.to_string(), *v))
                .collect::<BTreeMap<_, _>>()
        );
        // An id nothing came back for is not lost.
        let o = outcomes(&["x".to_string()], HashMap::new(), &[], &[], &[], &[]);
        assert_eq!(o["x"], Incomplete);
    }
}
