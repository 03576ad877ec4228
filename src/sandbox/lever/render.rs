//! Lever's wire format for the generated tenant: opportunities,
//! applications, postings, resumes, notes, users, stages.

use serde_json::{Value, json};

use super::ids::{self, Kind};
use super::{INTEGRATION_USER, Lever, Note, USERS, User, ms, user};
use crate::sandbox::data::{
    AppState, Family, GenApplication, GenCandidate, GenJob, JobState, RejectReason, STAGES, epoch,
    html_escape,
};

/// Archive reasons: (number behind the id, text, type).
pub(super) const ARCHIVE_REASONS: [(u64, &str, &str); 4] = [
    (1, "Hired", "hired"),
    (2, "Underqualified", "non-hired"),
    (3, "Withdrew", "non-hired"),
    (4, "Position filled", "non-hired"),
];

/// Lead stages Lever has in every account; generated opportunities are all
/// applicants, so these only appear in `/v1/stages`.
const LEAD_STAGES: [(&str, &str); 3] = [
    ("lead-new", "New lead"),
    ("lead-reached-out", "Reached out"),
    ("lead-responded", "Responded"),
];

const CLOSING: &str = "We are an equal opportunity employer and value diversity at our company.";

/// Lever's built-in ids for the first and last pipeline stage; UUIDs between.
pub(super) fn stage_id(i: usize) -> String {
    if i == 0 {
        "applicant-new".into()
    } else if i + 1 == STAGES.len() {
        "offer".into()
    } else {
        ids::uuid(Kind::Stage, i as u64)
    }
}

pub(super) fn stage_index(id: &str) -> Option<usize> {
    (0..STAGES.len()).find(|i| stage_id(*i) == id)
}

pub(super) fn stages_json() -> Vec<Value> {
    LEAD_STAGES
        .iter()
        .map(|(id, text)| json!({"id": id, "text": text}))
        .chain((0..STAGES.len()).map(stage_json))
        .collect()
}

fn stage_json(i: usize) -> Value {
    json!({"id": stage_id(i), "text": STAGES.get(i).copied().unwrap_or("Application Review")})
}

pub(super) fn archive_reason_json(r: &(u64, &str, &str)) -> Value {
    json!({"id": ids::uuid(Kind::ArchiveReason, r.0), "text": r.1, "status": "active", "type": r.2})
}

pub(super) fn user_id(n: u64) -> String {
    ids::uuid(Kind::User, n)
}

pub(super) fn user_json(u: &User) -> Value {
    let created = ms(epoch());
    json!({
        "id": user_id(u.n),
        "name": u.name,
        "username": u.email.split('@').next().unwrap_or(u.email),
        "email": u.email,
        "accessRole": u.access_role,
        "photo": null,
        "createdAt": created,
        "deactivatedAt": u.deactivated.then_some(created + 86_400_000),
        "externalDirectoryId": null,
        "linkedContactIds": null,
        "jobTitle": u.job_title,
        "managerId": null,
    })
}

pub(super) fn opportunity_id(a: &GenApplication) -> String {
    ids::uuid(Kind::Opportunity, a.id)
}

pub(super) fn posting_id(job_id: u64) -> String {
    ids::uuid(Kind::Posting, job_id)
}

pub(super) fn team(f: Family) -> &'static str {
    match f {
        Family::Backend => "Backend",
        Family::Frontend => "Frontend",
        Family::Data => "Data",
        Family::Devops => "Platform",
        Family::Product => "Product Management",
        Family::Design => "Product Design",
        Family::Sales => "Account Executive",
    }
}

/// How the candidate came in, with the matching sources.
pub(super) fn origin(a: &GenApplication) -> (&'static str, &'static str) {
    let h = ids::hash(Kind::Application, a.id);
    match h % 100 {
        0..=59 => (
            "applied",
            ["Company Website", "LinkedIn", "Indeed"][(h / 100 % 3) as usize],
        ),
        60..=79 => ("sourced", "LinkedIn"),
        80..=94 => ("referred", "Referral"),
        _ => ("agency", "Agency"),
    }
}

