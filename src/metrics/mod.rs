//! Prometheus metrics, served as `/metrics` by [`crate::http`].
//!
//! Named after External Secrets Operator's and cert-manager's conventions:
//! an `ats_` prefix, `_total` counters, `_seconds` histograms, per-object
//! condition gauges computed at scrape time ([`collector`]). Labels stay
//! bounded: a sync is `namespace`/`name`/`vendor`, a vendor route is a
//! template ([`route`]), never an application id or a raw URL.
//!
//! The families live in one process-wide [`Metrics`] ([`global`]): the code
//! that counts (the HTTP transport, token refreshes, the pipeline, workers)
//! sits deep below the controller's `Context`, in vendor clients shared
//! through a registry, and threading a handle down to each would touch every
//! constructor for no gain (one process serves one `/metrics`). Tests of the
//! counting itself build a [`Metrics`] of their own and encode it.

pub mod collector;
pub mod route;

use std::sync::OnceLock;
use std::sync::atomic::AtomicU64;
use std::time::Duration;

use prometheus_client::collector::Collector;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

use crate::model::VendorKind;
use crate::sync::pipeline::{RunReport, SyncError};
use crate::sync::{SyncKey, SyncSpec};
use crate::vendors::VendorError;
pub use crate::vendors::http::limiter::Hold;

/// The prefix of every metric name.
pub const PREFIX: &str = "ats";

/// Upper bounds of the sync duration buckets: a small tenant's incremental
/// sync takes a fraction of a second, a large Workable full sync hours. Ten,
/// as Flux's: with a thousand syncs each bucket is a thousand series.
const RUN_BUCKETS: [f64; 10] = [0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0, 1800.0, 10800.0];

/// One sync.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct SyncLabels {
    pub namespace: String,
    pub name: String,
    pub vendor: &'static str,
}

impl SyncLabels {
    pub fn of(spec: &SyncSpec) -> Self {
        SyncLabels {
            namespace: spec.key.namespace.clone(),
            name: spec.key.name.clone(),
            vendor: spec.connection.vendor.as_str(),
        }
    }
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RunLabels {
    namespace: String,
    name: String,
    vendor: &'static str,
    result: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct WriteLabels {
    namespace: String,
    name: String,
    vendor: &'static str,
    outcome: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    vendor: &'static str,
    method: &'static str,
    route: String,
    status: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct WaitLabels {
    vendor: &'static str,
    reason: &'static str,
}

/// Webhook deliveries of one connection.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct WebhookLabels {
    namespace: String,
    connection: String,
    vendor: &'static str,
    /// `accepted`, `duplicate`, `ignored`, or the refusal reason.
    result: &'static str,
}

/// Latency buckets of webhook processing: the goal is well under a second.
/// Fine below 25 ms, where the operator's share is expected.
const WEBHOOK_BUCKETS: [f64; 14] = [
    0.001, 0.0025, 0.005, 0.0075, 0.01, 0.015, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0,
];

fn webhook_histogram() -> Histogram {
    Histogram::new(WEBHOOK_BUCKETS)
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct TokenLabels {
    vendor: &'static str,
    result: &'static str,
}

/// How a sync run ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RunResult {
    Success,
    /// A vendor or ledger error ended the run (it is retried or waits for a fix).
    Error,
    /// Leadership was lost mid-run; the next leader finishes it.
    Interrupted,
}

impl RunResult {
    pub const ALL: [RunResult; 3] = [RunResult::Success, RunResult::Error, RunResult::Interrupted];

    pub fn as_str(self) -> &'static str {
        match self {
            RunResult::Success => "success",
            RunResult::Error => "error",
            RunResult::Interrupted => "interrupted",
        }
    }

    /// Pure: the result label of a run. A run whose writes failed still
    /// completed: `success` (its failures are counted by outcome).
    pub fn of(result: &Result<RunReport, SyncError>) -> Self {
        match result {
            Ok(_) => RunResult::Success,
            Err(SyncError::Lost(_)) => RunResult::Interrupted,
            Err(_) => RunResult::Error,
        }
    }
}

/// What became of one write-back attempt.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WriteOutcome {
    /// Written to the ATS.
    Written,
    /// Already in the ATS (a marker found): recorded, not written again.
    Adopted,
    /// Failed; retried later.
    Failed,
    /// Failed permanently too often; given up.
    Abandoned,
    /// Its settings or source changed before it was sent; never sent.
    Superseded,
}

