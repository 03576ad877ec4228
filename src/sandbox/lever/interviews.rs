//! Interviews, feedback forms and offers, derived from each opportunity's
//! pipeline so the same seed always yields the same ones: an interview for
//! every interview stage it reached (phone screen, technical, onsite), each
//! with one feedback form (completed, unless the interview is still ahead of
//! an active opportunity), and an offer for hired opportunities (signed) and
//! for those that withdrew after the onsite (sent, never signed).

use serde_json::{Value, json};

use super::ids::{self, Kind};
use super::render::{archived, entered_stage, owner, posting_id, stage_id, user_id};
use super::{Lever, ms, user};
use crate::sandbox::data::{AppState, Fit, GenApplication, GenJob, STAGES};

const HOUR: i64 = 3_600_000;
const DAY: i64 = 24 * HOUR;
/// The stages with an interview: `STAGES` from the phone screen to the onsite.
const FIRST_INTERVIEW: usize = 1;
const LAST_INTERVIEW: usize = 3;
/// The archive reason of opportunities that withdrew ([`super::render::ARCHIVE_REASONS`]).
const WITHDREW: u64 = 3;

/// One interview: the stage it belongs to, and when things happened (epoch ms).
#[derive(Clone, Copy, Debug)]
pub(super) struct Interview {
    pub stage: usize,
    pub created_at: i64,
    pub date: i64,
    /// When its feedback was submitted; `None` while it is still ahead.
    pub completed_at: Option<i64>,
}

/// The interviews of an opportunity, by stage (the position in their lists).
pub(super) fn interviews(a: &GenApplication) -> Vec<Interview> {
    (FIRST_INTERVIEW..=a.stage.min(LAST_INTERVIEW))
        .map(|stage| timeline(a, stage))
        .collect()
}

/// An interview scheduled at `lo`, held halfway to `hi`, its feedback halfway after that.
fn held(stage: usize, lo: i64, hi: i64) -> Interview {
    let date = lo + (hi - lo) / 2;
    Interview {
        stage,
        created_at: lo,
        date,
        completed_at: Some(date + (hi - date) / 2),
    }
}

fn timeline(a: &GenApplication, stage: usize) -> Interview {
    let end = ms(a.updated_at);
    if stage < a.stage {
        // Passed: held while in the stage, feedback before moving on.
        return held(stage, entered_stage(a, stage), entered_stage(a, stage + 1));
    }
    if a.state == AppState::Rejected {
        // Held, then the opportunity was archived.
        return held(stage, entered_stage(a, stage - 1), end);
    }
    // Still ahead: scheduled when the opportunity reached the stage.
    let days = 1 + (ids::hash(Kind::Interview, a.id) % 5) as i64;
    Interview {
        stage,
        created_at: end,
        date: end + days * DAY,
        completed_at: None,
    }
}

/// A (stage-specific) id of `kind` for one of an opportunity's interviews.
fn id(kind: Kind, a: &GenApplication, stage: usize) -> String {
    ids::uuid(kind, a.id * 8 + stage as u64)
}

/// The stage of the interview (or feedback form) `s` names, if it is one of `a`'s.
pub(super) fn parse(kind: Kind, a: &GenApplication, s: &str) -> Option<usize> {
    let n = ids::parse(kind, s)?;
    let stage = (n % 8) as usize;
    (n / 8 == a.id && (FIRST_INTERVIEW..=a.stage.min(LAST_INTERVIEW)).contains(&stage))
        .then_some(stage)
}

fn stage_name(stage: usize) -> &'static str {
    STAGES.get(stage).copied().unwrap_or("Interview")
}

/// Who interviews: the recruiter screens, the engineer does the rest.
fn interviewer(stage: usize) -> u64 {
    if stage == FIRST_INTERVIEW { 3 } else { 4 }
}

fn template_id(stage: usize) -> String {
    ids::uuid(Kind::FeedbackTemplate, stage as u64)
}

/// The interviewer's rating, 1 (strong no) to 4 (strong yes): how well the
/// candidate fits, lower where they were turned down.
fn score(a: &GenApplication, stage: usize) -> u8 {
    let wobble = (ids::hash(Kind::Feedback, a.id * 8 + stage as u64) % 2) as u8;
    let base = match a.fit {
        Fit::Strong => 3 + wobble,
        Fit::Medium => 2 + wobble,
        Fit::Poor => 1 + wobble,
    };
    let passed = stage < a.stage || a.state == AppState::Hired;
    if passed { base.max(3) } else { base.min(2) }
}

