//! `/v3` handlers (the guard has authenticated the request by now), and the
//! unauthenticated attachment downloads.

use std::collections::HashMap;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use serde::Deserialize;
use serde_json::Value;

use super::errors::field_error;
use super::query::{ListReq, in_list};
use super::render::{
    applied_tag_json, department_json, job_json, job_post_json, note_json, office_json, tag_json,
    user_json,
};
use super::{APP_CUSTOM_FIELDS, Actor, AppliedTag, Gh, Note, Tag, USERS, user};
use crate::sandbox::data::{AppState, now};
use crate::sandbox::errors::ApiError;
use crate::sandbox::request::{json_id, parse_json};
use crate::sandbox::{Shared, lock};

type ListResult = Result<Response, ApiError>;

pub(super) async fn list_jobs(State(s): State<Shared<Gh>>, req: ListReq) -> ListResult {
    let common = req.common()?;
    let status = req.get("status").map(str::to_ascii_lowercase);
    if let Some(st) = &status
        && !["open", "closed", "draft"].contains(&st.as_str())
    {
        return Err(ApiError::unprocessable(
            "status must be one of open, closed, draft",
        ));
    }
    let g = lock(&s);
    Ok(req.page(
        &g.base_url,
        &g.tenant.jobs,
        |j| j.id,
        |j| {
            common.matches(j.id, j.created_at, j.updated_at)
                && status.as_deref().is_none_or(|st| st == j.state.as_str())
        },
        |j| job_json(j, &g.tenant),
    ))
}

pub(super) async fn list_job_posts(State(s): State<Shared<Gh>>, req: ListReq) -> ListResult {
    let common = req.common()?;
    let job_ids = req.ids("job_ids")?;
    let g = lock(&s);
    // Posts share the jobs' order (post id = job id + constant).
    Ok(req.page(
        &g.base_url,
        &g.tenant.jobs,
        |j| j.post_id,
        |j| common.matches(j.post_id, j.created_at, j.updated_at) && in_list(&job_ids, j.id),
        job_post_json,
    ))
}

pub(super) async fn list_departments(State(s): State<Shared<Gh>>, req: ListReq) -> ListResult {
    let g = lock(&s);
    dictionary(
        &req,
        &g.base_url,
        &g.tenant.departments,
        |d| d.id,
        department_json,
    )
}

pub(super) async fn list_offices(State(s): State<Shared<Gh>>, req: ListReq) -> ListResult {
    let g = lock(&s);
    dictionary(&req, &g.base_url, &g.tenant.offices, |o| o.id, office_json)
}

/// Service accounts only with `show_service_accounts=true`; `primary_email`
/// and `employee_ids` look users up by what other systems know them by.
pub(super) async fn list_users(State(s): State<Shared<Gh>>, req: ListReq) -> ListResult {
    let common = req.common()?;
    let show_service = req.bool("show_service_accounts")?.unwrap_or(false);
    let deactivated = req.bool("deactivated")?;
    let emails = req.list("primary_email", |e| e.to_lowercase());
    let employee_ids = req.list("employee_ids", str::to_string);
    let g = lock(&s);
    Ok(req.page(
        &g.base_url,
        &USERS,
        |u| u.id,
        |u| {
            common.matches(u.id, u.created_at(), u.updated_at())
                && (show_service || !u.service_account)
                && deactivated.is_none_or(|d| d == u.deactivated)
                && emails
                    .as_ref()
                    .is_none_or(|e| e.contains(&u.email.to_lowercase()))
                && employee_ids
                    .as_ref()
                    .is_none_or(|e| u.employee_id.is_some_and(|id| e.iter().any(|x| x == id)))
        },
        user_json,
    ))
}

/// A list filtered by `ids` alone.
fn dictionary<T>(
    req: &ListReq,
    base: &str,
    items: &[T],
    id: impl Fn(&T) -> u64 + Copy,
    render: impl FnMut(&T) -> Value,
) -> ListResult {
    let ids = req.ids("ids")?;
    Ok(req.page(base, items, id, |x| in_list(&ids, id(x)), render))
}

