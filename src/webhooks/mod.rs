//! Signed vendor webhooks: `POST /webhooks/{namespace}/{connection}` on the
//! operator's HTTP port. A delivery is verified on its raw bytes, parsed into
//! a [`Delivery`], recorded in the ledger (deduplicated by its id) before the
//! 202, and processed by the tenant's sync worker, which fetches the
//! application, scores it and writes back exactly once.
//!
//! This module holds the vendor-neutral event model; `verify` (signatures),
//! `parse` (payloads) and `route` (the HTTP answers) build on it.

pub mod parse;
pub mod route;
pub mod verify;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::model::VendorKind;

/// A verified delivery, as the ledger records it. Holds ids, times and
/// categories only: no personal data and nothing of the body.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Delivery {
    /// The vendor's delivery id: Greenhouse `Greenhouse-Event-ID`, Lever the
    /// body's `token`, Workable the sha256 of the body (it sends no id).
    pub id: String,
    pub vendor: VendorKind,
    /// sha256 of the raw body (hex): a retry has the same; a replayed Lever
    /// token with another body does not.
    pub body_sha256: String,
    pub event: Event,
    pub received_at: DateTime<Utc>,
}

/// What a delivery says happened.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Event {
    /// The vendor's event name (`candidate_stage_change`, `candidateArchiveChange`...).
    pub name: String,
    pub kind: EventKind,
    /// The applications concerned (Greenhouse application, Lever
    /// opportunity, Workable candidate): usually one; `delete_candidate`
    /// lists every application of the person.
    pub application_ids: Vec<String>,
    pub candidate_id: Option<String>,
    /// When it happened, by the vendor's clock (orders deliveries of one
    /// application that arrive out of order).
    pub occurred_at: Option<DateTime<Utc>>,
    /// For stage changes and rejections: what the recruiter decided.
    pub outcome: Option<Outcome>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum EventKind {
    /// Greenhouse's `ping` on webhook creation: answered, not recorded.
    Ping,
    /// A new or changed application: fetch, score, write back.
    ApplicationChanged,
    /// A recruiter's decision (stage change, rejection, hire): recorded as an
    /// outcome beside the score, and the application is re-scored if changed.
    Outcome,
    /// The applications were deleted, or the candidate deleted or anonymized:
    /// what the operator holds about them is erased.
    Erased,
    /// An event the operator does not act on (job events, offers...):
    /// accepted (so the vendor does not retry) and counted, nothing else.
    Ignored,
}

/// A recruiter's decision, as categories (free-text reasons are not kept).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Outcome {
    pub category: OutcomeCategory,
    /// The stage moved to, by the vendor's id or name (no personal data).
    pub stage: Option<String>,
    /// The rejection/archive reason's category: `rejected` (by the company),
    /// `withdrew` (by the candidate), `other`, or none.
    pub reason_category: Option<String>,
    /// The vendor's reason id when the event carries only that (Lever): the
    /// worker looks the reason up and sets `reason_category` (or, for a
    /// reason of type hired, the category) before recording. Not recorded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason_id: Option<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum OutcomeCategory {
    Advanced,
    Rejected,
    Unrejected,
    Hired,
}

impl OutcomeCategory {
    pub fn as_str(self) -> &'static str {
        match self {
            OutcomeCategory::Advanced => "advanced",
            OutcomeCategory::Rejected => "rejected",
            OutcomeCategory::Unrejected => "unrejected",
            OutcomeCategory::Hired => "hired",
        }
    }
}

/// Why a delivery was refused: the HTTP status and the `reason` of the JSON
/// body, and the label of the refused-deliveries metric.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Refusal {
    /// 401: no signature where the vendor sends one.
    MissingSignature,
    /// 401: the signature does not match.
    BadSignature,
    /// 401: a Lever token seen before with another body.
    Replayed,
    /// 401: a Lever `triggeredAt` outside the window.
    Stale,
    /// 404: no such connection (or no webhook secret for it).
    UnknownConnection,
    /// 400: not the JSON the vendor sends.
    Malformed,
    /// 413: above the body limit.
    TooLarge,
    /// 503: the tenant's queue is full; the vendor retries.
    QueueFull,
    /// 503: this replica is not the leader and could not forward.
    NotLeader,
}

impl Refusal {
    pub fn status(self) -> u16 {
        match self {
            Refusal::MissingSignature
            | Refusal::BadSignature
            | Refusal::Replayed
            | Refusal::Stale => 401,
            Refusal::UnknownConnection => 404,
            Refusal::Malformed => 400,
            Refusal::TooLarge => 413,
            Refusal::QueueFull | Refusal::NotLeader => 503,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Refusal::MissingSignature => "MissingSignature",
            Refusal::BadSignature => "BadSignature",
            Refusal::Replayed => "Replayed",
            Refusal::Stale => "Stale",
            Refusal::UnknownConnection => "UnknownConnection",
            Refusal::Malformed => "Malformed",
            Refusal::TooLarge => "TooLarge",
            Refusal::QueueFull => "QueueFull",
            Refusal::NotLeader => "NotLeader",
        }
    }
}
