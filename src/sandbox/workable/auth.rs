//! Who may call `/spi/v3`: the fixed 10 s window with `X-Rate-Limit-*`
//! headers, injected faults, and the account token as Bearer.

use axum::http::{HeaderMap, StatusCode};

use super::Wk;
use super::errors::{error, fault_response};
use crate::sandbox::errors::ApiError;
use crate::sandbox::faults::Faults;
use crate::sandbox::guard::Gate;
use crate::sandbox::ratelimit::{Decision, RateHeaders};
use crate::sandbox::stats::Stats;
use crate::sandbox::tokens::bearer_token;

impl Gate for Wk {
    type Actor = ();
    /// Workable's hyphenated spelling; Reset in Unix epoch seconds, no `Retry-After`.
    const HEADERS: Option<RateHeaders> = Some(RateHeaders {
        limit: "x-rate-limit-limit",
        remaining: "x-rate-limit-remaining",
        reset: "x-rate-limit-reset",
        retry_after: false,
    });

    fn stats(&mut self) -> &mut Stats {
        &mut self.stats
    }

    fn faults(&mut self) -> &mut Faults {
        &mut self.faults
    }

    fn admit(&mut self) -> Result<Decision, (Decision, ApiError)> {
        self.limiter.check().admit(|_| {
            error(
                StatusCode::TOO_MANY_REQUESTS,
                "Rate limit exceeded, retry after X-Rate-Limit-Reset",
            )
        })
    }

    /// A 429 says the budget is spent, whatever the window counted.
    fn fault(status: u16, decision: Decision) -> (Decision, ApiError) {
        let decision = if status == 429 {
            decision.exhausted()
        } else {
            decision
        };
        (decision, fault_response(status))
    }

    fn authenticate(&self, headers: &HeaderMap) -> Result<(), ApiError> {
        if !self.revoked && bearer_token(headers).is_some_and(|t| t == self.api_key) {
            Ok(())
        } else {
            Err(error(StatusCode::UNAUTHORIZED, "Not authorized"))
        }
    }
}
