//! The address guard end to end, on loopback only: an operator started without
//! `--allow-private-endpoints` refuses a tenant whose sandbox listens on
//! 127.0.0.1, says why in status, and sends it nothing. (The other address
//! classes are tested as pure functions in `vendors::guard`: no test sends
//! traffic outside 127.0.0.0/8.)

mod support;

use std::time::Duration;

use ats_operator::api::{AtsConnection, conditions};
use kube::api::Api;
use support::OperatorProcess;
use support::tenant::*;

#[tokio::test]
async fn loopback_endpoint_is_refused_without_the_flag() {
    let t = Tenant::new(Setup::greenhouse(), small()).await;
    t.apply("24h").await;
    let _op = OperatorProcess::start_with(&t.ns, &t.ledger, "guarded", &[]);
    let s = t
        .wait("EndpointNotAllowed", |s| {
            is(s, "Ready", "False", "EndpointNotAllowed")
        })
        .await;
    let msg = cond(&s, "Ready").unwrap().message;
    assert!(
        msg.contains("loopback") && msg.contains("--allow-private-endpoints"),
        "{msg}"
    );
    assert!(is(&s, "Stalled", "True", "EndpointNotAllowed"));
    let conns = Api::<AtsConnection>::namespaced(t.client.clone(), &t.ns);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    loop {
        let ready = conns
            .get("ats")
            .await
            .unwrap()
            .status
            .and_then(|st| conditions::find(&st.conditions, "Ready").cloned());
        if ready.is_some_and(|r| r.reason == "EndpointNotAllowed") {
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "connection status");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let stats = t.stats().await;
    let api: u64 = stats["requests"]
        .as_object()
        .unwrap()
        .iter()
        .filter(|(k, _)| !k.contains("/_sandbox"))
        .filter_map(|(_, v)| v.as_u64())
        .sum();
    assert_eq!(api, 0, "the guarded operator reached the endpoint: {stats}");
    assert_eq!(stats["token_requests"], 0);
}
