//! A Greenhouse Harvest v3 sandbox: the documented v3 behaviour (OAuth client
//! credentials, bearer JWTs, Site Admin list permission, cursor-only paging
//! with `Link`, pipe-syntax filters, id-descending lists, a fixed 30 s rate
//! window, note/custom-field/tag writes) over a generated tenant, plus a
//! `/_sandbox` control API for tests and the demo.
//!
//! Start it with [`crate::sandbox::start_greenhouse`].

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{MatchedPath, Path, RawQuery, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post, put};
use axum::{Extension, Json};
use chrono::{DateTime, SecondsFormat, Utc};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::sandbox::data::{
    AppState, GenApplication, GenCandidate, GenJob, JobState, STAGES, Tenant, millis,
};
use crate::sandbox::{
    ApiError, Cursor, Decision, Fault, Faults, FixedWindow, Limit, SandboxCredentials,
    SandboxOptions, Stats, TimeFilter, TokenAuthority, TokenRejection, basic_credentials,
    bearer_token, error_id, json_id, lock, page_desc, parse_id_list, parse_json,
    rate_limit_headers, ts,
};

/// The user a token acts as when `sub` is omitted.
pub const INTEGRATION_USER_ID: u64 = 99;
pub const SITE_ADMIN_USER_ID: u64 = 100;
pub const BASIC_USER_ID: u64 = 101;

struct User {
    id: u64,
    first_name: &'static str,
    last_name: &'static str,
    email: &'static str,
    site_admin: bool,
}

const USERS: [User; 3] = [
    User {
        id: INTEGRATION_USER_ID,
        first_name: "Integration",
        last_name: "Service User",
        email: "integration@sandbox.example.com",
        site_admin: true,
    },
    User {
        id: SITE_ADMIN_USER_ID,
        first_name: "Ada",
        last_name: "Admin",
        email: "ada.admin@sandbox.example.com",
        site_admin: true,
    },
    User {
        id: BASIC_USER_ID,
        first_name: "Bob",
        last_name: "Basic",
        email: "bob.basic@sandbox.example.com",
        site_admin: false,
    },
];

fn user(id: u64) -> Option<&'static User> {
    USERS.iter().find(|u| u.id == id)
}

/// Maximum ids in an id-list filter.
const MAX_IDS: usize = 50;
const MAX_PER_PAGE: usize = 500;
const DEFAULT_PER_PAGE: usize = 100;
/// The token endpoint's own window: generous, as Greenhouse's separate 60 s one.
const TOKEN_LIMIT: Limit = Limit {
    requests: 300,
    window: Duration::from_secs(60),
};

/// Custom fields an application has, by name_key: (name, type).
const APP_CUSTOM_FIELDS: [(&str, &str, &str); 2] = [
    ("ai_score", "AI Score", "number"),
    ("ai_band", "AI Band", "short_text"),
];

#[derive(Clone, Debug)]
struct Note {
    id: u64,
    candidate_id: u64,
    application_id: Option<u64>,
    user_id: u64,
    note_type: String,
    body: String,
    /// Read form: `admin_only_visible|privately_visible|publicly_visible`.
    visibility: &'static str,
    created_at: DateTime<Utc>,
}

