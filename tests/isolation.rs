//! Tenant isolation end to end, against the real kube-apiserver:
//! - the address guard, on loopback only: an operator started without
//!   `--allow-private-endpoints` refuses a tenant whose sandbox listens on
//!   127.0.0.1, says why in status, and sends it nothing (the other address
//!   classes are tested as pure functions in `vendors::guard`: no test sends
//!   traffic outside 127.0.0.0/8);
//! - one vendor budget per account: two syncs on one connection share its
//!   client and rate limiter, and the vendor answers no 429.

mod support;

use std::time::Duration;

use ats_operator::api::{AtsConnection, AtsSync};
use kube::api::{Api, PostParams};
use serde_json::json;
use support::tenant::*;

#[tokio::test]
async fn loopback_endpoint_is_refused_without_the_flag() {
    let t = Tenant::new(Setup::greenhouse(), small()).await;
    t.apply("24h").await;
    let _op = t.operator_process("guarded", &["--custom-endpoint-namespaces="]);
    let s = t
        .wait("EndpointNotAllowed", not_ready("EndpointNotAllowed"))
        .await;
    let msg = message(&s, "Ready");
    assert!(
        msg.contains("loopback") && msg.contains("--allow-private-endpoints"),
        "{msg}"
    );
    assert!(is(&s, "Stalled", "True", "EndpointNotAllowed"));
    let minute = Duration::from_secs(60);
    wait_connection_reason(&t.client, &t.ns, "ats", "EndpointNotAllowed", minute).await;
    let stats = t.stats().await;
    let api = t.api_requests().await;
    assert_eq!(api, 0, "the guarded operator reached the endpoint: {stats}");
    assert_eq!(stats["token_requests"], 0);
}

#[tokio::test]
async fn custom_endpoints_only_in_namespaces_the_administrator_labels() {
    let t = Tenant::new(Setup::greenhouse(), small()).await;
    t.apply("24h").await;
    let _op = t.operator_process(
        "selective",
        &[
            "--allow-private-endpoints",
            "--custom-endpoint-namespaces=ats.dev/custom-endpoints=true",
        ],
    );
    let s = t.wait("InvalidSpec", not_ready("InvalidSpec")).await;
    let msg = message(&s, "Ready");
    assert!(
        msg.contains("spec.baseUrl") && msg.contains("--custom-endpoint-namespaces"),
        "{msg}"
    );
    assert_eq!(t.api_requests().await, 0, "refused, yet sent");
    // The administrator labels the namespace: the tenant syncs, no restart.
    let nss = Api::<k8s_openapi::api::core::v1::Namespace>::all(t.client.clone());
    nss.patch(
        &t.ns,
        &kube::api::PatchParams::default(),
        &kube::api::Patch::Merge(
            json!({"metadata": {"labels": {"ats.dev/custom-endpoints": "true"}}}),
        ),
    )
    .await
    .unwrap();
    t.wait("Synced", synced_true).await;
    assert!(t.api_requests().await > 0);
}

#[tokio::test]
async fn two_syncs_on_one_connection_share_its_budget() {
    let mut setup = Setup::lever();
    setup.secret_keys = &["apiKey"];
    let t = Tenant::new(
        setup,
        ats_operator::sandbox::SandboxOptions {
            applications: 60,
            ..small()
        },
    )
    .await;
    // The vendor allows 10 requests/s (bursts of 20); the connection budgets 7/s
    // for itself. Two syncs that each spent the budget would ask for 14/s.
    t.rate_limit(json!({"requests": 10, "window_seconds": 1}))
        .await;
    t.apply_spec(json!({"writeBack": {"dryRun": true}})).await;
    let conns = Api::<AtsConnection>::namespaced(t.client.clone(), &t.ns);
    let mut c = conns.get("ats").await.unwrap();
    c.spec.rate_limit = Some(ats_operator::api::RateLimitSpec {
        requests: 7,
        window_seconds: 1,
    });
    conns
        .replace("ats", &PostParams::default(), &c)
        .await
        .unwrap();
    let syncs = t.syncs();
    let first = syncs.get(SYNC).await.unwrap();
    let second: AtsSync = serde_json::from_value(json!({
        "apiVersion": "ats.dev/v1alpha1", "kind": "AtsSync",
        "metadata": {"name": "second", "namespace": t.ns},
        "spec": serde_json::to_value(&first.spec).unwrap(),
    }))
    .unwrap();
    syncs.create(&PostParams::default(), &second).await.unwrap();
    let started = std::time::Instant::now();
    let op = support::Operator::start(&t.client, &t.ns, &t.ledger);
    t.synced().await;
    let ready = |s: &AtsSync| is(s, "Ready", "True", "Synced");
    wait_for_sync(&syncs, "second", DEADLINE, "the second sync", ready).await;
    let secs = started.elapsed().as_secs_f64();
    let stats = t.stats().await;
    let api = t.api_requests().await as f64;
    // One budget of 7/s for both syncs and the verification (plus one window's
    // worth at the edges); two budgets would have allowed 14/s.
    assert!(
        api <= 7.0 * secs + 14.0,
        "{api} requests in {secs:.1} s: more than one budget of 7/s ({stats})"
    );
    assert!(api > 150.0, "too few requests to tell: {stats}");
    op.stop().await;
}