/// The owner: one of the recruiting users, fixed per opportunity.
pub(super) fn owner(a: &GenApplication) -> u64 {
    2 + ids::hash(Kind::Opportunity, a.id) % 2
}

/// Generated before Lever had `updatedAt` and never changed since: about 3%
/// of the generated opportunities. Anything the sandbox changes gets a
/// timestamp after the generated year, so touching one gives it an `updatedAt`.
pub(super) fn legacy_null_updated_at(a: &GenApplication) -> bool {
    // Salted with another kind than origin() and owner() use, so the three
    // choices are independent.
    ids::hash(Kind::Contact, a.id) % 100 < 3 && a.updated_at < epoch() + chrono::Duration::days(365)
}

/// When the opportunity moved to stage `i` (evenly spread between its
/// creation and its last change).
pub(super) fn entered_stage(a: &GenApplication, i: usize) -> i64 {
    let span = ms(a.updated_at) - ms(a.created_at);
    let steps = a.stage.max(1) as i64;
    ms(a.created_at) + span * i.min(a.stage) as i64 / steps
}

/// `updatedAt` as served: `None` for legacy opportunities.
pub(super) fn updated_at(a: &GenApplication) -> Option<i64> {
    (!legacy_null_updated_at(a)).then(|| ms(a.updated_at))
}

/// `archived`: rejected and hired opportunities are archived, with reason.
pub(super) fn archived(a: &GenApplication) -> Option<(u64, i64)> {
    match a.state {
        AppState::Rejected => Some((
            match a.rejection {
                Some(RejectReason::Underqualified) => 2,
                Some(RejectReason::Withdrew) => 3,
                Some(RejectReason::PositionFilled) => 4,
                None => 2 + ids::hash(Kind::ArchiveReason, a.id) % 3,
            },
            ms(a.updated_at),
        )),
        AppState::Hired => Some((1, ms(a.updated_at))),
        AppState::Active | AppState::Converted => None,
    }
}

fn archived_json(a: &GenApplication) -> Value {
    archived(a).map_or(
        Value::Null,
        |(r, at)| json!({"reason": ids::uuid(Kind::ArchiveReason, r), "archivedAt": at}),
    )
}

/// Which `expand` values a list asked for.
#[derive(Clone, Copy, Debug, Default)]
pub(super) struct Expand {
    pub applications: bool,
    pub stage: bool,
    pub owner: bool,
    pub followers: bool,
    pub sourced_by: bool,
    pub contact: bool,
}

impl Expand {
    pub fn parse<'a>(values: impl Iterator<Item = &'a str>) -> Result<Expand, String> {
        let mut e = Expand::default();
        for v in values.flat_map(|v| v.split(',')) {
            match v.trim() {
                "applications" => e.applications = true,
                "stage" => e.stage = true,
                "owner" => e.owner = true,
                "followers" => e.followers = true,
                "sourcedBy" => e.sourced_by = true,
                "contact" => e.contact = true,
                "" => {}
                other => {
                    return Err(format!(
                        "Invalid expand value '{other}'; use applications, stage, owner, followers, sourcedBy or contact"
                    ));
                }
            }
        }
        Ok(e)
    }
}

fn user_ref(n: u64, expand: bool) -> Value {
    match (expand, user(n)) {
        (true, Some(u)) => user_json(u),
        _ => Value::String(user_id(n)),
    }
}

impl Lever {
    /// Tags generated for an opportunity: its posting's, as Lever adds them
    /// when a candidate applies.
    fn base_tags(&self, a: &GenApplication) -> Vec<String> {
        let Some(j) = self.tenant.job(a.job_id) else {
            return Vec::new();
        };
        let mut tags = vec![j.title.clone()];
        if let Some(d) = self.tenant.department_name(j.department_id) {
            tags.push(d.to_string());
        }
        tags.push(j.location.clone());
        tags.push(j.employment_type.to_string());
        tags.dedup();
        tags
    }

