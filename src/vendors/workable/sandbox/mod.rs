//! A Workable SPI v3 sandbox: the documented and recorded behaviour (account
//! token as Bearer, `{"error": ...}` bodies, `since_id` paging with an absolute
//! `paging.next` that is absent on the last page, lowercase-hex ids ascending
//! with creation, a fixed 10 s rate window with `X-Rate-Limit-*` headers,
//! comment/tag/custom-attribute writes) over a generated tenant, plus the
//! `/_sandbox` control API every vendor sandbox serves.
//!
//! A Workable "candidate" is a per-job record: one generated application. The
//! same person applying twice is two candidates (the later one names the
//! first in `originating_candidate_id`), each with its own copy of the
//! profile and resume: touching one copy leaves the others as they were.

mod control;
mod render;

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

use axum::Json;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{MatchedPath, OriginalUri, Path, RawQuery, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, patch, post, put};
use chrono::{DateTime, NaiveDateTime, Utc};
use hmac::{Hmac, Mac};
use serde_json::{Value, json};
use sha2::Sha256;

use crate::sandbox::data::{GenApplication, GenCandidate, JobState, Tenant, millis};
use crate::sandbox::{
    ApiError, Decision, Faults, FixedWindow, Limit, SandboxCredentials, SandboxOptions, Stats,
    bearer_token, lock,
};

/// The account's subdomain (`spec.subdomain`).
pub const SUBDOMAIN: &str = "sandbox-tenant";
pub const ACCOUNT_NAME: &str = "Sandbox Tenant";
/// The member the operator acts as (`member_id` of its comments).
pub const INTEGRATION_MEMBER_ID: &str = "3a7f21";

/// Candidate id = application id + this, as 8 lowercase hex digits: fixed
/// width, so string order is creation order (as Workable's ids sort).
const CANDIDATE_ID_BASE: u64 = 0x2000_0000;
/// Job ids: 6 hex digits, by creation rank.
const JOB_ID_BASE: u64 = 0x5b_0000;
const JOB_ID_STEP: u64 = 0x25;
/// The "applied" activity of candidate `n` is `n + this`; comments count up
/// from `COMMENT_ID_START`, above every applied activity.
const APPLIED_ACTIVITY_BASE: u64 = 0x3000_0000;
const COMMENT_ID_START: u64 = 0x7000_0000;
const DEFAULT_LIMIT: usize = 50;
const MAX_LIMIT: usize = 100;

pub(crate) struct Member {
    id: &'static str,
    name: &'static str,
    email: &'static str,
    role: &'static str,
    active: bool,
}

const MEMBERS: [Member; 4] = [
    Member {
        id: INTEGRATION_MEMBER_ID,
        name: "ATS Operator Integration",
        email: "ats-operator@sandbox.example.com",
        role: "admin",
        active: true,
    },
    Member {
        id: "4b8e02",
        name: "Ada Recruiter",
        email: "ada.recruiter@sandbox.example.com",
        role: "recruiter",
        active: true,
    },
    Member {
        id: "5c9d13",
        name: "Bob Reviewer",
        email: "bob.reviewer@sandbox.example.com",
        role: "reviewer",
        active: true,
    },
    Member {
        id: "6d0e24",
        name: "Carol Former",
        email: "carol.former@sandbox.example.com",
        role: "simple",
        active: false,
    },
];

fn member(id: &str) -> Option<&'static Member> {
    MEMBERS.iter().find(|m| m.id == id)
}

/// Workable's default pipeline: (slug = kind, name), in position order.
const PIPELINE: [(&str, &str); 7] = [
    ("sourced", "Sourced"),
    ("applied", "Applied"),
    ("phone-screen", "Phone Screen"),
    ("assessment", "Assessment"),
    ("interview", "Interview"),
    ("offer", "Offer"),
    ("hired", "Hired"),
];

