//! The `AtsSync` reconciler: resolves references, supervises the worker, publishes status.

use std::sync::{Arc, Weak};
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use kube::api::Api;
use kube::runtime::controller::Action;
use kube::runtime::events::EventType;
use kube::runtime::reflector::{ObjectRef, Store};
use kube::{Resource, ResourceExt};
use tracing::{Instrument, info, info_span, warn};

use super::credentials::SecretStore;
use super::resolve::{self, Problem, WorkerAction};
use super::status::{self, SyncView};
use super::{Context, ControllerError};
use crate::api::conditions::reason;
use crate::api::{
    AtsConnection, AtsSync, CONFIRM_DELETIONS_ANNOTATION, FINALIZER, SYNC_REQUESTED_ANNOTATION,
    ScoringProfile, SyncCounts,
};
use crate::sync::SyncKey;
use crate::sync::pipeline::SyncError;
use crate::sync::worker::{self, RunOutcome, WorkerEnv};
use crate::vendors::{CredentialStore, VendorError};

/// Pure: what of an `AtsSync` calls for a reconcile: its spec (generation),
/// annotations (a requested sync, confirmed deletions), labels (its shard),
/// finalizers and deletion. Not its status: the operator's own status writes
/// would otherwise each cost a reconcile and its reads.
pub fn reconcile_hash(sync: &AtsSync) -> Option<u64> {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    let m = &sync.metadata;
    (
        m.generation,
        &m.annotations,
        &m.labels,
        &m.finalizers,
        m.deletion_timestamp.is_some(),
    )
        .hash(&mut h);
    Some(h.finish())
}

/// Syncs of `namespace` that satisfy `pred`, for the watch mappers.
pub fn referencing(
    store: &Store<AtsSync>,
    namespace: &str,
    pred: impl Fn(&AtsSync) -> bool,
) -> Vec<ObjectRef<AtsSync>> {
    store
        .state()
        .into_iter()
        .filter(|s| s.namespace().as_deref() == Some(namespace) && pred(s))
        .map(|s| ObjectRef::from_obj(&*s))
        .collect()
}

pub async fn reconcile(sync: Arc<AtsSync>, ctx: Arc<Context>) -> Result<Action, ControllerError> {
    let ns = sync.namespace().ok_or(ControllerError::NoNamespace)?;
    let span = info_span!("reconcile", tenant = %ns, sync = %sync.name_any());
    async move {
        if sync.finalizers().iter().any(|f| f == FINALIZER) {
            return strip_finalizer(&sync, &ctx, &ns).await;
        }
        if sync.metadata.deletion_timestamp.is_some()
            && sync
                .finalizers()
                .iter()
                .any(|f| f == super::registration::FINALIZER)
        {
            forget(&ctx, &key_of(&sync)).await;
            return unregister_deleted(&sync, &ctx, &ns).await;
        }
        if sync.metadata.deletion_timestamp.is_some() {
            // Deleted, held by someone else's finalizer: nothing to run.
            forget(&ctx, &key_of(&sync)).await;
            return Ok(Action::await_change());
        }
        apply(sync, ctx).await
    }
    .instrument(span)
    .await
}

