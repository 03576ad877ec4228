//! `POST /webhooks/{namespace}/{connection}`: the HTTP answers between a
//! vendor's raw request and a verified [`Delivery`] handed to the operator
//! through the [`Intake`] trait.
//!
//! ```ignore
//! let app = crate::http::router(health).merge(webhooks::route::router(intake, IntakeOptions::default())?);
//! ```
//!
//! Order of the checks, each answering on its own (JSON
//! `{"reason": "<Refusal::as_str>", "message": "..."}` for every error):
//!
//! 1. names that cannot be Kubernetes names → 404, without asking the intake;
//! 2. the body, read up to [`IntakeOptions::body_limit`] (default 1 MiB) →
//!    413 as soon as `Content-Length` or the bytes read pass it, without
//!    reading further;
//! 3. the leader: here → continue; another replica → the raw bytes and the
//!    vendor's headers are forwarded to the same path on the leader (5 s
//!    timeout) and its status and body relayed; no leader known, the leader
//!    unreachable, or a request already forwarded once → 503 `NotLeader`
//!    with `Retry-After`;
//! 4. the connection's keys ([`Intake::keys`]): none → 404;
//! 5. the signature ([`super::verify`]) → 401;
//! 6. the payload ([`super::parse`]) → 400; Greenhouse's `ping` → 200
//!    `{"status":"pong"}`, not recorded;
//! 7. Lever only: `triggeredAt` outside the window → 401 `Stale`; a token
//!    accepted before with another body ([`SeenTokens`], then the ledger) →
//!    401 `Replayed`;
//! 8. [`Intake::accept`] records it durably → 202 (200 for Greenhouse and
//!    Workable, which retry anything but 200: [`accepted_status`])
//!    `{"status":"accepted","deliveryId":...,"duplicate":bool}`, or its
//!    refusal (503 `QueueFull` with `Retry-After`, 401 `Replayed`...).
//!
//! **Why a standby forwards rather than only answering 503.** The operator's
//! Service spreads deliveries over every replica, so with two replicas half
//! of them land on a standby. A 503 there would delay that half by the
//! vendor's retry schedule — Greenhouse's first retry comes after a minute
//! and later ones hours apart, Lever's and Workable's are undocumented — when
//! the goal is a score within a second. Forwarding costs one loopback or
//! pod-network hop. Only when forwarding cannot work (no leader elected yet,
//! leader unreachable) does the standby answer 503 and rely on the retry;
//! a forwarded request carries [`FORWARDED_HEADER`] and is never forwarded
//! again, so two replicas that disagree about the leader cannot loop.
//!
//! Nothing of a secret, a signature or a body reaches a log line or an
//! answer: refusals are logged with namespace, connection, vendor and
//! reason only, and the answers' messages are fixed texts.

use std::num::NonZeroUsize;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use axum::Router;
use axum::body::Body;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use chrono::{TimeDelta, Utc};
use futures::StreamExt;
use serde_json::json;

use super::verify::{self, ReplayVerdict, SeenTokens};
use super::{Delivery, EventKind, Refusal, parse};
use crate::model::VendorKind;
use crate::vendors::SecretValue;

/// Marks a request a standby forwarded to the leader; one that arrives at a
/// replica that is not the leader either is answered 503, not forwarded on.
pub const FORWARDED_HEADER: &str = "ats-forwarded";

/// The headers a standby forwards: what the vendors send and the leader
/// reads, nothing hop-by-hop and no credentials of the caller.
const FORWARDED_HEADERS: [&str; 5] = [
    "content-type",
    "user-agent",
    "signature",
    "greenhouse-event-id",
    "x-workable-signature",
];

/// Most of the leader's answer relayed (its answers are small JSON).
const RELAYED_LIMIT: usize = 64 * 1024;