/// Account custom attributes: (key, label, type).
const CUSTOM_ATTRIBUTES: [(&str, &str, &str); 2] = [
    ("ai_score", "AI score", "numeric"),
    ("notice_period", "Notice period", "short_text"),
];

/// Roles a comment `policy` may name.
const POLICY_ROLES: [&str; 6] = [
    "admin",
    "recruiting_admin",
    "hiring_manager",
    "simple",
    "reviewer",
    "recruiter",
];

#[derive(Clone, Debug)]
struct Comment {
    id: u64,
    member_id: &'static str,
    body: String,
    /// Visibility roles as given; `None` = visible to everyone with access.
    policy: Option<Vec<String>>,
    created_at: DateTime<Utc>,
}

/// What clients wrote to one candidate.
#[derive(Clone, Debug, Default)]
struct Writes {
    comments: Vec<Comment>,
    tags: Vec<String>,
    attributes: BTreeMap<String, Value>,
}

/// A copy's profile as it was before another copy of the same person was
/// touched (the generated person is shared, Workable's copies are not).
struct Frozen {
    person: GenCandidate,
    resume_updated_at: DateTime<Utc>,
}

struct Wk {
    base_url: String,
    api_key: String,
    revoked: bool,
    tenant: Tenant,
    /// Public job id number by tenant job index.
    job_num: Vec<u64>,
    shortcodes: Vec<String>,
    /// Tenant job indices in creation order, the order job ids ascend in.
    job_order: Vec<usize>,
    by_shortcode: HashMap<String, usize>,
    limiter: FixedWindow,
    faults: Faults,
    stats: Stats,
    /// By application id.
    writes: HashMap<u64, Writes>,
    next_comment_id: u64,
    /// First application id of each person (generated candidate id).
    origin: HashMap<u64, u64>,
    /// By application id.
    frozen: HashMap<u64, Frozen>,
}

type Shared = Arc<Mutex<Wk>>;

/// Builds the router and the credentials it accepts. `base_url` is where it
/// will be served (used in `paging.next` and resume URLs).
pub fn router(opts: &SandboxOptions, base_url: &str) -> (Router, SandboxCredentials) {
    let base = base_url.trim_end_matches('/').to_string();
    let tenant = Tenant::generate(opts.seed, opts.jobs, opts.applications);
    let mut job_order: Vec<usize> = (0..tenant.jobs.len()).collect();
    job_order.sort_by_key(|&i| (tenant.jobs[i].created_at, tenant.jobs[i].id));
    let mut job_num = vec![0; tenant.jobs.len()];
    for (rank, &i) in job_order.iter().enumerate() {
        job_num[i] = JOB_ID_BASE + (rank as u64 + 1) * JOB_ID_STEP;
    }
    let shortcodes: Vec<String> = tenant
        .jobs
        .iter()
        .map(|j| shortcode(opts.seed, j.id))
        .collect();
    let by_shortcode = shortcodes
        .iter()
        .enumerate()
        .map(|(i, s)| (s.clone(), i))
        .collect();
    let api_key = account_token(opts);
    let mut wk = Wk {
        base_url: base.clone(),
        api_key: api_key.clone(),
        revoked: false,
        tenant,
        job_num,
        shortcodes,
        job_order,
        by_shortcode,
        limiter: FixedWindow::new(
            opts.rate_limit
                .map(|(requests, window)| Limit { requests, window }),
        ),
        faults: Faults::default(),
        stats: Stats::default(),
        writes: HashMap::new(),
        next_comment_id: COMMENT_ID_START,
        origin: HashMap::new(),
        frozen: HashMap::new(),
    };
    wk.rebuild_origin();
    let creds = SandboxCredentials {
        secret: [("apiKey".to_string(), api_key)].into(),
        base_url: base,
        token_url: None,
        subdomain: Some(SUBDOMAIN.to_string()),
        sub: Some(INTEGRATION_MEMBER_ID.to_string()),
    };
    let state: Shared = Arc::new(Mutex::new(wk));

    let api = Router::new()
        .route("/accounts", get(list_accounts))
        .route("/jobs", get(list_jobs))
        .route("/jobs/{shortcode}", get(job_detail))
        .route("/jobs/{shortcode}/candidates", get(list_job_candidates))
        .route("/jobs/{shortcode}/stages", get(job_stages))
        .route("/candidates", get(list_candidates))
        .route("/candidates/{id}", get(candidate_detail))
        .route("/candidates/{id}/activities", get(list_activities))
        .route("/candidates/{id}/comments", post(create_comment))
        .route("/candidates/{id}/tags", put(replace_tags))
        .route(
            "/candidates/{id}/update_custom_attribute_value",
            patch(update_custom_attribute),
        )
        .route("/stages", get(list_stages))
        .route("/members", get(list_members))
        .route("/recruiters", get(list_recruiters))
        .route("/custom_attributes", get(list_custom_attributes))
        .fallback(api_not_found)
        .method_not_allowed_fallback(method_not_allowed)
        // `layer`, not `route_layer`: unknown paths and methods under /spi/v3
        // are counted, limited and authenticated as well.
        .layer(middleware::from_fn_with_state(state.clone(), api_guard));

    let router = Router::new()
        .nest("/spi/v3", api)
        .route("/files/{id}/{filename}", get(resume_file))
        .merge(control::routes())
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(middleware::from_fn(log_request))
        .with_state(state);
    (router, creds)
}