    pub(super) fn opportunity_tags(&self, a: &GenApplication) -> Vec<String> {
        self.tags
            .get(&a.id)
            .cloned()
            .unwrap_or_else(|| self.base_tags(a))
    }

    pub(super) fn has_tag(&self, a: &GenApplication, tag: &str) -> bool {
        match self.tags.get(&a.id) {
            Some(t) => t.iter().any(|x| x == tag),
            None => self.base_tags(a).iter().any(|x| x == tag),
        }
    }

    pub(super) fn opportunity_json(&self, a: &GenApplication, ex: &Expand) -> Value {
        let id = opportunity_id(a);
        let c = self.tenant.candidate(a.candidate_id);
        let job = self.tenant.job(a.job_id);
        let (origin, source) = origin(a);
        let owner = owner(a);
        let stage = if ex.stage {
            stage_json(a.stage)
        } else {
            Value::String(stage_id(a.stage))
        };
        let stage_changes: Vec<Value> = (0..=a.stage)
            .map(|i| {
                json!({
                    "toStageId": stage_id(i),
                    "toStageIndex": i,
                    "updatedAt": entered_stage(a, i),
                    "userId": user_id(owner),
                })
            })
            .collect();
        let applications = if ex.applications {
            vec![self.application_json(a)]
        } else {
            vec![Value::String(ids::uuid(Kind::Application, a.id))]
        };
        let archived = archived(a);
        let contact = match (ex.contact, c) {
            (true, Some(c)) => self.contact_json(c),
            _ => Value::String(ids::uuid(Kind::Contact, a.candidate_id)),
        };
        json!({
            "id": id,
            "name": c.map(GenCandidate::full_name),
            "headline": c.map(headline),
            "contact": contact,
            "emails": c.map(|c| vec![c.email.clone()]).unwrap_or_default(),
            "phones": c.map(|c| vec![json!({"type": "mobile", "value": c.phone})]).unwrap_or_default(),
            "confidentiality": "non-confidential",
            "location": c.map(|c| format!("{}, {}", c.city, c.state)),
            "links": [],
            "archived": archived_json(a),
            "archivedAt": archived.map(|(_, at)| at),
            "archiveReason": archived.map(|(r, _)| ids::uuid(Kind::ArchiveReason, r)),
            "createdAt": ms(a.created_at),
            "updatedAt": updated_at(a),
            "lastInteractionAt": ms(a.last_activity_at),
            "lastAdvancedAt": stage_changes.last().and_then(|s| s.get("updatedAt").cloned()),
            "snoozedUntil": null,
            "stage": stage,
            "stageChanges": stage_changes,
            "owner": user_ref(owner, ex.owner),
            "sourcedBy": (origin == "sourced").then(|| user_ref(owner, ex.sourced_by)),
            "origin": origin,
            "sources": [source],
            "tags": self.opportunity_tags(a),
            "followers": [user_ref(owner, ex.followers)],
            "applications": applications,
            "resume": null,
            "urls": {
                "list": format!("{}/candidates", self.base_url),
                "show": format!("{}/candidates/{id}", self.base_url),
            },
            "isAnonymized": c.is_some_and(|c| c.anonymized),
            "dataProtection": null,
            "opportunityLocation": job.map(|j| j.location.clone()),
        })
    }

    fn contact_json(&self, c: &GenCandidate) -> Value {
        json!({
            "id": ids::uuid(Kind::Contact, c.id),
            "name": c.full_name(),
            "headline": headline(c),
            "isAnonymized": c.anonymized,
            "location": {"name": format!("{}, {}", c.city, c.state)},
            "emails": [c.email],
            "phones": [{"type": "mobile", "value": c.phone}],
        })
    }

