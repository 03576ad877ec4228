//! Who may call `/v3`: the fixed 30 s window, injected faults, bearer JWTs
//! and the Site Admin rule for lists.

use axum::http::{HeaderMap, StatusCode};
use chrono::Utc;

use super::errors::unauthorized;
use super::{Actor, Gh, user};
use crate::sandbox::errors::ApiError;
use crate::sandbox::faults::Faults;
use crate::sandbox::guard::Gate;
use crate::sandbox::ratelimit::{Decision, RateHeaders};
use crate::sandbox::stats::Stats;
use crate::sandbox::tokens::{TokenRejection, bearer_token};

impl Gate for Gh {
    type Actor = Actor;
    const HEADERS: Option<RateHeaders> = Some(RateHeaders {
        limit: "x-ratelimit-limit",
        remaining: "x-ratelimit-remaining",
        reset: "x-ratelimit-reset",
        retry_after: true,
    });

    fn stats(&mut self) -> &mut Stats {
        &mut self.stats
    }

    fn faults(&mut self) -> &mut Faults {
        &mut self.faults
    }

    fn admit(&mut self) -> Result<Decision, (Decision, ApiError)> {
        self.api_limiter.check().admit(|retry_after| {
            ApiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                format!("Rate limit exceeded. Please retry after {retry_after} seconds."),
            )
        })
    }

    fn fault(status: u16, decision: Decision) -> (Decision, ApiError) {
        (decision, Faults::response(status))
    }

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
}

/// Every list needs the token's user to be a Site Admin.
pub(super) fn require_site_admin(actor: &Actor) -> Result<(), ApiError> {
    if actor.site_admin {
        Ok(())
    } else {
        Err(ApiError::body(
            StatusCode::FORBIDDEN,
            serde_json::json!({
                "message": "Forbidden",
                "errors": ["List endpoints require the user in the token's sub to be a Site Admin."]
            }),
        ))
    }
}