#[derive(Clone, Debug)]
struct Tag {
    id: u64,
    name: String,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

#[derive(Clone, Debug)]
struct AppliedTag {
    id: u64,
    candidate_id: u64,
    candidate_tag_id: u64,
    created_at: DateTime<Utc>,
}

struct Gh {
    base_url: String,
    client_id: String,
    client_secret: String,
    tenant: Tenant,
    tokens: TokenAuthority,
    api_limiter: FixedWindow,
    token_limiter: FixedWindow,
    faults: Faults,
    stats: Stats,
    notes: Vec<Note>,
    tags: Vec<Tag>,
    applied_tags: Vec<AppliedTag>,
    /// Custom field values by application id, then name_key.
    app_fields: HashMap<u64, BTreeMap<String, Value>>,
    next_note_id: u64,
    next_tag_id: u64,
    next_applied_tag_id: u64,
}

type Shared = Arc<Mutex<Gh>>;

/// The acting user of an authenticated `/v3` request.
#[derive(Clone, Copy, Debug)]
struct Actor {
    user_id: u64,
    site_admin: bool,
}

/// Builds the router and the credentials it accepts. `base_url` is where it
/// will be served (used in `Link` headers and attachment URLs).
pub fn router(opts: &SandboxOptions, base_url: &str) -> (Router, SandboxCredentials) {
    let tenant = Tenant::generate(opts.seed, opts.jobs, opts.applications);
    let seeded_at = crate::sandbox::data::epoch();
    let tags = ["Referral", "Top Talent", "Rehire", "Internal"]
        .iter()
        .enumerate()
        .map(|(i, n)| Tag {
            id: 5_000 + i as u64,
            name: n.to_string(),
            created_at: seeded_at,
            updated_at: seeded_at,
        })
        .collect::<Vec<_>>();
    let gh = Gh {
        base_url: base_url.trim_end_matches('/').to_string(),
        client_id: opts.client_id.clone(),
        client_secret: opts.client_secret.clone(),
        tenant,
        tokens: TokenAuthority::new("greenhouse-sandbox", opts.token_ttl),
        api_limiter: FixedWindow::new(
            opts.rate_limit
                .map(|(requests, window)| Limit { requests, window }),
        ),
        token_limiter: FixedWindow::new(Some(TOKEN_LIMIT)),
        faults: Faults::default(),
        stats: Stats::default(),
        notes: Vec::new(),
        next_tag_id: 5_000 + tags.len() as u64,
        tags,
        applied_tags: Vec::new(),
        app_fields: HashMap::new(),
        next_note_id: 700_000_000,
        next_applied_tag_id: 8_000_000,
    };
    let base = base_url.trim_end_matches('/');
    let creds = SandboxCredentials {
        secret: [
            ("clientId".to_string(), opts.client_id.clone()),
            ("clientSecret".to_string(), opts.client_secret.clone()),
        ]
        .into(),
        base_url: base.to_string(),
        token_url: Some(format!("{base}/token")),
        subdomain: None,
        sub: Some(SITE_ADMIN_USER_ID.to_string()),
    };
    let state: Shared = Arc::new(Mutex::new(gh));

    let v3 = Router::new()
        .route("/v3/jobs", get(list_jobs))
        .route("/v3/job_posts", get(list_job_posts))
        .route("/v3/departments", get(list_departments))
        .route("/v3/offices", get(list_offices))
        .route("/v3/users", get(list_users))
        .route("/v3/candidates", get(list_candidates))
        .route("/v3/applications", get(list_applications))
        .route(
            "/v3/applications/{id}",
            axum::routing::patch(patch_application),
        )
        .route("/v3/attachments", get(list_attachments))
        .route("/v3/notes", get(list_notes).post(create_note))
        .route(
            "/v3/candidate_tags",
            get(list_candidate_tags).post(create_candidate_tag),
        )
        .route(
            "/v3/applied_candidate_tags",
            get(list_applied_tags).post(apply_tag),
        )
        .route(
            "/v3/applied_candidate_tags/{id}",
            delete(remove_applied_tag),
        )
        .route_layer(middleware::from_fn_with_state(state.clone(), v3_guard));

    let control = Router::new()
        .route("/_sandbox/stats", get(ctl_stats))
        .route("/_sandbox/credentials", get(ctl_credentials))
        .route("/_sandbox/credentials/revoke", post(ctl_revoke))
        .route("/_sandbox/credentials/restore", post(ctl_restore))
        .route("/_sandbox/tokens/expire", post(ctl_expire_tokens))
        .route(
            "/_sandbox/faults",
            post(ctl_add_fault).delete(ctl_clear_faults),
        )
        .route(
            "/_sandbox/rate_limit",
            put(ctl_rate_limit).get(ctl_get_rate_limit),
        )
        .route("/_sandbox/touch", post(ctl_touch))
        .route(
            "/_sandbox/applications",
            get(ctl_list_applications).post(ctl_add_applications),
        )
        .route("/_sandbox/applications/{id}", get(ctl_application))
        .route(
            "/_sandbox/applications/{id}/notes",
            get(ctl_application_notes),
        )
        .route(
            "/_sandbox/applications/{id}/writes",
            get(ctl_application_writes),
        )
        .route("/_sandbox/delete", post(ctl_delete))
        .route("/_sandbox/jobs/{id}/status", post(ctl_job_status));

    let router = Router::new()
        .route("/token", post(token))
        .route("/files/{id}/{filename}", get(file))
        .merge(v3)
        .merge(control)
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(middleware::from_fn(log_request))
        .with_state(state);
    (router, creds)
}

// ---------------------------------------------------------------------------
// Cross-cutting

async fn not_found() -> ApiError {
    ApiError::not_found("Not Found")
}

async fn method_not_allowed() -> ApiError {
    ApiError::new(StatusCode::METHOD_NOT_ALLOWED, "Method Not Allowed")
}

/// Logs method, route and status; never headers, query strings or concrete
/// paths (tokens, emails, resume file names).
async fn log_request(req: Request, next: Next) -> Response {
    let method = req.method().clone();
    let path = req
        .extensions()
        .get::<MatchedPath>()
        .map(|m| m.as_str().to_string())
        .unwrap_or_else(|| "(unmatched)".into());
    let resp = next.run(req).await;
    tracing::debug!(%method, %path, status = resp.status().as_u16(), "sandbox request");
    resp
}

fn unauthorized(error: &str) -> ApiError {
    ApiError::body(
        StatusCode::UNAUTHORIZED,
        json!({"message": "Unauthorized", "errors": [error]}),
    )
}

/// Every `/v3` request: count it, rate-limit it, inject faults, authenticate,
/// and stamp the rate-limit headers on whatever comes back.
async fn v3_guard(State(s): State<Shared>, mut req: Request, next: Next) -> Response {
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|m| m.as_str().to_string())
        .unwrap_or_else(|| req.uri().path().to_string());
    let path = req.uri().path().to_string();
    let outcome: Result<(Decision, Actor), (Decision, ApiError)> = {
        let mut g = lock(&s);
        g.stats.count_request(format!("{} {}", req.method(), route));
        let decision = g.api_limiter.check();
        if let Decision::Limited { retry_after, .. } = decision {
            g.stats.rate_limited += 1;
            Err((
                decision,
                ApiError::new(
                    StatusCode::TOO_MANY_REQUESTS,
                    format!("Rate limit exceeded. Please retry after {retry_after} seconds."),
                ),
            ))
        } else if let Some(status) = g.faults.take(&path) {
            g.stats.faults_injected += 1;
            if status == 429 {
                g.stats.rate_limited += 1;
            }
            Err((decision, Faults::response(status)))
        } else {
            match g.authenticate(req.headers()) {
                Ok(actor) => Ok((decision, actor)),
                Err(e) => Err((decision, e)),
            }
        }
    };
    let (decision, mut resp) = match outcome {
        Ok((decision, actor)) => {
            req.extensions_mut().insert(actor);
            (decision, next.run(req).await)
        }
        Err((decision, e)) => (decision, e.into_response()),
    };
    let injected_retry = resp.headers().get(header::RETRY_AFTER).cloned();
    rate_limit_headers(resp.headers_mut(), decision);
    // An injected 429 keeps its own Retry-After.
    if let Some(v) = injected_retry {
        resp.headers_mut().insert(header::RETRY_AFTER, v);
    }
    resp
}

