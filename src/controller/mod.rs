//! Reconcile, status, sharding, shutdown and worker supervision.
//!
//! Three controllers share one [`Context`]: `AtsSync` (the main one: it runs one
//! in-process worker per sync), `AtsConnection` (verifies credentials) and
//! `ScoringProfile` (validates). None holds a finalizer (nothing they own
//! outlives the process: a gone sync's worker is stopped by `sync::housekeeping`).
//! They share one `error_policy`, publish Events via a `Recorder` and write
//! status by server-side apply only when it changed.

pub mod audit;
pub mod connection;
pub mod credentials;
pub mod leadership;
pub mod policy;
pub mod profile;
pub mod registration;
pub mod resolve;
pub mod shard;
pub mod shutdown;
pub mod standby;
pub mod status;
pub mod sync;
pub mod webhooks;

use std::collections::HashMap;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use k8s_openapi::api::core::v1::{Namespace, ObjectReference, Secret};
use kube::api::{Api, Patch, PatchParams};
use kube::runtime::controller::Action;
use kube::runtime::events::{Event, EventType, Recorder, Reporter};
use kube::runtime::{WatchStreamExt, watcher};
use kube::{Client, Resource, ResourceExt};
use serde::Serialize;
use serde::de::DeserializeOwned;
use tokio::sync::Mutex;
use tracing::{info, warn};

use crate::api::{AtsConnection, AtsSync, BiasAudit, ScoringProfile};
use crate::ledger::Ledger;
use crate::sync::SyncKey;
use crate::sync::fence::Fence;
use crate::sync::gate::Gate;
use crate::sync::worker::WorkerHandle;
use leadership::LeaderConfig;
use status::SyncView;

/// The field manager of every status the operator applies.
pub const MANAGER: &str = "ats-operator";

