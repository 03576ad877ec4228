//! The Helm chart from the tests, with no helm binary: rendered and linted by
//! Helm v4's engine as a library (`scripts/chart.py`, helm-python-sdk in the
//! venv `scripts/chart-venv.sh` installs), applied to the test API server by
//! server-side apply, and the operator run as the rendered Deployment runs it,
//! under a token of the rendered ServiceAccount.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::time::Duration;

use k8s_openapi::api::authentication::v1::{TokenRequest, TokenRequestSpec};
use k8s_openapi::api::core::v1::{Secret, ServiceAccount};
use kube::Client;
use kube::api::{Api, DynamicObject, GroupVersionKind, Patch, PatchParams, PostParams};
use kube::discovery::{self, Scope};
use serde_json::{Value, json};

const CHART_PY: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/scripts/chart.py");

/// The venv's Python; a missing venv fails the test loudly (the test command
/// installs it, scripts/test.sh).
pub fn python() -> PathBuf {
    let venv = std::env::var_os("ATS_HELM_VENV")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(std::env::var("HOME").expect("HOME"))
                .join(".cache/ats-operator/helm-venv")
        });
    let py = venv.join("bin/python");
    assert!(
        py.exists(),
        "{} is missing: run scripts/chart-venv.sh (scripts/test.sh runs it)",
        py.display()
    );
    py
}

fn chart_py(args: &[&str], values: &Value) -> Result<String, String> {
    let out = std::process::Command::new(python())
        .arg(CHART_PY)
        .args(args)
        .arg("--set-json")
        .arg(values.to_string())
        .output()
        .expect("running scripts/chart.py");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    if out.status.success() {
        Ok(stdout)
    } else {
        Err(format!("{stdout}{}", String::from_utf8_lossy(&out.stderr)))
    }
}

/// The chart rendered with `values` over its defaults, as `helm install
/// RELEASE -n NAMESPACE` would: the CRDs first, then every template's objects.
/// `Err` carries Helm's message (a schema violation, a template's `fail`).
pub fn render(values: &Value, release: &str, namespace: &str) -> Result<Vec<Value>, String> {
    let out = chart_py(
        &[
            "render",
            "--json",
            "--name",
            release,
            "--namespace",
            namespace,
        ],
        values,
    )?;
    Ok(serde_json::from_str(&out).expect("chart.py prints a JSON array"))
}

/// `helm lint` with `values`: its report, or `Err` with it when it found errors.
pub fn lint(values: &Value) -> Result<String, String> {
    chart_py(&["lint", "--strict"], values)
}

/// Every rendered object of `kind`.
pub fn all<'a>(objects: &'a [Value], kind: &str) -> Vec<&'a Value> {
    objects.iter().filter(|o| o["kind"] == kind).collect()
}

/// The rendered object of `kind` named `name`, which must be there.
pub fn find<'a>(objects: &'a [Value], kind: &str, name: &str) -> &'a Value {
    objects
        .iter()
        .find(|o| o["kind"] == kind && o["metadata"]["name"] == name)
        .unwrap_or_else(|| {
            let have: Vec<String> = objects
                .iter()
                .map(|o| format!("{}/{}", o["kind"], o["metadata"]["name"]))
                .collect();
            panic!("no {kind} {name} rendered; have {have:?}")
        })
}

/// A Role's or ClusterRole's rules as `group/resource` to verbs.
pub fn rules(role: &Value) -> BTreeMap<String, BTreeSet<String>> {
    let mut out: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for rule in role["rules"].as_array().expect("rules") {
        for group in rule["apiGroups"].as_array().expect("apiGroups") {
            for res in rule["resources"].as_array().expect("resources") {
                let key = format!("{}/{}", group.as_str().unwrap(), res.as_str().unwrap());
                let verbs = rule["verbs"].as_array().expect("verbs");
                out.entry(key)
                    .or_default()
                    .extend(verbs.iter().map(|v| v.as_str().unwrap().to_string()));
            }
        }
    }
    out
}

/// `[("group/resource", "verb,verb"), ..]` as [`rules`] returns them.
pub fn expect_rules(table: &[(&str, &str)]) -> BTreeMap<String, BTreeSet<String>> {
    table
        .iter()
        .map(|(r, verbs)| {
            (
                r.to_string(),
                verbs.split(',').map(str::to_string).collect(),
            )
        })
        .collect()
}

/// The (only) container of a rendered Deployment.
pub fn container(deployment: &Value) -> &Value {
    let cs = deployment["spec"]["template"]["spec"]["containers"]
        .as_array()
        .expect("containers");
    assert_eq!(cs.len(), 1, "one container");
    &cs[0]
}

/// The container's arguments.
pub fn args(deployment: &Value) -> Vec<String> {
    container(deployment)["args"]
        .as_array()
        .expect("args")
        .iter()
        .map(|a| a.as_str().expect("string arg").to_string())
        .collect()
}

