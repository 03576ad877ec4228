#!/usr/bin/env bash
# The demo: a local kube-apiserver + etcd, the Greenhouse sandbox, the example
# resources and the operator; prints status and scores. Installs what it needs.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/setup.sh
source scripts/setup.sh >/dev/null
exec cargo run --quiet -- demo "$@"
