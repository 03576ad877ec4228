//! A standby's readiness check (see [`crate::http::health`]): it could take
//! over when it can read the leader Lease and list each kind its controllers
//! will watch, in its scope and shard (the same selector). Retried until it passes, then ready
//! whenever it is not leading.

use std::sync::Arc;
use std::time::Duration;

use k8s_openapi::api::coordination::v1::Lease;
use kube::Client;
use kube::api::{Api, ListParams};
use serde::de::DeserializeOwned;
use tracing::{info, warn};

use super::Options;
use super::leadership::LeaderConfig;
use crate::api::{AtsConnection, AtsSync, ScoringProfile};
use crate::http::health::Health;

/// How often a failed check is tried again.
const RETRY: Duration = Duration::from_secs(2);

/// Lists one object of `K` in scope: proves the watch's list would pass.
async fn can_list<K>(client: &Client, opts: &Options) -> Result<(), kube::Error>
where
    K: kube::Resource<Scope = k8s_openapi::NamespaceResourceScope>
        + Clone
        + DeserializeOwned
        + std::fmt::Debug,
    K::DynamicType: Default,
{
    let api: Api<K> = match &opts.namespace {
        Some(ns) => Api::namespaced(client.clone(), ns),
        None => Api::all(client.clone()),
    };
    let mut lp = ListParams::default().limit(1);
    if let Some(sel) = opts.selector() {
        lp = lp.labels(&sel);
    }
    api.list_metadata(&lp).await.map(drop)
}

/// One check: the Lease (absent is fine: the first leader creates it), then
/// the three kinds.
pub async fn check(
    client: &Client,
    opts: &Options,
    lease: &LeaderConfig,
) -> Result<(), kube::Error> {
    Api::<Lease>::namespaced(client.clone(), &lease.namespace)
        .get_opt(&lease.lease_name)
        .await?;
    can_list::<AtsConnection>(client, opts).await?;
    can_list::<ScoringProfile>(client, opts).await?;
    can_list::<AtsSync>(client, opts).await
}

/// Checks until the check passes, then tells `health`.
pub async fn run(client: Client, opts: Options, lease: LeaderConfig, health: Arc<Health>) {
    let mut warned = false;
    loop {
        match check(&client, &opts, &lease).await {
            Ok(()) => {
                info!("ready to take over: the leader Lease and the watched kinds are readable");
                health.can_stand_by();
                return;
            }
            Err(e) => {
                // Once as a warning; retries at debug level.
                if warned {
                    tracing::debug!(error = %e, "not ready to stand by yet; retrying");
                } else {
                    warn!(error = %e, "not ready to stand by yet; retrying");
                    warned = true;
                }
                tokio::time::sleep(RETRY).await;
            }
        }
    }
}
