//! Workable SPI v3 payloads and their mapping to the common model (pure).
//!
//! A Workable "candidate" is one person's application to one job, so it maps
//! to both an [`Application`] and a [`Candidate`] with the same id. Jobs are
//! identified by their **shortcode** (what Workable shows users and what
//! candidates reference), so `scope.jobIds` lists shortcodes.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Deserializer};
use serde_json::Value;

use crate::model::resume::{education_level, parse_resume};
use crate::model::text::html_to_text;
use crate::model::{
    Application, ApplicationStatus, Candidate, Education, EmploymentType, Job, JobStatus,
    PersonalInfo, Resume, StructuredResume, WorkExperience,
};
use crate::vendors::greenhouse::mapping::split_requirements;

/// A timestamp that does not fail the whole payload when it is odd or absent.
fn lenient_time<'de, D: Deserializer<'de>>(d: D) -> Result<Option<DateTime<Utc>>, D::Error> {
    let v = Option::<Value>::deserialize(d)?;
    Ok(v.as_ref().and_then(Value::as_str).and_then(parse_time))
}

/// ISO-8601 as Workable sends it (`2026-07-23T18:58:15Z`, with or without millis).
pub fn parse_time(s: &str) -> Option<DateTime<Utc>> {
    let s = s.trim();
    DateTime::parse_from_rfc3339(s)
        .ok()
        .or_else(|| DateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%.f%z").ok())
        .map(|t| t.with_timezone(&Utc))
}

/// `null` reads as the default (Workable sends `null` for empty lists and strings).
fn null_default<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

#[derive(Clone, Debug, Default, Deserialize)]
pub struct WkLocation {
    #[serde(default)]
    pub location_str: Option<String>,
    #[serde(default)]
    pub city: Option<String>,
    #[serde(default)]
    pub region: Option<String>,
    #[serde(default)]
    pub country: Option<String>,
    #[serde(default)]
    pub telecommuting: Option<bool>,
}

#[derive(Clone, Debug, Deserialize)]
pub struct WkNamed {
    #[serde(default)]
    pub name: Option<String>,
}

/// A job, from `GET /jobs?include_fields=description,requirements,benefits`.
#[derive(Clone, Debug, Deserialize)]
pub struct WkJob {
    #[serde(default)]
    pub id: Option<String>,
    pub shortcode: String,
    #[serde(default, deserialize_with = "null_default")]
    pub title: String,
    #[serde(default)]
    pub state: Option<String>,
    #[serde(default)]
    pub department: Option<String>,
    #[serde(default, deserialize_with = "null_default")]
    pub department_hierarchy: Vec<WkNamed>,
    #[serde(default)]
    pub location: Option<WkLocation>,
    #[serde(default)]
    pub employment_type: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
    /// Description, requirements and benefits in one (asked for only as a fallback).
    #[serde(default)]
    pub full_description: Option<String>,
    #[serde(default)]
    pub requirements: Option<String>,
    #[serde(default)]
    pub benefits: Option<String>,
    #[serde(default, deserialize_with = "lenient_time")]
    pub created_at: Option<DateTime<Utc>>,
    #[serde(default, deserialize_with = "lenient_time")]
    pub updated_at: Option<DateTime<Utc>>,
}

#[derive(Clone, Debug, Default, Deserialize)]
pub struct WkJobRef {
    #[serde(default)]
    pub shortcode: Option<String>,
    #[serde(default)]
    pub title: Option<String>,
}

/// A candidate list item (`GET /candidates`): enough to decide whether the
/// detail is needed.
#[derive(Clone, Debug, Deserialize)]
pub struct WkCandidateItem {
    pub id: String,
    /// Talent-pool candidates have no job.
    #[serde(default)]
    pub job: Option<WkJobRef>,
    /// GDPR-anonymised: the record stays, its personal data is gone.
    #[serde(default)]
    pub anonymized: Option<bool>,
    #[serde(default, deserialize_with = "lenient_time")]
    pub updated_at: Option<DateTime<Utc>>,
}

impl WkCandidateItem {
    pub fn shortcode(&self) -> Option<&str> {
        self.job.as_ref()?.shortcode.as_deref()
    }
}

#[derive(Clone, Debug, Default, Deserialize)]
pub struct WkExperience {
    #[serde(default)]
    pub title: Option<String>,
    #[serde(default)]
    pub company: Option<String>,
    #[serde(default)]
    pub summary: Option<String>,
    #[serde(default)]
    pub start_date: Option<String>,
    #[serde(default)]
    pub end_date: Option<String>,
    #[serde(default)]
    pub current: Option<bool>,
}

#[derive(Clone, Debug, Default, Deserialize)]
pub struct WkEducation {
    #[serde(default)]
    pub school: Option<String>,
    #[serde(default)]
    pub degree: Option<String>,
    #[serde(default)]
    pub field_of_study: Option<String>,
    #[serde(default)]
    pub start_date: Option<String>,
    #[serde(default)]
    pub end_date: Option<String>,
}

/// A skill: `{"name": "Rust"}` in the detail, a plain string on input.
#[derive(Clone, Debug, Deserialize)]
#[serde(untagged)]
pub enum WkSkill {
    Name(String),
    Object {
        #[serde(default)]
        name: Option<String>,
    },
}

impl WkSkill {
    pub fn name(&self) -> Option<&str> {
        match self {
            WkSkill::Name(s) => Some(s.as_str()),
            WkSkill::Object { name } => name.as_deref(),
        }
        .map(str::trim)
        .filter(|s| !s.is_empty())
    }
}

/// `GET /candidates/:id` wraps the record in `candidate`.
#[derive(Clone, Debug, Deserialize)]
pub struct WkCandidateEnvelope {
    pub candidate: WkCandidate,
}

/// The full candidate record (`GET /candidates/:id`).
#[derive(Clone, Debug, Deserialize)]
pub struct WkCandidate {
    pub id: String,
    #[serde(default)]
    pub firstname: Option<String>,
    #[serde(default)]
    pub lastname: Option<String>,
    /// The candidate's current title.
    #[serde(default)]
    pub headline: Option<String>,
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default)]
    pub phone: Option<String>,
    #[serde(default)]
    pub address: Option<String>,
    #[serde(default)]
    pub job: Option<WkJobRef>,
    #[serde(default)]
    pub stage: Option<String>,
    #[serde(default)]
    pub stage_kind: Option<String>,
    #[serde(default)]
    pub disqualified: Option<bool>,
    #[serde(default)]
    pub withdrew: Option<bool>,
    #[serde(default)]
    pub hired_at: Option<String>,
    #[serde(default)]
    pub moved_to_offer_at: Option<String>,
    #[serde(default)]
    pub common_source: Option<String>,
    #[serde(default)]
    pub summary: Option<String>,
    #[serde(default, deserialize_with = "null_default")]
    pub experience_entries: Vec<WkExperience>,
    #[serde(default, deserialize_with = "null_default")]
    pub education_entries: Vec<WkEducation>,
    #[serde(default, deserialize_with = "null_default")]
    pub skills: Vec<WkSkill>,
    /// A presigned download URL (sent without our token).
    #[serde(default)]
    pub resume_url: Option<String>,
    #[serde(default, deserialize_with = "null_default")]
    pub tags: Vec<String>,
    #[serde(default, deserialize_with = "lenient_time")]
    pub created_at: Option<DateTime<Utc>>,
    #[serde(default, deserialize_with = "lenient_time")]
    pub updated_at: Option<DateTime<Utc>>,
    /// GDPR-anonymised: the record stays, its personal data is gone.
    #[serde(default)]
    pub anonymized: Option<bool>,
}

