#!/usr/bin/env bash
# The scale-out path checked end to end on this CPU in a few minutes (also run by CI):
#   1. the Python reader's unit tests (python/tests), against shards that ecom-data writes, and PackedDataset under a
#      real 2-rank torchrun with 2 DataLoader workers each: every sequence of an epoch once, in ecom-train's order;
#   2. `torchrun --nproc_per_node 2` (gloo) of scripts/scale-out/train.py against `ecom-train` on the same packed
#      batches and initial weights: losses, gradient norms and learning rates of every step within 1e-4 relative,
#      for the tiny random Llama (full fine-tuning DDP and FSDP, LoRA from a saved adapter) and a tiny random BLOOM
#      (DDP and FSDP);
#   3. --resume: two steps, stopped after one and resumed, equal two steps in one go;
#   4. checkpoints written by train.py (full and LoRA) give transformers' logits in `ecom-model forward`.
# Prints one summary line last. Python: $ECOM_PY when set, else the reference venv (made when missing); ./python is
# installed into it first. Tools: $ECOM_BIN when set, else .build/release (built when missing).
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
absolute() { case "$1" in /*) echo "$1" ;; */*) echo "$PWD/$1" ;; *) command -v "$1" || echo "$1" ;; esac; }
[ -n "${ECOM_PY:-}" ] && ECOM_PY="$(absolute "$ECOM_PY")"
[ -n "${ECOM_BIN:-}" ] && ECOM_BIN="$(cd "$ECOM_BIN" && pwd)"
cd "$ROOT"
if [ -n "${ECOM_PY:-}" ]; then PY="$ECOM_PY"; else
    [ -x scripts/reference/.venv/bin/python ] || bash scripts/reference/venv.sh
    PY="$ROOT/scripts/reference/.venv/bin/python"
fi
BIN="${ECOM_BIN:-$ROOT/.build/release}"
if [ ! -x "$BIN/ecom-train" ] || [ ! -x "$BIN/ecom-data" ] || [ ! -x "$BIN/ecom-model" ]; then
    echo "smoke: building the tools (swift build -c release)" >&2
    swift build -c release --product ecom-data >&2 && swift build -c release --product ecom-train >&2 && swift build -c release --product ecom-model >&2
    BIN="$ROOT/.build/release"
fi
"$PY" -m pip install -q --no-deps --no-build-isolation ./python >&2
HERE="$ROOT/scripts/scale-out"
W="$(mktemp -d "${TMPDIR:-/tmp}/ecom-scale-out.XXXXXX")"
trap 'rm -rf "$W"' EXIT
export OMP_NUM_THREADS=1 PYTHONUNBUFFERED=1
declare -a SUMMARY=()
step() { echo "== $*" >&2; }
run_torch() { "$PY" -m torch.distributed.run --standalone --nproc_per_node "$1" "$HERE/train.py" "${@:2}" --device cpu --log-every 1 >&2; }
check() { local line; line="$("$PY" "$HERE/parity.py" "$@")" || { echo "$line"; echo "smoke: FAILED ($*)"; exit 1; }; echo "$line" >&2; SUMMARY+=("$line"); }

step "Python reader: unit tests"
if ! (cd python && ECOM_BIN="$BIN" "$PY" -m unittest discover -s tests >"$W/reader.log" 2>&1); then
    cat "$W/reader.log"; echo "smoke: FAILED (python/tests)"; exit 1
fi
READER="$(grep -E '^Ran [0-9]+ tests' "$W/reader.log" | head -n 1)"
tail -n 3 "$W/reader.log" >&2

step "data: records from the embedded raw sample, packed for each tokenizer"
"$BIN/ecom-data" build --out "$W/records" >/dev/null 2>&1
LLAMA="$ROOT/Tests/Fixtures/llama/tiny-hf"
LTOK="$ROOT/Tests/Fixtures/tokenizer/gpt2_small.json"
BTOK="$ROOT/Tests/Fixtures/tokenizer/bloom_small.json"
"$BIN/ecom-data" pack "$W/records" --tokenizer "$LTOK" --seq-len 384 --out "$W/packed-llama" >/dev/null 2>&1
"$BIN/ecom-data" pack "$W/records" --tokenizer "$BTOK" --seq-len 384 --out "$W/packed-bloom" >/dev/null 2>&1
"$PY" "$HERE/parity.py" tiny-bloom "$W/bloom" --vocab 6000 >&2

step "PackedDataset under torchrun: 2 ranks x 2 workers cover an epoch once"
line="$("$PY" -m torch.distributed.run --standalone --nproc_per_node 2 "$HERE/coverage.py" "$W/packed-llama" --seed 5 2>"$W/coverage.log")" \
    || { cat "$W/coverage.log"; echo "$line"; echo "smoke: FAILED (coverage)"; exit 1; }
