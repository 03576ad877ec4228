//! The controller's side of webhooks: where a connection's deliveries go, the
//! keys that verify them, and which syncs process them.
//!
//! The sync reconciler (leader only) keeps one [`Route`] per connection
//! that has syncs: the vendor, the verification keys (read from Secrets
//! that carry the credentials label, like every Secret the operator reads),
//! and each sync's worker signal. The HTTP intake reads routes from memory, so
//! a delivery costs no API call before the ledger write.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use k8s_openapi::api::core::v1::Secret;
use tokio::sync::Notify;

use super::resolve::{Problem, credentials_allowed};
use crate::api::AtsConnection;
use crate::ledger::Acceptance;
use crate::model::VendorKind;
use crate::sync::SyncKey;
use crate::vendors::SecretValue;
use crate::webhooks::route::{ConnectionKeys, Intake, Leader};
use crate::webhooks::{Delivery, EventKind, Refusal};

/// The path of a connection's webhook on the operator's HTTP port.
pub fn path(namespace: &str, connection: &str) -> String {
    format!("/webhooks/{namespace}/{connection}")
}

/// The URL to register with the vendor: the public base URL and the path,
/// or the path alone when no base is given.
pub fn url(public_base_url: Option<&str>, namespace: &str, connection: &str) -> String {
    match public_base_url.map(|b| b.trim_end_matches('/')) {
        Some(base) if !base.is_empty() => format!("{base}{}", path(namespace, connection)),
        _ => path(namespace, connection),
    }
}

/// Where this replica is reached by the others: the Pod IP (the chart sets
/// `POD_IP`) with the bound port, else the bound address when it names one.
pub fn advertise_address(pod_ip: Option<&str>, bound: std::net::SocketAddr) -> Option<String> {
    let ip = match pod_ip.and_then(|p| p.trim().parse::<std::net::IpAddr>().ok()) {
        Some(ip) => ip,
        None if !bound.ip().is_unspecified() => bound.ip(),
        None => return None,
    };
    Some(format!(
        "http://{}",
        std::net::SocketAddr::new(ip, bound.port())
    ))
}

/// The Secret the operator owns for a sync's registered signing tokens (Lever
/// returns one per webhook, once): keys are registration ids.
pub fn tokens_secret_name(sync: &str) -> String {
    format!("{sync}-webhook-tokens")
}

/// The keys a delivery for `conn` may be signed with: the Secret key
/// `spec.webhookSecretRef` names; for Workable without one, the API token it
/// signs with; and the tokens of webhooks the operator registered. An
/// unreadable ref is a problem for the connection's syncs to show.
pub fn keys(
    conn: &AtsConnection,
    webhook_secret: Option<&Secret>,
    credentials: &BTreeMap<String, SecretValue>,
    registered: &[Secret],
) -> Result<Vec<SecretValue>, Problem> {
    let mut out = Vec::new();
    if let Some(r) = &conn.spec.webhook_secret_ref {
        let Some(secret) = webhook_secret else {
            return Err(Problem::invalid(format!(
                "Secret {:?} (spec.webhookSecretRef of AtsConnection {}) not found",
                r.name,
                kube::ResourceExt::name_any(conn)
            )));
        };
        if !credentials_allowed(secret) {
            return Err(Problem::invalid(format!(
                "Secret {:?} (spec.webhookSecretRef) is not labelled {}={}",
                r.name,
                crate::api::CREDENTIALS_LABEL,
                crate::api::CREDENTIALS_LABEL_VALUE
            )));
        }
        match secret_value(secret, &r.key) {
            Some(v) => out.push(v),
            None => {
                return Err(Problem::invalid(format!(
                    "Secret {:?} has no non-empty key {:?} (spec.webhookSecretRef)",
                    r.name, r.key
                )));
            }
        }
    } else if conn.spec.vendor == VendorKind::Workable
        && let Some(token) = credentials.get("apiKey")
    {
        out.push(token.clone());
    }
    for s in registered.iter().filter(|s| credentials_allowed(s)) {
        for (_, v) in s.data.iter().flatten() {
            let v = String::from_utf8_lossy(&v.0).trim().to_string();
            if !v.is_empty() {
                out.push(SecretValue::new(v));
            }
        }
    }
    Ok(out)
}

