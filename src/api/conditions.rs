//! Conditions in the `metav1.Condition` shape, so `kubectl wait --for=condition=Ready`
//! and Argo CD's health checks read them.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

pub const READY: &str = "Ready";
pub const SYNCED: &str = "Synced";
pub const STALLED: &str = "Stalled";

/// Reasons, CamelCase as Kubernetes expects.
pub mod reason {
    pub const SYNCED: &str = "Synced";
    pub const SYNCING: &str = "Syncing";
    pub const PENDING: &str = "Pending";
    pub const SUSPENDED: &str = "Suspended";
    pub const VALID: &str = "Valid";
    pub const SECRET_NOT_FOUND: &str = "SecretNotFound";
    pub const SECRET_NOT_ALLOWED: &str = "SecretNotAllowed";
    pub const ENDPOINT_NOT_ALLOWED: &str = "EndpointNotAllowed";
    pub const AUTH_FAILED: &str = "AuthFailed";
    pub const FORBIDDEN: &str = "Forbidden";
    pub const RATE_LIMITED: &str = "RateLimited";
    pub const VENDOR_UNAVAILABLE: &str = "VendorUnavailable";
    pub const VENDOR_ERROR: &str = "VendorError";
    pub const INVALID_SPEC: &str = "InvalidSpec";
    pub const REFERENCE_NOT_FOUND: &str = "ReferenceNotFound";
    pub const REAUTHORIZATION_REQUIRED: &str = "ReauthorizationRequired";
    pub const LEDGER_ERROR: &str = "LedgerError";
    pub const NO_PROBLEM: &str = "NoProblem";
    pub const SUSPICIOUS_DELETIONS: &str = "SuspiciousDeletions";
    pub const WRITES_FAILING: &str = "WritesFailing";
    pub const WRITE_ABANDONED: &str = "WriteAbandoned";
    pub const WORKER_FAILED: &str = "WorkerFailed";
    pub const OVERDUE: &str = "Overdue";
    /// A job whose text states no requirement the scorer can read.
    pub const NO_REQUIREMENTS_FOUND: &str = "NoRequirementsFound";
    /// A sharded replica's sync whose connection or profile is in another shard.
    pub const SHARD_MISMATCH: &str = "ShardMismatch";
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Condition {
    #[serde(rename = "type")]
    pub type_: String,
    /// `True`, `False` or `Unknown`.
    pub status: String,
    pub reason: String,
    pub message: String,
    pub last_transition_time: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,
}

impl Condition {
    /// An empty message becomes the reason: server-side apply on older API servers
    /// turns `""` into `null`, which the schema rejects.
    pub fn new(type_: &str, status: bool, reason: &str, message: impl Into<String>) -> Self {
        let message = message.into();
        let message = if message.is_empty() {
            reason.to_string()
        } else {
            message
        };
        Condition {
            type_: type_.to_string(),
            status: if status { "True" } else { "False" }.to_string(),
            reason: reason.to_string(),
            message,
            last_transition_time: String::new(),
            observed_generation: None,
        }
    }

    pub fn is_true(&self) -> bool {
        self.status == "True"
    }
}

/// Merges `desired` into `previous`: a condition whose status did not change keeps its
/// `lastTransitionTime`, so re-applying the same state writes nothing new.
pub fn merge(
    previous: &[Condition],
    desired: Vec<Condition>,
    now: &str,
    generation: Option<i64>,
) -> Vec<Condition> {
    desired
        .into_iter()
        .map(|mut c| {
            c.observed_generation = generation;
            c.last_transition_time = match previous.iter().find(|p| p.type_ == c.type_) {
                Some(p) if p.status == c.status && !p.last_transition_time.is_empty() => {
                    p.last_transition_time.clone()
                }
                _ => now.to_string(),
            };
            c
        })
        .collect()
}

pub fn find<'a>(conditions: &'a [Condition], type_: &str) -> Option<&'a Condition> {
    conditions.iter().find(|c| c.type_ == type_)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unchanged_status_keeps_transition_time() {
        // Ready at `now`, merged into `prev`.
        let ready =
            |prev: &[Condition], ok: bool, why: &str, message: &str, now: &str, generation| {
                merge(
                    prev,
                    vec![Condition::new(READY, ok, why, message)],
                    now,
                    Some(generation),
                )
            };
        let prev = ready(&[], true, reason::SYNCED, "ok", "t1", 1);
        let next = ready(&prev, true, reason::SYNCED, "still ok", "t2", 2);
        assert_eq!(next[0].last_transition_time, "t1");
        assert_eq!(next[0].observed_generation, Some(2));
        let flipped = ready(&next, false, reason::AUTH_FAILED, "no", "t3", 2);
        assert_eq!(flipped[0].last_transition_time, "t3");
    }
}
