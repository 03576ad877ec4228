//! The pipeline's decisions, as pure functions: whether to score, whether a new
//! score is worth a write, whether a full sync's deletions are believable, where
//! the watermark goes, and what to do after a failed write.

use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};

use super::SyncSpec;
use crate::ledger::{Cursor, WriteState};
use crate::model::{Readability, Score};
use crate::vendors::{self, VendorError};

/// What to do with one application, decided from the ledger's write state.
#[derive(Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Same inputs, same profile, same write-back: nothing to do.
    Unchanged,
    /// Score (again); whether to write is [`worth_writing`]'s call.
    Score,
}

/// Pure: whether an application with decision fingerprint `fp` needs scoring.
pub fn verdict(previous: Option<&WriteState>, fp: &str) -> Verdict {
    match previous {
        Some(p) if p.fingerprint == fp => Verdict::Unchanged,
        _ => Verdict::Score,
    }
}

pub(crate) fn hex_sha(s: &str) -> String {
    hex::encode(Sha256::digest(s.as_bytes()))
}

/// What a write does and where it goes: the write-back settings that change
/// what lands in the ATS, and the source (vendor, account). `dryRun` and the
/// profile are not part of it: they change whether and what is scored.
pub fn write_settings(spec: &SyncSpec) -> String {
    write_settings_with(spec, spec.labels_allowed)
}

/// [`write_settings`] as they would be with the labels open or not.
pub fn write_settings_with(spec: &SyncSpec, labels_allowed: bool) -> String {
    let wb = &spec.write_back;
    hex_sha(&format!(
        "{}|{:?}|{}|{}|{}{}",
        spec.source_identity(),
        wb.mode,
        wb.custom_field_key,
        wb.band_tag,
        wb.tag_prefix,
        // Labels held back until an audit passes: a pass (or a lapse) is a
        // change of what lands in the ATS.
        if labels_allowed { "" } else { "|no-labels" }
    ))[..16]
        .to_string()
}

/// What the decisions of a sync depend on beyond each record: a change
/// re-pulls everything in scope, so a profile edit re-scores every application
/// in the next sync, not at the next daily full sync.
pub fn decision_identity(spec: &SyncSpec) -> String {
    format!(
        "{}|{}|{}",
        spec.profile_identity,
        write_settings(spec),
        spec.write_back.dry_run
    )
}

/// The decision fingerprint: the scorer's inputs and the decision identity.
/// Switching `dryRun` off therefore re-decides what a dry run only recorded.
pub fn decision_fingerprint(input_fp: &str, spec: &SyncSpec) -> String {
    hex_sha(&format!("{input_fp}|{}", decision_identity(spec)))
}

/// The idempotency key written into the note.
pub fn write_key(ledger_key: &str, application_id: &str, decision_fp: &str) -> String {
    hex_sha(&format!("{ledger_key}|{application_id}|{decision_fp}"))[..20].to_string()
}

/// What a write puts into the ATS, as far as a recruiter can tell: score, band
/// and where it goes. Two decisions with the same mark need one write.
pub fn mark(score: &Score, settings: &str) -> String {
    let base = format!("{}|{}|{settings}", score.score, score.band.as_str());
    // Only unlabelled writes differ from marks recorded before labels could
    // be withheld, so upgrading does not rewrite everything.
    if resume_allows_labels(score) {
        base
    } else {
        format!("{base}|unlabelled")
    }
}

/// How the explanation begins when the resume file could not be read.
pub const UNREADABLE_RESUME: &str = "Resume file could not be read";

/// Pure: the score with its explanation saying how the resume was read. An
/// unreadable file leads the gaps, with the reason (a fixed description,
/// never file content), so the note tells what the score rests on.
pub fn explain_readability(mut score: Score, readability: &Readability) -> Score {
    if let Readability::Unreadable { reason } = readability {
        score.gaps.insert(
            0,
            format!(
                "{UNREADABLE_RESUME}: {reason}. Scored on what the ATS holds (its parsed profile, the title); \
                 no band label or score field is written"
            ),
        );
        // Both summaries say it first: the recruiter and the candidate read those.
        score.summary = format!(
            "The resume file could not be read; scored on what the ATS holds, without a band label. {}",
            score.summary
        );
        score.candidate_summary = format!(
            "Your resume file could not be read automatically, so the assessment used only the information in the application. {}",
            score.candidate_summary
        );
    }
    score
}

