//! What the benches share: vendor sandboxes and `ats-operator run` as separate
//! processes (so a memory figure is the operator's own), and a loopback control
//! plane (etcd + kube-apiserver, see `ats_operator::devcluster`).
//!
//! Each bench includes this with `mod common;` and uses only part of it.
#![allow(dead_code)]

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use ats_operator::devcluster::DevCluster;
use serde_json::Value;

/// The operator binary of this build (`cargo bench` builds it with the release settings).
pub const OPERATOR_BIN: &str = env!("CARGO_BIN_EXE_ats-operator");

/// A sandbox process; killed on drop.
pub struct Sandbox {
    pub child: Child,
    pub base: String,
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port")
}

/// A Greenhouse sandbox with `apps` applications (seed 42).
pub async fn start_sandbox(apps: usize, rate_limit: &str) -> Sandbox {
    start_vendor_sandbox("greenhouse", apps, rate_limit).await
}

/// A `vendor` sandbox with `apps` applications over 100 jobs (seed 42).
pub async fn start_vendor_sandbox(vendor: &str, apps: usize, rate_limit: &str) -> Sandbox {
    start_seeded_sandbox(vendor, apps, rate_limit, 42).await
}

/// `ats-operator sandbox` on a free loopback port, once it answers.
pub async fn start_seeded_sandbox(
    vendor: &str,
    apps: usize,
    rate_limit: &str,
    seed: u64,
) -> Sandbox {
    start_sized_sandbox(vendor, apps, 100, rate_limit, seed).await
}

/// As [`start_seeded_sandbox`], with `apps` applications over `jobs` jobs.
pub async fn start_sized_sandbox(
    vendor: &str,
    apps: usize,
    jobs: usize,
    rate_limit: &str,
    seed: u64,
) -> Sandbox {
    let port = free_port();
    // Waited for in `Drop for Sandbox`.
    #[allow(clippy::zombie_processes)]
    let child = Command::new(OPERATOR_BIN)
        .args([
            "sandbox",
            "--vendor",
            vendor,
            "--listen",
            &format!("127.0.0.1:{port}"),
            "--applications",
            &apps.to_string(),
            "--jobs",
            &jobs.to_string(),
            "--seed",
            &seed.to_string(),
            "--rate-limit",
            rate_limit,
        ])
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .spawn()
        .expect("start sandbox");
    let base = format!("http://127.0.0.1:{port}");
    let http = reqwest::Client::new();
    for _ in 0..600 {
        if http
            .get(format!("{base}/_sandbox/stats"))
            .send()
            .await
            .is_ok()
        {
            return Sandbox { child, base };
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("sandbox did not start");
}

pub async fn json(url: &str) -> Value {
    reqwest::get(url)
        .await
        .expect("get")
        .json()
        .await
        .expect("json")
}

/// Vendor API requests in a sandbox's stats (Greenhouse v3, Lever v1, Workable spi/v3).
pub fn api_requests(stats: &Value) -> u64 {
    stats["requests"]
        .as_object()
        .map(|m| {
            m.iter()
                .filter(|(k, _)| {
                    k.contains(" /v3/") || k.contains(" /v1/") || k.contains(" /spi/v3/")
                })
                .map(|(_, v)| v.as_u64().unwrap_or(0))
                .sum()
        })
        .unwrap_or(0)
}

/// A fresh loopback control plane with the operator's CRDs installed, and an
/// admin client. Dropping the cluster stops it.
pub async fn control_plane() -> Result<(DevCluster, kube::Client), String> {
    let cluster = DevCluster::start_ephemeral()
        .await
        .map_err(|e| e.to_string())?;
    let client = kube::Client::try_from(cluster.kube_config()).map_err(|e| e.to_string())?;
    ats_operator::controller::install_crds(&client)
        .await
        .map_err(|e| e.to_string())?;
    Ok((cluster, client))
}

/// `ats-operator run ARGS.. --ledger-path LEDGER` against the cluster, logging
/// warnings only, output discarded; the caller spawns it (and may redirect).
/// Its metrics port is any free loopback port unless `args` names one.
pub fn operator(cluster: &DevCluster, ledger: &Path, args: &[&str]) -> Command {
    let mut cmd = Command::new(OPERATOR_BIN);
    cmd.arg("run");
    if !args.contains(&"--metrics-addr") {
        cmd.args(["--metrics-addr", "127.0.0.1:0"]);
    }
    cmd.args(args)
        .arg("--ledger-path")
        .arg(ledger)
        .env("KUBECONFIG", cluster.kubeconfig_path())
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    cmd
}

/// Follows a process's VmRSS every `every` until `stop`: the highest sample,
/// in KiB, into `peak`.
pub fn sample_rss(
    pid: u32,
    every: std::time::Duration,
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
    peak: std::sync::Arc<std::sync::atomic::AtomicU64>,
) -> std::thread::JoinHandle<()> {
    use std::sync::atomic::Ordering;
    std::thread::spawn(move || {
        while !stop.load(Ordering::Relaxed) {
            if let Some(mib) = proc_mib(pid, "VmRSS") {
                peak.fetch_max((mib * 1024.0) as u64, Ordering::Relaxed);
            }
            std::thread::sleep(every);
        }
    })
}

/// A `/proc/PID/status` field in MiB (`VmRSS`, `VmHWM`); `None` once the process is gone.
pub fn proc_mib(pid: u32, field: &str) -> Option<f64> {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()?
        .lines()
        .find(|l| l.starts_with(field) && l[field.len()..].starts_with(':'))?
        .split_whitespace()
        .nth(1)?
        .parse::<f64>()
        .ok()
        .map(|kb| kb / 1024.0)
}
