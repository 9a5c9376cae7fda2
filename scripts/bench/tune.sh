#!/usr/bin/env bash
# Fine-tuning benchmark, same run, 2 threads on each side: SmolLM2-135M-Instruct (scripts/fetch-model.sh) at batch
# 4 x 256, AdamW, tokens/s and peak memory:
# - LoRA r16/alpha32 on all seven projections: ours (bench-tune lora, the base kept in its Q4_1/Q8_0 blocks) against
#   PyTorch + PEFT (the base dequantized to f32 by transformers' GGUF loader); where our bf16 compute runs
#   (ecom-model system-info's "bf16" is oneDNN), also ours in bf16 against PyTorch + PEFT under bf16 autocast
#   (case "smollm2 lora r16 bf16"); elsewhere, on CPUs with AVX512_BF16 or AMX, the autocast run alone;
# - full fine-tuning in f32: ours (bench-tune full) against PyTorch.
# Called by scripts/bench.sh with ECOM_ROOT, ECOM_PY and ECOM_BENCH_BIN set. BENCH_QUICK=1 for a short run.
set -euo pipefail
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
gguf="$(bash "$ECOM_ROOT/scripts/fetch-model.sh" | tail -n 1)"
steps=3; [ "${BENCH_QUICK:-0}" = "1" ] && steps=2
reference() {  # MODE DTYPE CASE: one reference run, as the combine.py lines of CASE
  "$ECOM_PY" "$ECOM_ROOT/scripts/bench/train_lora_reference.py" --gguf "$gguf" --mode "$1" --dtype "$2" --steps "$steps" --warmup 1 --threads 2 |
    "$ECOM_PY" -c '
import json, sys
r = json.loads(sys.stdin.read()); name = sys.argv[1]
extra = {k: r[k] for k in ("impl", "dtype", "torch", "peft", "seconds_per_step", "loss_first", "loss_last", "trainable_parameters") if k in r}
print(json.dumps({"bench": "tune", "case": f"{name} tokens/s (4x256)", "value": r["tokens_per_second"], "unit": "tokens/s", "higher_is_better": True, **extra}))
print(json.dumps({"bench": "tune", "case": f"{name} peak memory", "value": r["peak_rss_mib"], "unit": "MiB", "higher_is_better": False}))
' "$3"
}
for mode in lora full; do
  ECOM_SMOLLM2_GGUF="$gguf" BENCH_THREADS=2 "$ECOM_BENCH_BIN/bench-tune" "$mode" >> "$tmp/ours.jsonl"
done
case "${ECOM_MACHINE:-}" in *'"bf16":"onednn'*)
  ECOM_SMOLLM2_GGUF="$gguf" BENCH_THREADS=2 BENCH_PRECISION=bf16 "$ECOM_BENCH_BIN/bench-tune" lora >> "$tmp/ours.jsonl" ;;
esac
reference lora f32 "smollm2 lora r16" >> "$tmp/reference.jsonl"
reference full f32 "smollm2 full fine-tuning" >> "$tmp/reference.jsonl"
if grep -qE 'avx512_bf16|amx_bf16' /proc/cpuinfo; then
  reference lora bf16 "smollm2 lora r16 bf16" >> "$tmp/reference.jsonl"
fi
"$ECOM_PY" "$ECOM_ROOT/scripts/bench/combine.py" "$tmp/ours.jsonl" "$tmp/reference.jsonl"
