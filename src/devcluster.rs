//! A throwaway control plane (etcd + kube-apiserver) on loopback, for integration tests
//! and the demo. Nothing here runs in a real deployment.
//!
//! Both processes run under one bash supervisor in its own process group. The supervisor
//! reads its stdin, a pipe whose write end only this process holds: when this process
//! exits for any reason (even `SIGKILL`, even with the `DevCluster` in a never-dropped
//! static) the kernel closes the pipe, the supervisor sees EOF and kills both children.

use std::fs;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use k8s_openapi::api::core::v1::Namespace;
use kube::Api;
use rand::RngCore;

use crate::supervised::Supervised;

/// kube-apiserver built by `scripts/build-kube-apiserver.sh`.
const APISERVER_CACHE_PATH: &str = ".cache/ats-operator/kube-apiserver-v1.20.2/kube-apiserver";
/// Upper bound for start-up; a cold apiserver on a busy 2-core box takes well under this.
const START_DEADLINE: Duration = Duration::from_secs(180);
/// Free ports are probed then released, so another process may grab one first: retry.
const START_ATTEMPTS: u32 = 3;

const SUPERVISOR: &str = r#"
# usage: supervise.sh ETCD_CMD... -- APISERVER_CMD...   (env: LOG_DIR, ETCD_PORT, CLEANUP_DIR)
set -u
etcd_cmd=()
while [ "$#" -gt 0 ] && [ "$1" != "--" ]; do etcd_cmd+=("$1"); shift; done
shift
api_cmd=("$@")
pids=()
finish() {
  [ "${#pids[@]}" -eq 0 ] || kill -KILL "${pids[@]}" 2>/dev/null
  wait 2>/dev/null
  if [ -n "${CLEANUP_DIR:-}" ]; then rm -rf -- "$CLEANUP_DIR"; fi
  exit "$1"
}
trap 'finish 143' TERM INT HUP
# fd 3 is the parent's pipe; background jobs would otherwise get /dev/null as stdin.
exec 3<&0 </dev/null
# Watcher: returns only at EOF, i.e. when the parent closed the pipe or died.
( while read -r -u 3 _; do :; done ) &
pids+=("$!")
"${etcd_cmd[@]}" 3<&- >>"$LOG_DIR/etcd.log" 2>&1 &
etcd_pid=$!
pids+=("$etcd_pid")
# Start the apiserver only once etcd accepts connections.
until (exec 4<>"/dev/tcp/127.0.0.1/$ETCD_PORT") 2>/dev/null; do
  kill -0 "$etcd_pid" 2>/dev/null || { echo "etcd exited" >&2; finish 1; }
  kill -0 "${pids[0]}" 2>/dev/null || finish 0
  sleep 0.1
done
"${api_cmd[@]}" 3<&- >>"$LOG_DIR/kube-apiserver.log" 2>&1 &
pids+=("$!")
# Whichever ends first (parent gone, etcd or apiserver died) ends the cluster.
wait -n
code=$?
echo "a cluster process ended (status $code); stopping" >&2
finish "$code"
"#;

#[derive(Debug, thiserror::Error)]
pub enum DevClusterError {
    #[error(
        "kube-apiserver not found at {0}: run scripts/build-kube-apiserver.sh (or set KUBE_APISERVER)"
    )]
    ApiserverMissing(PathBuf),
    #[error("etcd not found (set ETCD, put it on PATH, or apt-get install etcd-server)")]
    EtcdMissing,
    #[error("{context}: {source}")]
    Io {
        context: String,
        source: std::io::Error,
    },
    #[error("openssl genrsa failed: {0}")]
    KeyGen(String),
    #[error("the cluster stopped during start-up ({status}); logs in {dir}:\n{logs}")]
    Exited {
        status: String,
        dir: PathBuf,
        logs: String,
    },
    #[error("the cluster was not ready within {secs}s; logs in {dir}:\n{logs}")]
    NotReady {
        secs: u64,
        dir: PathBuf,
        logs: String,
    },
    #[error("client: {0}")]
    Client(String),
}

fn io_err(context: impl Into<String>) -> impl FnOnce(std::io::Error) -> DevClusterError {
    let context = context.into();
    move |source| DevClusterError::Io { context, source }
}

/// A running etcd + kube-apiserver; dropping it stops both.
#[derive(Debug)]
pub struct DevCluster {
    dir: PathBuf,
    server: String,
    config: kube::Config,
    token: String,
    kubeconfig: PathBuf,
    supervisor: Supervised,
}

impl DevCluster {
    /// Starts a cluster with its data, certificates, logs and kubeconfig in `dir`, which
    /// is left in place afterwards (the etcd data is reset at each start).
    pub async fn start(dir: &Path) -> Result<Self, DevClusterError> {
        Self::start_inner(dir, false).await
    }

    /// Starts a cluster in a fresh directory under the system temp dir, removed when the
    /// cluster stops (also when this process dies without dropping it).
    pub async fn start_ephemeral() -> Result<Self, DevClusterError> {
        let dir = std::env::temp_dir().join(format!(
            "ats-devcluster-{}-{:08x}",
            std::process::id(),
            rand::thread_rng().next_u32()
        ));
        Self::start_inner(&dir, true).await
    }

