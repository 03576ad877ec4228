//! Leader election on a `coordination.k8s.io/v1` Lease, with a write fence.
//!
//! Acquiring and renewing the Lease is `kube-lease-manager`'s job (a kept crate
//! for kube 5: server-side apply on the Lease, conflict backoff, release on
//! shutdown). What it does not offer is a renew deadline: when renewals fail it
//! retries with backoff and keeps saying "leader". So this module reads the
//! Lease itself every `retry_period` and opens the [`Fence`] only as long as a
//! renewal it has seen is younger than `renew_deadline`, well inside the lease
//! duration. A leader cut off from the API server therefore stops every write
//! before its Lease can expire and a standby take over.

use std::future::Future;
use std::time::Duration;

use chrono::Utc;
use k8s_openapi::api::coordination::v1::Lease;
use kube::Client;
use kube::api::Api;
use kube_lease_manager::LeaseManagerBuilder;
use tokio::sync::watch;
use tokio::time::Instant;
use tracing::{info, warn};

use crate::sync::fence::Fence;

#[derive(Clone, Debug)]
pub struct LeaderConfig {
    pub lease_name: String,
    pub namespace: String,
    /// This replica's identity (the Pod name).
    pub identity: String,
    /// How long a Lease holds without renewal (a standby takes over after it).
    pub lease_duration: Duration,
    /// Writes stop when no renewal was seen for this long.
    pub renew_deadline: Duration,
    /// How often the Lease is read to confirm the renewals.
    pub retry_period: Duration,
    /// Where standbys forward webhook deliveries to this replica while it
    /// leads (`http://POD_IP:PORT`), published on the Lease as
    /// [`WEBHOOK_ADDRESS_ANNOTATION`] (`<identity> <address>`); `None`: not published.
    pub advertise: Option<String>,
}

/// The Lease annotation naming the leader's webhook address.
pub const WEBHOOK_ADDRESS_ANNOTATION: &str = "ats.dev/webhook-address";

impl LeaderConfig {
    pub fn new(lease_name: String, namespace: String, identity: String) -> Self {
        LeaderConfig {
            lease_name,
            namespace,
            identity,
            lease_duration: Duration::from_secs(15),
            renew_deadline: Duration::from_secs(10),
            retry_period: Duration::from_secs(1),
            advertise: None,
        }
    }

    /// Checks the timing: the renew deadline must leave room for renewals and
    /// end before the Lease expires.
    pub fn validate(&self) -> Result<(), String> {
        let (d, r) = (self.lease_duration, self.renew_deadline);
        if d < Duration::from_secs(2) || r < Duration::from_secs(1) || r >= d {
            return Err(format!(
                "leader election: --renew-deadline ({r:?}) must be at least 1s and shorter than \
                 --lease-duration ({d:?}, at least 2s)"
            ));
        }
        Ok(())
    }

    /// The crate renews `grace` before expiry: at half the renew deadline, so
    /// one failed renewal still leaves time for another before writes stop.
    fn grace_secs(&self) -> u64 {
        let renew_at = (self.renew_deadline / 2).max(Duration::from_secs(1));
        self.lease_duration
            .saturating_sub(renew_at)
            .as_secs()
            .max(1)
    }
}

/// Publishes this leader's webhook address on the Lease (a merge patch of one
/// annotation: the lease manager applies only the spec). A failure is logged:
/// standbys then answer 503 and the vendors retry.
async fn advertise(api: &Api<Lease>, cfg: &LeaderConfig, addr: &str) {
    // The holder's identity goes with the address: a new leader's standbys
    // never forward to the previous one's.
    let value = format!("{} {addr}", cfg.identity);
    let patch =
        serde_json::json!({"metadata": {"annotations": {WEBHOOK_ADDRESS_ANNOTATION: value}}});
    if let Err(e) = api
        .patch(
            &cfg.lease_name,
            &kube::api::PatchParams::default(),
            &kube::api::Patch::Merge(&patch),
        )
        .await
    {
        warn!(error = %e, "could not publish the webhook address on the Lease; standbys answer 503");
    }
}

/// Pure: where a standby forwards deliveries, from the Lease as read: the
/// holder's published address, unless the holder is this replica.
pub fn forward_address(lease: &Lease, identity: &str) -> Option<String> {
    let holder = lease.spec.as_ref()?.holder_identity.as_deref()?;
    if holder == identity {
        return None;
    }
    let value = lease
        .metadata
        .annotations
        .as_ref()?
        .get(WEBHOOK_ADDRESS_ANNOTATION)?;
    let (who, addr) = value.split_once(' ')?;
    (who == holder && (addr.starts_with("http://") || addr.starts_with("https://")))
        .then(|| addr.to_string())
}