fn non_empty(s: Option<&str>) -> Option<&str> {
    s.map(str::trim).filter(|s| !s.is_empty())
}

/// Workable's job states: `draft`, `published`, `closed`, `archived`.
pub fn job_status(state: Option<&str>) -> JobStatus {
    match state.map(str::to_ascii_lowercase).as_deref() {
        Some("published") => JobStatus::Open,
        Some("draft") => JobStatus::Draft,
        _ => JobStatus::Closed,
    }
}

/// Workable's words: `Full-time`, `Part-time`, `Contract`, `Temporary`, ...
pub fn employment_type(s: Option<&str>) -> Option<EmploymentType> {
    let v = non_empty(s)?.to_ascii_lowercase();
    if v.contains("part") {
        Some(EmploymentType::PartTime)
    } else if v.contains("contract") || v.contains("temp") || v.contains("freelance") {
        Some(EmploymentType::Contract)
    } else if v.contains("full") {
        Some(EmploymentType::FullTime)
    } else {
        None
    }
}

fn location(l: &WkLocation) -> Option<String> {
    if let Some(s) = non_empty(l.location_str.as_deref()) {
        return Some(s.to_string());
    }
    let parts: Vec<&str> = [&l.city, &l.region, &l.country]
        .into_iter()
        .filter_map(|p| non_empty(p.as_deref()))
        .collect();
    if parts.is_empty() {
        l.telecommuting
            .unwrap_or(false)
            .then(|| "Remote".to_string())
    } else {
        Some(parts.join(", "))
    }
}