    async fn start_inner(dir: &Path, ephemeral: bool) -> Result<Self, DevClusterError> {
        let apiserver = apiserver_binary()?;
        let etcd = etcd_binary()?;
        fs::create_dir_all(dir).map_err(io_err(format!("creating {}", dir.display())))?;
        let dir = dir
            .canonicalize()
            .map_err(io_err(format!("resolving {}", dir.display())))?;
        let mut attempt = 1;
        loop {
            match Self::try_start(&dir, &apiserver, &etcd, ephemeral).await {
                Err(DevClusterError::Exited { .. }) if attempt < START_ATTEMPTS => attempt += 1,
                other => return other,
            }
        }
    }

    async fn try_start(
        dir: &Path,
        apiserver: &Path,
        etcd: &Path,
        ephemeral: bool,
    ) -> Result<Self, DevClusterError> {
        let [etcd_port, peer_port, api_port] = free_ports()?;
        let etcd_data = dir.join("etcd");
        // Every start (and retry) begins from an empty store, not a half-initialised one.
        if etcd_data.exists() {
            fs::remove_dir_all(&etcd_data).map_err(io_err("removing old etcd data"))?;
        }
        let cert_dir = dir.join("certs");
        fs::create_dir_all(&cert_dir).map_err(io_err("creating cert dir"))?;
        let sa_key = dir.join("sa.key");
        if !sa_key.exists() {
            gen_rsa_key(&sa_key)?;
        }

        let mut raw = [0u8; 24];
        rand::thread_rng().fill_bytes(&mut raw);
        let token = hex::encode(raw);
        let tokens = dir.join("tokens.csv");
        fs::write(&tokens, format!("{token},admin,admin,\"system:masters\"\n"))
            .map_err(io_err("writing token file"))?;

        let server = format!("https://127.0.0.1:{api_port}");
        let mut config = kube::Config::new(
            server
                .parse()
                .map_err(|e| DevClusterError::Client(format!("{server}: {e}")))?,
        );
        // The apiserver serves a self-signed certificate it generated itself.
        config.accept_invalid_certs = true;
        config.auth_info.token = Some(token.clone().into());
        let kubeconfig = dir.join("kubeconfig");
        fs::write(&kubeconfig, kubeconfig_yaml(&server, &token))
            .map_err(io_err("writing kubeconfig"))?;
        let script = dir.join("supervise.sh");
        fs::write(&script, SUPERVISOR).map_err(io_err("writing supervisor script"))?;

        let etcd_url = format!("http://127.0.0.1:{etcd_port}");
        let peer_url = format!("http://127.0.0.1:{peer_port}");
        let path = |p: &Path| p.display().to_string();
        let mut args: Vec<String> = vec![
            path(&script),
            path(etcd),
            "--name=devcluster".into(),
            format!("--data-dir={}", path(&etcd_data)),
            format!("--listen-client-urls={etcd_url}"),
            format!("--advertise-client-urls={etcd_url}"),
            format!("--listen-peer-urls={peer_url}"),
            format!("--initial-advertise-peer-urls={peer_url}"),
            format!("--initial-cluster=devcluster={peer_url}"),
            "--logger=zap".into(),
            "--log-level=warn".into(),
            // Test data is disposable; fsync only slows every write down.
            "--unsafe-no-fsync".into(),
            "--".into(),
            path(apiserver),
            format!("--etcd-servers={etcd_url}"),
            "--bind-address=127.0.0.1".into(),
            "--advertise-address=127.0.0.1".into(),
            format!("--secure-port={api_port}"),
            // 1.20 still opens an HTTP port (8080) by default; concurrent clusters would clash.
            "--insecure-port=0".into(),
            format!("--cert-dir={}", path(&cert_dir)),
            format!("--token-auth-file={}", path(&tokens)),
            "--authorization-mode=RBAC".into(),
            "--service-account-issuer=https://kubernetes.default.svc".into(),
            format!("--service-account-key-file={}", path(&sa_key)),
            format!("--service-account-signing-key-file={}", path(&sa_key)),
            "--service-cluster-ip-range=10.96.0.0/24".into(),
            "--endpoint-reconciler-type=none".into(),
            // No controller-manager creates service-account tokens here.
            "--disable-admission-plugins=ServiceAccount".into(),
            "--enable-priority-and-fairness=false".into(),
            "--profiling=false".into(),
        ];
        if !etcd_supports_no_fsync(etcd) {
            args.retain(|a| a != "--unsafe-no-fsync");
        }

        let mut cmd = Command::new("bash");
        cmd.args(&args)
            .env("LOG_DIR", dir)
            .env("ETCD_PORT", etcd_port.to_string())
            .env(
                "CLEANUP_DIR",
                if ephemeral { path(dir) } else { String::new() },
            );
        let supervisor = Supervised::spawn(cmd, dir, Duration::from_secs(10))
            .map_err(io_err("starting bash supervisor"))?;
        let mut cluster = DevCluster {
            dir: dir.to_path_buf(),
            server,
            config,
            token,
            kubeconfig,
            supervisor,
        };
        cluster.wait_ready().await?;
        Ok(cluster)
    }

