#!/usr/bin/env bash
# Training benchmark: BLOOM training tokens/s (forward, backward, clipping, AdamW) at batch 4 x 256 and peak memory,
# ours (bench-train, 2 threads) against PyTorch eager on the CPU with 2 threads, tiny and small shapes, same run.
# Each shape runs in its own process on each side so that max RSS is that shape's peak. A second case per shape is a
# batch shaped like packed instruction data (padding, response-only loss), reported beside the target's case.
# Called by scripts/bench.sh with ECOM_ROOT, ECOM_PY and ECOM_BENCH_BIN set. BENCH_QUICK=1 for a short run.
set -euo pipefail
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
# Where the machine has bf16 compute (ecom-model system-info's "bf16"), the same cases again in bf16 against PyTorch's
# bf16 autocast.
precisions="f32"
case "${ECOM_MACHINE:-}" in *'"bf16":"onednn'*) precisions="f32 bf16" ;; esac
for precision in $precisions; do
  for shape in tiny small; do
    for variant in full instruction; do
      BENCH_THREADS=2 BENCH_PRECISION=$precision "$ECOM_BENCH_BIN/bench-train" "$shape" "$variant" >> "$tmp/ours.jsonl"
      "$ECOM_PY" "$ECOM_ROOT/scripts/bench/train_reference.py" "$shape" "${BENCH_QUICK:-0}" "$variant" "$precision" >> "$tmp/reference.jsonl"
    done
  done
done
"$ECOM_PY" "$ECOM_ROOT/scripts/bench/combine.py" "$tmp/ours.jsonl" "$tmp/reference.jsonl"