/// v3 candidates take the universal `ids` filter; `candidate_ids` (v1's) is
/// not one of theirs, and a client that relies on it is refused here rather
/// than handed every candidate.
pub(super) async fn list_candidates(State(s): State<Shared<Gh>>, req: ListReq) -> ListResult {
    let common = req.common()?;
    if req.get("candidate_ids").is_some() {
        return Err(ApiError::unprocessable(
            "candidate_ids is not a filter of /v3/candidates; use ids",
        ));
    }
    let last_activity = req.time("last_activity_at")?;
    let email = req.get("email").map(|e| e.trim().to_lowercase());
    let g = lock(&s);
    let mut tags: HashMap<u64, Vec<String>> = HashMap::new();
    for at in &g.applied_tags {
        if let Some(t) = g.tags.iter().find(|t| t.id == at.candidate_tag_id) {
            tags.entry(at.candidate_id)
                .or_default()
                .push(t.name.clone());
        }
    }
    Ok(req.page(
        &g.base_url,
        &g.tenant.candidates,
        |c| c.id,
        |c| {
            common.matches(c.id, c.created_at, c.updated_at)
                && last_activity
                    .as_ref()
                    .is_none_or(|f| f.matches(c.last_activity_at))
                && email.as_deref().is_none_or(|e| c.email.to_lowercase() == e)
        },
        |c| g.candidate_json(c, tags.get(&c.id).map(Vec::as_slice).unwrap_or(&[])),
    ))
}

pub(super) async fn list_applications(State(s): State<Shared<Gh>>, req: ListReq) -> ListResult {
    let common = req.common()?;
    let candidate_ids = req.ids("candidate_ids")?;
    let job_ids = req.ids("job_ids")?;
    let last_activity = req.time("last_activity_at")?;
    // The query enum says `active`; responses say `in_process`.
    let status = match req.get("status") {
        None => None,
        Some("active") => Some(AppState::Active),
        Some("rejected") => Some(AppState::Rejected),
        Some("hired") => Some(AppState::Hired),
        Some("converted") => Some(AppState::Converted),
        Some(other) => {
            return Err(ApiError::unprocessable(format!(
                "status '{other}' is invalid; use one of active, rejected, hired, converted"
            )));
        }
    };
    let g = lock(&s);
    Ok(req.page(
        &g.base_url,
        &g.tenant.applications,
        |a| a.id,
        |a| {
            common.matches(a.id, a.created_at, a.updated_at)
                && in_list(&candidate_ids, a.candidate_id)
                && in_list(&job_ids, a.job_id)
                && status.is_none_or(|st| st == a.state)
                && last_activity
                    .as_ref()
                    .is_none_or(|f| f.matches(a.last_activity_at))
        },
        |a| g.app_json(a),
    ))
}

pub(super) async fn list_attachments(State(s): State<Shared<Gh>>, req: ListReq) -> ListResult {
    let common = req.common()?;
    let candidate_ids = req.ids("candidate_ids")?;
    let application_ids = req.ids("application_ids")?;
    let g = lock(&s);
    Ok(req.page(
        &g.base_url,
        &g.tenant.applications,
        |a| a.attachment_id,
        |a| {
            common.matches(
                a.attachment_id,
                a.attachment_created_at,
                a.attachment_updated_at,
            ) && in_list(&candidate_ids, a.candidate_id)
                && in_list(&application_ids, a.id)
        },
        |a| g.attachment_json(a),
    ))
}

/// An id field a write must have.
fn required_id(v: &Value, field: &str) -> Result<u64, ApiError> {
    v.get(field)
        .and_then(json_id)
        .ok_or_else(|| field_error(field, "is required"))
}

fn visibility_filter(v: &str) -> Result<&'static str, ApiError> {
    match v {
        "admin_only_visible" | "admin_only" => Ok("admin_only_visible"),
        "privately_visible" | "private" => Ok("privately_visible"),
        "publicly_visible" | "public" => Ok("publicly_visible"),
        _ => Err(ApiError::unprocessable(
            "visibility must be one of admin_only_visible, privately_visible, publicly_visible",
        )),
    }
}

pub(super) async fn list_notes(State(s): State<Shared<Gh>>, req: ListReq) -> ListResult {
    let common = req.common()?;
    let candidate_ids = req.ids("candidate_ids")?;
    let application_ids = req.ids("application_ids")?;
    let user_ids = req.ids("user_ids")?;
    let visibility = req.get("visibility").map(visibility_filter).transpose()?;
    let g = lock(&s);
    Ok(req.page(
        &g.base_url,
        &g.notes,
        |n| n.id,
        |n| {
            common.matches(n.id, n.created_at, n.created_at)
                && in_list(&candidate_ids, n.candidate_id)
                && application_ids
                    .as_ref()
                    .is_none_or(|v| n.application_id.is_some_and(|a| v.contains(&a)))
                && in_list(&user_ids, n.user_id)
                && visibility.is_none_or(|v| v == n.visibility)
        },
        note_json,
    ))
}