    async fn wait_ready(&mut self) -> Result<(), DevClusterError> {
        let http = reqwest::Client::builder()
            // The apiserver serves a self-signed certificate it generated itself.
            .danger_accept_invalid_certs(true)
            .timeout(Duration::from_secs(5))
            .build()
            .map_err(|e| DevClusterError::Client(e.to_string()))?;
        let client = kube::Client::try_from(self.kube_config())
            .map_err(|e| DevClusterError::Client(e.to_string()))?;
        let namespaces: Api<Namespace> = Api::all(client);
        let started = Instant::now();
        let readyz = format!("{}/readyz", self.server);
        loop {
            if let Some(status) = self
                .supervisor
                .exited()
                .map_err(io_err("polling supervisor"))?
            {
                return Err(DevClusterError::Exited {
                    status: status.to_string(),
                    dir: self.dir.clone(),
                    logs: self.log_tail(),
                });
            }
            let ready = match http.get(&readyz).bearer_auth(&self.token).send().await {
                Ok(resp) if resp.status().is_success() => {
                    // The default namespace is made by a controller after /readyz may pass.
                    namespaces.get_opt("default").await.ok().flatten().is_some()
                }
                _ => false,
            };
            if ready {
                return Ok(());
            }
            if started.elapsed() > START_DEADLINE {
                return Err(DevClusterError::NotReady {
                    secs: START_DEADLINE.as_secs(),
                    dir: self.dir.clone(),
                    logs: self.log_tail(),
                });
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    /// Client configuration for the admin user (group `system:masters`).
    pub fn kube_config(&self) -> kube::Config {
        self.config.clone()
    }

    pub fn kubeconfig_path(&self) -> &Path {
        &self.kubeconfig
    }

    /// The apiserver's URL, `https://127.0.0.1:<port>`.
    pub fn server_url(&self) -> &str {
        &self.server
    }

    /// The directory holding data, certificates, logs (`etcd.log`, `kube-apiserver.log`).
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn log_tail(&self) -> String {
        self.supervisor
            .log_tail(&["supervisor.log", "etcd.log", "kube-apiserver.log"], 15)
    }
}

fn apiserver_binary() -> Result<PathBuf, DevClusterError> {
    let path = match std::env::var_os("KUBE_APISERVER") {
        Some(p) => PathBuf::from(p),
        None => {
            let home = std::env::var_os("HOME").unwrap_or_default();
            PathBuf::from(home).join(APISERVER_CACHE_PATH)
        }
    };
    if path.is_file() {
        Ok(path)
    } else {
        Err(DevClusterError::ApiserverMissing(path))
    }
}

fn etcd_binary() -> Result<PathBuf, DevClusterError> {
    if let Some(p) = std::env::var_os("ETCD") {
        return Ok(PathBuf::from(p));
    }
    let on_path = std::env::var_os("PATH")
        .map(|paths| std::env::split_paths(&paths).collect::<Vec<_>>())
        .unwrap_or_default();
    on_path
        .into_iter()
        .map(|d| d.join("etcd"))
        .chain([PathBuf::from("/usr/bin/etcd")])
        .find(|p| p.is_file())
        .ok_or(DevClusterError::EtcdMissing)
}

/// `--unsafe-no-fsync` appeared in etcd 3.4.10; older builds refuse unknown flags.
fn etcd_supports_no_fsync(etcd: &Path) -> bool {
    Command::new(etcd)
        .arg("--help")
        .output()
        .map(|o| {
            String::from_utf8_lossy(&o.stdout).contains("unsafe-no-fsync")
                || String::from_utf8_lossy(&o.stderr).contains("unsafe-no-fsync")
        })
        .unwrap_or(false)
}

/// Probes three distinct free loopback ports (held together so they differ).
fn free_ports() -> Result<[u16; 3], DevClusterError> {
    let bind = || TcpListener::bind("127.0.0.1:0").map_err(io_err("probing a free port"));
    let listeners = [bind()?, bind()?, bind()?];
    let mut ports = [0u16; 3];
    for (port, l) in ports.iter_mut().zip(&listeners) {
        *port = l.local_addr().map_err(io_err("reading port"))?.port();
    }
    Ok(ports)
}

fn gen_rsa_key(path: &Path) -> Result<(), DevClusterError> {
    let out = Command::new("openssl")
        .args(["genrsa", "-out"])
        .arg(path)
        .arg("2048")
        .output()
        .map_err(io_err("running openssl (apt-get install openssl)"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(DevClusterError::KeyGen(
            String::from_utf8_lossy(&out.stderr).into_owned(),
        ))
    }
}

fn kubeconfig_yaml(server: &str, token: &str) -> String {
    format!(
        "apiVersion: v1
kind: Config
clusters:
- name: devcluster
  cluster:
    server: {server}
    insecure-skip-tls-verify: true
users:
- name: admin
  user:
    token: {token}
contexts:
- name: devcluster
  context:
    cluster: devcluster
    user: admin
    namespace: default
current-context: devcluster
"
    )
}