#[derive(Debug, thiserror::Error)]
pub enum ControllerError {
    #[error("kubernetes API: {0}")]
    Kube(#[from] kube::Error),
    #[error("finalizer: {0}")]
    Finalizer(String),
    #[error("audit ledger: {0}")]
    Ledger(#[from] crate::ledger::LedgerError),
    #[error("object has no namespace")]
    NoNamespace,
    #[error(transparent)]
    Http(#[from] crate::http::HttpError),
}

/// One sync's view and the status last applied from it; the lock serializes
/// status writes of the reconciler and the worker.
#[derive(Default)]
pub struct SyncSlot {
    pub view: SyncView,
    pub applied: Option<crate::api::AtsSyncStatus>,
    pub object_ref: Option<ObjectReference>,
    /// The sync's connection (for its webhook refusals).
    pub connection: Option<String>,
}

pub struct Context {
    pub client: Client,
    pub recorder: Recorder,
    pub ledger: Arc<Ledger>,
    pub workers: Mutex<HashMap<SyncKey, WorkerHandle>>,
    pub slots: std::sync::Mutex<HashMap<SyncKey, Arc<Mutex<SyncSlot>>>>,
    /// Bounds the syncs running at once, across tenants.
    pub gate: Arc<Gate>,
    /// Open while this replica leads; every write passes it.
    pub fence: Fence,
    /// The administrator's policy for tenants' connections.
    pub admin: policy::Admin,
    /// One client per vendor account, shared by its syncs and its verification.
    pub clients: Arc<crate::vendors::registry::ClientRegistry>,
    /// The last verification of each connection: what it saw, and when.
    pub verified: std::sync::Mutex<HashMap<(String, String), (String, std::time::Instant)>>,
    /// This replica's shard (`--shard`); `None`: unsharded.
    pub shard: Option<String>,
    /// See [`Options::semantic`].
    pub semantic: Option<Arc<crate::scoring::semantic::SemanticScorer>>,
    /// Webhook routes and signals, shared with the HTTP server.
    pub webhooks: Arc<webhooks::Hub>,
}

/// How the operator runs.
#[derive(Clone, Debug)]
pub struct Options {
    /// Watch only this namespace (a namespace-scoped install); `None`: all.
    pub namespace: Option<String>,
    /// Leader election; `None` runs as the only replica.
    pub leader: Option<LeaderConfig>,
    /// Syncs running at the same time, across all tenants.
    pub max_concurrent_syncs: usize,
    /// Let connections reach loopback, private and metadata addresses
    /// (`--allow-private-endpoints`: sandboxes, the demo, tests).
    pub allow_private_endpoints: bool,
    /// Where connections may use endpoints other than the vendor's own hosts.
    pub custom_endpoints: policy::CustomEndpoints,
    /// Resume download hosts beyond each vendor's own.
    pub download_hosts: Vec<String>,
    /// Reconcile only `AtsConnection`s, `AtsSync`s and `ScoringProfile`s whose
    /// labels match (a shard, as Flux's `--watch-label-selector`).
    pub watch_label_selector: Option<String>,
    /// This replica's shard (`--shard`): the resources labelled
    /// `ats.dev/shard=NAME` (`default`: the unlabelled ones). `None`: all.
    pub shard: Option<String>,
    /// Where `/metrics`, `/healthz` and `/readyz` are served; `None`: nowhere.
    pub metrics_addr: Option<std::net::SocketAddr>,
    /// The semantic component's model (`--model-dir`); `None`: profiles with
    /// `semantic: true` score without it and say so.
    pub semantic: Option<Arc<crate::scoring::semantic::SemanticScorer>>,
    /// Unprocessed webhook deliveries a sync may hold before new ones get 503.
    pub webhook_max_pending: u32,
    /// Largest webhook body accepted (413 above).
    pub webhook_body_limit: usize,
    /// Lever's `triggeredAt` window either side of now: older or newer
    /// deliveries are refused `Stale` (Lever's signature does not cover the
    /// body, so this bounds how long a captured delivery can be replayed).
    pub webhook_lever_window: std::time::Duration,
}

impl Options {
    /// One namespace, no leader election (tests, the demo).
    pub fn namespaced(ns: &str) -> Self {
        Options {
            namespace: Some(ns.to_string()),
            leader: None,
            max_concurrent_syncs: DEFAULT_MAX_CONCURRENT_SYNCS,
            allow_private_endpoints: true,
            custom_endpoints: policy::CustomEndpoints::Everywhere,
            download_hosts: Vec::new(),
            watch_label_selector: None,
            shard: None,
            metrics_addr: None,
            semantic: None,
            webhook_max_pending: webhooks::DEFAULT_MAX_PENDING,
            webhook_body_limit: webhooks::DEFAULT_BODY_LIMIT,
            webhook_lever_window: webhooks::DEFAULT_LEVER_WINDOW,
        }
    }
}

pub const DEFAULT_MAX_CONCURRENT_SYNCS: usize = 10;

impl Options {
    /// The label selector of this replica's own resources: its shard's,
    /// ANDed with `--watch-label-selector`; `None`: all of them.
    pub fn selector(&self) -> Option<String> {
        shard::effective_selector(self.watch_label_selector.as_deref(), self.shard.as_deref())
    }
}

impl Context {
    pub fn new(
        client: Client,
        ledger: Arc<Ledger>,
        gate: Arc<Gate>,
        fence: Fence,
        admin: policy::Admin,
        opts: &Options,
        webhooks: Arc<webhooks::Hub>,
    ) -> Arc<Self> {
        let (shard, semantic) = (opts.shard.clone(), opts.semantic.clone());
        let reporter = Reporter {
            controller: MANAGER.into(),
            instance: std::env::var("POD_NAME").ok(),
        };
        Arc::new(Context {
            recorder: Recorder::new(client.clone(), reporter),
            client,
            ledger,
            workers: Mutex::new(HashMap::new()),
            slots: std::sync::Mutex::new(HashMap::new()),
            gate,
            fence,
            admin,
            clients: crate::vendors::registry::ClientRegistry::new(),
            verified: std::sync::Mutex::new(HashMap::new()),
            shard,
            semantic,
            webhooks,
        })
    }

    pub fn slot(&self, key: &SyncKey) -> Arc<Mutex<SyncSlot>> {
        let mut slots = self.slots.lock().unwrap_or_else(|e| e.into_inner());
        slots.entry(key.clone()).or_default().clone()
    }

    pub fn forget_slot(&self, key: &SyncKey) {
        let mut slots = self.slots.lock().unwrap_or_else(|e| e.into_inner());
        slots.remove(key);
    }

    /// Publishes an Event; failures are logged, never fatal.
    pub async fn event(
        &self,
        reference: &ObjectReference,
        type_: EventType,
        reason: &str,
        action: &str,
        note: String,
    ) {
        let ev = Event {
            type_,
            reason: reason.into(),
            note: Some(truncate(note, 1000)),
            action: action.into(),
            secondary: None,
        };
        if let Err(e) = self.recorder.publish(&ev, reference).await {
            warn!(error = %e, "could not publish event");
        }
    }
}

fn truncate(mut s: String, max: usize) -> String {
    if s.len() > max {
        let mut cut = max;
        while !s.is_char_boundary(cut) {
            cut -= 1;
        }
        s.truncate(cut);
    }
    s
}

/// Applies `status` to `obj` by server-side apply. A vanished object is not an error.
pub async fn apply_status<K>(
    client: &Client,
    obj_name: &str,
    namespace: &str,
    status: &impl Serialize,
) -> Result<(), kube::Error>
where
    K: Resource<DynamicType = (), Scope = k8s_openapi::NamespaceResourceScope>
        + Clone
        + DeserializeOwned
        + std::fmt::Debug,
{
    let api: Api<K> = Api::namespaced(client.clone(), namespace);
    let patch = serde_json::json!({
        "apiVersion": K::api_version(&()),
        "kind": K::kind(&()),
        "status": status,
    });
    match api
        .patch_status(
            obj_name,
            &PatchParams::apply(MANAGER).force(),
            &Patch::Apply(&patch),
        )
        .await
    {
        Ok(_) => Ok(()),
        Err(kube::Error::Api(s)) if s.code == 404 => Ok(()),
        Err(e) => Err(e),
    }
}

/// The one error policy: log, retry with a short backoff. A request the API
/// server forbids (a verb missing from the operator's role) is also a Warning
/// Event on the object, `PermissionDenied`, naming what was refused: whoever
/// reads the object sees why its status does not move.
pub fn error_policy<K>(obj: Arc<K>, error: &ControllerError, ctx: Arc<Context>) -> Action
where
    K: Resource<DynamicType = ()> + ResourceExt,
{
    warn!(name = %obj.name_any(), namespace = ?obj.namespace(), %error, "reconcile failed");
    if let Some(refused) = error.forbidden() {
        let reference = obj.object_ref(&());
        let note = format!(
            "The operator's role does not allow this: {refused}. Grant it (the Helm chart's RBAC has it)."
        );
        tokio::spawn(async move {
            ctx.event(
                &reference,
                EventType::Warning,
                "PermissionDenied",
                "Reconcile",
                note,
            )
            .await;
        });
    }
    Action::requeue(Duration::from_secs(15))
}

impl ControllerError {
    /// The API server's message when it refused a request (403).
    pub fn forbidden(&self) -> Option<&str> {
        match self {
            ControllerError::Kube(kube::Error::Api(s)) if s.code == 403 => Some(&s.message),
            _ => None,
        }
    }
}

/// Logs what a controller's stream reports besides reconciles (which
/// `error_policy` logs): a watch the API server refuses, such as a verb missing
/// from the operator's role, would otherwise stall that trigger silently. The
/// watcher retries with backoff, so this repeats at a falling rate.
fn log_watch_error<T, E: std::error::Error>(
    controller: &'static str,
    result: Result<T, kube::runtime::controller::Error<E, watcher::Error>>,
) {
    use kube::runtime::controller::Error;
    match result {
        Err(Error::QueueError(e)) => {
            let forbidden = matches!(
                &e,
                watcher::Error::InitialListFailed(kube::Error::Api(s))
                    | watcher::Error::WatchStartFailed(kube::Error::Api(s))
                    | watcher::Error::WatchFailed(kube::Error::Api(s))
                    | watcher::Error::WatchError(s)
                    if s.code == 403
            );
            if forbidden {
                warn!(controller, error = %e, "a watch is forbidden: the operator's role lacks a permission (see the chart's RBAC); retrying");
            } else {
                warn!(controller, error = %e, "a watch failed; retrying");
            }
        }
        Err(Error::RunnerError(e)) => warn!(controller, error = %e, "controller runner failed"),
        _ => {}
    }
}

/// Watches all namespaces, or only `Some(ns)` (a namespace-scoped install).
fn scoped<K>(client: &Client, namespace: Option<&str>) -> Api<K>
where
    K: Resource<Scope = k8s_openapi::NamespaceResourceScope>
        + Clone
        + DeserializeOwned
        + std::fmt::Debug,
    K::DynamicType: Default,
{
    match namespace {
        Some(ns) => Api::namespaced(client.clone(), ns),
        None => Api::all(client.clone()),
    }
}

/// Runs the operator until `shutdown` resolves: with leader election, the
/// controllers run only while this replica leads; a standby waits. Serves
/// `/metrics`, `/healthz` and `/readyz` on `opts.metrics_addr`; a port that
/// cannot be bound is an error before anything starts.
pub async fn run(
    client: Client,
    ledger: Arc<Ledger>,
    opts: Options,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), ControllerError> {
    let health = crate::http::health::Health::new();
    let hub = webhooks::Hub::new(
        Some(client.clone()),
        opts.leader.as_ref(),
        opts.webhook_max_pending,
        opts.webhook_body_limit,
        opts.webhook_lever_window,
    );
    let _server = match opts.metrics_addr {
        Some(addr) => Some(crate::http::serve(addr, health.clone(), hub.clone()).await?),
        None => None,
    };
    // Standbys forward webhook deliveries to the leader's published address.
    let mut opts = opts;
    if let (Some(server), Some(cfg)) = (&_server, opts.leader.as_mut())
        && cfg.advertise.is_none()
    {
        cfg.advertise =
            webhooks::advertise_address(std::env::var("POD_IP").ok().as_deref(), server.addr);
    }
    let (tx, rx) = tokio::sync::watch::channel(false);
    tokio::spawn(async move {
        shutdown.await;
        let _ = tx.send(true);
    });
    let gate = Gate::new(opts.max_concurrent_syncs);
    match opts.leader.clone() {
        None => {
            let mut rx = rx.clone();
            let stop = Box::pin(async move {
                let _ = rx.wait_for(|s| *s).await;
            });
            run_controllers(
                client,
                ledger,
                opts,
                gate,
                Fence::open(),
                stop,
                (health, hub),
            )
            .await
        }
        Some(cfg) => {
            let check = standby::run(client.clone(), opts.clone(), cfg.clone(), health.clone());
            let check = tokio::spawn(check);
            leadership::run_elected(client.clone(), cfg, rx, |fence, stop| {
                run_controllers(
                    client.clone(),
                    ledger.clone(),
                    opts.clone(),
                    gate.clone(),
                    fence,
                    stop,
                    (health.clone(), hub.clone()),
                )
            })
            .await;
            check.abort();
        }
    }
    Ok(())
}

/// Runs the three controllers until `stop` resolves, then stops all workers.
async fn run_controllers(
    client: Client,
    ledger: Arc<Ledger>,
    opts: Options,
    gate: Arc<Gate>,
    fence: Fence,
    stop_signal: std::pin::Pin<Box<dyn Future<Output = ()> + Send>>,
    (health, hub): (Arc<crate::http::health::Health>, Arc<webhooks::Hub>),
) {
    // Not ready until the caches list; over when this function returns.
    let term = health.begin_term();
    let ns = opts.namespace.as_deref();
    // The operator's own resources, in its shard only (`--shard`,
    // `--watch-label-selector`); Secrets and Namespaces are selected by their own labels.
    let base_wc = watcher::Config::default();
    let wc = match opts.selector() {
        Some(sel) => base_wc.clone().labels(&sel),
        None => base_wc.clone(),
    };
    let (tx, rx) = tokio::sync::watch::channel(false);
    let stop = || {
        let mut rx = rx.clone();
        async move {
            let _ = rx.wait_for(|s| *s).await;
        }
    };
    let admin = policy::Admin {
        endpoints: if opts.allow_private_endpoints {
            crate::vendors::guard::EndpointPolicy::AllowPrivate
        } else {
            crate::vendors::guard::EndpointPolicy::PublicOnly
        },
        download_hosts: opts.download_hosts.clone(),
        custom: opts.custom_endpoints.clone(),
    };
    let ctx = Context::new(
        client.clone(),
        ledger,
        gate,
        fence,
        admin,
        &opts,
        hub.clone(),
    );
    // Deliveries are accepted while this term leads.
    hub.set_leading(Some(ctx.ledger.clone()));

    // Secrets are watched only where they opted in (the label), and an event
    // reaches only the connections that name the Secret, and their syncs.
    let secrets_wc = base_wc.clone().labels(crate::api::CREDENTIALS_SELECTOR);
    let conns = term.controller(scoped::<AtsConnection>(&client, ns), wc.clone());
    let cstore = conns.store();
    let using = |cstore: &kube::runtime::reflector::Store<AtsConnection>, sec: &Secret| {
        let ns = sec.namespace().unwrap_or_default();
        cstore
            .state()
            .into_iter()
            .filter(|c| {
                c.namespace().as_deref() == Some(ns.as_str())
                    && (c.spec.auth.secret_name == sec.name_any()
                        || c.spec
                            .webhook_secret_ref
                            .as_ref()
                            .is_some_and(|r| r.name == sec.name_any()))
            })
            .collect::<Vec<_>>()
    };
    let c1 = cstore.clone();
    // A namespace that starts or stops matching the custom-endpoint selector
    // re-checks its connections (the watch sees matching namespaces only).
    let conns = match &opts.custom_endpoints {
        policy::CustomEndpoints::Matching(sel) => {
            let c0 = cstore.clone();
            conns.watches(
                Api::<Namespace>::all(client.clone()),
                base_wc.clone().labels(sel),
                move |n| {
                    let name = n.name_any();
                    c0.state()
                        .into_iter()
                        .filter(|c| c.namespace().as_deref() == Some(name.as_str()))
                        .map(|c| kube::runtime::reflector::ObjectRef::from_obj(&*c))
                        .collect::<Vec<_>>()
                },
            )
        }
        _ => conns,
    };
    let conns = conns
        .watches(
            scoped::<Secret>(&client, ns),
            secrets_wc.clone(),
            move |sec| {
                using(&c1, &sec)
                    .iter()
                    .map(|c| kube::runtime::reflector::ObjectRef::from_obj(&**c))
                    .collect::<Vec<_>>()
            },
        )
        .graceful_shutdown_on(stop())
        .run(connection::reconcile, error_policy, ctx.clone())
        .for_each(|r| async move { log_watch_error("AtsConnection", r) });

    // Syncs reconcile on what the user changes, not on the operator's own
    // status writes (see `sync::reconcile_hash`).
    let (store, writer) = kube::runtime::reflector::store();
    let sync_events = watcher::watcher(scoped::<AtsSync>(&client, ns), wc.clone())
        .inspect(term.on_list())
        .reflect(writer)
        .applied_objects()
        .predicate_filter(sync::reconcile_hash, Default::default());
    let syncs = kube::runtime::Controller::for_stream(sync_events, store.clone());
    term.syncs(&store);
    let chores = tokio::spawn(sync::housekeeping(
        ctx.clone(),
        store.clone(),
        Duration::from_secs(2),
    ));
    let (s1, s2, s3, s4) = (store.clone(), store.clone(), store.clone(), store);
    let syncs = syncs
        .watches(scoped::<AtsConnection>(&client, ns), wc.clone(), move |c| {
            sync::referencing(&s1, &c.namespace().unwrap_or_default(), |s| {
                s.spec.connection_ref.name == c.name_any()
            })
        })
        .watches(
            scoped::<ScoringProfile>(&client, ns),
            wc.clone(),
            move |p| {
                sync::referencing(&s2, &p.namespace().unwrap_or_default(), |s| {
                    s.spec.scoring_profile_ref.name == p.name_any()
                })
            },
        )
        // A bias audit's verdict opens or closes its profiles' labels.
        .watches(scoped::<BiasAudit>(&client, ns), wc.clone(), move |a| {
            let ns = a.namespace().unwrap_or_default();
            let profiles = a.status.map(|s| s.profiles).unwrap_or_default();
            sync::referencing(&s4, &ns, |s| {
                profiles.contains(&s.spec.scoring_profile_ref.name)
            })
        })
        .watches(scoped::<Secret>(&client, ns), secrets_wc, move |sec| {
            let names: Vec<String> = using(&cstore, &sec).iter().map(|c| c.name_any()).collect();
            sync::referencing(&s3, &sec.namespace().unwrap_or_default(), |s| {
                names.contains(&s.spec.connection_ref.name)
            })
        })
        .graceful_shutdown_on(stop())
        .run(sync::reconcile, error_policy, ctx.clone())
        .for_each(|r| async move { log_watch_error("AtsSync", r) });

    let audits = term
        .controller(scoped::<BiasAudit>(&client, ns), wc.clone())
        .graceful_shutdown_on(stop())
        .run(audit::reconcile, error_policy, ctx.clone())
        .for_each(|r| async move { log_watch_error("BiasAudit", r) });

    let profiles = term
        .controller(scoped::<ScoringProfile>(&client, ns), wc)
        .graceful_shutdown_on(stop())
        .run(profile::reconcile, error_policy, ctx.clone())
        .for_each(|r| async move { log_watch_error("ScoringProfile", r) });

    info!("controllers started");
    tokio::spawn(async move {
        stop_signal.await;
        let _ = tx.send(true);
    });
    shutdown::bounded(
        async {
            futures::join!(syncs, conns, profiles, audits);
        },
        stop(),
    )
    .await;
    chores.abort();
    hub.set_leading(None);
    let workers: Vec<WorkerHandle> = ctx.workers.lock().await.drain().map(|(_, w)| w).collect();
    shutdown::stop_workers(workers).await;
    info!("controllers stopped");
}

/// Applies the CRDs by server-side apply and waits until each is Established.
pub async fn install_crds(client: &Client) -> Result<(), ControllerError> {
    use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
    let api: Api<CustomResourceDefinition> = Api::all(client.clone());
    for crd in crate::api::crds() {
        let name = crd.name_any();
        api.patch(
            &name,
            &PatchParams::apply(MANAGER).force(),
            &Patch::Apply(&crd),
        )
        .await?;
        let established = kube::runtime::conditions::is_crd_established();
        kube::runtime::wait::await_condition(api.clone(), &name, established)
            .await
            .map_err(|e| ControllerError::Finalizer(format!("waiting for CRD {name}: {e}")))?;
    }
    Ok(())
}
