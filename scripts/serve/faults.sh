#!/usr/bin/env bash
# The server under faults (Docs/RELIABILITY.md): starts ecom-serve on the tiny fixture model on 127.0.0.1 with a small
# batch, queue and idle timeout, and runs faults.py against it: slow clients (headers and bodies a byte a second),
# clients that vanish mid-stream, oversized, malformed, invalid-UTF-8 and deeply nested bodies, a flood of 10x more
# requests than the queue holds and prompts longer than the context, all at once, while a well-behaved client keeps
# asking. Fails when the server dies, answers with the wrong status, grows its memory or keeps a slot.
#   ECOM_BIN=.build/debug ECOM_PY=python3 scripts/serve/faults.sh [MODEL]     (about a minute)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
bin="${ECOM_BIN:-$root/.build/debug}"
py="${ECOM_PY:-python3}"
model="${1:-$root/Tests/Fixtures/llama/tiny.gguf}"
work="$(mktemp -d)"
server_label=faults
source "$root/scripts/serve/server.sh"
trap 'stop_server; rm -rf "$work"' EXIT
batch=2 queue=4 context=256 body=65536 idle=5
start_server "$work/serve.log" --model "$model" --api-key fault-key --max-batch $batch --max-queue $queue --context $context \
  --max-body $body --idle-timeout $idle
echo "faults: ecom-serve at $base (batch $batch, queue $queue, context $context, body $body B, idle timeout $idle s)" >&2
set +e
"$py" "$root/scripts/serve/faults.py" --base "$base" --pid "$server_pid" --key fault-key --max-batch $batch --max-queue $queue \
  --context $context --max-body $body --idle-timeout $idle --out "${ECOM_FAULTS_OUT:-$work/summary.json}"
rc=$?
set -e
if ! kill -0 "$server_pid" 2>/dev/null; then echo "faults: ecom-serve died:" >&2; tail -30 "$work/serve.log" >&2; exit 1; fi
[ $rc -eq 0 ] && echo "faults: PASS" >&2 || { echo "faults: FAIL (server log: last lines below)" >&2; tail -20 "$work/serve.log" >&2; }
exit $rc