/// The account token: 64 hex digits derived from the options, so the same
/// options give the same token.
fn account_token(opts: &SandboxOptions) -> String {
    match <Hmac<Sha256> as Mac>::new_from_slice(opts.client_secret.as_bytes()) {
        Ok(mut mac) => {
            mac.update(format!("workable-account-token:{}", opts.seed).as_bytes());
            hex::encode(mac.finalize().into_bytes())
        }
        // HMAC takes keys of any length; this arm is unreachable in practice.
        Err(_) => format!("{:064x}", opts.seed),
    }
}

/// A 10-character uppercase hex shortcode. Multiplying by an odd constant and
/// adding one are bijections modulo 2^40, so distinct jobs never collide.
fn shortcode(seed: u64, job_id: u64) -> String {
    const MASK: u64 = (1 << 40) - 1;
    let salt = seed.wrapping_mul(0xD1B5_4A32_D192_ED03) | (1 << 39);
    let x = job_id
        .wrapping_mul(0x9E37_79B9_7F4A_7C15)
        .wrapping_add(salt)
        & MASK;
    format!("{x:010X}")
}

fn candidate_num(app_id: u64) -> u64 {
    app_id + CANDIDATE_ID_BASE
}

fn candidate_hex(app_id: u64) -> String {
    format!("{:08x}", candidate_num(app_id))
}

/// The application id behind a candidate id, if it is one this sandbox issues.
fn parse_candidate_id(s: &str) -> Option<u64> {
    if s.len() != 8
        || !s
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    {
        return None;
    }
    u64::from_str_radix(s, 16)
        .ok()?
        .checked_sub(CANDIDATE_ID_BASE)
}

/// "now" at the precision generated timestamps have.
fn now() -> DateTime<Utc> {
    millis(Utc::now())
}

impl Wk {
    fn rebuild_origin(&mut self) {
        self.origin.clear();
        // Applications ascend by id, so the first seen is the originating one.
        for a in &self.tenant.applications {
            self.origin.entry(a.candidate_id).or_insert(a.id);
        }
    }

    /// The profile a candidate (application) shows.
    fn person(&self, a: &GenApplication) -> Option<&GenCandidate> {
        match self.frozen.get(&a.id) {
            Some(f) => Some(&f.person),
            None => self.tenant.candidate(a.candidate_id),
        }
    }

    fn resume_updated_at(&self, a: &GenApplication) -> DateTime<Utc> {
        self.frozen
            .get(&a.id)
            .map_or(a.attachment_updated_at, |f| f.resume_updated_at)
    }

