//! A Lever API v1 sandbox: the documented v1 behaviour over a generated
//! tenant, plus a `/_sandbox` control API for tests and the demo.
//!
//! - Auth: `Basic base64("<apiKey>:")`, or `Bearer <access token>` from
//!   `POST /oauth/token` (refresh-token grant only; every refresh rotates the
//!   refresh token, the old one is dead at once, an unused one dies after
//!   `refresh_token_idle_ttl`).
//! - Lists: `{"data", "next", "hasNext"}`, `limit` 1..100, `offset` = an
//!   opaque token this sandbox signed; the last page has `hasNext: false` and
//!   no `next`. Timestamps are epoch milliseconds; filters are inclusive.
//! - One opportunity per generated application; about 3% of the generated
//!   ones have `updatedAt: null` and never match `updated_at_*` filters.
//! - A token bucket (steady n per window, bursts of 2n); 429 carries no
//!   rate-limit headers. Errors are `{"code", "message"}`.
//!
//! Start it with [`crate::sandbox::start`] and [`crate::model::VendorKind::Lever`].

mod api;
mod control;
mod ids;
mod oauth;
mod render;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Json;
use axum::Router;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderMap, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use serde_json::{Value, json};
use sha2::Sha256;

use crate::sandbox::data::{GenApplication, Tenant, millis};
use crate::sandbox::ratelimit::TokenBucket;
use crate::sandbox::{
    ApiError, Faults, Limit, SandboxCredentials, SandboxOptions, Stats, TokenAuthority,
    TokenRejection, basic_credentials, bearer_token, lock,
};

use ids::Kind;

/// Page size bounds of every list.
const MAX_LIMIT: usize = 100;

/// The OAuth scopes every issued token carries.
const SCOPES: &str = "offline_access opportunities:read:admin opportunities:write:admin notes:read:admin notes:write:admin postings:read:admin resumes:read:admin tags:read:admin stages:read:admin users:read:admin archive_reasons:read:admin";

/// Users of the tenant, by the small number their UUID is derived from.
struct User {
    n: u64,
    name: &'static str,
    email: &'static str,
    access_role: &'static str,
    job_title: &'static str,
    deactivated: bool,
}

/// The user OAuth tokens and the API key act as (`connection.sub`).
const INTEGRATION_USER: u64 = 1;

const USERS: [User; 5] = [
    User {
        n: INTEGRATION_USER,
        name: "Integration Service User",
        email: "integration@sandbox.example.com",
        access_role: "super admin",
        job_title: "Integration",
        deactivated: false,
    },
    User {
        n: 2,
        name: "Ada Admin",
        email: "ada.admin@sandbox.example.com",
        access_role: "admin",
        job_title: "Head of Talent",
        deactivated: false,
    },
    User {
        n: 3,
        name: "Rita Recruiter",
        email: "rita.recruiter@sandbox.example.com",
        access_role: "team member",
        job_title: "Recruiter",
        deactivated: false,
    },
    User {
        n: 4,
        name: "Ivan Interviewer",
        email: "ivan.interviewer@sandbox.example.com",
        access_role: "interviewer",
        job_title: "Staff Engineer",
        deactivated: false,
    },
    User {
        n: 5,
        name: "Dana Departed",
        email: "dana.departed@sandbox.example.com",
        access_role: "team member",
        job_title: "Recruiter",
        deactivated: true,
    },
];

fn user(n: u64) -> Option<&'static User> {
    USERS.iter().find(|u| u.n == n)
}

/// A note as stored: the first field is what `POST .../notes` wrote; later
/// ones were threaded onto it with `note_id`.
#[derive(Clone, Debug)]
struct Note {
    serial: u64,
    user: u64,
    secret: bool,
    created_at: DateTime<Utc>,
    fields: Vec<NoteField>,
}

#[derive(Clone, Debug)]
struct NoteField {
    value: String,
    score: Option<u8>,
    stage: String,
    user: u64,
    created_at: DateTime<Utc>,
}

#[derive(Clone, Debug)]
struct Deleted {
    seq: u64,
    app_id: u64,
    at: DateTime<Utc>,
}

/// The OAuth grant's one live refresh token.
struct Refresh {
    token: String,
    last_used: DateTime<Utc>,
    idle_ttl: Duration,
    /// Expired (idle, or by the control API); only a reissue revives the grant.
    dead: bool,
}

