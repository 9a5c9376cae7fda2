#!/usr/bin/env bash
# Model benchmark, same run, 2 threads on each side:
# - BLOOM decode (batch 1, KV cache) and 64-token prefill tokens/s, random weights, small and bloom-560m shapes,
#   ours (bench-model) against PyTorch transformers;
# - SmolLM2-135M-Instruct from its GGUF (scripts/fetch-model.sh): decode (128 tokens after 64) and 512-token prefill
#   tokens/s and load time, ours (bench-llama, blocks kept, and dequantized to f32) against transformers (PyTorch f32)
#   and llama.cpp (llama-cpp-python).
# Called by scripts/bench.sh with ECOM_ROOT, ECOM_PY and ECOM_BENCH_BIN set. BENCH_QUICK=1 for a short run.
set -euo pipefail
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
BENCH_THREADS=2 "$ECOM_BENCH_BIN/bench-model" > "$tmp/ours.jsonl"
"$ECOM_PY" "$ECOM_ROOT/scripts/bench/model_reference.py" "${BENCH_QUICK:-0}" > "$tmp/reference.jsonl"
gguf="$(bash "$ECOM_ROOT/scripts/fetch-model.sh" | tail -n 1)"
ECOM_SMOLLM2_GGUF="$gguf" BENCH_THREADS=2 "$ECOM_BENCH_BIN/bench-llama" >> "$tmp/ours.jsonl"
"$ECOM_PY" "$ECOM_ROOT/scripts/bench/llama_reference.py" "$gguf" "${BENCH_QUICK:-0}" >> "$tmp/reference.jsonl"
"$ECOM_PY" "$ECOM_ROOT/scripts/bench/combine.py" "$tmp/ours.jsonl" "$tmp/reference.jsonl"
