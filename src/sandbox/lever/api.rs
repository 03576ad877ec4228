//! `/v1` handlers. The guard has authenticated the request by now.

use std::collections::BTreeMap;

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use chrono::DateTime;
use serde_json::{Map, Value, json};

use super::errors::{bad_request, json_body, not_found};
use super::ids::{self, Kind};
use super::interviews::{self, Interview, interviews};
use super::query::{Query, envelope, in_range};
use super::render::{self, ARCHIVE_REASONS, Expand, archived, posting_state, stage_id, updated_at};
use super::{Actor, Lever, Note, NoteField, ms, user};
use crate::sandbox::data::{GenApplication, now};
use crate::sandbox::errors::ApiError;
use crate::sandbox::{Shared, lock};

type Result<T> = std::result::Result<T, ApiError>;

fn data(v: Value) -> Json<Value> {
    Json(json!({ "data": v }))
}

// ---------------------------------------------------------------------------
// Opportunities

/// Filters of `GET /v1/opportunities`. Multi-valued ones match any value.
struct OpportunityFilter {
    updated: (Option<i64>, Option<i64>),
    created: (Option<i64>, Option<i64>),
    postings: Vec<Option<u64>>,
    contacts: Vec<Option<u64>>,
    tags: Vec<String>,
    emails: Vec<String>,
    stages: Vec<usize>,
    origins: Vec<String>,
    archived: Option<bool>,
    /// `confidentiality=confidential`: no generated opportunity is.
    none: bool,
}

impl OpportunityFilter {
    fn parse(q: &Query) -> Result<OpportunityFilter> {
        let stages = q
            .all("stage_id")
            .map(|s| {
                render::stage_index(s).ok_or_else(|| bad_request(format!("Invalid stage_id: {s}")))
            })
            .collect::<Result<_>>()?;
        let none = match q.one("confidentiality") {
            None | Some("non-confidential") | Some("all") => false,
            Some("confidential") => true,
            Some(other) => {
                return Err(bad_request(format!(
                    "Invalid confidentiality '{other}'; use confidential, non-confidential or all"
                )));
            }
        };
        Ok(OpportunityFilter {
            updated: (q.ms("updated_at_start")?, q.ms("updated_at_end")?),
            created: (q.ms("created_at_start")?, q.ms("created_at_end")?),
            postings: q.ids("posting_id", Kind::Posting)?,
            contacts: q.ids("contact_id", Kind::Contact)?,
            tags: q.all("tag").map(str::to_string).collect(),
            emails: q.all("email").map(|e| e.trim().to_lowercase()).collect(),
            stages,
            origins: q.all("origin").map(str::to_string).collect(),
            archived: q.bool("archived")?,
            none,
        })
    }

    fn matches(&self, g: &Lever, a: &GenApplication) -> bool {
        if self.none {
            return false;
        }
        let updated_ok = match self.updated {
            (None, None) => true,
            // Opportunities without `updatedAt` never match an updated_at filter.
            (s, e) => updated_at(a).is_some_and(|t| in_range(t, s, e)),
        };
        updated_ok
            && in_range(ms(a.created_at), self.created.0, self.created.1)
            && (self.postings.is_empty() || self.postings.contains(&Some(a.job_id)))
            && (self.contacts.is_empty() || self.contacts.contains(&Some(a.candidate_id)))
            && (self.stages.is_empty() || self.stages.contains(&a.stage))
            && self
                .archived
                .is_none_or(|want| archived(a).is_some() == want)
            && (self.origins.is_empty() || self.origins.iter().any(|o| render::origin(a).0 == o))
            && (self.emails.is_empty()
                || g.tenant
                    .candidate(a.candidate_id)
                    .is_some_and(|c| self.emails.contains(&c.email.to_lowercase())))
            && (self.tags.is_empty() || self.tags.iter().any(|t| g.has_tag(a, t)))
    }
}

fn expand(q: &Query) -> Result<Expand> {
    Expand::parse(q.all("expand")).map_err(bad_request)
}

