#!/usr/bin/env bash
# Checks of the main job's shell logic (scripts/lib/backbone.sh) against a fake ecom-eval: how many examples per task
# fit the job's time, a grown --limit resuming an evaluation instead of restarting it, other changed flags restarting
# it, and the choice kept on a rerun. Runs in a second; scripts/test.sh calls it on the whole suite. Exit 1 on a failure.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
# shellcheck source=scripts/lib/backbone.sh
source "$root/scripts/lib/backbone.sh"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
failures=0
check() {  # check NAME EXPECTED ACTUAL
  if [ "$2" = "$3" ]; then echo "ok: $1"; else echo "FAIL: $1: expected '$2', got '$3'" >&2; failures=$(( failures + 1 )); fi
}

# The rule, on numbers worked by hand: 240 examples (20 per task, 12 tasks) in 120 s is 0.5 s an example, so k per
# task costs 0.5 x 12 x (k - 20) to extend, 60 + 600 + 30 around training, and 0.5 x 12 x k for the tuned
# evaluation: 12k + 570 seconds from now (k = 50: 1170; 40: 1050; 30: 930).
check "50 fit" 50 "$(backbone_limit_that_fits 0 1170 600 20 50 120 240 240)"
check "40 fit, 50 do not" 40 "$(backbone_limit_that_fits 0 1169 600 20 50 120 240 240)"
check "30 fit" 30 "$(backbone_limit_that_fits 1000 1930 600 20 50 120 240 240)"
check "nothing more fits" 20 "$(backbone_limit_that_fits 0 929 600 20 50 120 240 240)"
check "no rate measured" 20 "$(backbone_limit_that_fits 0 99999 600 20 50 0 0 240)"
# Half the examples made in this call (a resumed evaluation): the rate is per example made, the size is all of them.
check "a resumed evaluation's rate" 40 "$(backbone_limit_that_fits 0 1050 600 20 50 60 120 240)"

# A fake ecom-eval: records its arguments, writes 12 x --limit predictions, prints a table line.
bin="$tmp/bin"
mkdir -p "$bin"
cat > "$bin/ecom-eval" <<'FAKE'
#!/usr/bin/env bash
echo "$*" >> "$(dirname "$0")/../calls"
out="" limit=1
while [ $# -gt 0 ]; do
  case "$1" in --out) out="$2"; shift ;; --limit) limit="$2"; shift ;; esac
  shift
done
mkdir -p "$out"
for (( i = 0; i < 12 * limit; i++ )); do echo "{}"; done > "$out/predictions.jsonl"
echo "EcomGPT average"
FAKE
chmod +x "$bin/ecom-eval"
calls() { cat "$tmp/calls" 2> /dev/null | wc -l; }
restarts() { grep -c -- "--restart" "$tmp/calls" 2> /dev/null || true; }

out="$tmp/run/eval-base"
mkdir -p "$tmp/run"
eval_once "$bin" "$out" "check" --model m --max-new-tokens auto --limit 20 2> /dev/null
eval_once "$bin" "$out" "check" --model m --max-new-tokens auto --limit 50 2> /dev/null
check "a grown --limit resumes" "2 0" "$(calls) $(restarts)"
check "the evaluation grew" 600 "$(wc -l < "$out/predictions.jsonl")"
eval_once "$bin" "$out" "check" --model m --max-new-tokens 64 --limit 50 2> /dev/null
check "another flag restarts" "3 1" "$(calls) $(restarts)"

rm -rf "$out" "$tmp/calls"
n="$(backbone_eval_limit "$bin" "$out" "check" 20 50 "$(( $(date +%s) + 100000 ))" 600 --model m 2> /dev/null)"
check "a far deadline gives the most" 50 "$n"
check "the first evaluation had 20 per task" "1 240" "$(calls) $(wc -l < "$out/predictions.jsonl")"
check "the choice is kept" 50 "$(sed -n 2p "$out.limit")"
n="$(backbone_eval_limit "$bin" "$out" "check" 20 50 "$(date +%s)" 600 --model m 2> /dev/null)"
check "a rerun keeps the choice without evaluating" "50 1" "$n $(calls)"
n="$(backbone_eval_limit "$bin" "$out" "check" 20 50 "$(date +%s)" 600 --model other 2> /dev/null)"
check "other flags decide again (a deadline now: 20)" "20 2" "$n $(calls)"

if [ "$failures" -gt 0 ]; then echo "backbone_check: $failures failed" >&2; exit 1; fi
echo "backbone_check: all passed"