/// A deleted sync's webhook registrations are removed from the vendor before
/// its finalizer goes. Without a usable connection (deleted, no Secret)
/// nothing can be removed: the finalizer goes with a Warning naming the ids,
/// rather than holding the namespace. A vendor that fails is retried for
/// ten minutes, then given up the same way.
async fn unregister_deleted(
    sync: &AtsSync,
    ctx: &Arc<Context>,
    ns: &str,
) -> Result<Action, ControllerError> {
    use super::registration;
    let ids = sync
        .status
        .as_ref()
        .and_then(|s| s.webhooks.as_ref())
        .map(|w| w.registered.clone())
        .unwrap_or_default();
    let object_ref = sync.object_ref(&());
    if ids.is_empty() {
        registration::release(ctx, sync).await?;
        return Ok(Action::await_change());
    }
    let connection = Api::<AtsConnection>::namespaced(ctx.client.clone(), ns)
        .get_opt(&sync.spec.connection_ref.name)
        .await?;
    let listed = ids.join(", ");
    let give_up = |why: String| async move {
        ctx.event(
            &object_ref,
            EventType::Warning,
            "WebhookRegistrationLeft",
            "Unregister",
            format!(
                "Webhook registrations {listed} could not be removed from the vendor ({why}); remove them in the vendor's settings"
            ),
        )
        .await;
        registration::release(ctx, sync).await?;
        Ok::<Action, ControllerError>(Action::await_change())
    };
    let Some(conn) = connection else {
        return give_up("the connection is gone".into()).await;
    };
    let secret =
        super::credentials::fetch_secret(&ctx.client, ns, &conn.spec.auth.secret_name).await?;
    let custom = super::policy::uses_custom_endpoints(&conn);
    let policy = ctx.admin.policy_for(&ctx.client, ns, custom).await?;
    let cfg = match resolve::resolve_connection(&conn, secret.as_ref(), &policy) {
        Ok(c) => c,
        Err(p) => return give_up(p.message).await,
    };
    let store = SecretStore::for_connection(ctx.client.clone(), &conn)
        .ok()
        .map(|s| Arc::new(s) as Arc<dyn CredentialStore>);
    let client = match ctx.clients.client(ns, &cfg, store) {
        Ok(c) => c,
        Err(e) => return give_up(e.to_string()).await,
    };
    match registration::remove(ctx, sync, client.as_ref(), &ids).await? {
        Ok(()) => {
            info!(registrations = ids.len(), "webhook registrations removed");
            registration::release(ctx, sync).await?;
            Ok(Action::await_change())
        }
        Err(e) => {
            let deleted_for = sync
                .metadata
                .deletion_timestamp
                .as_ref()
                .and_then(|t| DateTime::from_timestamp(t.0.as_second(), 0))
                .map(|t| Utc::now() - t)
                .unwrap_or_default();
            if e.is_transient() && deleted_for < chrono::Duration::minutes(10) {
                warn!(error = %e, "removing webhook registrations failed; retrying");
                Ok(Action::requeue(Duration::from_secs(15)))
            } else {
                give_up(e.to_string()).await
            }
        }
    }
}

/// Registers or removes the sync's webhooks with the vendor as its spec
/// asks; returns the registration ids now in force, or `None` when nothing
/// changed. A vendor failure is a Warning Event; the next reconcile retries.
async fn reconcile_registration(
    ctx: &Context,
    sync: &AtsSync,
    connection: Option<&AtsConnection>,
    spec: Option<&crate::sync::SyncSpec>,
    registered: &[String],
) -> Result<Option<Vec<String>>, ControllerError> {
    use super::registration::{self, Need};
    let need = registration::need(sync, connection.map(|c| c.spec.vendor), registered);
    if need == Need::Nothing {
        if registered.is_empty() {
            registration::release(ctx, sync).await?;
        }
        return Ok(None);
    }
    let (Some(conn), Some(spec)) = (connection, spec) else {
        return Ok(None);
    };
    let ns = sync.namespace().unwrap_or_default();
    let store = SecretStore::for_connection(ctx.client.clone(), conn)
        .ok()
        .map(|s| Arc::new(s) as Arc<dyn CredentialStore>);
    let client = match ctx.clients.client(&ns, &spec.connection, store) {
        Ok(c) => c,
        Err(e) => {
            warn!(error = %e, "no client to register webhooks with");
            return Ok(None);
        }
    };
    let object_ref = sync.object_ref(&());
    let failed = |what: &'static str, e: VendorError| async move {
        warn!(error = %e, what, "webhook registration failed; retried at the next reconcile");
        ctx.event(
            &object_ref,
            EventType::Warning,
            "WebhookRegistrationFailed",
            what,
            format!("Webhook registration with the vendor failed: {e}"),
        )
        .await;
    };
    match need {
        Need::Register(url) => {
            match registration::register(ctx, sync, client.as_ref(), &url).await? {
                Ok(ids) => {
                    info!(
                        registrations = ids.len(),
                        "webhooks registered with the vendor"
                    );
                    Ok(Some(ids))
                }
                Err(e) => {
                    failed("Register", e).await;
                    Ok(None)
                }
            }
        }
        Need::Remove(ids) => match registration::remove(ctx, sync, client.as_ref(), &ids).await? {
            Ok(()) => {
                info!(registrations = ids.len(), "webhook registrations removed");
                registration::release(ctx, sync).await?;
                Ok(Some(Vec::new()))
            }
            Err(e) => {
                failed("Unregister", e).await;
                Ok(None)
            }
        },
        Need::Nothing => Ok(None),
    }
}