/// A connection's webhook signing keys, as resolved from its Secret.
#[derive(Clone, Debug)]
pub struct ConnectionKeys {
    pub vendor: VendorKind,
    /// Any of them verifies a delivery (several Lever webhooks, or a
    /// rotation in progress). Empty is treated as no connection (404).
    pub keys: Vec<SecretValue>,
}

/// Who processes deliveries.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Leader {
    /// This replica.
    Here,
    /// Another replica, at this base (`http://10.0.0.7:8080`): the request is
    /// forwarded to the same path there.
    Forward(url::Url),
    /// Nobody yet (an election in progress): 503, the vendor retries.
    Unknown,
}

/// What the route needs from the operator (the integrator implements it over
/// the lease, the connections' Secrets and the ledger).
#[async_trait]
pub trait Intake: Send + Sync {
    async fn leader(&self) -> Leader;
    /// The vendor and signing keys of `namespace/connection`; `None` when no
    /// such connection or no webhook secret for it (404).
    async fn keys(&self, namespace: &str, connection: &str) -> Option<ConnectionKeys>;
    /// Durably records a verified delivery; Ok(true) new, Ok(false) duplicate
    /// (same id and body). Err: the refusal answered (`QueueFull` → 503,
    /// `Replayed` → 401...), which the route then reports to
    /// [`Intake::refused`]: `accept` must not count it itself.
    async fn accept(
        &self,
        namespace: &str,
        connection: &str,
        delivery: Delivery,
    ) -> Result<bool, Refusal>;
    /// Counts a refusal (metrics, status). The route calls it once for every
    /// refusal it answers, `accept`'s included. Called for well-formed names only,
    /// but before the connection is known for `TooLarge` and `NotLeader` and
    /// for `UnknownConnection` itself: do not create per-connection series
    /// for connections that do not exist.
    fn refused(&self, namespace: &str, connection: &str, refusal: Refusal);
}

/// Limits and windows of the route.
#[derive(Clone, Debug)]
pub struct IntakeOptions {
    /// Largest body accepted (413 above).
    pub body_limit: usize,
    /// Longest wait for the whole body (a sender that trickles it gets 400).
    pub body_timeout: Duration,
    /// Lever's `triggeredAt` window, either side of now.
    pub lever_window: TimeDelta,
    /// Timeout of a forward to the leader (connect and answer).
    pub forward_timeout: Duration,
    /// `Retry-After` of the 503 answers.
    pub retry_after: Duration,
    /// Lever tokens remembered in memory (the ledger remembers all).
    pub seen_tokens: NonZeroUsize,
}

