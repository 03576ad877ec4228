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

use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::{DateTime, Datelike, Utc};
use futures::StreamExt;
use tracing::{info, warn};

use super::SyncSpec;
use super::decide::{self, AfterFailure, SuspiciousDeletions, Verdict};
use super::fence::{Fence, Lost};
use crate::api::SyncCounts;
use crate::ledger::{
    Attempt, Checkpoint, Cursor, Decision, DecisionOutcome, Ledger, LedgerError, Settlement,
    WriteState,
};
use crate::metrics::{self, WriteOutcome};
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
pub const DECISION_BATCH: usize = 500;

/// Write outcomes recorded per ledger transaction, at most (see `write_all`).
pub const SETTLE_BATCH: usize = 100;

/// How long a write outcome may wait for others before it is recorded.
pub const SETTLE_DELAY: std::time::Duration = std::time::Duration::from_secs(1);

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
    /// Set when the sync ran before this worker started (its status says so):
    /// a write this ledger has not confirmed since then is decided against the
    /// ATS's newest marker, not the ledger (another replica with its own ledger,
    /// or a lost ledger, may have written what this one does not know).
    pub verify_before: Option<DateTime<Utc>>,
    /// The `ats.dev/confirm-deletions` annotation.
    pub confirmed_deletions: Option<String>,
    /// The semantic component's model, for profiles with `semantic: true`.
    pub semantic: Option<std::sync::Arc<scoring::semantic::SemanticScorer>>,
}

impl Default for RunInput {
    fn default() -> Self {
        RunInput {
            fence: Fence::open(),
            verify_before: None,
            confirmed_deletions: None,
            semantic: None,
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
    /// Job-description checks of the jobs this run pulled, by job id.
    pub job_checks: BTreeMap<String, scoring::jd_check::JobCheck>,
    /// Jobs scored in this run whose text states no requirement the scorer
    /// can read: (job id, title). Their applications have no skills component.
    pub jobs_without_requirements: Vec<(String, String)>,
    /// What each write came to, kept when `Some` (targeted runs: a scheduled
    /// run's would grow with the tenant).
    pub(super) settlements: Option<Vec<Settlement>>,
}

fn outcome(spec: &SyncSpec, score: &crate::model::Score) -> DecisionOutcome {
    let (note, field, tag) = decide::writes(spec);
    let labels = decide::resume_allows_labels(score);
    let (field, tag) = (field && labels, tag && labels);
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
    let labels = decide::resume_allows_labels(&d.score);
    let (field, tag) = (field && labels, tag && labels);
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
pub(super) struct Job {
    req: WriteBackRequest,
    settings: String,
    /// The ledger does not know this application: adopt a matching note.
    check_first: bool,
    /// The pulled record reports the score field: adopting a note also needs
    /// the field there (it may be new: labels after a passing audit).
    field_pulled: bool,
    /// Attempts before this one.
    attempts: u32,
}

/// Where this run's pull starts: fresh, or resumed from a checkpoint.
pub(super) struct Plan {
    since: Option<DateTime<Utc>>,
    full: bool,
    started: DateTime<Utc>,
    after: Option<String>,
    high_watermark: Option<DateTime<Utc>>,
    held: Vec<Option<DateTime<Utc>>>,
}

impl Plan {
    /// A targeted run's ([`super::targeted`]): not a full pull, so it marks
    /// nothing seen; nothing to resume; its times feed no watermark.
    pub(super) fn targeted(now: DateTime<Utc>) -> Plan {
        Plan {
            since: Some(now),
            full: false,
            started: now,
            after: None,
            high_watermark: None,
            held: Vec::new(),
        }
    }
}

/// What processing did with one application, for a targeted run's report.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Processed {
    /// Its inputs are as last decided: not scored.
    Unchanged,
    /// Scored, and decided so.
    Decided(DecisionOutcome),
    /// Its candidate did not come with it: not scored.
    CandidateMissing,
}

/// Runs one sync. A vendor error in the pull aborts the run (the watermark
/// stays; the checkpoint keeps what was done); failed writes never do: each is
/// retried or abandoned on its own.
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
        recover_unfinished(
            client,
            ledger,
            spec,
            &settings,
            now,
            input,
            &mut report,
            None,
        )
        .await?;
    }