/// Removes the finalizer earlier versions added. Its cleanup only stopped
/// the in-memory worker, which the operator now does when the object leaves
/// its cache (see [`forget`]); kept, it would leave namespaces Terminating
/// once the operator is uninstalled. A merge patch guarded by
/// resourceVersion (kube's JSON patch tests for a null list, which
/// kube-apiserver 1.20 rejects).
async fn strip_finalizer(
    sync: &AtsSync,
    ctx: &Context,
    ns: &str,
) -> Result<Action, ControllerError> {
    let api: Api<AtsSync> = Api::namespaced(ctx.client.clone(), ns);
    let rest: Vec<&String> = sync
        .finalizers()
        .iter()
        .filter(|f| *f != FINALIZER)
        .collect();
    let patch = serde_json::json!({"metadata": {
        "finalizers": rest,
        "resourceVersion": sync.resource_version(),
    }});
    let pp = kube::api::PatchParams::default();
    match api
        .patch(&sync.name_any(), &pp, &kube::api::Patch::Merge(&patch))
        .await
    {
        Ok(_) => {
            info!(
                finalizer = FINALIZER,
                "removed the finalizer of an earlier version"
            );
            Ok(Action::await_change())
        }
        // A newer version, or gone: the watch brings what comes next.
        Err(kube::Error::Api(e)) if e.code == 409 || e.code == 404 => {
            tracing::debug!("finalizer patch raced a newer version; requeued");
            Ok(Action::requeue(Duration::from_millis(500)))
        }
        Err(e) => Err(e.into()),
    }
}

/// Stops the worker of a sync that is gone (deleted, or moved to another
/// shard) and forgets its status slot.
pub async fn forget(ctx: &Context, key: &SyncKey) {
    let worker = ctx.workers.lock().await.remove(key);
    if let Some(w) = worker {
        w.stop().await;
        info!(tenant = %key.namespace, sync = %key.name, "sync gone; worker stopped");
    }
    ctx.forget_slot(key);
    ctx.webhooks.forget(key);
    crate::metrics::global().forget_sync(key);
}

/// Pure: the running workers whose sync is no longer in the cache.
pub fn gone<'a>(
    running: impl IntoIterator<Item = &'a SyncKey>,
    present: impl Fn(&SyncKey) -> bool,
) -> Vec<SyncKey> {
    running
        .into_iter()
        .filter(|k| !present(k))
        .cloned()
        .collect()
}

/// How often a healthy sync is reconciled when nothing it watches changed.
pub const RECHECK: Duration = Duration::from_secs(3600);

/// How often every sync's status is rendered again, for what changes with
/// time alone (`Overdue`); applied only when it changed.
const REFRESH: Duration = Duration::from_secs(60);

/// In-memory chores, every `every`: stops the workers of syncs that left the
/// cache (kube's controller does not reconcile a deleted object, and a sync
/// relabelled to another shard leaves this shard's watch as if deleted), and
/// every [`REFRESH`] publishes every sync's status (a request only when it
/// changed).
pub async fn housekeeping(ctx: Arc<Context>, store: Store<AtsSync>, every: Duration) {
    let mut refreshed = tokio::time::Instant::now();
    loop {
        tokio::time::sleep(every).await;
        // An empty cache before its first list is not "all deleted".
        if store.wait_until_ready().await.is_err() {
            return;
        }
        let keys: Vec<SyncKey> = ctx.workers.lock().await.keys().cloned().collect();
        let present = |k: &SyncKey| {
            store
                .get(&ObjectRef::new(&k.name).within(&k.namespace))
                .is_some()
        };
        for key in gone(&keys, present) {
            forget(&ctx, &key).await;
        }
        refresh_refusals(&ctx).await;
        if refreshed.elapsed() >= REFRESH {
            refreshed = tokio::time::Instant::now();
            let slots: Vec<SyncKey> = {
                let slots = ctx.slots.lock().unwrap_or_else(|e| e.into_inner());
                slots.keys().cloned().collect()
            };
            for key in slots.iter().filter(|k| present(k)) {
                // Only what a reconcile has seeded: never a blank status.
                if ctx.slot(key).lock().await.applied.is_none() {
                    continue;
                }
                if let Err(e) = publish(&ctx, key).await {
                    warn!(tenant = %key.namespace, sync = %key.name, error = %e, "could not publish status");
                }
            }
        }
    }
}

fn key_of(sync: &AtsSync) -> SyncKey {
    SyncKey {
        namespace: sync.namespace().unwrap_or_default(),
        name: sync.name_any(),
    }
}

/// Seeds a fresh view from the status already on the object, so an operator
/// restart does not reset what users see.
fn seed_view(sync: &AtsSync) -> SyncView {
    let parse = |s: &Option<String>| {
        s.as_deref()
            .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
            .map(|t| t.with_timezone(&Utc))
    };
    let st = sync.status.clone().unwrap_or_default();
    SyncView {
        has_run: st.last_sync_time.is_some(),
        last_sync_time: parse(&st.last_sync_time),
        last_successful_sync_time: parse(&st.last_successful_sync_time),
        watermark: parse(&st.watermark),
        last_counts: st.last_sync.clone(),
        totals: st.totals.clone(),
        last_handled_sync_request: st.last_handled_sync_request.clone(),
        first_sync_time: parse(&st.first_sync_time),
        job_ads: st.job_ads.clone(),
        webhooks: st.webhooks.clone(),
        ..Default::default()
    }
}

