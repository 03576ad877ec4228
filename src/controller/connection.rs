//! The `AtsConnection` reconciler: resolves the Secret and checks the credentials
//! with the vendor, so `kubectl get atsconnections` tells whether they work.

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use kube::runtime::controller::Action;
use kube::runtime::events::EventType;
use kube::{Resource, ResourceExt};
use tracing::{Instrument, info_span};

use super::credentials::SecretStore;
use super::resolve::{self, Problem};
use super::{Context, ControllerError, status::ts};
use crate::api::AtsConnection;
use crate::api::conditions::{self, Condition, READY, reason};
use crate::vendors;

/// How often credentials that did not change are verified again.
pub const VERIFY_EVERY: Duration = Duration::from_secs(600);

/// Pure: whether to ask the vendor again. Verification spends the account's
/// budget, so it runs when the connection or its Secret changed (`fingerprint`)
/// or the last one is `VERIFY_EVERY` old; not on every reconcile (status
/// writes and requeues reconcile too).
pub fn verification_due(
    last: Option<&(String, std::time::Instant)>,
    fingerprint: &str,
    now: std::time::Instant,
) -> bool {
    match last {
        Some((fp, at)) => fp != fingerprint || now.duration_since(*at) >= VERIFY_EVERY,
        None => true,
    }
}

/// Verifies in a task of its own: a panic on a vendor's answer becomes a
/// vendor error on this tenant, never a panic of the controller (kube-runtime
/// would re-raise it on the main task and end the process for every tenant).
async fn contained(client: Arc<dyn vendors::AtsClient>) -> Result<(), vendors::VendorError> {
    let task = tokio::spawn(async move { client.verify().await }.in_current_span());
    match task.await {
        Ok(r) => r,
        Err(e) if e.is_panic() => {
            tracing::error!("verifying the connection panicked");
            Err(vendors::VendorError::Decode(
                "the vendor's answer could not be handled (an internal error was contained); \
                 the operator keeps running"
                    .into(),
            ))
        }
        Err(_) => Err(vendors::VendorError::Unavailable(
            "verification was cancelled".into(),
        )),
    }
}

pub async fn reconcile(
    conn: Arc<AtsConnection>,
    ctx: Arc<Context>,
) -> Result<Action, ControllerError> {
    let ns = conn.namespace().ok_or(ControllerError::NoNamespace)?;
    let span = info_span!("reconcile_connection", tenant = %ns, connection = %conn.name_any());
    async move {
        let secret =
            super::credentials::fetch_secret(&ctx.client, &ns, &conn.spec.auth.secret_name).await?;
        let custom = super::policy::uses_custom_endpoints(&conn);
        let policy = ctx.admin.policy_for(&ctx.client, &ns, custom).await?;
        // A change of the policy (a namespace labelled) is a change too.
        let fingerprint = format!(
            "{:?}|{:?}|{}",
            conn.metadata.generation,
            secret
                .as_ref()
                .and_then(|s| s.metadata.resource_version.clone()),
            policy.custom_endpoints
        );
        let key = (ns.clone(), conn.name_any());
        let last = ctx
            .verified
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&key)
            .cloned();
        if !verification_due(last.as_ref(), &fingerprint, std::time::Instant::now()) {
            return Ok(Action::requeue(VERIFY_EVERY));
        }
        let checked: Result<(), Problem> =
            match resolve::resolve_connection(&conn, secret.as_ref(), &policy) {
                Ok(cfg) => {
                    let quote = cfg.quotes_vendor_text();
                    // The account's shared client: verifying spends the same budget
                    // as the syncs, not a budget of its own.
                    let client = SecretStore::for_connection(ctx.client.clone(), &conn)
                        .and_then(|store| ctx.clients.client(&ns, &cfg, Some(Arc::new(store))));
                    match client {
                        Ok(client) => contained(client).await.map_err(|e| {
                            Problem::from_vendor(conn.spec.vendor.as_str(), &e, quote)
                        }),
                        Err(e) => Err(Problem::from_vendor(conn.spec.vendor.as_str(), &e, quote)),
                    }
                }
                Err(p) => Err(p),
            };
        ctx.verified
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(key, (fingerprint, std::time::Instant::now()));
        let ready = match &checked {
            Ok(()) => Condition::new(
                READY,
                true,
                reason::VALID,
                "Credentials accepted by the vendor",
            ),
            Err(p) => Condition::new(READY, false, p.reason, p.message.clone()),
        };
        let previous = conn.status.clone().unwrap_or_default();
        let status = previous.merged(vec![ready], &ts(Utc::now()), conn.metadata.generation);
        if status != previous {
            super::apply_status::<AtsConnection>(&ctx.client, &conn.name_any(), &ns, &status)
                .await?;
            let was = conditions::find(&previous.conditions, READY).map(|c| c.reason.clone());
            if let Err(p) = &checked
                && was.as_deref() != Some(p.reason)
            {
                ctx.event(
                    &conn.object_ref(&()),
                    EventType::Warning,
                    p.reason,
                    "Verify",
                    p.message.clone(),
                )
                .await;
            }
        }
        Ok(match checked {
            // A transient failure is verified again sooner.
            Err(p) if !p.stalled => {
                ctx.verified
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .remove(&(ns.clone(), conn.name_any()));
                Action::requeue(Duration::from_secs(60))
            }
            _ => Action::requeue(VERIFY_EVERY),
        })
    }
    .instrument(span)
    .await
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Instant;

    #[test]
    fn verification_runs_on_change_or_slowly() {
        let t = Instant::now();
        assert!(verification_due(None, "g1|rv1", t));
        let last = ("g1|rv1".to_string(), t);
        assert!(!verification_due(
            Some(&last),
            "g1|rv1",
            t + Duration::from_secs(5)
        ));
        assert!(verification_due(
            Some(&last),
            "g1|rv2",
            t + Duration::from_secs(5)
        ));
        assert!(verification_due(
            Some(&last),
            "g2|rv1",
            t + Duration::from_secs(5)
        ));
        assert!(verification_due(Some(&last), "g1|rv1", t + VERIFY_EVERY));
    }
}
