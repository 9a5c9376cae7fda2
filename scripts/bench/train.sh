#!/usr/bin/env bash
# Training benchmark: BLOOM training tokens/s (forward, backward, clipping, AdamW) at batch 4 x 256 and peak memory,
# ours (bench-train, 2 threads) against PyTorch eager on the CPU with 2 threads, tiny and small shapes, same run.
# Each shape runs in its own process on each side so that max RSS is that shape's peak.
# Called by scripts/bench.sh with ECOM_ROOT, ECOM_PY and ECOM_BENCH_BIN set. BENCH_QUICK=1 for a short run.
set -euo pipefail
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
for shape in tiny small; do
  BENCH_THREADS=2 "$ECOM_BENCH_BIN/bench-train" "$shape" >> "$tmp/ours.jsonl"
  "$ECOM_PY" "$ECOM_ROOT/scripts/bench/train_reference.py" "$shape" "${BENCH_QUICK:-0}" >> "$tmp/reference.jsonl"
done
"$ECOM_PY" "$ECOM_ROOT/scripts/bench/combine.py" "$tmp/ours.jsonl" "$tmp/reference.jsonl"