/// A job, by shortcode. The text is description, requirements and benefits,
/// each HTML converted to plain text; requirements come from their own field
/// (Workable keeps them apart), nice-to-haves from a heading inside it.
pub fn job(j: &WkJob) -> Job {
    let description_html = non_empty(j.description.as_deref());
    let requirements_html = non_empty(j.requirements.as_deref());
    let benefits_html = non_empty(j.benefits.as_deref());
    let mut parts: Vec<String> = Vec::new();
    let mut requirements = Vec::new();
    let mut nice_to_have = Vec::new();
    if description_html.is_none() && requirements_html.is_none() {
        if let Some(full) = non_empty(j.full_description.as_deref()) {
            parts.push(html_to_text(full));
        }
    } else if let Some(d) = description_html {
        parts.push(html_to_text(d));
    }
    if let Some(r) = requirements_html {
        let text = html_to_text(r);
        let (req, nice) = split_requirements(&format!("Requirements\n{text}"));
        requirements = req;
        nice_to_have = nice;
        if requirements.is_empty() && nice_to_have.is_empty() {
            // Plain paragraphs rather than bullets: one requirement a line.
            requirements = text
                .lines()
                .map(|l| l.trim().trim_start_matches("- ").trim())
                .filter(|l| !l.is_empty())
                .map(str::to_string)
                .collect();
        }
        parts.push(format!("Requirements\n{text}"));
    }
    if let Some(b) = benefits_html {
        parts.push(format!("Benefits\n{}", html_to_text(b)));
    }
    let description = parts.join("\n\n");
    if requirements.is_empty() && nice_to_have.is_empty() {
        (requirements, nice_to_have) = split_requirements(&description);
    }
    Job {
        id: j.shortcode.clone(),
        title: j.title.clone(),
        description,
        requirements,
        nice_to_have,
        location: j.location.as_ref().and_then(location),
        employment_type: employment_type(j.employment_type.as_deref()),
        department: non_empty(j.department.as_deref())
            .map(str::to_string)
            .or_else(|| {
                j.department_hierarchy
                    .iter()
                    .rev()
                    .find_map(|d| non_empty(d.name.as_deref()).map(str::to_string))
            }),
        hiring_manager: None,
        status: job_status(j.state.as_deref()),
        created_at: j.created_at,
        updated_at: j.updated_at,
    }
}

/// The year of `2019-03-01`, `2019-03` or `2019`.
fn year(date: Option<&str>) -> Option<i32> {
    let d = non_empty(date)?;
    let y = d.get(..4)?;
    y.parse().ok().filter(|y| (1900..=2200).contains(y))
}

fn experience(e: &WkExperience) -> Option<WorkExperience> {
    let title = non_empty(e.title.as_deref())?.to_string();
    // No end date means the position is held now, as Workable's form reads.
    let end_year = if e.current.unwrap_or(false) {
        None
    } else {
        year(e.end_date.as_deref())
    };
    Some(WorkExperience {
        title,
        company: non_empty(e.company.as_deref()).map(str::to_string),
        start_year: year(e.start_date.as_deref()),
        end_year,
    })
}

fn education(e: &WkEducation) -> Option<Education> {
    let degree = non_empty(e.degree.as_deref());
    let school = non_empty(e.school.as_deref());
    if degree.is_none() && school.is_none() {
        return None;
    }
    Some(Education {
        school: school.map(str::to_string),
        degree: degree.map(str::to_string),
        discipline: non_empty(e.field_of_study.as_deref()).map(str::to_string),
        level: degree.and_then(education_level),
    })
}

/// The structured profile Workable parsed from the CV (or the form).
pub fn structured(c: &WkCandidate) -> StructuredResume {
    let mut seen = std::collections::HashSet::new();
    StructuredResume {
        work_experience: c.experience_entries.iter().filter_map(experience).collect(),
        education: c.education_entries.iter().filter_map(education).collect(),
        skills: c
            .skills
            .iter()
            .filter_map(WkSkill::name)
            .filter(|s| seen.insert(s.to_lowercase()))
            .map(str::to_string)
            .collect(),
    }
}

