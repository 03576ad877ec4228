#!/usr/bin/env bash
# Builds kube-apiserver v1.20.2 from Debian's `kubernetes` source package, once,
# and caches it under ~/.cache/ats-operator. No registry here serves the binary.
# Prints the binary's path on its last line.
set -euo pipefail

CACHE="${ATS_CACHE_DIR:-$HOME/.cache/ats-operator}"
BIN="$CACHE/kube-apiserver-v1.20.2/kube-apiserver"
if [ -x "$BIN" ]; then
  echo "$BIN"
  exit 0
fi

SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"

# deb-src for bookworm (the source package lives there, not in the binary lists).
if ! grep -rqs '^Types: deb-src' /etc/apt/sources.list.d/ && ! grep -qs '^deb-src' /etc/apt/sources.list; then
  $SUDO tee /etc/apt/sources.list.d/ats-operator-src.sources >/dev/null <<'SRC'
Types: deb-src
URIs: http://deb.debian.org/debian
Suites: bookworm
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq golang-go etcd-server rsync dpkg-dev \
  golang-github-modern-go-reflect2-dev golang-github-json-iterator-go-dev >/dev/null

WORK="$CACHE/build-kube-apiserver"
rm -rf "$WORK"
mkdir -p "$WORK"
cd "$WORK"
apt-get source -qq --download-only kubernetes=1.20.5+really1.20.2-1.1+deb12u1 >/dev/null
dpkg-source -x --no-check kubernetes_*.dsc src >/dev/null
TREE="$WORK/src"

# The vendored reflect2 1.0.1 crashes under Go 1.19+: use Debian's copies instead.
for pkg in github.com/modern-go/reflect2 github.com/json-iterator/go; do
  rm -rf "$TREE/vendor/$pkg"
  mkdir -p "$TREE/vendor/$pkg"
  rsync -a "/usr/share/gocode/src/$pkg/" "$TREE/vendor/$pkg/"
done

mkdir -p "$WORK/.go/src/k8s.io"
ln -sfn "$TREE" "$WORK/.go/src/k8s.io/kubernetes"
cd "$WORK/.go/src/k8s.io/kubernetes"
export GOPATH="$WORK/.go" GO111MODULE=off CGO_ENABLED=0 GOFLAGS=-mod=vendor
unset GOFLAGS
make WHAT=cmd/kube-apiserver >"$WORK/build.log" 2>&1 || { tail -50 "$WORK/build.log" >&2; exit 1; }

mkdir -p "$(dirname "$BIN")"
cp "$(find "$TREE/_output" -type f -name kube-apiserver | head -1)" "$BIN"
cd /
rm -rf "$WORK"
echo "$BIN"