/// Pure: whether a write may carry labels (the band tag and the score
/// field). A score resting on an unreadable resume is explained in the note
/// only: a label would present a partial reading as a verdict. Decided from
/// the score itself, so a write the ledger recovers later decides the same.
pub fn resume_allows_labels(score: &Score) -> bool {
    !score.gaps.iter().any(|g| g.starts_with(UNREADABLE_RESUME))
}

/// Pure: whether a new score needs a write, given what the last confirmed
/// write put there. A re-score with the same score and band writes nothing.
pub fn worth_writing(previous: Option<&WriteState>, mark: &str) -> bool {
    previous.and_then(|p| p.written_mark.as_deref()) != Some(mark)
}

/// Pure: whether the ATS, not this ledger, decides a write: the sync has run
/// before this worker started (`verify_before`), and this ledger has not
/// confirmed the application's write since. Another replica with its own
/// ledger, or a lost ledger, may have written what this one does not know.
pub fn unconfirmed(previous: Option<&WriteState>, verify_before: Option<DateTime<Utc>>) -> bool {
    verify_before.is_some_and(|t| previous.and_then(|p| p.written_at).is_none_or(|w| w < t))
}

/// Pure: whether this run pulls everything: no usable cursor, the last full
/// sync is older than `every`, or the profile or write-back settings changed.
pub fn full_sync_due(
    cursor: Option<&Cursor>,
    every: std::time::Duration,
    decision_identity: &str,
    now: DateTime<Utc>,
) -> bool {
    let every = chrono::Duration::from_std(every).unwrap_or(chrono::Duration::days(1));
    match cursor {
        None => true,
        Some(c) => {
            c.full_sync_at.is_none_or(|t| now - t >= every)
                || c.decision_identity.as_deref() != Some(decision_identity)
        }
    }
}

/// A full sync that found too many known applications gone.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SuspiciousDeletions {
    pub absent: u64,
    pub known: u64,
}

impl SuspiciousDeletions {
    pub fn message(&self) -> String {
        format!(
            "A full sync found {} of {} known applications absent ({}%); no deletion was \
             recorded. If they really were deleted or left the scope, set the annotation \
             {}={} on this AtsSync",
            self.absent,
            self.known,
            self.absent * 100 / self.known.max(1),
            crate::api::CONFIRM_DELETIONS_ANNOTATION,
            self.absent
        )
    }
}

/// Pure: whether a full sync's absentees are held back instead of recorded as
/// deleted. More than `guard_percent` of the known applications gone at once is
/// more often a vendor outage, a permissions change or a scope mistake than a
/// purge; the user confirms with the absent count.
pub fn hold_deletions(
    absent: u64,
    known: u64,
    guard_percent: u32,
    confirmation: Option<&str>,
) -> Option<SuspiciousDeletions> {
    if guard_percent >= 100 || known == 0 {
        return None;
    }
    // absent / known > guard / 100, in integers.
    let tripped = absent.saturating_mul(100) > known.saturating_mul(u64::from(guard_percent));
    let confirmed = confirmation.is_some_and(|c| c.trim() == absent.to_string());
    (tripped && !confirmed).then_some(SuspiciousDeletions { absent, known })
}

/// Pure: the next watermark. `pulled` is the newest update the pull saw;
/// `held` the update times of applications that could not be processed (their
/// candidate was missing), which must come back in the next pull. `None` in
/// `held` is an application without an update time: the watermark stays.
pub fn next_watermark(
    previous: Option<DateTime<Utc>>,
    pulled: Option<DateTime<Utc>>,
    held: &[Option<DateTime<Utc>>],
) -> Option<DateTime<Utc>> {
    if held.iter().any(Option::is_none) {
        return previous;
    }
    let advanced = match (previous, pulled) {
        (Some(a), Some(b)) => Some(a.max(b)),
        (a, b) => a.or(b),
    };
    match held.iter().flatten().min() {
        Some(h) => {
            let before = *h - chrono::Duration::seconds(1);
            advanced.map(|w| w.min(before)).or(previous)
        }
        None => advanced,
    }
}