fn secret_value(secret: &Secret, key: &str) -> Option<SecretValue> {
    let v = secret.data.as_ref()?.get(key)?;
    let v = String::from_utf8_lossy(&v.0).trim().to_string();
    (!v.is_empty()).then(|| SecretValue::new(v))
}

/// A connection's deliveries: how to verify them, and the syncs they feed.
#[derive(Clone)]
pub struct Route {
    pub vendor: VendorKind,
    pub keys: Vec<SecretValue>,
    /// Each sync using the connection.
    pub syncs: std::collections::BTreeSet<SyncKey>,
}

/// Refusals by connection since the start, for status and metrics.
#[derive(Default)]
pub struct Refusals {
    counts: std::sync::Mutex<HashMap<(String, String), BTreeMap<Refusal, u64>>>,
}

impl Refusals {
    pub fn add(&self, namespace: &str, connection: &str, r: Refusal) {
        let mut m = self.counts.lock().unwrap_or_else(|e| e.into_inner());
        let e = m
            .entry((namespace.to_string(), connection.to_string()))
            .or_default()
            .entry(r)
            .or_default();
        *e = e.saturating_add(1);
    }

    /// By reason name, as status shows them.
    pub fn of(&self, namespace: &str, connection: &str) -> BTreeMap<String, u64> {
        let m = self.counts.lock().unwrap_or_else(|e| e.into_inner());
        m.get(&(namespace.to_string(), connection.to_string()))
            .map(|c| {
                c.iter()
                    .map(|(r, n)| (r.as_str().to_string(), *n))
                    .collect()
            })
            .unwrap_or_default()
    }
}

/// Reads the Lease to find the leader's webhook address (cached briefly: a
/// burst of deliveries reads it once).
struct LeaseLookup {
    api: kube::Api<k8s_openapi::api::coordination::v1::Lease>,
    name: String,
    identity: String,
    cached: tokio::sync::Mutex<Option<(std::time::Instant, Option<String>)>>,
}

/// How long a standby trusts the leader address it read.
const LEASE_CACHE: std::time::Duration = std::time::Duration::from_secs(1);

/// The webhook intake's view of the operator, shared by the HTTP server
/// (which outlives leadership terms) and the controllers of the current term.
pub struct Hub {
    routes: std::sync::RwLock<HashMap<(String, String), Route>>,
    /// The ledger while this replica leads; `None` on a standby.
    leading: std::sync::RwLock<Option<Arc<crate::ledger::Ledger>>>,
    pub refusals: Refusals,
    /// Each sync worker's signal: deliveries are waiting in the ledger.
    signals: std::sync::Mutex<HashMap<SyncKey, Arc<Notify>>>,
    lease: Option<LeaseLookup>,
    /// Unprocessed deliveries a sync may hold before new ones get 503.
    pub max_pending: u32,
    /// Largest delivery body accepted (413 above).
    pub body_limit: usize,
    /// Lever's `triggeredAt` window, either side of now (`Stale` outside).
    pub lever_window: std::time::Duration,
}

/// Default bound of a sync's unprocessed deliveries.
pub const DEFAULT_MAX_PENDING: u32 = 1000;
/// Default limit of a delivery's body: 1 MiB.
pub const DEFAULT_BODY_LIMIT: usize = 1024 * 1024;
/// Default Lever `triggeredAt` window: 5 minutes.
pub const DEFAULT_LEVER_WINDOW: std::time::Duration = std::time::Duration::from_secs(300);