impl Default for IntakeOptions {
    fn default() -> Self {
        IntakeOptions {
            body_limit: 1024 * 1024,
            body_timeout: Duration::from_secs(10),
            lever_window: verify::LEVER_WINDOW,
            forward_timeout: Duration::from_secs(5),
            retry_after: Duration::from_secs(10),
            // About 5 minutes at 200 deliveries a second, ~11 MB at most.
            seen_tokens: NonZeroUsize::new(65_536).unwrap_or(NonZeroUsize::MIN),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum RouteError {
    #[error("cannot build the HTTP client that forwards webhooks to the leader: {0}")]
    Client(#[source] reqwest::Error),
}

struct Shared {
    intake: Arc<dyn Intake>,
    options: IntakeOptions,
    seen: SeenTokens,
    client: reqwest::Client,
}

/// The route, ready to merge into the operator's HTTP router.
pub fn router(intake: Arc<dyn Intake>, options: IntakeOptions) -> Result<Router, RouteError> {
    let client = reqwest::Client::builder()
        .timeout(options.forward_timeout)
        .connect_timeout(options.forward_timeout)
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .build()
        .map_err(RouteError::Client)?;
    let shared = Shared {
        intake,
        seen: SeenTokens::new(options.seen_tokens),
        options,
        client,
    };
    Ok(Router::new()
        .route("/webhooks/{namespace}/{connection}", post(deliver))
        .with_state(Arc::new(shared)))
}

/// A refusal on its way out: status, JSON body, log line, count.
struct Refused {
    refusal: Refusal,
    message: &'static str,
}

impl Refused {
    fn new(refusal: Refusal) -> Self {
        Refused {
            refusal,
            message: message(refusal, None),
        }
    }

    fn for_vendor(refusal: Refusal, vendor: VendorKind) -> Self {
        Refused {
            refusal,
            message: message(refusal, Some(vendor)),
        }
    }
}

/// The fixed text of each refusal: helpful, and never built from the request.
fn message(refusal: Refusal, vendor: Option<VendorKind>) -> &'static str {
    match (refusal, vendor) {
        (Refusal::MissingSignature, Some(VendorKind::Greenhouse)) => {
            "no Signature header: Greenhouse sends `Signature: sha256 <hex>` when the web hook has a secret key"
        }
        (Refusal::MissingSignature, Some(VendorKind::Workable)) => {
            "no X-Workable-Signature header: Workable signs every delivery with the account's API token or the OAuth client secret"
        }
        (Refusal::MissingSignature, _) => "the delivery carries no signature",
        (Refusal::BadSignature, _) => {
            "the signature matches none of the connection's webhook keys: compare the secret configured at the vendor with the connection's Secret"
        }
        (Refusal::Replayed, _) => {
            "this Lever token was already delivered with another body: refused as a replay"
        }
        (Refusal::Stale, _) => {
            "triggeredAt is outside the accepted window around this server's clock: a replay, or a clock far off"
        }
        (Refusal::UnknownConnection, Some(_)) => {
            "webhooks are not supported for this connection's vendor"
        }
        (Refusal::UnknownConnection, None) => {
            "no connection with a webhook secret at this path: check the namespace and AtsSync name in the URL and the spec's webhook Secret"
        }
        (Refusal::Malformed, Some(VendorKind::Greenhouse)) => {
            "not a Greenhouse web hook: expected JSON {\"action\", \"payload\"} with the ids of its event and a Greenhouse-Event-ID header"
        }
        (Refusal::Malformed, Some(VendorKind::Lever)) => {
            "not a Lever webhook: expected JSON with token, triggeredAt, event and the event's ids in data"
        }
        (Refusal::Malformed, Some(VendorKind::Workable)) => {
            "not a Workable webhook: expected JSON {\"event_type\", \"data\"} with the candidate's id"
        }
        (Refusal::Malformed, _) => "the body could not be read",
        (Refusal::TooLarge, _) => "the body is larger than the webhook body limit",
        (Refusal::QueueFull, _) => {
            "the tenant's delivery queue is full: retry later (vendors retry non-2xx answers)"
        }
        (Refusal::NotLeader, _) => {
            "this replica is not the leader and could not hand the delivery to it: retry later"
        }
    }
}

impl Shared {
    fn refuse(
        &self,
        namespace: &str,
        connection: &str,
        vendor: Option<VendorKind>,
        r: Refused,
    ) -> Response {
        let reason = r.refusal.as_str();
        let vendor = vendor.map_or("unknown", VendorKind::as_str);
        tracing::warn!(
            namespace,
            connection,
            vendor,
            reason,
            "webhook delivery refused"
        );
        self.intake.refused(namespace, connection, r.refusal);
        let status =
            StatusCode::from_u16(r.refusal.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let body = axum::Json(json!({"reason": reason, "message": r.message}));
        let mut response = (status, body).into_response();
        if status == StatusCode::SERVICE_UNAVAILABLE {
            let secs = self.options.retry_after.as_secs().max(1);
            if let Ok(v) = HeaderValue::from_str(&secs.to_string()) {
                response.headers_mut().insert(header::RETRY_AFTER, v);
            }
        }
        response
    }
}

/// A Kubernetes object name (DNS-1123 subdomain): anything else cannot be a
/// connection, and is never echoed into logs or metrics.
fn kubernetes_name(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 253
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'.')
}

fn header_str<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// Reads at most `limit` bytes; `None` when the body is larger.
async fn read_capped(body: Body, limit: usize) -> Result<Option<Vec<u8>>, axum::Error> {
    let mut stream = body.into_data_stream();
    let mut bytes = Vec::new();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk?;
        if bytes.len().saturating_add(chunk.len()) > limit {
            return Ok(None);
        }
        bytes.extend_from_slice(&chunk);
    }
    Ok(Some(bytes))
}

async fn deliver(
    State(s): State<Arc<Shared>>,
    path: Result<Path<(String, String)>, PathRejection>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let Ok(Path((namespace, connection))) = path else {
        return refusal_without_names(Refusal::UnknownConnection);
    };
    if !kubernetes_name(&namespace) || !kubernetes_name(&connection) {
        return refusal_without_names(Refusal::UnknownConnection);
    }
    let (ns, conn) = (namespace.as_str(), connection.as_str());

    let declared = header_str(&headers, header::CONTENT_LENGTH.as_str())
        .and_then(|v| v.trim().parse::<u64>().ok());
    if declared.is_some_and(|n| n > s.options.body_limit as u64) {
        return s.refuse(ns, conn, None, Refused::new(Refusal::TooLarge));
    }
    let body = match tokio::time::timeout(
        s.options.body_timeout,
        read_capped(body, s.options.body_limit),
    )
    .await
    {
        Ok(Ok(Some(body))) => body,
        Ok(Ok(None)) => return s.refuse(ns, conn, None, Refused::new(Refusal::TooLarge)),
        Ok(Err(_)) | Err(_) => return s.refuse(ns, conn, None, Refused::new(Refusal::Malformed)),
    };

    match s.intake.leader().await {
        Leader::Here => {}
        Leader::Forward(_) | Leader::Unknown if headers.contains_key(FORWARDED_HEADER) => {
            return s.refuse(ns, conn, None, Refused::new(Refusal::NotLeader));
        }
        Leader::Forward(base) => return forward(&s, &base, ns, conn, &headers, body).await,
        Leader::Unknown => return s.refuse(ns, conn, None, Refused::new(Refusal::NotLeader)),
    }

    let Some(keys) = s.intake.keys(ns, conn).await.filter(|k| !k.keys.is_empty()) else {
        return s.refuse(ns, conn, None, Refused::new(Refusal::UnknownConnection));
    };
    let vendor = keys.vendor;
    let refuse = |r: Refusal| s.refuse(ns, conn, Some(vendor), Refused::for_vendor(r, vendor));

    // The signature, on the raw bytes.
    let lever = match vendor {
        VendorKind::Greenhouse => {
            verify::greenhouse(&keys.keys, header_str(&headers, "signature"), &body).map(|()| None)
        }
        VendorKind::Workable => verify::workable(
            &keys.keys,
            header_str(&headers, "x-workable-signature"),
            &body,
        )
        .map(|()| None),
        VendorKind::Lever => verify::lever_signed(&body)
            .and_then(|signed| verify::lever(&keys.keys, &signed).map(|()| Some(signed))),
        VendorKind::Ashby | VendorKind::SmartRecruiters => Err(Refusal::UnknownConnection),
    };
    let lever = match lever {
        Ok(l) => l,
        Err(r) => return refuse(r),
    };

    let delivery = match parse::delivery(
        vendor,
        header_str(&headers, "greenhouse-event-id"),
        &body,
        Utc::now(),
    ) {
        Ok(d) => d,
        Err(r) => return refuse(r),
    };
    if delivery.event.kind == EventKind::Ping {
        return (StatusCode::OK, axum::Json(json!({"status": "pong"}))).into_response();
    }

    if let Some(signed) = &lever {
        if let Err(r) = verify::lever_fresh(signed.triggered_at, Utc::now(), s.options.lever_window)
        {
            return refuse(r);
        }
        if s.seen
            .verdict(ns, conn, &signed.token, &delivery.body_sha256)
            == ReplayVerdict::Replayed
        {
            return refuse(Refusal::Replayed);
        }
    }

    let id = delivery.id.clone();
    let body_sha = delivery.body_sha256.clone();
    match s.intake.accept(ns, conn, delivery).await {
        Ok(new) => {
            if let Some(signed) = &lever {
                s.seen.remember(ns, conn, &signed.token, &body_sha);
            }
            let answer = json!({"status": "accepted", "deliveryId": id, "duplicate": !new});
            (accepted_status(vendor), axum::Json(answer)).into_response()
        }
        Err(r) => refuse(r),
    }
}

/// The status of an accepted (or duplicate) delivery: 202, except where the
/// vendor counts anything but 200 as a failure and would retry a delivery
/// already recorded — Greenhouse ("a non HTTP 200 response" is retried 6
/// times over 15 hours) and Workable ("response status should be 200").
/// Lever retries only non-2xx.
pub fn accepted_status(vendor: VendorKind) -> StatusCode {
    match vendor {
        VendorKind::Greenhouse | VendorKind::Workable => StatusCode::OK,
        VendorKind::Lever | VendorKind::Ashby | VendorKind::SmartRecruiters => StatusCode::ACCEPTED,
    }
}

/// A 404 for a path that cannot name a connection: not logged or counted by
/// its names (they are arbitrary input).
fn refusal_without_names(refusal: Refusal) -> Response {
    tracing::debug!(
        reason = refusal.as_str(),
        "webhook for a path that is no connection"
    );
    let status = StatusCode::from_u16(refusal.status()).unwrap_or(StatusCode::NOT_FOUND);
    let body = json!({"reason": refusal.as_str(), "message": message(refusal, None)});
    (status, axum::Json(body)).into_response()
}

/// Hands the raw request to the leader and relays its answer.
async fn forward(
    s: &Shared,
    base: &url::Url,
    ns: &str,
    conn: &str,
    headers: &HeaderMap,
    body: Vec<u8>,
) -> Response {
    let mut url = base.clone();
    match url.path_segments_mut() {
        Ok(mut segments) => {
            segments.pop_if_empty().extend(["webhooks", ns, conn]);
        }
        Err(()) => return s.refuse(ns, conn, None, Refused::new(Refusal::NotLeader)),
    }
    let mut request = s.client.post(url).body(body).header(FORWARDED_HEADER, "1");
    for name in FORWARDED_HEADERS {
        if let Some(v) = headers.get(name) {
            request = request.header(name, v.clone());
        }
    }
    let relayed = async {
        let answer = request.send().await?;
        let status = answer.status().as_u16();
        let retry_after = answer.headers().get(header::RETRY_AFTER).cloned();
        let content_type = answer.headers().get(header::CONTENT_TYPE).cloned();
        let mut answer = answer;
        let mut bytes = Vec::new();
        while let Some(chunk) = answer.chunk().await? {
            let room = RELAYED_LIMIT.saturating_sub(bytes.len());
            bytes.extend_from_slice(&chunk[..chunk.len().min(room)]);
        }
        Ok::<_, reqwest::Error>((status, retry_after, content_type, bytes))
    };
    match relayed.await {
        Ok((status, retry_after, content_type, bytes)) => {
            let Ok(status) = StatusCode::from_u16(status) else {
                return s.refuse(ns, conn, None, Refused::new(Refusal::NotLeader));
            };
            let mut response = (status, bytes).into_response();
            let h = response.headers_mut();
            for (name, value) in [
                (header::RETRY_AFTER, retry_after),
                (header::CONTENT_TYPE, content_type),
            ] {
                if let Some(v) = value {
                    h.insert(name, v);
                }
            }
            response
        }
        Err(e) => {
            // The error names the leader's address, never the body.
            tracing::warn!(namespace = ns, connection = conn, error = %e.without_url(), "forwarding a webhook to the leader failed");
            s.refuse(ns, conn, None, Refused::new(Refusal::NotLeader))
        }
    }
}

#[cfg(test)]
mod tests;