/// What to do after a failed write.
#[derive(Debug, PartialEq, Eq)]
pub enum AfterFailure {
    /// Try again from this time on.
    Retry(DateTime<Utc>),
    /// Give up: the vendor keeps saying the target is gone or invalid.
    Abandon,
}

/// Whether the vendor said the write can never succeed as it is.
pub fn is_permanent(e: &VendorError) -> bool {
    matches!(e, VendorError::Rejected { status, .. } if matches!(status, 404 | 410 | 422))
}

/// Pure: permanent rejections are retried at the next run until `max_attempts`;
/// anything else backs off (30 s doubling, at most an hour) and is never given up.
pub fn after_failure(
    e: &VendorError,
    attempts: u32,
    max_attempts: u32,
    now: DateTime<Utc>,
) -> AfterFailure {
    if is_permanent(e) {
        if attempts >= max_attempts.max(1) {
            return AfterFailure::Abandon;
        }
        return AfterFailure::Retry(now);
    }
    let secs = 30u64
        .saturating_mul(1u64 << attempts.saturating_sub(1).min(7))
        .min(3600);
    AfterFailure::Retry(now + chrono::Duration::seconds(secs as i64))
}

/// What this sync writes: (note, custom field, band tag), as far as the vendor can.
pub fn writes(spec: &SyncSpec) -> (bool, bool, bool) {
    let caps =
        vendors::write_capabilities(spec.connection.vendor).unwrap_or(vendors::WriteCapabilities {
            note: false,
            custom_field: false,
            band_tag: false,
        });
    let wb = &spec.write_back;
    (
        wb.mode.note() && caps.note,
        wb.mode.custom_field() && caps.custom_field && spec.labels_allowed,
        wb.band_tag && caps.band_tag && spec.labels_allowed,
    )
}

/// Whether the vendor's pulled applications report the score field's value
/// (Greenhouse application custom fields), so a recovery can see it is there.
pub fn field_pulled(spec: &SyncSpec) -> bool {
    spec.connection.vendor == crate::model::VendorKind::Greenhouse
}

/// Pure: whether the labels have opened since this ledger last decided the
/// application (its settings were those with the labels held back, `closed`).
/// The operator's note in the ATS then says the score but not that the labels
/// are there, so it must not be adopted as the write.
pub fn labels_opened(previous: Option<&WriteState>, labels_allowed: bool, closed: &str) -> bool {
    labels_allowed && previous.is_some_and(|p| p.settings == closed)
}

/// Pure: whether all a write would add is the labels: they opened, and the
/// last confirmed write (under `closed` settings) put this score and band in
/// the ATS. The note is there already; only the labels are written.
pub fn labels_only(
    previous: Option<&WriteState>,
    labels_allowed: bool,
    closed: &str,
    score: &Score,
) -> bool {
    // A score on an unreadable resume gets no labels, so nothing to add.
    labels_allowed
        && resume_allows_labels(score)
        && previous.and_then(|p| p.written_mark.as_deref()) == Some(mark(score, closed).as_str())
}

/// What the gate knows of a profile's last `BiasAudit`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AuditVerdict {
    /// Computed, and no category below the four-fifths line.
    pub passed: bool,
    pub at: DateTime<Utc>,
}

/// Pure: the last audit of `profile` among the audits' (profiles covered,
/// passed, when) records; an audit not yet computed counts for nothing.
pub fn last_audit<'a>(
    audits: impl IntoIterator<Item = (&'a [String], bool, Option<DateTime<Utc>>)>,
    profile: &str,
) -> Option<AuditVerdict> {
    audits
        .into_iter()
        .filter(|(profiles, _, _)| profiles.iter().any(|p| p == profile))
        .filter_map(|(_, passed, at)| at.map(|at| AuditVerdict { passed, at }))
        // The newest; at equal times a failure wins.
        .max_by_key(|v| (v.at, !v.passed))
}

