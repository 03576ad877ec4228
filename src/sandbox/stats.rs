//! Request statistics, served by the control API.

use std::collections::BTreeMap;

use serde::Serialize;

/// Request counts, served by the control API.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Stats {
    /// By "METHOD /route/{template}".
    pub requests: BTreeMap<String, u64>,
    pub token_requests: u64,
    pub rate_limited: u64,
    pub faults_injected: u64,
    pub notes_created: u64,
    pub application_patches: u64,
    pub tags_applied: u64,
}

impl Stats {
    pub fn count_request(&mut self, key: String) {
        *self.requests.entry(key).or_default() += 1;
    }
}