struct Lever {
    base_url: String,
    client_id: String,
    client_secret: String,
    api_key: String,
    tenant: Tenant,
    /// Access tokens; `tokens.revoked` also disables the API key and refresh.
    tokens: TokenAuthority,
    refresh: Refresh,
    limiter: TokenBucket,
    faults: Faults,
    stats: Stats,
    /// Notes by application (= opportunity) id, oldest first.
    notes: HashMap<u64, Vec<Note>>,
    next_note: u64,
    /// Tag sets that differ from the generated ones, by application id.
    tags: HashMap<u64, Vec<String>>,
    /// Tags the API added that are still on the opportunity.
    written_tags: HashMap<u64, Vec<String>>,
    deleted: Vec<Deleted>,
    /// Signs `offset` tokens, so only tokens this sandbox issued are accepted.
    cursor_key: [u8; 32],
}

type Shared = Arc<Mutex<Lever>>;

/// Who an authenticated `/v1` request acts as (before `perform_as`).
#[derive(Clone, Copy, Debug)]
struct Actor {
    user: u64,
}

/// Steady `n` per window with bursts of `2n`, as Lever's 10/s with bursts of 20.
fn bucket(limit: Option<Limit>) -> TokenBucket {
    TokenBucket::new(limit, limit.map_or(1, |l| l.requests.saturating_mul(2)))
}

fn new_refresh_token() -> String {
    format!("v1.{}", URL_SAFE_NO_PAD.encode(rand::random::<[u8; 32]>()))
}

/// Builds the router and the credentials it accepts. `base_url` is where it
/// will be served (the client appends `/v1`).
pub fn router(opts: &SandboxOptions, base_url: &str) -> (Router, SandboxCredentials) {
    let base = base_url.trim_end_matches('/').to_string();
    let api_key = hex::encode(rand::random::<[u8; 24]>());
    let refresh_token = new_refresh_token();
    let lever = Lever {
        base_url: base.clone(),
        client_id: opts.client_id.clone(),
        client_secret: opts.client_secret.clone(),
        api_key: api_key.clone(),
        tenant: Tenant::generate(opts.seed, opts.jobs, opts.applications),
        tokens: TokenAuthority::new("lever-sandbox", opts.token_ttl),
        refresh: Refresh {
            token: refresh_token.clone(),
            last_used: Utc::now(),
            idle_ttl: opts.refresh_token_idle_ttl,
            dead: false,
        },
        limiter: bucket(
            opts.rate_limit
                .map(|(requests, window)| Limit { requests, window }),
        ),
        faults: Faults::default(),
        stats: Stats::default(),
        notes: HashMap::new(),
        next_note: 1,
        tags: HashMap::new(),
        written_tags: HashMap::new(),
        deleted: Vec::new(),
        cursor_key: rand::random(),
    };
    let creds = SandboxCredentials {
        secret: [
            ("apiKey".to_string(), api_key),
            ("clientId".to_string(), opts.client_id.clone()),
            ("clientSecret".to_string(), opts.client_secret.clone()),
            ("refreshToken".to_string(), refresh_token),
        ]
        .into(),
        base_url: base.clone(),
        token_url: Some(format!("{base}/oauth/token")),
        subdomain: None,
        sub: Some(ids::uuid(Kind::User, INTEGRATION_USER)),
    };
    let state: Shared = Arc::new(Mutex::new(lever));

    let v1 = Router::new()
        .route("/v1/opportunities", get(api::list_opportunities))
        .route("/v1/opportunities/deleted", get(api::list_deleted))
        .route("/v1/opportunities/{id}", get(api::get_opportunity))
        .route(
            "/v1/opportunities/{id}/applications",
            get(api::list_applications),
        )
        .route(
            "/v1/opportunities/{id}/applications/{app}",
            get(api::get_application),
        )
        .route("/v1/opportunities/{id}/resumes", get(api::list_resumes))
        .route(
            "/v1/opportunities/{id}/resumes/{resume}",
            get(api::get_resume),
        )
        .route(
            "/v1/opportunities/{id}/resumes/{resume}/download",
            get(api::download_resume),
        )
        .route(
            "/v1/opportunities/{id}/notes",
            get(api::list_notes).post(api::create_note),
        )
        .route("/v1/opportunities/{id}/notes/{note}", get(api::get_note))
        .route("/v1/opportunities/{id}/addTags", post(api::add_tags))
        .route("/v1/opportunities/{id}/removeTags", post(api::remove_tags))
        .route("/v1/postings", get(api::list_postings))
        .route("/v1/postings/{id}", get(api::get_posting))
        .route("/v1/users", get(api::list_users))
        .route("/v1/users/{id}", get(api::get_user))
        .route("/v1/tags", get(api::list_tags))
        .route("/v1/stages", get(api::list_stages))
        .route("/v1/archive_reasons", get(api::list_archive_reasons))
        .route_layer(middleware::from_fn_with_state(state.clone(), v1_guard));

    let control = Router::new()
        .route("/_sandbox/stats", get(control::stats))
        .route("/_sandbox/credentials", get(control::credentials))
        .route("/_sandbox/credentials/revoke", post(control::revoke))
        .route("/_sandbox/credentials/restore", post(control::restore))
        .route("/_sandbox/tokens/expire", post(control::expire_tokens))
        .route(
            "/_sandbox/refresh_tokens/expire",
            post(control::expire_refresh_token),
        )
        .route(
            "/_sandbox/refresh_tokens/reissue",
            post(control::reissue_refresh_token),
        )
        .route(
            "/_sandbox/token_ttl",
            put(control::set_token_ttl).get(control::get_token_ttl),
        )
        .route(
            "/_sandbox/faults",
            post(control::add_fault).delete(control::clear_faults),
        )
        .route(
            "/_sandbox/rate_limit",
            put(control::set_rate_limit).get(control::get_rate_limit),
        )
        .route("/_sandbox/touch", post(control::touch))
        .route(
            "/_sandbox/applications",
            get(control::list_applications).post(control::add_applications),
        )
        .route("/_sandbox/applications/{id}", get(control::application))
        .route("/_sandbox/applications/{id}/writes", get(control::writes))
        .route("/_sandbox/delete", post(control::delete));

    let router = Router::new()
        .route("/oauth/token", post(oauth::token))
        .merge(v1)
        .merge(control)
        .fallback(not_found_fallback)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(middleware::from_fn(log_request))
        .with_state(state);
    (router, creds)
}