/// Pure: whether band labels (tags) and the score custom field may be
/// written for a profile. LL144 asks for a bias audit under a year old before
/// a tool's output is used; the note with its evidence is always written
/// (see [`writes`]). Kept apart from the per-application conditions (an
/// unreadable resume): this one is the profile's.
pub fn labels_allowed(
    policy: crate::api::LabelPolicy,
    last: Option<AuditVerdict>,
    now: DateTime<Utc>,
) -> bool {
    match policy {
        crate::api::LabelPolicy::Always => true,
        crate::api::LabelPolicy::AuditPassed => last.is_some_and(|a| {
            a.passed
                && a.at
                    .checked_add_months(chrono::Months::new(12))
                    .is_some_and(|expires| now <= expires)
        }),
    }
}

/// Pure: whether an application listed with `listed` (its vendor
/// `updated_at`) under a job whose fingerprint is `job_fp` is as it was last
/// processed (`last`: its `updated_at` then, and its job's fingerprint). A
/// record without an `updated_at` is never taken as unchanged.
pub fn unchanged_since(
    last: Option<&(DateTime<Utc>, String)>,
    listed: Option<DateTime<Utc>>,
    job_fp: &str,
) -> bool {
    match (last, listed) {
        (Some((version, fp)), Some(listed)) => listed <= *version && fp == job_fp,
        _ => false,
    }
}

/// What the ledger says each application was when last processed, asked by a
/// client before it fetches a record's details.
pub struct KnownVersions {
    versions: crate::ledger::Versions,
    /// Job id → fingerprint, computed once per job.
    jobs: std::sync::Mutex<std::collections::HashMap<String, String>>,
}

impl KnownVersions {
    pub fn new(versions: crate::ledger::Versions) -> Self {
        KnownVersions {
            versions,
            jobs: Default::default(),
        }
    }
}

