#!/usr/bin/env bash
# Model benchmark: BLOOM decode (batch 1, KV cache) and 64-token prefill tokens/s, ours (bench-model, 2 threads)
# against PyTorch transformers on the CPU with 2 threads, random weights, small and bloom-560m shapes, same run.
# Called by scripts/bench.sh with ECOM_ROOT, ECOM_PY and ECOM_BENCH_BIN set. BENCH_QUICK=1 for a short run.
set -euo pipefail
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
BENCH_THREADS=2 "$ECOM_BENCH_BIN/bench-model" > "$tmp/ours.jsonl"
"$ECOM_PY" "$ECOM_ROOT/scripts/bench/model_reference.py" "${BENCH_QUICK:-0}" > "$tmp/reference.jsonl"
"$ECOM_PY" "$ECOM_ROOT/scripts/bench/combine.py" "$tmp/ours.jsonl" "$tmp/reference.jsonl"
