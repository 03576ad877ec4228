//! Greenhouse Harvest v3 payloads and their mapping to the common model (pure).

use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::Value;

use crate::model::resume::{education_level, parse_resume};
use crate::model::text::html_to_text;
use crate::model::{
    Application, ApplicationStatus, Candidate, Education, EmploymentType, Job, JobStatus,
    PersonalInfo, Resume, StructuredResume, WorkExperience,
};

#[derive(Clone, Debug, Deserialize)]
pub struct GhJob {
    pub id: i64,
    pub name: String,
    #[serde(default)]
    pub status: Option<String>,
    #[serde(default)]
    pub notes: Option<String>,
    #[serde(default)]
    pub department_id: Option<i64>,
    /// Not in v3 proper (the sandbox adds it); else resolved via `/v3/departments`.
    #[serde(default)]
    pub department_name: Option<String>,
    #[serde(default)]
    pub custom_fields: Option<Value>,
    #[serde(default)]
    pub created_at: Option<DateTime<Utc>>,
    #[serde(default)]
    pub updated_at: Option<DateTime<Utc>>,
}

#[derive(Clone, Debug, Deserialize)]
pub struct GhJobPost {
    pub id: i64,
    #[serde(default)]
    pub job_id: Option<i64>,
    #[serde(default)]
    pub content: Option<String>,
    #[serde(default)]
    pub location: Option<Value>,
    #[serde(default)]
    pub live: Option<bool>,
    #[serde(default)]
    pub external: Option<bool>,
}

#[derive(Clone, Debug, Deserialize)]
pub struct GhValue {
    pub value: Option<String>,
}

#[derive(Clone, Debug, Deserialize)]
pub struct GhCandidate {
    pub id: i64,
    #[serde(default)]
    pub first_name: Option<String>,
    #[serde(default)]
    pub last_name: Option<String>,
    #[serde(default)]
    pub title: Option<String>,
    #[serde(default)]
    pub email_addresses: Vec<GhValue>,
    #[serde(default)]
    pub phone_numbers: Vec<GhValue>,
    #[serde(default)]
    pub addresses: Vec<GhValue>,
    #[serde(default)]
    pub updated_at: Option<DateTime<Utc>>,
    /// Entered by the candidate or a recruiter (Harvest's candidate
    /// object); `null` or absent where the account does not collect them.
    #[serde(default)]
    pub employments: Option<Vec<GhEmployment>>,
    #[serde(default)]
    pub educations: Option<Vec<GhEducation>>,
}

#[derive(Clone, Debug, Deserialize)]
pub struct GhEmployment {
    #[serde(default)]
    pub company_name: Option<String>,
    #[serde(default)]
    pub title: Option<String>,
    #[serde(default)]
    pub start_date: Option<String>,
    /// Absent or `null` for the current position.
    #[serde(default)]
    pub end_date: Option<String>,
}

#[derive(Clone, Debug, Deserialize)]
pub struct GhEducation {
    #[serde(default)]
    pub school_name: Option<String>,
    #[serde(default)]
    pub degree: Option<String>,
    #[serde(default)]
    pub discipline: Option<String>,
    #[serde(default)]
    pub start_date: Option<String>,
    #[serde(default)]
    pub end_date: Option<String>,
}

#[derive(Clone, Debug, Deserialize)]
pub struct GhApplication {
    pub id: i64,
    #[serde(default)]
    pub candidate_id: Option<i64>,
    /// Prospects have no job.
    #[serde(default)]
    pub job_id: Option<i64>,
    #[serde(default)]
    pub status: Option<String>,
    #[serde(default)]
    pub stage_name: Option<String>,
    #[serde(default)]
    pub source_id: Option<i64>,
    #[serde(default)]
    pub created_at: Option<DateTime<Utc>>,
    #[serde(default)]
    pub updated_at: Option<DateTime<Utc>>,
    /// `{"<name_key>": {"type": .., "value": ..}}`.
    #[serde(default)]
    pub custom_fields: Option<Value>,
}

