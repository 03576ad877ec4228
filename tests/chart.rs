//! The Helm chart (`charts/ats-operator`), with no helm binary (Helm v4's engine
//! through helm-python-sdk, see `support::chart`): it lints; it renders with
//! default and non-default values into what the operator needs and no more;
//! impossible values fail at render with a message; every rendered object
//! applies to the real kube-apiserver; and the operator, run with the rendered
//! Deployment's arguments and environment under a token of the rendered
//! ServiceAccount, syncs a tenant to Ready. With one verb taken from its role, it
//! names what is forbidden in its log instead of panicking or stalling silently.

mod support;

use std::collections::BTreeSet;
use std::time::Duration;

use k8s_openapi::api::coordination::v1::Lease;
use k8s_openapi::api::core::v1::Namespace;
use k8s_openapi::api::events::v1::Event as KubeEvent;
use kube::api::{Api, ListParams, Patch, PatchParams};
use serde_json::{Value, json};
use support::chart::{
    self, ChartOperator, all, args, container, expect_rules, find, render, rules,
};
use support::tenant::{self, Setup, Tenant, is, synced_true};

/// What the operator's code calls in tenant namespaces (src/controller), and
/// nothing else: no CRD access, no wildcard.
const CONTROLLER_RULES: &[(&str, &str)] = &[
    ("ats.dev/atssyncs", "list,watch,patch"),
    ("ats.dev/atsconnections", "get,list,watch"),
    ("ats.dev/scoringprofiles", "get,list,watch"),
    ("ats.dev/biasaudits", "list,watch"),
    ("ats.dev/atssyncs/status", "patch"),
    ("ats.dev/atsconnections/status", "patch"),
    ("ats.dev/scoringprofiles/status", "patch"),
    ("ats.dev/biasaudits/status", "patch"),
    ("/configmaps", "create,patch"),
    // create/delete: the Lever webhook signing-token Secret the operator owns.
    ("/secrets", "get,list,watch,patch,create,delete"),
    ("coordination.k8s.io/leases", "get,create,update"),
    ("events.k8s.io/events", "create,patch"),
];
/// kube-lease-manager's calls on the leader Lease, in the release namespace.
const LEADER_RULES: &[(&str, &str)] = &[("coordination.k8s.io/leases", "get,create,patch")];

const CUSTOM_ENDPOINTS: &str = "ats.dev/custom-endpoints=true";

fn custom_values(scoped: &str) -> Value {
    json!({
        "image": {"repository": "registry.example.com/ats-operator", "tag": "1.2.3"},
        "replicaCount": 2,
        "scopedNamespace": scoped,
        "scopedRBAC": true,
        "ledger": {
            "backend": "postgres",
            "retentionDays": 400,
            "postgres": {"existingSecret": "ats-ledger-db", "existingSecretKey": "url"},
        },
        "shards": [{"name": "a", "replicaCount": 2}, {"name": "b", "replicaCount": 3}],
        "serviceMonitor": {"enabled": true, "interval": "15s", "labels": {"release": "prometheus"}},
        "networkPolicy": {
            "enabled": true,
            "extraEgress": [{"to": [{"ipBlock": {"cidr": "10.20.0.0/16"}}], "ports": [{"port": 5432, "protocol": "TCP"}]}],
        },
        "podDisruptionBudget": {"enabled": true, "minAvailable": 1},
        "concurrent": 25,
        "log": {"level": "debug", "format": "json"},
        "customEndpointNamespaces": CUSTOM_ENDPOINTS,
        "resumeDownloadHosts": ["files.example.com", "*.cdn.example.com"],
        "extraArgs": {"watch-label-selector": "team=x"},
    })
}

#[test]
fn chart_lints() {
    for values in [json!({}), custom_values("tenants")] {
        match chart::lint(&values) {
            Ok(report) => assert!(report.contains("1 chart(s) linted"), "{report}"),
            Err(report) => panic!("helm lint with {values}:\n{report}"),
        }
    }
}

