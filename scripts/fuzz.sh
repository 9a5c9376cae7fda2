#!/usr/bin/env bash
# Builds Ecom's libFuzzer targets (Tests/Fuzz, a package of their own, compiled with -sanitize=fuzzer,address) and runs
# them from the committed seed corpora (Tests/Fuzz/Corpus/TARGET). Docs/RELIABILITY.md lists the targets and what they
# found.
#
#   scripts/fuzz.sh                 every target for 30 s each (the CI smoke)
#   scripts/fuzz.sh gguf 600        one target for 10 minutes
#   scripts/fuzz.sh all 300 -jobs=2 every target, extra libFuzzer flags after the seconds
#   scripts/fuzz.sh --list          the targets
#
# New inputs that reach new code go to .build/fuzz/corpus/TARGET (kept between runs, not committed); a crash, hang
# (-timeout, 10 s), leak or allocation over -rss_limit_mb (2048) leaves its input in .build/fuzz/artifacts/TARGET and
# makes the script fail. Each run appends "TARGET SECONDS EXECUTIONS RESULT" to .build/fuzz/log.tsv.
# ECOM_FUZZ_CONFIG=debug builds without optimisation (faster to build, slower to run).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
targets=(safetensors gguf model tokenizer shard jsonl request)
if [ "${1:-}" = "--list" ]; then printf '%s\n' "${targets[@]}"; exit 0; fi
if [ "${1:-}" = "-h" ] || [ "${1:-}" = "--help" ]; then sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//'; exit 0; fi
which="${1:-all}"
seconds="${2:-30}"
shift $(( $# > 2 ? 2 : $# ))
if [ "$which" = "all" ]; then run=("${targets[@]}"); else
  case " ${targets[*]} " in *" $which "*) run=("$which") ;; *)
    echo "fuzz: unknown target '$which'; targets: ${targets[*]}" >&2; exit 2 ;; esac
fi
case "$seconds" in ''|*[!0-9]*) echo "fuzz: SECONDS must be a whole number, got '$seconds'" >&2; exit 2 ;; esac

config="${ECOM_FUZZ_CONFIG:-release}"
scratch="$root/.build/fuzz/build"
echo "fuzz: building ${#targets[@]} targets ($config, -sanitize=fuzzer,address) ..." >&2
swift build --package-path Tests/Fuzz --scratch-path "$scratch" -c "$config" \
  -Xswiftc -sanitize=fuzzer,address -Xswiftc -parse-as-library -Xswiftc -use-ld=lld >&2
bin="$(swift build --package-path Tests/Fuzz --scratch-path "$scratch" -c "$config" -Xswiftc -sanitize=fuzzer,address -Xswiftc -parse-as-library -Xswiftc -use-ld=lld --show-bin-path)"

export SWIFT_BACKTRACE="enable=no"
status=0
for t in "${run[@]}"; do
  corpus="$root/.build/fuzz/corpus/$t"; artifacts="$root/.build/fuzz/artifacts/$t"
  mkdir -p "$corpus" "$artifacts"
  log="$root/.build/fuzz/$t.log"
  echo "fuzz: $t for ${seconds} s (seeds: Tests/Fuzz/Corpus/$t)" >&2
  set +e
  ASAN_OPTIONS="detect_leaks=0:${ASAN_OPTIONS:-}" "$bin/fuzz-$t" "$corpus" "Tests/Fuzz/Corpus/$t" \
    -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
    -artifact_prefix="$artifacts/" "$@" > "$log" 2>&1
  rc=$?
  set -e
  execs="$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | tail -1 | grep -o '[0-9]*$' || echo 0)"
  if [ $rc -eq 0 ]; then result=ok; else
    result="FAILED (exit $rc)"; status=1
    grep -E "ERROR|==[0-9]+==|Fatal error|property violated|SUMMARY|Test unit written" "$log" | head -20 >&2 || true
  fi
  printf '%s\t%s\t%s\t%s\t%s\n' "$(date -u +%FT%TZ)" "$t" "$seconds" "$execs" "$result" >> "$root/.build/fuzz/log.tsv"
  echo "fuzz: $t: $execs executions in ${seconds} s: $result (log: .build/fuzz/$t.log)" >&2
done
exit $status