// ---------------------------------------------------------------------------
// Errors

/// Lever's error body: `{"code", "message"}`.
fn error(status: StatusCode, code: &str, message: impl Into<String>) -> ApiError {
    ApiError::body(status, json!({"code": code, "message": message.into()}))
}

fn bad_request(message: impl Into<String>) -> ApiError {
    error(StatusCode::BAD_REQUEST, "BadRequestError", message)
}

fn not_found(message: impl Into<String>) -> ApiError {
    error(StatusCode::NOT_FOUND, "ResourceNotFound", message)
}

fn unauthorized(message: &str) -> ApiError {
    error(StatusCode::UNAUTHORIZED, "UnauthorizedError", message)
}

/// Lever's 429: no `Retry-After`, no rate-limit headers.
fn too_many_requests() -> ApiError {
    error(
        StatusCode::TOO_MANY_REQUESTS,
        "TooManyRequests",
        "Rate limit exceeded. Please retry with exponential backoff.",
    )
}

/// An injected fault, in Lever's error format.
fn fault_response(status: u16) -> ApiError {
    match status {
        429 => too_many_requests(),
        500 => error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "InternalError",
            "An internal error occurred.",
        ),
        _ => error(
            StatusCode::SERVICE_UNAVAILABLE,
            "ServiceUnavailableError",
            "Lever is temporarily unavailable for maintenance. Please retry.",
        ),
    }
}

async fn not_found_fallback() -> ApiError {
    not_found("Not Found")
}

async fn method_not_allowed() -> ApiError {
    error(
        StatusCode::METHOD_NOT_ALLOWED,
        "MethodNotAllowedError",
        "Method not allowed",
    )
}

/// Parses a JSON object body.
fn json_body(bytes: &[u8]) -> Result<serde_json::Map<String, Value>, ApiError> {
    match serde_json::from_slice::<Value>(bytes) {
        Ok(Value::Object(m)) => Ok(m),
        Ok(_) => Err(bad_request("Request body must be a JSON object")),
        Err(e) => Err(bad_request(format!("Request body is not valid JSON: {e}"))),
    }
}

// ---------------------------------------------------------------------------
// Cross-cutting

/// Logs method, route and status; never headers, query strings or concrete
/// paths (tokens, ids).
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

/// Every `/v1` request: count it, rate-limit it, inject faults, authenticate.
async fn v1_guard(State(s): State<Shared>, mut req: Request, next: Next) -> Response {
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|m| m.as_str().to_string())
        .unwrap_or_else(|| req.uri().path().to_string());
    let path = req.uri().path().to_string();
    let outcome = {
        let mut g = lock(&s);
        g.stats.count_request(format!("{} {}", req.method(), route));
        if !g.limiter.try_acquire() {
            g.stats.rate_limited += 1;
            Err(too_many_requests())
        } else if let Some(status) = g.faults.take(&path) {
            g.stats.faults_injected += 1;
            if status == 429 {
                g.stats.rate_limited += 1;
            }
            Err(fault_response(status))
        } else {
            g.authenticate(req.headers())
        }
    };
    match outcome {
        Ok(actor) => {
            req.extensions_mut().insert(actor);
            next.run(req).await
        }
        Err(e) => e.into_response(),
    }
}

