//! `crds/ats.dev.yaml` and the chart's copy, `charts/ats-operator/crds/ats.dev.yaml`,
//! must match the CRDs generated from the Rust types.
//! `UPDATE_CRDS=1 cargo test --test crds_fresh` regenerates both.

use std::path::Path;

const COPIES: [&str; 2] = ["crds/ats.dev.yaml", "charts/ats-operator/crds/ats.dev.yaml"];

#[test]
fn crds_yaml_is_fresh() {
    let generated = ats_operator::api::crds_yaml().expect("serialising CRDs");
    let update = std::env::var_os("UPDATE_CRDS").is_some_and(|v| v == "1");
    for copy in COPIES {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(copy);
        if update {
            std::fs::create_dir_all(path.parent().expect("crds dir")).expect("creating crds/");
            std::fs::write(&path, &generated).expect("writing the CRDs");
            continue;
        }
        let committed = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            committed == generated,
            "{} is stale or missing: run `UPDATE_CRDS=1 cargo test --test crds_fresh` and commit it",
            path.display()
        );
    }
}