/// A Prometheus Operator ServiceMonitor CRD, as small as the API server takes:
/// the bare API server serves no such kind, and a rendered ServiceMonitor must
/// be applied, not skipped.
pub async fn install_service_monitor_crd(client: &Client) {
    use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
    let crd: CustomResourceDefinition = serde_json::from_value(json!({
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": "servicemonitors.monitoring.coreos.com"},
        "spec": {
            "group": "monitoring.coreos.com",
            "scope": "Namespaced",
            "names": {"kind": "ServiceMonitor", "plural": "servicemonitors", "singular": "servicemonitor"},
            "versions": [{
                "name": "v1", "served": true, "storage": true,
                "schema": {"openAPIV3Schema": {"type": "object", "x-kubernetes-preserve-unknown-fields": true}},
            }],
        }
    }))
    .unwrap();
    let api: Api<CustomResourceDefinition> = Api::all(client.clone());
    api.patch(
        "servicemonitors.monitoring.coreos.com",
        &PatchParams::apply("chart-test").force(),
        &Patch::Apply(&crd),
    )
    .await
    .expect("applying the ServiceMonitor CRD");
    let established = kube::runtime::conditions::is_crd_established();
    tokio::time::timeout(
        Duration::from_secs(60),
        kube::runtime::wait::await_condition(
            api,
            "servicemonitors.monitoring.coreos.com",
            established,
        ),
    )
    .await
    .expect("ServiceMonitor CRD established in time")
    .expect("waiting for the ServiceMonitor CRD");
}

fn gvk_of(obj: &Value) -> GroupVersionKind {
    let api_version = obj["apiVersion"].as_str().expect("apiVersion");
    let (group, version) = api_version.rsplit_once('/').unwrap_or(("", api_version));
    GroupVersionKind::gvk(group, version, obj["kind"].as_str().expect("kind"))
}

/// Applies every object by server-side apply, in order; returns how each went
/// (`Kind/name`, with ` as VERSION` where the test server needed another
/// version). A kind the server does not serve fails the test, except
/// `policy/v1` PodDisruptionBudgets: kube-apiserver 1.20 serves them only as
/// `policy/v1beta1` (the same fields the chart uses), so they are applied so.
pub async fn apply_all(client: &Client, objects: &[Value]) -> Vec<String> {
    let mut done = Vec::new();
    for obj in objects {
        let mut obj = obj.clone();
        let name = obj["metadata"]["name"].as_str().expect("name").to_string();
        let mut what = format!("{}/{name}", obj["kind"].as_str().unwrap());
        let (ar, caps) = match discovery::pinned_kind(client, &gvk_of(&obj)).await {
            Ok(found) => found,
            Err(e) if obj["kind"] == "PodDisruptionBudget" && obj["apiVersion"] == "policy/v1" => {
                let spec_keys: BTreeSet<&str> = obj["spec"]
                    .as_object()
                    .unwrap()
                    .keys()
                    .map(String::as_str)
                    .collect();
                assert!(
                    spec_keys.is_subset(&BTreeSet::from([
                        "minAvailable",
                        "maxUnavailable",
                        "selector"
                    ])),
                    "{what}: fields policy/v1beta1 lacks: {spec_keys:?} ({e})"
                );
                obj["apiVersion"] = json!("policy/v1beta1");
                what.push_str(" as policy/v1beta1");
                discovery::pinned_kind(client, &gvk_of(&obj))
                    .await
                    .unwrap_or_else(|e| panic!("{what}: not served either: {e}"))
            }
            Err(e) => panic!(
                "{what} ({}): the test API server does not serve it: {e}",
                obj["apiVersion"]
            ),
        };
        let api: Api<DynamicObject> = match caps.scope {
            Scope::Namespaced => {
                let ns = obj["metadata"]["namespace"]
                    .as_str()
                    .unwrap_or_else(|| panic!("{what}: a namespaced object without a namespace"));
                Api::namespaced_with(client.clone(), ns, &ar)
            }
            Scope::Cluster => Api::all_with(client.clone(), &ar),
        };
        api.patch(
            &name,
            &PatchParams::apply("helm").force(),
            &Patch::Apply(&obj),
        )
        .await
        .unwrap_or_else(|e| panic!("applying {what}: {e}"));
        done.push(what);
    }
    done
}

/// A token of the ServiceAccount (TokenRequest API: the test server signs
/// tokens, though no controller-manager creates them).
pub async fn service_account_token(client: &Client, namespace: &str, name: &str) -> String {
    let req = TokenRequest {
        spec: TokenRequestSpec {
            audiences: Vec::new(),
            expiration_seconds: Some(3600),
            ..Default::default()
        },
        ..Default::default()
    };
    Api::<ServiceAccount>::namespaced(client.clone(), namespace)
        .create_token_request(name, &PostParams::default(), &req)
        .await
        .unwrap_or_else(|e| panic!("token of ServiceAccount {namespace}/{name}: {e}"))
        .status
        .expect("TokenRequest status")
        .token
}

