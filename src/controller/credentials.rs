//! Credentials a vendor client rotates (Lever's refresh tokens), kept in the
//! tenant's Secret.
//!
//! Every refresh returns a new refresh token and kills the old one, so exactly
//! one refresh per tenant may be in flight: within this process a mutex per
//! Secret serialises workers, across operator replicas a `coordination.k8s.io`
//! Lease does. The holder re-reads the Secret (someone else may have refreshed
//! already), refreshes, and saves the new tokens before using them.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, LazyLock, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use k8s_openapi::api::coordination::v1::{Lease, LeaseSpec};
use k8s_openapi::api::core::v1::Secret;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{MicroTime, ObjectMeta};
use kube::api::{Api, Patch, PatchParams, PostParams};
use kube::{Client, ResourceExt};
use serde_json::json;
use tracing::{debug, warn};

use crate::api::AtsConnection;
use crate::vendors::{self, CredentialLock, CredentialStore, SecretValue, VendorError};

/// A Lease is taken over when its holder has not renewed it for this long
/// (a replica that died mid-refresh).
const LEASE_SECONDS: i32 = 30;
/// How long to wait for the lock before reporting the vendor unavailable.
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(60);

type LocalLocks = Mutex<HashMap<(String, String), Arc<tokio::sync::Mutex<()>>>>;
static LOCAL: LazyLock<LocalLocks> = LazyLock::new(Default::default);

/// The Secret of one connection as a [`CredentialStore`].
#[derive(Clone)]
pub struct SecretStore {
    client: Client,
    namespace: String,
    secret: String,
    /// Logical name to Secret key, for every credential the vendor reads.
    keys: BTreeMap<String, String>,
    holder: String,
}

impl SecretStore {
    pub fn for_connection(client: Client, conn: &AtsConnection) -> Result<Self, VendorError> {
        let spec = vendors::credentials(conn.spec.vendor, &conn.spec.auth)?;
        let keys = spec
            .alternatives
            .iter()
            .flatten()
            .chain(spec.optional.iter())
            .map(|(logical, key)| (logical.to_string(), key.clone()))
            .collect();
        Ok(SecretStore {
            client,
            namespace: conn.namespace().unwrap_or_default(),
            secret: conn.spec.auth.secret_name.clone(),
            keys,
            holder: holder_identity(),
        })
    }

    fn lease_name(&self) -> String {
        let mut n = format!("ats-credentials-{}", self.secret);
        n.truncate(253);
        n
    }