pub(super) async fn list_candidate_tags(State(s): State<Shared<Gh>>, req: ListReq) -> ListResult {
    let common = req.common()?;
    let g = lock(&s);
    Ok(req.page(
        &g.base_url,
        &g.tags,
        |t| t.id,
        |t| common.matches(t.id, t.created_at, t.updated_at),
        tag_json,
    ))
}

pub(super) async fn list_applied_tags(State(s): State<Shared<Gh>>, req: ListReq) -> ListResult {
    let common = req.common()?;
    let candidate_ids = req.ids("candidate_ids")?;
    let tag_ids = req.ids("candidate_tag_ids")?;
    let g = lock(&s);
    Ok(req.page(
        &g.base_url,
        &g.applied_tags,
        |t| t.id,
        |t| {
            common.matches(t.id, t.created_at, t.created_at)
                && in_list(&candidate_ids, t.candidate_id)
                && in_list(&tag_ids, t.candidate_tag_id)
        },
        applied_tag_json,
    ))
}

// ---------------------------------------------------------------------------
// Writes

pub(super) async fn create_note(
    State(s): State<Shared<Gh>>,
    Extension(actor): Extension<Actor>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let v: Value = parse_json(&body)?;
    let candidate_id = required_id(&v, "candidate_id")?;
    let application_id = match v.get("application_id") {
        None | Some(Value::Null) => None,
        Some(x) => Some(json_id(x).ok_or_else(|| field_error("application_id", "must be an id"))?),
    };
    let user_id = match v.get("user_id") {
        None | Some(Value::Null) => actor.user_id,
        Some(x) => match json_id(x).and_then(user) {
            Some(u) if u.deactivated => return Err(field_error("user_id", "is deactivated")),
            Some(u) => u.id,
            None => return Err(field_error("user_id", "does not exist")),
        },
    };
    let text = v
        .get("body")
        .and_then(Value::as_str)
        .filter(|b| !b.trim().is_empty())
        .ok_or_else(|| field_error("body", "is required"))?
        .to_string();
    // Create takes the short enum; reads answer with `*_visible`.
    let visibility = match v.get("visibility").and_then(Value::as_str) {
        Some("admin_only") => "admin_only_visible",
        Some("private") => "privately_visible",
        Some("public") => "publicly_visible",
        _ => {
            return Err(field_error(
                "visibility",
                "must be one of admin_only, private, public",
            ));
        }
    };
    let note_type = match v.get("note_type").and_then(Value::as_str) {
        None => "NOTE".to_string(),
        Some(t) if ["NOTE", "ACTIVITY", "EMAIL"].contains(&t.to_ascii_uppercase().as_str()) => {
            t.to_ascii_uppercase()
        }
        Some(_) => {
            return Err(field_error(
                "note_type",
                "must be one of NOTE, ACTIVITY, EMAIL",
            ));
        }
    };
    let mut g = lock(&s);
    let at = now();
    let Some(ci) = g.tenant.candidate_index(candidate_id) else {
        return Err(field_error("candidate_id", "does not exist"));
    };
    if let Some(aid) = application_id
        && g.tenant
            .application(aid)
            .is_none_or(|a| a.candidate_id != candidate_id)
    {
        return Err(field_error(
            "application_id",
            "does not exist or does not belong to the candidate",
        ));
    }
    g.next_note_id += 1;
    let note = Note {
        id: g.next_note_id,
        candidate_id,
        application_id,
        user_id,
        note_type,
        body: text,
        visibility,
        created_at: at,
    };
    // A note is candidate activity.
    g.tenant.candidates[ci].last_activity_at = at;
    g.stats.notes_created += 1;
    let out = note_json(&note);
    g.notes.push(note);
    Ok((StatusCode::CREATED, Json(out)).into_response())
}

#[derive(Deserialize)]
struct PatchApplication {
    custom_fields: Option<Vec<Value>>,
}

