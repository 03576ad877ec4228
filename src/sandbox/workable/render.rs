//! Workable's wire shapes for the generated tenant (field names as recorded
//! from the live API).

use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{Map, Value, json};

use super::ids::{candidate_hex, candidate_num};
use super::{ACCOUNT_NAME, APPLIED_ACTIVITY_BASE, MEMBERS, PIPELINE, POLICY_ROLES, SUBDOMAIN, Wk};
use crate::sandbox::data::{AppState, GenApplication, GenJob, JobState, RejectReason, html_escape};
use crate::sandbox::ts;

/// Workable renders record timestamps to the second (`2026-04-11T03:36:38Z`).
fn secs(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// The record's own time (writes and touches bump it).
pub(super) fn updated_at(a: &GenApplication) -> DateTime<Utc> {
    a.updated_at
}

/// (slug = kind, name) of the candidate's stage.
pub(super) fn stage_of(a: &GenApplication) -> (&'static str, &'static str) {
    // Generated stages: Application Review, Phone Screen, Technical
    // Interview, Onsite Interview, Offer → applied .. offer.
    let i = if a.state == AppState::Hired {
        PIPELINE.len() - 1
    } else {
        (a.stage + 1).min(PIPELINE.len() - 2)
    };
    PIPELINE[i]
}

fn region_name(code: &str) -> Option<&'static str> {
    Some(match code {
        "NY" => "New York",
        "CA" => "California",
        "TX" => "Texas",
        "WA" => "Washington",
        "IL" => "Illinois",
        "CO" => "Colorado",
        "MA" => "Massachusetts",
        "OR" => "Oregon",
        "GA" => "Georgia",
        _ => return None,
    })
}

/// The job's HTML text fields.
pub(super) struct JobText {
    pub description: String,
    pub requirements: String,
    pub benefits: String,
    pub full_description: String,
}

fn li(items: &[String]) -> String {
    items
        .iter()
        .map(|i| format!("<li>{}</li>", html_escape(i)))
        .collect()
}

/// Workable splits a job's text into description, requirements and benefits,
/// and joins them in `full_description`. The required skills are named in the
/// requirements list, the nice-to-have ones under their own heading there.
pub(super) fn job_text(j: &GenJob) -> JobText {
    let description = format!(
        "<p>{}</p><p><strong>What you will do</strong></p><ul>{}</ul>",
        html_escape(&j.intro),
        li(&j.responsibilities)
    );
    let mut requirements = format!("<ul>{}</ul>", li(&j.requirements));
    if !j.nice_to_have.is_empty() {
        requirements.push_str(&format!(
            "<p><strong>Nice to have</strong></p><ul>{}</ul>",
            li(&j.nice_to_have)
        ));
    }
    let benefits = "<ul><li>Flexible working hours</li><li>Learning and conference budget</li><li>Health, dental and vision insurance</li></ul>".to_string();
    let full_description = format!(
        "{description}<p><strong>Requirements</strong></p>{requirements}<p><strong>Benefits</strong></p>{benefits}"
    );
    JobText {
        description,
        requirements,
        benefits,
        full_description,
    }
}

impl Wk {
    pub(super) fn job_hex(&self, i: usize) -> String {
        format!("{:06x}", self.job_num[i])
    }

    fn job_location(j: &GenJob) -> (Value, Value, bool) {
        let remote = j.location.starts_with("Remote");
        let (city, code) = if remote {
            (None, None)
        } else {
            match j.location.split_once(", ") {
                Some((c, r)) => (Some(c), Some(r)),
                None => (Some(j.location.as_str()), None),
            }
        };
        let region = code.and_then(region_name);
        let location_str = match (city, region) {
            (Some(c), Some(r)) => format!("{c}, {r}, United States"),
            (Some(c), None) => format!("{c}, United States"),
            _ => "United States".to_string(),
        };
        let workplace = if remote { "remote" } else { "on_site" };
        let location = json!({
            "location_str": location_str,
            "country": "United States",
            "country_code": "US",
            "region": region,
            "region_code": code,
            "city": city,
            "zip_code": null,
            "telecommuting": remote,
            "workplace_type": workplace,
        });
        let locations = json!([{
            "country_code": "US",
            "country_name": "United States",
            "state_code": code,
            "subregion": null,
            "zip_code": null,
            "city": city,
            "hidden": false,
        }]);
        (location, locations, remote)
    }