/// Whether the detail carries a usable profile; without one the CV is read.
pub fn has_profile(c: &WkCandidate) -> bool {
    let s = structured(c);
    !s.work_experience.is_empty() || !s.skills.is_empty()
}

fn range(start: Option<i32>, end: Option<i32>, open: bool) -> Option<String> {
    let start = start?;
    Some(match (end, open) {
        (_, true) | (None, _) => format!("({start} - present)"),
        (Some(e), false) => format!("({start} - {e})"),
    })
}

/// The resume as plain text, in the layout [`parse_resume`] reads, built from
/// the detail's summary, experience (with each entry's summary), education and
/// skills. No name or contact lines: nothing personal goes in.
pub fn resume_text(c: &WkCandidate) -> String {
    let mut s = String::new();
    if let Some(h) = non_empty(c.headline.as_deref()) {
        s.push_str(h);
        s.push_str("\n\n");
    }
    if let Some(sum) = non_empty(c.summary.as_deref()) {
        s.push_str("SUMMARY\n");
        s.push_str(&html_to_text(sum));
        s.push_str("\n\n");
    }
    let exp: Vec<&WkExperience> = c
        .experience_entries
        .iter()
        .filter(|e| non_empty(e.title.as_deref()).is_some())
        .collect();
    if !exp.is_empty() {
        s.push_str("EXPERIENCE\n");
        for e in exp {
            let mut line = non_empty(e.title.as_deref())
                .unwrap_or_default()
                .to_string();
            if let Some(co) = non_empty(e.company.as_deref()) {
                line.push_str(&format!(", {co}"));
            }
            let open = e.current.unwrap_or(false);
            let end = if open {
                None
            } else {
                year(e.end_date.as_deref())
            };
            if let Some(r) = range(year(e.start_date.as_deref()), end, open) {
                line.push_str(&format!(" {r}"));
            }
            s.push_str(&line);
            s.push('\n');
            if let Some(sum) = non_empty(e.summary.as_deref()) {
                for l in html_to_text(sum)
                    .lines()
                    .map(str::trim)
                    .filter(|l| !l.is_empty())
                {
                    let l = l.trim_start_matches("- ");
                    s.push_str(&format!("- {l}\n"));
                }
            }
        }
        s.push('\n');
    }
    let edu: Vec<&WkEducation> = c
        .education_entries
        .iter()
        .filter(|e| {
            non_empty(e.degree.as_deref()).is_some() || non_empty(e.school.as_deref()).is_some()
        })
        .collect();
    if !edu.is_empty() {
        s.push_str("EDUCATION\n");
        for e in edu {
            let degree = non_empty(e.degree.as_deref());
            let field = non_empty(e.field_of_study.as_deref());
            let school = non_empty(e.school.as_deref());
            let mut line = match (degree, field) {
                (Some(d), Some(f)) => format!("{d} in {f}"),
                (Some(d), None) => d.to_string(),
                (None, Some(f)) => f.to_string(),
                (None, None) => String::new(),
            };
            if let Some(sc) = school {
                if !line.is_empty() {
                    line.push_str(", ");
                }
                line.push_str(sc);
            }
            let (start, end) = (year(e.start_date.as_deref()), year(e.end_date.as_deref()));
            if let (Some(st), Some(en)) = (start, end) {
                line.push_str(&format!(" ({st} - {en})"));
            }
            s.push_str(&line);
            s.push('\n');
        }
        s.push('\n');
    }
    let skills = structured(c).skills;
    if !skills.is_empty() {
        s.push_str("SKILLS\n");
        s.push_str(&skills.join(", "));
        s.push('\n');
    }
    s.trim_end().to_string()
}

/// Merges a downloaded CV's text into what the detail gave: the detail's
/// structured data wins, the CV fills what it lacks.
fn merge(detail: StructuredResume, parsed: StructuredResume) -> StructuredResume {
    StructuredResume {
        work_experience: if detail.work_experience.is_empty() {
            parsed.work_experience
        } else {
            detail.work_experience
        },
        education: if detail.education.is_empty() {
            parsed.education
        } else {
            detail.education
        },
        skills: if detail.skills.is_empty() {
            parsed.skills
        } else {
            detail.skills
        },
    }
}