pub(super) async fn list_opportunities(
    State(s): State<Shared<Lever>>,
    RawQuery(raw): RawQuery,
) -> Result<Json<Value>> {
    let q = Query::parse(raw);
    let ex = expand(&q)?;
    let filter = OpportunityFilter::parse(&q)?;
    let g = lock(&s);
    // The tenant keeps applications in id order, which is creation order.
    g.list_page(
        &q,
        ("opportunities", Kind::Opportunity),
        &g.tenant.applications,
        |a| (a.id, ms(a.created_at)),
        |a| filter.matches(&g, a),
        |a| g.opportunity_json(a, &ex),
    )
}

pub(super) async fn get_opportunity(
    State(s): State<Shared<Lever>>,
    Path(id): Path<String>,
    RawQuery(raw): RawQuery,
) -> Result<Json<Value>> {
    let ex = expand(&Query::parse(raw))?;
    let g = lock(&s);
    let a = g.app(&id)?;
    Ok(data(g.opportunity_json(a, &ex)))
}

pub(super) async fn list_deleted(
    State(s): State<Shared<Lever>>,
    RawQuery(raw): RawQuery,
) -> Result<Json<Value>> {
    let q = Query::parse(raw);
    let (start, end) = (q.ms("deleted_at_start")?, q.ms("deleted_at_end")?);
    let g = lock(&s);
    g.list_page(
        &q,
        ("deleted", Kind::Deletion),
        &g.deleted,
        |d| (d.seq, ms(d.at)),
        |d| in_range(ms(d.at), start, end),
        |d| json!({"id": ids::uuid(Kind::Opportunity, d.app_id), "deletedAt": ms(d.at)}),
    )
}

pub(super) async fn list_applications(
    State(s): State<Shared<Lever>>,
    Path(id): Path<String>,
) -> Result<Json<Value>> {
    let g = lock(&s);
    let a = g.app(&id)?;
    Ok(envelope(vec![g.application_json(a)], None))
}

pub(super) async fn get_application(
    State(s): State<Shared<Lever>>,
    Path((id, app)): Path<(String, String)>,
) -> Result<Json<Value>> {
    let g = lock(&s);
    let a = g.app(&id)?;
    if ids::parse(Kind::Application, &app) != Some(a.id) {
        return Err(not_found(format!("applications {app} was not found")));
    }
    Ok(data(g.application_json(a)))
}

// ---------------------------------------------------------------------------
// Resumes

pub(super) async fn list_resumes(
    State(s): State<Shared<Lever>>,
    Path(id): Path<String>,
    RawQuery(raw): RawQuery,
) -> Result<Json<Value>> {
    let q = Query::parse(raw);
    let (start, end) = (q.ms("uploaded_at_start")?, q.ms("uploaded_at_end")?);
    let g = lock(&s);
    let a = g.app(&id)?;
    let items = g
        .resume_json(a)
        .filter(|_| in_range(ms(a.attachment_updated_at), start, end))
        .into_iter()
        .collect();
    Ok(envelope(items, None))
}

/// The opportunity's current resume, if `resume` is its id.
fn resume_of<'a>(g: &'a Lever, id: &str, resume: &str) -> Result<&'a GenApplication> {
    let a = g.app(id)?;
    if Lever::resume_id(a) != resume.trim().to_ascii_lowercase() {
        return Err(not_found(format!("resumes {resume} was not found")));
    }
    Ok(a)
}

pub(super) async fn get_resume(
    State(s): State<Shared<Lever>>,
    Path((id, resume)): Path<(String, String)>,
) -> Result<Json<Value>> {
    let g = lock(&s);
    let a = resume_of(&g, &id, &resume)?;
    let v = g
        .resume_json(a)
        .ok_or_else(|| not_found(format!("resumes {resume} was not found")))?;
    Ok(data(v))
}

