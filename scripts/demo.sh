#!/usr/bin/env bash
# The demo: a local kube-apiserver + etcd, the Greenhouse sandbox, the example
# resources and the operator; prints status and scores. Installs what it needs.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v cargo >/dev/null 2>&1; then
  echo "cargo is required (https://rustup.rs)" >&2
  exit 1
fi
bash scripts/build-kube-apiserver.sh >/dev/null
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/ats-operator/target}"
exec cargo run --quiet -- demo "$@"