async fn apply(sync: Arc<AtsSync>, ctx: Arc<Context>) -> Result<Action, ControllerError> {
    let key = key_of(&sync);
    // Deleted and created again under the same name before `housekeeping`
    // noticed: the old object's worker and status are not this one's.
    let recreated = {
        let slot = ctx.slot(&key);
        let slot = slot.lock().await;
        slot.object_ref
            .as_ref()
            .is_some_and(|r| r.uid != sync.metadata.uid)
    };
    if recreated {
        forget(&ctx, &key).await;
    }
    let ns = &key.namespace;
    let client = &ctx.client;
    let connection = Api::<AtsConnection>::namespaced(client.clone(), ns)
        .get_opt(&sync.spec.connection_ref.name)
        .await?;
    let profile = Api::<ScoringProfile>::namespaced(client.clone(), ns)
        .get_opt(&sync.spec.scoring_profile_ref.name)
        .await?;
    let secret = match &connection {
        Some(c) => super::credentials::fetch_secret(client, ns, &c.spec.auth.secret_name).await?,
        None => None,
    };
    let custom = connection
        .as_ref()
        .is_some_and(super::policy::uses_custom_endpoints);
    let policy = ctx.admin.policy_for(client, ns, custom).await?;
    let resolved = match super::shard::mismatch(
        ctx.shard.as_deref(),
        &sync,
        connection.as_ref(),
        profile.as_ref(),
    ) {
        Some(p) => Err(p),
        None => resolve::resolve_sync(
            &sync,
            connection.as_ref(),
            profile.as_ref(),
            secret.as_ref(),
            &policy,
        ),
    };
    // Labels (band tags, the score field) wait for a passing bias audit.
    let resolved = match resolved {
        Ok(mut spec) if !spec.labels_allowed => {
            spec.labels_allowed = super::audit::labels_allowed_now(
                client,
                ns,
                &spec.profile_name,
                spec.profile.labels,
            )
            .await?;
            Ok(spec)
        }
        other => other,
    };
    let model = ctx.semantic.as_deref().map(|s| s.model_id());
    // The model in use is part of what decides a semantic profile's scores.
    let resolved = resolved.map(|mut spec| {
        let mut identity = std::mem::take(&mut spec.profile_identity);
        crate::scoring::semantic::tag_identity(&mut identity, &spec.profile, model);
        spec.profile_identity = identity;
        spec
    });
    let desired = match &resolved {
        Ok(spec) if !sync.spec.suspend => Some((spec.clone(), resolve::spec_hash(spec))),
        _ => None,
    };

    let object_ref = sync.object_ref(&());
    let action = {
        let mut workers = ctx.workers.lock().await;
        let running = workers.get(&key).map(|w| w.spec_hash.clone());
        let action = resolve::supervise(running.as_deref(), desired.as_ref().map(|d| d.1.as_str()));
        match &action {
            WorkerAction::Start | WorkerAction::Restart => {
                if let Some(old) = workers.remove(&key) {
                    old.stop().await;
                }
                if let Some((spec, hash)) = desired {
                    let reporter = Arc::new(SyncReporter(Arc::downgrade(&ctx)));
                    let store = connection.as_ref().and_then(|c| {
                        SecretStore::for_connection(ctx.client.clone(), c)
                            .ok()
                            .map(|s| Arc::new(s) as Arc<dyn CredentialStore>)
                    });
                    let env = WorkerEnv {
                        ledger: ctx.ledger.clone(),
                        reporter,
                        store,
                        gate: ctx.gate.clone(),
                        fence: ctx.fence.clone(),
                        clients: ctx.clients.clone(),
                        semantic: ctx.semantic.clone(),
                        deliveries: Some(ctx.webhooks.signal(&key)),
                    };
                    let st = sync.status.clone().unwrap_or_default();
                    // Unchanged since its last run: keep the schedule (an operator
                    // restart or a new leader); otherwise run now, first in line.
                    let unchanged = action == WorkerAction::Start
                        && st.observed_generation.is_some()
                        && st.observed_generation == sync.metadata.generation;
                    let next = st
                        .next_sync_time
                        .as_deref()
                        .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
                        .map(|t| t.with_timezone(&Utc));
                    let first = worker::first_run(
                        &key,
                        next,
                        unchanged,
                        spec.schedule.nominal_interval(),
                        Utc::now(),
                    );
                    // The sync ran before (maybe on another replica): the ATS may
                    // hold writes this ledger does not know.
                    let history = st.first_sync_time.is_some() || st.last_sync_time.is_some();
                    let handle = worker::spawn(spec, hash, env, first, history);
                    workers.insert(key.clone(), handle);
                }
            }
            WorkerAction::Stop => {
                if let Some(old) = workers.remove(&key) {
                    old.stop().await;
                }
            }
            WorkerAction::Keep => {
                // Replaced credentials go into the running worker: no restart, no
                // lost progress; it syncs again now with them.
                if let (Some(w), Ok(spec)) = (workers.get_mut(&key), &resolved)
                    && w.update_credentials(spec)
                {
                    info!("credentials changed; handed to the running worker");
                    w.trigger();
                }
            }
            WorkerAction::None => {}
        }
        action
    };

    let registered: Vec<String> = {
        let slot = ctx.slot(&key);
        let slot = slot.lock().await;
        let from_view = slot.view.webhooks.as_ref().map(|w| w.registered.clone());
        let from_status = sync
            .status
            .as_ref()
            .and_then(|s| s.webhooks.as_ref())
            .map(|w| w.registered.clone());
        if slot.applied.is_some() {
            from_view
        } else {
            from_status
        }
        .unwrap_or_default()
    };
    let now_registered = reconcile_registration(
        &ctx,
        &sync,
        connection.as_ref(),
        resolved.as_ref().ok(),
        &registered,
    )
    .await?;
    // After registering, the route takes the new signing tokens.
    let hook_url = webhook_route(&ctx, &sync, connection.as_ref(), resolved.as_ref().ok()).await?;

    let slot = ctx.slot(&key);
    let (new_problem, triggered) = {
        let mut slot = slot.lock().await;
        if slot.applied.is_none() {
            slot.view = seed_view(&sync);
            slot.applied = sync.status.clone();
        }
        slot.object_ref = Some(object_ref.clone());
        slot.connection = Some(sync.spec.connection_ref.name.clone());
        let view = &mut slot.view;
        view.generation = sync.metadata.generation;
        view.vendor = connection.as_ref().map(|c| c.spec.vendor);
        view.quotes_vendor_text = resolved
            .as_ref()
            .is_ok_and(|spec| spec.connection.quotes_vendor_text());
        view.suspended = sync.spec.suspend;
        let registered = now_registered.clone().unwrap_or(registered.clone());
        match (&hook_url, &mut view.webhooks) {
            (Some(url), Some(w)) => {
                w.url = Some(url.clone());
                w.registered = registered;
            }
            (Some(url), w) => {
                *w = Some(crate::api::WebhookStatus {
                    url: Some(url.clone()),
                    registered,
                    ..Default::default()
                })
            }
            // Registrations outlive the spec asking for them until removed.
            (None, w) if !registered.is_empty() => {
                *w = Some(crate::api::WebhookStatus {
                    registered,
                    ..Default::default()
                })
            }
            (None, w) => *w = None,
        }
        let problem = resolved.as_ref().err().cloned();
        let new_problem = problem.clone().filter(|p| view.problem.as_ref() != Some(p));
        view.problem = problem;
        let requested = sync.annotations().get(SYNC_REQUESTED_ANNOTATION).cloned();
        let mut triggered = false;
        if resolve::sync_requested(
            requested.as_deref(),
            view.last_handled_sync_request.as_deref(),
        ) {
            view.last_handled_sync_request = requested;
            triggered = true;
        }
        (new_problem, triggered)
    };
    if let Some(w) = ctx.workers.lock().await.get(&key) {
        w.set_confirmation(
            sync.annotations()
                .get(CONFIRM_DELETIONS_ANNOTATION)
                .cloned(),
        );
        if triggered {
            info!("sync requested by annotation");
            w.trigger();
        }
    }
    refresh_webhook_counts(&ctx, &key).await;
    super::sync::publish(&ctx, &key).await?;

    match action {
        WorkerAction::Start => {
            ctx.event(
                &object_ref,
                EventType::Normal,
                "WorkerStarted",
                "Start",
                "Sync worker started".into(),
            )
            .await
        }
        WorkerAction::Restart => {
            ctx.event(
                &object_ref,
                EventType::Normal,
                "WorkerRestarted",
                "Restart",
                "Spec, connection or profile changed; sync worker restarted".into(),
            )
            .await
        }
        WorkerAction::Stop if sync.spec.suspend => {
            ctx.event(
                &object_ref,
                EventType::Normal,
                reason::SUSPENDED,
                "Stop",
                "Sync suspended".into(),
            )
            .await
        }
        _ => {}
    }
    if let Some(p) = new_problem {
        warn!(reason = p.reason, message = %p.message, "sync cannot run");
        ctx.event(
            &object_ref,
            EventType::Warning,
            p.reason,
            "Resolve",
            p.message,
        )
        .await;
    }
    // Every input is watched; a periodic look is insurance, and costs reads
    // (the connection, profile and Secret), so a healthy sync's is hourly.
    // Status that changes with time alone (`Overdue`) is re-rendered by
    // `housekeeping` without reads.
    Ok(match &resolved {
        Err(p) if !p.stalled => Action::requeue(Duration::from_secs(30)),
        _ => Action::requeue(RECHECK),
    })
}

