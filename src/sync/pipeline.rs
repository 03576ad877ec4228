//! One sync run: recover unfinished writes, pull what changed, score what is new
//! or changed, write each score back exactly once, advance the watermark.
//!
//! Exactly once: a decision is recorded as Pending in the ledger *before* its
//! write. A run that finds Pending rows from an earlier run asks the vendor whether
//! the note already landed (the note carries the write key) before writing again.

use std::collections::HashMap;

use chrono::{DateTime, Datelike, Utc};
use futures::StreamExt;
use sha2::{Digest, Sha256};
use tracing::{info, warn};

use super::SyncSpec;
use crate::api::SyncCounts;
use crate::ledger::{Cursor, Decision, DecisionOutcome, Ledger, LedgerError};
use crate::model::{Application, ApplicationStatus, BlindCandidate};
use crate::scoring;
use crate::vendors::{self, AtsClient, BandTag, VendorError, WriteBackRequest};

/// Records updated this close to the watermark are fetched again, so a record
/// committed late at the boundary is not missed. Fingerprints make the overlap free.
pub const LOOKBACK: chrono::Duration = chrono::Duration::minutes(2);

/// Writes in flight at once; the rate limiter still paces them.
const WRITE_CONCURRENCY: usize = 4;

/// Decisions per ledger transaction.
const DECISION_BATCH: usize = 500;

