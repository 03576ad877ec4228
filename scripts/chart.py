#!/usr/bin/env python3
"""Renders and lints the Helm chart without a helm binary, through Helm v4's
engine as a library (the PyPI package helm-python-sdk, installed by
scripts/chart-venv.sh).

    chart.py render [--values FILE.yaml|-] [--set-json JSON] [--name N] [--namespace NS] [--json]
    chart.py lint   [--values ...] [--set-json JSON]

`render` prints the manifests (the chart's crds/ first) as YAML documents, or
with --json one JSON array of objects; a values error or a template's `fail`
exits 1 with Helm's message. `lint` prints Helm's findings and exits 1 on
errors (warnings too with --strict).
"""

import argparse
import json
import os
import sys

import helm_python
import yaml

CHART = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "charts", "ats-operator")


def merge(base, over):
    """Deep merge, as helm's repeated -f/--set do."""
    for k, v in over.items():
        if isinstance(v, dict) and isinstance(base.get(k), dict):
            merge(base[k], v)
        else:
            base[k] = v
    return base


def values(args):
    vals = {}
    for f in args.values or []:
        text = sys.stdin.read() if f == "-" else open(f, encoding="utf-8").read()
        merge(vals, yaml.safe_load(text) or {})
    for j in args.set_json or []:
        merge(vals, json.loads(j))
    return vals


def render(args):
    chart = helm_python.Chart.load(args.chart)
    vals = values(args)
    # helm install validates values against values.schema.json first.
    chart.validate_schema(chart.merge_values(vals))
    out = chart.render(vals, name=args.name, namespace=args.namespace, is_install=True)
    objects = []
    for crd in chart.crds:
        objects.extend(d for d in yaml.safe_load_all(crd["data"]) if d)
    for path in sorted(out):
        if path.endswith("NOTES.txt"):
            continue
        objects.extend(d for d in yaml.safe_load_all(out[path]) if d)
    if args.json:
        json.dump(objects, sys.stdout)
        print()
    else:
        print(yaml.safe_dump_all(objects, sort_keys=False), end="")


def lint(args):
    report = helm_python.lint(args.chart, values(args), strict=args.strict, namespace=args.namespace)
    names = {0: "UNKNOWN", 1: "INFO", 2: "WARNING", 3: "ERROR"}
    worst = 0
    for m in report.get("messages", []):
        worst = max(worst, m["severity"])
        print(f"[{names.get(m['severity'], m['severity'])}] {m['path']}: {m['error']}")
    for e in report.get("errors", []):
        worst = 3
        print(f"[ERROR] {e}")
    print(f"{report.get('total_charts_linted', 0)} chart(s) linted")
    if worst >= 3 or (args.strict and worst >= 2):
        sys.exit(1)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("command", choices=["render", "lint"])
    p.add_argument("--chart", default=CHART)
    p.add_argument("--values", "-f", action="append", help="a values file (- for stdin)")
    p.add_argument("--set-json", action="append", help="values as a JSON object, merged last")
    p.add_argument("--name", default="ats-operator", help="release name")
    p.add_argument("--namespace", default="ats-operator", help="release namespace")
    p.add_argument("--json", action="store_true", help="render: one JSON array")
    p.add_argument("--strict", action="store_true", help="lint: warnings fail too")
    args = p.parse_args()
    try:
        {"render": render, "lint": lint}[args.command](args)
    except helm_python.HelmError as e:
        print(f"error: {e}", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