impl Hub {
    pub fn new(
        client: Option<kube::Client>,
        leader: Option<&super::leadership::LeaderConfig>,
        max_pending: u32,
        body_limit: usize,
        lever_window: std::time::Duration,
    ) -> Arc<Self> {
        let lease = match (client, leader) {
            (Some(c), Some(cfg)) => Some(LeaseLookup {
                api: kube::Api::namespaced(c, &cfg.namespace),
                name: cfg.lease_name.clone(),
                identity: cfg.identity.clone(),
                cached: tokio::sync::Mutex::new(None),
            }),
            _ => None,
        };
        Arc::new(Hub {
            routes: Default::default(),
            leading: Default::default(),
            refusals: Refusals::default(),
            signals: Default::default(),
            lease,
            max_pending: max_pending.max(1),
            body_limit: body_limit.max(1024),
            // Above a few seconds: Lever's clock and ours differ a little.
            lever_window: lever_window.max(std::time::Duration::from_secs(5)),
        })
    }

    /// The controllers of a term start (`Some`) or stop (`None`) leading.
    pub fn set_leading(&self, ledger: Option<Arc<crate::ledger::Ledger>>) {
        let mut l = self.leading.write().unwrap_or_else(|e| e.into_inner());
        *l = ledger;
        if l.is_none() {
            self.routes
                .write()
                .unwrap_or_else(|e| e.into_inner())
                .clear();
        }
    }

    fn ledger(&self) -> Option<Arc<crate::ledger::Ledger>> {
        self.leading
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// The signal of a sync's worker (the same for the sync's lifetime).
    pub fn signal(&self, key: &SyncKey) -> Arc<Notify> {
        let mut m = self.signals.lock().unwrap_or_else(|e| e.into_inner());
        m.entry(key.clone()).or_default().clone()
    }

    /// A sync is gone: no route, no signal.
    pub fn forget(&self, key: &SyncKey) {
        self.set_sync(key, "", None);
        let mut m = self.signals.lock().unwrap_or_else(|e| e.into_inner());
        m.remove(key);
    }

    /// Sets (or, with `None`, removes) one sync's part of its connection's route.
    pub fn set_sync(
        &self,
        key: &SyncKey,
        connection: &str,
        route: Option<(VendorKind, Vec<SecretValue>)>,
    ) {
        let mut routes = self.routes.write().unwrap_or_else(|e| e.into_inner());
        // A sync may have moved to another connection: leave the others.
        for ((ns, _), r) in routes.iter_mut() {
            if *ns == key.namespace {
                r.syncs.remove(key);
            }
        }
        if let Some((vendor, keys)) = route {
            let r = routes
                .entry((key.namespace.clone(), connection.to_string()))
                .or_insert_with(|| Route {
                    vendor,
                    keys: Vec::new(),
                    syncs: Default::default(),
                });
            r.vendor = vendor;
            r.keys = keys;
            r.syncs.insert(key.clone());
        }
        routes.retain(|_, r| !r.syncs.is_empty());
    }

    async fn leader_route(&self) -> Leader {
        if self.ledger().is_some() {
            return Leader::Here;
        }
        let Some(l) = &self.lease else {
            return Leader::Unknown;
        };
        let mut cached = l.cached.lock().await;
        if let Some((at, addr)) = cached.as_ref()
            && at.elapsed() < LEASE_CACHE
        {
            return forward_to(addr.as_deref());
        }
        let addr = match l.api.get_opt(&l.name).await {
            Ok(Some(lease)) => super::leadership::forward_address(&lease, &l.identity),
            Ok(None) => None,
            Err(e) => {
                tracing::warn!(error = %e, "cannot read the leader Lease to forward a webhook");
                None
            }
        };
        *cached = Some((std::time::Instant::now(), addr.clone()));
        forward_to(addr.as_deref())
    }

    /// The vendor and keys of a connection; `None`: unknown here, or no key
    /// to verify with.
    pub fn route_keys(
        &self,
        namespace: &str,
        connection: &str,
    ) -> Option<(VendorKind, Vec<SecretValue>)> {
        let routes = self.routes.read().unwrap_or_else(|e| e.into_inner());
        let r = routes.get(&(namespace.to_string(), connection.to_string()))?;
        (!r.keys.is_empty()).then(|| (r.vendor, r.keys.clone()))
    }

    /// The syncs a connection's deliveries feed.
    pub fn syncs(&self, namespace: &str, connection: &str) -> Vec<SyncKey> {
        let routes = self.routes.read().unwrap_or_else(|e| e.into_inner());
        routes
            .get(&(namespace.to_string(), connection.to_string()))
            .map(|r| r.syncs.iter().cloned().collect())
            .unwrap_or_default()
    }
}

fn forward_to(addr: Option<&str>) -> Leader {
    match addr.and_then(|a| url::Url::parse(a).ok()) {
        Some(u) => Leader::Forward(u),
        None => Leader::Unknown,
    }
}

#[async_trait::async_trait]
impl Intake for Hub {
    async fn leader(&self) -> Leader {
        self.leader_route().await
    }