impl vendors::Known for KnownVersions {
    fn unchanged(
        &self,
        id: &str,
        job: &crate::model::Job,
        updated_at: Option<DateTime<Utc>>,
    ) -> bool {
        let Some(last) = self.versions.get(id) else {
            return false;
        };
        let mut jobs = self.jobs.lock().unwrap_or_else(|e| e.into_inner());
        let fp = jobs
            .entry(job.id.clone())
            .or_insert_with(|| crate::scoring::job_fingerprint(job));
        unchanged_since(Some(last), updated_at, fp)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn score(gaps: &[&str]) -> Score {
        Score {
            strengths: vec!["Rust".into()],
            gaps: gaps.iter().map(|g| g.to_string()).collect(),
            ..Score::bare(71, Default::default(), crate::model::Band::GoodFit)
        }
    }

    #[test]
    fn an_unreadable_resume_is_explained_and_unlabelled() {
        let unreadable = Readability::Unreadable {
            reason: "the pdf file has no text (a scan or an image?)".into(),
        };
        let s = explain_readability(score(&["Kafka"]), &unreadable);
        assert!(s.gaps[0].starts_with(UNREADABLE_RESUME), "{:?}", s.gaps);
        assert!(s.gaps[0].contains("no text (a scan"), "{:?}", s.gaps);
        assert_eq!(s.gaps[1], "Kafka");
        assert_eq!((s.score, s.band), (71, crate::model::Band::GoodFit));
        assert!(!resume_allows_labels(&s));
        assert!(s.summary.starts_with("The resume file could not be read"));
        assert!(
            s.candidate_summary
                .starts_with("Your resume file could not be read")
        );
        // The mark tells an unlabelled write from a labelled one of the same score.
        assert_ne!(mark(&s, "w"), mark(&score(&["Kafka"]), "w"));

        for r in [
            Readability::Missing,
            Readability::Read {
                format: crate::model::DocumentFormat::Docx,
            },
        ] {
            let s = explain_readability(score(&["Kafka"]), &r);
            assert_eq!(s, score(&["Kafka"]));
            assert!(resume_allows_labels(&s));
        }
        // Marks of readable resumes are as they always were.
        assert_eq!(mark(&score(&[]), "w"), "71|good_fit|w");
    }

    #[test]
    fn labels_only_after_a_passing_audit_under_a_year_old() {
        use crate::api::LabelPolicy::{Always, AuditPassed};
        let now = at(12);
        let v = |passed, days: i64| {
            Some(AuditVerdict {
                passed,
                at: now - chrono::Duration::days(days),
            })
        };
        assert!(labels_allowed(Always, None, now));
        assert!(labels_allowed(Always, v(false, 1), now));
        assert!(!labels_allowed(AuditPassed, None, now));
        assert!(!labels_allowed(AuditPassed, v(false, 1), now));
        assert!(labels_allowed(AuditPassed, v(true, 1), now));
        assert!(labels_allowed(AuditPassed, v(true, 365), now));
        assert!(!labels_allowed(AuditPassed, v(true, 367), now));
    }

    #[test]
    fn opened_labels_are_not_adopted_from_the_note() {
        let state = |settings: &str| WriteState {
            application_id: "a".into(),
            fingerprint: "f".into(),
            profile_generation: 1,
            write_key: "k".into(),
            state: crate::ledger::WriteStatus::Done,
            attempts: 1,
            deleted: false,
            written_mark: None,
            settings: settings.into(),
            written_at: None,
        };
        assert!(labels_opened(Some(&state("closed")), true, "closed"));
        assert!(!labels_opened(Some(&state("open")), true, "closed"));
        assert!(!labels_opened(Some(&state("closed")), false, "closed"));
        assert!(!labels_opened(None, true, "closed"));
        let score = |n: u8| Score::bare(n, Default::default(), crate::model::Band::GoodFit);
        let mut written = state("closed");
        written.written_mark = Some(mark(&score(70), "closed"));
        assert!(labels_only(Some(&written), true, "closed", &score(70)));
        // An unreadable resume's score gets no labels: nothing to add.
        let unreadable = explain_readability(
            score(70),
            &Readability::Unreadable {
                reason: "a scan".into(),
            },
        );
        written.written_mark = Some(mark(&unreadable, "closed"));
        assert!(!labels_only(Some(&written), true, "closed", &unreadable));
        written.written_mark = Some(mark(&score(70), "closed"));
        // A new score is a new note.
        assert!(!labels_only(Some(&written), true, "closed", &score(71)));
        assert!(!labels_only(Some(&written), false, "closed", &score(70)));
        assert!(!labels_only(
            Some(&state("closed")),
            true,
            "closed",
            &score(70)
        ));
    }

    #[test]
    fn the_last_audit_of_the_profile_decides() {
        let t = |h| Some(at(h));
        let p = |names: &[&str]| names.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let (a, b, c) = (p(&["x"]), p(&["x", "y"]), p(&["y"]));
        let audits = vec![
            (a.as_slice(), true, t(9)),
            (b.as_slice(), false, t(10)),
            (c.as_slice(), true, t(11)),
        ];
        assert_eq!(
            last_audit(audits.clone(), "x"),
            Some(AuditVerdict {
                passed: false,
                at: at(10)
            })
        );
        assert_eq!(
            last_audit(audits.clone(), "y").map(|v| v.passed),
            Some(true)
        );
        assert_eq!(last_audit(audits.clone(), "z"), None);
        // Not yet computed: nothing.
        let pending = vec![(a.as_slice(), true, None)];
        assert_eq!(last_audit(pending, "x"), None);
        // A tie: the failure wins.
        let tie = vec![(a.as_slice(), true, t(9)), (a.as_slice(), false, t(9))];
        assert_eq!(last_audit(tie, "x").map(|v| v.passed), Some(false));
    }

    #[test]
    fn unchanged_only_when_neither_record_nor_job_changed() {
        let t = |s: i64| DateTime::<Utc>::from_timestamp(s, 0).unwrap();
        let last = (t(100), "job-a".to_string());
        assert!(unchanged_since(Some(&last), Some(t(100)), "job-a"));
        assert!(unchanged_since(Some(&last), Some(t(90)), "job-a"));
        assert!(!unchanged_since(Some(&last), Some(t(101)), "job-a"));
        assert!(!unchanged_since(Some(&last), Some(t(100)), "job-b"));
        assert!(!unchanged_since(Some(&last), None, "job-a"));
        assert!(!unchanged_since(None, Some(t(100)), "job-a"));
    }
    use chrono::TimeZone;

    fn at(h: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 23, h, 0, 0)
            .single()
            .unwrap()
    }

