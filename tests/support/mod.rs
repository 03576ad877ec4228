//! Shared harness of the integration tests: one real etcd + kube-apiserver on loopback per
//! test binary (see `ats_operator::devcluster`), and helpers to use it.
//!
//! Each test binary includes this with `mod support;` and uses only part of it.
#![allow(dead_code)]

use std::path::PathBuf;
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
    pub fn start(client: &Client, ns: &str, ledger: &std::path::Path) -> Operator {
        let ledger =
            std::sync::Arc::new(ats_operator::ledger::Ledger::open(ledger).expect("ledger"));
        let (stop, rx) = tokio::sync::oneshot::channel::<()>();
        let join = tokio::spawn(ats_operator::controller::run(
            client.clone(),
            ledger,
            ats_operator::controller::Options::namespaced(ns),
            async move {
                let _ = rx.await;
            },
        ));
        Operator { stop, join }
    }

    pub async fn stop(self) {
        let _ = self.stop.send(());
        let _ = self.join.await;
    }
}
