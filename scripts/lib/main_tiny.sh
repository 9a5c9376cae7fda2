#!/usr/bin/env bash
# The from-scratch fallback of the main job (scripts/main.sh runs it when the pretrained backbone cannot be fetched),
# and the floor the backbone's results are compared with. The machine is set up and the tools built by main.sh; then:
#   1. instruction data: EcomGPT task folders + UniversalNER sets from the shared data when present, plus our raw
#      sample (the embedded sample alone when the shared data is absent), EcomGPT's 12 held-out tasks kept out of training;
#   2. a byte-level BPE tokenizer (BLOOM's configuration) trained on the rendered training records;
#   3. packed, loss-masked token sequences for training;
#   4. the `tiny` BLOOM model trained from scratch within a time budget (ecom-train; resumable);
#   5. evaluation on EcomGPT's 12 held-out tasks (ecom-eval: beam search 4, up to 164 new tokens, a per-task limit),
#      writing a table, predictions, summary.json and report.html.
# Each finished step is kept: running again resumes (training continues until its budget is spent, the evaluation
# skips finished examples).
# Environment: ECOM_SHARED_DATA (default ../shared/data), ECOM_RUN_DIR (default runs/default),
# ECOM_VOCAB_SIZE (default 8192), ECOM_SEQ_LEN (default 256), ECOM_TRAIN_SECONDS (training budget, default 900),
# ECOM_TRAIN_EPOCHS (default 3, as EcomGPT), ECOM_TRAIN_ARGS (extra ecom-train flags), ECOM_EVAL_LIMIT (examples per held-out task, default 15; "all" for every one).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"
# shellcheck source=scripts/lib/train_budget.sh
source "$root/scripts/lib/train_budget.sh"
bin="$(swift build -c release --show-bin-path)"

shared="${ECOM_SHARED_DATA:-$root/../shared/data}"
run="${ECOM_RUN_DIR:-$root/runs/default}"
vocab="${ECOM_VOCAB_SIZE:-8192}"
seq_len="${ECOM_SEQ_LEN:-256}"
train_seconds="${ECOM_TRAIN_SECONDS:-900}"
eval_limit="${ECOM_EVAL_LIMIT:-15}"
mkdir -p "$run"

# 1. Instruction data (manifest.json is written last, so its presence marks a finished build).
if [ -f "$run/data/manifest.json" ]; then
  echo "main: [1/5] data: already built in $run/data" >&2
else
  sources=(--raw "$root/Sources/Instruct/Resources/raw_sample.jsonl")
  held=()
  if [ -d "$shared/ecomgpt" ]; then
    sources+=(--ecomgpt "$shared/ecomgpt")
    held=(--held-out "$shared/ecomgpt/held_out_tasks.txt")
  fi
  [ -d "$shared/universal_ner" ] && sources+=(--uniner "$shared/universal_ner")
  [ -d "$shared" ] || echo "main: no shared data at $shared: using the embedded raw sample only" >&2
  echo "main: [1/5] data: building instruction records into $run/data" >&2
  rm -rf "$run/data"
  "$bin/ecom-data" build "${sources[@]}" "${held[@]}" --out "$run/data" > "$run/data-build.json"
fi

# 2. Tokenizer, trained on the rendered training records.
if [ -f "$run/tokenizer.json" ]; then
  echo "main: [2/5] tokenizer: already trained ($run/tokenizer.json)" >&2
else
  echo "main: [2/5] tokenizer: training byte-level BPE (vocabulary $vocab) on the training records" >&2
  "$bin/ecom-data" cat "$run/data" --split train --text > "$run/tokenizer-corpus.jsonl"
  "$bin/ecom-tokenizer" train --corpus "$run/tokenizer-corpus.jsonl" --vocab-size "$vocab" --preset bloom \
    --min-frequency 2 --output "$run/tokenizer.json"
fi

# 3. Packed token shards for training.
if [ -f "$run/packed/manifest.json" ]; then
  echo "main: [3/5] packing: already done ($run/packed)" >&2
else
  echo "main: [3/5] packing training and validation records into $seq_len-token sequences" >&2
  rm -rf "$run/packed"
  "$bin/ecom-data" pack "$run/data" --tokenizer "$run/tokenizer.json" --seq-len "$seq_len" --out "$run/packed" > "$run/pack.json"
fi

# 4. Training within the time budget (scripts/lib/train_budget.sh; resumable). Three epochs by default, as EcomGPT
#    trained (about 2,840 steps of 8 x 256 positions): one epoch takes about 290 s at the tiny shape's ~6,700
#    positions/s on this packed data here, so the cosine schedule decays over about the budget (a slower machine stops
#    part way down it). An interrupted run leaves no train.done: the evaluation below then uses random weights.
model="$run/model"
# shellcheck disable=SC2086
train_within_budget "$bin" "$run" "$model" "$train_seconds" "main: [4/5]" "$run/eval" --preset tiny --lr 1e-3 \
  --epochs "${ECOM_TRAIN_EPOCHS:-3}" ${ECOM_TRAIN_ARGS:-} || true

# 5. Evaluation on the held-out tasks (resumable: finished examples are skipped).
limit_args=(--limit "$eval_limit")
[ "$eval_limit" = "all" ] && limit_args=()
report=""
if [ ! -d "$shared/ecomgpt" ]; then
  echo "main: [5/5] evaluation: skipped: the EcomGPT held-out tasks are read from $shared/ecomgpt, which is absent" >&2
else
  if [ -f "$run/train.done" ] && [ -f "$model/model.safetensors" ]; then
    eval_model="$model"; eval_out="$run/eval"
    echo "main: [5/5] evaluation: $model on the 12 held-out tasks (${eval_limit} examples each)" >&2
  else
    # No finished model yet: evaluate random weights of the tiny shape instead, clearly apart (the floor baseline).
    eval_model="$run/random-model"; eval_out="$run/eval-random"
    [ -f "$eval_model/model.safetensors" ] || "$bin/ecom-eval" random-model --tokenizer "$run/tokenizer.json" \
      --hidden 256 --layers 4 --heads 4 --seed 0 --out "$eval_model" > /dev/null
    echo "main: [5/5] evaluation: no trained model yet: evaluating RANDOM weights ($eval_model) as the floor baseline" >&2
  fi
  "$bin/ecom-eval" --model "$eval_model" --ecomgpt "$shared/ecomgpt" "${limit_args[@]}" --out "$eval_out" \
    --title "FROM-SCRATCH tiny BLOOM (the pretrained backbone was unavailable)" | tee "$eval_out.txt"
  report="$eval_out/report.html"
fi

echo "main: data summary:" >&2
"$bin/ecom-data" inspect "$run/data"
echo "main: packing summary: $(cat "$run/pack.json" 2>/dev/null || echo '(see earlier run)')"
if [ -n "$report" ]; then
  echo "main: done. Report: $report (table: $eval_out.txt, predictions: $eval_out/predictions.jsonl)"
else
  echo "main: done. Run directory: $run (no evaluation report: see the messages above)"
fi
