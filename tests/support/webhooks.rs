//! Webhooks in tests: a Greenhouse tenant whose sandbox sends signed
//! deliveries to the operator's HTTP port, set up as a Greenhouse admin would.

use ats_operator::api::{AtsConnection, AtsSync, WebhookStatus};
use ats_operator::sandbox::SandboxOptions;
use k8s_openapi::api::core::v1::Secret;
use kube::api::{Api, Patch, PatchParams};
use reqwest::Method;
use serde_json::json;

use super::tenant::{self, Setup, Tenant, control};
use super::{Operator, free_port};

pub const HOOK_SECRET: &str = "gh-webhook";

/// The Greenhouse tenant's webhook secret, and the connection pointing at it.
pub async fn greenhouse_secret(t: &Tenant, value: &str) {
    let s: Secret = serde_json::from_value(json!({
        "metadata": {"name": HOOK_SECRET, "labels": {"ats.dev/credentials": "true"}},
        "stringData": {"secret": value},
    }))
    .unwrap();
    t.secrets()
        .patch(
            HOOK_SECRET,
            &PatchParams::apply("test").force(),
            &Patch::Apply(&s),
        )
        .await
        .unwrap();
    let conns: Api<AtsConnection> = Api::namespaced(t.client.clone(), &t.ns);
    conns
        .patch(
            "ats",
            &PatchParams::default(),
            &Patch::Merge(
                json!({"spec": {"webhookSecretRef": {"name": HOOK_SECRET, "key": "secret"}}}),
            ),
        )
        .await
        .unwrap();
}

pub fn webhooks(s: &AtsSync) -> WebhookStatus {
    s.status
        .as_ref()
        .and_then(|st| st.webhooks.clone())
        .unwrap_or_default()
}

/// The webhook URL the operator serves for the tenant's connection.
pub fn hook_url(t: &Tenant, port: u16) -> String {
    format!("http://127.0.0.1:{port}/webhooks/{}/ats", t.ns)
}

/// The sandbox's webhook retries in milliseconds rather than minutes.
pub async fn fast_retries(t: &Tenant) {
    control(
        &t.http,
        &t.sandbox,
        Method::PUT,
        "webhook_timing",
        json!({"scale": 0.0001}),
    )
    .await;
}

/// A Greenhouse tenant synced once, its webhook configured in the sandbox
/// as a Greenhouse admin would (the operator's URL and the shared secret).
pub async fn greenhouse_with_webhook(
    opts: SandboxOptions,
    tune: impl FnOnce(&mut ats_operator::controller::Options),
) -> (Tenant, Operator, u16) {
    let t = Tenant::new(Setup::greenhouse(), opts).await;
    t.apply("24h").await;
    greenhouse_secret(&t, "whsec-greenhouse").await;
    let port = free_port();
    let op = Operator::serving(&t.client, &t.ns, &t.ledger, port, tune);
    t.synced().await;
    let s = tenant::wait_for_sync(
        &t.syncs(),
        tenant::SYNC,
        tenant::DEADLINE,
        "the webhook URL in status",
        |s| webhooks(s).url.is_some(),
    )
    .await;
    assert_eq!(
        webhooks(&s).url.as_deref(),
        Some(format!("/webhooks/{}/ats", t.ns).as_str())
    );
    fast_retries(&t).await;
    let hook = t
        .control(
            "webhooks",
            json!({"url": hook_url(&t, port), "secret": "whsec-greenhouse"}),
        )
        .await;
    assert_eq!(hook["active"], true, "the ping was answered: {hook}");
    (t, op, port)
}
