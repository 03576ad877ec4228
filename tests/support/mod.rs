//! Shared harness of the integration tests: one real etcd + kube-apiserver on loopback per
//! test binary (see `ats_operator::devcluster`), and helpers to use it.
//!
//! Each test binary includes this with `mod support;` and uses only part of it.
#![allow(dead_code)]

pub mod chart;
pub mod client;
pub mod hostile;
pub mod lease;
pub mod postgres;
pub mod receiver;
pub mod sandbox;
pub mod spec;
pub mod tenant;
pub mod webhooks;

use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::Duration;

use ats_operator::devcluster::DevCluster;
use k8s_openapi::api::core::v1::Namespace;
use kube::Client;
use kube::api::{Api, PostParams};
use rand::RngCore;

/// Guards against hangs only; CRDs are established within a second or two.
const CRD_DEADLINE: Duration = Duration::from_secs(60);

/// The control plane of this test binary. Statics are never dropped: the processes are
/// stopped by the supervisor when this process exits (see `DevCluster`).
pub struct ControlPlane {
    pub cluster: DevCluster,
}

static CONTROL_PLANE: OnceLock<ControlPlane> = OnceLock::new();

/// Starts the control plane on first use; later calls (from any test or runtime) reuse it.
pub fn control_plane() -> &'static ControlPlane {
    CONTROL_PLANE.get_or_init(|| {
        // A runtime of its own: the caller may be inside another runtime, and nothing
        // runtime-bound survives start-up.
        let started = std::thread::spawn(|| {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("tokio runtime for the control plane");
            rt.block_on(DevCluster::start_ephemeral())
        })
        .join()
        .expect("control plane start-up thread");
        match started {
            Ok(cluster) => ControlPlane { cluster },
            Err(e) => panic!("could not start the test control plane: {e}"),
        }
    })
}

/// A new client for the admin user. Each call builds its own: tests run on different
/// tokio runtimes and a client must not outlive the runtime it was first used on.
pub async fn client() -> Client {
    Client::try_from(control_plane().cluster.kube_config()).expect("kube client")
}

/// A kubeconfig for the running apiserver, for humans and tools.
pub fn kubeconfig_path() -> PathBuf {
    control_plane().cluster.kubeconfig_path().to_path_buf()
}

/// Applies the operator's CRDs and waits until each is Established. Idempotent.
pub async fn install_crds(client: &Client) {
    match tokio::time::timeout(CRD_DEADLINE, ats_operator::controller::install_crds(client)).await {
        Ok(Ok(())) => {}
        Ok(Err(e)) => panic!("installing CRDs: {e}"),
        Err(_) => panic!("CRDs not Established after {CRD_DEADLINE:?}"),
    }
}

/// What every cluster test starts with: its logs in the test's output, the CRDs
/// installed, and a namespace of its own (see [`namespace`]).
pub async fn test_namespace(prefix: &str) -> (Client, String) {
    let _ = tracing_subscriber::fmt()
        .with_test_writer()
        .with_env_filter(
            std::env::var("RUST_LOG").unwrap_or_else(|_| "info,kube=warn,hyper=warn".into()),
        )
        .try_init();
    let client = client().await;
    install_crds(&client).await;
    let ns = namespace(&client, prefix).await;
    (client, ns)
}

/// Creates a namespace named `<prefix>-<random>` for one test and returns its name.
pub async fn namespace(client: &Client, prefix: &str) -> String {
    let prefix: String = prefix
        .to_ascii_lowercase()
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .take(40)
        .collect();
    let name = format!(
        "{}-{:08x}",
        prefix.trim_matches('-'),
        rand::thread_rng().next_u32()
    );
    let mut ns = Namespace::default();
    ns.metadata.name = Some(name.clone());
    Api::<Namespace>::all(client.clone())
        .create(&PostParams::default(), &ns)
        .await
        .unwrap_or_else(|e| panic!("creating namespace {name}: {e}"));
    name
}

