//! `/spi/v3` handlers (the guard has authenticated the request by now), and
//! the unauthenticated resume downloads.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::errors::{body_json, not_found_error, unprocessable};
use super::ids::{candidate_hex, candidate_num};
use super::query::{Query, list_body, next_url, take_page, window};
use super::render;
use super::{
    ACCOUNT_NAME, CUSTOM_ATTRIBUTES, Comment, MEMBERS, PIPELINE, POLICY_ROLES, SUBDOMAIN, Wk,
    member,
};
use crate::sandbox::data::{JobState, now};
use crate::sandbox::errors::ApiError;
use crate::sandbox::{Shared, lock};

type ApiResult = Result<Json<Value>, ApiError>;

pub(super) async fn list_accounts() -> Json<Value> {
    Json(json!({"accounts": [{
        "id": "5a1b2c",
        "name": ACCOUNT_NAME,
        "subdomain": SUBDOMAIN,
        "description": null,
        "summary": null,
        "website_url": "https://sandbox.example.com",
    }]}))
}

/// Heavy text fields jobs lists leave out unless asked for.
const JOB_TEXT_FIELDS: [&str; 4] = [
    "description",
    "full_description",
    "requirements",
    "benefits",
];

pub(super) async fn list_jobs(State(s): State<Shared<Wk>>, RawQuery(raw): RawQuery) -> ApiResult {
    let q = Query::parse(raw);
    let limit = q.limit()?;
    let since = q.hex_id("since_id")?;
    let max = q.hex_id("max_id")?;
    let created_after = q.time("created_after")?;
    let updated_after = q.time("updated_after")?;
    let state = match q.get("state") {
        None => None,
        Some("published") => Some(Some(JobState::Open)),
        Some("closed") => Some(Some(JobState::Closed)),
        Some("draft") => Some(Some(JobState::Draft)),
        // No generated job is archived.
        Some("archived") => Some(None),
        Some(other) => {
            return Err(unprocessable(format!(
                "state '{other}' is invalid; use one of draft, published, closed, archived"
            )));
        }
    };
    let mut include: Vec<&str> = Vec::new();
    if let Some(v) = q.get("include_fields") {
        for f in v.split(',').map(str::trim).filter(|f| !f.is_empty()) {
            let Some(known) = JOB_TEXT_FIELDS.iter().find(|k| **k == f) else {
                return Err(unprocessable(format!(
                    "include_fields: '{f}' is not one of description, full_description, requirements, benefits"
                )));
            };
            include.push(known);
        }
    }
    let g = lock(&s);
    let jobs = &g.tenant.jobs;
    let it = window(&g.job_order, |&i| g.job_num[i], since, max)
        .iter()
        .copied()
        .filter(|&i| {
            let j = &jobs[i];
            state.is_none_or(|st| st == Some(j.state))
                && created_after.is_none_or(|t| j.created_at >= t)
                && updated_after.is_none_or(|t| j.updated_at >= t)
        });
    let (page, next) = take_page(it, limit);
    let items = page.into_iter().map(|i| g.job_json(i, &include)).collect();
    let next = next.map(|i| {
        let carry = q.carry(&[
            "state",
            "include_fields",
            "max_id",
            "created_after",
            "updated_after",
        ]);
        next_url(&g.base_url, "/jobs", limit, &g.job_hex(i), &carry)
    });
    Ok(list_body("jobs", items, next))
}

pub(super) async fn job_detail(
    State(s): State<Shared<Wk>>,
    Path(shortcode): Path<String>,
) -> ApiResult {
    let g = lock(&s);
    let i = *g.by_shortcode.get(&shortcode).ok_or_else(not_found_error)?;
    // Unwrapped, unlike the candidate.
    Ok(Json(g.job_detail_json(i)))
}

pub(super) async fn list_candidates(
    State(s): State<Shared<Wk>>,
    RawQuery(raw): RawQuery,
) -> ApiResult {
    let q = Query::parse(raw);
    let shortcode = q.get("shortcode").map(str::to_string);
    candidates_page(&s, &q, shortcode)
}

pub(super) async fn list_job_candidates(
    State(s): State<Shared<Wk>>,
    Path(shortcode): Path<String>,
    RawQuery(raw): RawQuery,
) -> ApiResult {
    candidates_page(&s, &Query::parse(raw), Some(shortcode))
}