    let identity = spec.source_identity();
    let decision_identity = decide::decision_identity(spec);
    let cursor = ledger
        .cursor(&lkey)
        .await?
        .filter(|c| c.identity == identity);
    let resumed = ledger
        .checkpoint(&lkey)
        .await?
        .filter(|c| c.identity == identity && c.decision_identity == decision_identity);
    let mut plan = match resumed {
        Some(c) => {
            info!(after = %c.after, full = c.full, "resuming an interrupted pull");
            Plan {
                since: c.since,
                full: c.full,
                started: c.started_at,
                after: Some(c.after),
                high_watermark: c.high_watermark,
                held: c.held,
            }
        }
        None => {
            let full = full_sync_due(
                cursor.as_ref(),
                spec.full_sync_every,
                &decision_identity,
                now,
            );
            Plan {
                since: match &cursor {
                    Some(c) if !full => Some(c.watermark - LOOKBACK),
                    _ => None,
                },
                full,
                started: now,
                after: None,
                high_watermark: None,
                held: Vec::new(),
            }
        }
    };
    report.full = plan.since.is_none();

    let mut state = BatchState::new(spec, &settings, input, false);
    // Details of records unchanged since they were processed are not fetched
    // again, unless what decides (the profile, the write settings) changed.
    let known: Box<dyn crate::vendors::Known> = match &cursor {
        Some(c) if c.decision_identity.as_deref() == Some(decision_identity.as_str()) => {
            Box::new(decide::KnownVersions::new(ledger.versions(&lkey).await?))
        }
        _ => Box::new(crate::vendors::NothingKnown),
    };
    let mut batches =
        client.pull_batches(plan.since, &spec.scope, plan.after.clone(), known.as_ref());
    loop {
        // A stopping worker leaves the pull at once: nothing of it is recorded
        // yet, and the checkpoint keeps the batches done.
        let batch = tokio::select! {
            b = batches.next() => b,
            _ = input.fence.until_stopped() => return Err(Lost.into()),
        };
        let Some(batch) = batch else { break };
        let changes = batch?;
        info!(
            since = ?plan.since,
            full = plan.full,
            deleted = changes.deleted_application_ids.len(),
            jobs = changes.jobs.len(),
            candidates = changes.candidates.len(),
            applications = changes.applications.len(),
            "pulled changes"
        );
        let to_write = decide_batch(
            ledger,
            spec,
            &changes,
            now,
            &mut state,
            &mut plan,
            &mut report,
        )
        .await?;
        // The batch's records are not needed while writing: the writes hold
        // what they send.
        let (batch_watermark, resume_after) = (changes.high_watermark, changes.resume_after);
        drop(changes.candidates);
        drop(changes.applications);
        write_all(client, ledger, spec, to_write, now, input, &mut report).await?;
        plan.high_watermark = match (plan.high_watermark, batch_watermark) {
            (Some(a), Some(b)) => Some(a.max(b)),
            (a, b) => a.or(b),
        };
        if let Some(after) = resume_after {
            ledger
                .set_checkpoint(
                    &lkey,
                    &Checkpoint {
                        identity: identity.clone(),
                        decision_identity: decision_identity.clone(),
                        started_at: plan.started,
                        since: plan.since,
                        full: plan.full,
                        after,
                        high_watermark: plan.high_watermark,
                        held: compact_held(&plan.held),
                    },
                )
                .await?;
        }
    }
    drop(batches);

    // After a full pull: whatever it no longer has, unless that is too much at once.
    if plan.since.is_none() {
        let absent = ledger.unseen_since(&lkey, plan.started).await?;
        let known = ledger.known_applications(&lkey).await?.len() as u64;
        report.suspicious_deletions = decide::hold_deletions(
            absent.len() as u64,
            known,
            spec.deletion_guard_percent,
            input.confirmed_deletions.as_deref(),
        );
        match &report.suspicious_deletions {
            Some(s) => warn!(absent = s.absent, known = s.known, "deletions held back"),
            None => {
                report.counts.deleted += ledger
                    .record_deletions(
                        &lkey,
                        &absent,
                        "absent from a full sync (deleted, or out of scope)",
                    )
                    .await?;
            }
        }
    }

