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
use crate::api::conditions::{self, Condition, READY, reason};
use crate::api::{AtsConnection, AtsConnectionStatus};
use crate::vendors;

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
        let checked: Result<(), Problem> = match resolve::resolve_connection(&conn, secret.as_ref())
        {
            Ok(mut cfg) => {
                cfg.endpoints = ctx.endpoints;
                // The account's shared client: verifying spends the same budget
                // as the syncs, not a budget of its own.
                let client = SecretStore::for_connection(ctx.client.clone(), &conn)
                    .and_then(|store| ctx.clients.client(&ns, &cfg, Some(Arc::new(store))));
                match client {
                    Ok(client) => contained(client)
                        .await
                        .map_err(|e| Problem::from_vendor(conn.spec.vendor.as_str(), &e)),
                    Err(e) => Err(Problem::from_vendor(conn.spec.vendor.as_str(), &e)),
                }
            }
            Err(p) => Err(p),
        };
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
        let status = AtsConnectionStatus {
            conditions: conditions::merge(
                &previous.conditions,
                vec![ready],
                &ts(Utc::now()),
                conn.metadata.generation,
            ),
            observed_generation: conn.metadata.generation,
        };
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
            Err(p) if !p.stalled => Action::requeue(Duration::from_secs(60)),
            _ => Action::requeue(Duration::from_secs(600)),
        })
    }
    .instrument(span)
    .await
}
