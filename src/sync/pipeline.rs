//! One sync run: recover unfinished writes, pull what changed, score what is new
//! or changed, write each meaningful change back exactly once, advance the
//! watermark. The decisions are pure functions in [`super::decide`].
//!
//! Exactly once rests on three things, none of which has to be perfect alone:
//! - leadership: only the replica holding the Lease writes, and every write
//!   passes the [`Fence`];
//! - the ledger: a decision is recorded Pending *before* its write, so a run
//!   that finds it Pending asks the vendor whether the note landed first;
//! - the ATS: the note carries a marker with the write key, score and band, so
//!   a replica whose ledger does not know an application (a lost or separate
//!   ledger) adopts what is already there instead of writing it again.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Datelike, Utc};
use futures::StreamExt;
use tracing::{info, warn};

use super::SyncSpec;
use super::decide::{self, AfterFailure, SuspiciousDeletions, Verdict};
use super::fence::{Fence, Lost};
use crate::api::SyncCounts;
use crate::ledger::{Cursor, Decision, DecisionOutcome, Ledger, LedgerError, WriteState};
use crate::model::{Application, ApplicationStatus, BlindCandidate};
use crate::scoring;
use crate::vendors::{AtsClient, BandTag, NoteMark, VendorError, WriteBackRequest};

pub use super::decide::{decision_fingerprint, full_sync_due, verdict, write_key};

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
    #[error(transparent)]
    Lost(#[from] Lost),
}

/// What a run is given besides the spec: the write fence, and facts from
/// outside the ledger.
#[derive(Clone, Debug)]
pub struct RunInput {
    pub fence: Fence,
    /// The sync has written before (its status says so) while this ledger has
    /// no cursor for it: the ledger was lost or belongs to another replica, so an
    /// application it does not know is looked up in the ATS before writing.
    pub adopt_unknown: bool,
    /// The `ats.dev/confirm-deletions` annotation.
    pub confirmed_deletions: Option<String>,
}