    let watermark = decide::next_watermark(
        cursor.as_ref().map(|c| c.watermark),
        plan.high_watermark,
        &plan.held,
    );
    if let Some(w) = watermark {
        // A full sync whose deletions were held is not done: the next run is full again.
        let finished_full = plan.full && report.suspicious_deletions.is_none();
        ledger
            .set_cursor(
                &lkey,
                &Cursor {
                    identity,
                    watermark: w,
                    full_sync_at: if finished_full {
                        Some(plan.started)
                    } else {
                        cursor.as_ref().and_then(|c| c.full_sync_at)
                    },
                    decision_identity: Some(decision_identity),
                },
            )
            .await?;
    }
    ledger.clear_checkpoint(&lkey).await?;
    report.watermark = watermark;
    Ok(report)
}

/// At most two held times matter: the earliest, and whether one had none.
fn compact_held(held: &[Option<DateTime<Utc>>]) -> Vec<Option<DateTime<Utc>>> {
    let mut out: Vec<Option<DateTime<Utc>>> = held
        .iter()
        .flatten()
        .min()
        .map(|t| Some(*t))
        .into_iter()
        .collect();
    if held.iter().any(Option::is_none) {
        out.push(None);
    }
    out
}

/// What a run carries from batch to batch.
pub(super) struct BatchState<'a> {
    verify_before: Option<DateTime<Utc>>,
    settings: &'a str,
    seen: HashSet<String>,
    /// Each job's text is analysed once for all of its applications.
    asks: HashMap<String, scoring::job::JobAsk>,
    /// And fingerprinted once.
    job_fps: HashMap<String, String>,
    /// The semantic component's model, when the profile asks for it.
    semantic: Option<std::sync::Arc<scoring::semantic::SemanticScorer>>,
    /// Per application, what processing did: kept by targeted runs only (a
    /// scheduled run's would grow with the tenant).
    pub(super) processed: Option<HashMap<String, Processed>>,
}

impl<'a> BatchState<'a> {
    /// A run's state before its first batch; `per_application` keeps what
    /// processing did with each application (targeted runs).
    pub(super) fn new(
        spec: &SyncSpec,
        settings: &'a str,
        input: &RunInput,
        per_application: bool,
    ) -> Self {
        BatchState {
            verify_before: input.verify_before,
            settings,
            seen: HashSet::new(),
            asks: HashMap::new(),
            job_fps: HashMap::new(),
            semantic: input.semantic.clone().filter(|_| spec.profile.semantic),
            processed: per_application.then(HashMap::new),
        }
    }

    fn note(&mut self, id: &str, p: Processed) {
        if let Some(m) = &mut self.processed {
            m.insert(id.to_string(), p);
        }
    }
}

/// Takes in one batch: scores and records it ([`process_batch`]), counts it
/// in the metrics, and records what the vendor reported deleted or anonymized
/// (tombstoned, and the person's rows pseudonymized; a full sync's absences
/// may be scope changes, and are only tombstoned). Returns the writes it decided.
pub(super) async fn decide_batch(
    ledger: &Ledger,
    spec: &SyncSpec,
    changes: &crate::model::ChangeSet,
    now: DateTime<Utc>,
    state: &mut BatchState<'_>,
    plan: &mut Plan,
    report: &mut RunReport,
) -> Result<Vec<Job>, SyncError> {
    let (seen, scored) = (report.counts.applications_seen, report.counts.scored);
    let to_write = process_batch(ledger, spec, changes, now, state, plan, report).await?;
    metrics::global().applications(
        spec,
        report.counts.applications_seen.saturating_sub(seen),
        report.counts.scored.saturating_sub(scored),
    );
    report.counts.deleted += ledger
        .record_erasures(
            &spec.key.ledger_key(),
            &changes.deleted_application_ids,
            "reported deleted or anonymized by the vendor",
        )
        .await?;
    Ok(to_write)
}