    /// Changes the resume behind one candidate only: other copies of the same
    /// person keep the profile they had. False for an unknown application.
    fn touch(&mut self, app_id: u64, at: DateTime<Utc>) -> bool {
        let Some(a) = self.tenant.application(app_id) else {
            return false;
        };
        let pid = a.candidate_id;
        if let Some(p) = self.tenant.candidate(pid) {
            let siblings: Vec<(u64, DateTime<Utc>)> = self
                .tenant
                .applications
                .iter()
                .filter(|s| s.candidate_id == pid && s.id != app_id)
                .map(|s| (s.id, s.attachment_updated_at))
                .collect();
            for (sid, resume_updated_at) in siblings {
                self.frozen.entry(sid).or_insert_with(|| Frozen {
                    person: p.clone(),
                    resume_updated_at,
                });
            }
        }
        self.frozen.remove(&app_id);
        self.tenant.touch_application(app_id, at)
    }

    fn job_index(&self, job_id: u64) -> Option<usize> {
        self.tenant
            .jobs
            .binary_search_by_key(&job_id, |j| j.id)
            .ok()
    }

    /// Index into `tenant.applications` of a candidate id.
    fn app_index(&self, candidate_id: &str) -> Option<usize> {
        parse_candidate_id(candidate_id).and_then(|id| self.tenant.application_index(id))
    }

    fn authorized(&self, headers: &HeaderMap) -> bool {
        !self.revoked && bearer_token(headers).is_some_and(|t| t == self.api_key)
    }
}

// ---------------------------------------------------------------------------
// Errors and cross-cutting layers

/// Workable's error shape: `{"error": "..."}`.
fn error(status: StatusCode, message: impl Into<String>) -> ApiError {
    ApiError::body(status, json!({ "error": message.into() }))
}

fn not_found_error() -> ApiError {
    error(StatusCode::NOT_FOUND, "Not found")
}

fn unprocessable(message: impl Into<String>) -> ApiError {
    error(StatusCode::UNPROCESSABLE_ENTITY, message)
}

async fn not_found() -> ApiError {
    not_found_error()
}

async fn api_not_found() -> ApiError {
    not_found_error()
}

async fn method_not_allowed() -> ApiError {
    error(StatusCode::METHOD_NOT_ALLOWED, "Method not allowed")
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

/// Every `/spi/v3` request: count it, rate-limit it, inject faults,
/// authenticate, and stamp the rate-limit headers on whatever comes back.
async fn api_guard(State(s): State<Shared>, req: Request, next: Next) -> Response {
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|m| m.as_str().to_string())
        .unwrap_or_else(|| "(unmatched)".into());
    // Inside `nest` the URI has lost its `/spi/v3` prefix; fault prefixes name it.
    let path = req
        .extensions()
        .get::<OriginalUri>()
        .map(|u| u.0.path().to_string())
        .unwrap_or_else(|| format!("/spi/v3{}", req.uri().path()));
    let (decision, early) = {
        let mut g = lock(&s);
        g.stats.count_request(format!("{} {}", req.method(), route));
        let decision = g.limiter.check();
        if matches!(decision, Decision::Limited { .. }) {
            g.stats.rate_limited += 1;
            (
                decision,
                Some(error(
                    StatusCode::TOO_MANY_REQUESTS,
                    "Rate limit exceeded, retry after X-Rate-Limit-Reset",
                )),
            )
        } else if let Some(status) = g.faults.take(&path) {
            g.stats.faults_injected += 1;
            if status == 429 {
                g.stats.rate_limited += 1;
                // A 429 says the budget is spent, whatever the window counted.
                (exhausted(decision), Some(fault_response(status)))
            } else {
                (decision, Some(fault_response(status)))
            }
        } else if !g.authorized(req.headers()) {
            (
                decision,
                Some(error(StatusCode::UNAUTHORIZED, "Not authorized")),
            )
        } else {
            (decision, None)
        }
    };
    let mut resp = match early {
        Some(e) => e.into_response(),
        None => next.run(req).await,
    };
    rate_limit_headers(resp.headers_mut(), decision);
    resp
}

