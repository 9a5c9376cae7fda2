#!/usr/bin/env bash
# The experiments of Docs/RESULTS.md (issue 9), each end to end into runs/exp<N>/ at this machine's scale:
#   1. zero-shot, as EcomGPT: train on data without the 12 held-out tasks (UniversalNER-derived instructions, atomic
#      tasks, the non-held-out EcomGPT task, the raw sample), evaluate on the held-out tasks (main.sh's pipeline);
#   2. supervised: each held-out task split by a seeded shuffle, the first 300 examples trained on in the task's own
#      EcomGPT format, evaluation on the held-back examples (ecom-data build / ecom-eval --supervised-split 300);
#   3. UniversalNER-style: train on four CrossNER domains and MIT restaurant, evaluate on CrossNER_AI (greedy);
#   4. the effect of atomic tasks: experiment 1 without the atomic-task records (ecom-data build --no-atomic).
# Each experiment: data, a tokenizer trained on its own training records, packing, the `tiny` model trained from
# scratch within a time budget, evaluation. Finished steps are kept: running again resumes.
# Usage: scripts/experiments.sh [1|2|3|4|all]   (default: all, one after another)
# Environment: ECOM_SHARED_DATA (default ../shared/data), ECOM_EXP_DIR (default runs; experiment N goes to
# $ECOM_EXP_DIR/exp<N>), ECOM_EXP_TRAIN_SECONDS (training budget per experiment, default 420), ECOM_EXP_EVAL_LIMIT
# (examples per EcomGPT task, default 15), ECOM_EXP_UNINER_LIMIT (CrossNER_AI questions for experiment 3, default 100),
# ECOM_VOCAB_SIZE (8192), ECOM_SEQ_LEN (256), ECOM_SEED (data and split seed, 0).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
# shellcheck source=scripts/lib/train_budget.sh
source "$root/scripts/lib/train_budget.sh"
which="${1:-all}"
case "$which" in 1|2|3|4|all) ;; *) echo "usage: $0 [1|2|3|4|all]" >&2; exit 2 ;; esac

echo "experiments: building the tools (release)" >&2
swift build -c release >&2
bin="$(swift build -c release --show-bin-path)"
shared="${ECOM_SHARED_DATA:-$root/../shared/data}"
runs="${ECOM_EXP_DIR:-$root/runs}"
vocab="${ECOM_VOCAB_SIZE:-8192}"
seq_len="${ECOM_SEQ_LEN:-256}"
train_seconds="${ECOM_EXP_TRAIN_SECONDS:-420}"
eval_limit="${ECOM_EXP_EVAL_LIMIT:-15}"
uniner_limit="${ECOM_EXP_UNINER_LIMIT:-100}"
seed="${ECOM_SEED:-0}"
for d in ecomgpt universal_ner; do
  [ -d "$shared/$d" ] || { echo "experiments: $shared/$d is missing (the experiments need the shared data)" >&2; exit 1; }
done

# run_experiment N "build flags" "eval flags": every step skipped when its output marks it finished.
run_experiment() {
  local n="$1" build_flags="$2" eval_flags="$3"
  local run="$runs/exp$n" model="$runs/exp$n/model"
  mkdir -p "$run"
  echo "experiments: [$n] into $run" >&2
  if [ ! -f "$run/data/manifest.json" ]; then
    echo "experiments: [$n] data: ecom-data build $build_flags" >&2
    rm -rf "$run/data"
    # shellcheck disable=SC2086
    "$bin/ecom-data" build $build_flags --seed "$seed" --out "$run/data" > "$run/data-build.json"
  fi
  if [ ! -f "$run/tokenizer.json" ]; then
    echo "experiments: [$n] tokenizer: byte-level BPE, vocabulary $vocab, on this experiment's training records" >&2
    "$bin/ecom-data" cat "$run/data" --split train --text > "$run/tokenizer-corpus.jsonl"
    "$bin/ecom-tokenizer" train --corpus "$run/tokenizer-corpus.jsonl" --vocab-size "$vocab" --preset bloom \
      --min-frequency 2 --output "$run/tokenizer.json"
  fi
  if [ ! -f "$run/packed/manifest.json" ]; then
    echo "experiments: [$n] packing into $seq_len-token sequences" >&2
    rm -rf "$run/packed"
    "$bin/ecom-data" pack "$run/data" --tokenizer "$run/tokenizer.json" --seq-len "$seq_len" --out "$run/packed" > "$run/pack.json"
  fi
  # Training as in main.sh (scripts/lib/train_budget.sh), one epoch within the experiments' budget.
  train_within_budget "$bin" "$run" "$train_seconds" "experiments: [$n]" --epochs 1 || return 1
  echo "experiments: [$n] evaluation: ecom-eval $eval_flags" >&2
  # shellcheck disable=SC2086
  "$bin/ecom-eval" --model "$model" $eval_flags --seed "$seed" --quiet --out "$run/eval" | tee "$run/eval.txt"
  echo "experiments: [$n] done: $run/eval/summary.json, $run/eval/report.html" >&2
}

zero_shot_sources="--raw $root/Sources/Instruct/Resources/raw_sample.jsonl --ecomgpt $shared/ecomgpt --held-out $shared/ecomgpt/held_out_tasks.txt --uniner $shared/universal_ner"
ecomgpt_eval="--ecomgpt $shared/ecomgpt --limit $eval_limit"
for n in 1 2 3 4; do
  [ "$which" = all ] || [ "$which" = "$n" ] || continue
  case "$n" in
    1) run_experiment 1 "$zero_shot_sources" "$ecomgpt_eval" ;;
    2) run_experiment 2 "$zero_shot_sources --supervised-split 300" "$ecomgpt_eval --supervised-split 300" ;;
    3) run_experiment 3 "--uniner $shared/universal_ner --uniner-held-out CrossNER_AI" \
         "--uniner $shared/universal_ner --uniner-files CrossNER_AI --limit $uniner_limit" ;;
    4) run_experiment 4 "$zero_shot_sources --no-atomic" "$ecomgpt_eval" ;;
  esac
done