impl WriteOutcome {
    pub const ALL: [WriteOutcome; 5] = [
        WriteOutcome::Written,
        WriteOutcome::Adopted,
        WriteOutcome::Failed,
        WriteOutcome::Abandoned,
        WriteOutcome::Superseded,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            WriteOutcome::Written => "written",
            WriteOutcome::Adopted => "adopted",
            WriteOutcome::Failed => "failed",
            WriteOutcome::Abandoned => "abandoned",
            WriteOutcome::Superseded => "superseded",
        }
    }
}

/// Pure: the result label of a token request: `success`; `rejected` when the
/// token endpoint refused the credentials (someone must fix them); `error`
/// otherwise (unreachable, 5xx, an answer that is not a token).
pub fn token_result<T>(result: &Result<T, VendorError>) -> &'static str {
    match result {
        Ok(_) => "success",
        Err(
            VendorError::Auth(_)
            | VendorError::ReauthorizationRequired(_)
            | VendorError::Forbidden(_),
        ) => "rejected",
        Err(_) => "error",
    }
}

/// Pure: a bounded `method` label.
pub fn method_label(method: &reqwest::Method) -> &'static str {
    match method.as_str() {
        "GET" => "GET",
        "POST" => "POST",
        "PUT" => "PUT",
        "PATCH" => "PATCH",
        "DELETE" => "DELETE",
        "HEAD" => "HEAD",
        _ => "OTHER",
    }
}

fn run_histogram() -> Histogram {
    Histogram::new(RUN_BUCKETS)
}

/// Every metric family the operator counts into.
#[derive(Debug)]
pub struct Metrics {
    sync_runs: Family<RunLabels, Counter>,
    sync_run_duration: Family<RunLabels, Histogram, fn() -> Histogram>,
    sync_workers: Gauge,
    sync_runs_in_progress: Gauge,
    applications_pulled: Family<SyncLabels, Counter>,
    applications_scored: Family<SyncLabels, Counter>,
    applications_written_back: Family<SyncLabels, Counter>,
    write_backs: Family<WriteLabels, Counter>,
    vendor_requests: Family<RequestLabels, Counter>,
    rate_limit_wait: Family<WaitLabels, Counter<f64, AtomicU64>>,
    token_refreshes: Family<TokenLabels, Counter>,
    webhook_deliveries: Family<WebhookLabels, Counter>,
    webhook_processed: Family<SyncLabels, Counter>,
    webhook_latency: Family<SyncLabels, Histogram, fn() -> Histogram>,
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics {
            sync_runs: Family::default(),
            sync_run_duration: Family::new_with_constructor(run_histogram),
            sync_workers: Gauge::default(),
            sync_runs_in_progress: Gauge::default(),
            applications_pulled: Family::default(),
            applications_scored: Family::default(),
            applications_written_back: Family::default(),
            write_backs: Family::default(),
            vendor_requests: Family::default(),
            rate_limit_wait: Family::default(),
            token_refreshes: Family::default(),
            webhook_deliveries: Family::default(),
            webhook_processed: Family::default(),
            webhook_latency: Family::new_with_constructor(webhook_histogram),
        }
    }
}

/// The process's metrics.
pub fn global() -> &'static Metrics {
    static METRICS: OnceLock<Metrics> = OnceLock::new();
    METRICS.get_or_init(Metrics::default)
}

/// Decrements a gauge when dropped: a worker that panics or is aborted still
/// leaves the count right.
#[must_use]
pub struct GaugeGuard(Gauge);

impl Drop for GaugeGuard {
    fn drop(&mut self) {
        self.0.dec();
    }
}

