//! Connections and sync specs for vendor sandboxes on loopback, for the tests
//! and benches that run a client or the pipeline without the operator.
//!
//! It uses nothing else in `support`, so a bench can include it with
//! `#[path = "../tests/support/spec.rs"] mod spec;`.
#![allow(dead_code)]

use ats_operator::api::{LabelPolicy, ScoringProfileSpec, WriteBackSpec};
use ats_operator::model::{JobStatus, VendorKind};
use ats_operator::sync::{Schedule, SyncKey, SyncSpec};
use ats_operator::vendors::guard::EndpointPolicy;
use ats_operator::vendors::{ConnectionConfig, PullScope, SecretValue};
use serde_json::Value;

/// A connection to `vendor` with no URLs or credentials yet; private
/// (loopback) endpoints allowed, since the sandboxes listen there.
pub fn loopback(vendor: VendorKind) -> ConnectionConfig {
    ConnectionConfig {
        vendor,
        base_url: None,
        token_url: None,
        subdomain: None,
        credentials: Default::default(),
        sub: None,
        rate_limit: None,
        endpoints: EndpointPolicy::AllowPrivate,
        download_hosts: Vec::new(),
    }
}

/// The connection a sandbox's `/_sandbox/credentials` (`creds`) describes,
/// with the entries of its `secret` named in `keys`.
pub fn described(vendor: VendorKind, creds: &Value, keys: &[&str]) -> ConnectionConfig {
    let c = &creds["connection"];
    let s = |v: &Value| v.as_str().map(str::to_string);
    ConnectionConfig {
        base_url: s(&c["baseUrl"]),
        token_url: s(&c["tokenUrl"]),
        subdomain: s(&c["subdomain"]),
        sub: s(&c["sub"]),
        credentials: keys
            .iter()
            .map(|k| {
                let v = creds["secret"][*k].as_str().expect("credential");
                (k.to_string(), SecretValue::new(v))
            })
            .collect(),
        ..loopback(vendor)
    }
}

/// The Greenhouse sandbox at `base`, with the client credentials of its
/// `/_sandbox/credentials` (`client_id`, `client_secret`).
pub fn greenhouse(base: &str, creds: &Value) -> ConnectionConfig {
    let secret = |k: &str| SecretValue::new(creds[k].as_str().expect("client credential"));
    ConnectionConfig {
        base_url: Some(base.to_string()),
        token_url: Some(format!("{base}/token")),
        credentials: [
            ("clientId".to_string(), secret("client_id")),
            ("clientSecret".to_string(), secret("client_secret")),
        ]
        .into(),
        ..loopback(VendorKind::Greenhouse)
    }
}

/// The sync `namespace/name` over `connection`, of the jobs in `job_statuses`:
/// the default profile (named `profile`), default write-back, every 15
/// minutes, a full sync daily.
pub fn sync(
    connection: ConnectionConfig,
    (namespace, name): (&str, &str),
    profile: &str,
    job_statuses: Vec<JobStatus>,
) -> SyncSpec {
    SyncSpec {
        key: SyncKey {
            namespace: namespace.into(),
            name: name.into(),
        },
        connection,
        schedule: Schedule::parse("15m").expect("schedule"),
        scope: PullScope {
            job_statuses,
            job_ids: vec![],
        },
        write_back: WriteBackSpec::default(),
        // Labels without an audit, as before audits gated them.
        profile: ScoringProfileSpec {
            labels: LabelPolicy::Always,
            ..ScoringProfileSpec::default()
        },
        profile_identity: format!("{profile}/1"),
        profile_name: profile.into(),
        profile_generation: 1,
        deletion_guard_percent: 20,
        full_sync_every: std::time::Duration::from_secs(86_400),
        labels_allowed: true,
    }
}
