//! Registering a sync's webhooks with vendors that have an API for it (Lever,
//! Workable) when `spec.webhooks.enabled`, and removing them when the sync is
//! deleted or stops asking (the finalizer [`FINALIZER`] holds the deletion
//! until then). Signing tokens the vendor returns (Lever, once, at creation)
//! go into a Secret the sync owns, so garbage collection removes it with the
//! sync; the registration ids go into `status.webhooks.registered`.

use std::collections::BTreeMap;

use k8s_openapi::ByteString;
use k8s_openapi::api::core::v1::Secret;
use kube::api::{Api, Patch, PatchParams};
use kube::{Resource, ResourceExt};

use super::{Context, ControllerError, MANAGER};
use crate::api::AtsSync;
use crate::model::VendorKind;
use crate::vendors::webhooks::WebhookRegistration;
use crate::vendors::{AtsClient, VendorError};

/// Held while the sync has registrations at the vendor.
pub const FINALIZER: &str = "ats.dev/webhooks";

/// Pure: what registration a sync needs now.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Need {
    /// Register at this URL (none registered yet).
    Register(String),
    /// Remove these registrations (no longer asked for, or deleted).
    Remove(Vec<String>),
    Nothing,
}

/// Pure: whether `vendor` registers webhooks through its API.
pub fn registers(vendor: VendorKind) -> bool {
    matches!(vendor, VendorKind::Lever | VendorKind::Workable)
}

/// Pure: the registration work for a sync, given its spec, the vendor, the
/// registrations status records, and whether it is being deleted.
pub fn need(sync: &AtsSync, vendor: Option<VendorKind>, registered: &[String]) -> Need {
    let deleting = sync.metadata.deletion_timestamp.is_some();
    let wanted = !deleting
        && vendor.is_some_and(registers)
        && sync.spec.webhooks.as_ref().is_some_and(|w| w.enabled);
    let url = sync
        .spec
        .webhooks
        .as_ref()
        .and_then(|w| w.public_base_url.as_deref())
        .filter(|u| !u.trim().is_empty());
    match (wanted, url) {
        (true, Some(base)) if registered.is_empty() => Need::Register(super::webhooks::url(
            Some(base),
            &sync.namespace().unwrap_or_default(),
            &sync.spec.connection_ref.name,
        )),
        (true, Some(_)) => Need::Nothing,
        _ if !registered.is_empty() => Need::Remove(registered.to_vec()),
        _ => Need::Nothing,
    }
}

/// Adds the finalizer before anything is registered (a merge patch guarded
/// by resourceVersion, as the controller's other finalizer patches).
pub async fn hold(ctx: &Context, sync: &AtsSync) -> Result<(), ControllerError> {
    if sync.finalizers().iter().any(|f| f == FINALIZER) {
        return Ok(());
    }
    let mut all: Vec<String> = sync.finalizers().to_vec();
    all.push(FINALIZER.to_string());
    patch_finalizers(ctx, sync, all).await
}

/// Removes the finalizer once nothing is registered.
pub async fn release(ctx: &Context, sync: &AtsSync) -> Result<(), ControllerError> {
    if !sync.finalizers().iter().any(|f| f == FINALIZER) {
        return Ok(());
    }
    let rest: Vec<String> = sync
        .finalizers()
        .iter()
        .filter(|f| *f != FINALIZER)
        .cloned()
        .collect();
    patch_finalizers(ctx, sync, rest).await
}

async fn patch_finalizers(
    ctx: &Context,
    sync: &AtsSync,
    finalizers: Vec<String>,
) -> Result<(), ControllerError> {
    let api: Api<AtsSync> =
        Api::namespaced(ctx.client.clone(), &sync.namespace().unwrap_or_default());
    let patch = serde_json::json!({"metadata": {
        "finalizers": finalizers,
        "resourceVersion": sync.resource_version(),
    }});
    match api
        .patch(
            &sync.name_any(),
            &PatchParams::default(),
            &Patch::Merge(&patch),
        )
        .await
    {
        Ok(_) => Ok(()),
        Err(kube::Error::Api(e)) if e.code == 404 => Ok(()),
        Err(e) => Err(e.into()),
    }
}

/// Registers and stores the tokens; returns the registration ids.
pub async fn register(
    ctx: &Context,
    sync: &AtsSync,
    client: &dyn AtsClient,
    url: &str,
) -> Result<Result<Vec<String>, VendorError>, ControllerError> {
    hold(ctx, sync).await?;
    // Tokens already stored (a crash after registering, before status):
    // those registrations are adopted, not made twice.
    let known = stored_tokens(ctx, sync).await?;
    let regs = match client.register_webhooks_known(url, &known).await {
        Ok(r) => r,
        Err(e) => return Ok(Err(e)),
    };
    store_tokens(ctx, sync, &regs).await?;
    Ok(Ok(regs.into_iter().map(|r| r.id).collect()))
}

/// The registrations whose tokens the sync's Secret holds.
async fn stored_tokens(
    ctx: &Context,
    sync: &AtsSync,
) -> Result<Vec<WebhookRegistration>, ControllerError> {
    let ns = sync.namespace().unwrap_or_default();
    let name = super::webhooks::tokens_secret_name(&sync.name_any());
    let Some(secret) = super::credentials::fetch_secret(&ctx.client, &ns, &name).await? else {
        return Ok(Vec::new());
    };
    Ok(secret
        .data
        .unwrap_or_default()
        .into_iter()
        .map(|(id, v)| WebhookRegistration {
            id,
            event: String::new(),
            url: String::new(),
            signing_token: Some(crate::vendors::SecretValue::new(
                String::from_utf8_lossy(&v.0).trim().to_string(),
            )),
        })
        .collect())
}