#[derive(Clone, Debug, Deserialize)]
pub struct GhAttachment {
    pub id: i64,
    #[serde(default)]
    pub candidate_id: Option<i64>,
    #[serde(default)]
    pub application_id: Option<i64>,
    #[serde(rename = "type", default)]
    pub kind: Option<String>,
    #[serde(default)]
    pub url: Option<String>,
    #[serde(default)]
    pub updated_at: Option<DateTime<Utc>>,
}

impl GhAttachment {
    pub fn is_resume(&self) -> bool {
        self.kind.as_deref() == Some("resume") && self.url.is_some()
    }
}

pub fn job_status(s: Option<&str>) -> JobStatus {
    match s {
        Some("open") => JobStatus::Open,
        Some("draft") => JobStatus::Draft,
        _ => JobStatus::Closed,
    }
}

fn employment_type(custom_fields: Option<&Value>) -> Option<EmploymentType> {
    let v = custom_fields?
        .get("employment_type")?
        .get("value")?
        .as_str()?;
    let v = v.to_ascii_lowercase();
    if v.contains("part") {
        Some(EmploymentType::PartTime)
    } else if v.contains("contract") || v.contains("temp") {
        Some(EmploymentType::Contract)
    } else if v.contains("full") {
        Some(EmploymentType::FullTime)
    } else {
        None
    }
}

/// Requirement and nice-to-have bullets from a job text, by the heading they follow.
pub fn split_requirements(text: &str) -> (Vec<String>, Vec<String>) {
    let (mut req, mut nice) = (Vec::new(), Vec::new());
    let mut section = 0u8; // 0 other, 1 requirements, 2 nice to have
    for line in text.lines().map(str::trim).filter(|l| !l.is_empty()) {
        let lower = line.to_ascii_lowercase();
        let bullet = line
            .strip_prefix("- ")
            .or_else(|| line.strip_prefix("• "))
            .or_else(|| line.strip_prefix("* "));
        match bullet {
            Some(b) if section == 1 => req.push(b.to_string()),
            Some(b) if section == 2 => nice.push(b.to_string()),
            Some(_) => {}
            None if lower.contains("nice to have")
                || lower.contains("bonus")
                || lower.contains("preferred") =>
            {
                section = 2
            }
            None if lower.contains("requirement")
                || lower.contains("what you need")
                || lower.contains("qualifications")
                || lower.contains("what you bring") =>
            {
                section = 1
            }
            None if line.len() < 60 && !line.ends_with('.') => section = 0,
            None => {}
        }
    }
    (req, nice)
}

/// A job with its post's public text (the description lives on the post in v3).
pub fn job(j: &GhJob, post: Option<&GhJobPost>) -> Job {
    let html = post
        .and_then(|p| p.content.as_deref())
        .or(j.notes.as_deref())
        .unwrap_or("");
    let description = html_to_text(html);
    let (requirements, nice_to_have) = split_requirements(&description);
    Job {
        id: j.id.to_string(),
        title: j.name.clone(),
        description,
        requirements,
        nice_to_have,
        location: post
            .and_then(|p| p.location.as_ref())
            .and_then(|l| l.get("name").and_then(Value::as_str).map(str::to_string)),
        employment_type: employment_type(j.custom_fields.as_ref()),
        department: j.department_name.clone(),
        hiring_manager: None,
        status: job_status(j.status.as_deref()),
        created_at: j.created_at,
        updated_at: j.updated_at,
    }
}

fn first(v: &[GhValue]) -> Option<String> {
    v.iter()
        .find_map(|x| x.value.clone())
        .filter(|s| !s.is_empty())
}

/// The year of a Harvest date (`2012-08-15T00:00:00.000Z` or `2012-08-15`).
fn year(date: Option<&str>) -> Option<i32> {
    let y = date?.trim().get(..4)?.parse().ok()?;
    (1900..=2200).contains(&y).then_some(y)
}

fn non_empty(s: Option<&str>) -> Option<String> {
    s.map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
}

