#!/usr/bin/env bash
# A Python venv with Helm v4's engine as a library (helm-python-sdk) and PyYAML,
# for scripts/chart.py and tests/chart.rs: the chart is rendered and linted with
# no helm binary. Idempotent: does nothing once the venv imports both.
# Prints nothing on success; scripts/test.sh runs it.
set -euo pipefail
venv="${ATS_HELM_VENV:-$HOME/.cache/ats-operator/helm-venv}"
if "$venv/bin/python" -c 'import helm_python, yaml' 2>/dev/null; then
  exit 0
fi
if ! /usr/bin/python3 -c 'import venv, ensurepip' 2>/dev/null; then
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq python3 python3-venv >/dev/null
fi
rm -rf "$venv"
/usr/bin/python3 -m venv "$venv"
"$venv/bin/pip" install -q --disable-pip-version-check 'helm-python-sdk==0.2.2' 'PyYAML==6.0.3'
"$venv/bin/python" -c 'import helm_python, yaml'