    async fn acquire_lease(&self) -> Result<(), VendorError> {
        let api: Api<Lease> = Api::namespaced(self.client.clone(), &self.namespace);
        let name = self.lease_name();
        let deadline = tokio::time::Instant::now() + ACQUIRE_TIMEOUT;
        loop {
            match try_acquire(&api, &name, &self.holder).await {
                Ok(true) => return Ok(()),
                Ok(false) => debug!(lease = %name, "credential lease held elsewhere; waiting"),
                Err(e) => warn!(lease = %name, error = %e, "credential lease"),
            }
            if tokio::time::Instant::now() >= deadline {
                return Err(VendorError::Unavailable(format!(
                    "could not take Lease {name} to refresh the token within {}s",
                    ACQUIRE_TIMEOUT.as_secs()
                )));
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    }
}

fn holder_identity() -> String {
    let base = std::env::var("POD_NAME")
        .or_else(|_| std::env::var("HOSTNAME"))
        .unwrap_or_else(|_| "ats-operator".into());
    // Distinct per process, so a restarted pod does not inherit its old lease.
    format!("{base}-{}", std::process::id())
}

fn now() -> MicroTime {
    MicroTime(k8s_openapi::jiff::Timestamp::now())
}

/// One attempt: creates the Lease, or takes it when free, ours or expired.
/// Conflicts (another replica won the race) read as "not acquired".
async fn try_acquire(api: &Api<Lease>, name: &str, holder: &str) -> Result<bool, kube::Error> {
    let spec = LeaseSpec {
        holder_identity: Some(holder.to_string()),
        lease_duration_seconds: Some(LEASE_SECONDS),
        acquire_time: Some(now()),
        renew_time: Some(now()),
        ..Default::default()
    };
    let Some(mut lease) = api.get_opt(name).await? else {
        let lease = Lease {
            metadata: ObjectMeta {
                name: Some(name.to_string()),
                ..Default::default()
            },
            spec: Some(spec),
        };
        return match api.create(&PostParams::default(), &lease).await {
            Ok(_) => Ok(true),
            Err(kube::Error::Api(s)) if s.code == 409 => Ok(false),
            Err(e) => Err(e),
        };
    };
    let current = lease.spec.clone().unwrap_or_default();
    let free = match current.holder_identity.as_deref() {
        None | Some("") => true,
        Some(h) if h == holder => true,
        Some(_) => {
            let renewed = current.renew_time.map(|t| t.0.as_second()).unwrap_or(0);
            let ttl = i64::from(current.lease_duration_seconds.unwrap_or(LEASE_SECONDS));
            k8s_openapi::jiff::Timestamp::now().as_second() > renewed + ttl
        }
    };
    if !free {
        return Ok(false);
    }
    lease.spec = Some(spec);
    // `replace` carries the resourceVersion we read: optimistic concurrency.
    match api.replace(name, &PostParams::default(), &lease).await {
        Ok(_) => Ok(true),
        Err(kube::Error::Api(s)) if s.code == 409 => Ok(false),
        Err(e) => Err(e),
    }
}

#[async_trait]
impl CredentialStore for SecretStore {
    async fn lock(&self) -> Result<Box<dyn CredentialLock>, VendorError> {
        let local = {
            let mut m = LOCAL.lock().unwrap_or_else(|e| e.into_inner());
            m.entry((self.namespace.clone(), self.secret.clone()))
                .or_default()
                .clone()
        };
        let guard = local.lock_owned().await;
        self.acquire_lease().await?;
        // Renewed while held, so a slow refresh (a token request may take a
        // minute, with retries more) never outlives the Lease and lets another
        // replica rotate the same refresh token.
        let renewer = tokio::spawn(renew_while_held(
            Api::namespaced(self.client.clone(), &self.namespace),
            self.lease_name(),
            self.holder.clone(),
        ));
        Ok(Box::new(SecretLock {
            store: self.clone(),
            _local: guard,
            renewer: AbortOnDrop(renewer),
        }))
    }
}

/// Reads a tenant's Secret as the operator may: its metadata first, and its
/// data only when it carries the opt-in label. An unlabelled Secret comes back
/// without data (so `resolve_connection` says `SecretNotAllowed`); a missing
/// one as `None`.
pub async fn fetch_secret(
    client: &Client,
    namespace: &str,
    name: &str,
) -> Result<Option<Secret>, kube::Error> {
    let api = Api::<Secret>::namespaced(client.clone(), namespace);
    let Some(meta) = api.get_metadata_opt(name).await? else {
        return Ok(None);
    };
    let shell = Secret {
        metadata: meta.metadata,
        ..Default::default()
    };
    if !super::resolve::credentials_allowed(&shell) {
        return Ok(Some(shell));
    }
    api.get_opt(name).await
}

struct SecretLock {
    store: SecretStore,
    _local: tokio::sync::OwnedMutexGuard<()>,
    renewer: AbortOnDrop,
}

/// Stops the renewal when the lock goes, however it goes.
struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Renews the rotation Lease every third of its duration while we hold it.
async fn renew_while_held(api: Api<Lease>, name: String, holder: String) {
    let every = Duration::from_secs(u64::try_from(LEASE_SECONDS / 3).unwrap_or(10).max(1));
    loop {
        tokio::time::sleep(every).await;
        let Ok(Some(mut lease)) = api.get_opt(&name).await else {
            continue;
        };
        let ours = lease
            .spec
            .as_ref()
            .and_then(|s| s.holder_identity.as_deref())
            == Some(holder.as_str());
        if !ours {
            warn!(lease = %name, "the credential rotation Lease was taken over");
            return;
        }
        if let Some(spec) = lease.spec.as_mut() {
            spec.renew_time = Some(now());
        }
        if let Err(e) = api.replace(&name, &PostParams::default(), &lease).await {
            warn!(lease = %name, error = %e, "could not renew the credential rotation Lease");
        }
    }
}

/// Pure: whether a Lease, as read, is still held by `holder`.
pub fn still_holder(lease: Option<&Lease>, holder: &str) -> bool {
    lease
        .and_then(|l| l.spec.as_ref())
        .and_then(|s| s.holder_identity.as_deref())
        == Some(holder)
}

fn not_allowed(secret: &str) -> VendorError {
    VendorError::Config(format!(
        "Secret {secret:?} is not labelled {}={}; the operator reads and writes only Secrets that carry it",
        crate::api::CREDENTIALS_LABEL,
        crate::api::CREDENTIALS_LABEL_VALUE
    ))
}

fn kube_error(what: &str, e: kube::Error) -> VendorError {
    VendorError::Unavailable(format!("{what}: {e}"))
}

#[async_trait]
impl CredentialLock for SecretLock {
    async fn load(&mut self) -> Result<BTreeMap<String, SecretValue>, VendorError> {
        let s = &self.store;
        let secret = fetch_secret(&s.client, &s.namespace, &s.secret)
            .await
            .map_err(|e| kube_error(&format!("reading Secret {:?}", s.secret), e))?
            .ok_or_else(|| VendorError::Config(format!("Secret {:?} not found", s.secret)))?;
        if !super::resolve::credentials_allowed(&secret) {
            return Err(not_allowed(&s.secret));
        }
        let data = secret.data.unwrap_or_default();
        Ok(s.keys
            .iter()
            .filter_map(|(logical, key)| {
                let v = String::from_utf8_lossy(&data.get(key)?.0)
                    .trim()
                    .to_string();
                (!v.is_empty()).then(|| (logical.clone(), SecretValue::new(v)))
            })
            .collect())
    }

    async fn save(&mut self, updates: &BTreeMap<String, SecretValue>) -> Result<(), VendorError> {
        use base64::Engine;
        let s = &self.store;
        // Checked before saving: a holder that lost the Lease must not
        // overwrite what the new holder rotated.
        let leases: Api<Lease> = Api::namespaced(s.client.clone(), &s.namespace);
        let lease = leases
            .get_opt(&s.lease_name())
            .await
            .map_err(|e| kube_error("reading the credential rotation Lease", e))?;
        if !still_holder(lease.as_ref(), &s.holder) {
            return Err(VendorError::Unavailable(format!(
                "lost the rotation Lease of Secret {:?} before saving; not overwriting it",
                s.secret
            )));
        }
        // One request: the label is tested and the keys written together, so a
        // Secret that lost its label in between is never written.
        let mut ops = vec![json!({
            "op": "test",
            "path": format!("/metadata/labels/{}", crate::api::CREDENTIALS_LABEL.replace('/', "~1")),
            "value": crate::api::CREDENTIALS_LABEL_VALUE,
        })];
        for (logical, v) in updates {
            let Some(key) = s.keys.get(logical) else {
                continue;
            };
            ops.push(json!({
                "op": "add",
                "path": format!("/data/{}", key.replace('~', "~0").replace('/', "~1")),
                "value": base64::engine::general_purpose::STANDARD.encode(v.expose()),
            }));
        }
        let patch: json_patch::Patch = serde_json::from_value(serde_json::Value::Array(ops))
            .map_err(|e| VendorError::Config(format!("building the Secret patch: {e}")))?;
        match Api::<Secret>::namespaced(s.client.clone(), &s.namespace)
            .patch(
                &s.secret,
                &PatchParams::default(),
                &Patch::<()>::Json(patch),
            )
            .await
        {
            Ok(_) => Ok(()),
            // The test failed: the label is gone.
            Err(kube::Error::Api(e)) if e.code == 422 => Err(not_allowed(&s.secret)),
            Err(e) => Err(kube_error(
                &format!("saving rotated token to Secret {:?}", s.secret),
                e,
            )),
        }
    }

    async fn release(self: Box<Self>) {
        self.renewer.0.abort();
        let s = &self.store;
        let api: Api<Lease> = Api::namespaced(s.client.clone(), &s.namespace);
        let name = s.lease_name();
        // Best effort: an unreleased lease frees itself after LEASE_SECONDS.
        if let Ok(Some(mut lease)) = api.get_opt(&name).await
            && lease
                .spec
                .as_ref()
                .and_then(|l| l.holder_identity.as_deref())
                == Some(s.holder.as_str())
        {
            if let Some(spec) = lease.spec.as_mut() {
                spec.holder_identity = None;
            }
            let _ = api.replace(&name, &PostParams::default(), &lease).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_holder_saves() {
        let lease = |h: Option<&str>| Lease {
            metadata: ObjectMeta::default(),
            spec: Some(LeaseSpec {
                holder_identity: h.map(str::to_string),
                ..Default::default()
            }),
        };
        assert!(still_holder(Some(&lease(Some("me"))), "me"));
        assert!(!still_holder(Some(&lease(Some("other"))), "me"));
        assert!(!still_holder(Some(&lease(None)), "me"));
        assert!(!still_holder(None, "me"));
    }
}
