//! Proves the harness: a real apiserver takes our CRDs, validates them, serves the status
//! subresource to server-side apply, and streams changes to a watcher.

mod support;

use std::time::Duration;

use ats_operator::api::AtsConnection;
use futures::{StreamExt, TryStreamExt};
use k8s_openapi::api::core::v1::Secret;
use kube::api::{Api, DynamicObject, Patch, PatchParams, PostParams};
use kube::core::ApiResource;
use kube::runtime::watcher;
use serde_json::{Value, json};

/// Guards against a hang only.
const DEADLINE: Duration = Duration::from_secs(60);

fn connection(name: &str, vendor: &str) -> Value {
    json!({
        "apiVersion": "ats.dev/v1alpha1",
        "kind": "AtsConnection",
        "metadata": { "name": name },
        "spec": { "vendor": vendor, "auth": { "secretName": "greenhouse-creds" } },
    })
}

fn ready_status(reason: &str) -> Value {
    json!({
        "apiVersion": "ats.dev/v1alpha1",
        "kind": "AtsConnection",
        "status": {
            "observedGeneration": 1,
            "conditions": [{
                "type": "Ready",
                "status": "True",
                "reason": reason,
                "message": "smoke test",
                "lastTransitionTime": "2024-01-01T00:00:00Z",
            }],
        },
    })
}

fn ready_reason(conn: &AtsConnection) -> Option<String> {
    let status = conn.status.as_ref()?;
    let ready = status.conditions.iter().find(|c| c.type_ == "Ready")?;
    Some(ready.reason.clone())
}

#[tokio::test]
async fn crd_status_apply_and_watch() {
    let client = support::client().await;
    support::install_crds(&client).await;
    let ns = support::namespace(&client, "smoke").await;
    assert!(support::kubeconfig_path().is_file());

    let secrets: Api<Secret> = Api::namespaced(client.clone(), &ns);
    let secret: Secret = serde_json::from_value(json!({
        "metadata": { "name": "greenhouse-creds" },
        "stringData": { "apiKey": "not-a-real-key" },
    }))
    .expect("secret");
    secrets
        .create(&PostParams::default(), &secret)
        .await
        .expect("create secret");

    let conns: Api<AtsConnection> = Api::namespaced(client.clone(), &ns);
    let conn: AtsConnection =
        serde_json::from_value(connection("greenhouse", "greenhouse")).expect("connection");
    conns
        .create(&PostParams::default(), &conn)
        .await
        .expect("create AtsConnection");

    let ssa = PatchParams::apply("ats-operator").force();
    conns
        .patch_status("greenhouse", &ssa, &Patch::Apply(ready_status("Valid")))
        .await
        .expect("apply status");
    let read = conns.get("greenhouse").await.expect("get AtsConnection");
    assert_eq!(ready_reason(&read).as_deref(), Some("Valid"));
    assert_eq!(read.status.and_then(|s| s.observed_generation), Some(1));
    assert_eq!(
        secrets
            .get("greenhouse-creds")
            .await
            .expect("get secret")
            .data
            .map(|d| d.len()),
        Some(1)
    );

    // Watch from a complete initial list, then change the status and see the update.
    let cfg = watcher::Config::default().fields("metadata.name=greenhouse");
    let mut events = watcher(conns.clone(), cfg).boxed();
    let saw_update = async {
        let mut initial_done = false;
        while let Some(event) = events.try_next().await.expect("watch") {
            match event {
                watcher::Event::InitDone if !initial_done => {
                    initial_done = true;
                    conns
                        .patch_status("greenhouse", &ssa, &Patch::Apply(ready_status("Synced")))
                        .await
                        .expect("apply status again");
                }
                watcher::Event::Apply(obj)
                    if initial_done && ready_reason(&obj).as_deref() == Some("Synced") =>
                {
                    return obj;
                }
                _ => {}
            }
        }
        panic!("watch stream ended");
    };
    let updated = tokio::time::timeout(DEADLINE, saw_update)
        .await
        .expect("the watcher saw no update");
    assert_eq!(updated.metadata.namespace.as_deref(), Some(ns.as_str()));
}

#[tokio::test]
async fn crd_schema_rejects_unknown_vendor() {
    let client = support::client().await;
    support::install_crds(&client).await;
    let ns = support::namespace(&client, "smoke-invalid").await;

    // Untyped, since the typed spec cannot even hold an unknown vendor.
    let ar = ApiResource::erase::<AtsConnection>(&());
    let api: Api<DynamicObject> = Api::namespaced_with(client, &ns, &ar);
    let obj: DynamicObject =
        serde_json::from_value(connection("bogus", "not-a-vendor")).expect("object");
    match api.create(&PostParams::default(), &obj).await {
        Err(kube::Error::Api(status)) => {
            assert_eq!(status.code, 422, "{status:?}");
            assert!(status.message.contains("vendor"), "{}", status.message);
        }
        other => panic!("expected 422 Unprocessable Entity, got {other:?}"),
    }
}
