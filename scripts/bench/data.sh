#!/usr/bin/env bash
# Data shards: ours (bench-data: ShardWriter/ShardReader, zstd level 3) against the `zstd` command line (-3, one thread)
# on the same JSON Lines bytes in the same run; plus the streaming reader's records/s (ours only).
# Gets ECOM_ROOT, ECOM_PY, ECOM_BENCH_BIN from scripts/bench.sh.
set -euo pipefail
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
export BENCH_DATA_DIR="$work"
"$ECOM_BENCH_BIN/bench-data" > "$work/ours.jsonl"
"$ECOM_PY" - "$work" > "$work/ref.jsonl" <<'PY'
import json, os, statistics, subprocess, sys, time
work = sys.argv[1]
src = os.path.join(work, "records.jsonl")
dst = os.path.join(work, "records.jsonl.zst")
mb = os.path.getsize(src) / 1e6
version = subprocess.run(["zstd", "--version"], capture_output=True, text=True).stdout.strip()

def timed(cmd, **kw):
    samples = []
    for i in range(6):
        t0 = time.perf_counter()
        subprocess.run(cmd, check=True, **kw)
        dt = time.perf_counter() - t0
        if i: samples.append(dt)
    return statistics.median(samples)

tw = timed(["zstd", "-3", "-T1", "-q", "-f", src, "-o", dst])
with open(os.devnull, "wb") as null:
    tr = timed(["zstd", "-d", "-q", "-c", dst], stdout=null)
for case, t in (("shard_write_level3", tw), ("shard_read", tr)):
    print(json.dumps({"bench": "data", "case": case, "value": mb / t, "unit": "MB/s", "higher_is_better": True,
                      "reference_tool": version}))
PY
"$ECOM_PY" "$ECOM_ROOT/scripts/bench/combine.py" "$work/ours.jsonl" "$work/ref.jsonl"