fn candidates_page(s: &Shared<Wk>, q: &Query, shortcode: Option<String>) -> ApiResult {
    let limit = q.limit()?;
    let since = q.hex_id("since_id")?;
    let max = q.hex_id("max_id")?;
    let created_after = q.time("created_after")?;
    let updated_after = q.time("updated_after")?;
    let email = q.get("email").map(str::to_lowercase);
    let stage = q.get("stage").map(str::to_lowercase);
    let g = lock(s);
    let job_id = match &shortcode {
        None => None,
        Some(sc) => {
            let i = *g.by_shortcode.get(sc).ok_or_else(not_found_error)?;
            Some(g.tenant.jobs[i].id)
        }
    };
    let it = window(&g.tenant.applications, |a| candidate_num(a.id), since, max)
        .iter()
        .filter(|a| {
            job_id.is_none_or(|j| a.job_id == j)
                && created_after.is_none_or(|t| a.created_at >= t)
                && updated_after.is_none_or(|t| render::updated_at(a) >= t)
                && stage
                    .as_deref()
                    .is_none_or(|st| render::stage_of(a).0 == st)
                && email.as_deref().is_none_or(|e| {
                    g.tenant
                        .candidate(a.candidate_id)
                        .is_some_and(|c| c.email.to_lowercase() == e)
                })
        });
    let (page, next) = take_page(it, limit);
    let items = page.into_iter().map(|a| g.candidate_json(a)).collect();
    let next = next.map(|a| {
        let carry = q.carry(&["stage", "email", "max_id", "created_after", "updated_after"]);
        // With a job filter the next page is the nested route, as recorded.
        let path = match &shortcode {
            Some(sc) => format!("/jobs/{sc}/candidates"),
            None => "/candidates".to_string(),
        };
        next_url(&g.base_url, &path, limit, &candidate_hex(a.id), &carry)
    });
    Ok(list_body("candidates", items, next))
}

pub(super) async fn candidate_detail(
    State(s): State<Shared<Wk>>,
    Path(id): Path<String>,
) -> ApiResult {
    let g = lock(&s);
    let ai = g.app_index(&id).ok_or_else(not_found_error)?;
    let a = &g.tenant.applications[ai];
    Ok(Json(json!({ "candidate": g.candidate_detail_json(a) })))
}

pub(super) async fn list_activities(
    State(s): State<Shared<Wk>>,
    Path(id): Path<String>,
    RawQuery(raw): RawQuery,
) -> ApiResult {
    let q = Query::parse(raw);
    let limit = q.limit()?;
    let since = q.hex_id("since_id")?;
    let max = q.hex_id("max_id")?;
    let g = lock(&s);
    let ai = g.app_index(&id).ok_or_else(not_found_error)?;
    let a = &g.tenant.applications[ai];
    let all = g.activities(a);
    let (page, next) = take_page(window(&all, |(n, _)| *n, since, max).iter(), limit);
    let items = page.into_iter().map(|(_, v)| v.clone()).collect();
    let next = next.map(|(n, _)| {
        let carry = q.carry(&["max_id"]);
        next_url(
            &g.base_url,
            &format!("/candidates/{id}/activities"),
            limit,
            &format!("{n:08x}"),
            &carry,
        )
    });
    Ok(list_body("activities", items, next))
}

fn stages_json() -> Value {
    let stages: Vec<Value> = PIPELINE
        .iter()
        .enumerate()
        .map(|(i, (slug, name))| {
            json!({
                "id": 5_272_269 + i as u64,
                "identifier": format!("{:x}", 0x50779f + i as u64),
                "slug": slug,
                "name": name,
                "kind": slug,
                "position": i + 1,
            })
        })
        .collect();
    json!({ "stages": stages })
}

pub(super) async fn list_stages() -> Json<Value> {
    Json(stages_json())
}

pub(super) async fn job_stages(
    State(s): State<Shared<Wk>>,
    Path(shortcode): Path<String>,
) -> ApiResult {
    if !lock(&s).by_shortcode.contains_key(&shortcode) {
        return Err(not_found_error());
    }
    Ok(Json(stages_json()))
}

/// The account's external recruiters (`GET /spi/v3/recruiters`, scope
/// `r_jobs`): `{"recruiters": [{"id", "name", "email"}]}`. Third-party clients
/// (Airbyte's connection check) call it first.
pub(super) async fn list_recruiters() -> Json<Value> {
    Json(json!({
        "recruiters": [
            {"id": "13e0ea", "name": "Riley Agency", "email": "riley@agency.example"},
            {"id": "13e0eb", "name": "Morgan Search", "email": "morgan@search.example"},
        ]
    }))
}

pub(super) async fn list_members(RawQuery(raw): RawQuery) -> ApiResult {
    let q = Query::parse(raw);
    let limit = q.limit()?;
    let status = match q.get("status") {
        None => None,
        Some("active") => Some(true),
        Some("inactive") => Some(false),
        Some(other) => {
            return Err(unprocessable(format!(
                "status '{other}' is invalid; use active or inactive"
            )));
        }
    };
    let members = MEMBERS
        .iter()
        .filter(|m| status.is_none_or(|st| st == m.active))
        .take(limit)
        .map(|m| {
            json!({
                "id": m.id,
                "name": m.name,
                "headline": null,
                "email": m.email,
                "role": m.role,
                "type": "Member",
                "active": m.active,
                "collaboration_rules": [],
            })
        })
        .collect();
    Ok(Json(json!({ "members": Value::Array(members) })))
}

pub(super) async fn list_custom_attributes() -> Json<Value> {
    let attrs: Vec<Value> = CUSTOM_ATTRIBUTES
        .iter()
        .map(|(key, label, ty)| {
            // `id` is the key writes name; `key` repeats it for readability.
            json!({"id": key, "key": key, "type": ty, "enabled": true, "label": label, "hint": null})
        })
        .collect();
    Json(json!({ "custom_attributes": attrs }))
}