/// Keeps the sync's part of its connection's webhook route: the keys that
/// verify deliveries (from labelled Secrets only), or no route when the sync
/// cannot run. Returns the URL to show in status, when the sync asks for
/// webhooks or its connection has a webhook secret.
async fn webhook_route(
    ctx: &Context,
    sync: &AtsSync,
    connection: Option<&AtsConnection>,
    spec: Option<&crate::sync::SyncSpec>,
) -> Result<Option<String>, ControllerError> {
    use super::webhooks;
    let key = key_of(sync);
    let (Some(conn), Some(spec)) = (connection, spec) else {
        ctx.webhooks.set_sync(&key, "", None);
        return Ok(None);
    };
    let ns = &key.namespace;
    let webhook_secret = match &conn.spec.webhook_secret_ref {
        Some(r) => super::credentials::fetch_secret(&ctx.client, ns, &r.name).await?,
        None => None,
    };
    let tokens =
        super::credentials::fetch_secret(&ctx.client, ns, &webhooks::tokens_secret_name(&key.name))
            .await?;
    let keys = webhooks::keys(
        conn,
        webhook_secret.as_ref(),
        &spec.connection.credentials,
        tokens.as_slice(),
    );
    let wanted = sync.spec.webhooks.is_some() || conn.spec.webhook_secret_ref.is_some();
    match keys {
        Ok(keys) if !keys.is_empty() => {
            ctx.webhooks
                .set_sync(&key, &conn.name_any(), Some((conn.spec.vendor, keys)));
        }
        Ok(_) => ctx.webhooks.set_sync(&key, "", None),
        Err(p) => {
            warn!(message = %p.message, "webhook deliveries cannot be verified");
            ctx.webhooks.set_sync(&key, "", None);
        }
    }
    Ok(wanted.then(|| {
        webhooks::url(
            sync.spec
                .webhooks
                .as_ref()
                .and_then(|w| w.public_base_url.as_deref()),
            ns,
            &conn.name_any(),
        )
    }))
}

