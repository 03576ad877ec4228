//! Stand-in for `https://auth.greenhouse.io`: the token endpoint with
//! Greenhouse's two kinds of client, and the partner authorization step.
//!
//! - Custom integrations: the client-credentials grant (`sub` picks the
//!   acting user; none is the Integration Service User).
//! - Partners: the authorization code grant. `GET /authorize` stands for the
//!   login and consent screen: it approves at once, as the Site Admin (or the
//!   user named by the sandbox's `login_hint`), and redirects with a code that
//!   lives one minute and works once. The code buys an access token (one
//!   hour) and a refresh token (24 hours); every refresh answers a new refresh
//!   token and the one used is dead from then on.
//!
//! Either client may only use its own grants (`unauthorized_client`, as
//! "Client Credentials is not available for Greenhouse partners"). Errors are
//! the auth server's `{"message", "errorId"}` or OAuth's `{"error"}`; the
//! endpoint has its own 60 s window.

use std::time::Duration;

use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{Map, Value, json};

use super::{Gh, INTEGRATION_USER_ID, SITE_ADMIN_USER_ID, User, user};
use crate::sandbox::errors::{ApiError, error_id};
use crate::sandbox::faults::Faults;
use crate::sandbox::ratelimit::Decision;
use crate::sandbox::refresh::RefreshToken;
use crate::sandbox::request::{Form, query_pairs};
use crate::sandbox::tokens::{basic_credentials, token_response};
use crate::sandbox::{SandboxOptions, Shared, lock};

/// Every grant the auth server knows, in its own order (for the error text).
const GRANTS: &str = "authorization_code, refresh_token, client_credentials, urn:ietf:params:oauth:grant-type:token-exchange";
/// Lifetimes Greenhouse documents for partner OAuth.
const CODE_TTL: chrono::Duration = chrono::Duration::minutes(1);
const REFRESH_TTL: Duration = Duration::from_secs(24 * 3600);

/// The partner app registered with this sandbox, and what it was granted.
pub(super) struct Partner {
    pub client_id: String,
    pub client_secret: String,
    /// The one registered redirect URI: the sandbox's own callback, so a
    /// client that follows the redirect stays on loopback.
    pub redirect_uri: String,
    codes: Vec<AuthCode>,
    grants: Vec<Grant>,
}

struct AuthCode {
    code: String,
    user_id: u64,
    /// As the authorization request gave it (the token request must repeat it).
    redirect_uri: Option<String>,
    scope: Option<String>,
    expires_at: DateTime<Utc>,
    /// The grant it was exchanged for; a second exchange revokes that grant.
    exchanged: Option<usize>,
}

/// One authorization: the user who consented and the refresh-token chain.
struct Grant {
    user_id: u64,
    scope: Option<String>,
    refresh: RefreshToken,
}

impl Partner {
    pub fn new(opts: &SandboxOptions, base_url: &str) -> Partner {
        Partner {
            client_id: format!("{}-partner", opts.client_id),
            client_secret: format!("{}-partner", opts.client_secret),
            redirect_uri: format!("{}/_sandbox/oauth/callback", base_url.trim_end_matches('/')),
            codes: Vec::new(),
            grants: Vec::new(),
        }
    }

    /// Every refresh token dies: the partner must send its users through
    /// authorization again.
    pub fn expire_refresh_tokens(&mut self) {
        for g in &mut self.grants {
            g.refresh.expire();
        }
    }

    /// How many grants still have a live refresh token.
    pub fn live_grants(&self, now: DateTime<Utc>) -> usize {
        self.grants
            .iter()
            .filter(|g| g.refresh.is_live(now))
            .count()
    }
}

/// `{"message", "errorId"}`, as the auth server answers malformed requests.
fn malformed(status: StatusCode, message: String) -> ApiError {
    ApiError::body(status, json!({"message": message, "errorId": error_id()}))
}

fn bad_grant(error: &str, description: &str) -> ApiError {
    ApiError::oauth(StatusCode::BAD_REQUEST, error, description)
}

fn random_code() -> String {
    hex::encode(rand::random::<[u8; 20]>())
}

