//! Sync workers: pull, map, score, write back, record.

pub mod decide;
pub mod deliveries;
pub mod fence;
pub mod gate;
pub mod pipeline;
pub mod schedule;
pub mod targeted;
pub mod webhook_run;
pub mod worker;

use crate::api::{ScoringProfileSpec, WriteBackSpec};
use crate::vendors::{ConnectionConfig, PullScope};
pub use schedule::Schedule;

/// Identifies one `AtsSync`; also the ledger key, so a re-created sync keeps its
/// exactly-once history.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SyncKey {
    pub namespace: String,
    pub name: String,
}

impl SyncKey {
    pub fn ledger_key(&self) -> String {
        format!("{}/{}", self.namespace, self.name)
    }
}

impl std::fmt::Display for SyncKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.namespace, self.name)
    }
}

/// Everything a worker needs, resolved from the three resources and the Secret.
#[derive(Clone, Debug, PartialEq)]
pub struct SyncSpec {
    pub key: SyncKey,
    pub connection: ConnectionConfig,
    pub schedule: Schedule,
    pub scope: PullScope,
    pub write_back: WriteBackSpec,
    pub profile: ScoringProfileSpec,
    /// The profile's uid and generation: a new profile re-scores everything once.
    pub profile_identity: String,
    pub profile_name: String,
    pub profile_generation: i64,
    /// See `AtsSyncSpec::deletion_guard_percent`.
    pub deletion_guard_percent: u32,
    /// How often a full sync replaces the incremental one.
    pub full_sync_every: std::time::Duration,
    /// Band labels and the score field may be written: the profile says
    /// `labels: always`, or its last `BiasAudit` passed (see `decide::labels_allowed`).
    pub labels_allowed: bool,
}

impl SyncSpec {
    /// Where the data comes from; a change resets the watermark (full sync).
    pub fn source_identity(&self) -> String {
        let c = &self.connection;
        format!(
            "{}|{}|{}",
            c.vendor,
            c.base_url.as_deref().unwrap_or(""),
            c.subdomain.as_deref().unwrap_or("")
        )
    }
}