    pub(super) fn application_json(&self, a: &GenApplication) -> Value {
        let id = opportunity_id(a);
        let ty = match origin(a).0 {
            "applied" => "posting",
            "referred" => "referral",
            _ => "user",
        };
        json!({
            "id": ids::uuid(Kind::Application, a.id),
            "type": ty,
            "candidateId": id,
            "opportunityId": id,
            "posting": posting_id(a.job_id),
            "postingHiringManager": user_id(2),
            "postingOwner": user_id(3),
            "name": null,
            "company": null,
            "phone": null,
            "email": null,
            "links": [],
            "comments": null,
            "user": (ty != "posting").then(|| user_id(owner(a))),
            "customQuestions": [],
            "createdAt": ms(a.created_at),
            "archived": archived_json(a),
            "requisitionForHire": null,
        })
    }

    pub(super) fn posting_json(&self, j: &GenJob, content: bool) -> Value {
        let id = posting_id(j.id);
        let state = posting_state(j.state);
        let urls = (j.state != JobState::Draft).then(|| {
            json!({
                "list": format!("{}/jobs", self.base_url),
                "show": format!("{}/jobs/{id}", self.base_url),
                "apply": format!("{}/jobs/{id}/apply", self.base_url),
            })
        });
        let department = self.tenant.department_name(j.department_id);
        let mut v = json!({
            "id": id,
            "text": j.title,
            "state": state,
            "distributionChannels": (state == "published").then_some(["public", "internal"]),
            "user": user_id(2),
            "owner": user_id(3),
            "hiringManager": user_id(2),
            "categories": {
                "team": team(j.family),
                "department": department,
                "location": j.location,
                "commitment": j.employment_type,
                "level": null,
                "allLocations": [j.location],
            },
            "tags": [],
            "country": "US",
            "followers": [user_id(3)],
            "reqCode": format!("REQ-{}", j.id),
            "requisitionCodes": [format!("REQ-{}", j.id)],
            "urls": urls,
            "confidentiality": "non-confidential",
            "createdAt": ms(j.created_at),
            "updatedAt": ms(j.updated_at),
            "workplaceType": "unspecified",
        });
        if content && let Some(o) = v.as_object_mut() {
            o.insert("content".into(), posting_content(j));
        }
        v
    }

    pub(super) fn resume_id(a: &GenApplication) -> String {
        // A new upload is a new resume: the id follows the upload time.
        let upload = ms(a.attachment_updated_at) as u64;
        ids::uuid(Kind::Resume, a.attachment_id ^ upload.rotate_left(32))
    }

    pub(super) fn resume_json(&self, a: &GenApplication) -> Option<Value> {
        let c = self.tenant.candidate(a.candidate_id)?;
        let oid = opportunity_id(a);
        let rid = Lever::resume_id(a);
        let month = 1 + (ids::hash(Kind::Resume, c.id) % 12) as u32;
        // Lever's parser cannot read a scan or a damaged file either.
        let parsed = if c.resume_file.readable() {
            c.clone()
        } else {
            GenCandidate {
                experience: Vec::new(),
                education: Vec::new(),
                ..c.clone()
            }
        };
        let positions: Vec<Value> = parsed
            .experience
            .iter()
            .map(|e| {
                json!({
                    "org": e.company,
                    "title": e.title,
                    "summary": e.bullets.join("\n"),
                    "location": e.end_year.is_none().then(|| format!("{}, {}", c.city, c.state)),
                    // One month for every boundary keeps durations whole years, as in the resume text.
                    "start": {"year": e.start_year, "month": month},
                    "end": e.end_year.map(|y| json!({"year": y, "month": month})),
                })
            })
            .collect();
        let schools: Vec<Value> = parsed
            .education
            .iter()
            .map(|e| {
                json!({
                    "org": e.school,
                    "degree": e.degree,
                    "field": e.discipline,
                    "summary": null,
                    "start": {"year": e.start_year, "month": 9},
                    "end": {"year": e.end_year, "month": 6},
                })
            })
            .collect();
        let uploaded = ms(a.attachment_updated_at);
        Some(json!({
            "id": rid,
            "createdAt": uploaded,
            "file": {
                "name": c.resume_filename(),
                "ext": c.resume_file.extension(),
                "downloadUrl": format!("{}/v1/opportunities/{oid}/resumes/{rid}/download", self.base_url),
                "uploadedAt": uploaded,
                "status": "processed",
                "size": c.resume_bytes().len(),
            },
            "parsedData": {"positions": positions, "schools": schools},
        }))
    }
}