/// The candidate (the person behind this per-job record). Personal fields go
/// only into [`PersonalInfo`]; the photo (`image_url`) is not kept at all.
/// `cv_text` is the CV file's text when it could be read: it is what the
/// scorer reads, and Workable's parsed profile (which wins for the
/// structured history) fills what the CV's parse lacks. Without it, the
/// profile is the resume.
pub fn candidate(c: &WkCandidate, cv_text: Option<&str>) -> Candidate {
    let profile = structured(c);
    let (text, structured) = match cv_text.map(str::trim).filter(|t| !t.is_empty()) {
        Some(cv) => (cv.to_string(), merge(profile, parse_resume(cv))),
        None => (resume_text(c), profile),
    };
    Candidate {
        id: c.id.clone(),
        personal: PersonalInfo {
            first_name: non_empty(c.firstname.as_deref()).map(str::to_string),
            last_name: non_empty(c.lastname.as_deref()).map(str::to_string),
            email: non_empty(c.email.as_deref()).map(str::to_string),
            phone: non_empty(c.phone.as_deref()).map(str::to_string),
            address: non_empty(c.address.as_deref()).map(str::to_string),
        },
        title: non_empty(c.headline.as_deref()).map(str::to_string),
        resume: Resume {
            url: non_empty(c.resume_url.as_deref()).map(str::to_string),
            parsed_text: text,
            structured,
            readability: Default::default(),
        },
        source: non_empty(c.common_source.as_deref())
            .filter(|s| !s.eq_ignore_ascii_case("unknown"))
            .map(str::to_string),
        updated_at: c.updated_at,
    }
}

/// Workable's state (disqualified, withdrew, hired) and stage kind
/// (`sourced`, `applied`, `phone-screen`, `assessment`, `interview`, `offer`,
/// `hired`, or an account's own) to the common status.
pub fn application_status(c: &WkCandidate) -> ApplicationStatus {
    if c.disqualified.unwrap_or(false) || c.withdrew.unwrap_or(false) {
        return ApplicationStatus::Rejected;
    }
    let kind = c
        .stage_kind
        .as_deref()
        .or(c.stage.as_deref())
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    if non_empty(c.hired_at.as_deref()).is_some() || kind == "hired" {
        return ApplicationStatus::Hired;
    }
    if kind == "offer" || non_empty(c.moved_to_offer_at.as_deref()).is_some() {
        return ApplicationStatus::Shortlisted;
    }
    match kind.as_str() {
        "" | "sourced" | "applied" => ApplicationStatus::New,
        _ => ApplicationStatus::Reviewed,
    }
}

/// The application; `None` for talent-pool candidates (no job).
pub fn application(c: &WkCandidate, shortcode: Option<&str>) -> Option<Application> {
    let job_id = non_empty(shortcode)
        .or_else(|| non_empty(c.job.as_ref()?.shortcode.as_deref()))?
        .to_string();
    Some(Application {
        id: c.id.clone(),
        candidate_id: c.id.clone(),
        job_id,
        status: application_status(c),
        stage: non_empty(c.stage.as_deref()).map(str::to_string),
        applied_at: c.created_at,
        updated_at: c.updated_at,
        number_fields: Default::default(),
    })
}