impl Default for RunInput {
    fn default() -> Self {
        RunInput {
            fence: Fence::open(),
            adopt_unknown: false,
            confirmed_deletions: None,
        }
    }
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct RunReport {
    pub counts: SyncCounts,
    pub watermark: Option<DateTime<Utc>>,
    /// Whether the run pulled everything in scope.
    pub full: bool,
    /// A full sync's deletions held back, with the counts.
    pub suspicious_deletions: Option<SuspiciousDeletions>,
    /// Writes given up in this run: (application id, last error).
    pub abandoned: Vec<(String, String)>,
    /// The first write failure of the run, for status (the run still completes).
    pub write_failure: Option<String>,
}

fn outcome(spec: &SyncSpec) -> DecisionOutcome {
    let (note, field, tag) = decide::writes(spec);
    if spec.write_back.dry_run {
        DecisionOutcome::DryRun
    } else if !note && !field && !tag {
        DecisionOutcome::NoWriteBack
    } else {
        DecisionOutcome::ToWrite
    }
}

fn profile_label(spec: &SyncSpec) -> String {
    format!(
        "{} (generation {})",
        spec.profile_name, spec.profile_generation
    )
}

fn request(spec: &SyncSpec, application: Application, d: &Decision) -> WriteBackRequest {
    let (note, field, tag) = decide::writes(spec);
    WriteBackRequest {
        application,
        score: d.score.clone(),
        note,
        custom_field: field.then(|| spec.write_back.custom_field_key.clone()),
        band_tag: tag.then(|| BandTag::new(&spec.write_back.tag_prefix, d.score.band)),
        key: d.write_key.clone(),
        decided_at: d.decided_at,
        profile: profile_label(spec),
    }
}

/// One write to carry out, and whether to look in the ATS first.
struct Job {
    req: WriteBackRequest,
    settings: String,
    /// The ledger does not know this application: adopt a matching note.
    check_first: bool,
    /// Attempts before this one.
    attempts: u32,
}

/// Runs one sync. A vendor error in the pull aborts the run (the watermark
/// stays); failed writes never do: each is retried or abandoned on its own.
pub async fn run_once(
    client: &dyn AtsClient,
    ledger: &Ledger,
    spec: &SyncSpec,
    now: DateTime<Utc>,
    input: &RunInput,
) -> Result<RunReport, SyncError> {
    let lkey = spec.key.ledger_key();
    let settings = decide::write_settings(spec);
    let mut report = RunReport::default();

    // An emergency stop holds back pending writes too.
    if !spec.write_back.dry_run {
        recover_unfinished(client, ledger, spec, &settings, now, input, &mut report).await?;
    }

    let identity = spec.source_identity();
    let decision_identity = decide::decision_identity(spec);
    let cursor = ledger.cursor(&lkey)?.filter(|c| c.identity == identity);
    let adopt = input.adopt_unknown && cursor.is_none();
    let full = full_sync_due(
        cursor.as_ref(),
        spec.full_sync_every,
        &decision_identity,
        now,
    );
    report.full = full;
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
    let counts = &mut report.counts;
    counts.jobs = jobs.len() as u64;

    let mut to_write = Vec::new();
    let mut seen = HashSet::new();
    let mut held = Vec::new();
    // Each job's text is analysed once for all of its applications.
    let mut asks: HashMap<&str, scoring::job::JobAsk> = HashMap::new();
    let mut decided = Vec::new();
    for app in &changes.applications {
        if !seen.insert(app.id.as_str()) {
            continue;
        }
        let Some(job) = jobs.get(app.job_id.as_str()) else {
            continue; // out of scope: the pull lists every job in scope
        };
        counts.applications_seen += 1;
        let Some(candidate) = candidates.get(app.candidate_id.as_str()) else {
            warn!(application = %app.id, candidate = %app.candidate_id, "candidate missing from pull; the watermark waits for it");
            counts.failed += 1;
            held.push(app.updated_at);
            continue;
        };
        let blind = BlindCandidate::from_candidate(candidate);
        let input_fp = scoring::fingerprint(job, &blind, app);
        let fp = decision_fingerprint(&input_fp, spec);
        let previous = ledger.write_state(&lkey, &app.id)?;
        if verdict(previous.as_ref(), &fp) == Verdict::Unchanged {
            if previous.as_ref().is_some_and(|p| p.deleted) {
                ledger.revive(&lkey, &app.id)?;
            }
            counts.unchanged += 1;
            continue;
        }
        let ask = asks
            .entry(job.id.as_str())
            .or_insert_with(|| scoring::job::analyze(job, &spec.profile));
        let score = scoring::score_with(ask, job, &blind, &spec.profile, now.year());
        let mut outcome = outcome(spec);
        if outcome == DecisionOutcome::ToWrite
            && !decide::worth_writing(previous.as_ref(), &decide::mark(&score, &settings))
        {
            outcome = DecisionOutcome::NoChange;
        }
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
            outcome,
            decided_at: now,
            settings: settings.clone(),
        };
        counts.scored += 1;
        if decision.outcome == DecisionOutcome::ToWrite {
            to_write.push(Job {
                req: request(spec, app.clone(), &decision),
                settings: settings.clone(),
                check_first: adopt && previous.is_none(),
                attempts: 0,
            });
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
        let in_pull: HashSet<&str> = changes.applications.iter().map(|a| a.id.as_str()).collect();
        let known = ledger.known_applications(&lkey)?;
        let mut absent: Vec<String> = known
            .iter()
            .filter(|id| !in_pull.contains(id.as_str()))
            .cloned()
            .collect();
        absent.sort();
        report.suspicious_deletions = decide::hold_deletions(
            absent.len() as u64,
            known.len() as u64,
            spec.deletion_guard_percent,
            input.confirmed_deletions.as_deref(),
        );
        match &report.suspicious_deletions {
            Some(s) => warn!(absent = s.absent, known = s.known, "deletions held back"),
            None => {
                report.counts.deleted += ledger.record_deletions(
                    &lkey,
                    &absent,
                    "absent from a full sync (deleted, or out of scope)",
                )?;
            }
        }
    }

    write_all(client, ledger, spec, to_write, now, input, &mut report).await?;

    let watermark = next_watermark(cursor.as_ref(), &changes, &held);
    if let Some(w) = watermark {
        // A full sync whose deletions were held is not done: the next run is full again.
        let finished_full = full && report.suspicious_deletions.is_none();
        ledger.set_cursor(
            &lkey,
            &Cursor {
                identity,
                watermark: w,
                full_sync_at: if finished_full {
                    Some(now)
                } else {
                    cursor.as_ref().and_then(|c| c.full_sync_at)
                },
                decision_identity: Some(decision_identity),
            },
        )?;
    }
    report.watermark = watermark;
    Ok(report)
}

fn next_watermark(
    cursor: Option<&Cursor>,
    changes: &crate::model::ChangeSet,
    held: &[Option<DateTime<Utc>>],
) -> Option<DateTime<Utc>> {
    decide::next_watermark(cursor.map(|c| c.watermark), changes.high_watermark, held)
}

/// Outcome of one write job.
enum Done {
    Written,
    Adopted,
    Failed(VendorError),
}

/// Carries out one write: looks in the ATS first when asked, then writes
/// inside the fence.
async fn carry_out(client: &dyn AtsClient, job: &Job, fence: &Fence) -> Result<Done, Lost> {
    if job.check_first {
        match fence
            .guard(client.operator_notes(&job.req.application))
            .await?
        {
            Ok(bodies) => {
                if NoteMark::latest(bodies.iter().map(String::as_str))
                    .is_some_and(|m| m.says(&job.req))
                {
                    return Ok(Done::Adopted);
                }
            }
            Err(e) => return Ok(Done::Failed(e)),
        }
    }
    Ok(match fence.guard(client.write_back(&job.req)).await? {
        Ok(()) => Done::Written,
        Err(e) => Done::Failed(e),
    })
}

/// Records what a write job came to; never fails the run for a vendor error.
fn settle(
    ledger: &Ledger,
    spec: &SyncSpec,
    job: &Job,
    done: Done,
    now: DateTime<Utc>,
    report: &mut RunReport,
) -> Result<(), SyncError> {
    let lkey = spec.key.ledger_key();
    let app = &job.req.application.id;
    let mark = decide::mark(&job.req.score, &job.settings);
    match done {
        Done::Written => {
            ledger.mark_written(&lkey, app, &job.req.key, &mark, false)?;
            report.counts.written_back += 1;
        }
        Done::Adopted => {
            info!(application = %app, "the ATS already has this score; adopted, not written again");
            ledger.mark_written(&lkey, app, &job.req.key, &mark, true)?;
        }
        Done::Failed(e) => {
            let attempts = job.attempts.saturating_add(1);
            let text = e.to_string();
            report.counts.failed += 1;
            report.write_failure.get_or_insert_with(|| text.clone());
            match decide::after_failure(&e, attempts, spec.write_back.max_attempts, now) {
                AfterFailure::Abandon => {
                    warn!(application = %app, attempts, error = %e, "write-back abandoned");
                    ledger.mark_abandoned(&lkey, app, &job.req.key, &text)?;
                    report.counts.abandoned += 1;
                    report.abandoned.push((app.clone(), text));
                }
                AfterFailure::Retry(at) => {
                    warn!(application = %app, attempts, error = %e, retry_at = %at, "write-back failed; will retry");
                    ledger.mark_failed(&lkey, app, &job.req.key, &text, at)?;
                }
            }
        }
    }
    Ok(())
}

/// Writes concurrently, each on its own; only a lost fence or the ledger stops them.
async fn write_all(
    client: &dyn AtsClient,
    ledger: &Ledger,
    spec: &SyncSpec,
    jobs: Vec<Job>,
    now: DateTime<Utc>,
    input: &RunInput,
    report: &mut RunReport,
) -> Result<(), SyncError> {
    let fence = &input.fence;
    let mut results = futures::stream::iter(jobs.into_iter().map(|job| async move {
        let done = carry_out(client, &job, fence).await;
        (job, done)
    }))
    .buffer_unordered(WRITE_CONCURRENCY);
    while let Some((job, done)) = results.next().await {
        settle(ledger, spec, &job, done?, now, report)?;
    }
    Ok(())
}

/// Finishes writes an earlier run recorded but did not confirm, each on its own.
/// One whose settings or source no longer match is superseded, never sent.
async fn recover_unfinished(
    client: &dyn AtsClient,
    ledger: &Ledger,
    spec: &SyncSpec,
    settings: &str,
    now: DateTime<Utc>,
    input: &RunInput,
    report: &mut RunReport,
) -> Result<(), SyncError> {
    let lkey = spec.key.ledger_key();
    let mut jobs = Vec::new();
    for state in ledger.pending_writes(&lkey, now)? {
        if state.settings != settings {
            ledger.mark_superseded(
                &lkey,
                &state.application_id,
                &state.write_key,
                "write-back settings or source changed",
            )?;
            report.counts.superseded += 1;
            continue;
        }
        if let Some(job) = recovery_job(ledger, spec, &state)? {
            jobs.push(job);
        }
    }
    if !jobs.is_empty() {
        info!(writes = jobs.len(), "finishing writes of an earlier run");
    }
    write_all(client, ledger, spec, jobs, now, input, report).await
}

fn recovery_job(
    ledger: &Ledger,
    spec: &SyncSpec,
    state: &WriteState,
) -> Result<Option<Job>, SyncError> {
    let lkey = spec.key.ledger_key();
    let Some(d) = ledger
        .decisions(&lkey, &state.application_id)?
        .into_iter()
        .rev()
        .find(|d| d.write_key == state.write_key)
    else {
        return Ok(None);
    };
    if d.outcome != DecisionOutcome::ToWrite {
        return Ok(None);
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
    Ok(Some(Job {
        // The note is written last, so when it is there the whole write landed.
        check_first: req.note,
        settings: state.settings.clone(),
        attempts: state.attempts,
        req,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

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
