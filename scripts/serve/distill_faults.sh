#!/usr/bin/env bash
# ecom-distill against a fake teacher (scripts/serve/fake_endpoint.py) in each of its modes: retries happen and are
# counted in summary.json; a refusing, garbage-speaking or dead endpoint ends the run with exit 1, a message naming the
# endpoint, and the answers so far kept in the cache; a rerun against a working endpoint at the same address asks
# only for what the cache lacks. Exits non-zero on any failed check.
#
# Usage: ECOM_BIN=.build/debug bash scripts/serve/distill_faults.sh   (needs python3; builds nothing)
set -uo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
bin="${ECOM_BIN:-$root/.build/debug}"
distill="$bin/ecom-distill"
[ -x "$distill" ] || { echo "distill_faults: no ecom-distill in $bin (build it, or set ECOM_BIN)" >&2; exit 1; }
command -v python3 >/dev/null || { echo "distill_faults: python3 is needed" >&2; exit 1; }
tokenizer="$root/Tests/Fixtures/tokenizer/gpt2_small.json"
work="$(mktemp -d)"
server_pid=""
failures=0

cleanup() {
  [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT

fail() { echo "FAIL: $*" >&2; failures=$((failures + 1)); }
pass() { echo "ok: $*"; }

# Starts the fake endpoint (mode [N], port) and sets $port and $server_pid.
start() {
  local mode="$1" limit="$2" want_port="$3" log="$4"
  rm -f "$work/port"
  python3 "$root/scripts/serve/fake_endpoint.py" --mode "$mode" $limit --port "$want_port" --log "$log" > "$work/port" &
  server_pid=$!
  for _ in $(seq 1 100); do
    grep -q '^port ' "$work/port" 2>/dev/null && break
    sleep 0.05
  done
  port="$(sed -n 's/^port //p' "$work/port")"
  [ -n "$port" ] || { echo "distill_faults: the fake endpoint ($mode) did not start" >&2; exit 1; }
}

stop() {
  [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null
  wait "$server_pid" 2>/dev/null
  server_pid=""
}

# JSON field of summary.json (a dotted path).
field() { python3 -c 'import json,sys; v=json.load(open(sys.argv[1]))
for k in sys.argv[2].split("."): v=v[k]
print(v)' "$1" "$2"; }

lines() { if [ -f "$1" ]; then awk 'END { print NR }' "$1"; else echo 0; fi; }

distill() {  # out-dir, extra args...
  local out="$1"; shift
  "$distill" --teacher "http://127.0.0.1:$port/v1" --teacher-model fake --input "$work/passages.jsonl" --out "$out" \
    --tokenizer "$tokenizer" --max-chunk-tokens 24 --quiet "$@" > "$out.stdout" 2> "$out.stderr"
}

python3 - "$work/passages.jsonl" <<'EOF'
import json, sys
texts = [
    "Alice met Bob in Paris. They talked about Acme for a long while, then walked along the river to the old bridge.",
    "Carol flew to Tokyo with Dave. The flight was long, but the view over the mountains was worth every minute of it.",
    "Globex opened an office in Berlin last spring; Dave visited it twice and said the coffee was the best in town.",
    "Nobody is named here: the weather was grey and the streets were quiet for most of the long afternoon.",
    "Bob wrote to Carol from Berlin about Globex and Acme, the two firms that had both offered him a job that year.",
    "Alice and Carol ran the Paris marathon; Bob cheered near the finish while Dave kept their bags safe.",
]
with open(sys.argv[1], "w") as f:
    for i, t in enumerate(texts):
        f.write(json.dumps({"text": t, "source": "faults#%d" % i}) + "\n")
EOF

# 1. ok: every chunk asked once, nothing retried, records written.
start ok "" 0 "$work/ok.log"
if distill "$work/ok"; then
  s="$work/ok/summary.json"
  u="$(field "$s" unique_chunks)"
  [ "$(field "$s" requests)" = "$u" ] && [ "$(field "$s" answers)" = "$u" ] && [ "$(field "$s" cached)" = 0 ] \
    && [ "$(field "$s" retries)" = 0 ] && [ "$(lines "$work/ok.log")" = "$u" ] && [ "$(lines "$work/ok/teacher-cache.jsonl")" = "$u" ] \
    && [ "$(field "$s" records)" -gt 0 ] && [ "$(field "$s" entities_kept)" -gt 0 ] && [ -f "$work/ok/manifest.json" ] \
    && pass "ok: $u chunks asked once, $(field "$s" records) records, $(field "$s" entities_kept) entities" \
    || fail "ok: summary counts ($(cat "$s"))"
else
  fail "ok: exit $? ($(cat "$work/ok.stderr"))"
fi
stop

# 2. flaky: every other request fails with 500; retries make up for it and are counted.
start flaky "" 0 "$work/flaky.log"
if distill "$work/flaky" --attempts 3 --concurrency 2; then
  s="$work/flaky/summary.json"
  u="$(field "$s" unique_chunks)"; r="$(field "$s" retries)"
  failed="$(grep -c '"status": 500' "$work/flaky.log")"
  [ "$r" -ge 1 ] && [ "$r" = "$failed" ] && [ "$(field "$s" answers)" = "$u" ] && [ "$(lines "$work/flaky.log")" = $((u + r)) ] \
    && grep -q 'retry: attempt 1 of 3 failed' "$work/flaky.stderr" \
    && pass "flaky: $r retries (as many as the endpoint's 500s), all $u chunks answered" \
    || fail "flaky: retries $r, 500s $failed, requests $(lines "$work/flaky.log"), chunks $u"
else
  fail "flaky: exit $? ($(cat "$work/flaky.stderr"))"
fi
stop

# 3. refuse: 429 on every request: exit 1 after the attempts, the message names the endpoint and the status.
start refuse "" 0 "$work/refuse.log"
distill "$work/refuse" --attempts 3 --concurrency 1; rc=$?
if [ "$rc" = 1 ] && grep -q "http://127.0.0.1:$port/v1/chat/completions: HTTP 429 after 3 attempts" "$work/refuse.stderr" \
  && [ "$(lines "$work/refuse.log")" = 3 ] && [ "$(lines "$work/refuse/teacher-cache.jsonl")" = 0 ] \
  && [ ! -f "$work/refuse/summary.json" ]; then
  pass "refuse: exit 1 after 3 attempts: $(grep error: "$work/refuse.stderr" | cut -c1-150)…"
else
  fail "refuse: exit $rc, $(lines "$work/refuse.log") requests: $(cat "$work/refuse.stderr")"
fi
stop

# 4. garbage: 200 with HTML: retried, then exit 1 saying the response was invalid.
start garbage "" 0 "$work/garbage.log"
distill "$work/garbage" --attempts 2 --concurrency 1; rc=$?
if [ "$rc" = 1 ] && grep -q "http://127.0.0.1:$port/v1/chat/completions: invalid response (not a ChatCompletion body" "$work/garbage.stderr" \
  && grep -q "after 2 attempts" "$work/garbage.stderr" && [ "$(lines "$work/garbage.log")" = 2 ]; then
  pass "garbage: exit 1 after 2 attempts (invalid response)"
else
  fail "garbage: exit $rc: $(cat "$work/garbage.stderr")"
fi
stop

# 5. die-after 3: the endpoint dies after three answers: exit 1, the three answers kept; a rerun against a working
#    endpoint at the same address asks only for the rest.
start die-after 3 0 "$work/die.log"
dead_port="$port"
distill "$work/die" --attempts 2 --concurrency 2; rc=$?
wait "$server_pid" 2>/dev/null; server_pid=""
if [ "$rc" = 1 ] && grep -q "http://127.0.0.1:$port/v1/chat/completions: cannot connect" "$work/die.stderr" \
  && grep -q "3 are kept in $work/die/teacher-cache.jsonl: rerun the same command" "$work/die.stderr" \
  && [ "$(lines "$work/die/teacher-cache.jsonl")" = 3 ] && [ ! -f "$work/die/manifest.json" ]; then
  pass "die-after 3: exit 1, 3 answers kept: $(grep error: "$work/die.stderr" | cut -c1-150)…"
else
  fail "die-after 3: exit $rc, cache $(lines "$work/die/teacher-cache.jsonl") lines: $(cat "$work/die.stderr")"
fi
start ok "" "$dead_port" "$work/resume.log"
if distill "$work/die" --concurrency 2; then
  s="$work/die/summary.json"
  u="$(field "$s" unique_chunks)"
  asked_again="$(python3 - "$work/die.log" "$work/resume.log" <<'EOF'
import json, sys
answered = {json.loads(l)["passage"] for l in open(sys.argv[1]) if json.loads(l)["status"] == 200}
again = [json.loads(l)["passage"] for l in open(sys.argv[2])]
print(sum(1 for p in again if p in answered))
EOF
)"
  [ "$(field "$s" cached)" = 3 ] && [ "$(field "$s" requests)" = $((u - 3)) ] && [ "$(lines "$work/resume.log")" = $((u - 3)) ] \
    && [ "$asked_again" = 0 ] && cmp -s "$work/die/manifest.json" "$work/ok/manifest.json" \
    && pass "resume: $((u - 3)) chunks asked, none of the 3 cached ones; shards identical to the uninterrupted run" \
    || fail "resume: cached $(field "$s" cached), requests $(field "$s" requests) of $u, asked again $asked_again"
else
  fail "resume: exit $? ($(cat "$work/die.stderr"))"
fi
stop

if [ "$failures" -gt 0 ]; then
  echo "distill_faults: $failures check(s) failed" >&2
  exit 1
fi
echo "distill_faults: all checks passed"