    /// A jobs list item; `include` adds heavy text fields by name.
    pub(super) fn job_json(&self, i: usize, include: &[&str]) -> Value {
        let j = &self.tenant.jobs[i];
        let shortcode = &self.shortcodes[i];
        let code = format!("REQ-{}", j.id);
        let state = match j.state {
            JobState::Open => "published",
            JobState::Closed => "closed",
            JobState::Draft => "draft",
        };
        let department = self.tenant.department_name(j.department_id);
        let (location, locations, remote) = Self::job_location(j);
        let salary_from = 60_000 + (j.id % 7) * 10_000 + u64::from(j.min_years) * 5_000;
        let mut v = json!({
            "id": self.job_hex(i),
            "title": j.title,
            "full_title": format!("{} - {code}", j.title),
            "shortcode": shortcode,
            "code": code,
            "state": state,
            "sample": false,
            "confidential": false,
            "department": department,
            "department_hierarchy": department
                .map(|d| vec![json!({"id": j.department_id, "name": d})])
                .unwrap_or_default(),
            "url": format!("{}/jobs/{}", self.base_url, j.id),
            "application_url": format!("{}/jobs/{}/candidates/new", self.base_url, j.id),
            "shortlink": format!("{}/j/{shortcode}", self.base_url),
            "workplace_type": if remote { "remote" } else { "on_site" },
            "location": location,
            "locations": locations,
            "salary": {
                "salary_from": salary_from,
                "salary_to": salary_from + 20_000,
                "salary_currency": "usd",
            },
            "created_at": secs(j.created_at),
            "updated_at": secs(j.updated_at),
            "keywords": null,
        });
        if !include.is_empty() {
            let text = job_text(j);
            if let Some(o) = v.as_object_mut() {
                for f in include {
                    let s = match *f {
                        "description" => &text.description,
                        "full_description" => &text.full_description,
                        "requirements" => &text.requirements,
                        _ => &text.benefits,
                    };
                    o.insert((*f).to_string(), Value::String(s.clone()));
                }
            }
        }
        v
    }

    /// `GET /jobs/:shortcode`: every field, text included.
    pub(super) fn job_detail_json(&self, i: usize) -> Value {
        let j = &self.tenant.jobs[i];
        let mut v = self.job_json(
            i,
            &[
                "full_description",
                "description",
                "requirements",
                "benefits",
            ],
        );
        let function = match self.tenant.department_name(j.department_id) {
            Some("Sales") => "Sales",
            Some("Product") => "Product Management",
            Some("Design") => "Design",
            _ => "Engineering",
        };
        let experience = match j.min_years {
            0..=1 => "Entry level",
            2..=4 => "Associate",
            _ => "Mid-Senior level",
        };
        if let Some(o) = v.as_object_mut() {
            o.remove("sample");
            o.insert(
                "employment_type".into(),
                json!(if j.employment_type == "Contract" {
                    "Contract"
                } else {
                    "Full-time"
                }),
            );
            o.insert("industry".into(), json!("Computer Software"));
            o.insert("function".into(), json!(function));
            o.insert("experience".into(), json!(experience));
            o.insert("education".into(), json!("Bachelor's Degree"));
        }
        v
    }

