//! Greenhouse v3's wire shapes for the generated tenant.

use serde_json::{Value, json};

use super::{APP_CUSTOM_FIELDS, AppliedTag, Gh, Note, SITE_ADMIN_USER_ID, Tag, User};
use crate::sandbox::data::{
    AppState, Department, GenApplication, GenCandidate, GenJob, JobState, Office, STAGES, Tenant,
    epoch,
};
use crate::sandbox::ts;

impl Gh {
    pub(super) fn app_json(&self, a: &GenApplication) -> Value {
        let mut fields = serde_json::Map::new();
        let set = self.app_fields.get(&a.id);
        for (key, name, ty) in APP_CUSTOM_FIELDS {
            let value = set.and_then(|m| m.get(key)).cloned().unwrap_or(Value::Null);
            fields.insert(
                key.to_string(),
                json!({"name": name, "type": ty, "value": value}),
            );
        }
        let job = self.tenant.job(a.job_id);
        let status = match a.state {
            AppState::Active => "in_process",
            AppState::Rejected => "rejected",
            AppState::Hired => "hired",
            AppState::Converted => "converted",
        };
        let rejected_at = (a.state == AppState::Rejected).then(|| ts(a.updated_at));
        json!({
            "id": a.id,
            "candidate_id": a.candidate_id,
            "job_id": a.job_id,
            "job_post_id": job.map(|j| j.post_id),
            "prospect": false,
            "prospective_job_ids": [],
            "status": status,
            "stage_id": stage_id(a),
            "stage_name": STAGES.get(a.stage).copied().unwrap_or("Application Review"),
            "needs_decision": false,
            "recruiter_id": SITE_ADMIN_USER_ID,
            "coordinator_id": null,
            "referrer_id": null,
            "source_id": 1871,
            "rejected_at": rejected_at,
            "rejection_reason_id": super::webhooks::reason_of(a).map(|r| super::webhooks::reason(r).0),
            "location_address": job.map(|j| j.location.clone()),
            "answers": [],
            "custom_fields": fields,
            "agency_note_id": null,
            "last_activity_at": ts(a.last_activity_at),
            "created_at": ts(a.created_at),
            "updated_at": ts(a.updated_at),
        })
    }

    pub(super) fn candidate_json(&self, c: &GenCandidate, tags: &[String]) -> Value {
        json!({
            "id": c.id,
            "first_name": c.first_name,
            "last_name": c.last_name,
            "preferred_name": null,
            "company": c.company,
            "title": c.title,
            "private": false,
            "can_email": true,
            "time_zone": null,
            "tags": tags,
            "linked_user_ids": [],
            "phone_numbers": [{"value": c.phone, "type": "mobile"}],
            "addresses": [{"value": c.address(), "type": "home"}],
            "email_addresses": [{"value": c.email, "type": "personal"}],
            "website_addresses": [],
            "social_media_addresses": [],
            "custom_fields": {},
            "last_activity_at": ts(c.last_activity_at),
            "created_at": ts(c.created_at),
            "updated_at": ts(c.updated_at),
        })
    }

    pub(super) fn attachment_json(&self, a: &GenApplication) -> Value {
        let filename = self
            .tenant
            .candidate(a.candidate_id)
            .map(|c| c.resume_filename())
            .unwrap_or_else(|| "resume.txt".into());
        json!({
            "id": a.attachment_id,
            "application_id": a.id,
            "candidate_id": a.candidate_id,
            "filename": filename,
            "type": "resume",
            "url": format!("{}/files/{}/{}", self.base_url, a.attachment_id, filename),
            "created_at": ts(a.attachment_created_at),
            "updated_at": ts(a.attachment_updated_at),
        })
    }
}

pub(super) fn stage_id(a: &GenApplication) -> u64 {
    // Stages are per job in Greenhouse.
    a.job_id * 10 + a.stage as u64
}

pub(super) fn job_json(j: &GenJob, tenant: &Tenant) -> Value {
    let opened = (j.state != JobState::Draft).then(|| ts(j.created_at));
    let closed = (j.state == JobState::Closed).then(|| ts(j.updated_at));
    json!({
        "id": j.id,
        "name": j.title,
        "requisition_id": format!("REQ-{}", j.id),
        "notes": null,
        "confidential": false,
        "status": j.state.as_str(),
        "is_template": false,
        "copied_from_id": null,
        "department_id": j.department_id,
        "department_name": tenant.department_name(j.department_id),
        "office_ids": [j.office_id],
        "opened_at": opened,
        "closed_at": closed,
        "custom_fields": {
            "employment_type": {"name": "Time type", "type": "single_select", "value": j.employment_type}
        },
        "created_at": ts(j.created_at),
        "updated_at": ts(j.updated_at),
    })
}

pub(super) fn job_post_json(j: &GenJob) -> Value {
    let live = j.state == JobState::Open;
    json!({
        "id": j.post_id,
        "job_id": j.id,
        "title": j.title,
        "live": live,
        "active": j.state != JobState::Closed,
        "internal": false,
        "external": true,
        "location": {"name": j.location},
        "content": j.description_html(),
        "first_published_at": live.then(|| ts(j.created_at)),
        "created_at": ts(j.created_at),
        "updated_at": ts(j.updated_at),
    })
}

pub(super) fn note_json(n: &Note) -> Value {
    json!({
        "id": n.id,
        "candidate_id": n.candidate_id,
        "application_id": n.application_id,
        "user_id": n.user_id,
        "type": n.note_type,
        "subject": null,
        "body": n.body,
        "body_with_tags": n.body,
        "visibility": n.visibility,
        "email_from": null,
        "email_to": null,
        "email_cc": null,
        "email_attachment_file_names": null,
        "import_hash": null,
        "created_at": ts(n.created_at),
        "updated_at": ts(n.created_at),
    })
}

pub(super) fn tag_json(t: &Tag) -> Value {
    json!({"id": t.id, "name": t.name, "created_at": ts(t.created_at), "updated_at": ts(t.updated_at)})
}

pub(super) fn applied_tag_json(t: &AppliedTag) -> Value {
    json!({
        "id": t.id,
        "candidate_id": t.candidate_id,
        "candidate_tag_id": t.candidate_tag_id,
        "created_at": ts(t.created_at),
        "updated_at": ts(t.created_at),
    })
}

pub(super) fn department_json(d: &Department) -> Value {
    let at = ts(epoch());
    json!({"id": d.id, "name": d.name, "parent_id": null, "external_id": null, "created_at": at, "updated_at": at})
}

pub(super) fn office_json(o: &Office) -> Value {
    let at = ts(epoch());
    json!({"id": o.id, "name": o.name, "location": {"name": o.name}, "parent_id": null, "created_at": at, "updated_at": at})
}

/// A v3 user. Service accounts have no email: `primary_email` is empty.
pub(super) fn user_json(u: &User) -> Value {
    let emails: Vec<&str> = [u.email].into_iter().filter(|e| !e.is_empty()).collect();
    json!({
        "id": u.id,
        "name": format!("{} {}", u.first_name, u.last_name),
        "first_name": u.first_name,
        "last_name": u.last_name,
        "primary_email": u.email,
        "emails": emails,
        "employee_id": u.employee_id,
        "job_title": u.job_title,
        "site_admin": u.site_admin,
        "deactivated": u.deactivated,
        "agency_id": null,
        "department_ids": [],
        "office_ids": [],
        "linked_candidate_ids": [],
        "interviewer_tags": [],
        "custom_fields": {},
        "created_at": ts(u.created_at()),
        "updated_at": ts(u.updated_at()),
    })
}