/// `GET /authorize`: consent, then a redirect to the partner with `code`
/// and `state`. Problems with the client or the redirect URI are shown here
/// (400) rather than redirected, as RFC 6749 section 4.1.2.1 requires.
pub(super) async fn authorize(State(s): State<Shared<Gh>>, RawQuery(raw): RawQuery) -> Response {
    let q = query_pairs(raw.as_deref());
    let param = |k: &str| {
        q.iter()
            .rev()
            .find(|(key, v)| key == k && !v.trim().is_empty())
            .map(|(_, v)| v.trim().to_string())
    };
    let mut g = lock(&s);
    if param("client_id").as_deref() != Some(g.partner.client_id.as_str()) {
        return ApiError::oauth(
            StatusCode::BAD_REQUEST,
            "invalid_client",
            "client_id is not a registered partner application",
        )
        .into_response();
    }
    let given_redirect = param("redirect_uri");
    if given_redirect
        .as_deref()
        .is_some_and(|r| r != g.partner.redirect_uri)
    {
        return ApiError::oauth(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "redirect_uri is not registered for this client",
        )
        .into_response();
    }
    let mut reply: Vec<(&str, String)> = Vec::new();
    if param("response_type").as_deref() != Some("code") {
        reply.push(("error", "unsupported_response_type".into()));
    } else if g.tokens.revoked {
        reply.push(("error", "access_denied".into()));
        reply.push(("error_description", "the app's access was revoked".into()));
    } else {
        // The sandbox's stand-in for who logs in at the consent screen.
        let who = match param("login_hint") {
            None => user(SITE_ADMIN_USER_ID),
            Some(h) => h.parse().ok().and_then(user),
        };
        match who.filter(|u| !u.deactivated && !u.service_account) {
            None => {
                reply.push(("error", "access_denied".into()));
                reply.push(("error_description", "no such active user".into()));
            }
            Some(u) => {
                let code = random_code();
                g.partner.codes.push(AuthCode {
                    code: code.clone(),
                    user_id: u.id,
                    redirect_uri: given_redirect,
                    scope: param("scope"),
                    expires_at: Utc::now() + CODE_TTL,
                    exchanged: None,
                });
                reply.push(("code", code));
            }
        }
    }
    if let Some(state) = param("state") {
        reply.push(("state", state));
    }
    let mut location = url::form_urlencoded::Serializer::new(String::new());
    for (k, v) in &reply {
        location.append_pair(k, v);
    }
    let location = format!("{}?{}", g.partner.redirect_uri, location.finish());
    match HeaderValue::from_str(&location) {
        Ok(v) => (StatusCode::FOUND, [(header::LOCATION, v)]).into_response(),
        Err(_) => ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "bad redirect").into_response(),
    }
}

/// Which of the two clients authenticated.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Client {
    Custom,
    Partner,
}

pub(super) async fn token(
    State(s): State<Shared<Gh>>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let mut g = lock(&s);
    g.stats.token_requests += 1;
    if let Decision::Limited { retry_after, .. } = g.token_limiter.check() {
        g.stats.rate_limited += 1;
        return Err(ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            format!("Rate limit exceeded. Please retry after {retry_after} seconds."),
        )
        .header(header::RETRY_AFTER, HeaderValue::from(retry_after)));
    }
    if let Some(status) = g.faults.take("/token") {
        g.stats.faults_injected += 1;
        return Err(Faults::response(status));
    }
    let (id, secret) = basic_credentials(&headers)
        .ok_or_else(|| malformed(StatusCode::UNAUTHORIZED, "Unauthorized".into()))?;
    let client = if id == g.client_id && secret == g.client_secret {
        Some(Client::Custom)
    } else if id == g.partner.client_id && secret == g.partner.client_secret {
        Some(Client::Partner)
    } else {
        None
    };
    let client = client.filter(|_| !g.tokens.revoked).ok_or_else(|| {
        ApiError::body(StatusCode::UNAUTHORIZED, json!({"error": "invalid_client"}))
    })?;
    let form = Form::parse(&headers, &body, false);
    let grant = form.get("grant_type").ok_or_else(|| {
        malformed(
            StatusCode::BAD_REQUEST,
            "Must include `grant_type` parameter in the request body".into(),
        )
    })?;
    let now = Utc::now();
    match (grant.as_str(), client) {
        ("client_credentials", Client::Custom) => client_credentials(&mut g, &form, now),
        ("authorization_code", Client::Partner) => authorization_code(&mut g, &form, now),
        ("refresh_token", Client::Partner) => refresh(&mut g, &form, now),
        (
            "client_credentials"
            | "authorization_code"
            | "refresh_token"
            | "urn:ietf:params:oauth:grant-type:token-exchange",
            _,
        ) => Err(bad_grant(
            "unauthorized_client",
            &format!("This client may not use the {grant} grant"),
        )),
        (other, _) => Err(malformed(
            StatusCode::BAD_REQUEST,
            format!("grant_type={other} is invalid, please use one of: {GRANTS}"),
        )),
    }
}

