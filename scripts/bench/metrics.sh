#!/usr/bin/env bash
# Rouge-L benchmark: the same 6,000 pairs (12 held-out tasks' gold answers vs perturbed copies) scored by ours
# (bench-metrics, the `rouge` flavour) and by the `rouge` package, in one run. Called by scripts/bench.sh.
set -euo pipefail
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
export PYTHONPATH="$ECOM_ROOT/scripts/reference:$ECOM_ROOT/scripts/bench${PYTHONPATH:+:$PYTHONPATH}"
export ECOM_SHARED_DATA="${ECOM_SHARED_DATA:-$ECOM_ROOT/../shared/data}"
"$ECOM_PY" "$ECOM_ROOT/scripts/bench/metrics_pairs.py" "$tmp/pairs.jsonl"
"$ECOM_BENCH_BIN/bench-metrics" "$tmp/pairs.jsonl" > "$tmp/ours.jsonl"
"$ECOM_PY" "$ECOM_ROOT/scripts/bench/metrics_reference.py" "$tmp/pairs.jsonl" > "$tmp/reference.jsonl"
"$ECOM_PY" "$ECOM_ROOT/scripts/bench/combine.py" "$tmp/ours.jsonl" "$tmp/reference.jsonl"