/// The candidate's employments and educations as the resume parser would
/// have read them.
pub fn profile(c: &GhCandidate) -> StructuredResume {
    let work_experience = c
        .employments
        .iter()
        .flatten()
        .filter_map(|e| {
            Some(WorkExperience {
                title: non_empty(e.title.as_deref())?,
                company: non_empty(e.company_name.as_deref()),
                start_year: year(e.start_date.as_deref()),
                end_year: year(e.end_date.as_deref()),
            })
        })
        .collect();
    let education = c
        .educations
        .iter()
        .flatten()
        .filter(|e| e.school_name.is_some() || e.degree.is_some())
        .map(|e| {
            let degree = non_empty(e.degree.as_deref());
            Education {
                school: non_empty(e.school_name.as_deref()),
                level: degree.as_deref().and_then(education_level),
                degree,
                discipline: non_empty(e.discipline.as_deref()),
            }
        })
        .collect();
    StructuredResume {
        work_experience,
        education,
        skills: Vec::new(),
    }
}

/// A profile as resume text in the layout the parser reads, so a candidate
/// whose file is unreadable is scored on what Greenhouse holds.
fn profile_text(p: &StructuredResume) -> String {
    let mut s = String::new();
    if !p.work_experience.is_empty() {
        s.push_str("EXPERIENCE\n");
        for w in &p.work_experience {
            s.push_str(&w.title);
            if let Some(co) = &w.company {
                s.push_str(&format!(", {co}"));
            }
            if let Some(start) = w.start_year {
                match w.end_year {
                    Some(end) => s.push_str(&format!(" ({start} - {end})")),
                    None => s.push_str(&format!(" ({start} - present)")),
                }
            }
            s.push('\n');
        }
    }
    if !p.education.is_empty() {
        if !s.is_empty() {
            s.push('\n');
        }
        s.push_str("EDUCATION\n");
        for e in &p.education {
            let degree = e.degree.as_deref().unwrap_or("");
            let mut line = match &e.discipline {
                Some(d) if !degree.is_empty() => format!("{degree} in {d}"),
                Some(d) => d.clone(),
                None => degree.to_string(),
            };
            if let Some(school) = &e.school {
                if !line.is_empty() {
                    line.push_str(", ");
                }
                line.push_str(school);
            }
            s.push_str(&line);
            s.push('\n');
        }
    }
    s
}

/// A candidate; personal fields go only into [`PersonalInfo`]. The resume
/// file's text wins; Greenhouse's employments and educations fill what it
/// lacks, and stand in for it when there is no readable file.
pub fn candidate(
    c: &GhCandidate,
    resume_url: Option<String>,
    resume_text: Option<String>,
) -> Candidate {
    let profile = profile(c);
    let text = resume_text
        .filter(|t| !t.trim().is_empty())
        .unwrap_or_else(|| profile_text(&profile));
    let mut structured = parse_resume(&text);
    if structured.work_experience.is_empty() {
        structured.work_experience = profile.work_experience;
    }
    if structured.education.is_empty() {
        structured.education = profile.education;
    }
    Candidate {
        id: c.id.to_string(),
        personal: PersonalInfo {
            first_name: c.first_name.clone(),
            last_name: c.last_name.clone(),
            email: first(&c.email_addresses),
            phone: first(&c.phone_numbers),
            address: first(&c.addresses),
        },
        title: c.title.clone(),
        resume: Resume {
            url: resume_url,
            structured,
            parsed_text: text,
            readability: Default::default(),
        },
        source: None,
        updated_at: c.updated_at,
    }
}

/// Greenhouse's statuses (`in_process`, `rejected`, `hired`, `converted`) and stage
/// to the common status.
pub fn application_status(status: Option<&str>, stage: Option<&str>) -> ApplicationStatus {
    match status {
        Some("rejected") => ApplicationStatus::Rejected,
        Some("hired") => ApplicationStatus::Hired,
        Some("converted") => ApplicationStatus::Reviewed,
        _ => {
            let stage = stage.unwrap_or("").to_ascii_lowercase();
            if stage.is_empty() || stage.contains("application review") || stage.contains("new") {
                ApplicationStatus::New
            } else if stage.contains("offer") || stage.contains("onsite") || stage.contains("final")
            {
                ApplicationStatus::Shortlisted
            } else {
                ApplicationStatus::Reviewed
            }
        }
    }
}

