#!/usr/bin/env bash
# Runs the benchmarks: scripts/bench.sh [NAME...], NAME one of the files scripts/bench/NAME.sh (tensor, tokenizer,
# metrics, data, model, train as they are added); no NAME runs them all. Each benchmark measures ours (the tools in
# ECOM_BIN, the executables of the Benchmarks package in ECOM_BENCH_BIN) and the named reference (Python in the venv
# ECOM_PY) in the same run, and prints, through scripts/bench/combine.py, JSON Lines, one object per measurement:
#   {"bench", "case", "ours", "reference", "unit", "ratio", ...}   (ratio = ours/reference, higher is better)
# Output is also appended to bench-results/NAME.jsonl. The reference side's Python venv is set up on first use.
# Settings read by our side: BENCH_QUICK=1 (short runs), BENCH_SGEMM=openblas (no Float32 products on oneDNN's sgemm,
# to compare with the machine's own choice), BENCH_PRECISION/BENCH_BASE/BENCH_PANEL_VALUES (bench-train, bench-tune).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
bash scripts/setup.sh
available=()
for f in scripts/bench/*.sh; do [ -e "$f" ] && available+=("$(basename "$f" .sh)"); done
if [ "${#available[@]}" -eq 0 ]; then echo "bench: no benchmarks exist yet (scripts/bench/*.sh)" >&2; exit 1; fi
names=("$@")
[ "${#names[@]}" -eq 0 ] && names=("${available[@]}")
for n in "${names[@]}"; do
  [ -f "scripts/bench/$n.sh" ] || { echo "bench: unknown benchmark '$n' (have: ${available[*]})" >&2; exit 2; }
done
export ECOM_ROOT="$root"
export ECOM_PY="$(bash scripts/reference/venv.sh)"
echo "bench: building release binaries" >&2
swift build -c release >&2
export ECOM_BIN="$(swift build -c release --show-bin-path)"
# What every row names of the machine where it lacks its own (scripts/bench/combine.py): CPU, OpenBLAS core, kernel path.
export ECOM_MACHINE="$("$ECOM_BIN/ecom-model" system-info)"
echo "bench: machine $ECOM_MACHINE" >&2
# SwiftPM can keep a stale build plan for the path dependency on the library package (a new source file in it is
# then not compiled); dropping the plan makes it re-read the package, without rebuilding what is up to date.
rm -f Benchmarks/.build/release.yaml
swift build -c release --package-path Benchmarks >&2
export ECOM_BENCH_BIN="$(swift build -c release --package-path Benchmarks --show-bin-path)"
mkdir -p bench-results
for n in "${names[@]}"; do
  echo "bench: $n" >&2
  bash "scripts/bench/$n.sh" | tee -a "bench-results/$n.jsonl"
done
