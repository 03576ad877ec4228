//! `/metrics`, `/healthz` and `/readyz` of `ats-operator run` (as a Pod runs
//! it: its own process, leader election), against the real kube-apiserver and
//! the Greenhouse sandbox: after a sync the counters equal what the sandbox
//! saw, a standby is ready without leading, and a deleted sync leaves no series.

mod support;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::time::Duration;

use kube::api::DeleteParams;
use serde_json::Value;
use support::OperatorProcess;
use support::tenant::*;

const WAIT: Duration = Duration::from_secs(90);

/// One scrape, parsed: (name, labels, value) per sample.
struct Scrape(Vec<(String, BTreeMap<String, String>, f64)>);

impl Scrape {
    fn parse(text: &str) -> Scrape {
        let mut out = Vec::new();
        for line in text
            .lines()
            .filter(|l| !l.starts_with('#') && !l.is_empty())
        {
            let (series, value) = line.rsplit_once(' ').expect("sample");
            let value: f64 = value.parse().unwrap_or_else(|_| panic!("value in {line}"));
            let (name, labels) = match series.split_once('{') {
                Some((name, rest)) => (name, parse_labels(rest.strip_suffix('}').expect(line))),
                None => (series, BTreeMap::new()),
            };
            out.push((name.to_string(), labels, value));
        }
        Scrape(out)
    }

    /// Samples of `name` whose labels include `filter`.
    fn samples<'a>(
        &'a self,
        name: &'a str,
        filter: &'a [(&'a str, &'a str)],
    ) -> impl Iterator<Item = &'a (String, BTreeMap<String, String>, f64)> + 'a {
        self.0.iter().filter(move |(n, labels, _)| {
            n == name
                && filter
                    .iter()
                    .all(|(k, v)| labels.get(*k).map(String::as_str) == Some(*v))
        })
    }

    fn sum(&self, name: &str, filter: &[(&str, &str)]) -> f64 {
        self.samples(name, filter).map(|s| s.2).sum()
    }

    /// The one sample of `name` matching `filter`.
    fn value(&self, name: &str, filter: &[(&str, &str)]) -> f64 {
        let found: Vec<_> = self.samples(name, filter).collect();
        assert_eq!(found.len(), 1, "{name} {filter:?}: {found:?}");
        found[0].2
    }
}

/// `k="v",k2="v2"` (values may hold `{`, `}` and `,`; ours hold no quotes).
fn parse_labels(s: &str) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let mut rest = s;
    while let Some((key, after)) = rest.split_once("=\"") {
        let (value, after) = after.split_once('"').expect("closing quote");
        out.insert(key.trim_start_matches(',').to_string(), value.to_string());
        rest = after;
    }
    out
}

async fn get(addr: SocketAddr, path: &str) -> (u16, String) {
    let r = reqwest::get(format!("http://{addr}{path}"))
        .await
        .unwrap_or_else(|e| panic!("GET {path}: {e}"));
    (r.status().as_u16(), r.text().await.unwrap())
}

async fn scrape(addr: SocketAddr) -> Scrape {
    let (status, text) = get(addr, "/metrics").await;
    assert_eq!(status, 200, "{text}");
    Scrape::parse(&text)
}