impl Metrics {
    /// A registry (prefix `ats_`) with these families and `collectors`
    /// (computed at each scrape).
    pub fn registry(&self, collectors: Vec<Box<dyn Collector>>) -> Registry {
        let mut r = Registry::with_prefix(PREFIX);
        r.register(
            "sync_runs",
            "Sync runs finished, by sync and result (success, error, interrupted)",
            self.sync_runs.clone(),
        );
        r.register(
            "sync_run_duration_seconds",
            "Duration of sync runs, by sync and result",
            self.sync_run_duration.clone(),
        );
        r.register(
            "sync_workers",
            "Sync workers running in this replica (one per AtsSync that is not suspended)",
            self.sync_workers.clone(),
        );
        r.register(
            "sync_runs_in_progress",
            "Sync runs under way in this replica (at most --max-concurrent-syncs)",
            self.sync_runs_in_progress.clone(),
        );
        r.register(
            "applications_pulled",
            "Applications in scope seen in the vendor's listings, by sync",
            self.applications_pulled.clone(),
        );
        r.register(
            "applications_scored",
            "Applications scored (new or changed), by sync",
            self.applications_scored.clone(),
        );
        r.register(
            "applications_written_back",
            "Applications whose score was written to the ATS, by sync",
            self.applications_written_back.clone(),
        );
        r.register(
            "write_backs",
            "Write-back attempts by sync and outcome (written, adopted, failed, abandoned, superseded)",
            self.write_backs.clone(),
        );
        r.register(
            "vendor_requests",
            "HTTP requests to vendors by vendor, method, route template and status \
             (the HTTP code, or error when no answer came); route token and download \
             are token requests and file downloads",
            self.vendor_requests.clone(),
        );
        r.register(
            "vendor_rate_limit_wait_seconds",
            "Seconds requests waited for rate limits, by vendor and reason \
             (retry_after, vendor_window, client_budget)",
            self.rate_limit_wait.clone(),
        );
        r.register(
            "token_refreshes",
            "OAuth token requests by vendor and result (success, rejected, error)",
            self.token_refreshes.clone(),
        );
        r.register(
            "webhook_deliveries",
            "Webhook deliveries received, by connection and result (accepted, duplicate, \
             ignored, or the refusal: BadSignature, MissingSignature, Stale, Replayed, \
             Malformed, TooLarge, UnknownConnection, QueueFull, NotLeader)",
            self.webhook_deliveries.clone(),
        );
        r.register(
            "webhook_deliveries_processed",
            "Accepted webhook deliveries processed by a sync's worker",
            self.webhook_processed.clone(),
        );
        r.register(
            "webhook_processing_seconds",
            "Seconds from a delivery's acceptance to its processing (scored, written back, \
             recorded), by sync",
            self.webhook_latency.clone(),
        );
        for c in collectors {
            r.register_collector(c);
        }
        r
    }

    /// A webhook delivery arrived at a connection; `result` as in the family's help.
    pub fn webhook_delivery(
        &self,
        namespace: &str,
        connection: &str,
        vendor: Option<VendorKind>,
        result: &'static str,
    ) {
        self.webhook_deliveries
            .get_or_create(&WebhookLabels {
                namespace: namespace.to_string(),
                connection: connection.to_string(),
                vendor: vendor.map_or("unknown", VendorKind::as_str),
                result,
            })
            .inc();
    }

    /// A sync's worker processed accepted deliveries, each `waited` after acceptance.
    pub fn webhooks_processed(&self, spec: &SyncSpec, waited: &[Duration]) {
        let labels = SyncLabels::of(spec);
        self.webhook_processed
            .get_or_create(&labels)
            .inc_by(waited.len() as u64);
        let h = self.webhook_latency.get_or_create(&labels);
        for w in waited {
            h.observe(w.as_secs_f64());
        }
    }

    fn run_labels(key: &SyncKey, vendor: VendorKind, result: RunResult) -> RunLabels {
        RunLabels {
            namespace: key.namespace.clone(),
            name: key.name.clone(),
            vendor: vendor.as_str(),
            result: result.as_str(),
        }
    }

    /// A sync run ended after `took`.
    pub fn sync_run(&self, spec: &SyncSpec, result: RunResult, took: Duration) {
        let labels = Self::run_labels(&spec.key, spec.connection.vendor, result);
        self.sync_run_duration
            .get_or_create(&labels)
            .observe(took.as_secs_f64());
        self.sync_runs.get_or_create(&labels).inc();
    }