/// A kubeconfig for the test API server that authenticates with `token`.
pub fn kubeconfig(dir: &Path, token: &str) -> PathBuf {
    let server = super::control_plane().cluster.server_url().to_string();
    let path = dir.join("kubeconfig-sa");
    let yaml = format!(
        "apiVersion: v1
kind: Config
clusters:
- name: test
  cluster:
    server: {server}
    insecure-skip-tls-verify: true
users:
- name: operator
  user:
    token: {token}
contexts:
- name: test
  context: {{cluster: test, user: operator}}
current-context: test
"
    );
    std::fs::write(&path, yaml).expect("writing the kubeconfig");
    path
}

/// `ats-operator` run with the arguments and environment of a rendered
/// Deployment, as its Pod would (the downward API and Secret references
/// resolved), with only what a test must change: the metrics address (a free
/// loopback port) and the SQLite ledger's path (a temporary directory).
pub struct ChartOperator {
    pub log: PathBuf,
    pub pod_name: String,
    /// The loopback port `--metrics-addr` was changed to.
    pub metrics_port: u16,
    child: std::process::Child,
}

impl ChartOperator {
    pub async fn start(client: &Client, deployment: &Value, kubeconfig: &Path, dir: &Path) -> Self {
        let ns = deployment["metadata"]["namespace"]
            .as_str()
            .expect("namespace");
        let pod_name = format!("{}-0", deployment["metadata"]["name"].as_str().unwrap());
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let ledger = dir.join(format!("{pod_name}-ledger.db"));
        let mut changed = Vec::new();
        let args: Vec<String> = args(deployment)
            .into_iter()
            .map(|a| match a.split_once('=') {
                Some(("--metrics-addr", _)) => {
                    changed.push("--metrics-addr");
                    format!("--metrics-addr=127.0.0.1:{port}")
                }
                Some(("--ledger-path", _)) => {
                    changed.push("--ledger-path");
                    format!("--ledger-path={}", ledger.display())
                }
                _ => a,
            })
            .collect();
        assert!(
            changed.contains(&"--metrics-addr"),
            "the Deployment sets --metrics-addr: {args:?}"
        );
        let mut env = BTreeMap::new();
        for e in container(deployment)["env"].as_array().expect("env") {
            let name = e["name"].as_str().unwrap().to_string();
            let value = if let Some(v) = e["value"].as_str() {
                v.to_string()
            } else if let Some(path) = e["valueFrom"]["fieldRef"]["fieldPath"].as_str() {
                match path {
                    "metadata.name" => pod_name.clone(),
                    "metadata.namespace" => ns.to_string(),
                    // The operator binds loopback here; it advertises this address
                    // to standbys for webhook forwarding.
                    "status.podIP" => "127.0.0.1".to_string(),
                    other => panic!("env {name}: fieldRef {other} not simulated"),
                }
            } else if let Some(sel) = e["valueFrom"]["secretKeyRef"].as_object() {
                let secret = Api::<Secret>::namespaced(client.clone(), ns)
                    .get(sel["name"].as_str().unwrap())
                    .await
                    .unwrap_or_else(|err| panic!("env {name}: {err}"));
                let key = sel["key"].as_str().unwrap();
                let bytes = secret
                    .data
                    .unwrap_or_default()
                    .remove(key)
                    .expect("secret key");
                String::from_utf8(bytes.0).expect("utf-8")
            } else {
                panic!("env {name}: {e} not simulated")
            };
            env.insert(name, value);
        }
        let log = dir.join(format!("{pod_name}.log"));
        let out = std::fs::File::create(&log).expect("operator log");
        let child = std::process::Command::new(env!("CARGO_BIN_EXE_ats-operator"))
            .args(&args)
            // Exactly the Pod's environment, and the kubeconfig standing in
            // for its mounted ServiceAccount token.
            .env_clear()
            .envs(&env)
            .env("KUBECONFIG", kubeconfig)
            .stdout(out.try_clone().expect("log handle"))
            .stderr(out)
            .spawn()
            .expect("starting ats-operator");
        ChartOperator {
            metrics_port: port,
            log,
            pod_name,
            child,
        }
    }

    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Whether the process still runs (no panic, no exit).
    pub fn running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    /// Waits until the log contains `needle`; panics with the log after `deadline`.
    pub async fn wait_log(&self, needle: &str, deadline: Duration) -> String {
        let until = tokio::time::Instant::now() + deadline;
        loop {
            let text = self.log_text();
            if let Some(line) = text.lines().find(|l| l.contains(needle)) {
                return line.to_string();
            }
            assert!(
                tokio::time::Instant::now() < until,
                "no log line with {needle:?} after {deadline:?}; log:\n{text}"
            );
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    }
}

impl Drop for ChartOperator {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
