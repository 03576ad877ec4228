//! One client per vendor account: the syncs that share a connection, and its
//! verification, share one HTTP client, one rate limiter and one token state,
//! so together they stay within the vendor's per-account budget.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, Weak};

use sha2::{Digest, Sha256};

use super::{AtsClient, ConnectionConfig, CredentialStore, VendorError};

#[derive(Default)]
pub struct ClientRegistry {
    clients: Mutex<HashMap<String, Weak<dyn AtsClient>>>,
}

/// Pure: what identifies one account's client in a tenant: the namespace and
/// everything the client is built from, credentials hashed (never kept), but
/// not the credentials the client rotates itself (a saved refresh token must
/// not split the budget).
pub fn account_key(namespace: &str, cfg: &ConnectionConfig) -> String {
    let rotated = cfg.vendor_rotated();
    let mut h = Sha256::new();
    h.update(format!(
        "{namespace}|{}|{:?}|{:?}|{:?}|{:?}|{:?}|{:?}|{:?}",
        cfg.vendor,
        cfg.base_url,
        cfg.token_url,
        cfg.subdomain,
        cfg.sub,
        cfg.rate_limit,
        cfg.endpoints,
        cfg.download_hosts
    ));
    for (k, v) in &cfg.credentials {
        if rotated.contains(&k.as_str()) {
            continue;
        }
        h.update([0]);
        h.update(k.as_bytes());
        h.update([0]);
        h.update(v.expose().as_bytes());
    }
    hex::encode(h.finalize())
}

impl ClientRegistry {
    pub fn new() -> Arc<Self> {
        Arc::new(ClientRegistry::default())
    }

    /// The account's client, built on first use. A client nobody holds any
    /// more is dropped, so deleted connections leave nothing behind.
    pub fn client(
        &self,
        namespace: &str,
        cfg: &ConnectionConfig,
        store: Option<Arc<dyn CredentialStore>>,
    ) -> Result<Arc<dyn AtsClient>, VendorError> {
        let key = account_key(namespace, cfg);
        let mut clients = self.clients.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(c) = clients.get(&key).and_then(Weak::upgrade) {
            return Ok(c);
        }
        clients.retain(|_, w| w.strong_count() > 0);
        let c = super::connect(cfg, store)?;
        tracing::debug!(account = &key[..12], "built the account's client");
        clients.insert(key, Arc::downgrade(&c));
        Ok(c)
    }

    /// Accounts with a live client.
    pub fn len(&self) -> usize {
        let clients = self.clients.lock().unwrap_or_else(|e| e.into_inner());
        clients.values().filter(|w| w.strong_count() > 0).count()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vendors::SecretValue;
    use crate::vendors::guard::EndpointPolicy;

    fn cfg(secret: &str) -> ConnectionConfig {
        ConnectionConfig {
            vendor: crate::model::VendorKind::Lever,
            base_url: Some("http://127.0.0.1:9".into()),
            token_url: None,
            subdomain: None,
            credentials: [("apiKey".to_string(), SecretValue::new(secret))].into(),
            sub: None,
            rate_limit: None,
            endpoints: EndpointPolicy::AllowPrivate,
            download_hosts: Vec::new(),
        }
    }

    #[test]
    fn one_client_per_account_while_held() {
        let r = ClientRegistry::new();
        let a = r.client("t", &cfg("k1"), None).unwrap();
        let b = r.client("t", &cfg("k1"), None).unwrap();
        assert!(
            Arc::ptr_eq(&a, &b),
            "two syncs of one account share a client"
        );
        let other_tenant = r.client("u", &cfg("k1"), None).unwrap();
        assert!(!Arc::ptr_eq(&a, &other_tenant));
        let new_key = r.client("t", &cfg("k2"), None).unwrap();
        assert!(!Arc::ptr_eq(&a, &new_key));
        assert_eq!(r.len(), 3);
        drop((a, b, other_tenant, new_key));
        assert!(r.is_empty(), "unheld clients are dropped");
        assert_ne!(account_key("t", &cfg("k1")), account_key("t", &cfg("k2")));
    }
}