/// The offer letter's file name (a text file: the sandbox has no PDFs).
fn letter_name(candidate: &str) -> String {
    format!("Offer Letter - {candidate}.txt")
}

/// The offered salary: by the job's seniority, a little different per offer.
fn salary(a: &GenApplication, j: &GenJob) -> u64 {
    90_000 + u64::from(j.min_years) * 10_000 + ids::hash(Kind::Offer, a.id) % 5 * 2_500
}

const COMMENTS: [&str; 4] = [
    "Not a fit for this role: gaps in the core skills it needs.",
    "Some relevant experience, but below the bar for this level.",
    "Solid on the fundamentals; would work well with the team.",
    "Outstanding: deep experience in exactly what the role needs.",
];

impl Lever {
    pub(super) fn interview_json(&self, a: &GenApplication, iv: &Interview) -> Value {
        let name = self
            .tenant
            .candidate(a.candidate_id)
            .map(|c| c.full_name())
            .unwrap_or_default();
        let title = self
            .tenant
            .job(a.job_id)
            .map(|j| j.title.as_str())
            .unwrap_or_default();
        let who = interviewer(iv.stage);
        let (duration, location) = match iv.stage {
            FIRST_INTERVIEW => (30, "Phone"),
            LAST_INTERVIEW => (180, "On site"),
            _ => (60, "Video call"),
        };
        json!({
            "id": id(Kind::Interview, a, iv.stage),
            "panel": id(Kind::Panel, a, iv.stage),
            "subject": format!("{} with {name}", stage_name(iv.stage)),
            "note": format!("{} for the {title} role.", stage_name(iv.stage)),
            "interviewers": [{
                "id": user_id(who),
                "name": user(who).map(|u| u.name),
                "email": user(who).map(|u| u.email),
                "feedbackTemplate": template_id(iv.stage),
            }],
            "timezone": "America/New_York",
            "createdAt": iv.created_at,
            "date": iv.date,
            "duration": duration,
            "location": location,
            "feedbackTemplate": template_id(iv.stage),
            "feedbackForms": [id(Kind::Feedback, a, iv.stage)],
            "feedbackReminder": "once",
            "user": user_id(owner(a)),
            "stage": stage_id(iv.stage),
            "canceledAt": null,
            "postings": [posting_id(a.job_id)],
            "gcalEventUrl": null,
        })
    }

    /// The interview's feedback form; its fields have no values until submitted.
    pub(super) fn feedback_json(&self, a: &GenApplication, iv: &Interview) -> Value {
        let done = iv.completed_at.is_some();
        let score = score(a, iv.stage);
        json!({
            "id": id(Kind::Feedback, a, iv.stage),
            "type": "interview",
            "text": format!("{} feedback", stage_name(iv.stage)),
            "instructions": "Rate the candidate against the role's requirements.",
            "fields": [
                {
                    "type": "score-system",
                    "text": "Rating",
                    "description": "1 = strong no hire, 4 = strong hire",
                    "required": true,
                    "value": done.then_some(score),
                },
                {
                    "type": "textarea",
                    "text": "Notes",
                    "description": "What you saw, with examples.",
                    "required": false,
                    "value": done.then(|| COMMENTS[usize::from(score.clamp(1, 4)) - 1]),
                },
            ],
            "baseTemplateId": template_id(iv.stage),
            "interview": id(Kind::Interview, a, iv.stage),
            "panel": id(Kind::Panel, a, iv.stage),
            "user": user_id(interviewer(iv.stage)),
            "createdAt": iv.created_at,
            "completedAt": iv.completed_at,
            "updatedAt": iv.completed_at.unwrap_or(iv.created_at),
            "deletedAt": null,
        })
    }

    /// The opportunity's offers (at most one).
    pub(super) fn offers_json(&self, a: &GenApplication) -> Vec<Value> {
        self.offer(a).into_iter().collect()
    }

