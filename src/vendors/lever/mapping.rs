//! Lever API v1 payloads and their mapping to the common model (pure).
//!
//! Lever's person is a contact; an opportunity is the contact's candidacy
//! with at most one application, which names the posting. So the common
//! model's application id is the opportunity id, its candidate id the
//! contact id and its job id the posting id.

use std::collections::HashSet;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Deserializer};

use crate::model::resume::{education_level, parse_resume};
use crate::model::text::html_to_text;
use crate::model::{
    Application, ApplicationStatus, Candidate, Education, EmploymentType, Job, JobStatus, Person,
    PersonalInfo, Resume, StructuredResume, WorkExperience,
};
use crate::vendors::greenhouse::mapping::split_requirements;

/// `null` and a missing field both read as empty.
fn nullable_vec<'de, D, T>(d: D) -> Result<Vec<T>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<Vec<T>>::deserialize(d).map(Option::unwrap_or_default)
}

/// The list envelope: `{"data": [...], "next": "<offset>", "hasNext": bool}`.
#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "camelCase", bound(deserialize = "T: Deserialize<'de>"))]
pub struct LvPage<T> {
    #[serde(default = "Vec::new", deserialize_with = "nullable_vec")]
    pub data: Vec<T>,
    #[serde(default)]
    pub next: Option<String>,
    #[serde(default)]
    pub has_next: Option<bool>,
}

impl<T> LvPage<T> {
    /// The `offset` of the next page; the last page has `hasNext: false` and no `next`.
    pub fn next_offset(&self) -> Option<&str> {
        let next = self.next.as_deref().filter(|n| !n.is_empty())?;
        self.has_next.unwrap_or(true).then_some(next)
    }
}

/// A reference that `expand` may inline: an id, or the object.
#[derive(Clone, Debug, Deserialize)]
#[serde(untagged)]
pub enum LvRef<T> {
    Id(String),
    Expanded(T),
}

#[derive(Clone, Debug, Deserialize)]
pub struct LvIdOnly {
    pub id: String,
}

#[derive(Clone, Debug, Deserialize)]
pub struct LvStage {
    pub id: String,
    #[serde(default)]
    pub text: Option<String>,
}

#[derive(Clone, Debug, Deserialize)]
pub struct LvUser {
    pub id: String,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub email: Option<String>,
}

#[derive(Clone, Debug, Default, Deserialize)]
pub struct LvCategories {
    #[serde(default)]
    pub commitment: Option<String>,
    #[serde(default)]
    pub department: Option<String>,
    #[serde(default)]
    pub location: Option<String>,
    #[serde(default)]
    pub team: Option<String>,
}