fn exhausted(d: Decision) -> Decision {
    match d {
        Decision::Allowed {
            limit, reset_epoch, ..
        } => Decision::Allowed {
            limit,
            remaining: 0,
            reset_epoch,
        },
        other => other,
    }
}

/// An injected fault in Workable's shape (no `Retry-After`: Workable sends none).
fn fault_response(status: u16) -> ApiError {
    match status {
        429 => error(
            StatusCode::TOO_MANY_REQUESTS,
            "Rate limit exceeded, retry after X-Rate-Limit-Reset",
        ),
        500 => error(StatusCode::INTERNAL_SERVER_ERROR, "Internal server error"),
        _ => error(StatusCode::SERVICE_UNAVAILABLE, "Service unavailable"),
    }
}

/// `X-Rate-Limit-Limit/Remaining/Reset` (Workable's hyphenated spelling;
/// Reset in Unix epoch seconds).
fn rate_limit_headers(headers: &mut HeaderMap, d: Decision) {
    let (limit, remaining, reset) = match d {
        Decision::Unlimited => return,
        Decision::Allowed {
            limit,
            remaining,
            reset_epoch,
        } => (limit, remaining, reset_epoch),
        Decision::Limited {
            limit, reset_epoch, ..
        } => (limit, 0, reset_epoch),
    };
    headers.insert("x-rate-limit-limit", HeaderValue::from(limit));
    headers.insert("x-rate-limit-remaining", HeaderValue::from(remaining));
    headers.insert("x-rate-limit-reset", HeaderValue::from(reset));
}

// ---------------------------------------------------------------------------
// List parameters and paging

/// Query parameters of a list request.
struct Query {
    pairs: Vec<(String, String)>,
}

impl Query {
    fn parse(raw: Option<String>) -> Query {
        let pairs = raw
            .as_deref()
            .map(|q| {
                url::form_urlencoded::parse(q.as_bytes())
                    .map(|(k, v)| (k.into_owned(), v.into_owned()))
                    .collect()
            })
            .unwrap_or_default();
        Query { pairs }
    }

    /// The last non-empty value of `key`.
    fn get(&self, key: &str) -> Option<&str> {
        self.pairs
            .iter()
            .rev()
            .find(|(k, v)| k == key && !v.trim().is_empty())
            .map(|(_, v)| v.trim())
    }

    /// `limit`: default 50; above 100 means 100.
    fn limit(&self) -> Result<usize, ApiError> {
        match self.get("limit") {
            None => Ok(DEFAULT_LIMIT),
            Some(v) => v
                .parse::<usize>()
                .ok()
                .filter(|n| *n > 0)
                .map(|n| n.min(MAX_LIMIT))
                .ok_or_else(|| unprocessable("limit must be a positive integer")),
        }
    }

    /// A hex id parameter (`since_id`, `max_id`) as a number.
    fn hex_id(&self, key: &str) -> Result<Option<u64>, ApiError> {
        self.get(key)
            .map(|v| {
                (v.len() <= 16)
                    .then(|| u64::from_str_radix(v, 16).ok())
                    .flatten()
                    .ok_or_else(|| unprocessable(format!("{key} is not a valid id")))
            })
            .transpose()
    }

    fn time(&self, key: &str) -> Result<Option<DateTime<Utc>>, ApiError> {
        self.get(key)
            .map(|v| parse_after(v).map_err(|e| unprocessable(format!("{key}: {e}"))))
            .transpose()
    }

    /// The given filters among `keys`, for the next page's URL.
    fn carry<'a>(&'a self, keys: &[&'a str]) -> Vec<(&'a str, &'a str)> {
        keys.iter()
            .filter_map(|k| self.get(k).map(|v| (*k, v)))
            .collect()
    }
}