/// Pure: how much longer the fence may stay open, given the Lease as read:
/// held by us and renewed `renew_age` ago.
pub fn fence_window(
    holder: Option<&str>,
    identity: &str,
    renew_age: Option<Duration>,
    renew_deadline: Duration,
) -> Option<Duration> {
    if holder != Some(identity) {
        return None;
    }
    renew_deadline
        .checked_sub(renew_age?)
        .filter(|w| !w.is_zero())
}

/// Reads the Lease once and moves the fence; false when it is not ours.
async fn confirm(api: &Api<Lease>, cfg: &LeaderConfig, fence: &Fence) -> bool {
    let started = Instant::now();
    let lease = match api.get_opt(&cfg.lease_name).await {
        Ok(l) => l,
        Err(e) => {
            // The fence closes by itself if this goes on.
            warn!(error = %e, "could not read the leader Lease");
            return true;
        }
    };
    let spec = lease.and_then(|l| l.spec);
    let holder = spec.as_ref().and_then(|s| s.holder_identity.clone());
    let age = spec.as_ref().and_then(|s| s.renew_time.as_ref()).map(|t| {
        let ms = Utc::now().timestamp_millis() - t.0.as_millisecond();
        Duration::from_millis(ms.max(0) as u64)
    });
    match fence_window(holder.as_deref(), &cfg.identity, age, cfg.renew_deadline) {
        Some(w) => {
            fence.extend_until(started + w);
            true
        }
        None => {
            fence.close();
            holder.is_none_or(|h| h == cfg.identity)
        }
    }
}

/// Resolves once the Lease has no holder: a leader released it on its way
/// out. The crate's standby sleeps until the old term would have expired;
/// this reads the Lease every `retry_period` so a standby takes over at once.
async fn until_free(api: &Api<Lease>, cfg: &LeaderConfig) {
    loop {
        tokio::time::sleep(cfg.retry_period).await;
        if let Ok(Some(lease)) = api.get_opt(&cfg.lease_name).await {
            let holder = lease.spec.and_then(|s| s.holder_identity);
            if holder.is_none_or(|h| h.is_empty()) {
                return;
            }
        }
    }
}

