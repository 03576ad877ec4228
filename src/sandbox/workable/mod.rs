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

mod api;
mod auth;
mod control;
mod errors;
mod ids;
mod query;
mod render;
mod webhooks;

use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;

use axum::Router;
use axum::middleware;
use axum::routing::{get, patch, post, put};
use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use serde_json::Value;
use sha2::Sha256;

use super::data::{GenApplication, GenCandidate, Tenant};
use super::faults::Faults;
use super::guard::guard;
use super::ratelimit::{FixedWindow, Limit};
use super::stats::Stats;
use super::{SandboxCredentials, SandboxOptions, Shared};

use ids::{JOB_ID_BASE, JOB_ID_STEP, parse_candidate_id, shortcode};

/// The account's subdomain (`spec.subdomain`).
pub const SUBDOMAIN: &str = "sandbox-tenant";
pub const ACCOUNT_NAME: &str = "Sandbox Tenant";
/// The member the operator acts as (`member_id` of its comments).
pub const INTEGRATION_MEMBER_ID: &str = "3a7f21";
/// The "applied" activity of candidate `n` is `n + this`; comments count up
/// from `COMMENT_ID_START`, above every applied activity.
const APPLIED_ACTIVITY_BASE: u64 = 0x3000_0000;
const COMMENT_ID_START: u64 = 0x7000_0000;

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
    /// Subscriptions made through `/spi/v3/subscriptions`.
    hooks: crate::sandbox::webhooks::Webhooks,
}

/// Builds the router and the credentials it accepts. `base_url` is where it
/// will be served (used in `paging.next` and resume URLs).
pub fn router(opts: &SandboxOptions, base_url: &str) -> (Router, SandboxCredentials) {
    let base = base_url.trim_end_matches('/').to_string();
    let tenant = opts.tenant();
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
        hooks: crate::sandbox::webhooks::Webhooks::new(crate::model::VendorKind::Workable, opts),
    };
    wk.rebuild_origin();
    let creds = SandboxCredentials {
        secret: [("apiKey".to_string(), api_key)].into(),
        base_url: base,
        token_url: None,
        subdomain: Some(SUBDOMAIN.to_string()),
        sub: Some(INTEGRATION_MEMBER_ID.to_string()),
    };
    let state: Shared<Wk> = Shared::new(Mutex::new(wk));

    let api = Router::new()
        .route("/accounts", get(api::list_accounts))
        .route("/jobs", get(api::list_jobs))
        .route("/jobs/{shortcode}", get(api::job_detail))
        .route(
            "/jobs/{shortcode}/candidates",
            get(api::list_job_candidates),
        )
        .route("/jobs/{shortcode}/stages", get(api::job_stages))
        .route("/candidates", get(api::list_candidates))
        .route("/candidates/{id}", get(api::candidate_detail))
        .route("/candidates/{id}/activities", get(api::list_activities))
        .route("/candidates/{id}/comments", post(api::create_comment))
        .route("/candidates/{id}/tags", put(api::replace_tags))
        .route(
            "/candidates/{id}/update_custom_attribute_value",
            patch(api::update_custom_attribute),
        )
        .route("/stages", get(api::list_stages))
        .route("/members", get(api::list_members))
        .route("/recruiters", get(api::list_recruiters))
        .route("/custom_attributes", get(api::list_custom_attributes))
        .route("/subscriptions", get(webhooks::list).post(webhooks::create))
        .route(
            "/subscriptions/{id}",
            axum::routing::delete(webhooks::delete),
        )
        .fallback(errors::api_not_found)
        .method_not_allowed_fallback(errors::method_not_allowed)
        // `layer`, not `route_layer`: unknown paths and methods under /spi/v3
        // are counted, limited and authenticated as well.
        .layer(middleware::from_fn_with_state(state.clone(), guard::<Wk>));

    let vendor = Router::new()
        .nest("/spi/v3", api)
        .route("/files/{id}/{filename}", get(api::resume_file));
    let router = super::control::app(vendor, state, errors::not_found, errors::method_not_allowed);
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
        let current = self.tenant.candidate(a.candidate_id);
        match self.frozen.get(&a.id) {
            // Anonymization erases every copy.
            _ if current.is_some_and(|c| c.anonymized) => current,
            Some(f) => Some(&f.person),
            None => current,
        }
    }

    fn resume_updated_at(&self, a: &GenApplication) -> DateTime<Utc> {
        self.frozen
            .get(&a.id)
            .map_or(a.attachment_updated_at, |f| f.resume_updated_at)
    }

    /// Changes the resume behind one candidate only: other copies of the same
    /// person keep the profile they had. False for an unknown application.
    fn touch_copy(&mut self, app_id: u64, at: DateTime<Utc>) -> bool {
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

    /// What clients wrote to the candidate at `ai`, for a write at `at`
    /// (every write moves the record's `updated_at`).
    fn write_to(&mut self, ai: usize, at: DateTime<Utc>) -> &mut Writes {
        let a = &mut self.tenant.applications[ai];
        a.updated_at = at;
        self.writes.entry(a.id).or_default()
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
}