    /// A candidates list item.
    pub(super) fn candidate_json(&self, a: &GenApplication) -> Value {
        let c = self.person(a);
        let ji = self.job_index(a.job_id);
        let (slug, stage) = stage_of(a);
        let (domain, source) = match a.id % 4 {
            0 => (Some("linkedin.com"), "LinkedIn"),
            1 => (Some("indeed.com"), "Indeed"),
            _ => (None, "Careers page"),
        };
        let hired_at = (a.state == AppState::Hired).then(|| secs(a.updated_at));
        let offer_at = (slug == "offer" || slug == "hired").then(|| secs(a.updated_at));
        json!({
            "id": candidate_hex(a.id),
            "name": c.map(|c| c.full_name()),
            "firstname": c.map(|c| &c.first_name),
            "lastname": c.map(|c| &c.last_name),
            "headline": c.map(|c| &c.title),
            "account": {"subdomain": SUBDOMAIN, "name": ACCOUNT_NAME},
            "job": {
                "shortcode": ji.map(|i| &self.shortcodes[i]),
                "title": ji.map(|i| &self.tenant.jobs[i].title),
            },
            "stage": stage,
            "stage_kind": slug,
            "disqualified": a.state == AppState::Rejected,
            "anonymized": c.is_some_and(|c| c.anonymized),
            "disqualification_reason": (a.state == AppState::Rejected).then_some(match a.rejection {
                Some(RejectReason::Withdrew) => "Candidate withdrew",
                Some(RejectReason::PositionFilled) => "Position filled",
                _ => "Not a good fit",
            }),
            "hired_at": hired_at,
            "moved_to_offer_at": offer_at,
            "sourced": false,
            "profile_url": format!("{}/backend/jobs/{}/candidates/{}", self.base_url, a.job_id, a.id),
            "address": c.map(|c| c.address()),
            "phone": c.map(|c| &c.phone),
            "email": c.map(|c| &c.email),
            "domain": domain,
            "outlet": null,
            "common_source": source,
            "common_source_category": if domain.is_some() { "Job board" } else { "Other" },
            "created_at": secs(a.created_at),
            "updated_at": secs(updated_at(a)),
            "resume_metadata": c.map(|c| json!({
                "filename": c.resume_filename(),
                "filetype": c.resume_file.extension(),
                "created_at": secs(a.attachment_created_at),
                "updated_at": secs(self.resume_updated_at(a)),
            })),
        })
    }

    /// `GET /candidates/:id`'s `candidate` object.
    pub(super) fn candidate_detail_json(&self, a: &GenApplication) -> Value {
        let mut v = self.candidate_json(a);
        let Some(o) = v.as_object_mut() else {
            return v;
        };
        o.remove("resume_metadata");
        let c = self.person(a);
        // Workable parses the profile from the CV: nothing from a file it cannot read.
        let parsed = c.filter(|c| c.resume_file.readable());
        let hex = candidate_hex(a.id);
        let job_title = self
            .job_index(a.job_id)
            .map(|i| self.tenant.jobs[i].title.as_str())
            .unwrap_or("open");
        let cover_letter = a
            .id
            .is_multiple_of(3)
            .then(|| format!("I am excited to apply for the {job_title} role at {ACCOUNT_NAME}."));
        let education: Vec<Value> = parsed
            .map(|c| {
                c.education
                    .iter()
                    .map(|e| {
                        json!({
                            "degree": e.degree,
                            "school": e.school,
                            "field_of_study": e.discipline,
                            "start_date": format!("{}-01-01", e.start_year),
                            "end_date": format!("{}-01-01", e.end_year),
                        })
                    })
                    .collect()
            })
            .unwrap_or_default();
        let experience: Vec<Value> = parsed
            .map(|c| {
                c.experience
                    .iter()
                    .map(|e| {
                        json!({
                            "title": e.title,
                            "summary": format!("<ul>{}</ul>", li(&e.bullets)),
                            "start_date": format!("{}-01-01", e.start_year),
                            "end_date": e.end_year.map(|y| format!("{y}-01-01")),
                            "company": e.company,
                            "industry": null,
                            "current": e.end_year.is_none(),
                        })
                    })
                    .collect()
            })
            .unwrap_or_default();
        let skills: Vec<Value> = parsed
            .map(|c| c.skills.iter().map(|s| json!({"name": s})).collect())
            .unwrap_or_default();
        let writes = self.writes.get(&a.id);
        let tags = writes.map(|w| w.tags.clone()).unwrap_or_default();
        let origin = self
            .origin
            .get(&a.candidate_id)
            .filter(|o| **o != a.id)
            .map(|o| candidate_hex(*o));
        let rejected = a.state == AppState::Rejected;
        let extra = json!({
            "image_url": null,
            "disqualified_at": rejected.then(|| secs(a.updated_at)),
            "withdrew": rejected && a.rejection == Some(RejectReason::Withdrew),
            "outbound_mailbox": format!("{hex}@outbound.sandbox.example.com"),
            "uploader_id": null,
            "cover_letter": cover_letter,
            "summary": c.map(|c| &c.summary),
            "education_entries": education,
            "experience_entries": experience,
            "skills": skills,
            "answers": [],
            "resume_url": c.map(|c| format!("{}/files/{hex}/{}", self.base_url, c.resume_filename())),
            "tags": tags,
            "location": {
                "location_str": c.map(|c| format!("{}, {}, United States", c.city, c.state)),
                "country": "United States",
                "country_code": "US",
                "region": c.and_then(|c| region_name(&c.state)),
                "region_code": c.map(|c| &c.state),
                "city": c.map(|c| &c.city),
                "zip_code": null,
            },
            "originating_candidate_id": origin,
            "social_profiles": [],
        });
        if let Value::Object(extra) = extra {
            for (k, val) in extra {
                o.insert(k, val);
            }
        }
        v
    }