impl Lever {
    fn authenticate(&self, headers: &HeaderMap) -> Result<Actor, ApiError> {
        if let Some((key, _password)) = basic_credentials(headers) {
            if self.tokens.revoked || key != self.api_key {
                return Err(unauthorized("Invalid API key"));
            }
            return Ok(Actor {
                user: INTEGRATION_USER,
            });
        }
        let Some(token) = bearer_token(headers) else {
            return Err(unauthorized(
                "Missing credentials: use Basic auth with an API key or an OAuth bearer token",
            ));
        };
        let claims = self
            .tokens
            .validate(token, Utc::now())
            .map_err(|r| match r {
                TokenRejection::Malformed => unauthorized("Invalid access token"),
                TokenRejection::Expired => unauthorized("Access token has expired"),
                TokenRejection::Revoked => unauthorized("Access token has been revoked"),
            })?;
        let user = ids::parse(Kind::User, &claims.sub)
            .and_then(user)
            .ok_or_else(|| unauthorized("Invalid access token"))?;
        Ok(Actor { user: user.n })
    }

    /// The application behind an opportunity id, as an index into the tenant.
    fn app_index(&self, opportunity_id: &str) -> Result<usize, ApiError> {
        ids::parse(Kind::Opportunity, opportunity_id)
            .and_then(|id| self.tenant.application_index(id))
            .ok_or_else(|| not_found(format!("opportunities {opportunity_id} was not found")))
    }

    fn app(&self, opportunity_id: &str) -> Result<&GenApplication, ApiError> {
        self.app_index(opportunity_id)
            .map(|i| &self.tenant.applications[i])
    }

    fn sign(&self, list: &str, body: &str) -> String {
        match <Hmac<Sha256> as Mac>::new_from_slice(&self.cursor_key) {
            Ok(mut mac) => {
                mac.update(list.as_bytes());
                mac.update(b"|");
                mac.update(body.as_bytes());
                hex::encode(&mac.finalize().into_bytes()[..8])
            }
            Err(_) => String::new(),
        }
    }

    /// An `offset` token for the position after `pos` in `list`:
    /// `<ms>.<uuid>.<signature>`, only URL-safe characters.
    fn cursor(&self, list: &str, kind: Kind, pos: u64, at: DateTime<Utc>) -> String {
        let body = format!("{}.{}", at.timestamp_millis(), ids::uuid(kind, pos));
        let sig = self.sign(list, &body);
        format!("{body}.{sig}")
    }

    fn decode_cursor(&self, list: &str, kind: Kind, token: &str) -> Result<u64, ApiError> {
        let invalid = || bad_request(format!("Invalid offset token: {token}"));
        let (body, sig) = token.trim().rsplit_once('.').ok_or_else(invalid)?;
        if sig.is_empty() || sig != self.sign(list, body) {
            return Err(invalid());
        }
        let (_, id) = body.split_once('.').ok_or_else(invalid)?;
        ids::parse(kind, id).ok_or_else(invalid)
    }
}

/// "now" at the precision timestamps are rendered with.
fn now() -> DateTime<Utc> {
    millis(Utc::now())
}

fn ms(t: DateTime<Utc>) -> i64 {
    t.timestamp_millis()
}

// ---------------------------------------------------------------------------
// Query strings and paging

/// Query parameters in order; Lever repeats multi-valued ones (`?tag=a&tag=b`).
struct Query(Vec<(String, String)>);

impl Query {
    fn parse(raw: Option<String>) -> Query {
        Query(
            raw.as_deref()
                .map(|q| {
                    url::form_urlencoded::parse(q.as_bytes())
                        .map(|(k, v)| (k.into_owned(), v.into_owned()))
                        .collect()
                })
                .unwrap_or_default(),
        )
    }

