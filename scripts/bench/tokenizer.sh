#!/usr/bin/env bash
# Tokenizer benchmark: encodes all text of ../shared/data (every JSON string value, scripts/reference/shared_text.py)
# with ../shared/data/bloom/tokenizer.json, ours (bench-tokenizer: 1 thread and all cores) and HF tokenizers
# (encode_batch with RAYON_NUM_THREADS=1), in this run. Prints the joined JSON Lines (MB/s of UTF-8 text, ratio).
set -euo pipefail
root="${ECOM_ROOT:?}"
data="${ECOM_SHARED_DATA:-$root/../shared/data}"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
export ECOM_SHARED_DATA="$data"
PYTHONPATH="$root/scripts/reference" "$ECOM_PY" "$root/scripts/reference/shared_text.py" "$tmp/corpus.jsonl"
tokenizer="$data/bloom/tokenizer.json"
"$ECOM_BENCH_BIN/bench-tokenizer" "$tokenizer" "$tmp/corpus.jsonl" > "$tmp/ours.jsonl"
RAYON_NUM_THREADS=1 TOKENIZERS_PARALLELISM=true "$ECOM_PY" - "$tokenizer" "$tmp/corpus.jsonl" > "$tmp/ref.jsonl" <<'PY'
import json, sys, time
from tokenizers import Tokenizer
tok = Tokenizer.from_file(sys.argv[1])
texts = [json.loads(l)["text"] for l in open(sys.argv[2], encoding="utf-8")]
mb = sum(len(t.encode("utf-8")) for t in texts) / 1e6
tok.encode_batch(texts, add_special_tokens=False)  # warm-up
times = []
for _ in range(3):
    t0 = time.perf_counter(); encs = tok.encode_batch(texts, add_special_tokens=False); times.append(time.perf_counter() - t0)
sec = sorted(times)[1]
print(json.dumps({"bench": "tokenizer", "case": "encode_all_shared_text_1thread", "value": mb / sec, "unit": "MB/s",
                  "higher_is_better": True, "reference_impl": "HF tokenizers encode_batch, RAYON_NUM_THREADS=1"}))
PY
python3 "$root/scripts/bench/combine.py" "$tmp/ours.jsonl" "$tmp/ref.jsonl"