pub(super) async fn patch_application(
    State(s): State<Shared<Gh>>,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<StatusCode, ApiError> {
    let id: u64 = id
        .parse()
        .map_err(|_| ApiError::not_found("Application not found"))?;
    let patch: PatchApplication = parse_json(&body)?;
    let fields = patch
        .custom_fields
        .ok_or_else(|| field_error("custom_fields", "nothing to update"))?;
    // Validate every entry before changing anything.
    let mut updates = Vec::new();
    for f in &fields {
        let key = f
            .get("name_key")
            .and_then(Value::as_str)
            .ok_or_else(|| field_error("custom_fields", "each entry needs a name_key"))?;
        let Some((_, _, ty)) = APP_CUSTOM_FIELDS.iter().find(|(k, _, _)| *k == key) else {
            return Err(field_error(
                "custom_fields",
                &format!("unknown custom field name_key '{key}'"),
            ));
        };
        let value = f.get("value").cloned().unwrap_or(Value::Null);
        let ok = match (*ty, &value) {
            (_, Value::Null) => true,
            ("number", Value::Number(_)) => true,
            ("short_text", Value::String(s)) => s.chars().count() <= 255,
            _ => false,
        };
        if !ok {
            return Err(field_error(
                "custom_fields",
                &format!("value for '{key}' must be a {ty}"),
            ));
        }
        updates.push((key.to_string(), value));
    }
    let mut g = lock(&s);
    let Some(ai) = g.tenant.application_index(id) else {
        return Err(ApiError::not_found("Application not found"));
    };
    let at = now();
    // A PATCH bumps updated_at, as Greenhouse does.
    g.tenant.applications[ai].updated_at = at;
    let entry = g.app_fields.entry(id).or_default();
    for (k, v) in updates {
        entry.insert(k, v);
    }
    g.stats.application_patches += 1;
    Ok(StatusCode::NO_CONTENT)
}

pub(super) async fn create_candidate_tag(
    State(s): State<Shared<Gh>>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let v: Value = parse_json(&body)?;
    let name = v
        .get("name")
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .ok_or_else(|| field_error("name", "is required"))?
        .to_string();
    let mut g = lock(&s);
    if g.tags.iter().any(|t| t.name.eq_ignore_ascii_case(&name)) {
        return Err(field_error("name", "has already been taken"));
    }
    g.next_tag_id += 1;
    let at = now();
    let tag = Tag {
        id: g.next_tag_id,
        name,
        created_at: at,
        updated_at: at,
    };
    let out = tag_json(&tag);
    g.tags.push(tag);
    Ok((StatusCode::CREATED, Json(out)).into_response())
}

pub(super) async fn apply_tag(
    State(s): State<Shared<Gh>>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let v: Value = parse_json(&body)?;
    let candidate_id = required_id(&v, "candidate_id")?;
    let tag_id = required_id(&v, "candidate_tag_id")?;
    let mut g = lock(&s);
    if g.tenant.candidate(candidate_id).is_none() {
        return Err(field_error("candidate_id", "does not exist"));
    }
    if !g.tags.iter().any(|t| t.id == tag_id) {
        return Err(field_error("candidate_tag_id", "does not exist"));
    }
    if g.applied_tags
        .iter()
        .any(|t| t.candidate_id == candidate_id && t.candidate_tag_id == tag_id)
    {
        return Err(field_error(
            "candidate_tag_id",
            "is already applied to this candidate",
        ));
    }
    g.next_applied_tag_id += 1;
    let t = AppliedTag {
        id: g.next_applied_tag_id,
        candidate_id,
        candidate_tag_id: tag_id,
        created_at: now(),
    };
    let out = applied_tag_json(&t);
    g.applied_tags.push(t);
    g.stats.tags_applied += 1;
    Ok((StatusCode::CREATED, Json(out)).into_response())
}

pub(super) async fn remove_applied_tag(
    State(s): State<Shared<Gh>>,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let id: u64 = id
        .parse()
        .map_err(|_| ApiError::not_found("Applied candidate tag not found"))?;
    let mut g = lock(&s);
    let before = g.applied_tags.len();
    g.applied_tags.retain(|t| t.id != id);
    if g.applied_tags.len() == before {
        return Err(ApiError::not_found("Applied candidate tag not found"));
    }
    Ok(StatusCode::NO_CONTENT)
}

// ---------------------------------------------------------------------------
// Attachment downloads: unauthenticated, not rate limited (presigned-URL style)

pub(super) async fn file(
    State(s): State<Shared<Gh>>,
    Path((id, filename)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let mut g = lock(&s);
    // Counted like an API route, so tests see what a sync downloads.
    g.stats
        .count_request("GET /files/{id}/{filename}".to_string());
    let id: u64 = id
        .parse()
        .map_err(|_| ApiError::not_found("File not found"))?;
    // Attachment ids ascend with application ids, so binary search works.
    let app = g
        .tenant
        .applications
        .binary_search_by_key(&id, |a| a.attachment_id)
        .ok()
        .map(|i| &g.tenant.applications[i])
        .ok_or_else(|| ApiError::not_found("File not found"))?;
    let c = g
        .tenant
        .candidate(app.candidate_id)
        .filter(|c| c.resume_filename() == filename)
        .ok_or_else(|| ApiError::not_found("File not found"))?;
    Ok((
        StatusCode::OK,
        [(header::CONTENT_TYPE, c.resume_file.content_type())],
        c.resume_bytes(),
    )
        .into_response())
}