pub(super) fn posting_state(s: JobState) -> &'static str {
    match s {
        JobState::Open => "published",
        JobState::Closed => "closed",
        JobState::Draft => "draft",
    }
}

/// The posting text. `descriptionHtml`, then each list as
/// `<h3>{text}</h3><ul>{content}</ul>`, is exactly the Greenhouse job post
/// HTML of the same job ([`GenJob::description_html`]), so the skills in the
/// Requirements and Nice to have lists reach scoring the same way.
fn posting_content(j: &GenJob) -> Value {
    let li = |items: &[String]| -> String {
        items
            .iter()
            .map(|i| format!("<li>{}</li>", html_escape(i)))
            .collect()
    };
    let plain = |items: &[String]| -> String { items.iter().map(|i| format!("{i}\n")).collect() };
    json!({
        "description": format!("{}\n", j.intro),
        "descriptionHtml": format!("<p>{}</p>", html_escape(&j.intro)),
        "lists": [
            {"text": "What you will do", "content": li(&j.responsibilities), "contentPlain": plain(&j.responsibilities)},
            {"text": "Requirements", "content": li(&j.requirements), "contentPlain": plain(&j.requirements)},
            {"text": "Nice to have", "content": li(&j.nice_to_have), "contentPlain": plain(&j.nice_to_have)},
        ],
        "closing": CLOSING,
        "closingHtml": format!("<p>{CLOSING}</p>"),
    })
}

/// Contact headline: the companies worked at, most recent first.
fn headline(c: &GenCandidate) -> String {
    let mut seen: Vec<&str> = Vec::new();
    for e in &c.experience {
        if !seen.contains(&e.company.as_str()) {
            seen.push(&e.company);
        }
    }
    seen.join(", ")
}

pub(super) fn note_json(n: &Note) -> Value {
    let fields: Vec<Value> = n
        .fields
        .iter()
        .map(|f| {
            json!({
                "type": "note",
                "text": "Comment",
                "value": f.value,
                "score": f.score,
                "stage": f.stage,
                "user": user_id(f.user),
                "createdAt": ms(f.created_at),
            })
        })
        .collect();
    json!({
        "id": ids::uuid(Kind::Note, n.serial),
        "text": "Note",
        "fields": fields,
        "user": user_id(n.user),
        "secret": n.secret,
        "completedAt": ms(n.created_at),
        "deletedAt": null,
        "createdAt": ms(n.created_at),
    })
}

/// Users visible in `/v1/users` (deactivated ones only on request).
pub(super) fn users(include_deactivated: bool) -> impl Iterator<Item = &'static User> {
    USERS
        .iter()
        .filter(move |u| include_deactivated || !u.deactivated)
}

/// The integration user's id (`connection.sub`).
pub(super) fn integration_user_id() -> String {
    user_id(INTEGRATION_USER)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sandbox::data::Tenant;

    #[test]
    fn posting_content_rebuilds_the_job_post_html() {
        let t = Tenant::generate(7, 3, 5);
        let j = &t.jobs[0];
        let c = posting_content(j);
        let mut html = c["descriptionHtml"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        for l in c["lists"].as_array().into_iter().flatten() {
            html.push_str(&format!(
                "<h3>{}</h3><ul>{}</ul>",
                l["text"].as_str().unwrap_or_default(),
                l["content"].as_str().unwrap_or_default()
            ));
        }
        assert_eq!(html, j.description_html());
        for s in j.required_skills.iter().chain(&j.nice_skills) {
            assert!(html.contains(s.as_str()), "{s}");
        }
    }

    #[test]
    fn stage_ids_round_trip() {
        for i in 0..STAGES.len() {
            assert_eq!(stage_index(&stage_id(i)), Some(i));
        }
        assert_eq!(stage_id(0), "applicant-new");
        assert_eq!(stage_index("lead-new"), None);
    }
}