/// Waits until `/readyz` answers 200 with a body containing `role`.
async fn ready_as(addr: SocketAddr, role: &str) -> String {
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let (status, body) = get(addr, "/readyz").await;
        if status == 200 && body.contains(role) {
            return body;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "/readyz never said {role:?}; last: {status} {body}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// The sandbox's API requests by "METHOD /route" (ids as `{id}`, file
/// downloads as `download`), and its token requests.
fn sandbox_requests(stats: &Value) -> BTreeMap<String, u64> {
    let mut out = BTreeMap::new();
    for (key, n) in stats["requests"].as_object().expect("requests") {
        if key.contains("/_sandbox") {
            continue;
        }
        let (method, route) = key.split_once(' ').expect("METHOD route");
        let route = if route.starts_with("/files/") {
            "download".to_string()
        } else {
            route
                .split('/')
                .map(|s| if s.starts_with('{') { "{id}" } else { s })
                .collect::<Vec<_>>()
                .join("/")
        };
        *out.entry(format!("{method} {route}")).or_default() += n.as_u64().unwrap();
    }
    out
}

/// The operator's vendor requests, keyed as [`sandbox_requests`] (tokens aside).
fn operator_requests(m: &Scrape) -> BTreeMap<String, u64> {
    let mut out = BTreeMap::new();
    for (_, l, v) in m.samples("ats_vendor_requests_total", &[("vendor", "greenhouse")]) {
        if l["route"] == "token" {
            continue;
        }
        *out.entry(format!("{} {}", l["method"], l["route"]))
            .or_default() += *v as u64;
    }
    out
}

#[tokio::test]
async fn metrics_after_a_sync_match_what_the_sandbox_saw() {
    let t = Tenant::new(Setup::greenhouse(), small()).await;
    // Tight enough that the sync waits for the vendor's window.
    t.rate_limit(t.setup.tight_limit.clone()).await;
    t.apply("24h").await;
    let dir = t.ledger.parent().unwrap().to_path_buf();
    let mut a = OperatorProcess::start(&t.ns, &dir.join("ledger-a.db"), "metrics-a");
    let addr = a.metrics_addr(WAIT).await;
    assert!(addr.ip().is_loopback(), "{addr}");
    assert_eq!(get(addr, "/healthz").await, (200, "ok".to_string()));
    let ready = ready_as(addr, "leading").await;
    assert!(ready.contains("caches synced"), "{ready}");

    let synced = t.synced().await;
    let last = synced.status.unwrap().last_sync.unwrap();
    let in_scope = t.in_scope().await.len() as f64;
    assert!(in_scope > 0.0);

    // Between runs nothing is in flight, so both sides must agree exactly;
    // retried only until the connection's own checks settle.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    let (m, stats) = loop {
        let stats = t.stats().await;
        let m = scrape(addr).await;
        let tokens = stats["token_requests"].as_u64().unwrap() as f64;
        if operator_requests(&m) == sandbox_requests(&stats)
            && m.sum("ats_vendor_requests_total", &[("route", "token")]) == tokens
        {
            break (m, stats);
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "requests differ:\noperator {:#?}\nsandbox {:#?}\ntokens: operator {}, sandbox {tokens}",
            operator_requests(&m),
            sandbox_requests(&stats),
            m.sum("ats_vendor_requests_total", &[("route", "token")]),
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    };
    assert!(
        operator_requests(&m).contains_key("GET /v3/applications"),
        "{:?}",
        operator_requests(&m)
    );
    assert!(
        m.sum("ats_vendor_requests_total", &[("status", "200")]) > 0.0,
        "statuses are labelled"
    );
    // What the vendor refused, and the time spent waiting on its limit.
    assert_eq!(
        m.sum("ats_vendor_requests_total", &[("status", "429")]),
        stats["rate_limited"].as_f64().unwrap()
    );
    let api_requests: u64 = sandbox_requests(&stats).values().sum();
    assert!(api_requests > 20, "more than two windows of requests");
    let waited = m.sum(
        "ats_vendor_rate_limit_wait_seconds_total",
        &[("vendor", "greenhouse")],
    );
    assert!(waited > 0.5, "waited {waited}s for the rate limit");
    let tokens = stats["token_requests"].as_f64().unwrap();
    assert!(tokens >= 1.0);
    assert_eq!(
        m.sum(
            "ats_token_refreshes_total",
            &[("vendor", "greenhouse"), ("result", "success")]
        ),
        tokens
    );

    let sync = [
        ("namespace", t.ns.as_str()),
        ("name", SYNC),
        ("vendor", "greenhouse"),
    ];
    assert_eq!(m.value("ats_applications_pulled_total", &sync), in_scope);
    assert_eq!(
        m.value("ats_applications_pulled_total", &sync),
        last.applications_seen as f64
    );
    assert_eq!(m.value("ats_applications_scored_total", &sync), in_scope);
    let notes = stats["notes_created"].as_f64().unwrap();
    assert_eq!(notes, in_scope, "one note per application");
    assert_eq!(m.value("ats_applications_written_back_total", &sync), notes);
    let written = [sync.as_slice(), &[("outcome", "written")]].concat();
    assert_eq!(m.value("ats_write_backs_total", &written), notes);
    assert_eq!(
        m.sum("ats_write_backs_total", &sync),
        notes,
        "nothing failed, adopted or superseded"
    );
    let ok = [sync.as_slice(), &[("result", "success")]].concat();
    let runs = m.value("ats_sync_runs_total", &ok);
    assert!(runs >= 1.0);
    assert_eq!(m.value("ats_sync_run_duration_seconds_count", &ok), runs);
    assert!(m.value("ats_sync_run_duration_seconds_sum", &ok) > 0.0);
    assert_eq!(m.value("ats_sync_workers", &[]), 1.0);
    assert_eq!(m.value("ats_sync_runs_in_progress", &[]), 0.0);
    let cond = |c: &'static str, s: &'static str| {
        m.value(
            "ats_sync_status_condition",
            &[
                ("namespace", t.ns.as_str()),
                ("name", SYNC),
                ("condition", c),
                ("status", s),
            ],
        )
    };
    assert_eq!(cond("Ready", "True"), 1.0);
    assert_eq!(cond("Ready", "False"), 0.0);
    assert_eq!(cond("Ready", "Unknown"), 0.0);
    assert_eq!(cond("Synced", "True"), 1.0);
    assert_eq!(cond("Stalled", "False"), 1.0);

    // A second replica stands by: ready without leading, with no caches and
    // so no condition series of its own (the leader's are not doubled).
    let mut b = OperatorProcess::start(&t.ns, &dir.join("ledger-b.db"), "metrics-b");
    let addr_b = b.metrics_addr(WAIT).await;
    assert_ne!(addr_b, addr);
    ready_as(addr_b, "standing by").await;
    let mb = scrape(addr_b).await;
    assert_eq!(mb.samples("ats_sync_status_condition", &[]).count(), 0);
    assert_eq!(mb.value("ats_sync_workers", &[]), 0.0);
    assert_eq!(
        support::lease::lease_holder(&t.client, &t.ns)
            .await
            .as_deref(),
        Some("metrics-a")
    );

    // Deleted: its condition series go with it from the cache, its counters
    // with the finalizer's cleanup.
    t.syncs()
        .delete(SYNC, &DeleteParams::default())
        .await
        .unwrap();
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let m = scrape(addr).await;
        let left =
            m.0.iter()
                .filter(|(_, l, _)| l.get("name").map(String::as_str) == Some(SYNC))
                .count();
        if left == 0 && m.value("ats_sync_workers", &[]) == 0.0 {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{left} series of the deleted sync remain"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert!(t.syncs().get_opt(SYNC).await.unwrap().is_none());
    assert!(a.running() && b.running());
}

#[tokio::test]
async fn a_metrics_port_in_use_is_a_clear_start_up_error() {
    let (_client, ns) = support::test_namespace("metrics-busy").await;
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let busy = taken.local_addr().unwrap().to_string();
    let dir = tempfile::tempdir().unwrap();
    let mut op = OperatorProcess::start_with(
        &ns,
        &dir.path().join("ledger.db"),
        "busy",
        &["--metrics-addr", &busy],
    );
    let status = op.exited(WAIT).await.expect("the operator exits");
    assert!(!status.success(), "{status}");
    let log = std::fs::read_to_string(&op.log).unwrap();
    assert!(
        log.contains(&busy) && log.contains("--metrics-addr"),
        "the error names the address and the flag:\n{log}"
    );
}