/// `created_after` / `updated_after`: ISO 8601 basic (`20150708T115616Z`) or
/// extended, or Unix seconds.
fn parse_after(s: &str) -> Result<DateTime<Utc>, String> {
    let t = s.trim();
    let bad = || format!("'{t}' is not an ISO 8601 or Unix timestamp");
    if !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit()) {
        return t
            .parse::<i64>()
            .ok()
            .and_then(|secs| DateTime::from_timestamp(secs, 0))
            .ok_or_else(bad);
    }
    // A `+` offset arrives as a space from a query string.
    let t_plus = t.replace(' ', "+");
    for fmt in ["%Y%m%dT%H%M%S%.f%z", "%Y%m%dT%H%M%S%z"] {
        if let Ok(d) = DateTime::parse_from_str(&t_plus, fmt) {
            return Ok(d.with_timezone(&Utc));
        }
    }
    let zless = t.strip_suffix('Z').or_else(|| t.strip_suffix('z'));
    if let Some(naive) = zless.or(Some(t)) {
        for fmt in [
            "%Y%m%dT%H%M%S%.f",
            "%Y%m%dT%H%M%S",
            "%Y-%m-%dT%H:%M:%S%.f",
            "%Y-%m-%dT%H:%M:%S",
        ] {
            if let Ok(d) = NaiveDateTime::parse_from_str(naive, fmt) {
                return Ok(d.and_utc());
            }
        }
    }
    crate::sandbox::parse_timestamp(t).map_err(|_| bad())
}

/// The part of `items` (ascending by `key`) with `since <= key <= max`.
fn window<T>(items: &[T], key: impl Fn(&T) -> u64, since: Option<u64>, max: Option<u64>) -> &[T] {
    let start = since.map_or(0, |s| items.partition_point(|x| key(x) < s));
    let end = max.map_or(items.len(), |m| items.partition_point(|x| key(x) <= m));
    &items[start..end.max(start)]
}

/// Up to `limit` items and the first item of the next page.
fn take_page<I: Iterator>(mut it: I, limit: usize) -> (Vec<I::Item>, Option<I::Item>) {
    let page: Vec<I::Item> = it.by_ref().take(limit).collect();
    let next = it.next();
    (page, next)
}

/// `paging.next`: the absolute URL of the next page, `since_id` = its first id.
fn next_url(base: &str, path: &str, limit: usize, since: &str, carry: &[(&str, &str)]) -> String {
    let mut q = url::form_urlencoded::Serializer::new(String::new());
    q.append_pair("limit", &limit.to_string());
    q.append_pair("since_id", since);
    for (k, v) in carry {
        q.append_pair(k, v);
    }
    format!("{base}/spi/v3{path}?{}", q.finish())
}

/// `{"<key>": items}` plus `paging` only when more remain.
fn list_body(key: &str, items: Vec<Value>, next: Option<String>) -> Json<Value> {
    let mut body = serde_json::Map::new();
    body.insert(key.to_string(), Value::Array(items));
    if let Some(url) = next {
        body.insert("paging".into(), json!({ "next": url }));
    }
    Json(Value::Object(body))
}

// ---------------------------------------------------------------------------
// Reads

type ApiResult = Result<Json<Value>, ApiError>;