/// The tags to PUT so that `tag` is the only band tag: `others` removed, the
/// user's own tags kept in their order. `None` when nothing changes.
pub fn band_tags(current: &[String], tag: &str, others: &[String]) -> Option<Vec<String>> {
    let mut out: Vec<String> = current
        .iter()
        .filter(|t| !others.iter().any(|o| o == *t))
        .cloned()
        .collect();
    if !out.iter().any(|t| t == tag) {
        out.push(tag.to_string());
    }
    (out != current).then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Recorded list item (ats-vendor-apis.md §4.3) plus the include_fields text.
    const JOB: &str = r#"{
      "id": "5b5ce9", "title": "Account Executive", "full_title": "Account Executive - GB/09/AE",
      "shortcode": "9CD658E13E", "code": "GB/09/AE", "state": "closed", "sample": true,
      "confidential": false, "department": null, "department_hierarchy": [],
      "url": "https://nangodev.workable.com/jobs/5986327",
      "application_url": "https://nangodev.workable.com/jobs/5986327/candidates/new",
      "shortlink": "https://apply.workable.com/j/9CD658E13E", "workplace_type": "on_site",
      "location": {"location_str": "London, United Kingdom", "country": "United Kingdom", "country_code": "GB",
        "region": null, "region_code": "England", "city": "London", "zip_code": "2142",
        "telecommuting": false, "workplace_type": "on_site"},
      "locations": [{"shortcode": "JAD50549AFA", "country_code": "GB", "country_name": "United Kingdom",
        "state_code": "England", "subregion": null, "zip_code": "2142", "city": "London",
        "coords": "51.5073509, -0.1277583", "hidden": false}],
      "salary": {"salary_from": 60000, "salary_to": 80000, "salary_currency": "gbp"},
      "created_at": "2026-03-25T00:00:00Z", "updated_at": "2026-07-23T18:58:17Z", "keywords": null,
      "description": "<p>We sell <strong>great</strong> things &amp; more.</p>",
      "requirements": "<ul><li>5+ years in B2B sales</li><li>Salesforce</li></ul><p><strong>Nice to have</strong></p><ul><li>German</li></ul>",
      "benefits": "<ul><li>Pension</li></ul>"
    }"#;

    /// Recorded job detail fields (`GET /jobs/:shortcode`): unwrapped.
    const JOB_DETAIL: &str = r#"{
      "id": "5b5ce9", "title": "Account Executive", "shortcode": "9CD658E13E", "state": "published",
      "department": "Sales", "location": {"country": "United Kingdom", "city": "London", "region": "England"},
      "created_at": "2026-03-25T00:00:00Z", "updated_at": "2026-07-23T18:58:17Z",
      "full_description": "<p>About</p><p><strong>Requirements</strong></p><ul><li>Closing deals</li></ul>",
      "employment_type": "Full-time", "industry": "Staffing and Recruiting", "function": "Other",
      "experience": "Mid-Senior level", "education": "Bachelor's Degree"
    }"#;

    /// Recorded list item (§4.3).
    const ITEM: &str = r#"{
      "id": "27270275", "name": "Elvie Schmidt", "firstname": "Elvie", "lastname": "Schmidt",
      "headline": "Sales Executive", "account": {"subdomain": "nangodev", "name": "NangoDev"},
      "job": {"shortcode": "9CD658E13E", "title": "Account Executive"},
      "stage": "Assessment", "stage_kind": "assessment", "disqualified": false, "anonymized": false,
      "disqualification_reason": null, "hired_at": null, "moved_to_offer_at": null, "sourced": false,
      "profile_url": "https://nangodev.workable.com/backend/jobs/5986327/candidates/656866723",
      "address": "1007 Dakota Glen, 18470 Jackelineburgh, UK", "phone": "+18579909675",
      "email": "elvie_schmidt@samplecandidate.com", "domain": "twitter.com", "outlet": null,
      "common_source": "twitter.com", "common_source_category": "Other",
      "created_at": "2026-04-11T03:36:38Z", "updated_at": "2026-07-23T18:58:15Z",
      "resume_metadata": {"filename": "cv_elvie_schmidt.pdf", "filetype": "pdf",
        "created_at": "2026-04-11T03:36:38Z", "updated_at": "2026-07-23T18:58:15Z"}
    }"#;

    /// Recorded detail (§4.3), with a parsed profile filled in.
    const DETAIL: &str = r#"{"candidate": {
      "id": "27273038", "name": "Nango Testone", "firstname": "Nango", "lastname": "Testone",
      "headline": "Senior QA Engineer", "image_url": "https://img.example/face.jpg",
      "account": {"subdomain": "nangodev", "name": "NangoDev"},
      "job": {"shortcode": "9CD658E13E", "title": "Account Executive"},
      "stage": "Sourced", "stage_kind": "sourced", "disqualified": false, "disqualified_at": null,
      "withdrew": false, "anonymized": false, "disqualification_reason": null, "hired_at": null,
      "moved_to_offer_at": null, "sourced": true,
      "profile_url": "https://nangodev.workable.com/backend/jobs/5986327/candidates/656878438",
      "address": "1 Main St, Leeds", "phone": "+44 20 7946 0000", "email": "nango.testone@example.com",
      "outbound_mailbox": "4eec8ayfccye@outbound.workablemail.com", "domain": null, "outlet": "SPI",
      "common_source": "Unknown", "common_source_category": "Other", "uploader_id": null,
      "created_at": "2026-07-23T19:21:06Z", "updated_at": "2026-07-23T20:02:42Z",
      "cover_letter": null,
      "summary": "QA engineer who automates everything.",
      "education_entries": [{"school": "University of Leeds", "degree": "Master of Science",
        "field_of_study": "Computer Science", "start_date": "2010-09-01", "end_date": "2012-06-30"}],
      "experience_entries": [
        {"title": "Senior QA Engineer", "company": "Acme", "summary": "Led test automation.\nBuilt CI.",
         "start_date": "2019-03-01", "end_date": null, "current": true, "industry": "Software"},
        {"title": "QA Engineer", "company": "Initech", "summary": null,
         "start_date": "2014-01-01", "end_date": "2019-02-28", "current": false}],
      "skills": [{"name": "Selenium"}, {"name": "Python"}, {"name": "python"}],
      "answers": [], "resume_url": null, "tags": ["nango", "priority"],
      "location": {"location_str": null, "country": null, "country_code": null, "region": null,
        "region_code": null, "city": null, "zip_code": null},
      "originating_candidate_id": null
    }}"#;

    fn detail() -> WkCandidate {
        serde_json::from_str::<WkCandidateEnvelope>(DETAIL)
            .unwrap()
            .candidate
    }

    #[test]
    fn maps_job_list_item() {
        let j: WkJob = serde_json::from_str(JOB).unwrap();
        let m = job(&j);
        assert_eq!(m.id, "9CD658E13E", "jobs are keyed by shortcode");
        assert_eq!(m.title, "Account Executive");
        assert_eq!(m.status, JobStatus::Closed);
        assert_eq!(m.location.as_deref(), Some("London, United Kingdom"));
        assert!(m.description.contains("We sell great things & more."));
        assert!(m.description.contains("Pension"));
        assert!(!m.description.contains('<'));
        assert_eq!(m.requirements, vec!["5+ years in B2B sales", "Salesforce"]);
        assert_eq!(m.nice_to_have, vec!["German"]);
        assert_eq!(m.department, None);
        assert!(m.updated_at.is_some() && m.created_at.is_some());
    }

    #[test]
    fn maps_job_detail() {
        let j: WkJob = serde_json::from_str(JOB_DETAIL).unwrap();
        let m = job(&j);
        assert_eq!(m.status, JobStatus::Open);
        assert_eq!(m.employment_type, Some(EmploymentType::FullTime));
        assert_eq!(m.department.as_deref(), Some("Sales"));
        assert_eq!(
            m.location.as_deref(),
            Some("London, England, United Kingdom")
        );
        assert_eq!(m.requirements, vec!["Closing deals"]);
    }

    #[test]
    fn job_states() {
        assert_eq!(job_status(Some("published")), JobStatus::Open);
        assert_eq!(job_status(Some("draft")), JobStatus::Draft);
        assert_eq!(job_status(Some("closed")), JobStatus::Closed);
        assert_eq!(job_status(Some("archived")), JobStatus::Closed);
        assert_eq!(
            employment_type(Some("Part-time")),
            Some(EmploymentType::PartTime)
        );
        assert_eq!(
            employment_type(Some("Temporary")),
            Some(EmploymentType::Contract)
        );
        assert_eq!(employment_type(None), None);
    }

    #[test]
    fn list_item_reads_job_and_time() {
        let c: WkCandidateItem = serde_json::from_str(ITEM).unwrap();
        assert_eq!(c.id, "27270275");
        assert_eq!(c.shortcode(), Some("9CD658E13E"));
        assert_eq!(c.anonymized, Some(false));
        assert_eq!(
            c.updated_at,
            Some(parse_time("2026-07-23T18:58:15Z").unwrap())
        );
        let pool: WkCandidateItem =
            serde_json::from_str(r#"{"id": "abc", "job": null, "updated_at": "bad"}"#).unwrap();
        assert_eq!(pool.shortcode(), None);
        assert_eq!(pool.updated_at, None);
    }

    #[test]
    fn maps_candidate_detail() {
        let c = detail();
        let m = candidate(&c, None);
        assert_eq!(m.id, "27273038");
        assert_eq!(m.title.as_deref(), Some("Senior QA Engineer"));
        assert_eq!(m.personal.first_name.as_deref(), Some("Nango"));
        assert_eq!(
            m.personal.email.as_deref(),
            Some("nango.testone@example.com")
        );
        assert_eq!(m.personal.phone.as_deref(), Some("+44 20 7946 0000"));
        assert_eq!(m.personal.address.as_deref(), Some("1 Main St, Leeds"));
        assert_eq!(m.source, None);
        let s = &m.resume.structured;
        assert_eq!(s.skills, vec!["Selenium", "Python"]);
        assert_eq!(s.work_experience.len(), 2);
        assert_eq!(s.work_experience[0].start_year, Some(2019));
        assert_eq!(s.work_experience[0].end_year, None);
        assert_eq!(s.work_experience[1].end_year, Some(2019));
        assert_eq!(
            s.education[0].level,
            Some(crate::model::EducationLevel::Master)
        );
        assert_eq!(
            s.education[0].discipline.as_deref(),
            Some("Computer Science")
        );
        // The text reads back to the same profile.
        let reparsed = parse_resume(&m.resume.parsed_text);
        assert_eq!(reparsed.skills, s.skills);
        assert_eq!(reparsed.work_experience.len(), 2);
        assert_eq!(reparsed.education.len(), 1);
        assert!(m.resume.parsed_text.contains("- Led test automation."));
        assert!(
            m.resume
                .parsed_text
                .contains("QA engineer who automates everything.")
        );
    }

    #[test]
    fn protected_attributes_stay_personal() {
        let m = candidate(&detail(), None);
        let text = &m.resume.parsed_text;
        for secret in [
            "Testone",
            "nango.testone@example.com",
            "+44 20 7946 0000",
            "1 Main St",
            "img.example",
        ] {
            assert!(!text.contains(secret), "{secret} in resume text");
        }
        let blind = crate::model::BlindCandidate::from_candidate(&m);
        let json = serde_json::to_string(&blind).unwrap();
        for secret in [
            "Testone",
            "nango.testone@example.com",
            "img.example",
            "1 Main St",
        ] {
            assert!(!json.contains(secret), "{secret} in {json}");
        }
    }

    #[test]
    fn cv_fills_an_empty_profile() {
        let mut c = detail();
        c.experience_entries.clear();
        c.skills.clear();
        assert!(!has_profile(&c));
        let m = candidate(
            &c,
            Some("EXPERIENCE\nTester, Foo (2015 - 2018)\n\nSKILLS\nJava, SQL"),
        );
        assert_eq!(m.resume.structured.skills, vec!["Java", "SQL"]);
        assert_eq!(m.resume.structured.work_experience.len(), 1);
        // The detail's education is kept.
        assert_eq!(m.resume.structured.education.len(), 1);
        assert!(m.resume.parsed_text.contains("Tester, Foo"));
        assert!(has_profile(&detail()));
    }

    #[test]
    fn maps_application() {
        let c = detail();
        let a = application(&c, None).unwrap();
        assert_eq!(a.id, "27273038");
        assert_eq!(a.candidate_id, "27273038");
        assert_eq!(a.job_id, "9CD658E13E");
        assert_eq!(a.status, ApplicationStatus::New);
        assert_eq!(a.stage.as_deref(), Some("Sourced"));
        assert_eq!(a.applied_at, parse_time("2026-07-23T19:21:06Z"));
        let pool = WkCandidate { job: None, ..c };
        assert!(application(&pool, None).is_none());
        assert!(application(&pool, Some("ABC")).is_some());
    }

    #[test]
    fn statuses() {
        let base = detail();
        let with = |f: &dyn Fn(&mut WkCandidate)| {
            let mut c = base.clone();
            f(&mut c);
            application_status(&c)
        };
        assert_eq!(
            with(&|c| c.disqualified = Some(true)),
            ApplicationStatus::Rejected
        );
        assert_eq!(
            with(&|c| c.withdrew = Some(true)),
            ApplicationStatus::Rejected
        );
        assert_eq!(
            with(&|c| c.hired_at = Some("2026-07-01T00:00:00Z".into())),
            ApplicationStatus::Hired
        );
        assert_eq!(
            with(&|c| c.stage_kind = Some("offer".into())),
            ApplicationStatus::Shortlisted
        );
        assert_eq!(
            with(&|c| c.stage_kind = Some("phone-screen".into())),
            ApplicationStatus::Reviewed
        );
        assert_eq!(
            with(&|c| c.stage_kind = Some("applied".into())),
            ApplicationStatus::New
        );
    }

    #[test]
    fn band_tags_replace_only_ours() {
        let others = vec!["ai-good-fit".to_string(), "ai-weak-fit".to_string()];
        let cur = vec!["nango".to_string(), "ai-good-fit".to_string()];
        assert_eq!(
            band_tags(&cur, "ai-strong-fit", &others),
            Some(vec!["nango".to_string(), "ai-strong-fit".to_string()])
        );
        let done = vec!["nango".to_string(), "ai-strong-fit".to_string()];
        assert_eq!(band_tags(&done, "ai-strong-fit", &others), None);
        assert_eq!(
            band_tags(&[], "ai-strong-fit", &others),
            Some(vec!["ai-strong-fit".to_string()])
        );
    }
}
