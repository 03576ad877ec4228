//! The in-process worker of one `AtsSync`: runs the pipeline on its schedule, on
//! demand, and sooner after transient failures; reports each run to a [`Reporter`].

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use tokio::sync::{Notify, watch};
use tokio::task::JoinHandle;
use tracing::{Instrument, info, info_span, warn};

use super::pipeline::{self, RunReport, SyncError};
use super::{SyncKey, SyncSpec};
use crate::ledger::Ledger;
use crate::vendors;

/// How a run ended, for status and events.
#[derive(Debug)]
pub struct RunOutcome {
    pub started: DateTime<Utc>,
    pub finished: DateTime<Utc>,
    pub result: Result<RunReport, SyncError>,
    pub next_sync: DateTime<Utc>,
}

/// Where a worker reports; the controller turns reports into status and Events.
#[async_trait]
pub trait Reporter: Send + Sync {
    async fn run_started(&self, key: &SyncKey, at: DateTime<Utc>);
    async fn run_finished(&self, key: &SyncKey, outcome: RunOutcome);
}

pub struct WorkerHandle {
    /// Hash of the resolved spec (credentials included) the worker runs with.
    pub spec_hash: String,
    trigger: Arc<Notify>,
    stop: watch::Sender<bool>,
    join: JoinHandle<()>,
}

impl WorkerHandle {
    /// Asks for a sync now; a request during a run starts another right after it.
    pub fn trigger(&self) {
        self.trigger.notify_one();
    }

    /// Stops the worker and waits for it. A run in flight is abandoned; the ledger
    /// lets the next worker finish its writes exactly once.
    pub async fn stop(self) {
        let _ = self.stop.send(true);
        let mut join = self.join;
        if tokio::time::timeout(Duration::from_secs(10), &mut join)
            .await
            .is_err()
        {
            join.abort();
        }
    }
}

/// Backoff after consecutive transient failures: 15 s, 30 s, ... up to 10 min.
pub fn retry_delay(failures: u32) -> Duration {
    let secs = 15u64.saturating_mul(1u64 << failures.saturating_sub(1).min(6));
    Duration::from_secs(secs.min(600))
}

/// Pure: when the next run starts after a run that finished at `finished`.
pub fn next_run(
    spec: &SyncSpec,
    finished: DateTime<Utc>,
    transient_failures: u32,
) -> DateTime<Utc> {
    let scheduled = spec.schedule.next_after(finished);
    if transient_failures == 0 {
        return scheduled;
    }
    let retry = finished
        + chrono::Duration::from_std(retry_delay(transient_failures))
            .unwrap_or(chrono::Duration::minutes(1));
    retry.min(scheduled)
}

pub fn spawn(
    spec: SyncSpec,
    spec_hash: String,
    ledger: Arc<Ledger>,
    reporter: Arc<dyn Reporter>,
    store: Option<Arc<dyn vendors::CredentialStore>>,
) -> WorkerHandle {
    let trigger = Arc::new(Notify::new());
    let (stop, stop_rx) = watch::channel(false);
    let span = info_span!("worker", tenant = %spec.key.namespace, sync = %spec.key.name, vendor = %spec.connection.vendor);
    let join = tokio::spawn(
        run_loop(spec, ledger, reporter, store, trigger.clone(), stop_rx).instrument(span),
    );
    WorkerHandle {
        spec_hash,
        trigger,
        stop,
        join,
    }
}

async fn run_loop(
    spec: SyncSpec,
    ledger: Arc<Ledger>,
    reporter: Arc<dyn Reporter>,
    store: Option<Arc<dyn vendors::CredentialStore>>,
    trigger: Arc<Notify>,
    mut stop: watch::Receiver<bool>,
) {
    info!("worker started");
    let client = vendors::connect(&spec.connection, store);
    let mut transient_failures = 0u32;
    let mut next = Utc::now();
    loop {
        let wait = (next - Utc::now()).to_std().unwrap_or(Duration::ZERO);
        tokio::select! {
            _ = tokio::time::sleep(wait) => {}
            _ = trigger.notified() => {}
            _ = stop.changed() => break,
        }
        let started = Utc::now();
        reporter.run_started(&spec.key, started).await;
        let result = match &client {
            Ok(client) => {
                let run = pipeline::run_once(client.as_ref(), &ledger, &spec, started)
                    .instrument(info_span!("sync_run"));
                tokio::select! {
                    r = run => r,
                    _ = stop.changed() => break,
                }
            }
            Err(e) => Err(SyncError::Vendor(vendors::VendorError::Config(
                e.to_string(),
            ))),
        };
        let finished = Utc::now();
        match &result {
            Ok(r) => {
                transient_failures = 0;
                info!(
                    scored = r.counts.scored,
                    written = r.counts.written_back,
                    unchanged = r.counts.unchanged,
                    "sync finished"
                );
            }
            Err(SyncError::Vendor(e)) if e.is_transient() => {
                transient_failures += 1;
                warn!(error = %e, "sync failed; retrying with backoff");
            }
            Err(e) => {
                transient_failures = 0;
                warn!(error = %e, "sync failed");
            }
        }
        next = next_run(&spec, finished, transient_failures);
        reporter
            .run_finished(
                &spec.key,
                RunOutcome {
                    started,
                    finished,
                    result,
                    next_sync: next,
                },
            )
            .await;
    }
    info!("worker stopped");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_delay_grows_and_caps() {
        assert_eq!(retry_delay(1), Duration::from_secs(15));
        assert_eq!(retry_delay(2), Duration::from_secs(30));
        assert_eq!(retry_delay(20), Duration::from_secs(600));
    }
}