    async fn keys(&self, namespace: &str, connection: &str) -> Option<ConnectionKeys> {
        self.route_keys(namespace, connection)
            .map(|(vendor, keys)| ConnectionKeys { vendor, keys })
    }

    async fn accept(
        &self,
        namespace: &str,
        connection: &str,
        delivery: Delivery,
    ) -> Result<bool, Refusal> {
        // A refusal returned here is counted by the route (`refused`).
        let vendor = Some(delivery.vendor);
        let metrics = crate::metrics::global();
        // Events the operator does not act on are acknowledged, not kept.
        if matches!(delivery.event.kind, EventKind::Ignored | EventKind::Ping) {
            metrics.webhook_delivery(namespace, connection, vendor, "ignored");
            return Ok(true);
        }
        let Some(ledger) = self.ledger() else {
            return Err(Refusal::NotLeader);
        };
        let syncs = self.syncs(namespace, connection);
        if syncs.is_empty() {
            return Err(Refusal::UnknownConnection);
        }
        let keys: Vec<String> = syncs.iter().map(SyncKey::ledger_key).collect();
        match ledger
            .accept_delivery(&keys, &delivery, self.max_pending)
            .await
        {
            Ok(Acceptance::New) => {
                metrics.webhook_delivery(namespace, connection, vendor, "accepted");
                for k in &syncs {
                    self.signal(k).notify_one();
                }
                Ok(true)
            }
            Ok(Acceptance::Duplicate) => {
                metrics.webhook_delivery(namespace, connection, vendor, "duplicate");
                Ok(false)
            }
            Ok(Acceptance::Replayed) => Err(Refusal::Replayed),
            Err(crate::ledger::LedgerError::QueueFull { .. }) => Err(Refusal::QueueFull),
            Err(e) => {
                // Not recorded: the vendor must retry (a 503).
                tracing::error!(tenant = %namespace, connection, error = %e, "could not record a webhook delivery");
                Err(Refusal::QueueFull)
            }
        }
    }

