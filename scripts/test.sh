#!/usr/bin/env bash
# The project's test command (CI runs it via .ci/run): installs what a fresh Debian
# bookworm machine lacks, builds kube-apiserver once (cached), then fmt, clippy, tests.
set -euo pipefail
cd "$(dirname "$0")/.."

SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"

# System packages: a C toolchain (bundled SQLite), openssl (the test apiserver's
# service-account key), curl (rustup). apt-get update only if something is missing.
need=()
command -v cc >/dev/null || need+=(build-essential)
command -v pkg-config >/dev/null || need+=(pkg-config)
command -v openssl >/dev/null || need+=(openssl)
command -v curl >/dev/null || need+=(curl)
[ -e /etc/ssl/certs/ca-certificates.crt ] || need+=(ca-certificates)
if [ "${#need[@]}" -gt 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq "${need[@]}" >/dev/null
fi

# Rust: edition 2024 needs a newer toolchain than Debian ships, so use rustup.
[ -d "$HOME/.cargo/bin" ] && export PATH="$HOME/.cargo/bin:$PATH"
if ! command -v cargo >/dev/null; then
  curl --proto '=https' --tlsv1.2 -sSf https://sh.rustup.rs |
    sh -s -- -y -q --profile minimal --component rustfmt,clippy
  export PATH="$HOME/.cargo/bin:$PATH"
fi
if command -v rustup >/dev/null; then
  cargo fmt --version >/dev/null 2>&1 || rustup component add rustfmt
  cargo clippy --version >/dev/null 2>&1 || rustup component add clippy
fi

# etcd and kube-apiserver for the integration tests (installs etcd-server and Go).
bash scripts/build-kube-apiserver.sh

export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/ats-operator/target}"

echo "==> cargo fmt --all -- --check"
cargo fmt --all -- --check
echo "==> cargo clippy --all-targets -- -D warnings"
cargo clippy --all-targets -- -D warnings
echo "==> the Greenhouse sandbox, checked by third-party clients (requests, requests-oauthlib)"
if ! /usr/bin/python3 -c 'import requests_oauthlib' 2>/dev/null; then
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq python3 python3-requests python3-requests-oauthlib >/dev/null
fi
cargo build --quiet
port=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$CARGO_TARGET_DIR/debug/ats-operator" sandbox --listen "127.0.0.1:$port" --applications 30 --rate-limit 50/30 >/dev/null 2>&1 &
sandbox_pid=$!
trap 'kill $sandbox_pid 2>/dev/null || true' EXIT
for _ in $(seq 100); do
  /usr/bin/python3 -c "import socket; socket.create_connection(('127.0.0.1', $port), 1)" 2>/dev/null && break
  sleep 0.1
done
/usr/bin/python3 tests/fidelity/greenhouse_v3.py "http://127.0.0.1:$port"
kill "$sandbox_pid" 2>/dev/null || true

echo "==> cargo test --all-targets"
cargo test --all-targets --no-fail-fast