/// Runs `lead` whenever this replica holds the Lease, until `shutdown` says
/// stop. `lead` gets the fence and a future that resolves when leadership is
/// lost (or shutdown begins); it must stop its work then and return. Between
/// terms the replica stands by. On shutdown the Lease is released, so a
/// standby takes over without waiting for it to expire.
pub async fn run_elected<F, Fut>(
    client: Client,
    cfg: LeaderConfig,
    mut shutdown: watch::Receiver<bool>,
    mut lead: F,
) where
    F: FnMut(Fence, std::pin::Pin<Box<dyn Future<Output = ()> + Send>>) -> Fut,
    Fut: Future<Output = ()>,
{
    let api: Api<Lease> = Api::namespaced(client.clone(), &cfg.namespace);
    while !*shutdown.borrow() {
        let manager = LeaseManagerBuilder::new(client.clone(), &cfg.lease_name)
            .with_namespace(&cfg.namespace)
            .with_identity(&cfg.identity)
            .with_duration(cfg.lease_duration.as_secs())
            .with_grace(cfg.grace_secs())
            .with_field_manager(format!("ats-operator-{}", cfg.identity))
            .build()
            .await;
        let manager = match manager {
            Ok(m) => m,
            Err(e) => {
                warn!(error = %e, lease = %cfg.lease_name, "leader election: cannot use the Lease; retrying");
                tokio::select! {
                    _ = tokio::time::sleep(Duration::from_secs(2)) => continue,
                    _ = shutdown.wait_for(|s| *s) => return,
                }
            }
        };
        let (mut leader, task) = manager.watch().await;
        info!(lease = %cfg.lease_name, identity = %cfg.identity, "standing by for leadership");
        let fence = Fence::closed();
        let won = tokio::select! {
            r = leader.wait_for(|l| *l) => r.is_ok(),
            _ = shutdown.wait_for(|s| *s) => false,
            // Released: stand by anew, which takes it at once.
            _ = until_free(&api, &cfg) => false,
        };
        if won {
            // Open the fence only on a renewal we have seen.
            let mut ours = confirm(&api, &cfg, &fence).await;
            while ours && !fence.held() && !*shutdown.borrow() {
                tokio::time::sleep(Duration::from_millis(200)).await;
                ours = confirm(&api, &cfg, &fence).await;
            }
            if fence.held() {
                info!(identity = %cfg.identity, "became the leader");
                if let Some(addr) = &cfg.advertise {
                    advertise(&api, &cfg, addr).await;
                }
                let (lost_tx, lost_rx) = watch::channel(false);
                let watchdog = {
                    let (api, cfg, fence) = (api.clone(), cfg.clone(), fence.clone());
                    let mut leader = leader.clone();
                    tokio::spawn(async move {
                        loop {
                            tokio::select! {
                                _ = tokio::time::sleep(cfg.retry_period) => {}
                                r = leader.wait_for(|l| !*l) => { let _ = r; break; }
                            }
                            if !confirm(&api, &cfg, &fence).await || !fence.held() {
                                break;
                            }
                        }
                        fence.close();
                        let _ = lost_tx.send(true);
                    })
                };
                let stop = {
                    let mut shutdown = shutdown.clone();
                    let mut lost = lost_rx.clone();
                    Box::pin(async move {
                        tokio::select! {
                            _ = shutdown.wait_for(|s| *s) => {}
                            _ = lost.wait_for(|l| *l) => {}
                        }
                    })
                };
                lead(fence.clone(), stop).await;
                watchdog.abort();
                fence.close();
                if !*shutdown.borrow() {
                    warn!(identity = %cfg.identity, "lost leadership; writes stopped, standing by");
                }
            }
        }
        // Closing the channel makes the manager release the Lease and end.
        drop(leader);
        match tokio::time::timeout(Duration::from_secs(5), task).await {
            Ok(Ok(Ok(_))) if won => info!("leader Lease released"),
            Ok(Ok(Ok(_))) => {}
            Ok(Ok(Err(e))) => warn!(error = %e, "could not release the leader Lease"),
            _ => warn!("the leader Lease manager did not stop in time"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_fence_follows_seen_renewals() {
        let d = Duration::from_secs(10);
        let s = Duration::from_secs;
        assert_eq!(fence_window(Some("me"), "me", Some(s(3)), d), Some(s(7)));
        assert_eq!(fence_window(Some("me"), "me", Some(s(10)), d), None);
        assert_eq!(fence_window(Some("me"), "me", Some(s(60)), d), None);
        assert_eq!(fence_window(Some("other"), "me", Some(s(1)), d), None);
        assert_eq!(fence_window(None, "me", Some(s(1)), d), None);
        assert_eq!(fence_window(Some("me"), "me", None, d), None);
    }

    #[test]
    fn timing_is_checked_and_renewals_come_at_half_the_deadline() {
        let mut c = LeaderConfig::new("l".into(), "ns".into(), "me".into());
        assert!(c.validate().is_ok());
        // 15 s lease, renewed 10 s before expiry: every 5 s.
        assert_eq!(c.grace_secs(), 10);
        c.renew_deadline = Duration::from_secs(15);
        assert!(c.validate().is_err());
    }

    #[test]
    fn standbys_forward_only_to_the_current_holders_address() {
        let lease = |holder: &str, ann: Option<&str>| {
            let mut l = Lease {
                spec: Some(k8s_openapi::api::coordination::v1::LeaseSpec {
                    holder_identity: Some(holder.into()),
                    ..Default::default()
                }),
                ..Default::default()
            };
            if let Some(a) = ann {
                l.metadata.annotations =
                    Some([(WEBHOOK_ADDRESS_ANNOTATION.to_string(), a.to_string())].into());
            }
            l
        };
        let l = lease("pod-a", Some("pod-a http://10.0.0.5:8080"));
        assert_eq!(
            forward_address(&l, "pod-b").as_deref(),
            Some("http://10.0.0.5:8080")
        );
        // The leader itself, a stale annotation of the previous leader, none, or junk.
        assert_eq!(forward_address(&l, "pod-a"), None);
        let stale = lease("pod-c", Some("pod-a http://10.0.0.5:8080"));
        assert_eq!(forward_address(&stale, "pod-b"), None);
        assert_eq!(forward_address(&lease("pod-a", None), "pod-b"), None);
        let junk = lease("pod-a", Some("pod-a file:///etc/passwd"));
        assert_eq!(forward_address(&junk, "pod-b"), None);
    }
}