echo "$line" >&2; SUMMARY+=("$line")

# ecom-train with --batch B*2 on one process against torchrun with --batch B on 2 ranks (same global batch).
COMMON=(--steps 3 --accum 2 --lr 3e-3 --warmup-ratio 0.34 --schedule cosine --seed 5 --clip 1 --log-every 0)
TCOMMON=(--steps 3 --accum 2 --lr 3e-3 --warmup-ratio 0.34 --schedule cosine --seed 5 --clip 1)

step "Llama full fine-tuning: ecom-train vs 2-rank DDP"
"$BIN/ecom-train" --init "$LLAMA" --data "$W/packed-llama" --tokenizer "$LTOK" --batch 4 "${COMMON[@]}" --out "$W/ecom-llama" 2>/dev/null
run_torch 2 --model "$LLAMA" --data "$W/packed-llama" --tokenizer "$LTOK" --batch 2 "${TCOMMON[@]}" --out "$W/torch-llama"
check metrics "$W/ecom-llama/metrics.jsonl" "$W/torch-llama/metrics.jsonl"
check logits "$W/torch-llama" --bin "$BIN"

step "Llama full fine-tuning: 2-rank FSDP"
run_torch 2 --model "$LLAMA" --data "$W/packed-llama" --tokenizer "$LTOK" --batch 2 "${TCOMMON[@]}" --strategy fsdp --out "$W/fsdp-llama"
check metrics "$W/ecom-llama/metrics.jsonl" "$W/fsdp-llama/metrics.jsonl"

step "Llama: resume after one step equals an uninterrupted run"
run_torch 2 --model "$LLAMA" --data "$W/packed-llama" --tokenizer "$LTOK" --batch 2 "${TCOMMON[@]}" --out "$W/resume-llama" --stop-after 1
run_torch 2 --model "$LLAMA" --data "$W/packed-llama" --tokenizer "$LTOK" --batch 2 "${TCOMMON[@]}" --out "$W/resume-llama" --resume
check metrics "$W/ecom-llama/metrics.jsonl" "$W/resume-llama/metrics.jsonl"

step "Llama LoRA from a saved adapter: ecom-train vs 2-rank DDP"
"$BIN/ecom-train" --init "$LLAMA" --data "$W/packed-llama" --tokenizer "$LTOK" --batch 4 --steps 1 --lr 1e-2 --warmup-ratio 0 \
    --lora-rank 4 --lora-alpha 8 --seed 9 --log-every 0 --out "$W/adapter0" 2>/dev/null
"$BIN/ecom-train" --init "$LLAMA" --lora-init "$W/adapter0" --data "$W/packed-llama" --tokenizer "$LTOK" --batch 4 "${COMMON[@]}" --out "$W/ecom-lora" 2>/dev/null
run_torch 2 --model "$LLAMA" --lora-init "$W/adapter0" --data "$W/packed-llama" --tokenizer "$LTOK" --batch 2 "${TCOMMON[@]}" --out "$W/torch-lora"
check metrics "$W/ecom-lora/metrics.jsonl" "$W/torch-lora/metrics.jsonl"
check logits "$LLAMA" --lora "$W/torch-lora" --bin "$BIN"

step "BLOOM full fine-tuning: ecom-train vs 2-rank DDP (documents split into rows)"
"$BIN/ecom-train" --init "$W/bloom" --data "$W/packed-bloom" --tokenizer "$BTOK" --batch 4 "${COMMON[@]}" --out "$W/ecom-bloom" 2>/dev/null
run_torch 2 --model "$W/bloom" --data "$W/packed-bloom" --tokenizer "$BTOK" --batch 2 "${TCOMMON[@]}" --out "$W/torch-bloom"
check metrics "$W/ecom-bloom/metrics.jsonl" "$W/torch-bloom/metrics.jsonl"
check logits "$W/torch-bloom" --bin "$BIN"
run_torch 2 --model "$W/bloom" --data "$W/packed-bloom" --tokenizer "$BTOK" --batch 2 "${TCOMMON[@]}" --strategy fsdp --out "$W/fsdp-bloom"
check metrics "$W/ecom-bloom/metrics.jsonl" "$W/fsdp-bloom/metrics.jsonl"

printf '%s\n' "${SUMMARY[@]}"
echo "scale-out smoke: ok: reader (${READER:-tests}, 2-rank epoch coverage); train.py on 2 ranks equals ecom-train (Llama full DDP + FSDP + resume, Llama LoRA, BLOOM DDP + FSDP; ${#SUMMARY[@]} checks)"