    fn offer(&self, a: &GenApplication) -> Option<Value> {
        let signed = a.state == AppState::Hired;
        let withdrew = a.state == AppState::Rejected
            && a.stage == LAST_INTERVIEW
            && archived(a).is_some_and(|(reason, _)| reason == WITHDREW);
        if !signed && !withdrew {
            return None;
        }
        // After the onsite feedback, before the opportunity's last change.
        let onsite = timeline(a, LAST_INTERVIEW);
        let lo = onsite.completed_at.unwrap_or(onsite.date);
        let end = ms(a.updated_at);
        let at = |k: i64| lo + (end - lo) * k / 8;
        let (created, approved, sent) = (at(1), at(2), at(3));
        let c = self.tenant.candidate(a.candidate_id)?;
        let j = self.tenant.job(a.job_id)?;
        let oid = ids::uuid(Kind::Opportunity, a.id);
        let offer_id = ids::uuid(Kind::Offer, a.id);
        let document = |status: &str, uploaded: i64| {
            json!({
                "fileName": letter_name(&c.full_name()),
                "uploadedAt": uploaded,
                "downloadUrl": format!(
                    "{}/v1/opportunities/{oid}/offers/{offer_id}/download?status={status}",
                    self.base_url
                ),
            })
        };
        let salary =
            90_000 + u64::from(j.min_years) * 10_000 + ids::hash(Kind::Offer, a.id) % 5 * 2_500;
        Some(json!({
            "id": offer_id,
            "posting": posting_id(a.job_id),
            "createdAt": created,
            "status": if signed { "signed" } else { "sent" },
            "creator": user_id(owner(a)),
            "fields": [
                {"text": "Job title", "identifier": "job_title", "value": j.title},
                {"text": "Salary", "identifier": "salary_amount", "value": salary},
                {"text": "Salary currency", "identifier": "salary_currency", "value": "USD"},
                {"text": "Employment type", "identifier": "employment_type", "value": j.employment_type},
                {"text": "Anticipated start date", "identifier": "anticipated_start_date", "value": end + 30 * DAY},
            ],
            "signatures": {
                "candidate": {
                    "role": "candidate",
                    "name": c.full_name(),
                    "email": c.email,
                    "firstOpenedAt": sent + HOUR,
                    "lastOpenedAt": if signed { end } else { sent + DAY },
                    "signed": signed,
                    "signedAt": signed.then_some(end),
                },
            },
            "approved": "approved",
            "approvedAt": approved,
            "sentAt": sent,
            "sentDocument": document("sent", sent),
            "signedDocument": signed.then(|| document("signed", end)),
        }))
    }

    /// The offer letter's text, if `offer` is this opportunity's.
    pub(super) fn offer_letter(&self, a: &GenApplication, offer: &str) -> Option<(String, String)> {
        if ids::parse(Kind::Offer, offer) != Some(a.id) {
            return None;
        }
        let c = self.tenant.candidate(a.candidate_id)?;
        let j = self.tenant.job(a.job_id)?;
        self.offer(a)?;
        let text = format!(
            "Dear {},\n\nWe are pleased to offer you the position of {} at an annual salary of USD {}.\n",
            c.first_name,
            j.title,
            salary(a, j)
        );
        Some((letter_name(&c.full_name()), text))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sandbox::data::Tenant;

    #[test]
    fn interviews_follow_the_pipeline() {
        let t = Tenant::generate(11, 6, 400);
        let mut ahead = 0;
        for a in &t.applications {
            let ivs = interviews(a);
            assert_eq!(ivs.len(), a.stage.min(LAST_INTERVIEW), "{a:?}");
            for iv in &ivs {
                assert!(iv.created_at >= ms(a.created_at) && iv.created_at <= iv.date);
                match iv.completed_at {
                    Some(done) => assert!(iv.date <= done && done <= ms(a.updated_at)),
                    None => {
                        ahead += 1;
                        assert_eq!(iv.stage, a.stage);
                        assert!(matches!(a.state, AppState::Active | AppState::Converted));
                    }
                }
                let s = score(a, iv.stage);
                assert!((1..=4).contains(&s));
            }
            assert!(ivs.windows(2).all(|w| w[0].date <= w[1].date));
        }
        assert!(ahead > 0);
    }

    #[test]
    fn interview_ids_name_their_opportunity_and_stage() {
        let t = Tenant::generate(11, 6, 50);
        let a = t
            .applications
            .iter()
            .find(|a| a.stage >= 2)
            .expect("an opportunity past the phone screen");
        let other = t.applications.iter().find(|o| o.id != a.id).expect("two");
        let s = id(Kind::Interview, a, 2);
        assert_eq!(parse(Kind::Interview, a, &s), Some(2));
        assert_eq!(parse(Kind::Interview, other, &s), None);
        assert_eq!(parse(Kind::Feedback, a, &s), None);
        assert_eq!(parse(Kind::Interview, a, &id(Kind::Interview, a, 4)), None);
    }
}