/// Puts each webhook sync's refusal counts (in memory) into its status when
/// they changed: at most one status write per sync and housekeeping tick,
/// however many forged deliveries arrive.
async fn refresh_refusals(ctx: &Context) {
    let slots: Vec<(SyncKey, Arc<tokio::sync::Mutex<super::SyncSlot>>)> = {
        let slots = ctx.slots.lock().unwrap_or_else(|e| e.into_inner());
        slots.iter().map(|(k, v)| (k.clone(), v.clone())).collect()
    };
    for (key, slot) in slots {
        let changed = {
            let mut slot = slot.lock().await;
            let Some(conn) = slot.connection.clone() else {
                continue;
            };
            let Some(w) = slot.view.webhooks.as_mut() else {
                continue;
            };
            let refused = ctx.webhooks.refusals.of(&key.namespace, &conn);
            let changed = w.refused != refused;
            w.refused = refused;
            changed && slot.applied.is_some()
        };
        if changed && let Err(e) = publish(ctx, &key).await {
            warn!(tenant = %key.namespace, sync = %key.name, error = %e, "could not publish status");
        }
    }
}

/// Puts the ledger's delivery counts and the refusals of the sync's
/// connection into its view (when the sync has a webhook).
async fn refresh_webhook_counts(ctx: &Context, key: &SyncKey) {
    let counts = ctx.ledger.delivery_counts(&key.ledger_key()).await.ok();
    let totals = ctx.ledger.totals(&key.ledger_key()).await.ok();
    let slot = ctx.slot(key);
    let mut slot = slot.lock().await;
    let connection = slot.connection.clone();
    let Some(w) = slot.view.webhooks.as_mut() else {
        return;
    };
    if let Some(c) = counts {
        w.accepted = c.accepted;
        w.processed = c.processed.saturating_add(c.skipped);
        w.pending = c.pending;
        w.last_delivery_time = c.last_received_at.map(status::ts);
    }
    if let Some(conn) = connection {
        w.refused = ctx.webhooks.refusals.of(&key.namespace, &conn);
    }
    if let Some(t) = totals {
        let view = &mut slot.view;
        let mut totals = view.totals.clone().unwrap_or_default();
        totals.scored = t.scored;
        totals.written_back = t.written_back;
        totals.failed = t.failed;
        totals.abandoned = t.abandoned;
        view.totals = Some(totals);
    }
}

