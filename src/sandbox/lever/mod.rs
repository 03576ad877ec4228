//! A Lever API v1 sandbox: the documented v1 behaviour over a generated
//! tenant, plus the `/_sandbox` control API every vendor sandbox serves.
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
//!   Its interviews, feedback forms and offers follow from its pipeline
//!   (`interviews.rs`).
//! - A token bucket (steady n per window, bursts of 2n); 429 carries no
//!   rate-limit headers. Errors are `{"code", "message"}`.
//!
//! Start it with [`crate::sandbox::start`] and [`crate::model::VendorKind::Lever`].

mod api;
mod auth;
mod control;
mod eeo;
mod errors;
mod ids;
mod interviews;
mod oauth;
mod query;
mod render;
mod webhooks;

use std::collections::HashMap;
use std::sync::Mutex;

use axum::Router;
use axum::middleware;
use axum::routing::{get, post};
use chrono::{DateTime, Utc};

use super::data::{GenApplication, Tenant};
use super::faults::Faults;
use super::guard::guard;
use super::ratelimit::{Limit, TokenBucket};
use super::refresh::RefreshToken;
use super::stats::Stats;
use super::tokens::TokenAuthority;
use super::{ApiError, SandboxCredentials, SandboxOptions, Shared};

use errors::not_found;
use ids::Kind;

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

struct Lever {
    base_url: String,
    client_id: String,
    client_secret: String,
    api_key: String,
    tenant: Tenant,
    /// Access tokens; `tokens.revoked` also disables the API key and refresh.
    tokens: TokenAuthority,
    refresh: RefreshToken,
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
    /// The built-in disparity of the EEO answers (see `sandbox::demographics`).
    disparity: u8,
    /// Webhooks registered through `/v1/webhooks`.
    hooks: crate::sandbox::webhooks::Webhooks,
}

/// Who an authenticated `/v1` request acts as (before `perform_as`).
#[derive(Clone, Copy, Debug)]
struct Actor {
    user: u64,
}

/// Steady `n` per window with bursts of `2n`, as Lever's 10/s with bursts of 20.
fn bucket(limit: Option<Limit>) -> TokenBucket {
    TokenBucket::new(limit, limit.map_or(1, |l| l.requests.saturating_mul(2)))
}

/// Lever's refresh tokens look like `v1.<random>`.
const REFRESH_PREFIX: &str = "v1.";

/// Builds the router and the credentials it accepts. `base_url` is where it
/// will be served (the client appends `/v1`).
pub fn router(opts: &SandboxOptions, base_url: &str) -> (Router, SandboxCredentials) {
    let base = base_url.trim_end_matches('/').to_string();
    let api_key = hex::encode(rand::random::<[u8; 24]>());
    let refresh = RefreshToken::issue(REFRESH_PREFIX, opts.refresh_token_idle_ttl, Utc::now());
    let refresh_token = refresh.token().to_string();
    let lever = Lever {
        base_url: base.clone(),
        client_id: opts.client_id.clone(),
        client_secret: opts.client_secret.clone(),
        api_key: api_key.clone(),
        tenant: opts.tenant(),
        tokens: TokenAuthority::new("lever-sandbox", opts.token_ttl),
        refresh,
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
        disparity: crate::sandbox::demographics::DEFAULT_DISPARITY,
        hooks: crate::sandbox::webhooks::Webhooks::new(crate::model::VendorKind::Lever, opts),
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
    let state: Shared<Lever> = Shared::new(Mutex::new(lever));

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
        .route(
            "/v1/opportunities/{id}/interviews",
            get(api::list_interview_items::<false>),
        )
        .route(
            "/v1/opportunities/{id}/interviews/{interview}",
            get(api::get_interview_item::<false>),
        )
        .route(
            "/v1/opportunities/{id}/feedback",
            get(api::list_interview_items::<true>),
        )
        .route(
            "/v1/opportunities/{id}/feedback/{feedback}",
            get(api::get_interview_item::<true>),
        )
        .route("/v1/opportunities/{id}/offers", get(api::list_offers))
        .route(
            "/v1/opportunities/{id}/offers/{offer}/download",
            get(api::download_offer),
        )
        .route(
            "/v1/opportunities/{id}/addTags",
            post(api::change_tags::<true>),
        )
        .route(
            "/v1/opportunities/{id}/removeTags",
            post(api::change_tags::<false>),
        )
        .route("/v1/postings", get(api::list_postings))
        .route("/v1/postings/{id}", get(api::get_posting))
        .route("/v1/users", get(api::list_users))
        .route("/v1/users/{id}", get(api::get_user))
        .route("/v1/tags", get(api::list_tags))
        .route("/v1/stages", get(api::list_stages))
        .route("/v1/archive_reasons", get(api::list_archive_reasons))
        .route("/v1/eeo/responses/pii", get(eeo::list_eeo_pii))
        .route(
            "/v1/webhooks",
            get(webhooks::list)
                .post(webhooks::create)
                .put(webhooks::update),
        )
        .route("/v1/webhooks/{id}", axum::routing::delete(webhooks::delete))
        .route_layer(middleware::from_fn_with_state(
            state.clone(),
            guard::<Lever>,
        ));

    let vendor = Router::new()
        .route("/oauth/token", post(oauth::token))
        .route(
            "/_sandbox/demographics",
            axum::routing::put(eeo::set_demographics),
        )
        .merge(v1);
    let router = super::control::app(
        vendor,
        state,
        errors::not_found_fallback,
        errors::method_not_allowed,
    );
    (router, creds)
}

impl Lever {
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
}

fn ms(t: DateTime<Utc>) -> i64 {
    t.timestamp_millis()
}