/// The operator in-process, watching one namespace, until stopped.
pub struct Operator {
    stop: tokio::sync::oneshot::Sender<()>,
    join: tokio::task::JoinHandle<()>,
}

impl Operator {
    pub fn start(client: &Client, ns: &str, ledger: &Path) -> Operator {
        let ledger =
            std::sync::Arc::new(ats_operator::ledger::Ledger::open(ledger).expect("ledger"));
        let (stop, rx) = tokio::sync::oneshot::channel::<()>();
        let run = ats_operator::controller::run(
            client.clone(),
            ledger,
            ats_operator::controller::Options::namespaced(ns),
            async move {
                let _ = rx.await;
            },
        );
        let join = tokio::spawn(async move { run.await.expect("operator") });
        Operator { stop, join }
    }

    /// As [`Operator::start`], serving its HTTP port (webhooks, metrics) on
    /// `127.0.0.1:port`, with `tune` applied to its options.
    pub fn serving(
        client: &Client,
        ns: &str,
        ledger: &Path,
        port: u16,
        tune: impl FnOnce(&mut ats_operator::controller::Options),
    ) -> Operator {
        let ledger =
            std::sync::Arc::new(ats_operator::ledger::Ledger::open(ledger).expect("ledger"));
        let mut opts = ats_operator::controller::Options::namespaced(ns);
        opts.metrics_addr = Some(std::net::SocketAddr::from(([127, 0, 0, 1], port)));
        tune(&mut opts);
        let (stop, rx) = tokio::sync::oneshot::channel::<()>();
        let run = ats_operator::controller::run(client.clone(), ledger, opts, async move {
            let _ = rx.await;
        });
        let join = tokio::spawn(async move { run.await.expect("operator") });
        Operator { stop, join }
    }

    pub async fn stop(self) {
        let _ = self.stop.send(());
        let _ = self.join.await;
    }
}

/// A loopback port free now (the test binds it right after).
pub fn free_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
    l.local_addr().expect("its address").port()
}

/// Notes the operator should have written for one application, from its ledger:
/// one per run of equal (score, band) among the decisions that write, since a
/// re-score with the same score and band writes nothing.
pub async fn expected_notes(ledger: &Path, sync_key: &str, application_id: &str) -> usize {
    let l = ats_operator::ledger::Ledger::open(ledger).expect("ledger");
    expected_notes_in(&l, sync_key, application_id).await
}

/// [`expected_notes`] from an open ledger (a shared PostgreSQL one, say).
pub async fn expected_notes_in(
    l: &ats_operator::ledger::Ledger,
    sync_key: &str,
    application_id: &str,
) -> usize {
    use ats_operator::ledger::DecisionOutcome;
    let decisions = l
        .decisions(sync_key, application_id)
        .await
        .expect("decisions");
    let mut last = None;
    let mut notes = 0;
    for d in decisions {
        if !matches!(
            d.outcome,
            DecisionOutcome::ToWrite | DecisionOutcome::NoChange
        ) {
            continue;
        }
        let mark = (d.score.score, d.score.band);
        if last != Some(mark) {
            notes += 1;
            last = Some(mark);
        }
    }
    notes
}

/// `ats-operator run` as its own process, as a Deployment's Pod runs it: leader
/// election on a Lease in the test's namespace, its own ledger file, logs to a
/// file. Dropping it kills it (SIGKILL).
pub struct OperatorProcess {
    pub identity: String,
    pub log: PathBuf,
    child: std::process::Child,
}

/// Lease timing of the test processes: a 6 s Lease, writes stop after 4 s
/// without a seen renewal.
pub const TEST_LEASE_SECONDS: u64 = 6;

impl OperatorProcess {
    /// With `--allow-private-endpoints`: the sandboxes listen on loopback.
    pub fn start(ns: &str, ledger: &Path, identity: &str) -> OperatorProcess {
        Self::start_with(
            ns,
            ledger,
            identity,
            &["--allow-private-endpoints", "--custom-endpoint-namespaces="],
        )
    }

