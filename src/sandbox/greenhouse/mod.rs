//! A Greenhouse Harvest v3 sandbox: the documented v3 behaviour (OAuth client
//! credentials for custom integrations and the authorization code grant with
//! rotating refresh tokens for partners, bearer JWTs, Site Admin list
//! permission, cursor-only paging with `Link`, pipe-syntax filters,
//! id-descending lists, a fixed 30 s rate window, v3 users with service
//! accounts hidden by default, note/custom-field/tag writes) over a generated
//! tenant, plus the `/_sandbox` control API every vendor sandbox serves.
//!
//! Start it with [`crate::sandbox::start_greenhouse`].

mod api;
mod auth;
mod control;
mod eeoc;
mod errors;
mod oauth;
mod query;
mod render;
mod webhooks;

use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;
use std::time::Duration;

use axum::Router;
use axum::middleware;
use axum::routing::{delete, get, patch, post};
use chrono::{DateTime, Utc};
use serde_json::Value;

use super::data::{Tenant, epoch};
use super::faults::Faults;
use super::guard::guard;
use super::ratelimit::{FixedWindow, Limit};
use super::stats::Stats;
use super::tokens::TokenAuthority;
use super::{SandboxCredentials, SandboxOptions, Shared};

/// The user a token acts as when `sub` is omitted: the Integration Service
/// User, a service account.
pub const INTEGRATION_USER_ID: u64 = 99;
pub const SITE_ADMIN_USER_ID: u64 = 100;
pub const BASIC_USER_ID: u64 = 101;
/// A user who left: listed with `deactivated: true`, may not act.
pub const DEACTIVATED_USER_ID: u64 = 102;

struct User {
    id: u64,
    first_name: &'static str,
    last_name: &'static str,
    /// Empty for service accounts, which have no email.
    email: &'static str,
    site_admin: bool,
    /// Integration service users and the like: `/v3/users` hides them
    /// unless `show_service_accounts=true`.
    service_account: bool,
    deactivated: bool,
    employee_id: Option<&'static str>,
    job_title: Option<&'static str>,
}

const USERS: [User; 4] = [
    User {
        id: INTEGRATION_USER_ID,
        first_name: "Integration",
        last_name: "Service User",
        email: "",
        site_admin: true,
        service_account: true,
        deactivated: false,
        employee_id: None,
        job_title: None,
    },
    User {
        id: SITE_ADMIN_USER_ID,
        first_name: "Ada",
        last_name: "Admin",
        email: "ada.admin@sandbox.example.com",
        site_admin: true,
        service_account: false,
        deactivated: false,
        employee_id: Some("E-1001"),
        job_title: Some("Head of Talent"),
    },
    User {
        id: BASIC_USER_ID,
        first_name: "Bob",
        last_name: "Basic",
        email: "bob.basic@sandbox.example.com",
        site_admin: false,
        service_account: false,
        deactivated: false,
        employee_id: Some("E-1002"),
        job_title: Some("Recruiter"),
    },
    User {
        id: DEACTIVATED_USER_ID,
        first_name: "Dana",
        last_name: "Departed",
        email: "dana.departed@sandbox.example.com",
        site_admin: false,
        service_account: false,
        deactivated: true,
        employee_id: Some("E-0997"),
        job_title: Some("Coordinator"),
    },
];

fn user(id: u64) -> Option<&'static User> {
    USERS.iter().find(|u| u.id == id)
}

impl User {
    /// When the account was created and last changed: fixed, a day apart
    /// per user, deactivation later still.
    fn created_at(&self) -> DateTime<Utc> {
        epoch() + chrono::Duration::days((self.id - INTEGRATION_USER_ID) as i64)
    }

    fn updated_at(&self) -> DateTime<Utc> {
        let later = if self.deactivated { 200 } else { 30 };
        self.created_at() + chrono::Duration::days(later)
    }
}

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
    /// The partner app: authorization codes and rotating refresh tokens.
    partner: oauth::Partner,
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
    /// The built-in disparity of the EEOC answers (see `sandbox::demographics`).
    disparity: u8,
    /// Web hooks (set up in Greenhouse's UI; here through `/_sandbox/webhooks`).
    hooks: crate::sandbox::webhooks::Webhooks,
}

/// The acting user of an authenticated `/v3` request.
#[derive(Clone, Copy, Debug)]
struct Actor {
    user_id: u64,
    site_admin: bool,
}

/// Builds the router and the credentials it accepts. `base_url` is where it
/// will be served (used in `Link` headers and attachment URLs).
pub fn router(opts: &SandboxOptions, base_url: &str) -> (Router, SandboxCredentials) {
    let tenant = opts.tenant();
    let seeded_at = epoch();
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
        partner: oauth::Partner::new(opts, base_url),
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
        disparity: crate::sandbox::demographics::DEFAULT_DISPARITY,
        hooks: crate::sandbox::webhooks::Webhooks::new(crate::model::VendorKind::Greenhouse, opts),
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
    let state: Shared<Gh> = Shared::new(Mutex::new(gh));

    let v3 = Router::new()
        .route("/v3/jobs", get(api::list_jobs))
        .route("/v3/job_posts", get(api::list_job_posts))
        .route("/v3/departments", get(api::list_departments))
        .route("/v3/offices", get(api::list_offices))
        .route("/v3/users", get(api::list_users))
        .route("/v3/candidates", get(api::list_candidates))
        .route("/v3/applications", get(api::list_applications))
        .route("/v3/applications/{id}", patch(api::patch_application))
        .route("/v3/attachments", get(api::list_attachments))
        .route("/v3/eeoc", get(eeoc::list_eeoc))
        .route("/v3/notes", get(api::list_notes).post(api::create_note))
        .route(
            "/v3/candidate_tags",
            get(api::list_candidate_tags).post(api::create_candidate_tag),
        )
        .route(
            "/v3/applied_candidate_tags",
            get(api::list_applied_tags).post(api::apply_tag),
        )
        .route(
            "/v3/applied_candidate_tags/{id}",
            delete(api::remove_applied_tag),
        )
        .route_layer(middleware::from_fn_with_state(state.clone(), guard::<Gh>));

    let vendor = Router::new()
        .route("/token", post(oauth::token))
        .route("/authorize", get(oauth::authorize))
        .route("/files/{id}/{filename}", get(api::file))
        .route(
            "/_sandbox/demographics",
            axum::routing::put(eeoc::set_demographics),
        )
        .merge(v3);
    let router = super::control::app(vendor, state, errors::not_found, errors::method_not_allowed);
    (router, creds)
}
