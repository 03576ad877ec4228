//! The in-process worker of one `AtsSync`: runs the pipeline on its schedule, on
//! demand, and sooner after transient failures; reports each run to a
//! [`Reporter`]. A supervisor restarts the worker with backoff when it panics.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use tokio::sync::{Notify, watch};
use tokio::task::JoinHandle;
use tracing::{Instrument, debug, error, info, info_span, warn};

use super::gate::{Gate, Priority};
use super::pipeline::{self, RunInput, RunReport, SyncError};
use super::{SyncKey, SyncSpec};
use crate::ledger::Ledger;
use crate::sync::fence::Fence;
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
    /// The worker panicked; it restarts after `restart_in`.
    async fn worker_failed(&self, key: &SyncKey, message: String, restart_in: Duration);
    /// Webhook deliveries were processed (or a drain failed).
    async fn deliveries_processed(
        &self,
        key: &SyncKey,
        result: &Result<super::webhook_run::DrainReport, SyncError>,
    ) {
        let _ = (key, result);
    }
}

/// What a worker shares with the rest of the operator.
#[derive(Clone)]
pub struct WorkerEnv {
    pub ledger: Arc<Ledger>,
    pub reporter: Arc<dyn Reporter>,
    pub store: Option<Arc<dyn vendors::CredentialStore>>,
    pub gate: Arc<Gate>,
    pub fence: Fence,
    /// The shared client of each vendor account.
    pub clients: Arc<vendors::registry::ClientRegistry>,
    /// The semantic component's model, when the operator has one.
    pub semantic: Option<Arc<crate::scoring::semantic::SemanticScorer>>,
    /// Signalled when webhook deliveries for this sync wait in the ledger.
    pub deliveries: Option<Arc<Notify>>,
}

/// When and how urgently the first run starts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FirstRun {
    pub at: DateTime<Utc>,
    pub priority: Priority,
}

pub struct WorkerHandle {
    /// Hash of the resolved spec (credentials aside) the worker runs with.
    pub spec_hash: String,
    creds_hash: String,
    creds: watch::Sender<std::collections::BTreeMap<String, vendors::SecretValue>>,
    trigger: Arc<Notify>,
    confirm: watch::Sender<Option<String>>,
    stop: watch::Sender<bool>,
    join: JoinHandle<()>,
}

impl WorkerHandle {
    /// Asks for a sync now; a request during a run starts another right after it.
    pub fn trigger(&self) {
        self.trigger.notify_one();
    }

    /// Hands new credentials to the worker (its client is rebuilt before the
    /// next run); false when they did not change.
    pub fn update_credentials(&mut self, spec: &SyncSpec) -> bool {
        let hash = crate::controller::resolve::credentials_hash(spec);
        if hash == self.creds_hash {
            return false;
        }
        self.creds_hash = hash;
        let _ = self.creds.send(spec.connection.credentials.clone());
        true
    }

    /// The `ats.dev/confirm-deletions` annotation, read at the next run.
    pub fn set_confirmation(&self, value: Option<String>) {
        self.confirm.send_if_modified(|v| {
            let changed = *v != value;
            *v = value;
            changed
        });
    }

    /// Asks the worker to stop: no new write starts, a pull in flight is left.
    pub fn signal_stop(&self) {
        let _ = self.stop.send(true);
    }

    /// Stops the worker and waits for it: the writes already sent finish
    /// (within [`WRITE_GRACE`]) and are recorded; a run's remaining work is
    /// abandoned, and the ledger lets the next worker finish its writes
    /// exactly once (a write cut off is checked in the ATS first).
    pub async fn stop(self) {
        self.signal_stop();
        let mut join = self.join;
        if tokio::time::timeout(WRITE_GRACE + Duration::from_secs(2), &mut join)
            .await
            .is_err()
        {
            join.abort();
        }
    }
}

/// How long a stopping worker waits for the writes it already sent (inside
/// Kubernetes' 30 s termination grace period, with the rest of shutdown).
pub const WRITE_GRACE: Duration = Duration::from_secs(10);