impl Wk {
    /// The candidate a write names and the write's JSON body.
    fn write_request(&self, id: &str, body: &[u8]) -> Result<(usize, Value), ApiError> {
        let ai = self.app_index(id).ok_or_else(not_found_error)?;
        Ok((ai, body_json(body)?))
    }
}

pub(super) async fn create_comment(
    State(s): State<Shared<Wk>>,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let mut g = lock(&s);
    let (ai, v) = g.write_request(&id, &body)?;
    let member_id = v
        .get("member_id")
        .and_then(Value::as_str)
        .filter(|m| !m.trim().is_empty())
        .ok_or_else(|| unprocessable("member_id is required"))?;
    let m = member(member_id.trim())
        .filter(|m| m.active)
        .ok_or_else(|| unprocessable("member_id does not match an active member"))?;
    let comment = v
        .get("comment")
        .filter(|c| c.is_object())
        .ok_or_else(|| unprocessable("comment is required"))?;
    let text = comment
        .get("body")
        .and_then(Value::as_str)
        .filter(|b| !b.trim().is_empty())
        .ok_or_else(|| unprocessable("comment body is required"))?
        .to_string();
    let policy = match comment.get("policy") {
        None | Some(Value::Null) => None,
        Some(Value::Array(items)) => {
            let mut roles = Vec::new();
            for r in items {
                let role = r
                    .as_str()
                    .filter(|r| POLICY_ROLES.contains(r))
                    .ok_or_else(|| {
                        unprocessable(format!(
                            "policy: {r} is not one of {}",
                            POLICY_ROLES.join(", ")
                        ))
                    })?;
                roles.push(role.to_string());
            }
            Some(roles)
        }
        Some(_) => return Err(unprocessable("policy must be an array of roles")),
    };
    let at = now();
    g.tenant.applications[ai].last_activity_at = at;
    let cid = g.next_comment_id;
    g.next_comment_id += 1;
    g.write_to(ai, at).comments.push(Comment {
        id: cid,
        member_id: m.id,
        body: text,
        policy,
        created_at: at,
    });
    g.stats.notes_created += 1;
    Ok((
        StatusCode::CREATED,
        Json(json!({ "id": format!("{cid:08x}") })),
    )
        .into_response())
}

pub(super) async fn replace_tags(
    State(s): State<Shared<Wk>>,
    Path(id): Path<String>,
    body: Bytes,
) -> ApiResult {
    let mut g = lock(&s);
    let (ai, v) = g.write_request(&id, &body)?;
    let list = v
        .get("tags")
        .and_then(Value::as_array)
        .ok_or_else(|| unprocessable("tags must be an array of strings"))?;
    let mut tags: Vec<String> = Vec::new();
    for t in list {
        let t = t
            .as_str()
            .ok_or_else(|| unprocessable("tags must be an array of strings"))?
            .trim();
        if !t.is_empty() && !tags.iter().any(|x| x == t) {
            tags.push(t.to_string());
        }
    }
    g.write_to(ai, now()).tags = tags.clone();
    g.stats.tags_applied += 1;
    Ok(Json(json!({ "tags": tags })))
}

pub(super) async fn update_custom_attribute(
    State(s): State<Shared<Wk>>,
    Path(id): Path<String>,
    body: Bytes,
) -> ApiResult {
    let mut g = lock(&s);
    let (ai, v) = g.write_request(&id, &body)?;
    let key = v
        .get("custom_attribute_key")
        .and_then(Value::as_str)
        .filter(|k| !k.trim().is_empty())
        .ok_or_else(|| unprocessable("custom_attribute_key is required"))?;
    // An unknown key is a 404, as recorded.
    let (key, _, ty) = *CUSTOM_ATTRIBUTES
        .iter()
        .find(|(k, _, _)| *k == key)
        .ok_or_else(not_found_error)?;
    let value = v
        .get("value")
        .ok_or_else(|| unprocessable("value is required"))?;
    let ok = match (ty, value) {
        (_, Value::Null) => true,
        ("numeric", Value::Number(_)) => true,
        ("short_text", Value::String(s)) => s.chars().count() <= 128,
        _ => false,
    };
    if !ok {
        return Err(unprocessable(format!(
            "value is not valid for the {ty} attribute {key}"
        )));
    }
    g.write_to(ai, now())
        .attributes
        .insert(key.to_string(), value.clone());
    g.stats.application_patches += 1;
    Ok(Json(json!({"custom_attribute_key": key, "value": value})))
}

pub(super) async fn resume_file(
    State(s): State<Shared<Wk>>,
    Path((id, filename)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let g = lock(&s);
    let ai = g.app_index(&id).ok_or_else(not_found_error)?;
    let c = g
        .person(&g.tenant.applications[ai])
        .filter(|c| c.resume_filename() == filename)
        .ok_or_else(not_found_error)?;
    Ok((
        StatusCode::OK,
        [(header::CONTENT_TYPE, c.resume_file.content_type())],
        c.resume_bytes(),
    )
        .into_response())
}