pub(super) async fn download_resume(
    State(s): State<Shared<Lever>>,
    Path((id, resume)): Path<(String, String)>,
) -> Result<Response> {
    let g = lock(&s);
    let a = resume_of(&g, &id, &resume)?;
    let c = g
        .tenant
        .candidate(a.candidate_id)
        .ok_or_else(|| not_found(format!("resumes {resume} was not found")))?;
    Ok(attachment(
        &c.resume_filename(),
        c.resume_file.content_type(),
        c.resume_bytes(),
    ))
}

/// A file download of `content_type`, named by `Content-Disposition`.
fn attachment(filename: &str, content_type: &str, body: Vec<u8>) -> Response {
    let disposition = format!("attachment; filename=\"{filename}\"");
    (
        StatusCode::OK,
        [
            (header::CONTENT_TYPE, content_type.to_string()),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        body,
    )
        .into_response()
}

// ---------------------------------------------------------------------------
// Postings

const POSTING_STATES: [&str; 6] = [
    "published",
    "internal",
    "closed",
    "draft",
    "pending",
    "rejected",
];

pub(super) async fn list_postings(
    State(s): State<Shared<Lever>>,
    RawQuery(raw): RawQuery,
) -> Result<Json<Value>> {
    let q = Query::parse(raw);
    let states: Vec<&str> = q.all("state").collect();
    if let Some(bad) = states.iter().find(|s| !POSTING_STATES.contains(s)) {
        return Err(bad_request(format!(
            "Invalid state '{bad}'; use one of {}",
            POSTING_STATES.join(", ")
        )));
    }
    let content = q
        .all("include")
        .any(|v| v.split(',').any(|x| x.trim() == "content"));
    let (start, end) = (q.ms("updated_at_start")?, q.ms("updated_at_end")?);
    let category = |key: &str| q.all(key).map(str::to_string).collect::<Vec<_>>();
    let (teams, departments, locations, commitments) = (
        category("team"),
        category("department"),
        category("location"),
        category("commitment"),
    );
    let g = lock(&s);
    let any = |want: &[String], have: &str| want.is_empty() || want.iter().any(|w| w == have);
    g.list_page(
        &q,
        ("postings", Kind::Posting),
        &g.tenant.jobs,
        |j| (j.id, ms(j.created_at)),
        |j| {
            (states.is_empty() || states.contains(&posting_state(j.state)))
                && in_range(ms(j.updated_at), start, end)
                && any(&teams, render::team(j.family))
                && any(
                    &departments,
                    g.tenant
                        .department_name(j.department_id)
                        .unwrap_or_default(),
                )
                && any(&locations, &j.location)
                && any(&commitments, j.employment_type)
        },
        |j| g.posting_json(j, content),
    )
}

/// A single posting carries its content, as Lever's retrieve does.
pub(super) async fn get_posting(
    State(s): State<Shared<Lever>>,
    Path(id): Path<String>,
) -> Result<Json<Value>> {
    let g = lock(&s);
    let j = ids::parse(Kind::Posting, &id)
        .and_then(|jid| g.tenant.job(jid))
        .ok_or_else(|| not_found(format!("postings {id} was not found")))?;
    Ok(data(g.posting_json(j, true)))
}

// ---------------------------------------------------------------------------
// Users, tags, stages, archive reasons

pub(super) async fn list_users(RawQuery(raw): RawQuery) -> Result<Json<Value>> {
    let q = Query::parse(raw);
    let include_deactivated = q.bool("includeDeactivated")?.unwrap_or(false);
    let roles: Vec<&str> = q.all("accessRole").collect();
    let items = render::users(include_deactivated)
        .filter(|u| roles.is_empty() || roles.contains(&u.access_role))
        .map(render::user_json)
        .collect();
    Ok(envelope(items, None))
}

pub(super) async fn get_user(Path(id): Path<String>) -> Result<Json<Value>> {
    ids::parse(Kind::User, &id)
        .and_then(user)
        .map(|u| data(render::user_json(u)))
        .ok_or_else(|| not_found(format!("users {id} was not found")))
}

pub(super) async fn list_tags(State(s): State<Shared<Lever>>) -> Json<Value> {
    let g = lock(&s);
    let mut counts: BTreeMap<String, u64> = BTreeMap::new();
    for a in &g.tenant.applications {
        for t in g.opportunity_tags(a) {
            *counts.entry(t).or_default() += 1;
        }
    }
    let items = counts
        .into_iter()
        .map(|(text, count)| json!({"text": text, "count": count}))
        .collect();
    envelope(items, None)
}

pub(super) async fn list_stages() -> Json<Value> {
    envelope(render::stages_json(), None)
}

pub(super) async fn list_archive_reasons() -> Json<Value> {
    envelope(
        ARCHIVE_REASONS
            .iter()
            .map(render::archive_reason_json)
            .collect(),
        None,
    )
}

// ---------------------------------------------------------------------------
// Interviews, feedback, offers

/// What the interview lists serve: the interviews (`FEEDBACK` false) or
/// their feedback forms, one per interview in stage order.
fn interview_item<const FEEDBACK: bool>() -> (&'static str, Kind) {
    if FEEDBACK {
        ("feedback", Kind::Feedback)
    } else {
        ("interviews", Kind::Interview)
    }
}

fn render_interview_item<const FEEDBACK: bool>(
    g: &Lever,
    a: &GenApplication,
    iv: &Interview,
) -> Value {
    if FEEDBACK {
        g.feedback_json(a, iv)
    } else {
        g.interview_json(a, iv)
    }
}

/// `GET /opportunities/:id/interviews` and `/feedback`.
pub(super) async fn list_interview_items<const FEEDBACK: bool>(
    State(s): State<Shared<Lever>>,
    Path(id): Path<String>,
    RawQuery(raw): RawQuery,
) -> Result<Json<Value>> {
    let (name, kind) = interview_item::<FEEDBACK>();
    let q = Query::parse(raw);
    let g = lock(&s);
    let a = g.app(&id)?;
    g.opportunity_list(
        &q,
        a,
        (name, kind),
        &interviews(a),
        |iv| (iv.stage as u64, iv.created_at),
        |iv| render_interview_item::<FEEDBACK>(&g, a, iv),
    )
}

/// `GET /opportunities/:id/interviews/:interview` and `/feedback/:feedback`.
pub(super) async fn get_interview_item<const FEEDBACK: bool>(
    State(s): State<Shared<Lever>>,
    Path((id, item)): Path<(String, String)>,
) -> Result<Json<Value>> {
    let (name, kind) = interview_item::<FEEDBACK>();
    let g = lock(&s);
    let a = g.app(&id)?;
    let stage = interviews::parse(kind, a, &item);
    let iv = interviews(a)
        .into_iter()
        .find(|iv| Some(iv.stage) == stage)
        .ok_or_else(|| not_found(format!("{name} {item} was not found")))?;
    Ok(data(render_interview_item::<FEEDBACK>(&g, a, &iv)))
}

pub(super) async fn list_offers(
    State(s): State<Shared<Lever>>,
    Path(id): Path<String>,
    RawQuery(raw): RawQuery,
) -> Result<Json<Value>> {
    let q = Query::parse(raw);
    let g = lock(&s);
    let a = g.app(&id)?;
    let offers: Vec<(u64, Value)> = (1..).zip(g.offers_json(a)).collect();
    g.opportunity_list(
        &q,
        a,
        ("offers", Kind::Offer),
        &offers,
        |(n, o)| (*n, o["createdAt"].as_i64().unwrap_or_default()),
        |(_, o)| o.clone(),
    )
}

/// The offer letter (sent or signed: the sandbox has one text for both).
pub(super) async fn download_offer(
    State(s): State<Shared<Lever>>,
    Path((id, offer)): Path<(String, String)>,
) -> Result<Response> {
    let g = lock(&s);
    let a = g.app(&id)?;
    let (name, text) = g
        .offer_letter(a, &offer)
        .ok_or_else(|| not_found(format!("offers {offer} was not found")))?;
    Ok(attachment(
        &name,
        "text/plain; charset=utf-8",
        text.into_bytes(),
    ))
}

// ---------------------------------------------------------------------------
// Notes

/// The user a write acts as: `perform_as` when given, else the caller.
fn perform_as(q: &Query, actor: Actor) -> Result<u64> {
    let Some(v) = q.one("perform_as").filter(|v| !v.trim().is_empty()) else {
        return Ok(actor.user);
    };
    match ids::parse(Kind::User, v).and_then(user) {
        Some(u) if !u.deactivated => Ok(u.n),
        Some(_) => Err(bad_request(format!("perform_as user {v} is deactivated"))),
        None => Err(bad_request(format!("perform_as user {v} was not found"))),
    }
}

pub(super) async fn list_notes(
    State(s): State<Shared<Lever>>,
    Path(id): Path<String>,
    RawQuery(raw): RawQuery,
) -> Result<Json<Value>> {
    let q = Query::parse(raw);
    let g = lock(&s);
    let a = g.app(&id)?;
    let notes = g.notes.get(&a.id).map(Vec::as_slice).unwrap_or(&[]);
    g.opportunity_list(
        &q,
        a,
        ("notes", Kind::Note),
        notes,
        |n| (n.serial, ms(n.created_at)),
        render::note_json,
    )
}

pub(super) async fn get_note(
    State(s): State<Shared<Lever>>,
    Path((id, note)): Path<(String, String)>,
) -> Result<Json<Value>> {
    let g = lock(&s);
    let a = g.app(&id)?;
    let serial = ids::parse(Kind::Note, &note);
    g.notes
        .get(&a.id)
        .and_then(|ns| ns.iter().find(|n| Some(n.serial) == serial))
        .map(|n| data(render::note_json(n)))
        .ok_or_else(|| not_found(format!("notes {note} was not found")))
}

fn opt_bool(body: &Map<String, Value>, key: &str) -> Result<bool> {
    match body.get(key) {
        None | Some(Value::Null) => Ok(false),
        Some(Value::Bool(b)) => Ok(*b),
        Some(_) => Err(bad_request(format!("{key} must be a boolean"))),
    }
}

pub(super) async fn create_note(
    State(s): State<Shared<Lever>>,
    Extension(actor): Extension<Actor>,
    Path(id): Path<String>,
    RawQuery(raw): RawQuery,
    body: Bytes,
) -> Result<Response> {
    let q = Query::parse(raw);
    let at = now();
    let mut g = lock(&s);
    let ai = g.app_index(&id)?;
    let user = perform_as(&q, actor)?;
    let body = json_body(&body)?;
    let value = match body.get("value") {
        Some(Value::String(v)) if !v.trim().is_empty() => v.clone(),
        Some(Value::String(_)) | None | Some(Value::Null) => {
            return Err(bad_request("Missing required field: value"));
        }
        Some(_) => return Err(bad_request("value must be a string")),
    };
    let secret = opt_bool(&body, "secret")?;
    opt_bool(&body, "notifyFollowers")?;
    let score = match body.get("score") {
        None | Some(Value::Null) => None,
        Some(v) => Some(
            v.as_u64()
                .filter(|n| (1..=4).contains(n))
                .map(|n| n as u8)
                .ok_or_else(|| bad_request("score must be an integer from 1 to 4"))?,
        ),
    };
    let created_at = match body.get("createdAt") {
        None | Some(Value::Null) => at,
        Some(v) => v
            .as_i64()
            .and_then(DateTime::from_timestamp_millis)
            .filter(|t| *t <= at)
            .ok_or_else(|| bad_request("createdAt must be a past timestamp in milliseconds"))?,
    };
    let app_id = g.tenant.applications[ai].id;
    let stage = stage_id(g.tenant.applications[ai].stage);
    let field = NoteField {
        value,
        score,
        stage,
        user,
        created_at,
    };
    let thread = q
        .one("note_id")
        .filter(|v| !v.trim().is_empty())
        .map(|v| {
            ids::parse(Kind::Note, v)
                .filter(|serial| {
                    g.notes
                        .get(&app_id)
                        .is_some_and(|ns| ns.iter().any(|n| n.serial == *serial))
                })
                .ok_or_else(|| not_found(format!("notes {v} was not found")))
        })
        .transpose()?;
    let note = match thread {
        Some(serial) => {
            let n = g
                .notes
                .get_mut(&app_id)
                .and_then(|ns| ns.iter_mut().find(|n| n.serial == serial))
                .ok_or_else(|| not_found("note was not found"))?;
            n.fields.push(field);
            n.clone()
        }
        None => {
            let serial = g.next_note;
            g.next_note += 1;
            let n = Note {
                serial,
                user,
                secret,
                created_at,
                fields: vec![field],
            };
            g.notes.entry(app_id).or_default().push(n.clone());
            n
        }
    };
    // A note is activity on the opportunity; its fields do not change.
    let a = &mut g.tenant.applications[ai];
    if at > a.last_activity_at {
        a.last_activity_at = at;
    }
    g.stats.notes_created += 1;
    let mut out = render::note_json(&note);
    if let Some(o) = out.as_object_mut() {
        o.insert("noteId".into(), o.get("id").cloned().unwrap_or(Value::Null));
    }
    Ok((StatusCode::CREATED, data(out)).into_response())
}

// ---------------------------------------------------------------------------
// Tags

fn tags_of(body: &Map<String, Value>) -> Result<Vec<String>> {
    let arr = body
        .get("tags")
        .and_then(Value::as_array)
        .ok_or_else(|| bad_request("Missing required field: tags (an array of strings)"))?;
    arr.iter()
        .map(|t| {
            t.as_str()
                .map(|s| s.trim().to_string())
                .ok_or_else(|| bad_request("tags must be strings"))
        })
        .filter(|t| t.as_ref().map_or(true, |s| !s.is_empty()))
        .collect()
}

/// `addTags` (`ADD`) and `removeTags`.
pub(super) async fn change_tags<const ADD: bool>(
    State(s): State<Shared<Lever>>,
    Extension(actor): Extension<Actor>,
    Path(id): Path<String>,
    RawQuery(raw): RawQuery,
    body: Bytes,
) -> Result<Json<Value>> {
    let q = Query::parse(raw);
    let mut g = lock(&s);
    let ai = g.app_index(&id)?;
    perform_as(&q, actor)?;
    let wanted = tags_of(&json_body(&body)?)?;
    let app_id = g.tenant.applications[ai].id;
    let mut tags = g.opportunity_tags(&g.tenant.applications[ai]);
    let mut written = g.written_tags.get(&app_id).cloned().unwrap_or_default();
    let mut changed = 0u64;
    for t in wanted {
        if ADD {
            if !tags.contains(&t) {
                tags.push(t.clone());
                changed += 1;
            }
            if !written.contains(&t) {
                written.push(t);
            }
        } else if tags.contains(&t) {
            tags.retain(|x| *x != t);
            written.retain(|x| *x != t);
            changed += 1;
        }
    }
    if changed > 0 {
        // Tags are fields of the opportunity: changing them bumps updatedAt.
        let at = now();
        let a = &mut g.tenant.applications[ai];
        a.updated_at = at.max(a.updated_at);
        a.last_activity_at = at.max(a.last_activity_at);
        g.tags.insert(app_id, tags);
        if ADD {
            g.stats.tags_applied += changed;
        }
    }
    if written.is_empty() {
        g.written_tags.remove(&app_id);
    } else {
        g.written_tags.insert(app_id, written);
    }
    let a = &g.tenant.applications[ai];
    Ok(data(g.opportunity_json(a, &Expand::default())))
}