    pub fn start_with(ns: &str, ledger: &Path, identity: &str, extra: &[&str]) -> OperatorProcess {
        let mut args = vec!["--namespace", ns];
        args.extend_from_slice(extra);
        Self::launch(ns, ledger, identity, &args)
    }

    /// Watching every namespace (narrow it with `--watch-label-selector`);
    /// the Lease lives in `lease_ns`.
    pub fn start_all(
        lease_ns: &str,
        ledger: &Path,
        identity: &str,
        extra: &[&str],
    ) -> OperatorProcess {
        Self::launch(lease_ns, ledger, identity, extra)
    }

    /// The most memory the process has held (VmHWM), in KiB.
    pub fn peak_rss_kib(&self) -> Option<u64> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).ok()?;
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmHWM:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
    }

    /// Whether the process is still running.
    pub fn running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    /// How the process exited, waiting up to `wait`; `None` if it still runs.
    pub async fn exited(&mut self, wait: Duration) -> Option<std::process::ExitStatus> {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Some(status);
            }
            if tokio::time::Instant::now() >= deadline {
                return None;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    fn launch(lease_ns: &str, ledger: &Path, identity: &str, extra: &[&str]) -> OperatorProcess {
        let log = ledger.with_file_name(format!("operator-{identity}.log"));
        let out = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log)
            .expect("operator log");
        let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_ats-operator"));
        cmd.args(["run", "--lease-namespace", lease_ns]);
        // Several operators run at once: each takes a free loopback port
        // (see `metrics_addr`), never the default 0.0.0.0:8080.
        if !extra.contains(&"--metrics-addr") {
            cmd.args(["--metrics-addr", "127.0.0.1:0"]);
        }
        let child = cmd
            .args(["--lease-name", "ats-operator-leader"])
            .args(["--lease-duration", &TEST_LEASE_SECONDS.to_string()])
            .args(["--renew-deadline", "4"])
            .arg("--ledger-path")
            .arg(ledger)
            .args(extra)
            .env("KUBECONFIG", kubeconfig_path())
            // scripts/test.sh exports the model for tests/semantic.rs; an
            // operator process loads it only when a test passes --model-dir.
            .env_remove("ATS_MODEL_DIR")
            .env("POD_NAME", identity)
            .env(
                "RUST_LOG",
                std::env::var("ATS_TEST_OPERATOR_LOG")
                    .unwrap_or_else(|_| "info,kube=warn,hyper=warn".into()),
            )
            .stdout(out.try_clone().expect("log handle"))
            .stderr(out)
            .spawn()
            .expect("starting ats-operator");
        OperatorProcess {
            identity: identity.to_string(),
            log,
            child,
        }
    }

    /// Where it serves `/metrics`, `/healthz` and `/readyz`, read from the
    /// line it logs once bound; panics if that does not come within `wait`.
    pub async fn metrics_addr(&mut self, wait: Duration) -> std::net::SocketAddr {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            let log = std::fs::read_to_string(&self.log).unwrap_or_default();
            if let Some(addr) = log
                .lines()
                .filter(|l| l.contains("serving /metrics"))
                .find_map(|l| l.split(" on http://").nth(1))
                .and_then(|rest| rest.split_whitespace().next())
            {
                return addr
                    .parse()
                    .unwrap_or_else(|e| panic!("metrics address {addr:?}: {e}"));
            }
            assert!(
                self.running(),
                "ats-operator {} exited before serving metrics:\n{log}",
                self.identity
            );
            assert!(
                tokio::time::Instant::now() < deadline,
                "ats-operator {} did not log its metrics address within {wait:?}:\n{log}",
                self.identity
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// SIGKILL: no chance to release the Lease or finish a write.
    pub fn kill(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// SIGTERM, and waits for the process to exit.
    pub fn terminate(mut self) -> std::process::ExitStatus {
        let _ = std::process::Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        self.child.wait().expect("waiting for ats-operator")
    }
}

impl Drop for OperatorProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