#[derive(Clone, Debug, Deserialize)]
pub struct LvList {
    #[serde(default)]
    pub text: Option<String>,
    /// `<li>` items as HTML.
    #[serde(default)]
    pub content: Option<String>,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LvContent {
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub description_html: Option<String>,
    #[serde(default = "Vec::new", deserialize_with = "nullable_vec")]
    pub lists: Vec<LvList>,
    #[serde(default)]
    pub closing: Option<String>,
    #[serde(default)]
    pub closing_html: Option<String>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LvPosting {
    pub id: String,
    #[serde(default)]
    pub text: Option<String>,
    #[serde(default)]
    pub state: Option<String>,
    #[serde(default)]
    pub categories: Option<LvCategories>,
    /// Present with `include=content`.
    #[serde(default)]
    pub content: Option<LvContent>,
    #[serde(default)]
    pub hiring_manager: Option<LvRef<LvUser>>,
    #[serde(default)]
    pub created_at: Option<i64>,
    #[serde(default)]
    pub updated_at: Option<i64>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LvArchived {
    #[serde(default)]
    pub reason: Option<String>,
    #[serde(default)]
    pub archived_at: Option<i64>,
}

#[derive(Clone, Debug, Deserialize)]
pub struct LvPhone {
    #[serde(default)]
    pub value: Option<String>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LvApplication {
    pub id: String,
    #[serde(default)]
    pub posting: Option<String>,
    #[serde(default)]
    pub created_at: Option<i64>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LvOpportunity {
    pub id: String,
    #[serde(default)]
    pub name: Option<String>,
    /// The person across opportunities.
    #[serde(default)]
    pub contact: Option<LvRef<LvIdOnly>>,
    #[serde(default)]
    pub stage: Option<LvRef<LvStage>>,
    /// The candidate's own location (personal).
    #[serde(default)]
    pub location: Option<String>,
    #[serde(default = "Vec::new", deserialize_with = "nullable_vec")]
    pub emails: Vec<String>,
    #[serde(default = "Vec::new", deserialize_with = "nullable_vec")]
    pub phones: Vec<LvPhone>,
    #[serde(default)]
    pub archived: Option<LvArchived>,
    /// Legacy spelling of `archived.reason`.
    #[serde(default)]
    pub archive_reason: Option<String>,
    #[serde(default = "Vec::new", deserialize_with = "nullable_vec")]
    pub sources: Vec<String>,
    #[serde(default)]
    pub origin: Option<String>,
    #[serde(default = "Vec::new", deserialize_with = "nullable_vec")]
    pub applications: Vec<LvRef<LvApplication>>,
    #[serde(default)]
    pub created_at: Option<i64>,
    /// `null` on opportunities untouched since before Lever had the field.
    #[serde(default)]
    pub updated_at: Option<i64>,
    /// Anonymized for data protection (GDPR): the person is erased.
    #[serde(default)]
    pub is_anonymized: Option<bool>,
}

impl LvOpportunity {
    /// The contact id; an opportunity without one stands for its own person.
    pub fn contact_id(&self) -> &str {
        match &self.contact {
            Some(LvRef::Id(id)) if !id.is_empty() => id,
            Some(LvRef::Expanded(c)) if !c.id.is_empty() => &c.id,
            _ => &self.id,
        }
    }

    /// The expanded application that names a posting (there is at most one).
    pub fn application(&self) -> Option<&LvApplication> {
        self.applications.iter().find_map(|a| match a {
            LvRef::Expanded(a) if a.posting.as_deref().is_some_and(|p| !p.is_empty()) => Some(a),
            _ => None,
        })
    }

    /// The posting applied to; `None` for leads.
    pub fn posting_id(&self) -> Option<&str> {
        self.application().and_then(|a| a.posting.as_deref())
    }

    pub fn archive_reason(&self) -> Option<&str> {
        self.archived
            .as_ref()
            .and_then(|a| a.reason.as_deref())
            .or(self.archive_reason.as_deref())
    }

    pub fn is_archived(&self) -> bool {
        self.archived.is_some() || self.archive_reason.is_some()
    }
}

#[derive(Clone, Debug, Deserialize)]
pub struct LvYearMonth {
    #[serde(default)]
    pub year: Option<i32>,
}

#[derive(Clone, Debug, Deserialize)]
pub struct LvPosition {
    #[serde(default)]
    pub org: Option<String>,
    #[serde(default)]
    pub title: Option<String>,
    #[serde(default)]
    pub summary: Option<String>,
    #[serde(default)]
    pub start: Option<LvYearMonth>,
    /// Absent or `null` for the current position.
    #[serde(default)]
    pub end: Option<LvYearMonth>,
}

#[derive(Clone, Debug, Deserialize)]
pub struct LvSchool {
    #[serde(default)]
    pub org: Option<String>,
    #[serde(default)]
    pub degree: Option<String>,
    #[serde(default)]
    pub field: Option<String>,
    #[serde(default)]
    pub summary: Option<String>,
    #[serde(default)]
    pub start: Option<LvYearMonth>,
    #[serde(default)]
    pub end: Option<LvYearMonth>,
}

#[derive(Clone, Debug, Default, Deserialize)]
pub struct LvParsedData {
    #[serde(default = "Vec::new", deserialize_with = "nullable_vec")]
    pub positions: Vec<LvPosition>,
    #[serde(default = "Vec::new", deserialize_with = "nullable_vec")]
    pub schools: Vec<LvSchool>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LvFile {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub ext: Option<String>,
    #[serde(default)]
    pub download_url: Option<String>,
    #[serde(default)]
    pub uploaded_at: Option<i64>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LvResume {
    pub id: String,
    #[serde(default)]
    pub created_at: Option<i64>,
    #[serde(default)]
    pub file: Option<LvFile>,
    #[serde(default)]
    pub parsed_data: Option<LvParsedData>,
}

impl LvResume {
    /// Orders resumes by upload time (ties by id).
    pub fn recency(&self) -> (Option<i64>, &str) {
        (
            self.file
                .as_ref()
                .and_then(|f| f.uploaded_at)
                .or(self.created_at),
            &self.id,
        )
    }
}

/// The most recently uploaded resume.
pub fn newest(resumes: &[LvResume]) -> Option<&LvResume> {
    resumes.iter().max_by(|a, b| a.recency().cmp(&b.recency()))
}

#[derive(Clone, Debug, Deserialize)]
pub struct LvNoteField {
    #[serde(default)]
    pub value: Option<serde_json::Value>,
}

#[derive(Clone, Debug, Deserialize)]
pub struct LvNote {
    #[serde(default = "Vec::new", deserialize_with = "nullable_vec")]
    pub fields: Vec<LvNoteField>,
}

impl LvNote {
    /// The text of the field that carries the operator's marker, if any.
    pub fn operator_body(&self) -> Option<String> {
        self.fields
            .iter()
            .filter_map(|f| f.value.as_ref().and_then(|v| v.as_str()))
            .find(|v| crate::vendors::NoteMark::parse(v).is_some())
            .map(str::to_string)
    }

    pub fn contains(&self, needle: &str) -> bool {
        self.fields.iter().any(|f| {
            f.value
                .as_ref()
                .and_then(|v| v.as_str())
                .is_some_and(|v| v.contains(needle))
        })
    }
}

#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LvDeleted {
    pub id: String,
    #[serde(default)]
    pub deleted_at: Option<i64>,
}

#[derive(Clone, Debug, Deserialize)]
pub struct LvArchiveReason {
    pub id: String,
    #[serde(default)]
    pub text: Option<String>,
    #[serde(rename = "type", default)]
    pub kind: Option<String>,
}

/// Epoch milliseconds.
pub fn ms(t: Option<i64>) -> Option<DateTime<Utc>> {
    t.and_then(DateTime::from_timestamp_millis)
}

pub fn job_status(state: Option<&str>) -> JobStatus {
    match state {
        Some("published" | "internal") => JobStatus::Open,
        Some("draft" | "pending") => JobStatus::Draft,
        // closed, rejected (a declined approval), and anything new.
        _ => JobStatus::Closed,
    }
}

fn employment_type(commitment: Option<&str>) -> Option<EmploymentType> {
    let c = commitment?.to_ascii_lowercase();
    if c.contains("part") {
        Some(EmploymentType::PartTime)
    } else if c.contains("contract") || c.contains("temp") || c.contains("freelance") {
        Some(EmploymentType::Contract)
    } else if c.contains("full") || c.contains("permanent") {
        Some(EmploymentType::FullTime)
    } else {
        None
    }
}

/// The posting's whole text as HTML: description, each list under its
/// heading (requirements live in the lists), closing.
pub fn posting_html(c: &LvContent) -> String {
    let mut html = match (&c.description_html, &c.description) {
        (Some(h), _) if !h.trim().is_empty() => h.clone(),
        (_, Some(d)) => format!("<p>{}</p>", escape(d)),
        _ => String::new(),
    };
    for l in &c.lists {
        if let Some(t) = l.text.as_deref().filter(|t| !t.trim().is_empty()) {
            html.push_str(&format!("<h3>{}</h3>", escape(t)));
        }
        html.push_str(&format!("<ul>{}</ul>", l.content.as_deref().unwrap_or("")));
    }
    match (&c.closing_html, &c.closing) {
        (Some(h), _) if !h.trim().is_empty() => html.push_str(h),
        (_, Some(d)) if !d.trim().is_empty() => html.push_str(&format!("<p>{}</p>", escape(d))),
        _ => {}
    }
    html
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

fn non_empty(s: Option<&str>) -> Option<String> {
    s.map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
}

pub fn job(p: &LvPosting) -> Job {
    let description = p
        .content
        .as_ref()
        .map(|c| html_to_text(&posting_html(c)))
        .unwrap_or_default();
    let (requirements, nice_to_have) = split_requirements(&description);
    let cat = p.categories.clone().unwrap_or_default();
    Job {
        id: p.id.clone(),
        title: p.text.clone().unwrap_or_default(),
        description,
        requirements,
        nice_to_have,
        location: non_empty(cat.location.as_deref()),
        employment_type: employment_type(cat.commitment.as_deref()),
        department: non_empty(cat.department.as_deref()).or(non_empty(cat.team.as_deref())),
        hiring_manager: p.hiring_manager.as_ref().map(|h| match h {
            LvRef::Id(id) => Person {
                id: id.clone(),
                name: None,
                email: None,
            },
            LvRef::Expanded(u) => Person {
                id: u.id.clone(),
                name: u.name.clone(),
                email: u.email.clone(),
            },
        }),
        status: job_status(p.state.as_deref()),
        created_at: ms(p.created_at),
        updated_at: ms(p.updated_at),
    }
}

/// Archived with a hired reason: hired; archived otherwise: rejected; else
/// by pipeline stage (a stage named "Hired" exists in some accounts).
pub fn application_status(
    o: &LvOpportunity,
    stage: Option<&str>,
    hired_reasons: &HashSet<String>,
) -> ApplicationStatus {
    if o.is_archived() {
        return match o.archive_reason() {
            Some(r) if hired_reasons.contains(r) => ApplicationStatus::Hired,
            _ => ApplicationStatus::Rejected,
        };
    }
    let s = stage.unwrap_or("").to_ascii_lowercase();
    if s.contains("hired") {
        ApplicationStatus::Hired
    } else if s.is_empty()
        || s.ends_with("-new")
        || s.contains("new")
        || s.contains("application review")
    {
        ApplicationStatus::New
    } else if s.contains("offer")
        || s.contains("onsite")
        || s.contains("on-site")
        || s.contains("final")
    {
        ApplicationStatus::Shortlisted
    } else {
        ApplicationStatus::Reviewed
    }
}

/// The stage's name when expanded, else its id.
pub fn stage_name(o: &LvOpportunity) -> Option<String> {
    match o.stage.as_ref()? {
        LvRef::Id(id) => non_empty(Some(id)),
        LvRef::Expanded(s) => non_empty(s.text.as_deref()).or(non_empty(Some(&s.id))),
    }
}

/// An application; `None` for leads (no posting).
pub fn application(o: &LvOpportunity, hired_reasons: &HashSet<String>) -> Option<Application> {
    let app = o.application()?;
    let stage = stage_name(o);
    Some(Application {
        id: o.id.clone(),
        candidate_id: o.contact_id().to_string(),
        job_id: app.posting.clone()?,
        status: application_status(o, stage.as_deref(), hired_reasons),
        stage,
        applied_at: ms(app.created_at.or(o.created_at)),
        updated_at: ms(o.updated_at),
        number_fields: Default::default(),
    })
}

fn year_range(start: Option<&LvYearMonth>, end: Option<&LvYearMonth>) -> Option<String> {
    let start = start?.year?;
    Some(match end.and_then(|e| e.year) {
        Some(e) => format!(" ({start} - {e})"),
        None => format!(" ({start} - present)"),
    })
}

/// `parsedData` as resume text in the layout the resume parser reads, so the
/// scorer finds skills named in position summaries. Position locations are
/// left out (they place the person).
pub fn parsed_text(p: &LvParsedData) -> String {
    let mut s = String::new();
    if !p.positions.is_empty() {
        s.push_str("EXPERIENCE\n");
        for x in &p.positions {
            let title = x.title.as_deref().unwrap_or("").trim();
            let head = match x.org.as_deref().map(str::trim).filter(|o| !o.is_empty()) {
                Some(org) if !title.is_empty() => format!("{title}, {org}"),
                Some(org) => org.to_string(),
                None => title.to_string(),
            };
            s.push_str(&head);
            if let Some(r) = year_range(x.start.as_ref(), x.end.as_ref()) {
                s.push_str(&r);
            }
            s.push('\n');
            for line in x.summary.as_deref().unwrap_or("").lines() {
                let line = line.trim().trim_start_matches(['-', '*', '•']).trim();
                if !line.is_empty() {
                    s.push_str(&format!("- {line}\n"));
                }
            }
        }
    }
    if !p.schools.is_empty() {
        if !s.is_empty() {
            s.push('\n');
        }
        s.push_str("EDUCATION\n");
        for x in &p.schools {
            let degree = x.degree.as_deref().unwrap_or("").trim();
            let mut head = match x.field.as_deref().map(str::trim).filter(|f| !f.is_empty()) {
                Some(f) if !degree.is_empty() => format!("{degree} in {f}"),
                Some(f) => f.to_string(),
                None => degree.to_string(),
            };
            if let Some(org) = x.org.as_deref().map(str::trim).filter(|o| !o.is_empty()) {
                head = if head.is_empty() {
                    org.to_string()
                } else {
                    format!("{head}, {org}")
                };
            }
            s.push_str(&head);
            if let (Some(st), Some(en)) = (
                x.start.as_ref().and_then(|y| y.year),
                x.end.as_ref().and_then(|y| y.year),
            ) {
                s.push_str(&format!(" ({st} - {en})"));
            }
            s.push('\n');
            for line in x.summary.as_deref().unwrap_or("").lines() {
                let line = line.trim();
                if !line.is_empty() {
                    s.push_str(&format!("- {line}\n"));
                }
            }
        }
    }
    s
}

pub fn work_experience(p: &LvParsedData) -> Vec<WorkExperience> {
    p.positions
        .iter()
        .filter_map(|x| {
            let title = non_empty(x.title.as_deref())?;
            Some(WorkExperience {
                title,
                company: non_empty(x.org.as_deref()),
                start_year: x.start.as_ref().and_then(|y| y.year),
                end_year: x.end.as_ref().and_then(|y| y.year),
            })
        })
        .collect()
}

pub fn education(p: &LvParsedData) -> Vec<Education> {
    p.schools
        .iter()
        .filter(|x| x.org.is_some() || x.degree.is_some())
        .map(|x| {
            let degree = non_empty(x.degree.as_deref());
            Education {
                school: non_empty(x.org.as_deref()),
                level: degree.as_deref().and_then(education_level),
                degree,
                discipline: non_empty(x.field.as_deref()),
            }
        })
        .collect()
}

fn split_name(name: Option<&str>) -> (Option<String>, Option<String>) {
    let Some(name) = name.map(str::trim).filter(|n| !n.is_empty()) else {
        return (None, None);
    };
    match name.rsplit_once(char::is_whitespace) {
        Some((first, last)) => (non_empty(Some(first)), non_empty(Some(last))),
        None => (Some(name.to_string()), None),
    }
}

/// A candidate from an opportunity and its newest resume. `file_text` is the
/// resume file's text when it could be read (PDF, DOCX, HTML or text); otherwise the text is built
/// from Lever's `parsedData`. Name, emails, phones and location go only into
/// [`PersonalInfo`]; the headline (often a list of employers) is not used as
/// the title: the current position's title is.
pub fn candidate(
    o: &LvOpportunity,
    resume: Option<&LvResume>,
    file_text: Option<String>,
) -> Candidate {
    let parsed = resume
        .and_then(|r| r.parsed_data.clone())
        .unwrap_or_default();
    let (text, mut structured) = match file_text.filter(|t| !t.trim().is_empty()) {
        Some(t) => {
            let s = parse_resume(&t);
            (t, s)
        }
        None => {
            let t = parsed_text(&parsed);
            let s = StructuredResume {
                skills: parse_resume(&t).skills,
                ..Default::default()
            };
            (t, s)
        }
    };
    // Lever's own parse is the better source of positions and schools.
    let work = work_experience(&parsed);
    if !work.is_empty() {
        structured.work_experience = work;
    }
    let edu = education(&parsed);
    if !edu.is_empty() {
        structured.education = edu;
    }
    let title = structured
        .work_experience
        .iter()
        .find(|w| w.end_year.is_none())
        .or(structured.work_experience.first())
        .map(|w| w.title.clone());
    let (first_name, last_name) = split_name(o.name.as_deref());
    Candidate {
        id: o.contact_id().to_string(),
        personal: PersonalInfo {
            first_name,
            last_name,
            email: o.emails.iter().find_map(|e| non_empty(Some(e))),
            phone: o.phones.iter().find_map(|p| non_empty(p.value.as_deref())),
            address: non_empty(o.location.as_deref()),
        },
        title,
        resume: Resume {
            url: resume
                .and_then(|r| r.file.as_ref())
                .and_then(|f| f.download_url.clone()),
            parsed_text: text,
            structured,
            readability: Default::default(),
        },
        source: o
            .sources
            .iter()
            .find_map(|s| non_empty(Some(s)))
            .or_else(|| non_empty(o.origin.as_deref())),
        updated_at: ms(o.updated_at),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{BlindCandidate, EducationLevel};

    /// The reference doc's recorded opportunity, with `expand=applications,stage`
    /// applied (the application is its recorded one, re-pointed at this opportunity).
    const OPPORTUNITY: &str = r#"{
      "id": "90bb80d6-db1b-4ba8-9d4f-8bcb25b6c017", "name": "Nango Test Candidate",
      "contact": "1419004b-c860-4c8f-a46a-4a5a9cccdee6", "headline": "Test Headline",
      "stage": {"id": "lead-new", "text": "New lead"}, "confidentiality": "non-confidential", "location": "Oakland, CA",
      "phones": [{"type": "mobile", "value": "(555) 123-4567"}], "emails": ["test@nango.dev"], "links": [],
      "archived": null,
      "tags": ["Test", "Nango Seed Posting 1 - Updated", "Research & Development", "Engineering", "San Francisco, CA", "Full-time"],
      "sources": ["LinkedIn"],
      "stageChanges": [{"toStageId": "lead-new", "toStageIndex": 0, "updatedAt": 1782975358767, "userId": "c4bc6266-375b-4d45-9b3b-ad527ba5f3ef"}],
      "origin": "sourced", "sourcedBy": "c4bc6266-375b-4d45-9b3b-ad527ba5f3ef", "owner": "c4bc6266-375b-4d45-9b3b-ad527ba5f3ef",
      "followers": ["32bc4d3b-1aa6-4e2b-92d0-2e575047001e"],
      "applications": [{"id": "7278da68-141b-4203-b209-8ca6c0fa1f2d", "type": "user",
         "candidateId": "90bb80d6-db1b-4ba8-9d4f-8bcb25b6c017", "opportunityId": "90bb80d6-db1b-4ba8-9d4f-8bcb25b6c017",
         "posting": "75ff237f-c221-4c26-8b23-faf395f5ea1c", "postingHiringManager": null,
         "postingOwner": "32bc4d3b-1aa6-4e2b-92d0-2e575047001e",
         "name": null, "company": null, "phone": null, "email": null, "links": [], "comments": null,
         "user": "32bc4d3b-1aa6-4e2b-92d0-2e575047001e", "customQuestions": [], "createdAt": 1782972986092,
         "archived": null, "requisitionForHire": null, "ipAddress": null, "referer": null, "userAgent": null,
         "acceptLanguage": null, "timezone": null}],
      "createdAt": 1782975358767, "updatedAt": 1782975358805, "lastInteractionAt": 1782975358769,
      "lastAdvancedAt": 1782975358767, "snoozedUntil": null,
      "urls": {"list": "https://hire.lever.co/candidates", "show": "https://hire.lever.co/candidates/90bb80d6-db1b-4ba8-9d4f-8bcb25b6c017"},
      "isAnonymized": false, "dataProtection": null, "opportunityLocation": "San Francisco, CA"
    }"#;

    const POSTING: &str = r#"{"id": "f00fc049-3ddb-4144-b23b-78688949ce2f", "text": "Nango Seed Posting 2", "state": "internal",
     "distributionChannels": null, "user": "32bc4d3b-1aa6", "owner": "32bc4d3b-1aa6", "hiringManager": null,
     "categories": {"commitment": "Full-time", "department": "Sales", "level": null, "location": "San Francisco, CA",
                    "team": "Account Executive", "allLocations": ["San Francisco, CA"]},
     "tags": [],
     "content": {"description": "Second seed posting\n", "descriptionHtml": "<div>Second seed posting</div>",
                 "lists": [{"text": "Requirements", "content": "<li>5+ years of SaaS sales</li><li>Salesforce</li>"},
                           {"text": "Nice to have", "content": "<li>Spanish</li>"}],
                 "closing": "We are an equal opportunity employer.", "closingHtml": "<div>We are an equal opportunity employer.</div>"},
     "country": "US", "followers": ["32bc4d3b-1aa6"], "reqCode": null, "requisitionCodes": [],
     "urls": null,
     "confidentiality": "non-confidential", "createdAt": 1782972983451, "updatedAt": 1782972983451,
     "workplaceType": "unspecified", "transcribeInterviews": false, "screening": {"enabled": false}}"#;

    const RESUME: &str = r#"{"id":"68b3e478-d2f5-4d1b-a9b7-000000000001","createdAt":1468953420000,
     "file":{"name":"JenniferOldeUpdated.pdf","ext":"pdf","downloadUrl":"https://hire.lever.co/candidates/63f6/resumes/68b3/download","uploadedAt":1468953420004,"status":"processed","size":1000},
     "parsedData":{"positions":[
        {"org":"Tomato Emporium","title":"VP of Marketing","summary":"Grew revenue with SQL dashboards and Tableau","location":"Los Angeles, CA","start":{"year":2012,"month":7},"end":{"year":2016,"month":3}},
        {"org":"Lever","title":"Head of Growth","summary":null,"location":"Oakland, CA","start":{"year":2016,"month":4},"end":null}],
      "schools":[{"org":"New York University Stern","degree":"BS Marketing","field":"Marketing","summary":"Dean's list","start":{"year":2007,"month":9},"end":{"year":2010,"month":5}}]}}"#;

    fn opp() -> LvOpportunity {
        serde_json::from_str(OPPORTUNITY).unwrap()
    }

    #[test]
    fn maps_opportunity_to_application() {
        let o = opp();
        assert_eq!(o.is_anonymized, Some(false));
        let a = application(&o, &HashSet::new()).unwrap();
        assert_eq!(a.id, "90bb80d6-db1b-4ba8-9d4f-8bcb25b6c017");
        assert_eq!(a.candidate_id, "1419004b-c860-4c8f-a46a-4a5a9cccdee6");
        assert_eq!(a.job_id, "75ff237f-c221-4c26-8b23-faf395f5ea1c");
        assert_eq!(a.stage.as_deref(), Some("New lead"));
        assert_eq!(a.status, ApplicationStatus::New);
        assert_eq!(a.applied_at, ms(Some(1782972986092)));
        assert_eq!(
            a.updated_at.map(|t| t.timestamp_millis()),
            Some(1782975358805)
        );
    }

    #[test]
    fn leads_without_a_posting_are_not_applications() {
        let mut o = opp();
        o.applications.clear();
        assert!(application(&o, &HashSet::new()).is_none());
        // Unexpanded applications name no posting either.
        o.applications = vec![LvRef::Id("7278da68".into())];
        assert!(application(&o, &HashSet::new()).is_none());
    }

    #[test]
    fn archived_and_stage_statuses() {
        let hired: HashSet<String> = ["hired-reason".to_string()].into();
        let mut o = opp();
        let archived =
            r#"{"reason": "c97322d4-a7f3-4008-948c-4f8e9c58d372", "archivedAt": 1782973996415}"#;
        o.archived = Some(serde_json::from_str(archived).unwrap());
        assert_eq!(
            application_status(&o, Some("Offer"), &hired),
            ApplicationStatus::Rejected
        );
        o.archived = Some(LvArchived {
            reason: Some("hired-reason".into()),
            archived_at: Some(1),
        });
        assert_eq!(
            application_status(&o, Some("Offer"), &hired),
            ApplicationStatus::Hired
        );
        // The legacy top-level field alone also archives.
        o.archived = None;
        o.archive_reason = Some("other".into());
        assert_eq!(
            application_status(&o, None, &hired),
            ApplicationStatus::Rejected
        );
        o.archive_reason = None;
        for (stage, want) in [
            (Some("applicant-new"), ApplicationStatus::New),
            (Some("Application Review"), ApplicationStatus::New),
            (Some("Recruiter Phone Screen"), ApplicationStatus::Reviewed),
            (Some("Onsite Interview"), ApplicationStatus::Shortlisted),
            (Some("offer"), ApplicationStatus::Shortlisted),
            (Some("Hired"), ApplicationStatus::Hired),
            (None, ApplicationStatus::New),
        ] {
            assert_eq!(application_status(&o, stage, &hired), want, "{stage:?}");
        }
    }

    #[test]
    fn maps_posting_with_lists_and_closing() {
        let p: LvPosting = serde_json::from_str(POSTING).unwrap();
        let j = job(&p);
        assert_eq!(j.id, "f00fc049-3ddb-4144-b23b-78688949ce2f");
        assert_eq!(j.title, "Nango Seed Posting 2");
        assert_eq!(j.status, JobStatus::Open);
        assert_eq!(j.employment_type, Some(EmploymentType::FullTime));
        assert_eq!(j.department.as_deref(), Some("Sales"));
        assert_eq!(j.location.as_deref(), Some("San Francisco, CA"));
        assert!(j.hiring_manager.is_none());
        assert!(j.description.contains("Second seed posting"));
        assert!(j.description.contains("equal opportunity"));
        assert!(!j.description.contains('<'));
        assert_eq!(j.requirements, vec!["5+ years of SaaS sales", "Salesforce"]);
        assert_eq!(j.nice_to_have, vec!["Spanish"]);
        assert_eq!(
            j.created_at.map(|t| t.timestamp_millis()),
            Some(1782972983451)
        );

        // Without include=content: no text, still a job.
        let mut bare = p.clone();
        bare.content = None;
        assert!(job(&bare).description.is_empty());
    }

    #[test]
    fn posting_states() {
        for (s, want) in [
            ("published", JobStatus::Open),
            ("internal", JobStatus::Open),
            ("closed", JobStatus::Closed),
            ("rejected", JobStatus::Closed),
            ("draft", JobStatus::Draft),
            ("pending", JobStatus::Draft),
        ] {
            assert_eq!(job_status(Some(s)), want, "{s}");
        }
    }

    #[test]
    fn resume_parsed_data_becomes_history_and_text() {
        let r: LvResume = serde_json::from_str(RESUME).unwrap();
        let c = candidate(&opp(), Some(&r), None);
        let w = &c.resume.structured.work_experience;
        assert_eq!(w.len(), 2);
        assert_eq!(w[0].title, "VP of Marketing");
        assert_eq!(w[0].company.as_deref(), Some("Tomato Emporium"));
        assert_eq!((w[0].start_year, w[0].end_year), (Some(2012), Some(2016)));
        assert_eq!(w[1].end_year, None);
        assert_eq!(c.title.as_deref(), Some("Head of Growth"));
        let e = &c.resume.structured.education;
        assert_eq!(e.len(), 1);
        assert_eq!(e[0].school.as_deref(), Some("New York University Stern"));
        assert_eq!(e[0].level, Some(EducationLevel::Bachelor));
        assert_eq!(e[0].discipline.as_deref(), Some("Marketing"));
        let text = &c.resume.parsed_text;
        assert!(text.contains("SQL dashboards and Tableau"), "{text}");
        assert!(
            text.contains("VP of Marketing, Tomato Emporium (2012 - 2016)"),
            "{text}"
        );
        assert!(
            text.contains("Head of Growth, Lever (2016 - present)"),
            "{text}"
        );
        // The text parses back to the same history.
        let back = parse_resume(text);
        assert_eq!(back.work_experience, *w);
        // Where the person worked from is not in the text.
        assert!(!text.contains("Oakland") && !text.contains("Los Angeles"));
        assert_eq!(
            c.resume.url.as_deref(),
            Some("https://hire.lever.co/candidates/63f6/resumes/68b3/download")
        );
    }

    #[test]
    fn text_file_supplies_skills() {
        let r: LvResume = serde_json::from_str(RESUME).unwrap();
        let file = "Nango Test Candidate\ntest@nango.dev\n\nEXPERIENCE\nHead of Growth, Lever (2016 - present)\n\nSKILLS\nSQL, Tableau\n";
        let c = candidate(&opp(), Some(&r), Some(file.into()));
        assert_eq!(c.resume.structured.skills, vec!["SQL", "Tableau"]);
        // parsedData's positions win over the file's.
        assert_eq!(c.resume.structured.work_experience.len(), 2);
        assert_eq!(c.resume.parsed_text, file);
    }

    #[test]
    fn personal_fields_stay_personal() {
        let c = candidate(&opp(), None, Some("Nango Test Candidate\ntest@nango.dev | (555) 123-4567 | Oakland, CA\n\nSKILLS\nRust".into()));
        assert_eq!(c.id, "1419004b-c860-4c8f-a46a-4a5a9cccdee6");
        assert_eq!(c.personal.first_name.as_deref(), Some("Nango Test"));
        assert_eq!(c.personal.last_name.as_deref(), Some("Candidate"));
        assert_eq!(c.personal.email.as_deref(), Some("test@nango.dev"));
        assert_eq!(c.personal.phone.as_deref(), Some("(555) 123-4567"));
        assert_eq!(c.personal.address.as_deref(), Some("Oakland, CA"));
        assert_eq!(c.source.as_deref(), Some("LinkedIn"));
        // The headline is not a title.
        assert_eq!(c.title, None);
        let blind = serde_json::to_string(&BlindCandidate::from_candidate(&c)).unwrap();
        for secret in [
            "test@nango.dev",
            "(555) 123-4567",
            "Oakland, CA",
            "Candidate",
        ] {
            assert!(!blind.contains(secret), "{secret} in {blind}");
        }
    }

    #[test]
    fn nulls_and_expanded_refs() {
        let o: LvOpportunity = serde_json::from_str(
            r#"{"id": "o1", "contact": {"id": "c1", "name": "X"}, "stage": "applicant-new",
                "emails": null, "phones": null, "sources": null, "applications": null, "updatedAt": null}"#,
        )
        .unwrap();
        assert_eq!(o.contact_id(), "c1");
        assert_eq!(stage_name(&o).as_deref(), Some("applicant-new"));
        assert!(o.updated_at.is_none() && o.emails.is_empty());
        let bare: LvOpportunity = serde_json::from_str(r#"{"id": "o2"}"#).unwrap();
        assert_eq!(bare.contact_id(), "o2");
    }

    #[test]
    fn paging_envelope() {
        let p: LvPage<LvDeleted> = serde_json::from_str(
            r#"{"data": [{"id": "a", "deletedAt": 1}], "next": "0.1414895548650.a6070140", "hasNext": true}"#,
        )
        .unwrap();
        assert_eq!(p.next_offset(), Some("0.1414895548650.a6070140"));
        let last: LvPage<LvDeleted> =
            serde_json::from_str(r#"{"data": [], "hasNext": false}"#).unwrap();
        assert_eq!(last.next_offset(), None);
        let stale: LvPage<LvDeleted> =
            serde_json::from_str(r#"{"data": [], "next": "x", "hasNext": false}"#).unwrap();
        assert_eq!(stale.next_offset(), None);
    }

    #[test]
    fn newest_resume_wins() {
        let r: LvResume = serde_json::from_str(RESUME).unwrap();
        let mut newer = r.clone();
        newer.id = "newer".into();
        if let Some(f) = &mut newer.file {
            f.uploaded_at = Some(1_500_000_000_000);
        }
        let all = [r, newer];
        assert_eq!(newest(&all).map(|r| r.id.as_str()), Some("newer"));
        assert!(newest(&[]).is_none());
    }

    #[test]
    fn notes_are_searched_by_field_value() {
        let n: LvNote = serde_json::from_str(
            r#"{"id": "7f80", "text": "Note", "fields": [{"type": "note", "text": "Comment", "value": "AI score 87 [ats-operator:k1]"}]}"#,
        )
        .unwrap();
        assert!(n.contains("[ats-operator:k1]"));
        assert!(!n.contains("[ats-operator:k2]"));
    }
}