/// Scores and records one batch; returns the writes it decided.
async fn process_batch(
    ledger: &Ledger,
    spec: &SyncSpec,
    changes: &crate::model::ChangeSet,
    now: DateTime<Utc>,
    state: &mut BatchState<'_>,
    plan: &mut Plan,
    report: &mut RunReport,
) -> Result<Vec<Job>, SyncError> {
    let lkey = spec.key.ledger_key();
    let settings = state.settings;
    // The settings with the labels held back (see `decide::labels_opened`).
    let closed = decide::write_settings_with(spec, false);
    let jobs: HashMap<&str, &crate::model::Job> =
        changes.jobs.iter().map(|j| (j.id.as_str(), j)).collect();
    let candidates: HashMap<&str, &crate::model::Candidate> = changes
        .candidates
        .iter()
        .map(|c| (c.id.as_str(), c))
        .collect();
    // Each job's ad is checked once per run (every batch lists the same jobs).
    for job in &changes.jobs {
        if !report.job_checks.contains_key(&job.id) {
            let check = scoring::jd_check::check(job, now.year());
            report.job_checks.insert(job.id.clone(), check);
        }
    }
    let counts = &mut report.counts;
    counts.jobs = counts.jobs.max(jobs.len() as u64);
    let mut to_write = Vec::new();
    let mut decided = Vec::new();
    let mut seen_here = Vec::new();
    let mut versions = Vec::new();
    // The batch's write states in one query, not one per application: nothing
    // below changes the state of an application still to come.
    let ids: Vec<&str> = changes.applications.iter().map(|a| a.id.as_str()).collect();
    let mut previous_states = ledger.write_states(&lkey, &ids).await?;
    for id in &changes.unchanged_application_ids {
        if state.seen.insert(id.clone()) {
            counts.applications_seen += 1;
            counts.unchanged += 1;
            seen_here.push(id.as_str());
            state.note(id, Processed::Unchanged);
        }
    }
    for app in &changes.applications {
        if !state.seen.insert(app.id.clone()) {
            continue;
        }
        let Some(job) = jobs.get(app.job_id.as_str()) else {
            continue; // out of scope: the pull lists every job in scope
        };
        counts.applications_seen += 1;
        seen_here.push(app.id.as_str());
        let Some(candidate) = candidates.get(app.candidate_id.as_str()) else {
            warn!(application = %app.id, candidate = %app.candidate_id, "candidate missing from pull; the watermark waits for it");
            counts.failed += 1;
            plan.held.push(app.updated_at);
            state.note(&app.id, Processed::CandidateMissing);
            continue;
        };
        let blind = BlindCandidate::from_candidate(candidate);
        let input_fp = scoring::fingerprint(job, &blind, app);
        let fp = decision_fingerprint(&input_fp, spec);
        let previous = previous_states.remove(&app.id);
        let job_fp = state
            .job_fps
            .entry(job.id.clone())
            .or_insert_with(|| scoring::job_fingerprint(job))
            .clone();
        versions.push((app.id.as_str(), app.updated_at, job_fp));
        if verdict(previous.as_ref(), &fp) == Verdict::Unchanged {
            if previous.as_ref().is_some_and(|p| p.deleted) {
                ledger.revive(&lkey, &app.id).await?;
            }
            counts.unchanged += 1;
            state.note(&app.id, Processed::Unchanged);
            continue;
        }
        let ask = state.asks.entry(job.id.clone()).or_insert_with(|| {
            let ask = scoring::job::analyze(job, &spec.profile);
            if !ask.requirements_found() {
                report
                    .jobs_without_requirements
                    .push((job.id.clone(), job.title.clone()));
            }
            ask
        });
        let semantic = match &state.semantic {
            Some(s) => s.clone().value_off_thread(job, &blind).await,
            None => None,
        };
        let mut score =
            scoring::score_with_semantic(ask, job, &blind, &spec.profile, now, semantic);
        if score.components.semantic.is_some() {
            score.semantic_model = state.semantic.as_ref().map(|s| s.model_id().to_string());
        }
        let score = decide::explain_readability(score, &candidate.resume.readability);
        let labels_only =
            decide::labels_only(previous.as_ref(), spec.labels_allowed, &closed, &score);
        let mut outcome = outcome(spec, &score);
        let unconfirmed = decide::unconfirmed(previous.as_ref(), state.verify_before)
            && !decide::labels_opened(previous.as_ref(), spec.labels_allowed, &closed);
        if outcome == DecisionOutcome::ToWrite
            && !unconfirmed
            && !decide::worth_writing(previous.as_ref(), &decide::mark(&score, settings))
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
            settings: settings.to_string(),
        };
        counts.scored += 1;
        state.note(&app.id, Processed::Decided(decision.outcome));
        if decision.outcome == DecisionOutcome::ToWrite {
            let mut req = request(spec, app.clone(), &decision);
            // Labels opened by a passing audit: the note is there already.
            if labels_only && (req.custom_field.is_some() || req.band_tag.is_some()) {
                req.note = false;
            }
            to_write.push(Job {
                req,
                settings: settings.to_string(),
                check_first: unconfirmed,
                field_pulled: decide::field_pulled(spec),
                attempts: 0,
            });
        }
        decided.push(decision);
        if decided.len() >= DECISION_BATCH {
            ledger.record_decisions(&decided).await?;
            decided.clear();
        }
    }
    // Every decision is in the ledger (Pending) before any write is attempted.
    ledger.record_decisions(&decided).await?;
    let versions: Vec<(&str, Option<DateTime<Utc>>, &str)> = versions
        .iter()
        .map(|(id, at, fp)| (*id, *at, fp.as_str()))
        .collect();
    ledger.set_versions(&lkey, &versions).await?;
    if plan.since.is_none() {
        ledger.mark_seen(&lkey, &seen_here, plan.started).await?;
    }
    Ok(to_write)
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
    if job.check_first && !job.req.note {
        // Only the field is written: its value, as pulled, says whether it is there.
        let field = job.req.custom_field.as_ref();
        let pulled = field.and_then(|k| job.req.application.number_fields.get(k));
        if field.is_some() && pulled == Some(&i64::from(job.req.score.score)) {
            fence.check()?;
            return Ok(Done::Adopted);
        }
    } else if job.check_first {
        match fence
            .guard(client.operator_notes(&job.req.application))
            .await?
        {
            Ok(bodies) => {
                // A field the write adds (labels after a passing audit) must
                // be there too: the note alone does not say it was written.
                let field_there = !job.field_pulled
                    || job.req.custom_field.as_ref().is_none_or(|k| {
                        job.req.application.number_fields.get(k)
                            == Some(&i64::from(job.req.score.score))
                    });
                if field_there
                    && NoteMark::latest(bodies.iter().map(String::as_str))
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

/// What a write job came to, as the ledger records it; never fails the run
/// for a vendor error.
fn settlement(
    spec: &SyncSpec,
    job: &Job,
    done: Done,
    now: DateTime<Utc>,
    report: &mut RunReport,
) -> Settlement {
    let app = &job.req.application.id;
    let mark = decide::mark(&job.req.score, &job.settings);
    let result = match done {
        Done::Written => {
            report.counts.written_back += 1;
            metrics::global().write_back(spec, WriteOutcome::Written);
            Attempt::Written {
                mark,
                adopted: false,
            }
        }
        Done::Adopted => {
            info!(application = %app, "the ATS already has this score; adopted, not written again");
            metrics::global().write_back(spec, WriteOutcome::Adopted);
            Attempt::Written {
                mark,
                adopted: true,
            }
        }
        Done::Failed(e) => {
            let attempts = job.attempts.saturating_add(1);
            let text = e.to_string();
            report.counts.failed += 1;
            report.write_failure.get_or_insert_with(|| text.clone());
            match decide::after_failure(&e, attempts, spec.write_back.max_attempts, now) {
                AfterFailure::Abandon => {
                    warn!(application = %app, attempts, error = %e, "write-back abandoned");
                    report.counts.abandoned += 1;
                    report.abandoned.push((app.clone(), text.clone()));
                    metrics::global().write_back(spec, WriteOutcome::Abandoned);
                    Attempt::Abandoned { error: text }
                }
                AfterFailure::Retry(at) => {
                    warn!(application = %app, attempts, error = %e, retry_at = %at, "write-back failed; will retry");
                    metrics::global().write_back(spec, WriteOutcome::Failed);
                    Attempt::Failed {
                        error: text,
                        retry_at: at,
                    }
                }
            }
        }
    };
    Settlement {
        application_id: app.clone(),
        write_key: job.req.key.clone(),
        result,
    }
}

/// Writes concurrently, each on its own; only a closed fence or the ledger
/// stops them. When the fence closes, the writes already sent still finish
/// and are recorded (those it dropped stay Pending); none starts after.
///
/// What the writes came to is recorded in groups, one transaction for up to
/// [`SETTLE_BATCH`] of them, at most [`SETTLE_DELAY`] after the first: on a
/// disk where a synced commit takes milliseconds, one commit per write would
/// bound a fast vendor's writes. Exactly once does not rest on the timing: a
/// write that landed but is not yet recorded when the process dies is still
/// Pending, and the next run asks the ATS (its marker) before writing again.
pub(super) async fn write_all(
    client: &dyn AtsClient,
    ledger: &Ledger,
    spec: &SyncSpec,
    jobs: Vec<Job>,
    now: DateTime<Utc>,
    input: &RunInput,
    report: &mut RunReport,
) -> Result<(), SyncError> {
    let fence = &input.fence;
    let lkey = spec.key.ledger_key();
    let mut results = futures::stream::iter(jobs.into_iter().map(|job| async move {
        let done = carry_out(client, &job, fence).await;
        (job, done)
    }))
    .buffer_unordered(WRITE_CONCURRENCY);
    let mut settled: Vec<Settlement> = Vec::new();
    let mut flush_at = tokio::time::Instant::now();
    let mut lost = None;
    loop {
        let next = if settled.is_empty() {
            results.next().await
        } else {
            match tokio::time::timeout_at(flush_at, results.next()).await {
                Ok(next) => next,
                Err(_) => {
                    ledger.settle(&lkey, &std::mem::take(&mut settled)).await?;
                    continue;
                }
            }
        };
        let Some((job, done)) = next else { break };
        match done {
            Ok(done) => {
                if settled.is_empty() {
                    flush_at = tokio::time::Instant::now() + SETTLE_DELAY;
                }
                let s = settlement(spec, &job, done, now, report);
                if let Some(kept) = &mut report.settlements {
                    kept.push(s.clone());
                }
                settled.push(s);
                if settled.len() >= SETTLE_BATCH {
                    ledger.settle(&lkey, &std::mem::take(&mut settled)).await?;
                }
            }
            // The fence closed: this one was not sent; the rest in flight
            // still finish and are recorded.
            Err(l) => lost = Some(l),
        }
    }
    ledger.settle(&lkey, &settled).await?;
    match lost {
        Some(l) => Err(l.into()),
        None => Ok(()),
    }
}

/// Finishes writes an earlier run recorded but did not confirm, each on its own
/// (those of the applications in `only`, when given). One whose settings or
/// source no longer match is superseded, never sent.
#[allow(clippy::too_many_arguments)]
pub(super) async fn recover_unfinished(
    client: &dyn AtsClient,
    ledger: &Ledger,
    spec: &SyncSpec,
    settings: &str,
    now: DateTime<Utc>,
    input: &RunInput,
    report: &mut RunReport,
    only: Option<&HashSet<String>>,
) -> Result<(), SyncError> {
    let lkey = spec.key.ledger_key();
    let mut jobs = Vec::new();
    for state in ledger.pending_writes(&lkey, now).await? {
        if only.is_some_and(|o| !o.contains(&state.application_id)) {
            continue;
        }
        if state.settings != settings {
            ledger
                .mark_superseded(
                    &lkey,
                    &state.application_id,
                    &state.write_key,
                    "write-back settings or source changed",
                )
                .await?;
            report.counts.superseded += 1;
            metrics::global().write_back(spec, WriteOutcome::Superseded);
            continue;
        }
        if let Some(job) = recovery_job(ledger, spec, &state).await? {
            jobs.push(job);
        }
    }
    if !jobs.is_empty() {
        info!(writes = jobs.len(), "finishing writes of an earlier run");
    }
    write_all(client, ledger, spec, jobs, now, input, report).await
}

async fn recovery_job(
    ledger: &Ledger,
    spec: &SyncSpec,
    state: &WriteState,
) -> Result<Option<Job>, SyncError> {
    let lkey = spec.key.ledger_key();
    let Some(d) = ledger
        .decisions(&lkey, &state.application_id)
        .await?
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
        number_fields: Default::default(),
    };
    let req = request(spec, app, &d);
    Ok(Some(Job {
        // The note is written last, so when it is there the whole write landed.
        check_first: req.note,
        // As it was decided: the note is the proof.
        field_pulled: false,
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
