"""Joins our measurements with the reference's from the same run into the benchmark JSON Lines.

Usage: combine.py OURS.jsonl REFERENCE.jsonl
Each input line: {"bench", "case", "value", "unit", "higher_is_better", ...}. Lines are matched on (bench, case).
Each output line: {"bench", "case", "ours", "reference", "unit", "ratio", ...extra} where ratio is ours/reference
for throughputs (higher is better) and reference/ours for times, so that a ratio above 1 always means we are better.
A case measured on one side only is printed with the other side null (e.g. our multi-core figure).
Every output line names the machine: "cpu", "blas_core" and "path" come from our side's row, and where a row lacks
them, from ECOM_MACHINE (the JSON of `ecom-model system-info`, which scripts/bench.sh sets).
"""
import json
import os
import sys

MACHINE_KEYS = ("cpu", "blas_core", "path")


def machine():
    try:
        facts = json.loads(os.environ.get("ECOM_MACHINE") or "{}")
    except json.JSONDecodeError as e:
        sys.exit(f"combine: ECOM_MACHINE is not JSON ({e})")
    return {k: facts[k] for k in MACHINE_KEYS if k in facts}


def load(path):
    out = {}
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            line = line.strip()
            if not line:
                continue
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as e:
                sys.exit(f"combine: {path}:{n}: not JSON ({e})")
            out[(obj["bench"], obj["case"])] = obj
    return out


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    ours, ref = load(sys.argv[1]), load(sys.argv[2])
    facts = machine()
    keys = list(ours) + [k for k in ref if k not in ours]
    for key in keys:
        o, r = ours.get(key), ref.get(key)
        base = o or r
        if o and r and o["unit"] != r["unit"]:
            sys.exit(f"combine: units differ for {key}: {o['unit']} vs {r['unit']}")
        higher = base.get("higher_is_better", True)
        ratio = None
        if o and r and o["value"] and r["value"]:
            ratio = o["value"] / r["value"] if higher else r["value"] / o["value"]
        line = {"bench": key[0], "case": key[1], "ours": o["value"] if o else None,
                "reference": r["value"] if r else None, "unit": base["unit"],
                "ratio": round(ratio, 4) if ratio is not None else None}
        for side in (r, o):
            for k, v in (side or {}).items():
                if k not in ("bench", "case", "value", "unit", "higher_is_better") and k not in line:
                    line[k] = v
        for k, v in facts.items():
            line.setdefault(k, v)
        print(json.dumps(line, ensure_ascii=False), flush=True)


if __name__ == "__main__":
    main()