fn client_credentials(g: &mut Gh, form: &Form, now: DateTime<Utc>) -> Result<Response, ApiError> {
    let sub = match form.get("sub") {
        None => INTEGRATION_USER_ID,
        Some(s) => acting_user(s.parse::<u64>().ok().and_then(user))?.id,
    };
    Ok(issue(g, sub, None, None, now))
}

/// A user a token may act as.
fn acting_user(u: Option<&'static User>) -> Result<&'static User, ApiError> {
    match u {
        Some(u) if u.deactivated => Err(bad_grant("invalid_grant", "sub is a deactivated user")),
        Some(u) => Ok(u),
        None => Err(bad_grant(
            "invalid_grant",
            "sub is not a user of this organization",
        )),
    }
}

/// Exchanges a code (once, within its minute) for an access and a refresh token.
fn authorization_code(g: &mut Gh, form: &Form, now: DateTime<Utc>) -> Result<Response, ApiError> {
    let presented = form
        .get("code")
        .ok_or_else(|| bad_grant("invalid_request", "Must include `code`"))?;
    let invalid = || {
        bad_grant(
            "invalid_grant",
            "The authorization code is invalid or expired",
        )
    };
    let ci = g
        .partner
        .codes
        .iter()
        .position(|c| c.code == presented)
        .ok_or_else(invalid)?;
    if let Some(gi) = g.partner.codes[ci].exchanged {
        // A code used twice was probably stolen: what it bought dies too.
        g.partner.grants[gi].refresh.expire();
        return Err(invalid());
    }
    let code = &g.partner.codes[ci];
    if code.expires_at <= now {
        return Err(invalid());
    }
    if code.redirect_uri.is_some() && form.get("redirect_uri") != code.redirect_uri {
        return Err(bad_grant(
            "invalid_grant",
            "redirect_uri does not match the authorization request",
        ));
    }
    let (user_id, scope) = (code.user_id, code.scope.clone());
    let refresh = RefreshToken::issue("", REFRESH_TTL, now);
    let refresh_token = refresh.token().to_string();
    g.partner.grants.push(Grant {
        user_id,
        scope: scope.clone(),
        refresh,
    });
    g.partner.codes[ci].exchanged = Some(g.partner.grants.len() - 1);
    // Spent and expired codes need not be kept beyond a minute.
    g.partner
        .codes
        .retain(|c| c.exchanged.is_some() || c.expires_at > now);
    Ok(issue(g, user_id, Some(refresh_token), scope, now))
}

/// Trades the live refresh token of a grant for the next one.
fn refresh(g: &mut Gh, form: &Form, now: DateTime<Utc>) -> Result<Response, ApiError> {
    let presented = form
        .get("refresh_token")
        .ok_or_else(|| bad_grant("invalid_request", "Must include `refresh_token`"))?;
    let rotated = g.partner.grants.iter_mut().find_map(|grant| {
        let next = grant.refresh.rotate(&presented, now)?.to_string();
        Some((grant.user_id, grant.scope.clone(), next))
    });
    let (user_id, scope, next) = rotated.ok_or_else(|| {
        bad_grant(
            "invalid_grant",
            "The refresh token is invalid, expired or already used",
        )
    })?;
    Ok(issue(g, user_id, Some(next), scope, now))
}

/// The token response: `expires_in` and `expires_at` both (clients read
/// either), a new refresh token where the grant has one.
fn issue(
    g: &mut Gh,
    sub: u64,
    refresh_token: Option<String>,
    scope: Option<String>,
    now: DateTime<Utc>,
) -> Response {
    let (access_token, expires_at) = g.tokens.issue(&sub.to_string(), now);
    let mut body = Map::new();
    body.insert("access_token".into(), json!(access_token));
    body.insert("token_type".into(), json!("Bearer"));
    body.insert("expires_in".into(), json!((expires_at - now).num_seconds()));
    body.insert(
        "expires_at".into(),
        json!(expires_at.to_rfc3339_opts(SecondsFormat::Secs, true)),
    );
    if let Some(r) = refresh_token {
        body.insert("refresh_token".into(), json!(r));
    }
    if let Some(s) = scope {
        body.insert("scope".into(), json!(s));
    }
    token_response(Value::Object(body))
}
