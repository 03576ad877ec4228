//! `crds/ats.dev.yaml` must match the CRDs generated from the Rust types.
//! `UPDATE_CRDS=1 cargo test --test crds_fresh` regenerates it.

use std::path::Path;

#[test]
fn crds_yaml_is_fresh() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("crds/ats.dev.yaml");
    let generated = ats_operator::api::crds_yaml().expect("serialising CRDs");
    if std::env::var_os("UPDATE_CRDS").is_some_and(|v| v == "1") {
        std::fs::create_dir_all(path.parent().expect("crds dir")).expect("creating crds/");
        std::fs::write(&path, &generated).expect("writing crds/ats.dev.yaml");
        return;
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == generated,
        "{} is stale or missing: run `UPDATE_CRDS=1 cargo test --test crds_fresh` and commit it",
        path.display()
    );
}