/// An application; `None` for prospects (no job) and orphans (no candidate).
pub fn application(a: &GhApplication) -> Option<Application> {
    Some(Application {
        id: a.id.to_string(),
        candidate_id: a.candidate_id?.to_string(),
        job_id: a.job_id?.to_string(),
        status: application_status(a.status.as_deref(), a.stage_name.as_deref()),
        stage: a.stage_name.clone(),
        applied_at: a.created_at,
        updated_at: a.updated_at,
        number_fields: a
            .custom_fields
            .as_ref()
            .and_then(Value::as_object)
            .map(|m| {
                m.iter()
                    .filter_map(|(k, f)| Some((k.clone(), f.get("value")?.as_i64()?)))
                    .collect()
            })
            .unwrap_or_default(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const APP: &str = r#"{"id": 985314, "candidate_id": 53883394, "job_id": 6404, "job_post_id": 123, "prospect": false,
     "status": "in_process", "stage_id": 771001, "stage_name": "Recruiter Phone Screen", "custom_fields": {},
     "last_activity_at": "2024-03-02T10:00:00.000Z", "created_at": "2024-01-15T03:31:46.637Z", "updated_at": "2024-03-02T10:00:00.000Z"}"#;

    const CANDIDATE: &str = r#"{"id": 53883394, "first_name": "John", "last_name": "Locke", "company": "The Tustin Box Company",
     "title": "Customer Success Representative", "private": false, "tags": ["Python"],
     "phone_numbers": [{"value": "555-555-5555", "type": "mobile"}], "addresses": [{"value": "123 City St", "type": "home"}],
     "email_addresses": [{"value": "john@example.com", "type": "personal"}],
     "custom_fields": {"ai_score": {"name": "AI Score", "type": "number", "value": 87}},
     "created_at": "2024-01-15T03:31:46.591Z", "updated_at": "2024-03-02T10:00:00.000Z"}"#;

    const JOB: &str = r#"{"id": 6404, "name": "Archaeologist", "requisition_id": "abc123", "notes": "<p>Dig.</p>",
     "status": "open", "department_id": 25907, "office_ids": [47012],
     "custom_fields": {"employment_type": {"name": "Time type", "type": "single_select", "value": "Full-Time"}},
     "created_at": "2024-01-09T14:42:58.000Z", "updated_at": "2024-03-02T10:00:00.000Z"}"#;

    #[test]
    fn maps_application() {
        let a: GhApplication = serde_json::from_str(APP).unwrap();
        let m = application(&a).unwrap();
        assert_eq!(m.id, "985314");
        assert_eq!(m.candidate_id, "53883394");
        assert_eq!(m.job_id, "6404");
        assert_eq!(m.status, ApplicationStatus::Reviewed);
        assert_eq!(m.stage.as_deref(), Some("Recruiter Phone Screen"));
        assert!(m.updated_at.is_some());
        assert!(m.number_fields.is_empty());
        let scored: GhApplication = serde_json::from_str(&APP.replace(
            r#""custom_fields": {}"#,
            r#""custom_fields": {"ai_score": {"name": "AI Score", "type": "number", "value": 87}, "note": {"type": "short_text", "value": "x"}}"#,
        ))
        .unwrap();
        let fields = application(&scored).unwrap().number_fields;
        assert_eq!(
            fields.into_iter().collect::<Vec<_>>(),
            vec![("ai_score".to_string(), 87)]
        );
        let prospect = GhApplication { job_id: None, ..a };
        assert!(application(&prospect).is_none());
    }

    #[test]
    fn statuses() {
        assert_eq!(
            application_status(Some("rejected"), None),
            ApplicationStatus::Rejected
        );
        assert_eq!(
            application_status(Some("hired"), None),
            ApplicationStatus::Hired
        );
        assert_eq!(
            application_status(Some("in_process"), Some("Application Review")),
            ApplicationStatus::New
        );
        assert_eq!(
            application_status(Some("in_process"), Some("Offer")),
            ApplicationStatus::Shortlisted
        );
    }

    #[test]
    fn candidate_personal_fields_stay_personal() {
        let c: GhCandidate = serde_json::from_str(CANDIDATE).unwrap();
        let m = candidate(
            &c,
            None,
            Some("John Locke\njohn@example.com\n\nSKILLS\nPython, SQL".into()),
        );
        assert_eq!(m.personal.email.as_deref(), Some("john@example.com"));
        assert_eq!(m.personal.phone.as_deref(), Some("555-555-5555"));
        assert_eq!(m.title.as_deref(), Some("Customer Success Representative"));
        let blind = crate::model::BlindCandidate::from_candidate(&m);
        let json = serde_json::to_string(&blind).unwrap();
        assert!(
            !json.contains("john@example.com") && !json.contains("Locke"),
            "{json}"
        );
    }

    #[test]
    fn job_uses_post_content() {
        let j: GhJob = serde_json::from_str(JOB).unwrap();
        let post = GhJobPost {
            id: 1,
            job_id: Some(6404),
            content: Some("<p>About</p><h3>Requirements</h3><ul><li>5+ years of Rust</li></ul><h3>Nice to have</h3><ul><li>Kafka</li></ul>".into()),
            location: Some(serde_json::json!({"name": "Berlin"})),
            live: Some(true),
            external: Some(true),
        };
        let m = job(&j, Some(&post));
        assert_eq!(m.status, JobStatus::Open);
        assert_eq!(m.employment_type, Some(EmploymentType::FullTime));
        assert_eq!(m.location.as_deref(), Some("Berlin"));
        assert!(m.description.contains("5+ years of Rust"));
        let without = job(&j, None);
        assert_eq!(without.description.trim(), "Dig.");
    }

    /// The v1 candidate object's `employments` and `educations` (reference doc).
    const PROFILED: &str = r#"{"id": 53883394, "first_name": "John", "last_name": "Locke", "title": "Engineer",
     "educations": [{"id": 561227, "school_name": "University of Michigan - Ann Arbor", "degree": "Bachelor's Degree",
                     "discipline": "Computer Science", "start_date": "2012-08-15T00:00:00.000Z", "end_date": "2016-05-15T00:00:00.000Z"}],
     "employments": [{"id": 8485064, "company_name": "Greenhouse", "title": "Engineer",
                      "start_date": "2016-08-15T00:00:00.000Z", "end_date": null}]}"#;

    #[test]
    fn employments_and_educations_stand_in_for_an_unreadable_file() {
        let c: GhCandidate = serde_json::from_str(PROFILED).unwrap();
        let m = candidate(&c, Some("https://files/x.pdf".into()), None);
        let s = &m.resume.structured;
        assert_eq!(s.work_experience.len(), 1);
        assert_eq!(s.work_experience[0].company.as_deref(), Some("Greenhouse"));
        assert_eq!(s.work_experience[0].start_year, Some(2016));
        assert_eq!(s.work_experience[0].end_year, None);
        assert_eq!(
            s.education[0].level,
            Some(crate::model::EducationLevel::Bachelor)
        );
        assert_eq!(
            s.education[0].discipline.as_deref(),
            Some("Computer Science")
        );
        // The text the scorer reads says the same.
        assert_eq!(
            parse_resume(&m.resume.parsed_text).work_experience,
            s.work_experience
        );
        // A readable file wins; the profile fills only what it lacks.
        let file = "SKILLS\nRust\n\nEXPERIENCE\nStaff Engineer, Acme (2019 - present)\n";
        let m = candidate(&c, None, Some(file.into()));
        assert_eq!(m.resume.parsed_text, file);
        assert_eq!(
            m.resume.structured.work_experience[0].title,
            "Staff Engineer"
        );
        assert_eq!(m.resume.structured.education.len(), 1);
        // Null or absent lists are empty.
        let bare: GhCandidate = serde_json::from_str(r#"{"id": 1, "employments": null}"#).unwrap();
        assert_eq!(profile(&bare), StructuredResume::default());
    }

    #[test]
    fn requirement_sections() {
        let (r, n) = split_requirements(
            "About us\nWe build.\nRequirements\n- Rust\n- 5+ years\nNice to have\n- Kafka\nBenefits\n- Lunch",
        );
        assert_eq!(r, vec!["Rust", "5+ years"]);
        assert_eq!(n, vec!["Kafka"]);
    }
}
