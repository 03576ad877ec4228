//! Who may call `/v1`: the token bucket, injected faults, and Basic auth
//! with the API key or a bearer access token. Lever's 429 carries no
//! rate-limit headers.

use axum::http::HeaderMap;
use chrono::Utc;

use super::errors::{fault_response, too_many_requests, unauthorized};
use super::ids::{self, Kind};
use super::{Actor, INTEGRATION_USER, Lever, user};
use crate::sandbox::errors::ApiError;
use crate::sandbox::faults::Faults;
use crate::sandbox::guard::Gate;
use crate::sandbox::ratelimit::Decision;
use crate::sandbox::stats::Stats;
use crate::sandbox::tokens::{TokenRejection, basic_credentials, bearer_token};

impl Gate for Lever {
    type Actor = Actor;

    fn stats(&mut self) -> &mut Stats {
        &mut self.stats
    }

    fn faults(&mut self) -> &mut Faults {
        &mut self.faults
    }

    fn admit(&mut self) -> Result<Decision, (Decision, ApiError)> {
        if self.limiter.try_acquire() {
            Ok(Decision::Unlimited)
        } else {
            Err((Decision::Unlimited, too_many_requests()))
        }
    }

    fn fault(status: u16, decision: Decision) -> (Decision, ApiError) {
        (decision, fault_response(status))
    }

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
}
