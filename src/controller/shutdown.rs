//! Stopping within Kubernetes' termination grace period (30 s by default):
//! the controllers take no new work and get [`RECONCILE_GRACE`] for the
//! reconciles in flight; then every worker stops at once, each finishing the
//! writes it already sent (`sync::worker::WRITE_GRACE`); then leadership
//! releases the Lease (`leadership::run_elected`), so a standby takes over
//! at once instead of after the Lease expires. At most about 5 + 12 + 5 s.

use std::future::Future;
use std::time::Duration;

use tracing::{info, warn};

use crate::sync::worker::WorkerHandle;

/// How long the reconciles in flight may take once shutdown begins (a
/// credential check waiting on a vendor's rate limit is dropped after it).
pub const RECONCILE_GRACE: Duration = Duration::from_secs(5);

/// Runs `controllers` until they end, or until [`RECONCILE_GRACE`] after
/// `stopping` resolves (then drops them, cancelling what is in flight).
pub async fn bounded(controllers: impl Future<Output = ()>, stopping: impl Future<Output = ()>) {
    let deadline = async {
        stopping.await;
        tokio::time::sleep(RECONCILE_GRACE).await;
    };
    tokio::select! {
        _ = controllers => {}
        _ = deadline => warn!("reconciles still running at shutdown; left unfinished"),
    }
}

/// Stops every worker at once (one after another, their grace periods
/// would add up) and waits for them.
pub async fn stop_workers(workers: Vec<WorkerHandle>) {
    let n = workers.len();
    for w in &workers {
        w.signal_stop();
    }
    futures::future::join_all(workers.into_iter().map(WorkerHandle::stop)).await;
    if n > 0 {
        info!(workers = n, "sync workers stopped");
    }
}