/// Removes the registrations (a 404 counts as removed) and the tokens.
pub async fn remove(
    ctx: &Context,
    sync: &AtsSync,
    client: &dyn AtsClient,
    ids: &[String],
) -> Result<Result<(), VendorError>, ControllerError> {
    if let Err(e) = client.unregister_webhooks(ids).await {
        return Ok(Err(e));
    }
    let ns = sync.namespace().unwrap_or_default();
    let name = super::webhooks::tokens_secret_name(&sync.name_any());
    match Api::<Secret>::namespaced(ctx.client.clone(), &ns)
        .delete(&name, &Default::default())
        .await
    {
        Ok(_) => {}
        Err(kube::Error::Api(e)) if e.code == 404 => {}
        Err(e) => return Err(e.into()),
    }
    Ok(Ok(()))
}

/// Writes the signing tokens into the Secret the sync owns (labelled, so the
/// operator may read it back; owned, so it goes with the sync).
async fn store_tokens(
    ctx: &Context,
    sync: &AtsSync,
    regs: &[WebhookRegistration],
) -> Result<(), ControllerError> {
    let data: BTreeMap<String, ByteString> = regs
        .iter()
        .filter_map(|r| {
            r.signing_token.as_ref().map(|t| {
                (
                    secret_key(&r.id),
                    ByteString(t.expose().as_bytes().to_vec()),
                )
            })
        })
        .collect();
    if data.is_empty() {
        return Ok(());
    }
    let ns = sync.namespace().unwrap_or_default();
    let name = super::webhooks::tokens_secret_name(&sync.name_any());
    let mut labels = crate::api::managed_labels();
    labels.insert(
        crate::api::CREDENTIALS_LABEL.to_string(),
        crate::api::CREDENTIALS_LABEL_VALUE.to_string(),
    );
    let mut secret = Secret::default();
    secret.metadata.name = Some(name.clone());
    secret.metadata.namespace = Some(ns.clone());
    secret.metadata.labels = Some(labels);
    secret.metadata.owner_references = sync.controller_owner_ref(&()).map(|o| vec![o]);
    secret.data = Some(data);
    let api: Api<Secret> = Api::namespaced(ctx.client.clone(), &ns);
    api.patch(
        &name,
        &PatchParams::apply(MANAGER).force(),
        &Patch::Apply(&serde_json::json!({
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": secret.metadata,
            "data": secret.data,
        })),
    )
    .await?;
    Ok(())
}

/// A Secret key for a registration id (ids are UUIDs or numbers; anything
/// else is reduced to the characters a key allows).
pub fn secret_key(id: &str) -> String {
    let k: String = id
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') {
                c
            } else {
                '_'
            }
        })
        .take(253)
        .collect();
    if k.is_empty() { "_".into() } else { k }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::{AtsSyncSpec, LocalRef, WebhooksSpec};

    fn sync(enabled: bool, base: Option<&str>, deleting: bool) -> AtsSync {
        let mut s = AtsSync::new(
            "nightly",
            AtsSyncSpec {
                connection_ref: LocalRef { name: "lv".into() },
                webhooks: Some(WebhooksSpec {
                    enabled,
                    public_base_url: base.map(str::to_string),
                }),
                ..Default::default()
            },
        );
        s.metadata.namespace = Some("t".into());
        if deleting {
            s.metadata.deletion_timestamp =
                Some(k8s_openapi::apimachinery::pkg::apis::meta::v1::Time(
                    k8s_openapi::jiff::Timestamp::now(),
                ));
        }
        s
    }

    #[test]
    fn registers_once_removes_when_no_longer_asked() {
        let base = Some("https://ats.example.com");
        let lever = Some(VendorKind::Lever);
        assert_eq!(
            need(&sync(true, base, false), lever, &[]),
            Need::Register("https://ats.example.com/webhooks/t/lv".into())
        );
        let ids = vec!["w1".to_string()];
        assert_eq!(need(&sync(true, base, false), lever, &ids), Need::Nothing);
        assert_eq!(
            need(&sync(false, base, false), lever, &ids),
            Need::Remove(ids.clone())
        );
        assert_eq!(
            need(&sync(true, base, true), lever, &ids),
            Need::Remove(ids.clone())
        );
        // Greenhouse: configured in its UI; no URL: nothing to register.
        let gh = Some(VendorKind::Greenhouse);
        assert_eq!(need(&sync(true, base, false), gh, &[]), Need::Nothing);
        assert_eq!(need(&sync(true, None, false), lever, &[]), Need::Nothing);
        assert_eq!(need(&sync(false, base, false), lever, &[]), Need::Nothing);
    }

    #[test]
    fn secret_keys_are_valid() {
        assert_eq!(secret_key("507dab91-aa"), "507dab91-aa");
        assert_eq!(secret_key("104697"), "104697");
        assert_eq!(secret_key("a/b c"), "a_b_c");
        assert_eq!(secret_key(""), "_");
    }
}
