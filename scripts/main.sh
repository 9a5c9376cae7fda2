#!/usr/bin/env bash
# The main job on the embedded default: sets up the machine, builds the tools (release), then runs the pipeline:
#   1. instruction data: EcomGPT task folders + UniversalNER sets from the shared data when present, plus our raw
#      sample (the embedded sample alone when the shared data is absent), EcomGPT's 12 held-out tasks kept out of training;
#   2. a byte-level BPE tokenizer (BLOOM's configuration) trained on the rendered training records;
#   3. packed, loss-masked token sequences for training.
# Training and evaluation join as their issues land (8, 9). Each finished step is kept: running again resumes.
# Environment: ECOM_SHARED_DATA (default ../shared/data), ECOM_RUN_DIR (default runs/default),
# ECOM_VOCAB_SIZE (default 8192), ECOM_SEQ_LEN (default 256).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
bash scripts/setup.sh
echo "main: building the tools (release; the first build takes a few minutes)" >&2
swift build -c release >&2
bin="$(swift build -c release --show-bin-path)"

shared="${ECOM_SHARED_DATA:-$root/../shared/data}"
run="${ECOM_RUN_DIR:-$root/runs/default}"
vocab="${ECOM_VOCAB_SIZE:-8192}"
seq_len="${ECOM_SEQ_LEN:-256}"
mkdir -p "$run"

# 1. Instruction data (manifest.json is written last, so its presence marks a finished build).
if [ -f "$run/data/manifest.json" ]; then
  echo "main: [1/3] data: already built in $run/data" >&2
else
  sources=(--raw "$root/Sources/Instruct/Resources/raw_sample.jsonl")
  held=()
  if [ -d "$shared/ecomgpt" ]; then
    sources+=(--ecomgpt "$shared/ecomgpt")
    held=(--held-out "$shared/ecomgpt/held_out_tasks.txt")
  fi
  [ -d "$shared/universal_ner" ] && sources+=(--uniner "$shared/universal_ner")
  [ -d "$shared" ] || echo "main: no shared data at $shared: using the embedded raw sample only" >&2
  echo "main: [1/3] data: building instruction records into $run/data" >&2
  rm -rf "$run/data"
  "$bin/ecom-data" build "${sources[@]}" "${held[@]}" --out "$run/data" > "$run/data-build.json"
fi

# 2. Tokenizer, trained on the rendered training records.
if [ -f "$run/tokenizer.json" ]; then
  echo "main: [2/3] tokenizer: already trained ($run/tokenizer.json)" >&2
else
  echo "main: [2/3] tokenizer: training byte-level BPE (vocabulary $vocab) on the training records" >&2
  "$bin/ecom-data" cat "$run/data" --split train --text > "$run/tokenizer-corpus.jsonl"
  "$bin/ecom-tokenizer" train --corpus "$run/tokenizer-corpus.jsonl" --vocab-size "$vocab" --preset bloom \
    --min-frequency 2 --output "$run/tokenizer.json"
fi

# 3. Packed token shards for training.
if [ -f "$run/packed/manifest.json" ]; then
  echo "main: [3/3] packing: already done ($run/packed)" >&2
else
  echo "main: [3/3] packing training and validation records into $seq_len-token sequences" >&2
  rm -rf "$run/packed"
  "$bin/ecom-data" pack "$run/data" --tokenizer "$run/tokenizer.json" --seq-len "$seq_len" --out "$run/packed" > "$run/pack.json"
fi

echo "main: data summary:" >&2
"$bin/ecom-data" inspect "$run/data"
echo "main: packing summary: $(cat "$run/pack.json" 2>/dev/null || echo '(see earlier run)')"
echo "main: done. Run directory: $run (training and evaluation are added by issues 8 and 9)"