/// Renders and applies the status of `key` if it changed.
pub async fn publish(ctx: &Context, key: &SyncKey) -> Result<(), kube::Error> {
    let slot = ctx.slot(key);
    let mut slot = slot.lock().await;
    let previous = slot
        .applied
        .as_ref()
        .map(|s| s.conditions.clone())
        .unwrap_or_default();
    let status = status::render(&slot.view, &previous, Utc::now());
    if slot.applied.as_ref() == Some(&status) {
        return Ok(());
    }
    super::apply_status::<AtsSync>(&ctx.client, &key.name, &key.namespace, &status).await?;
    slot.applied = Some(status);
    Ok(())
}

/// Turns worker reports into status and Events. Weak: workers must not keep the
/// context alive.
struct SyncReporter(Weak<Context>);

#[async_trait]
impl worker::Reporter for SyncReporter {
    /// Records the first sync's start before it writes anything (one status
    /// write in the sync's life).
    async fn run_started(&self, key: &SyncKey, at: DateTime<Utc>) {
        let Some(ctx) = self.0.upgrade() else { return };
        {
            let slot = ctx.slot(key);
            let mut slot = slot.lock().await;
            if slot.view.first_sync_time.is_some() {
                return;
            }
            slot.view.first_sync_time = Some(at);
        }
        if let Err(e) = publish(&ctx, key).await {
            warn!(error = %e, "could not publish status");
        }
    }

    async fn worker_failed(&self, key: &SyncKey, message: String, restart_in: Duration) {
        let Some(ctx) = self.0.upgrade() else { return };
        let slot = ctx.slot(key);
        let object_ref = {
            let mut slot = slot.lock().await;
            slot.view.worker_failure =
                Some(format!("{message} in {}s", restart_in.as_secs().max(1)));
            slot.object_ref.clone()
        };
        if let Err(e) = publish(&ctx, key).await {
            warn!(error = %e, "could not publish status");
        }
        if let Some(oref) = object_ref {
            ctx.event(
                &oref,
                EventType::Warning,
                reason::WORKER_FAILED,
                "Sync",
                message,
            )
            .await;
        }
    }

    async fn deliveries_processed(
        &self,
        key: &SyncKey,
        result: &Result<crate::sync::webhook_run::DrainReport, SyncError>,
    ) {
        let Some(ctx) = self.0.upgrade() else { return };
        // A closed fence is not a failure: the deliveries wait in the ledger.
        if let Err(e) = result
            && !matches!(e, SyncError::Lost(_))
        {
            warn!(error = %e, "webhook deliveries failed");
        }
        refresh_webhook_counts(&ctx, key).await;
        if let Err(e) = publish(&ctx, key).await {
            warn!(error = %e, "could not publish status");
        }
    }