    /// The candidate's activity stream as (id number, JSON), ascending.
    pub(super) fn activities(&self, a: &GenApplication) -> Vec<(u64, Value)> {
        let applied = APPLIED_ACTIVITY_BASE + candidate_num(a.id);
        let mut out = vec![(
            applied,
            json!({
                "id": format!("{applied:08x}"),
                "action": "applied",
                "stage_name": "Applied",
                "created_at": ts(a.created_at),
                "updated_at": ts(a.created_at),
                "body": null,
            }),
        )];
        if let Some(w) = self.writes.get(&a.id) {
            for cm in &w.comments {
                let name = MEMBERS
                    .iter()
                    .find(|m| m.id == cm.member_id)
                    .map(|m| m.name);
                // Admins always see a comment; no policy = everyone does.
                let roles: Vec<&str> = match &cm.policy {
                    None => POLICY_ROLES.to_vec(),
                    Some(p) => {
                        let mut r: Vec<&str> = p.iter().map(String::as_str).collect();
                        if !r.contains(&"admin") {
                            r.push("admin");
                        }
                        r
                    }
                };
                let mut m = Map::new();
                m.insert("id".into(), json!(format!("{:08x}", cm.id)));
                m.insert("action".into(), json!("comment"));
                m.insert("stage_name".into(), Value::Null);
                m.insert("created_at".into(), json!(ts(cm.created_at)));
                m.insert("updated_at".into(), json!(ts(cm.created_at)));
                m.insert("body".into(), json!(cm.body));
                m.insert("member".into(), json!({"id": cm.member_id, "name": name}));
                m.insert("visibility_roles".into(), json!(roles));
                out.push((cm.id, Value::Object(m)));
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sandbox::data::Tenant;

    #[test]
    fn job_text_carries_the_skills() {
        let t = Tenant::generate(9, 8, 10);
        for j in &t.jobs {
            let html = job_text(j).full_description;
            let text = crate::model::text::html_to_text(&html);
            let job = crate::model::Job::from_text(j.id.to_string(), j.title.clone(), text);
            let ask = crate::scoring::job::analyze(&job, &Default::default());
            assert!(ask.years.is_some(), "{}", job.description);
            assert!(
                ask.must.len() >= j.required_skills.len().min(3),
                "{:?} vs {:?}",
                ask.must,
                j.required_skills
            );
            assert!(!ask.nice.is_empty(), "{}", job.description);
        }
    }
}