    #[test]
    fn full_sync_when_no_cursor_the_last_is_old_or_the_decisions_changed() {
        let now = at(12);
        let day = std::time::Duration::from_secs(86_400);
        let cursor = |full: Option<DateTime<Utc>>| Cursor {
            identity: "x".into(),
            watermark: now,
            full_sync_at: full,
            decision_identity: Some("d1".into()),
        };
        assert!(full_sync_due(None, day, "d1", now));
        assert!(full_sync_due(Some(&cursor(None)), day, "d1", now));
        let recent = cursor(Some(now - chrono::Duration::hours(23)));
        assert!(!full_sync_due(Some(&recent), day, "d1", now));
        // A profile edit: everything is pulled and re-scored now.
        assert!(full_sync_due(Some(&recent), day, "d2", now));
        assert!(full_sync_due(
            Some(&cursor(Some(now - chrono::Duration::hours(24)))),
            day,
            "d1",
            now
        ));
    }

    #[test]
    fn deletion_guard() {
        // 60% gone: held, whatever the guard below that.
        assert_eq!(
            hold_deletions(24, 40, 20, None),
            Some(SuspiciousDeletions {
                absent: 24,
                known: 40
            })
        );
        // Exactly at the guard is not above it.
        assert_eq!(hold_deletions(8, 40, 20, None), None);
        assert!(hold_deletions(9, 40, 20, None).is_some());
        // Confirmed with the count the status named; another count does not confirm.
        assert_eq!(hold_deletions(24, 40, 20, Some("24")), None);
        assert!(hold_deletions(24, 40, 20, Some("23")).is_some());
        assert_eq!(hold_deletions(40, 40, 100, None), None);
        assert_eq!(hold_deletions(0, 0, 20, None), None);
        let m = hold_deletions(24, 40, 20, None).unwrap().message();
        assert!(m.contains("24 of 40") && m.contains("ats.dev/confirm-deletions=24"));
    }

    #[test]
    fn watermark_is_held_for_skipped_applications() {
        let prev = Some(at(10));
        assert_eq!(next_watermark(prev, Some(at(12)), &[]), Some(at(12)));
        assert_eq!(next_watermark(None, Some(at(12)), &[]), Some(at(12)));
        // A skipped application updated at 11:00 comes back next time.
        let held = next_watermark(prev, Some(at(12)), &[Some(at(11))]).unwrap();
        assert!(held < at(11) && held > at(10));
        // One without an update time keeps the watermark where it was.
        assert_eq!(next_watermark(prev, Some(at(12)), &[None]), prev);
        assert_eq!(next_watermark(None, Some(at(12)), &[None]), None);
    }

    #[test]
    fn failures_back_off_and_permanent_ones_are_abandoned() {
        let now = at(12);
        let gone = VendorError::Rejected {
            status: 404,
            message: "not found".into(),
        };
        assert_eq!(after_failure(&gone, 1, 5, now), AfterFailure::Retry(now));
        assert_eq!(after_failure(&gone, 5, 5, now), AfterFailure::Abandon);
        let busy = VendorError::Unavailable("503".into());
        assert_eq!(
            after_failure(&busy, 1, 5, now),
            AfterFailure::Retry(now + chrono::Duration::seconds(30))
        );
        assert_eq!(
            after_failure(&busy, 50, 5, now),
            AfterFailure::Retry(now + chrono::Duration::seconds(3600))
        );
        assert!(!is_permanent(&VendorError::Rejected {
            status: 400,
            message: String::new()
        }));
    }

    #[test]
    fn same_score_and_band_are_not_worth_a_write() {
        let state = |m: Option<&str>| WriteState {
            application_id: "a".into(),
            fingerprint: "f".into(),
            profile_generation: 1,
            write_key: "k".into(),
            state: crate::ledger::WriteStatus::Done,
            attempts: 1,
            deleted: false,
            written_mark: m.map(str::to_string),
            settings: String::new(),
            written_at: None,
        };
        assert!(worth_writing(None, "70|good_fit|s"));
        assert!(worth_writing(Some(&state(None)), "70|good_fit|s"));
        assert!(!worth_writing(
            Some(&state(Some("70|good_fit|s"))),
            "70|good_fit|s"
        ));
        assert!(worth_writing(
            Some(&state(Some("70|good_fit|s"))),
            "71|good_fit|s"
        ));
    }
}