    async fn run_finished(&self, key: &SyncKey, outcome: RunOutcome) {
        let Some(ctx) = self.0.upgrade() else { return };
        let totals = ctx
            .ledger
            .totals(&key.ledger_key())
            .await
            .ok()
            .map(|t| SyncCounts {
                scored: t.scored,
                written_back: t.written_back,
                failed: t.failed,
                abandoned: t.abandoned,
                ..Default::default()
            });
        let slot = ctx.slot(key);
        let (events, object_ref) = {
            let mut slot = slot.lock().await;
            let view = &mut slot.view;
            view.has_run = true;
            view.worker_failure = None;
            view.last_sync_time = Some(outcome.finished);
            view.next_sync_time = Some(outcome.next_sync);
            if totals.is_some() {
                view.totals = totals;
            }
            let vendor = view.vendor.map(|v| v.to_string()).unwrap_or_default();
            let quote = view.quotes_vendor_text;
            let shown = |text: &str| {
                if quote {
                    text.to_string()
                } else {
                    crate::vendors::http::unquoted(text)
                }
            };
            let mut events = Vec::new();
            match &outcome.result {
                Ok(report) => {
                    let recovered = view.run_problem.take().is_some();
                    view.last_successful_sync_time = Some(outcome.finished);
                    view.watermark = report.watermark.or(view.watermark);
                    view.last_counts = Some(report.counts.clone());
                    // A run that pulled no jobs keeps the last summary.
                    if !report.job_checks.is_empty() {
                        view.job_ads =
                            Some(crate::api::job_ads::summarize(report.job_checks.values()));
                    }
                    view.write_failure = report.write_failure.as_deref().map(shown);
                    if report.full || report.suspicious_deletions.is_some() {
                        let fresh = report.suspicious_deletions.is_some()
                            && view.held_deletions != report.suspicious_deletions;
                        view.held_deletions = report.suspicious_deletions.clone();
                        if let (true, Some(h)) = (fresh, &view.held_deletions) {
                            events.push((
                                EventType::Warning,
                                reason::SUSPICIOUS_DELETIONS,
                                h.message(),
                            ));
                        }
                    }
                    for (job, title) in report.jobs_without_requirements.iter().take(10) {
                        events.push((
                            EventType::Warning,
                            reason::NO_REQUIREMENTS_FOUND,
                            format!(
                                "Job {job} ({}): no requirements found in the job; its \
                                 applications are scored without the skills component. Add \
                                 requirements to the job, or mustHaveSkills to the scoring profile",
                                title.chars().take(80).collect::<String>()
                            ),
                        ));
                    }
                    for (app, error) in &report.abandoned {
                        events.push((
                            EventType::Warning,
                            reason::WRITE_ABANDONED,
                            format!(
                                "Gave up writing the score of application {app} after repeated \
                                 permanent failures: {}",
                                shown(error)
                            ),
                        ));
                    }
                    if report.counts.scored > 0 || recovered {
                        events.push((
                            EventType::Normal,
                            reason::SYNCED,
                            format!(
                                "Scored {} applications, wrote back {}, {} unchanged, {} failed",
                                report.counts.scored,
                                report.counts.written_back,
                                report.counts.unchanged,
                                report.counts.failed
                            ),
                        ));
                    }
                }
                Err(e) => {
                    let p = match e {
                        SyncError::Vendor(v) => Problem::from_vendor(&vendor, v, quote),
                        SyncError::Ledger(l) => Problem {
                            reason: reason::LEDGER_ERROR,
                            message: l.to_string(),
                            stalled: false,
                        },
                        SyncError::Lost(l) => Problem {
                            reason: reason::PENDING,
                            message: l.to_string(),
                            stalled: false,
                        },
                    };
                    let changed = view.run_problem.as_ref().map(|o| o.reason) != Some(p.reason);
                    view.run_problem = Some(p.clone());
                    if changed {
                        events.push((EventType::Warning, p.reason, p.message));
                    }
                }
            };
            (events, slot.object_ref.clone())
        };
        if let Err(e) = publish(&ctx, key).await {
            warn!(error = %e, "could not publish status");
        }
        if let Some(oref) = object_ref {
            for (t, r, note) in events {
                ctx.event(&oref, t, r, "Sync", note).await;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_writes_do_not_call_for_a_reconcile() {
        let mut s = AtsSync::new("s", Default::default());
        s.metadata.generation = Some(1);
        let h = reconcile_hash(&s);
        s.status = Some(crate::api::AtsSyncStatus {
            last_sync_time: Some("2026-12-04T10:00:00.000Z".into()),
            ..Default::default()
        });
        s.metadata.resource_version = Some("42".into());
        assert_eq!(reconcile_hash(&s), h);
        for change in [
            |s: &mut AtsSync| s.metadata.generation = Some(2),
            |s: &mut AtsSync| {
                s.metadata.annotations =
                    Some([(SYNC_REQUESTED_ANNOTATION.to_string(), "now".to_string())].into())
            },
            |s: &mut AtsSync| {
                s.metadata.labels = Some([("ats.dev/shard".to_string(), "b".to_string())].into())
            },
            |s: &mut AtsSync| s.metadata.finalizers = Some(vec![FINALIZER.to_string()]),
            |s: &mut AtsSync| {
                s.metadata.deletion_timestamp =
                    Some(k8s_openapi::apimachinery::pkg::apis::meta::v1::Time(
                        "2026-12-04T10:00:00Z".parse().unwrap(),
                    ))
            },
        ] {
            let mut c = s.clone();
            change(&mut c);
            assert_ne!(reconcile_hash(&c), h);
        }
    }

    #[test]
    fn workers_of_syncs_that_left_the_cache_are_gone() {
        let key = |n: &str| SyncKey {
            namespace: "t".into(),
            name: n.into(),
        };
        let running = [key("a"), key("b"), key("c")];
        let present = |k: &SyncKey| k.name != "b";
        assert_eq!(gone(&running, present), vec![key("b")]);
        assert!(gone(&running, |_| true).is_empty());
    }
}
