# Sourced by scripts/test.sh and scripts/demo.sh: installs what a fresh Debian
# bookworm machine lacks (system packages, Rust, etcd, a cached kube-apiserver)
# and sets CARGO_TARGET_DIR.
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"

# System packages: a C toolchain (bundled SQLite, jemalloc), openssl (the test apiserver's
# service-account key), curl (rustup). apt-get update only if something is missing.
need=()
command -v cc >/dev/null || need+=(build-essential)
command -v make >/dev/null || need+=(make) # jemalloc's build
command -v pkg-config >/dev/null || need+=(pkg-config)
command -v openssl >/dev/null || need+=(openssl)
command -v curl >/dev/null || need+=(curl)
[ -e /etc/ssl/certs/ca-certificates.crt ] || need+=(ca-certificates)
# PostgreSQL's server: the PostgreSQL ledger's tests and benchmark start their own
# on a loopback port (src/devdb.rs); the package's own cluster is not used.
compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null || need+=(postgresql)
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