#[test]
fn default_render_grants_only_what_the_code_calls() {
    let objects = render(&json!({}), "ats", "ats-system").expect("render");
    let kinds: BTreeSet<&str> = objects
        .iter()
        .map(|o| o["kind"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        BTreeSet::from([
            "CustomResourceDefinition",
            "ServiceAccount",
            "ClusterRole",
            "ClusterRoleBinding",
            "Role",
            "RoleBinding",
            "Deployment",
            "Service",
            "PersistentVolumeClaim",
        ]),
    );
    // The CRDs come from the Rust types (tests/crds_fresh.rs keeps the copy fresh).
    let crds: BTreeSet<&str> = all(&objects, "CustomResourceDefinition")
        .iter()
        .map(|c| c["metadata"]["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        crds,
        BTreeSet::from([
            "atsconnections.ats.dev",
            "atssyncs.ats.dev",
            "biasaudits.ats.dev",
            "scoringprofiles.ats.dev"
        ])
    );

    // RBAC: one ClusterRole (tenants anywhere), the leader Lease in the release
    // namespace only, and no Namespace access without a selector.
    assert_eq!(all(&objects, "ClusterRole").len(), 1);
    let cr = find(&objects, "ClusterRole", "ats-ats-operator-controller");
    assert_eq!(rules(cr), expect_rules(CONTROLLER_RULES));
    let crb = find(
        &objects,
        "ClusterRoleBinding",
        "ats-ats-operator-controller",
    );
    assert_eq!(
        crb["subjects"],
        json!([{"kind": "ServiceAccount", "name": "ats-ats-operator", "namespace": "ats-system"}])
    );
    let leader = find(&objects, "Role", "ats-ats-operator-leader-election");
    assert_eq!(leader["metadata"]["namespace"], "ats-system");
    assert_eq!(rules(leader), expect_rules(LEADER_RULES));
    find(&objects, "ServiceAccount", "ats-ats-operator");

    let deps = all(&objects, "Deployment");
    assert_eq!(deps.len(), 1);
    let d = deps[0];
    assert_eq!(d["spec"]["replicas"], 1);
    // The ledger's ReadWriteOnce volume: the old Pod goes before the new one mounts it.
    assert_eq!(d["spec"]["strategy"]["type"], "Recreate");
    assert_eq!(
        args(d),
        [
            "run",
            "--log-format=text",
            "--metrics-addr=0.0.0.0:8080",
            "--max-concurrent-syncs=10",
            "--leader-elect=true",
            "--lease-name=ats-operator-leader",
            "--lease-duration=15",
            "--renew-deadline=10",
            "--ledger-backend=sqlite",
            "--ledger-path=/var/lib/ats-operator/ledger.db",
            "--ledger-retention-days=1095",
        ]
    );
    let c = container(d);
    assert_eq!(
        c["image"], "ats-operator:0.1.0",
        "the tag defaults to appVersion"
    );
    let env: Vec<&str> = c["env"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["name"].as_str().unwrap())
        .collect();
    assert_eq!(env, ["POD_NAME", "POD_NAMESPACE", "POD_IP", "RUST_LOG"]);
    assert_eq!(
        c["env"][0]["valueFrom"]["fieldRef"]["fieldPath"],
        "metadata.name"
    );
    assert_eq!(
        c["env"][1]["valueFrom"]["fieldRef"]["fieldPath"],
        "metadata.namespace"
    );
    // Standbys forward webhook deliveries to the address the leader advertises.
    assert_eq!(
        c["env"][2]["valueFrom"]["fieldRef"]["fieldPath"],
        "status.podIP"
    );
    assert_eq!(c["env"][3]["value"], "info,kube=warn,hyper=warn");
    // Probes on the metrics port.
    assert_eq!(
        c["ports"],
        json!([{"name": "metrics", "containerPort": 8080, "protocol": "TCP"}])
    );
    assert_eq!(
        c["livenessProbe"]["httpGet"],
        json!({"path": "/healthz", "port": "metrics"})
    );
    assert_eq!(
        c["readinessProbe"]["httpGet"],
        json!({"path": "/readyz", "port": "metrics"})
    );
    // Pod security: the restricted profile.
    let sc = &c["securityContext"];
    assert_eq!(sc["runAsNonRoot"], true);
    assert_eq!(sc["readOnlyRootFilesystem"], true);
    assert_eq!(sc["allowPrivilegeEscalation"], false);
    assert_eq!(sc["capabilities"]["drop"], json!(["ALL"]));
    assert_eq!(sc["seccompProfile"]["type"], "RuntimeDefault");
    let pod = &d["spec"]["template"]["spec"];
    assert_eq!(pod["securityContext"]["runAsNonRoot"], true);
    assert_eq!(pod["securityContext"]["runAsUser"], 65532);
    assert_eq!(
        pod["securityContext"]["seccompProfile"]["type"],
        "RuntimeDefault"
    );
    assert_eq!(pod["serviceAccountName"], "ats-ats-operator");
    // The ledger on its claim, /tmp writable, nothing else.
    let mounts: Vec<&str> = c["volumeMounts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["mountPath"].as_str().unwrap())
        .collect();
    assert_eq!(mounts, ["/tmp", "/var/lib/ats-operator"]);
    assert_eq!(
        pod["volumes"][1]["persistentVolumeClaim"]["claimName"],
        "ats-ats-operator-ledger"
    );
    let pvc = find(&objects, "PersistentVolumeClaim", "ats-ats-operator-ledger");
    assert_eq!(pvc["spec"]["accessModes"], json!(["ReadWriteOnce"]));
    assert_eq!(
        pvc["metadata"]["annotations"]["helm.sh/resource-policy"],
        "keep"
    );

    let svc = find(&objects, "Service", "ats-ats-operator-metrics");
    assert_eq!(svc["spec"]["ports"][0]["targetPort"], "metrics");
    let pod_labels = &d["spec"]["template"]["metadata"]["labels"];
    for (k, v) in svc["spec"]["selector"].as_object().unwrap() {
        assert_eq!(
            &pod_labels[k], v,
            "the metrics Service selects the operator's Pods"
        );
    }
}

#[test]
fn custom_render_scoped_postgres_shards_monitoring() {
    let objects = render(&custom_values("tenants"), "ats-operator", "ats-system").expect("render");
    // Namespace-scoped RBAC: a Role in the watched namespace, and a ClusterRole
    // only for Namespaces (the custom-endpoint selector), list and watch.
    let role = find(&objects, "Role", "ats-operator-controller");
    assert_eq!(role["metadata"]["namespace"], "tenants");
    assert_eq!(rules(role), expect_rules(CONTROLLER_RULES));
    let rb = find(&objects, "RoleBinding", "ats-operator-controller");
    assert_eq!(rb["metadata"]["namespace"], "tenants");
    assert_eq!(rb["roleRef"]["kind"], "Role");
    assert_eq!(rb["subjects"][0]["namespace"], "ats-system");
    let cluster_roles = all(&objects, "ClusterRole");
    assert_eq!(cluster_roles.len(), 1);
    assert_eq!(
        rules(cluster_roles[0]),
        expect_rules(&[("/namespaces", "list,watch")])
    );
    assert_eq!(
        rules(find(&objects, "Role", "ats-operator-leader-election")),
        expect_rules(LEADER_RULES)
    );

    // One Deployment per shard, the main one owning the unlabelled resources.
    let deps = all(&objects, "Deployment");
    let shards: Vec<(&str, i64, String)> = deps
        .iter()
        .map(|d| {
            let shard = args(d)
                .into_iter()
                .find(|a| a.starts_with("--shard="))
                .expect("--shard");
            (
                d["metadata"]["name"].as_str().unwrap(),
                d["spec"]["replicas"].as_i64().unwrap(),
                shard,
            )
        })
        .collect();
    assert_eq!(
        shards,
        [
            ("ats-operator", 2, "--shard=default".to_string()),
            ("ats-operator-shard-a", 2, "--shard=a".to_string()),
            ("ats-operator-shard-b", 3, "--shard=b".to_string()),
        ]
    );
    // Selectors do not overlap: each Deployment's own shard label.
    let selectors: BTreeSet<String> = deps
        .iter()
        .map(|d| {
            d["spec"]["selector"]["matchLabels"]["ats.dev/shard"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    assert_eq!(selectors.len(), 3);
    for d in &deps {
        let a = args(d);
        for expected in [
            "--namespace=tenants",
            "--ledger-backend=postgres",
            "--ledger-retention-days=400",
            "--max-concurrent-syncs=25",
            "--log-format=json",
            "--lease-name=ats-operator-leader",
            "--custom-endpoint-namespaces=ats.dev/custom-endpoints=true",
            "--resume-download-hosts=files.example.com,*.cdn.example.com",
            "--watch-label-selector=team=x",
        ] {
            assert!(a.iter().any(|x| x == expected), "{expected} in {a:?}");
        }
        assert!(!a.iter().any(|x| x.starts_with("--ledger-path")), "{a:?}");
        assert!(!a.iter().any(|x| x == "--allow-private-endpoints"), "{a:?}");
        let c = container(d);
        assert_eq!(c["image"], "registry.example.com/ats-operator:1.2.3");
        // The connection string comes from the Secret, never from values or args.
        let url = c["env"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["name"] == "ATS_LEDGER_DATABASE_URL")
            .expect("ATS_LEDGER_DATABASE_URL");
        assert_eq!(
            url["valueFrom"]["secretKeyRef"],
            json!({"name": "ats-ledger-db", "key": "url"})
        );
        let rust_log = c["env"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["name"] == "RUST_LOG")
            .unwrap();
        assert_eq!(rust_log["value"], "debug,kube=warn,hyper=warn");
        assert!(
            d["spec"].get("strategy").is_none(),
            "rolling updates without a volume to hand over"
        );
        let pod = &d["spec"]["template"]["spec"];
        assert!(
            pod["volumes"]
                .as_array()
                .unwrap()
                .iter()
                .all(|v| v["name"] != "ledger")
        );
    }
    assert!(all(&objects, "PersistentVolumeClaim").is_empty());

    let pdbs = all(&objects, "PodDisruptionBudget");
    assert_eq!(pdbs.len(), 3, "one per Deployment");
    for (pdb, d) in pdbs.iter().zip(&deps) {
        assert_eq!(
            pdb["spec"]["selector"]["matchLabels"],
            d["spec"]["selector"]["matchLabels"]
        );
        assert_eq!(pdb["spec"]["minAvailable"], 1);
    }

    let sm = find(&objects, "ServiceMonitor", "ats-operator");
    assert_eq!(sm["metadata"]["labels"]["release"], "prometheus");
    assert_eq!(sm["spec"]["endpoints"][0]["port"], "metrics");
    assert_eq!(sm["spec"]["endpoints"][0]["path"], "/metrics");
    assert_eq!(sm["spec"]["endpoints"][0]["interval"], "15s");
    assert_eq!(
        sm["spec"]["namespaceSelector"]["matchNames"],
        json!(["ats-system"])
    );

    let np = find(&objects, "NetworkPolicy", "ats-operator");
    assert_eq!(np["spec"]["policyTypes"], json!(["Ingress", "Egress"]));
    let egress = np["spec"]["egress"].as_array().unwrap();
    let ports: Vec<Vec<i64>> = egress
        .iter()
        .map(|r| {
            r["ports"]
                .as_array()
                .unwrap()
                .iter()
                .map(|p| p["port"].as_i64().unwrap())
                .collect()
        })
        .collect();
    assert_eq!(
        ports,
        [vec![53, 53], vec![443, 6443], vec![443], vec![5432]]
    );
    let vendors = &egress[2]["to"][0]["ipBlock"];
    assert_eq!(vendors["cidr"], "0.0.0.0/0");
    assert!(
        vendors["except"]
            .as_array()
            .unwrap()
            .contains(&json!("169.254.0.0/16")),
        "no metadata endpoint"
    );
}

#[test]
fn impossible_values_fail_at_render_with_what_to_change() {
    let postgres = json!({"backend": "postgres", "postgres": {"existingSecret": "db"}});
    let cases = [
        (
            json!({"replicaCount": 2}),
            "a SQLite ledger on a ReadWriteOnce volume serves one Pod",
        ),
        (
            json!({"shards": [{"name": "a"}]}),
            "use ledger.backend=postgres",
        ),
        (
            json!({"ledger": {"backend": "postgres"}}),
            "ledger.backend=postgres needs ledger.postgres.existingSecret",
        ),
        (
            json!({"leaderElect": false, "replicaCount": 2, "ledger": postgres}),
            "set leaderElect=true",
        ),
        (
            json!({"scopedRBAC": true}),
            "scopedRBAC=true needs scopedNamespace",
        ),
        (
            json!({"shards": [{"name": "default"}], "ledger": postgres}),
            "belongs to the main Deployment",
        ),
        (
            json!({"shards": [{"name": "a"}, {"name": "a"}], "ledger": postgres}),
            "listed twice",
        ),
        (
            json!({"podDisruptionBudget": {"enabled": true}}),
            "would block every node drain",
        ),
        (
            json!({"leaderElectionRenewDeadline": 15}),
            "must be shorter than leaderElectionLeaseDuration",
        ),
        (
            json!({"serviceMonitor": {"enabled": true}, "metrics": {"service": {"enabled": false}}}),
            "scrapes through the Service",
        ),
        // The schema: unknown keys and values out of range.
        (
            json!({"replicas": 2}),
            "additional properties 'replicas' not allowed",
        ),
        (json!({"log": {"format": "yaml"}}), "/log/format"),
        (json!({"ledger": {"backend": "mysql"}}), "/ledger/backend"),
        (json!({"shards": [{"name": "Shard_A"}]}), "/shards/0/name"),
    ];
    for (values, expected) in cases {
        match render(&values, "ats", "ats-system") {
            Ok(_) => panic!("{values} rendered; expected a failure naming {expected:?}"),
            Err(e) => assert!(
                e.contains(expected),
                "{values}: expected {expected:?} in:\n{e}"
            ),
        }
    }
}

#[tokio::test]
async fn rendered_objects_apply_to_the_api_server() {
    let (client, release_ns) = support::test_namespace("ats-apply").await;
    let scoped = support::namespace(&client, "tenants").await;
    chart::install_service_monitor_crd(&client).await;
    let defaults = render(&json!({}), "apply-default", &release_ns).expect("render");
    let applied = chart::apply_all(&client, &defaults).await;
    assert_eq!(applied.len(), defaults.len());
    let custom = render(&custom_values(&scoped), "apply-custom", &release_ns).expect("render");
    let applied = chart::apply_all(&client, &custom).await;
    eprintln!("applied: {applied:?}");
    assert_eq!(applied.len(), custom.len(), "{applied:?}");
    for kind in [
        "ServiceMonitor/",
        "NetworkPolicy/",
        "PodDisruptionBudget/",
        "Role/",
        "Deployment/",
    ] {
        assert!(
            applied.iter().any(|a| a.starts_with(kind)),
            "{kind} applied: {applied:?}"
        );
    }
}

/// A tenant with the Greenhouse sandbox, and the chart installed in a release
/// namespace of its own, its RBAC changed by `edit`, and the operator running
/// as the rendered main Deployment under the rendered ServiceAccount's token.
/// Resources are labelled for this test (`--watch-label-selector` through
/// `extraArgs`), since other tests' operators share the API server.
struct Installed {
    t: Tenant,
    operator: ChartOperator,
    release_ns: String,
    _dir: tempfile::TempDir,
}

async fn install(
    setup: Setup,
    extra: impl FnOnce(&str) -> Value,
    edit: impl FnOnce(&mut [Value], &str),
) -> Installed {
    let mut t = Tenant::new(setup, tenant::small()).await;
    let client = t.client.clone();
    // The sandbox is a custom endpoint: the tenant's namespace is selected.
    let (key, value) = CUSTOM_ENDPOINTS.split_once('=').unwrap();
    Api::<Namespace>::all(client.clone())
        .patch(
            &t.ns,
            &PatchParams::default(),
            &Patch::Merge(json!({"metadata": {"labels": {key: value}}})),
        )
        .await
        .expect("labelling the tenant namespace");
    let release_ns = support::namespace(&client, "ats-system").await;
    t.labels = json!({"chart-test": t.ns});
    let mut values = json!({
        // The sandbox listens on loopback.
        "allowPrivateEndpoints": true,
        "customEndpointNamespaces": CUSTOM_ENDPOINTS,
        "extraArgs": {"watch-label-selector": format!("chart-test={}", t.ns)},
    });
    for (k, v) in extra(&t.ns).as_object().cloned().unwrap_or_default() {
        values[k] = v;
    }
    // Release named after the tenant: cluster-scoped names stay distinct.
    let release = t.ns.clone();
    let fullname = format!("{release}-ats-operator");
    let mut objects = render(&values, &release, &release_ns).expect("render");
    edit(&mut objects, &fullname);
    chart::apply_all(&client, &objects).await;

    let token = chart::service_account_token(&client, &release_ns, &fullname).await;
    let dir = tempfile::tempdir().unwrap();
    let kubeconfig = chart::kubeconfig(dir.path(), &token);
    let deployment = find(&objects, "Deployment", &fullname);
    let operator = ChartOperator::start(&client, deployment, &kubeconfig, dir.path()).await;
    t.apply("24h").await;
    Installed {
        t,
        operator,
        release_ns,
        _dir: dir,
    }
}

/// Takes `verb` on `resource` (`group/resource`) from the role `kind`/`name`.
fn without(objects: &mut [Value], kind: &str, name: &str, resource: &str, verb: &str) {
    let (group, res) = resource.split_once('/').unwrap();
    let role = objects
        .iter_mut()
        .find(|o| o["kind"] == kind && o["metadata"]["name"] == name)
        .unwrap_or_else(|| panic!("no {kind} {name}"));
    let mut kept = Vec::new();
    let mut found = false;
    for rule in role["rules"].as_array().unwrap().clone() {
        let covers = rule["apiGroups"]
            .as_array()
            .unwrap()
            .contains(&json!(group))
            && rule["resources"].as_array().unwrap().contains(&json!(res));
        if !covers {
            kept.push(rule);
            continue;
        }
        found = true;
        let mut others = rule.clone();
        others["resources"] = json!(
            rule["resources"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|r| *r != res)
                .collect::<Vec<_>>()
        );
        if !others["resources"].as_array().unwrap().is_empty() {
            kept.push(others);
        }
        let verbs: Vec<&Value> = rule["verbs"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|v| *v != verb)
            .collect();
        if !verbs.is_empty() {
            kept.push(json!({"apiGroups": [group], "resources": [res], "verbs": verbs}));
        }
    }
    assert!(found, "{kind} {name} has no rule for {resource}");
    role["rules"] = json!(kept);
}

#[tokio::test]
async fn operator_syncs_under_exactly_the_charts_rbac() {
    let mut inst = install(Setup::greenhouse(), |_| json!({}), |_, _| {}).await;
    let t = &inst.t;
    let s = t.synced().await;
    let counts = s.status.clone().unwrap().last_sync.expect("lastSync");
    assert!(counts.applications_seen > 0, "{counts:?}");
    assert_eq!(counts.scored, counts.applications_seen, "{counts:?}");
    assert_eq!(counts.written_back, counts.scored, "{counts:?}");
    assert_eq!(counts.failed, 0, "{counts:?}");
    assert_eq!(t.notes_created().await, counts.written_back);

    // The leader Lease, in the release namespace, held by the "Pod".
    let lease = Api::<Lease>::namespaced(t.client.clone(), &inst.release_ns)
        .get("ats-operator-leader")
        .await
        .expect("leader Lease in the release namespace");
    assert_eq!(
        lease.spec.unwrap().holder_identity.as_deref(),
        Some(inst.operator.pod_name.as_str())
    );
    // Events (events.k8s.io) reached the tenant's namespace.
    let events = Api::<KubeEvent>::namespaced(t.client.clone(), &t.ns)
        .list(&ListParams::default())
        .await
        .unwrap();
    assert!(
        events
            .items
            .iter()
            .any(|e| e.reporting_controller.as_deref() == Some("ats-operator")),
        "no Event from the operator: {:?}",
        events.items.iter().map(|e| &e.reason).collect::<Vec<_>>()
    );
    // The probes' endpoints answer under the chart's RBAC, and /metrics
    // counts what the status reports.
    let base = format!("http://127.0.0.1:{}", inst.operator.metrics_port);
    let http = reqwest::Client::new();
    for path in ["/healthz", "/readyz"] {
        let res = http.get(format!("{base}{path}")).send().await.unwrap();
        assert_eq!(res.status(), 200, "{path}: {}", res.text().await.unwrap());
    }
    let metrics = http
        .get(format!("{base}/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let written: f64 = metrics
        .lines()
        .filter(|l| l.starts_with("ats_applications_written_back_total{"))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum();
    assert_eq!(written as u64, counts.written_back, "{metrics}");
    let log = inst.operator.log_text();
    assert!(
        !log.contains("forbidden"),
        "a permission missing under the chart's RBAC:\n{log}"
    );
    assert!(inst.operator.running(), "the operator exited:\n{log}");
}

/// Lever's OAuth rotates the refresh token on every refresh: the operator
/// saves each new one to the Secret (patch) under a Lease in the tenant's
/// namespace (get, create, update), all within the chart's role.
#[tokio::test]
async fn lever_token_rotation_under_exactly_the_charts_rbac() {
    let mut inst = install(Setup::lever(), |_| json!({}), |_, _| {}).await;
    let t = &inst.t;
    let before = t.secrets().get(tenant::SECRET).await.unwrap();
    let s = t.synced().await;
    let counts = s.status.clone().unwrap().last_sync.expect("lastSync");
    assert!(counts.written_back > 0, "{counts:?}");
    let after = t.secrets().get(tenant::SECRET).await.unwrap();
    let refresh = |s: &k8s_openapi::api::core::v1::Secret| {
        s.data
            .as_ref()
            .and_then(|d| d.get("refreshToken"))
            .map(|b| b.0.clone())
    };
    assert!(refresh(&after).is_some());
    assert_ne!(
        refresh(&before),
        refresh(&after),
        "the rotated refresh token was saved"
    );
    let lease = format!("ats-credentials-{}", tenant::SECRET);
    Api::<Lease>::namespaced(t.client.clone(), &t.ns)
        .get(&lease)
        .await
        .unwrap_or_else(|e| panic!("credential Lease {lease}: {e}"));
    let log = inst.operator.log_text();
    assert!(
        !log.contains("forbidden"),
        "a permission missing under the chart's RBAC:\n{log}"
    );
    assert!(inst.operator.running(), "the operator exited:\n{log}");
}

#[tokio::test]
async fn without_patch_on_sync_status_the_log_names_the_permission() {
    // Namespace-scoped this time: the Role in the tenant's namespace.
    let mut inst = install(
        Setup::greenhouse(),
        |tenant_ns| json!({"scopedNamespace": tenant_ns, "scopedRBAC": true}),
        |objects, fullname| {
            let role = format!("{fullname}-controller");
            without(objects, "Role", &role, "ats.dev/atssyncs/status", "patch");
        },
    )
    .await;
    let line = inst
        .operator
        .wait_log(
            "cannot patch resource \"atssyncs/status\"",
            tenant::DEADLINE,
        )
        .await;
    eprintln!("the operator says: {line}");
    assert!(line.contains("WARN"), "{line}");
    // Whoever reads the sync sees it too: a Warning Event names what was refused.
    let deadline = tokio::time::Instant::now() + tenant::DEADLINE;
    let event = loop {
        let events = Api::<KubeEvent>::namespaced(inst.t.client.clone(), &inst.t.ns)
            .list(&ListParams::default())
            .await
            .unwrap();
        let found = events.items.into_iter().find(|e| {
            e.reason.as_deref() == Some("PermissionDenied")
                && e.regarding.as_ref().and_then(|r| r.kind.as_deref()) == Some("AtsSync")
        });
        if let Some(e) = found {
            break e;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "no PermissionDenied Event"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    };
    assert_eq!(event.type_.as_deref(), Some("Warning"));
    let note = event.note.unwrap_or_default();
    assert!(
        note.contains("cannot patch resource \"atssyncs/status\""),
        "{note}"
    );
    // What it may still write, it writes: the connection's status.
    let deadline = tokio::time::Instant::now() + tenant::DEADLINE;
    while tenant::connection_ready(&inst.t.client, &inst.t.ns, "ats")
        .await
        .is_none_or(|c| c.status != "True")
    {
        assert!(
            tokio::time::Instant::now() < deadline,
            "connection not Ready:\n{}",
            inst.operator.log_text()
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    assert!(
        inst.operator.running(),
        "the operator exited:\n{}",
        inst.operator.log_text()
    );
}

#[tokio::test]
async fn without_list_on_secrets_the_log_names_the_permission_and_syncs_go_on() {
    let mut inst = install(
        Setup::greenhouse(),
        |_| json!({}),
        |objects, fullname| {
            without(
                objects,
                "ClusterRole",
                &format!("{fullname}-controller"),
                "/secrets",
                "list",
            );
        },
    )
    .await;
    let line = inst
        .operator
        .wait_log("cannot list resource \"secrets\"", tenant::DEADLINE)
        .await;
    eprintln!("the operator says: {line}");
    assert!(line.contains("WARN"), "{line}");
    assert!(
        line.contains("the operator's role lacks a permission"),
        "{line}"
    );
    // Secrets are still read by name: the sync goes on, only Secret edits are not seen.
    let s = inst.t.synced().await;
    assert!(is(&s, "Ready", "True", "Synced") && synced_true(&s));
    assert!(
        inst.operator.running(),
        "the operator exited:\n{}",
        inst.operator.log_text()
    );
}

#[test]
fn semantic_model_dir_renders_the_flag_and_a_read_only_volume() {
    let values = json!({"scoring": {"semantic": {
        "modelDir": "/models/all-MiniLM-L6-v2",
        "volume": {"persistentVolumeClaim": {"claimName": "minilm"}},
    }}});
    let objects = render(&values, "ats", "ats-system").expect("render");
    let d = find(&objects, "Deployment", "ats-ats-operator");
    assert!(
        args(d).contains(&"--model-dir=/models/all-MiniLM-L6-v2".to_string()),
        "{:?}",
        args(d)
    );
    assert!(args(d).contains(&"--semantic-engine=static".to_string()));
    let mut transformer = values.clone();
    transformer["scoring"]["semantic"]["engine"] = json!("transformer");
    let objects = render(&transformer, "ats", "ats-system").expect("render");
    let d2 = find(&objects, "Deployment", "ats-ats-operator");
    assert!(args(d2).contains(&"--semantic-engine=transformer".to_string()));
    let mut unknown = values.clone();
    unknown["scoring"]["semantic"]["engine"] = json!("onnx");
    let err = render(&unknown, "ats", "ats-system").unwrap_err();
    assert!(err.contains("/scoring/semantic/engine"), "{err}");
    let c = container(d);
    let mount = c["volumeMounts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["name"] == "model")
        .expect("the model's mount");
    assert_eq!(mount["mountPath"], "/models/all-MiniLM-L6-v2");
    assert_eq!(mount["readOnly"], true);
    let volume = d["spec"]["template"]["spec"]["volumes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["name"] == "model")
        .expect("the model's volume");
    assert_eq!(volume["persistentVolumeClaim"]["claimName"], "minilm");
    // Unset by default: no flag, no volume.
    let objects = render(&json!({}), "ats", "ats-system").expect("render");
    let d = find(&objects, "Deployment", "ats-ats-operator");
    assert!(!args(d).iter().any(|a| a.starts_with("--model-dir")));
    // Only absolute paths.
    let err = render(
        &json!({"scoring": {"semantic": {"modelDir": "models"}}}),
        "ats",
        "ats-system",
    )
    .unwrap_err();
    assert!(err.contains("/scoring/semantic/modelDir"), "{err}");
}