    fn refused(&self, namespace: &str, connection: &str, refusal: Refusal) {
        // Only connections this replica routes get their own series and
        // counts: a name in a URL is arbitrary input.
        let vendor = self.route_keys(namespace, connection).map(|(v, _)| v);
        let known = {
            let routes = self.routes.read().unwrap_or_else(|e| e.into_inner());
            routes.contains_key(&(namespace.to_string(), connection.to_string()))
        };
        let metrics = crate::metrics::global();
        if known {
            self.refusals.add(namespace, connection, refusal);
            metrics.webhook_delivery(namespace, connection, vendor, refusal.as_str());
        } else {
            metrics.webhook_delivery("", "", None, refusal.as_str());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::{AtsConnectionSpec, SecretKeyRef};
    use k8s_openapi::ByteString;

    fn secret(name: &str, labelled: bool, data: &[(&str, &str)]) -> Secret {
        let mut s = Secret::default();
        s.metadata.name = Some(name.into());
        if labelled {
            s.metadata.labels = Some(
                [(
                    crate::api::CREDENTIALS_LABEL.to_string(),
                    crate::api::CREDENTIALS_LABEL_VALUE.to_string(),
                )]
                .into(),
            );
        }
        s.data = Some(
            data.iter()
                .map(|(k, v)| (k.to_string(), ByteString(v.as_bytes().to_vec())))
                .collect(),
        );
        s
    }

    fn conn(vendor: VendorKind, r: Option<SecretKeyRef>) -> AtsConnection {
        AtsConnection::new(
            "c",
            AtsConnectionSpec {
                vendor,
                webhook_secret_ref: r,
                ..Default::default()
            },
        )
    }

    #[test]
    fn urls_and_paths() {
        assert_eq!(path("t", "gh"), "/webhooks/t/gh");
        assert_eq!(
            url(Some("https://ats.example.com/"), "t", "gh"),
            "https://ats.example.com/webhooks/t/gh"
        );
        assert_eq!(url(None, "t", "gh"), "/webhooks/t/gh");
        assert_eq!(tokens_secret_name("nightly"), "nightly-webhook-tokens");
        let any: std::net::SocketAddr = "0.0.0.0:8080".parse().unwrap();
        let lo: std::net::SocketAddr = "127.0.0.1:41234".parse().unwrap();
        assert_eq!(
            advertise_address(Some("10.1.2.3"), any).as_deref(),
            Some("http://10.1.2.3:8080")
        );
        assert_eq!(
            advertise_address(Some("fd00::5"), any).as_deref(),
            Some("http://[fd00::5]:8080")
        );
        assert_eq!(advertise_address(None, any), None);
        assert_eq!(
            advertise_address(Some("junk"), lo).as_deref(),
            Some("http://127.0.0.1:41234")
        );
    }

    #[test]
    fn keys_come_from_labelled_secrets_only() {
        let r = SecretKeyRef {
            name: "hook".into(),
            key: "secret".into(),
        };
        let c = conn(VendorKind::Greenhouse, Some(r));
        let ok = secret("hook", true, &[("secret", " s3cret\n")]);
        let k = keys(&c, Some(&ok), &BTreeMap::new(), &[]).unwrap();
        assert_eq!(k.len(), 1);
        assert_eq!(k[0].expose(), "s3cret");
        // Unlabelled, missing, or without the key: a problem, never a value in it.
        let bare = secret("hook", false, &[("secret", "s3cret")]);
        let e = keys(&c, Some(&bare), &BTreeMap::new(), &[]).unwrap_err();
        assert!(e.message.contains("not labelled") && !e.message.contains("s3cret"));
        assert!(keys(&c, None, &BTreeMap::new(), &[]).is_err());
        let empty = secret("hook", true, &[("other", "x")]);
        assert!(keys(&c, Some(&empty), &BTreeMap::new(), &[]).is_err());
        // Greenhouse without a ref: no keys (deliveries are refused).
        let none = conn(VendorKind::Greenhouse, None);
        assert!(keys(&none, None, &BTreeMap::new(), &[]).unwrap().is_empty());
    }

    #[test]
    fn workable_signs_with_its_api_token_and_lever_with_registered_tokens() {
        let creds = BTreeMap::from([("apiKey".to_string(), SecretValue::new("tok"))]);
        let w = keys(&conn(VendorKind::Workable, None), None, &creds, &[]).unwrap();
        assert_eq!(w.iter().map(|k| k.expose()).collect::<Vec<_>>(), ["tok"]);
        let reg = secret("s-webhook-tokens", true, &[("id1", "t1"), ("id2", "t2")]);
        let l = keys(&conn(VendorKind::Lever, None), None, &creds, &[reg]).unwrap();
        assert_eq!(
            l.iter().map(|k| k.expose()).collect::<Vec<_>>(),
            ["t1", "t2"]
        );
    }

    #[test]
    fn refusals_count_by_connection() {
        let r = Refusals::default();
        r.add("t", "gh", Refusal::BadSignature);
        r.add("t", "gh", Refusal::BadSignature);
        r.add("t", "gh", Refusal::Stale);
        r.add("u", "gh", Refusal::Stale);
        assert_eq!(
            r.of("t", "gh"),
            BTreeMap::from([("BadSignature".into(), 2), ("Stale".into(), 1)])
        );
        assert!(r.of("t", "other").is_empty());
    }
}
