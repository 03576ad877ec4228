//! The guard in front of every vendor API: it counts the request, applies
//! the rate limit, injects queued faults, authenticates, and stamps the
//! vendor's rate-limit headers on whatever comes back.

use axum::extract::{OriginalUri, Request, State};
use axum::http::HeaderMap;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::errors::ApiError;
use super::faults::Faults;
use super::ratelimit::{Decision, RateHeaders};
use super::server::route_of;
use super::stats::Stats;
use super::{Shared, lock};

/// What the guard needs from a vendor sandbox's state.
pub trait Gate: Send + 'static {
    /// Who an authenticated request acts as; handlers read it as an extension.
    type Actor: Clone + Send + Sync + 'static;
    /// The vendor's rate-limit headers, if it sends any.
    const HEADERS: Option<RateHeaders> = None;

    fn stats(&mut self) -> &mut Stats;
    fn faults(&mut self) -> &mut Faults;
    /// Counts one request against the API limit; `Err` holds the vendor's 429.
    fn admit(&mut self) -> Result<Decision, (Decision, ApiError)>;
    /// An injected fault in the vendor's shape, and the decision to report with it.
    fn fault(status: u16, decision: Decision) -> (Decision, ApiError);
    fn authenticate(&self, headers: &HeaderMap) -> Result<Self::Actor, ApiError>;
}

/// The middleware; install it with `from_fn_with_state` on the API routes.
pub async fn guard<S: Gate>(State(s): State<Shared<S>>, mut req: Request, next: Next) -> Response {
    let route = route_of(&req);
    // Inside `nest` the URI has lost its prefix; fault prefixes name it.
    let path = req
        .extensions()
        .get::<OriginalUri>()
        .map_or_else(|| req.uri().path().to_string(), |u| u.0.path().to_string());
    let outcome = {
        let mut g = lock(&s);
        g.stats()
            .count_request(format!("{} {}", req.method(), route));
        match g.admit() {
            Err(refused) => {
                g.stats().rate_limited += 1;
                Err(refused)
            }
            Ok(decision) => match g.faults().take(&path) {
                Some(status) => {
                    let stats = g.stats();
                    stats.faults_injected += 1;
                    if status == 429 {
                        stats.rate_limited += 1;
                    }
                    Err(S::fault(status, decision))
                }
                None => g
                    .authenticate(req.headers())
                    .map(|actor| (decision, actor))
                    .map_err(|e| (decision, e)),
            },
        }
    };
    let (decision, mut resp) = match outcome {
        Ok((decision, actor)) => {
            req.extensions_mut().insert(actor);
            (decision, next.run(req).await)
        }
        Err((decision, e)) => (decision, e.into_response()),
    };
    if let Some(names) = S::HEADERS {
        decision.stamp(resp.headers_mut(), names);
    }
    resp
}
