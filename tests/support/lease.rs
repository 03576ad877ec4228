//! Who holds the operator's leader Lease. It uses nothing else in `support`,
//! so a bench can include it with `#[path = "../tests/support/lease.rs"] mod lease;`.

use k8s_openapi::api::coordination::v1::Lease;
use kube::{Api, Client};

/// The holder of the operator's Lease in `ns`, if any.
pub async fn lease_holder(client: &Client, ns: &str) -> Option<String> {
    lease_holder_named(client, ns, "ats-operator-leader").await
}

/// The holder of the Lease `name` in `ns` (a shard's: `ats-operator-leader-<shard>`).
pub async fn lease_holder_named(client: &Client, ns: &str, name: &str) -> Option<String> {
    Api::<Lease>::namespaced(client.clone(), ns)
        .get_opt(name)
        .await
        .ok()
        .flatten()
        .and_then(|l| l.spec)
        .and_then(|s| s.holder_identity)
        .filter(|h| !h.is_empty())
}
