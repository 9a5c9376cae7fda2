#!/usr/bin/env bash
# Writes the shard target's seeds (Tests/Fuzz/Corpus/shard) with Ecom's own tools: a record shard from the embedded raw
# sample, its manifest, and a packed shard. Needs a debug build (swift build).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
work="$(mktemp -d)"; trap 'rm -rf "$work"' EXIT
bin="$root/.build/debug"
out="$root/Tests/Fuzz/Corpus/shard"
mkdir -p "$out"
"$bin/ecom-data" build --max-per-dataset 1 --out "$work/rec" > /dev/null 2>&1
"$bin/ecom-data" pack "$work/rec" --tokenizer "$root/Tests/Fixtures/tokenizer/gpt2_small.json" --seq-len 512 --out "$work/packed" > /dev/null 2>&1
cp "$work/rec/train-00000.ecs" "$out/records.ecs"
cp "$work/rec/manifest.json" "$out/manifest.json"
cp "$work/packed/train-00000.ecs" "$out/packed.ecs"
head -c 1000 "$work/rec/train-00000.ecs" > "$out/records.cut.ecs"
echo "shard seeds written to $out"
