//! Lever's hooks for the shared control API, and its extras: refresh-token
//! expiry and reissue, and the access-token lifetime. Application ids are
//! opportunity ids.

use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use axum::routing::{post, put};
use axum::{Json, Router};
use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::{Value, json};

use super::ids::{self, Kind};
use super::render::{self, Expand, opportunity_id, posting_id};
use super::{Deleted, Lever, bucket};
use crate::sandbox::changes::Change;
use crate::sandbox::control::{Control, limit_json};
use crate::sandbox::data::{GenApplication, Tenant};
use crate::sandbox::errors::ApiError;
use crate::sandbox::ratelimit::Limit;
use crate::sandbox::request::parse_json;
use crate::sandbox::tokens::TokenAuthority;
use crate::sandbox::webhooks::{Outgoing, Webhooks};
use crate::sandbox::{Shared, lock};

impl Control for Lever {
    const API_PREFIX: &'static str = "/v1";

    fn tenant(&self) -> &Tenant {
        &self.tenant
    }

    fn tenant_mut(&mut self) -> &mut Tenant {
        &mut self.tenant
    }

    fn parse_id(id: &str) -> Option<u64> {
        ids::parse(Kind::Opportunity, id)
    }

    fn public_id(id: u64) -> String {
        ids::uuid(Kind::Opportunity, id)
    }

    fn credentials(&self) -> Value {
        let token_url = format!("{}/oauth/token", self.base_url);
        let sub = render::integration_user_id();
        json!({
            "secret": {
                "apiKey": self.api_key,
                "clientId": self.client_id,
                "clientSecret": self.client_secret,
                "refreshToken": self.refresh.token(),
            },
            "connection": {
                "baseUrl": self.base_url,
                "tokenUrl": token_url,
                "subdomain": null,
                "sub": sub,
            },
            "api_key": self.api_key,
            "client_id": self.client_id,
            "client_secret": self.client_secret,
            "refresh_token": self.refresh.token(),
            "refresh_token_valid": self.refresh.is_live(Utc::now()) && !self.tokens.revoked,
            "integration_user_id": sub,
            "base_url": self.base_url,
            "token_url": token_url,
        })
    }

    /// Revoking them also disables the API key and the refresh token.
    fn tokens(&mut self) -> Option<&mut TokenAuthority> {
        Some(&mut self.tokens)
    }

    /// Steady `requests` per `window_seconds`, bursts of twice that.
    fn rate_limit(&self) -> Value {
        let mut v = limit_json(self.limiter.limit());
        if let (Some(o), Some(_)) = (v.as_object_mut(), self.limiter.limit()) {
            o.insert("burst".into(), json!(self.limiter.burst()));
        }
        v
    }

    fn set_rate_limit(&mut self, limit: Option<Limit>) {
        self.limiter = bucket(limit);
    }

    /// The opportunity as `/v1` serves it, plus the contract's `job_id` and `job_status`.
    fn application_json(&self, a: &GenApplication) -> Value {
        let mut v = self.opportunity_json(a, &Expand::default());
        if let Some(o) = v.as_object_mut() {
            o.insert("job_id".into(), json!(posting_id(a.job_id)));
            o.insert(
                "job_status".into(),
                json!(self.tenant.job(a.job_id).map(|j| j.state.as_str())),
            );
        }
        v
    }

    /// Note bodies (every field of every note) and the tags the operator
    /// added that are still there. Lever has no custom fields.
    fn writes(&self, a: &GenApplication) -> Value {
        let notes: Vec<&str> = self
            .notes
            .get(&a.id)
            .into_iter()
            .flatten()
            .flat_map(|n| n.fields.iter().map(|f| f.value.as_str()))
            .collect();
        let tags = self.written_tags.get(&a.id).cloned().unwrap_or_default();
        json!({
            "id": opportunity_id(a),
            "notes": notes,
            "tags": tags,
            "custom_fields": {},
        })
    }

    /// Deleted opportunities show up in `/v1/opportunities/deleted` from now on.
    fn delete(&mut self, ids: &[u64], at: DateTime<Utc>) {
        for id in ids {
            if self.tenant.delete_application(*id).is_some() {
                let seq = self.deleted.last().map_or(1, |d| d.seq + 1);
                self.deleted.push(Deleted {
                    seq,
                    app_id: *id,
                    at,
                });
                self.notes.remove(id);
                self.tags.remove(id);
                self.written_tags.remove(id);
            }
        }
    }

    fn extra_routes() -> Router<Shared<Self>> {
        Router::new()
            .route(
                "/_sandbox/refresh_tokens/expire",
                post(expire_refresh_token),
            )
            .route(
                "/_sandbox/refresh_tokens/reissue",
                post(reissue_refresh_token),
            )
            .route("/_sandbox/token_ttl", put(set_token_ttl).get(get_token_ttl))
    }

    fn webhooks(&self) -> &Webhooks {
        &self.hooks
    }

    fn webhooks_mut(&mut self) -> &mut Webhooks {
        &mut self.hooks
    }

    fn events(&self, change: &Change) -> Vec<Outgoing> {
        self.hook_events(change)
    }

    fn event(&self, name: &str, a: &GenApplication) -> Option<Outgoing> {
        self.hook_event(name, a)
    }
}

/// The current refresh token dies (as after 90 idle days); restore does not
/// revive it, only a reissue does.
async fn expire_refresh_token(State(s): State<Shared<Lever>>) -> Json<Value> {
    lock(&s).refresh.expire();
    Json(json!({"expired": true}))
}

/// The user authorized the app again: a fresh refresh token, reported by
/// `/_sandbox/credentials`.
async fn reissue_refresh_token(State(s): State<Shared<Lever>>) -> Json<Value> {
    let mut g = lock(&s);
    g.refresh.reissue(Utc::now());
    Json(json!({"refresh_token": g.refresh.token()}))
}

#[derive(Deserialize)]
struct TtlReq {
    seconds: f64,
}

/// Lifetime of access tokens issued from now on.
async fn set_token_ttl(
    State(s): State<Shared<Lever>>,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let r: TtlReq = parse_json(&body)?;
    if !(r.seconds.is_finite() && r.seconds >= 1.0 && r.seconds <= 366.0 * 86_400.0) {
        return Err(ApiError::unprocessable(
            "seconds must be between 1 and 31622400",
        ));
    }
    let mut g = lock(&s);
    g.tokens.ttl = Duration::from_secs_f64(r.seconds);
    Ok(Json(json!({"seconds": g.tokens.ttl.as_secs_f64()})))
}

async fn get_token_ttl(State(s): State<Shared<Lever>>) -> Json<Value> {
    Json(json!({"seconds": lock(&s).tokens.ttl.as_secs_f64()}))
}