impl Gh {
    fn authenticate(&self, headers: &HeaderMap) -> Result<Actor, ApiError> {
        const UNDECODABLE: &str =
            "Token could not be decoded. Please ensure your token is from a trusted source.";
        let token = bearer_token(headers).ok_or_else(|| unauthorized(UNDECODABLE))?;
        let claims = self
            .tokens
            .validate(token, Utc::now())
            .map_err(|r| match r {
                TokenRejection::Malformed => unauthorized(UNDECODABLE),
                TokenRejection::Expired => unauthorized("Token has expired."),
                TokenRejection::Revoked => unauthorized("Token has been revoked."),
            })?;
        let u = claims
            .sub
            .parse::<u64>()
            .ok()
            .and_then(user)
            .ok_or_else(|| unauthorized(UNDECODABLE))?;
        Ok(Actor {
            user_id: u.id,
            site_admin: u.site_admin,
        })
    }

    fn app_json(&self, a: &GenApplication) -> Value {
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
            "rejection_reason_id": rejected_at.as_ref().map(|_| 3),
            "location_address": job.map(|j| j.location.clone()),
            "answers": [],
            "custom_fields": fields,
            "agency_note_id": null,
            "last_activity_at": ts(a.last_activity_at),
            "created_at": ts(a.created_at),
            "updated_at": ts(a.updated_at),
        })
    }

    fn candidate_json(&self, c: &GenCandidate, tags: &[String]) -> Value {
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

    fn attachment_json(&self, a: &GenApplication) -> Value {
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

fn stage_id(a: &GenApplication) -> u64 {
    // Stages are per job in Greenhouse.
    a.job_id * 10 + a.stage as u64
}

fn job_json(j: &GenJob, tenant: &Tenant) -> Value {
    let opened = (j.state != crate::sandbox::data::JobState::Draft).then(|| ts(j.created_at));
    let closed = (j.state == crate::sandbox::data::JobState::Closed).then(|| ts(j.updated_at));
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

fn job_post_json(j: &GenJob) -> Value {
    let live = j.state == crate::sandbox::data::JobState::Open;
    json!({
        "id": j.post_id,
        "job_id": j.id,
        "title": j.title,
        "live": live,
        "active": j.state != crate::sandbox::data::JobState::Closed,
        "internal": false,
        "external": true,
        "location": {"name": j.location},
        "content": j.description_html(),
        "first_published_at": live.then(|| ts(j.created_at)),
        "created_at": ts(j.created_at),
        "updated_at": ts(j.updated_at),
    })
}

fn note_json(n: &Note) -> Value {
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

fn tag_json(t: &Tag) -> Value {
    json!({"id": t.id, "name": t.name, "created_at": ts(t.created_at), "updated_at": ts(t.updated_at)})
}

fn applied_tag_json(t: &AppliedTag) -> Value {
    json!({
        "id": t.id,
        "candidate_id": t.candidate_id,
        "candidate_tag_id": t.candidate_tag_id,
        "created_at": ts(t.created_at),
        "updated_at": ts(t.created_at),
    })
}

/// "now" at the precision timestamps are rendered with.
fn now() -> DateTime<Utc> {
    millis(Utc::now())
}

// ---------------------------------------------------------------------------
// Lists: parameters, filters, paging

/// A list request after cursor resolution: the filters of the first request,
/// the page size and the position.
struct ListReq {
    params: Vec<(String, String)>,
    per_page: usize,
    after: Option<u64>,
}

impl ListReq {
    fn parse(raw: Option<String>) -> Result<ListReq, ApiError> {
        let pairs: Vec<(String, String)> = raw
            .as_deref()
            .map(|q| {
                url::form_urlencoded::parse(q.as_bytes())
                    .map(|(k, v)| (k.into_owned(), v.into_owned()))
                    .collect()
            })
            .unwrap_or_default();
        if let Some((_, c)) = pairs.iter().find(|(k, _)| k == "cursor") {
            if pairs.len() != 1 {
                return Err(ApiError::unprocessable(
                    "When the cursor parameter is present it must be the only query parameter.",
                ));
            }
            let cur = Cursor::decode(c)
                .map_err(|_| ApiError::unprocessable("The cursor is invalid or expired."))?;
            if !(1..=MAX_PER_PAGE).contains(&cur.per_page) {
                return Err(ApiError::unprocessable("The cursor is invalid or expired."));
            }
            return Ok(ListReq {
                params: cur.params,
                per_page: cur.per_page,
                after: Some(cur.after),
            });
        }
        let mut per_page = DEFAULT_PER_PAGE;
        let mut params = Vec::new();
        for (k, v) in pairs {
            if k == "per_page" {
                per_page = v
                    .trim()
                    .parse::<usize>()
                    .ok()
                    .filter(|n| (1..=MAX_PER_PAGE).contains(n))
                    .ok_or_else(|| {
                        ApiError::unprocessable(format!(
                            "per_page must be an integer between 1 and {MAX_PER_PAGE}"
                        ))
                    })?;
            } else {
                params.push((k, v));
            }
        }
        Ok(ListReq {
            params,
            per_page,
            after: None,
        })
    }

    fn get(&self, key: &str) -> Option<&str> {
        self.params
            .iter()
            .rev()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    fn ids(&self, key: &str) -> Result<Option<Vec<u64>>, ApiError> {
        self.get(key)
            .map(|v| {
                parse_id_list(v, MAX_IDS)
                    .map_err(|e| ApiError::unprocessable(format!("{key}: {e}")))
            })
            .transpose()
    }

    fn time(&self, key: &str) -> Result<Option<TimeFilter>, ApiError> {
        self.get(key)
            .map(|v| {
                TimeFilter::parse(v).map_err(|e| ApiError::unprocessable(format!("{key}: {e}")))
            })
            .transpose()
    }

    /// The common filters: `ids`, `created_at`, `updated_at`.
    fn common(&self) -> Result<Common, ApiError> {
        Ok(Common {
            ids: self.ids("ids")?,
            created: self.time("created_at")?,
            updated: self.time("updated_at")?,
        })
    }

    /// The response: a bare array, with `Link: rel="next"` when more remain.
    fn respond(&self, base: &str, path: &str, items: Vec<Value>, next: Option<u64>) -> Response {
        let mut headers = HeaderMap::new();
        if let Some(after) = next {
            let cursor = Cursor {
                params: self.params.clone(),
                per_page: self.per_page,
                after,
            }
            .encode();
            if let Ok(v) =
                HeaderValue::from_str(&format!("<{base}{path}?cursor={cursor}>; rel=\"next\""))
            {
                headers.insert(header::LINK, v);
            }
        }
        (StatusCode::OK, headers, Json(Value::Array(items))).into_response()
    }
}

struct Common {
    ids: Option<Vec<u64>>,
    created: Option<TimeFilter>,
    updated: Option<TimeFilter>,
}

impl Common {
    fn matches(&self, id: u64, created: DateTime<Utc>, updated: DateTime<Utc>) -> bool {
        self.ids.as_ref().is_none_or(|v| v.contains(&id))
            && self.created.as_ref().is_none_or(|f| f.matches(created))
            && self.updated.as_ref().is_none_or(|f| f.matches(updated))
    }
}

fn in_list(list: &Option<Vec<u64>>, id: u64) -> bool {
    list.as_ref().is_none_or(|v| v.contains(&id))
}

fn require_site_admin(actor: &Actor) -> Result<(), ApiError> {
    if actor.site_admin {
        Ok(())
    } else {
        Err(ApiError::body(
            StatusCode::FORBIDDEN,
            json!({
                "message": "Forbidden",
                "errors": ["List endpoints require the user in the token's sub to be a Site Admin."]
            }),
        ))
    }
}

type ListResult = Result<Response, ApiError>;

async fn list_jobs(
    State(s): State<Shared>,
    Extension(actor): Extension<Actor>,
    RawQuery(q): RawQuery,
) -> ListResult {
    require_site_admin(&actor)?;
    let req = ListReq::parse(q)?;
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
    let (page, next) = page_desc(
        &g.tenant.jobs,
        |j| j.id,
        req.after,
        req.per_page,
        |j| {
            common.matches(j.id, j.created_at, j.updated_at)
                && status.as_deref().is_none_or(|st| st == j.state.as_str())
        },
    );
    let items = page.into_iter().map(|j| job_json(j, &g.tenant)).collect();
    Ok(req.respond(&g.base_url, "/v3/jobs", items, next))
}

async fn list_job_posts(
    State(s): State<Shared>,
    Extension(actor): Extension<Actor>,
    RawQuery(q): RawQuery,
) -> ListResult {
    require_site_admin(&actor)?;
    let req = ListReq::parse(q)?;
    let common = req.common()?;
    let job_ids = req.ids("job_ids")?;
    let g = lock(&s);
    // Posts share the jobs' order (post id = job id + constant).
    let (page, next) = page_desc(
        &g.tenant.jobs,
        |j| j.post_id,
        req.after,
        req.per_page,
        |j| common.matches(j.post_id, j.created_at, j.updated_at) && in_list(&job_ids, j.id),
    );
    let items = page.into_iter().map(job_post_json).collect();
    Ok(req.respond(&g.base_url, "/v3/job_posts", items, next))
}

async fn list_departments(
    State(s): State<Shared>,
    Extension(actor): Extension<Actor>,
    RawQuery(q): RawQuery,
) -> ListResult {
    require_site_admin(&actor)?;
    let req = ListReq::parse(q)?;
    let ids = req.ids("ids")?;
    let g = lock(&s);
    let epoch = ts(crate::sandbox::data::epoch());
    let (page, next) = page_desc(
        &g.tenant.departments,
        |d| d.id,
        req.after,
        req.per_page,
        |d| in_list(&ids, d.id),
    );
    let items = page
        .into_iter()
        .map(|d| json!({"id": d.id, "name": d.name, "parent_id": null, "external_id": null, "created_at": epoch, "updated_at": epoch}))
        .collect();
    Ok(req.respond(&g.base_url, "/v3/departments", items, next))
}

async fn list_offices(
    State(s): State<Shared>,
    Extension(actor): Extension<Actor>,
    RawQuery(q): RawQuery,
) -> ListResult {
    require_site_admin(&actor)?;
    let req = ListReq::parse(q)?;
    let ids = req.ids("ids")?;
    let g = lock(&s);
    let epoch = ts(crate::sandbox::data::epoch());
    let (page, next) = page_desc(
        &g.tenant.offices,
        |o| o.id,
        req.after,
        req.per_page,
        |o| in_list(&ids, o.id),
    );
    let items = page
        .into_iter()
        .map(|o| json!({"id": o.id, "name": o.name, "location": {"name": o.name}, "parent_id": null, "created_at": epoch, "updated_at": epoch}))
        .collect();
    Ok(req.respond(&g.base_url, "/v3/offices", items, next))
}

async fn list_users(
    State(s): State<Shared>,
    Extension(actor): Extension<Actor>,
    RawQuery(q): RawQuery,
) -> ListResult {
    require_site_admin(&actor)?;
    let req = ListReq::parse(q)?;
    let ids = req.ids("ids")?;
    let g = lock(&s);
    let epoch = ts(crate::sandbox::data::epoch());
    let (page, next) = page_desc(
        &USERS,
        |u| u.id,
        req.after,
        req.per_page,
        |u| in_list(&ids, u.id),
    );
    let items = page
        .into_iter()
        .map(|u| {
            json!({
                "id": u.id, "first_name": u.first_name, "last_name": u.last_name,
                "name": format!("{} {}", u.first_name, u.last_name),
                "primary_email_address": u.email, "site_admin": u.site_admin, "disabled": false,
                "created_at": epoch, "updated_at": epoch
            })
        })
        .collect();
    Ok(req.respond(&g.base_url, "/v3/users", items, next))
}

async fn list_candidates(
    State(s): State<Shared>,
    Extension(actor): Extension<Actor>,
    RawQuery(q): RawQuery,
) -> ListResult {
    require_site_admin(&actor)?;
    let req = ListReq::parse(q)?;
    let common = req.common()?;
    let candidate_ids = req.ids("candidate_ids")?;
    let last_activity = req.time("last_activity_at")?;
    let email = req.get("email").map(|e| e.trim().to_lowercase());
    let g = lock(&s);
    let (page, next) = page_desc(
        &g.tenant.candidates,
        |c| c.id,
        req.after,
        req.per_page,
        |c| {
            common.matches(c.id, c.created_at, c.updated_at)
                && in_list(&candidate_ids, c.id)
                && last_activity
                    .as_ref()
                    .is_none_or(|f| f.matches(c.last_activity_at))
                && email.as_deref().is_none_or(|e| c.email.to_lowercase() == e)
        },
    );
    let mut tags: HashMap<u64, Vec<String>> = HashMap::new();
    for at in &g.applied_tags {
        if let Some(t) = g.tags.iter().find(|t| t.id == at.candidate_tag_id) {
            tags.entry(at.candidate_id)
                .or_default()
                .push(t.name.clone());
        }
    }
    let items = page
        .into_iter()
        .map(|c| g.candidate_json(c, tags.get(&c.id).map(Vec::as_slice).unwrap_or(&[])))
        .collect();
    Ok(req.respond(&g.base_url, "/v3/candidates", items, next))
}

async fn list_applications(
    State(s): State<Shared>,
    Extension(actor): Extension<Actor>,
    RawQuery(q): RawQuery,
) -> ListResult {
    require_site_admin(&actor)?;
    let req = ListReq::parse(q)?;
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
    let (page, next) = page_desc(
        &g.tenant.applications,
        |a| a.id,
        req.after,
        req.per_page,
        |a| {
            common.matches(a.id, a.created_at, a.updated_at)
                && in_list(&candidate_ids, a.candidate_id)
                && in_list(&job_ids, a.job_id)
                && status.is_none_or(|st| st == a.state)
                && last_activity
                    .as_ref()
                    .is_none_or(|f| f.matches(a.last_activity_at))
        },
    );
    let items = page.into_iter().map(|a| g.app_json(a)).collect();
    Ok(req.respond(&g.base_url, "/v3/applications", items, next))
}

async fn list_attachments(
    State(s): State<Shared>,
    Extension(actor): Extension<Actor>,
    RawQuery(q): RawQuery,
) -> ListResult {
    require_site_admin(&actor)?;
    let req = ListReq::parse(q)?;
    let common = req.common()?;
    let candidate_ids = req.ids("candidate_ids")?;
    let application_ids = req.ids("application_ids")?;
    let g = lock(&s);
    let (page, next) = page_desc(
        &g.tenant.applications,
        |a| a.attachment_id,
        req.after,
        req.per_page,
        |a| {
            common.matches(
                a.attachment_id,
                a.attachment_created_at,
                a.attachment_updated_at,
            ) && in_list(&candidate_ids, a.candidate_id)
                && in_list(&application_ids, a.id)
        },
    );
    let items = page.into_iter().map(|a| g.attachment_json(a)).collect();
    Ok(req.respond(&g.base_url, "/v3/attachments", items, next))
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

async fn list_notes(
    State(s): State<Shared>,
    Extension(actor): Extension<Actor>,
    RawQuery(q): RawQuery,
) -> ListResult {
    require_site_admin(&actor)?;
    let req = ListReq::parse(q)?;
    let common = req.common()?;
    let candidate_ids = req.ids("candidate_ids")?;
    let application_ids = req.ids("application_ids")?;
    let user_ids = req.ids("user_ids")?;
    let visibility = req.get("visibility").map(visibility_filter).transpose()?;
    let g = lock(&s);
    let (page, next) = page_desc(
        &g.notes,
        |n| n.id,
        req.after,
        req.per_page,
        |n| {
            common.matches(n.id, n.created_at, n.created_at)
                && in_list(&candidate_ids, n.candidate_id)
                && application_ids
                    .as_ref()
                    .is_none_or(|v| n.application_id.is_some_and(|a| v.contains(&a)))
                && in_list(&user_ids, n.user_id)
                && visibility.is_none_or(|v| v == n.visibility)
        },
    );
    let items = page.into_iter().map(note_json).collect();
    Ok(req.respond(&g.base_url, "/v3/notes", items, next))
}

async fn list_candidate_tags(
    State(s): State<Shared>,
    Extension(actor): Extension<Actor>,
    RawQuery(q): RawQuery,
) -> ListResult {
    require_site_admin(&actor)?;
    let req = ListReq::parse(q)?;
    let common = req.common()?;
    let g = lock(&s);
    let (page, next) = page_desc(
        &g.tags,
        |t| t.id,
        req.after,
        req.per_page,
        |t| common.matches(t.id, t.created_at, t.updated_at),
    );
    let items = page.into_iter().map(tag_json).collect();
    Ok(req.respond(&g.base_url, "/v3/candidate_tags", items, next))
}

async fn list_applied_tags(
    State(s): State<Shared>,
    Extension(actor): Extension<Actor>,
    RawQuery(q): RawQuery,
) -> ListResult {
    require_site_admin(&actor)?;
    let req = ListReq::parse(q)?;
    let common = req.common()?;
    let candidate_ids = req.ids("candidate_ids")?;
    let tag_ids = req.ids("candidate_tag_ids")?;
    let g = lock(&s);
    let (page, next) = page_desc(
        &g.applied_tags,
        |t| t.id,
        req.after,
        req.per_page,
        |t| {
            common.matches(t.id, t.created_at, t.created_at)
                && in_list(&candidate_ids, t.candidate_id)
                && in_list(&tag_ids, t.candidate_tag_id)
        },
    );
    let items = page.into_iter().map(applied_tag_json).collect();
    Ok(req.respond(&g.base_url, "/v3/applied_candidate_tags", items, next))
}

// ---------------------------------------------------------------------------
// Writes

fn field_error(field: &str, message: &str) -> ApiError {
    ApiError::body(
        StatusCode::UNPROCESSABLE_ENTITY,
        json!({"message": "Validation error", "errors": [{"field": field, "message": message}]}),
    )
}

async fn create_note(
    State(s): State<Shared>,
    Extension(actor): Extension<Actor>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let v: Value = parse_json(&body)?;
    let candidate_id = v
        .get("candidate_id")
        .and_then(json_id)
        .ok_or_else(|| field_error("candidate_id", "is required"))?;
    let application_id = match v.get("application_id") {
        None | Some(Value::Null) => None,
        Some(x) => Some(json_id(x).ok_or_else(|| field_error("application_id", "must be an id"))?),
    };
    let user_id = match v.get("user_id") {
        None | Some(Value::Null) => actor.user_id,
        Some(x) => json_id(x)
            .filter(|id| user(*id).is_some())
            .ok_or_else(|| field_error("user_id", "does not exist"))?,
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

async fn patch_application(
    State(s): State<Shared>,
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

async fn create_candidate_tag(State(s): State<Shared>, body: Bytes) -> Result<Response, ApiError> {
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

async fn apply_tag(State(s): State<Shared>, body: Bytes) -> Result<Response, ApiError> {
    let v: Value = parse_json(&body)?;
    let candidate_id = v
        .get("candidate_id")
        .and_then(json_id)
        .ok_or_else(|| field_error("candidate_id", "is required"))?;
    let tag_id = v
        .get("candidate_tag_id")
        .and_then(json_id)
        .ok_or_else(|| field_error("candidate_tag_id", "is required"))?;
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

async fn remove_applied_tag(
    State(s): State<Shared>,
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
// Token endpoint (stand-in for https://auth.greenhouse.io/token)

async fn token(State(s): State<Shared>, headers: HeaderMap, body: Bytes) -> Response {
    let mut g = lock(&s);
    g.stats.token_requests += 1;
    if let Decision::Limited { retry_after, .. } = g.token_limiter.check() {
        g.stats.rate_limited += 1;
        return ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            format!("Rate limit exceeded. Please retry after {retry_after} seconds."),
        )
        .header(header::RETRY_AFTER, HeaderValue::from(retry_after))
        .into_response();
    }
    if let Some(status) = g.faults.take("/token") {
        g.stats.faults_injected += 1;
        return Faults::response(status).into_response();
    }
    let Some((id, secret)) = basic_credentials(&headers) else {
        return ApiError::body(
            StatusCode::UNAUTHORIZED,
            json!({"message": "Unauthorized", "errorId": error_id()}),
        )
        .into_response();
    };
    if g.tokens.revoked || id != g.client_id || secret != g.client_secret {
        return ApiError::body(StatusCode::UNAUTHORIZED, json!({"error": "invalid_client"}))
            .into_response();
    }
    let form: Vec<(String, String)> = url::form_urlencoded::parse(&body)
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    let field = |k: &str| {
        form.iter()
            .find(|(fk, _)| fk == k)
            .map(|(_, v)| v.trim().to_string())
    };
    let grant = match field("grant_type") {
        None => {
            return ApiError::body(
                StatusCode::BAD_REQUEST,
                json!({
                    "message": "Must include `grant_type` parameter in the request body",
                    "errorId": error_id()
                }),
            )
            .into_response();
        }
        Some(g) => g,
    };
    match grant.as_str() {
        "client_credentials" => {}
        "authorization_code"
        | "refresh_token"
        | "urn:ietf:params:oauth:grant-type:token-exchange" => {
            return ApiError::body(
                StatusCode::BAD_REQUEST,
                json!({"error": "unauthorized_client", "error_description": format!("This client may not use the {grant} grant")}),
            )
            .into_response();
        }
        other => {
            return ApiError::body(
                StatusCode::BAD_REQUEST,
                json!({
                    "message": format!("grant_type={other} is invalid, please use one of: authorization_code, refresh_token, client_credentials, urn:ietf:params:oauth:grant-type:token-exchange"),
                    "errorId": error_id()
                }),
            )
            .into_response();
        }
    }
    let sub = match field("sub").filter(|s| !s.is_empty()) {
        None => INTEGRATION_USER_ID,
        Some(s) => match s.parse::<u64>().ok().and_then(user) {
            Some(u) => u.id,
            None => {
                return ApiError::body(
                    StatusCode::BAD_REQUEST,
                    json!({"error": "invalid_grant", "error_description": "sub is not a user of this organization"}),
                )
                .into_response();
            }
        },
    };
    let issued = Utc::now();
    let (access_token, expires_at) = g.tokens.issue(&sub.to_string(), issued);
    let expires_in = (expires_at - issued).num_seconds();
    let mut headers = HeaderMap::new();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    (
        StatusCode::OK,
        headers,
        Json(json!({
            "access_token": access_token,
            "token_type": "Bearer",
            "expires_in": expires_in,
            "expires_at": expires_at.to_rfc3339_opts(SecondsFormat::Secs, true),
        })),
    )
        .into_response()
}

// ---------------------------------------------------------------------------
// Attachment downloads: unauthenticated, not rate limited (presigned-URL style)

async fn file(
    State(s): State<Shared>,
    Path((id, filename)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let g = lock(&s);
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
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        c.resume_text(),
    )
        .into_response())
}

// ---------------------------------------------------------------------------
// Control API

async fn ctl_stats(State(s): State<Shared>) -> Json<Stats> {
    Json(lock(&s).stats.clone())
}

async fn ctl_credentials(State(s): State<Shared>) -> Json<Value> {
    let g = lock(&s);
    Json(json!({
        "client_id": g.client_id,
        "client_secret": g.client_secret,
        "site_admin_user_id": SITE_ADMIN_USER_ID,
        "basic_user_id": BASIC_USER_ID,
        "integration_user_id": INTEGRATION_USER_ID,
        "token_url": format!("{}/token", g.base_url),
        "base_url": g.base_url,
        "secret": {"clientId": g.client_id, "clientSecret": g.client_secret},
        "connection": {
            "baseUrl": g.base_url,
            "tokenUrl": format!("{}/token", g.base_url),
            "subdomain": null,
            "sub": SITE_ADMIN_USER_ID.to_string(),
        },
    }))
}

async fn ctl_revoke(State(s): State<Shared>) -> Json<Value> {
    lock(&s).tokens.revoke();
    tracing::info!("sandbox credentials revoked");
    Json(json!({"revoked": true}))
}

async fn ctl_restore(State(s): State<Shared>) -> Json<Value> {
    lock(&s).tokens.restore();
    tracing::info!("sandbox credentials restored");
    Json(json!({"revoked": false}))
}

async fn ctl_expire_tokens(State(s): State<Shared>) -> Json<Value> {
    lock(&s).tokens.expire_all();
    Json(json!({"expired": true}))
}

#[derive(Deserialize)]
struct FaultReq {
    status: u16,
    count: Option<u32>,
    path_prefix: Option<String>,
}

async fn ctl_add_fault(State(s): State<Shared>, body: Bytes) -> Result<Json<Value>, ApiError> {
    let r: FaultReq = parse_json(&body)?;
    let mut g = lock(&s);
    g.faults
        .push(Fault {
            status: r.status,
            count: r.count.unwrap_or(1),
            path_prefix: r.path_prefix.unwrap_or_else(|| "/v3".into()),
        })
        .map_err(ApiError::unprocessable)?;
    Ok(Json(json!({"pending": g.faults.pending()})))
}

async fn ctl_clear_faults(State(s): State<Shared>) -> Json<Value> {
    lock(&s).faults.clear();
    Json(json!({"pending": []}))
}

fn rate_limit_json(l: Option<Limit>) -> Value {
    match l {
        Some(l) => {
            json!({"requests": l.requests, "window_seconds": l.window.as_secs_f64(), "disabled": false})
        }
        None => json!({"disabled": true}),
    }
}

#[derive(Deserialize)]
struct RateLimitReq {
    requests: Option<u32>,
    window_seconds: Option<f64>,
    #[serde(default)]
    disabled: bool,
}

async fn ctl_rate_limit(State(s): State<Shared>, body: Bytes) -> Result<Json<Value>, ApiError> {
    let r: RateLimitReq = parse_json(&body)?;
    let limit = if r.disabled {
        None
    } else {
        let requests = r.requests.filter(|n| *n > 0).ok_or_else(|| {
            ApiError::unprocessable("requests must be a positive integer (or disabled: true)")
        })?;
        let secs = r
            .window_seconds
            .filter(|w| w.is_finite() && *w > 0.0 && *w < 86_400.0)
            .ok_or_else(|| ApiError::unprocessable("window_seconds must be positive"))?;
        Some(Limit {
            requests,
            window: Duration::from_secs_f64(secs),
        })
    };
    let mut g = lock(&s);
    g.api_limiter.set_limit(limit);
    Ok(Json(rate_limit_json(limit)))
}

async fn ctl_get_rate_limit(State(s): State<Shared>) -> Json<Value> {
    Json(rate_limit_json(lock(&s).api_limiter.limit()))
}

#[derive(Deserialize)]
struct TouchReq {
    application_ids: Option<Vec<Value>>,
    count: Option<usize>,
}

async fn ctl_touch(State(s): State<Shared>, body: Bytes) -> Result<Json<Value>, ApiError> {
    let r: TouchReq = parse_json(&body)?;
    let mut g = lock(&s);
    let ids: Vec<u64> = match (r.application_ids, r.count) {
        (Some(ids), _) => ids
            .iter()
            .map(|v| json_id(v).ok_or_else(|| ApiError::unprocessable(format!("{v} is not an id"))))
            .collect::<Result<_, _>>()?,
        (None, Some(n)) => g.tenant.pick_applications(n),
        (None, None) => {
            return Err(ApiError::unprocessable("give application_ids or count"));
        }
    };
    if let Some(missing) = ids.iter().find(|id| g.tenant.application(**id).is_none()) {
        return Err(ApiError::not_found(format!(
            "application {missing} not found"
        )));
    }
    let at = now();
    for id in &ids {
        g.tenant.touch_application(*id, at);
    }
    Ok(Json(
        json!({"application_ids": ids.iter().map(u64::to_string).collect::<Vec<_>>()}),
    ))
}

#[derive(Deserialize)]
struct AddReq {
    count: usize,
}

async fn ctl_add_applications(
    State(s): State<Shared>,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let r: AddReq = parse_json(&body)?;
    if r.count > 100_000 {
        return Err(ApiError::unprocessable("count must be at most 100000"));
    }
    let mut g = lock(&s);
    let ids = g.tenant.add_applications(r.count, now());
    Ok(Json(
        json!({"application_ids": ids.iter().map(u64::to_string).collect::<Vec<_>>()}),
    ))
}

/// The v3 application plus `job_status`, for checks from tests.
fn ctl_app_json(g: &Gh, a: &GenApplication) -> Value {
    let mut v = g.app_json(a);
    if let Some(o) = v.as_object_mut() {
        o.insert(
            "job_status".into(),
            json!(g.tenant.job(a.job_id).map(|j| j.state.as_str())),
        );
    }
    v
}

async fn ctl_list_applications(State(s): State<Shared>) -> Json<Value> {
    let g = lock(&s);
    Json(Value::Array(
        g.tenant
            .applications
            .iter()
            .rev()
            .map(|a| ctl_app_json(&g, a))
            .collect(),
    ))
}

async fn ctl_application(
    State(s): State<Shared>,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let g = lock(&s);
    id.parse::<u64>()
        .ok()
        .and_then(|id| g.tenant.application(id))
        .map(|a| Json(ctl_app_json(&g, a)))
        .ok_or_else(|| ApiError::not_found("Application not found"))
}

async fn ctl_application_notes(
    State(s): State<Shared>,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let g = lock(&s);
    let id = id
        .parse::<u64>()
        .ok()
        .filter(|id| g.tenant.application(*id).is_some())
        .ok_or_else(|| ApiError::not_found("Application not found"))?;
    Ok(Json(Value::Array(
        g.notes
            .iter()
            .filter(|n| n.application_id == Some(id))
            .map(note_json)
            .collect(),
    )))
}

/// What the operator wrote to one application (the control-API contract).
async fn ctl_application_writes(
    State(s): State<Shared>,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let g = lock(&s);
    let app = id
        .parse::<u64>()
        .ok()
        .and_then(|id| g.tenant.application(id))
        .ok_or_else(|| ApiError::not_found("Application not found"))?;
    let notes: Vec<&str> = g
        .notes
        .iter()
        .filter(|n| n.application_id == Some(app.id))
        .map(|n| n.body.as_str())
        .collect();
    let tags: Vec<&str> = g
        .applied_tags
        .iter()
        .filter(|t| t.candidate_id == app.candidate_id)
        .filter_map(|t| g.tags.iter().find(|x| x.id == t.candidate_tag_id))
        .map(|t| t.name.as_str())
        .collect();
    let fields = g.app_fields.get(&app.id).cloned().unwrap_or_default();
    Ok(Json(
        json!({"notes": notes, "tags": tags, "custom_fields": fields}),
    ))
}

#[derive(Deserialize)]
struct DeleteReq {
    application_ids: Vec<Value>,
}

/// Deletes applications as a Greenhouse user would; v3 lists no deletions, so
/// they simply stop appearing.
async fn ctl_delete(State(s): State<Shared>, body: Bytes) -> Result<Json<Value>, ApiError> {
    let r: DeleteReq = parse_json(&body)?;
    let ids: Vec<u64> = r
        .application_ids
        .iter()
        .map(|v| json_id(v).ok_or_else(|| ApiError::unprocessable(format!("{v} is not an id"))))
        .collect::<Result<_, _>>()?;
    let mut g = lock(&s);
    if let Some(missing) = ids.iter().find(|id| g.tenant.application(**id).is_none()) {
        return Err(ApiError::not_found(format!(
            "application {missing} not found"
        )));
    }
    for id in &ids {
        g.tenant.delete_application(*id);
        g.app_fields.remove(id);
    }
    Ok(Json(
        json!({"application_ids": ids.iter().map(u64::to_string).collect::<Vec<_>>()}),
    ))
}

#[derive(Deserialize)]
struct JobStatusReq {
    status: String,
}

/// Opens or closes a job as a recruiter would (its `updated_at` moves); the
/// applications stay, but leave a sync scoped to open jobs.
async fn ctl_job_status(
    State(s): State<Shared>,
    Path(id): Path<u64>,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let r: JobStatusReq = parse_json(&body)?;
    let state = match r.status.as_str() {
        "open" => JobState::Open,
        "closed" => JobState::Closed,
        "draft" => JobState::Draft,
        other => return Err(ApiError::unprocessable(format!("unknown status {other:?}"))),
    };
    let mut g = lock(&s);
    let Some(job) = g.tenant.jobs.iter_mut().find(|j| j.id == id) else {
        return Err(ApiError::not_found(format!("job {id} not found")));
    };
    job.state = state;
    job.updated_at = now();
    Ok(Json(
        json!({"id": id.to_string(), "status": state.as_str()}),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursor_must_be_alone() {
        let c = Cursor {
            params: vec![("job_ids".into(), "1".into())],
            per_page: 5,
            after: 10,
        }
        .encode();
        let r = ListReq::parse(Some(format!("cursor={c}"))).expect("cursor");
        assert_eq!((r.per_page, r.after), (5, Some(10)));
        assert_eq!(r.get("job_ids"), Some("1"));
        assert!(ListReq::parse(Some(format!("cursor={c}&per_page=5"))).is_err());
        assert!(ListReq::parse(Some("cursor=%%%".into())).is_err());
    }

    #[test]
    fn per_page_bounds() {
        assert_eq!(ListReq::parse(None).map(|r| r.per_page).ok(), Some(100));
        assert!(ListReq::parse(Some("per_page=0".into())).is_err());
        assert!(ListReq::parse(Some("per_page=501".into())).is_err());
        assert_eq!(
            ListReq::parse(Some("per_page=500".into()))
                .map(|r| r.per_page)
                .ok(),
            Some(500)
        );
    }

    #[test]
    fn plus_in_timestamps_survives() {
        let r = ListReq::parse(Some("updated_at=gte|2025-01-01T00:00:00%2B01:00".into()))
            .expect("parse");
        assert!(r.time("updated_at").expect("time").is_some());
    }
}