    /// A worker started; it counts until the guard drops.
    pub fn worker_running(&self) -> GaugeGuard {
        self.sync_workers.inc();
        GaugeGuard(self.sync_workers.clone())
    }

    /// A run started; it counts until the guard drops.
    pub fn run_in_progress(&self) -> GaugeGuard {
        self.sync_runs_in_progress.inc();
        GaugeGuard(self.sync_runs_in_progress.clone())
    }

    /// One batch of a pull: applications seen, and how many were scored.
    pub fn applications(&self, spec: &SyncSpec, pulled: u64, scored: u64) {
        let labels = SyncLabels::of(spec);
        self.applications_pulled
            .get_or_create(&labels)
            .inc_by(pulled);
        self.applications_scored
            .get_or_create(&labels)
            .inc_by(scored);
    }

    /// One write-back attempt came to `outcome`.
    pub fn write_back(&self, spec: &SyncSpec, outcome: WriteOutcome) {
        if outcome == WriteOutcome::Written {
            self.applications_written_back
                .get_or_create(&SyncLabels::of(spec))
                .inc();
        }
        let labels = WriteLabels {
            namespace: spec.key.namespace.clone(),
            name: spec.key.name.clone(),
            vendor: spec.connection.vendor.as_str(),
            outcome: outcome.as_str(),
        };
        self.write_backs.get_or_create(&labels).inc();
    }

    /// One request was answered with `status`, or failed without an answer (`None`).
    pub fn vendor_request(
        &self,
        vendor: &'static str,
        method: &'static str,
        route: String,
        status: Option<u16>,
    ) {
        let labels = RequestLabels {
            vendor,
            method,
            route,
            status: status.map_or_else(|| "error".to_string(), |s| s.to_string()),
        };
        self.vendor_requests.get_or_create(&labels).inc();
    }

    /// A request waited `waited` for a rate limit.
    pub fn rate_limit_wait(&self, vendor: &'static str, hold: Hold, waited: Duration) {
        if waited.is_zero() {
            return;
        }
        let labels = WaitLabels {
            vendor,
            reason: hold.as_str(),
        };
        self.rate_limit_wait
            .get_or_create(&labels)
            .inc_by(waited.as_secs_f64());
    }

    /// A token request ended with `result` (see [`token_result`]).
    pub fn token_refresh<T>(&self, vendor: &'static str, result: &Result<T, VendorError>) {
        let labels = TokenLabels {
            vendor,
            result: token_result(result),
        };
        self.token_refreshes.get_or_create(&labels).inc();
    }

    /// Drops the series of a deleted sync (as ESO does), so churn in tenants
    /// does not grow the scrape for ever.
    pub fn forget_sync(&self, key: &SyncKey) {
        for vendor in VendorKind::ALL {
            for result in RunResult::ALL {
                let labels = Self::run_labels(key, vendor, result);
                self.sync_runs.remove(&labels);
                self.sync_run_duration.remove(&labels);
            }
            for outcome in WriteOutcome::ALL {
                self.write_backs.remove(&WriteLabels {
                    namespace: key.namespace.clone(),
                    name: key.name.clone(),
                    vendor: vendor.as_str(),
                    outcome: outcome.as_str(),
                });
            }
            let labels = SyncLabels {
                namespace: key.namespace.clone(),
                name: key.name.clone(),
                vendor: vendor.as_str(),
            };
            self.applications_pulled.remove(&labels);
            self.applications_scored.remove(&labels);
            self.applications_written_back.remove(&labels);
            self.webhook_processed.remove(&labels);
            self.webhook_latency.remove(&labels);
        }
    }
}

/// Encodes `registry` in the Prometheus text format (version 0.0.4).
pub fn encode(registry: &Registry) -> Result<String, std::fmt::Error> {
    let mut out = String::new();
    prometheus_client::encoding::prometheus_text::encode(&mut out, registry)?;
    Ok(out)
}

/// The Content-Type of [`encode`]'s output.
pub const CONTENT_TYPE: &str = prometheus_client::encoding::prometheus_text::CONTENT_TYPE;

#[cfg(test)]
mod tests;
