//! The `AtsConnection` reconciler: resolves the Secret and checks the credentials
//! with the vendor, so `kubectl get atsconnections` tells whether they work.

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use k8s_openapi::api::core::v1::Secret;
use kube::api::Api;
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

pub async fn reconcile(
    conn: Arc<AtsConnection>,
    ctx: Arc<Context>,
) -> Result<Action, ControllerError> {
    let ns = conn.namespace().ok_or(ControllerError::NoNamespace)?;
    let span = info_span!("reconcile_connection", tenant = %ns, connection = %conn.name_any());
    async move {
        let secret = Api::<Secret>::namespaced(ctx.client.clone(), &ns)
            .get_opt(&conn.spec.auth.secret_name)
            .await?;
        let checked: Result<(), Problem> = match resolve::resolve_connection(&conn, secret.as_ref())
        {
            Ok(cfg) => match SecretStore::for_connection(ctx.client.clone(), &conn)
                .and_then(|store| vendors::connect(&cfg, Some(Arc::new(store))))
            {
                Ok(client) => client
                    .verify()
                    .await
                    .map_err(|e| Problem::from_vendor(conn.spec.vendor.as_str(), &e)),
                Err(e) => Err(Problem::from_vendor(conn.spec.vendor.as_str(), &e)),
            },
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