    fn all<'a>(&'a self, key: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.0
            .iter()
            .filter(move |(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    fn one(&self, key: &str) -> Option<&str> {
        self.0
            .iter()
            .rev()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// An epoch-milliseconds parameter.
    fn ms(&self, key: &str) -> Result<Option<i64>, ApiError> {
        self.one(key)
            .map(|v| {
                v.trim().parse::<i64>().map_err(|_| {
                    bad_request(format!(
                        "{key} must be a timestamp in milliseconds since the epoch"
                    ))
                })
            })
            .transpose()
    }

    fn bool(&self, key: &str) -> Result<Option<bool>, ApiError> {
        match self.one(key).map(|v| v.trim().to_ascii_lowercase()) {
            None => Ok(None),
            Some(v) if v == "true" => Ok(Some(true)),
            Some(v) if v == "false" => Ok(Some(false)),
            Some(_) => Err(bad_request(format!("{key} must be true or false"))),
        }
    }

    fn limit(&self) -> Result<usize, ApiError> {
        match self.one("limit") {
            None => Ok(MAX_LIMIT),
            Some(v) => v
                .trim()
                .parse::<usize>()
                .ok()
                .filter(|n| (1..=MAX_LIMIT).contains(n))
                .ok_or_else(|| {
                    bad_request(format!(
                        "limit must be an integer between 1 and {MAX_LIMIT}"
                    ))
                }),
        }
    }

    /// The position an `offset` token points after, for `list`.
    fn offset(&self, g: &Lever, list: &str, kind: Kind) -> Result<Option<u64>, ApiError> {
        self.one("offset")
            .filter(|o| !o.trim().is_empty())
            .map(|o| g.decode_cursor(list, kind, o))
            .transpose()
    }

    /// Ids of `kind` given under `key`. A UUID this sandbox never issued
    /// matches nothing (`None`); anything that is not a UUID is a 400.
    fn ids(&self, key: &str, kind: Kind) -> Result<Vec<Option<u64>>, ApiError> {
        self.all(key)
            .map(|v| match ids::parse(kind, v) {
                Some(id) => Ok(Some(id)),
                None if ids::is_uuid(v) => Ok(None),
                None => Err(bad_request(format!("Invalid {key}: {v}"))),
            })
            .collect()
    }
}

/// Whether `t` lies in the inclusive range `[start, end]` (either open).
fn in_range(t: i64, start: Option<i64>, end: Option<i64>) -> bool {
    start.is_none_or(|s| t >= s) && end.is_none_or(|e| t <= e)
}

/// One page of `items` (sorted by `pos` ascending) after position `after`,
/// and whether more match beyond it.
fn page<T>(
    items: &[T],
    pos: impl Fn(&T) -> u64,
    after: Option<u64>,
    limit: usize,
    pred: impl Fn(&T) -> bool,
) -> (Vec<&T>, bool) {
    let start = after.map_or(0, |a| items.partition_point(|x| pos(x) <= a));
    let mut it = items[start..].iter().filter(|x| pred(x));
    let page: Vec<&T> = it.by_ref().take(limit).collect();
    let more = page.len() == limit && it.next().is_some();
    (page, more)
}

/// The list envelope; the last page has `hasNext: false` and no `next`.
fn envelope(data: Vec<Value>, next: Option<String>) -> Json<Value> {
    let mut o = serde_json::Map::new();
    o.insert("data".into(), Value::Array(data));
    o.insert("hasNext".into(), Value::Bool(next.is_some()));
    if let Some(n) = next {
        o.insert("next".into(), Value::String(n));
    }
    Json(Value::Object(o))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paging_is_exclusive_of_the_position_and_exact_about_more() {
        let items: Vec<u64> = (1..=10).collect();
        let (p, more) = page(&items, |x| *x, None, 4, |_| true);
        assert_eq!(p, vec![&1, &2, &3, &4]);
        assert!(more);
        let (p, more) = page(&items, |x| *x, Some(8), 4, |_| true);
        assert_eq!(p, vec![&9, &10]);
        assert!(!more);
        let (_, more) = page(&items, |x| *x, None, 10, |_| true);
        assert!(!more);
        // A position that no longer exists (deleted) still works.
        let (p, _) = page(&items, |x| *x * 10, Some(35), 2, |_| true);
        assert_eq!(p, vec![&4, &5]);
    }

    #[test]
    fn query_parameters() {
        let q = Query::parse(Some("tag=a&tag=b%20c&limit=5&archived=true".into()));
        assert_eq!(q.all("tag").collect::<Vec<_>>(), vec!["a", "b c"]);
        assert_eq!(q.limit().ok(), Some(5));
        assert_eq!(q.bool("archived").ok(), Some(Some(true)));
        assert!(Query::parse(Some("limit=0".into())).limit().is_err());
        assert!(Query::parse(Some("limit=101".into())).limit().is_err());
        assert!(Query::parse(Some("x=1".into())).ms("x").is_ok());
        assert!(Query::parse(Some("x=2024-01-01".into())).ms("x").is_err());
    }
}