#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    #[error(transparent)]
    Vendor(#[from] VendorError),
    #[error("audit ledger: {0}")]
    Ledger(#[from] LedgerError),
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct RunReport {
    pub counts: SyncCounts,
    pub watermark: Option<DateTime<Utc>>,
}

/// What to do with one application, decided from the ledger's write state.
#[derive(Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Same inputs, same profile, same write-back: nothing to do.
    Unchanged,
    /// Score (again) and write.
    Score,
}

/// Pure: whether an application with decision fingerprint `fp` needs scoring.
pub fn verdict(previous: Option<&crate::ledger::WriteState>, fp: &str) -> Verdict {
    match previous {
        Some(p) if p.fingerprint == fp => Verdict::Unchanged,
        _ => Verdict::Score,
    }
}

/// The decision fingerprint: the scorer's inputs, the profile and the write-back
/// settings. Switching `dryRun` off therefore writes what a dry run only recorded.
pub fn decision_fingerprint(input_fp: &str, spec: &SyncSpec) -> String {
    let wb = &spec.write_back;
    hex_sha(&format!(
        "{input_fp}|{}|{:?}|{}|{}|{}|{}",
        spec.profile_identity, wb.mode, wb.custom_field_key, wb.band_tag, wb.tag_prefix, wb.dry_run
    ))
}

/// The idempotency key written into the note.
pub fn write_key(ledger_key: &str, application_id: &str, decision_fp: &str) -> String {
    hex_sha(&format!("{ledger_key}|{application_id}|{decision_fp}"))[..20].to_string()
}

fn hex_sha(s: &str) -> String {
    hex::encode(Sha256::digest(s.as_bytes()))
}

/// What this sync writes: (note, custom field, band tag), as far as the vendor can.
fn writes(spec: &SyncSpec) -> (bool, bool, bool) {
    let caps =
        vendors::write_capabilities(spec.connection.vendor).unwrap_or(vendors::WriteCapabilities {
            note: false,
            custom_field: false,
            band_tag: false,
        });
    let wb = &spec.write_back;
    (
        wb.mode.note() && caps.note,
        wb.mode.custom_field() && caps.custom_field,
        wb.band_tag && caps.band_tag,
    )
}

fn outcome(spec: &SyncSpec) -> DecisionOutcome {
    let (note, field, tag) = writes(spec);
    if spec.write_back.dry_run {
        DecisionOutcome::DryRun
    } else if !note && !field && !tag {
        DecisionOutcome::NoWriteBack
    } else {
        DecisionOutcome::ToWrite
    }
}

fn request(spec: &SyncSpec, application: Application, d: &Decision) -> WriteBackRequest {
    let (note, field, tag) = writes(spec);
    WriteBackRequest {
        application,
        score: d.score.clone(),
        note,
        custom_field: field.then(|| spec.write_back.custom_field_key.clone()),
        band_tag: tag.then(|| BandTag::new(&spec.write_back.tag_prefix, d.score.band)),
        key: d.write_key.clone(),
    }
}

/// Pure: whether this run is a full sync: no usable cursor, or the last full
/// sync is older than `every`.
pub fn full_sync_due(
    cursor: Option<&Cursor>,
    every: std::time::Duration,
    now: DateTime<Utc>,
) -> bool {
    let every = chrono::Duration::from_std(every).unwrap_or(chrono::Duration::days(1));
    match cursor {
        None => true,
        Some(c) => c.full_sync_at.is_none_or(|t| now - t >= every),
    }
}

/// Runs one sync. A vendor error aborts the run (the watermark stays), except for
/// failed writes, which stay in the ledger and are retried by the next run.
pub async fn run_once(
    client: &dyn AtsClient,
    ledger: &Ledger,
    spec: &SyncSpec,
    now: DateTime<Utc>,
) -> Result<RunReport, SyncError> {
    let lkey = spec.key.ledger_key();
    let mut counts = SyncCounts::default();

    recover_unfinished(client, ledger, spec, &mut counts).await?;

    let identity = spec.source_identity();
    let cursor = ledger.cursor(&lkey)?.filter(|c| c.identity == identity);
    let full = full_sync_due(cursor.as_ref(), spec.full_sync_every, now);
    let since = match &cursor {
        Some(c) if !full => Some(c.watermark - LOOKBACK),
        _ => None,
    };
    let changes = client.pull(since, &spec.scope).await?;
    info!(
        since = ?since,
        full,
        deleted = changes.deleted_application_ids.len(),
        jobs = changes.jobs.len(),
        candidates = changes.candidates.len(),
        applications = changes.applications.len(),
        "pulled changes"
    );

    let jobs: HashMap<&str, &crate::model::Job> =
        changes.jobs.iter().map(|j| (j.id.as_str(), j)).collect();
    let candidates: HashMap<&str, &crate::model::Candidate> = changes
        .candidates
        .iter()
        .map(|c| (c.id.as_str(), c))
        .collect();
    counts.jobs = jobs.len() as u64;

    let mut to_write = Vec::new();
    let mut seen = std::collections::HashSet::new();
    // Each job's text is analysed once for all of its applications.
    let mut asks: HashMap<&str, scoring::job::JobAsk> = HashMap::new();
    let mut decided = Vec::new();
    for app in &changes.applications {
        if !seen.insert(app.id.as_str()) {
            continue;
        }
        let Some(job) = jobs.get(app.job_id.as_str()) else {
            continue; // out of scope
        };
        counts.applications_seen += 1;
        let Some(candidate) = candidates.get(app.candidate_id.as_str()) else {
            warn!(application = %app.id, candidate = %app.candidate_id, "candidate missing from pull; will retry next sync");
            counts.failed += 1;
            continue;
        };
        let blind = BlindCandidate::from_candidate(candidate);
        let input_fp = scoring::fingerprint(job, &blind, app);
        let fp = decision_fingerprint(&input_fp, spec);
        if verdict(ledger.write_state(&lkey, &app.id)?.as_ref(), &fp) == Verdict::Unchanged {
            counts.unchanged += 1;
            continue;
        }
        let ask = asks
            .entry(job.id.as_str())
            .or_insert_with(|| scoring::job::analyze(job, &spec.profile));
        let score = scoring::score_with(ask, job, &blind, &spec.profile, now.year());
        let decision = Decision {
            sync_key: lkey.clone(),
            tenant: spec.key.namespace.clone(),
            vendor: spec.connection.vendor,
            application_id: app.id.clone(),
            candidate_id: app.candidate_id.clone(),
            job_id: app.job_id.clone(),
            write_key: write_key(&lkey, &app.id, &fp),
            fingerprint: fp,
            profile_generation: spec.profile_generation,
            score,
            outcome: outcome(spec),
            decided_at: now,
        };
        counts.scored += 1;
        if decision.outcome == DecisionOutcome::ToWrite {
            to_write.push(request(spec, app.clone(), &decision));
        }
        decided.push(decision);
        if decided.len() >= DECISION_BATCH {
            ledger.record_decisions(&decided)?;
            decided.clear();
        }
    }
    // Every decision is in the ledger (Pending) before any write is attempted.
    ledger.record_decisions(&decided)?;
    drop(decided);

    // Deletions the vendor lists, and, after a full sync, whatever it no longer has.
    counts.deleted += ledger.record_deletions(
        &lkey,
        &changes.deleted_application_ids,
        "reported deleted by the vendor",
    )?;
    if since.is_none() {
        let in_pull: std::collections::HashSet<&str> =
            changes.applications.iter().map(|a| a.id.as_str()).collect();
        let mut absent: Vec<String> = ledger
            .known_applications(&lkey)?
            .into_iter()
            .filter(|id| !in_pull.contains(id.as_str()))
            .collect();
        absent.sort();
        counts.deleted += ledger.record_deletions(
            &lkey,
            &absent,
            "absent from a full sync (deleted, or out of scope)",
        )?;
    }

    let failure = write_all(client, ledger, &lkey, to_write, &mut counts).await?;

    // Failed writes stay Pending/Failed in the ledger and are recovered next run,
    // so the watermark may advance past them.
    let watermark = match (cursor.as_ref().map(|c| c.watermark), changes.high_watermark) {
        (Some(a), Some(b)) => Some(a.max(b)),
        (a, b) => a.or(b),
    };
    if let Some(w) = watermark {
        ledger.set_cursor(
            &lkey,
            &Cursor {
                identity,
                watermark: w,
                full_sync_at: if full {
                    Some(now)
                } else {
                    cursor.as_ref().and_then(|c| c.full_sync_at)
                },
            },
        )?;
    }
    if let Some(e) = failure {
        return Err(e.into());
    }
    Ok(RunReport { counts, watermark })
}

/// Writes concurrently; returns the first error that should fail the run.
async fn write_all(
    client: &dyn AtsClient,
    ledger: &Ledger,
    lkey: &str,
    reqs: Vec<WriteBackRequest>,
    counts: &mut SyncCounts,
) -> Result<Option<VendorError>, SyncError> {
    let mut results = futures::stream::iter(reqs.into_iter().map(|req| async move {
        let r = client.write_back(&req).await;
        (req, r)
    }))
    .buffer_unordered(WRITE_CONCURRENCY);
    let mut first_error = None;
    while let Some((req, r)) = results.next().await {
        match r {
            Ok(()) => {
                ledger.mark_written(lkey, &req.application.id, &req.key)?;
                counts.written_back += 1;
            }
            Err(e) => {
                warn!(application = %req.application.id, error = %e, "write-back failed; will retry next sync");
                ledger.mark_failed(lkey, &req.application.id, &req.key, &e.to_string())?;
                counts.failed += 1;
                first_error.get_or_insert(e);
            }
        }
    }
    Ok(first_error)
}

/// Finishes writes an earlier run recorded but did not confirm.
async fn recover_unfinished(
    client: &dyn AtsClient,
    ledger: &Ledger,
    spec: &SyncSpec,
    counts: &mut SyncCounts,
) -> Result<(), SyncError> {
    let lkey = spec.key.ledger_key();
    for state in ledger.pending_writes(&lkey)? {
        let Some(d) = ledger
            .decisions(&lkey, &state.application_id)?
            .into_iter()
            .rev()
            .find(|d| d.write_key == state.write_key)
        else {
            continue;
        };
        if d.outcome != DecisionOutcome::ToWrite {
            continue;
        }
        let app = Application {
            id: d.application_id.clone(),
            candidate_id: d.candidate_id.clone(),
            job_id: d.job_id.clone(),
            status: ApplicationStatus::New,
            stage: None,
            applied_at: None,
            updated_at: None,
        };
        let req = request(spec, app, &d);
        // The note is written last, so when it is there the whole write landed.
        let landed = req.note && client.note_exists(&req).await?;
        if landed {
            info!(application = %d.application_id, "write-back had landed before a restart");
        } else {
            if let Err(e) = client.write_back(&req).await {
                ledger.mark_failed(&lkey, &d.application_id, &d.write_key, &e.to_string())?;
                counts.failed += 1;
                return Err(e.into());
            }
            counts.written_back += 1;
        }
        ledger.mark_written(&lkey, &d.application_id, &d.write_key)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn full_sync_when_no_cursor_or_the_last_is_old() {
        let now = Utc
            .with_ymd_and_hms(2026, 11, 23, 12, 0, 0)
            .single()
            .unwrap();
        let day = std::time::Duration::from_secs(86_400);
        let cursor = |full: Option<DateTime<Utc>>| Cursor {
            identity: "x".into(),
            watermark: now,
            full_sync_at: full,
        };
        assert!(full_sync_due(None, day, now));
        assert!(full_sync_due(Some(&cursor(None)), day, now));
        assert!(!full_sync_due(
            Some(&cursor(Some(now - chrono::Duration::hours(23)))),
            day,
            now
        ));
        assert!(full_sync_due(
            Some(&cursor(Some(now - chrono::Duration::hours(24)))),
            day,
            now
        ));
    }

    #[test]
    fn band_tag_replaces_the_other_bands() {
        let t = BandTag::new("ai-", crate::model::Band::GoodFit);
        assert_eq!(t.tag, "ai-good-fit");
        assert_eq!(
            t.others,
            vec!["ai-strong-fit", "ai-moderate-fit", "ai-weak-fit"]
        );
    }
}