async fn list_accounts() -> Json<Value> {
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

async fn list_jobs(State(s): State<Shared>, RawQuery(raw): RawQuery) -> ApiResult {
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

async fn job_detail(State(s): State<Shared>, Path(shortcode): Path<String>) -> ApiResult {
    let g = lock(&s);
    let i = *g.by_shortcode.get(&shortcode).ok_or_else(not_found_error)?;
    // Unwrapped, unlike the candidate.
    Ok(Json(g.job_detail_json(i)))
}

async fn list_candidates(State(s): State<Shared>, RawQuery(raw): RawQuery) -> ApiResult {
    let q = Query::parse(raw);
    let shortcode = q.get("shortcode").map(str::to_string);
    candidates_page(&s, &q, shortcode)
}

async fn list_job_candidates(
    State(s): State<Shared>,
    Path(shortcode): Path<String>,
    RawQuery(raw): RawQuery,
) -> ApiResult {
    candidates_page(&s, &Query::parse(raw), Some(shortcode))
}

fn candidates_page(s: &Shared, q: &Query, shortcode: Option<String>) -> ApiResult {
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

async fn candidate_detail(State(s): State<Shared>, Path(id): Path<String>) -> ApiResult {
    let g = lock(&s);
    let ai = g.app_index(&id).ok_or_else(not_found_error)?;
    let a = &g.tenant.applications[ai];
    Ok(Json(json!({ "candidate": g.candidate_detail_json(a) })))
}

async fn list_activities(
    State(s): State<Shared>,
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

async fn list_stages() -> Json<Value> {
    Json(stages_json())
}

async fn job_stages(State(s): State<Shared>, Path(shortcode): Path<String>) -> ApiResult {
    if !lock(&s).by_shortcode.contains_key(&shortcode) {
        return Err(not_found_error());
    }
    Ok(Json(stages_json()))
}

/// The account's external recruiters (`GET /spi/v3/recruiters`, scope
/// `r_jobs`): `{"recruiters": [{"id", "name", "email"}]}`. Third-party clients
/// (Airbyte's connection check) call it first.
async fn list_recruiters() -> Json<Value> {
    Json(json!({
        "recruiters": [
            {"id": "13e0ea", "name": "Riley Agency", "email": "riley@agency.example"},
            {"id": "13e0eb", "name": "Morgan Search", "email": "morgan@search.example"},
        ]
    }))
}

async fn list_members(RawQuery(raw): RawQuery) -> ApiResult {
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

async fn list_custom_attributes() -> Json<Value> {
    let attrs: Vec<Value> = CUSTOM_ATTRIBUTES
        .iter()
        .map(|(key, label, ty)| {
            // `id` is the key writes name; `key` repeats it for readability.
            json!({"id": key, "key": key, "type": ty, "enabled": true, "label": label, "hint": null})
        })
        .collect();
    Json(json!({ "custom_attributes": attrs }))
}

// ---------------------------------------------------------------------------
// Writes

/// Parses a JSON body, answering malformed input in Workable's error shape.
fn body_json(bytes: &[u8]) -> Result<Value, ApiError> {
    serde_json::from_slice(bytes)
        .map_err(|e| error(StatusCode::BAD_REQUEST, format!("Invalid JSON body: {e}")))
}

async fn create_comment(
    State(s): State<Shared>,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let mut g = lock(&s);
    let ai = g.app_index(&id).ok_or_else(not_found_error)?;
    let v = body_json(&body)?;
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
    let app_id = g.tenant.applications[ai].id;
    g.tenant.applications[ai].updated_at = at;
    g.tenant.applications[ai].last_activity_at = at;
    let cid = g.next_comment_id;
    g.next_comment_id += 1;
    g.writes.entry(app_id).or_default().comments.push(Comment {
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

async fn replace_tags(State(s): State<Shared>, Path(id): Path<String>, body: Bytes) -> ApiResult {
    let mut g = lock(&s);
    let ai = g.app_index(&id).ok_or_else(not_found_error)?;
    let v = body_json(&body)?;
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
    let at = now();
    let app_id = g.tenant.applications[ai].id;
    g.tenant.applications[ai].updated_at = at;
    g.writes.entry(app_id).or_default().tags = tags.clone();
    g.stats.tags_applied += 1;
    Ok(Json(json!({ "tags": tags })))
}

async fn update_custom_attribute(
    State(s): State<Shared>,
    Path(id): Path<String>,
    body: Bytes,
) -> ApiResult {
    let mut g = lock(&s);
    let ai = g.app_index(&id).ok_or_else(not_found_error)?;
    let v = body_json(&body)?;
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
    let at = now();
    let app_id = g.tenant.applications[ai].id;
    g.tenant.applications[ai].updated_at = at;
    g.writes
        .entry(app_id)
        .or_default()
        .attributes
        .insert(key.to_string(), value.clone());
    g.stats.application_patches += 1;
    Ok(Json(json!({"custom_attribute_key": key, "value": value})))
}

// ---------------------------------------------------------------------------
// Resume downloads: no auth, not rate limited (a presigned URL's stand-in)

async fn resume_file(
    State(s): State<Shared>,
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
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        c.resume_text(),
    )
        .into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn candidate_ids_are_fixed_width_hex() {
        let ids = [90_000_001u64, 90_000_015, 92_345_678, 1_000_000_000];
        let hex: Vec<String> = ids.iter().map(|i| candidate_hex(*i)).collect();
        assert!(hex.iter().all(|h| h.len() == 8));
        let mut sorted = hex.clone();
        sorted.sort();
        assert_eq!(sorted, hex);
        for (h, i) in hex.iter().zip(ids) {
            assert_eq!(parse_candidate_id(h), Some(i));
        }
        assert_eq!(parse_candidate_id("2000000G"), None);
        // Upper-case hex is not an id this sandbox issues.
        assert_eq!(parse_candidate_id("255D4A80"), None);
        assert_eq!(parse_candidate_id("1fffffff"), None);
    }

    #[test]
    fn shortcodes_are_unique_uppercase_hex() {
        let codes: std::collections::HashSet<String> =
            (4_000..6_000).map(|id| shortcode(42, id)).collect();
        assert_eq!(codes.len(), 2_000);
        assert!(codes.iter().all(|c| {
            c.len() == 10
                && c.bytes()
                    .all(|b| b.is_ascii_digit() || (b'A'..=b'F').contains(&b))
        }));
        assert_eq!(shortcode(42, 4_001), shortcode(42, 4_001));
        assert_ne!(shortcode(42, 4_001), shortcode(43, 4_001));
    }

    #[test]
    fn after_formats() {
        let want = DateTime::parse_from_rfc3339("2015-07-08T11:56:16Z")
            .map(|d| d.with_timezone(&Utc))
            .expect("rfc3339");
        for s in [
            "20150708T115616Z",
            "2015-07-08T11:56:16Z",
            "2015-07-08T11:56:16.000Z",
            "2015-07-08T13:56:16+02:00",
            "2015-07-08T13:56:16 02:00",
            "20150708T135616+0200",
            "2015-07-08T11:56:16",
            "1436356576",
        ] {
            assert_eq!(parse_after(s), Ok(want), "{s}");
        }
        assert!(parse_after("yesterday").is_err());
        assert!(parse_after("2015-13-01T00:00:00Z").is_err());
    }

    #[test]
    fn windows_and_pages() {
        let items: Vec<u64> = (1..=10).collect();
        assert_eq!(window(&items, |x| *x, Some(4), Some(7)), &[4, 5, 6, 7]);
        assert_eq!(window(&items, |x| *x, Some(8), Some(3)), &[] as &[u64]);
        let (p, n) = take_page(items.iter(), 4);
        assert_eq!((p.len(), n), (4, Some(&5)));
        let (p, n) = take_page(items.iter(), 10);
        assert_eq!((p.len(), n), (10, None));
    }

    #[test]
    fn job_text_carries_the_skills() {
        let t = Tenant::generate(9, 8, 10);
        for j in &t.jobs {
            let html = render::job_text(j).full_description;
            let text = crate::model::text::html_to_text(&html);
            let job = crate::model::Job {
                id: j.id.to_string(),
                title: j.title.clone(),
                description: text,
                requirements: vec![],
                nice_to_have: vec![],
                location: None,
                employment_type: None,
                department: None,
                hiring_manager: None,
                status: crate::model::JobStatus::Open,
                created_at: None,
                updated_at: None,
            };
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