/// Backoff after consecutive transient failures: 15 s, 30 s, ... up to 10 min.
pub fn retry_delay(failures: u32) -> Duration {
    let secs = 15u64.saturating_mul(1u64 << failures.saturating_sub(1).min(6));
    Duration::from_secs(secs.min(600))
}

/// Backoff before restarting a worker that panicked: 1 s, 2 s, ... up to 5 min.
pub fn restart_delay(panics: u32) -> Duration {
    Duration::from_secs(1u64 << panics.saturating_sub(1).min(8)).min(Duration::from_secs(300))
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

/// Pure: the first run of a worker. A sync that ran before with the same
/// generation keeps its `nextSyncTime`, spread by a jitter of up to a tenth of
/// its interval (at most 10 s) so an operator restart does not start every
/// sync at once; a new or changed one runs now, before periodic refreshes.
pub fn first_run(
    key: &SyncKey,
    next_sync_time: Option<DateTime<Utc>>,
    unchanged: bool,
    interval: Duration,
    now: DateTime<Utc>,
) -> FirstRun {
    match next_sync_time {
        Some(next) if unchanged => {
            let span = (interval / 10).min(Duration::from_secs(10)).as_millis() as u64;
            let h = super::decide::hex_sha(&key.ledger_key());
            let bucket = u64::from_str_radix(&h[..8], 16).unwrap_or(0);
            let jitter = if span == 0 { 0 } else { bucket % span };
            FirstRun {
                at: next.max(now) + chrono::Duration::milliseconds(jitter as i64),
                priority: Priority::Periodic,
            }
        }
        _ => FirstRun {
            at: now,
            priority: Priority::Urgent,
        },
    }
}

pub fn spawn(
    spec: SyncSpec,
    spec_hash: String,
    env: WorkerEnv,
    first: FirstRun,
    history: bool,
) -> WorkerHandle {
    let trigger = Arc::new(Notify::new());
    let (stop, stop_rx) = watch::channel(false);
    let (confirm, confirm_rx) = watch::channel(None);
    let creds_hash = crate::controller::resolve::credentials_hash(&spec);
    let (creds, creds_rx) = watch::channel(spec.connection.credentials.clone());
    let span = info_span!("worker", tenant = %spec.key.namespace, sync = %spec.key.name, vendor = %spec.connection.vendor);
    let loop_ = Loop {
        spec: Arc::new(spec),
        env,
        trigger: trigger.clone(),
        stop: stop_rx,
        confirm: confirm_rx,
        creds: creds_rx,
        verify_before: history.then(Utc::now),
    };
    let join = tokio::spawn(supervise(loop_, first).instrument(span));
    WorkerHandle {
        spec_hash,
        creds_hash,
        creds,
        trigger,
        confirm,
        stop,
        join,
    }
}

#[derive(Clone)]
struct Loop {
    spec: Arc<SyncSpec>,
    env: WorkerEnv,
    trigger: Arc<Notify>,
    stop: watch::Receiver<bool>,
    confirm: watch::Receiver<Option<String>>,
    creds: watch::Receiver<std::collections::BTreeMap<String, vendors::SecretValue>>,
    verify_before: Option<DateTime<Utc>>,
}

/// Aborts the task when dropped, so stopping the supervisor stops the worker.
struct AbortOnDrop(JoinHandle<()>);
impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Runs the loop in a task of its own and restarts it, with backoff, when it panics.
async fn supervise(l: Loop, mut first: FirstRun) {
    let mut panics = 0u32;
    loop {
        let mut task = AbortOnDrop(tokio::spawn(run_loop(l.clone(), first).in_current_span()));
        match (&mut task.0).await {
            Ok(()) => return,
            Err(e) if e.is_panic() => {
                panics = panics.saturating_add(1);
                let message = panic_message(e.into_panic());
                let delay = restart_delay(panics);
                error!(%message, restart_in = ?delay, "sync worker panicked");
                l.env
                    .reporter
                    .worker_failed(&l.spec.key, message, delay)
                    .await;
                let mut stop = l.stop.clone();
                tokio::select! {
                    _ = tokio::time::sleep(delay) => {}
                    _ = stop.wait_for(|s| *s) => return,
                }
                first = FirstRun {
                    at: Utc::now(),
                    priority: Priority::Urgent,
                };
            }
            Err(_) => return,
        }
    }
}

fn panic_message(p: Box<dyn std::any::Any + Send>) -> String {
    let text = p
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| p.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".into());
    // Panic texts can quote data; keep status readable and short.
    format!(
        "the sync worker failed unexpectedly ({}); restarting",
        text.chars().take(200).collect::<String>()
    )
}

async fn run_loop(mut l: Loop, first: FirstRun) {
    info!("worker started");
    let _counted = crate::metrics::global().worker_running();
    let spec = l.spec.clone();
    let mut connection = spec.connection.clone();
    connection.credentials = l.creds.borrow_and_update().clone();
    let ns = spec.key.namespace.clone();
    let mut client = l.env.clients.client(&ns, &connection, l.env.store.clone());
    let mut transient_failures = 0u32;
    let mut next = first.at;
    let mut priority = first.priority;
    let deliveries = l.env.deliveries.clone();
    // Deliveries left pending by a failed drain are tried again after a
    // backoff: with a full queue no new delivery would signal them.
    let mut drain_failures = 0u32;
    // What a restart left between a delivery's 202 and its processing.
    if deliveries.is_some() && !drain_deliveries(&l, &spec, &client).await {
        drain_failures = 1;
    }
    loop {
        let wait = (next - Utc::now()).to_std().unwrap_or(Duration::ZERO);
        let retry_in = (drain_failures > 0).then(|| drain_retry_delay(drain_failures));
        let signalled = async {
            match (&deliveries, retry_in) {
                (Some(n), Some(d)) => {
                    tokio::select! {
                        _ = n.notified() => {}
                        _ = tokio::time::sleep(d) => {}
                    }
                }
                (Some(n), None) => n.notified().await,
                (None, _) => std::future::pending().await,
            }
        };
        tokio::select! {
            _ = tokio::time::sleep(wait) => {}
            _ = l.trigger.notified() => priority = Priority::Urgent,
            _ = signalled => {
                // Real time: no gate (a delivery is one application, and
                // must not queue behind other tenants' full syncs).
                if l.creds.has_changed().unwrap_or(false) {
                    connection.credentials = l.creds.borrow_and_update().clone();
                    client = l.env.clients.client(&ns, &connection, l.env.store.clone());
                }
                drain_failures = if drain_deliveries(&l, &spec, &client).await {
                    0
                } else {
                    drain_failures.saturating_add(1)
                };
                continue;
            }
            _ = l.stop.changed() => break,
        }
        let _permit = tokio::select! {
            p = l.env.gate.admit(priority) => p,
            _ = l.stop.changed() => break,
        };
        if l.creds.has_changed().unwrap_or(false) {
            connection.credentials = l.creds.borrow_and_update().clone();
            client = l.env.clients.client(&ns, &connection, l.env.store.clone());
            info!("credentials replaced; client rebuilt");
        }
        let started = Utc::now();
        let running = crate::metrics::global().run_in_progress();
        l.env.reporter.run_started(&spec.key, started).await;
        let input = RunInput {
            fence: l.env.fence.stopping(l.stop.clone()),
            verify_before: l.verify_before,
            confirmed_deletions: l.confirm.borrow().clone(),
            semantic: l.env.semantic.clone(),
        };
        let result = match &client {
            Ok(client) => {
                let run =
                    pipeline::run_once(client.as_ref(), &l.env.ledger, &spec, started, &input)
                        .instrument(info_span!("sync_run"));
                tokio::pin!(run);
                tokio::select! {
                    r = &mut run => r,
                    _ = l.stop.changed() => {
                        // The fence refuses new writes now; the run ends after
                        // recording those in flight, or is cut off.
                        if tokio::time::timeout(WRITE_GRACE, &mut run).await.is_err() {
                            warn!("writes still in flight at stop; left for the next run to check");
                        }
                        break;
                    }
                }
            }
            Err(e) => Err(SyncError::Vendor(e.again())),
        };
        let finished = Utc::now();
        drop(running);
        let took = (finished - started).to_std().unwrap_or_default();
        crate::metrics::global().sync_run(&spec, crate::metrics::RunResult::of(&result), took);
        priority = Priority::Periodic;
        match &result {
            Ok(r) => {
                transient_failures = 0;
                info!(
                    scored = r.counts.scored,
                    written = r.counts.written_back,
                    unchanged = r.counts.unchanged,
                    failed = r.counts.failed,
                    "sync finished"
                );
            }
            Err(SyncError::Lost(_)) if *l.stop.borrow() => break,
            Err(SyncError::Lost(_)) => {
                // Status belongs to the leader; the controller stops this worker.
                warn!("leadership lost during the sync; writes stopped");
                next = Utc::now() + chrono::Duration::seconds(5);
                continue;
            }
            Err(SyncError::Vendor(e)) if e.is_transient() => {
                transient_failures += 1;
                priority = Priority::Urgent;
                warn!(error = %e, "sync failed; retrying with backoff");
            }
            Err(e) => {
                transient_failures = 0;
                warn!(error = %e, "sync failed");
            }
        }
        drop(_permit);
        // Deliveries that arrived during the run.
        if deliveries.is_some() {
            drain_failures = if drain_deliveries(&l, &spec, &client).await {
                0
            } else {
                drain_failures.saturating_add(1)
            };
        }
        next = next_run(&spec, finished, transient_failures);
        l.env
            .reporter
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

/// Backoff before retrying deliveries a drain left: 2 s, 4 s, ... up to 2 min.
pub fn drain_retry_delay(failures: u32) -> Duration {
    Duration::from_secs(2u64 << failures.saturating_sub(1).min(6)).min(Duration::from_secs(120))
}

/// Processes the webhook deliveries waiting in the ledger and reports them;
/// false when some are left for a retry.
async fn drain_deliveries(
    l: &Loop,
    spec: &SyncSpec,
    client: &Result<Arc<dyn vendors::AtsClient>, vendors::VendorError>,
) -> bool {
    let Ok(client) = client else { return false };
    let input = RunInput {
        fence: l.env.fence.stopping(l.stop.clone()),
        verify_before: l.verify_before,
        confirmed_deletions: None,
        semantic: l.env.semantic.clone(),
    };
    let result = super::webhook_run::drain(client.as_ref(), &l.env.ledger, spec, &input)
        .instrument(info_span!("webhook_deliveries"))
        .await;
    match &result {
        Ok(r) if r.finished > 0 => {
            crate::metrics::global().webhooks_processed(spec, &r.waited);
            info!(
                deliveries = r.finished,
                scored = r.run.counts.scored,
                written = r.run.counts.written_back,
                left = r.left,
                "webhook deliveries processed"
            );
        }
        Ok(_) => {}
        // Stopping: what is left waits in the ledger for the next leader.
        Err(SyncError::Lost(_)) if *l.stop.borrow() => {
            debug!("webhook deliveries left for the next run: stopping")
        }
        Err(e) => {
            warn!(error = %e, "webhook deliveries not processed; retried at the next signal or run")
        }
    }
    l.env
        .reporter
        .deliveries_processed(&spec.key, &result)
        .await;
    matches!(&result, Ok(r) if r.left == 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_delay_grows_and_caps() {
        assert_eq!(retry_delay(1), Duration::from_secs(15));
        assert_eq!(retry_delay(2), Duration::from_secs(30));
        assert_eq!(retry_delay(20), Duration::from_secs(600));
        assert_eq!(restart_delay(1), Duration::from_secs(1));
        assert_eq!(restart_delay(30), Duration::from_secs(256));
        assert_eq!(drain_retry_delay(1), Duration::from_secs(2));
        assert_eq!(drain_retry_delay(3), Duration::from_secs(8));
        assert_eq!(drain_retry_delay(40), Duration::from_secs(120));
    }

    #[test]
    fn first_run_keeps_the_schedule_with_jitter_or_runs_now() {
        let key = |n: &str| SyncKey {
            namespace: "t".into(),
            name: n.into(),
        };
        let now = Utc::now();
        let hour = Duration::from_secs(3600);
        let later = now + chrono::Duration::minutes(5);
        let a = first_run(&key("a"), Some(later), true, hour, now);
        assert_eq!(a.priority, Priority::Periodic);
        assert!(a.at >= later && a.at < later + chrono::Duration::seconds(10));
        // Overdue: soon, but spread.
        let past = now - chrono::Duration::minutes(5);
        let starts: std::collections::HashSet<_> = (0..20)
            .map(|i| first_run(&key(&format!("s{i}")), Some(past), true, hour, now).at)
            .collect();
        assert!(starts.len() > 10, "no jitter: {starts:?}");
        assert!(starts.iter().all(|t| *t >= now));
        // New or changed: now, first in line.
        let b = first_run(&key("b"), Some(later), false, hour, now);
        assert_eq!((b.at, b.priority), (now, Priority::Urgent));
        assert_eq!(first_run(&key("c"), None, true, hour, now).at, now);
    }

    /// Panics in its first `run_started`, then counts.
    struct Flaky {
        started: std::sync::atomic::AtomicU32,
        failed: std::sync::Mutex<Vec<String>>,
    }

    #[async_trait]
    impl Reporter for Flaky {
        async fn run_started(&self, _key: &SyncKey, _at: DateTime<Utc>) {
            let n = self
                .started
                .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            assert!(n > 0, "injected failure");
        }
        async fn run_finished(&self, _key: &SyncKey, _outcome: RunOutcome) {}
        async fn worker_failed(&self, _key: &SyncKey, message: String, _restart_in: Duration) {
            self.failed.lock().unwrap().push(message);
        }
    }

    #[tokio::test]
    async fn a_worker_that_panics_is_reported_and_restarted() {
        let spec = SyncSpec {
            key: SyncKey {
                namespace: "t".into(),
                name: "s".into(),
            },
            connection: vendors::ConnectionConfig {
                vendor: crate::model::VendorKind::Greenhouse,
                base_url: Some("http://127.0.0.1:9".into()),
                token_url: Some("http://127.0.0.1:9/token".into()),
                subdomain: None,
                credentials: Default::default(),
                sub: None,
                rate_limit: None,
                endpoints: crate::vendors::guard::EndpointPolicy::AllowPrivate,
                download_hosts: Vec::new(),
            },
            schedule: super::super::Schedule::Every(Duration::from_secs(3600)),
            scope: Default::default(),
            write_back: Default::default(),
            profile: Default::default(),
            profile_identity: "p/1".into(),
            profile_name: "p".into(),
            profile_generation: 1,
            deletion_guard_percent: 20,
            full_sync_every: Duration::from_secs(86_400),
            labels_allowed: true,
        };
        let reporter = Arc::new(Flaky {
            started: Default::default(),
            failed: Default::default(),
        });
        let env = WorkerEnv {
            ledger: Arc::new(Ledger::open_in_memory().unwrap()),
            reporter: reporter.clone(),
            store: None,
            gate: Gate::new(1),
            fence: Fence::open(),
            clients: vendors::registry::ClientRegistry::new(),
            semantic: None,
            deliveries: None,
        };
        let first = FirstRun {
            at: Utc::now(),
            priority: Priority::Urgent,
        };
        let w = spawn(spec, "h".into(), env, first, false);
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        while reporter.started.load(std::sync::atomic::Ordering::SeqCst) < 2 {
            assert!(tokio::time::Instant::now() < deadline, "not restarted");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let failed = reporter.failed.lock().unwrap().clone();
        assert_eq!(failed.len(), 1);
        assert!(failed[0].contains("injected failure"), "{failed:?}");
        w.stop().await;
    }
}
