#!/usr/bin/env bash
# The serving checks (scripts/test.sh runs them on the whole suite): ecom-serve on loopback, driven by the official
# openai client (scripts/serve/client_check.py) and curl, for the tiny fixture model and, when ECOM_SMOLLM2_GGUF is
# set, SmolLM2; greedy answers must equal ecom-generate's. Then the distiller against faulty endpoints
# (distill_faults.sh) and against ecom-serve with SmolLM2 as a (weak but real) teacher.
#   ECOM_BIN: the tools (default .build/debug); ECOM_PY: the serve venv's python (default: scripts/serve/venv.sh).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
cd "$root"
bin="${ECOM_BIN:-$root/.build/debug}"
py="${ECOM_PY:-$(bash "$here/venv.sh")}"
work="$(mktemp -d "${TMPDIR:-/tmp}/ecom-serve-smoke.XXXXXX")"
server_label="serve smoke"
source "$here/server.sh"
trap 'stop_server; rm -rf "$work"' EXIT

# expectations MODEL FILE N [--chat-flag]: ecom-generate's greedy answers for the client check's prompts.
expectations() {
  local model="$1" out="$2" n="$3" chatflag="$4"
  local chat_prompt="What is the capital of France?" completion_prompt="Once upon a time"
  local chat completion
  chat="$(printf '{"prompt": %s}\n' "$("$py" -c 'import json,sys; print(json.dumps(sys.argv[1]))' "$chat_prompt")" \
    | "$bin/ecom-generate" --model "$model" $chatflag --max-new-tokens "$n")"
  completion="$(printf '{"prompt": %s}\n' "$("$py" -c 'import json,sys; print(json.dumps(sys.argv[1]))' "$completion_prompt")" \
    | "$bin/ecom-generate" --model "$model" --max-new-tokens "$n")"
  "$py" - "$out" "$n" "$chat_prompt" "$chat" "$completion_prompt" "$completion" <<'PY'
import json, sys
out, n, cp, c, pp, p = sys.argv[1:]
json.dump({"max_tokens": int(n), "chat": {cp: json.loads(c)["completion"]}, "completion": {pp: json.loads(p)["completion"]}}, open(out, "w"))
PY
}

# 0. ecom-generate --packed: prompts of different lengths in one packed batch get their lone greedy answers (Float32
#    weights: with GGUF blocks a short prompt alone takes the 8-bit kernel path, packed with others the batched one).
printf '{"ids": [5, 9, 14]}\n{"ids": [7]}\n{"ids": [3, 30, 31, 12, 8, 22, 40]}\n' > "$work/prompts.jsonl"
generate_tiny() { "$bin/ecom-generate" --model "$root/Tests/Fixtures/llama/tiny.gguf" --weights f32 --ids --max-new-tokens 12 \
  --input "$work/prompts.jsonl" "$@"; }
lone="$(generate_tiny)"
packed="$(generate_tiny --batch-size 3 --packed)"
[ "$lone" = "$packed" ] || { printf 'lone:\n%s\npacked:\n%s\n' "$lone" "$packed" >&2; echo "serve smoke: ecom-generate --packed differs" >&2; exit 1; }
echo "serve smoke: ecom-generate --packed gives each prompt its lone answer" >&2

# 1. The tiny fixture model (plain template: chat messages are joined, as ecom-generate without --chat sees them).
tiny="$root/Tests/Fixtures/llama/tiny.gguf"
expectations "$tiny" "$work/tiny-expect.json" 8 ""
start_server "$work/tiny.log" --model "$tiny" --api-key test-key --max-body 65536 --context 256 --max-batch 4 --max-queue 16 \
  --prefill-tokens 1  # each prompt prefilled alone: greedy answers equal ecom-generate's bit for bit
curl -sf "${base%/v1}/health" | grep -q '"status":"ok"' || { echo "serve smoke: curl /health failed" >&2; exit 1; }
# The server closes each connection after its response (it watches the inbound side for a client that goes away), so
# every response must say so: a client that reuses the connection otherwise finds it closed part of the time.
curl -sfi -H "Authorization: Bearer test-key" "$base/models" | tr -d '\r' | grep -qi '^connection: close$' \
  || { echo "serve smoke: a response lacks 'Connection: close'" >&2; exit 1; }
curl -sf -H "Authorization: Bearer test-key" "$base/chat/completions" \
  -d '{"model": "tiny", "messages": [{"role": "user", "content": "hi"}], "max_tokens": 4, "temperature": 0}' | grep -q '"chat.completion"' \
  || { echo "serve smoke: curl chat/completions failed" >&2; exit 1; }
curl -sN -H "Authorization: Bearer test-key" "$base/completions" \
  -d '{"model": "tiny", "prompt": "hi", "max_tokens": 4, "temperature": 0, "stream": true}' | tail -n 2 | grep -q 'data: \[DONE\]' \
  || { echo "serve smoke: curl streaming completions failed" >&2; exit 1; }
"$py" "$here/client_check.py" "$base" test-key --expect "$work/tiny-expect.json" --max-body 65536 --context 256
stop_server

# 1b. ecom-eval through the endpoint gives local evaluation's completions (greedy), on one example of each EcomGPT task.
data="${ECOM_SHARED_DATA:-$root/../shared/data}"
if [ -d "$data/ecomgpt" ]; then
  start_server "$work/tiny-eval.log" --model "$tiny" --context 8192 --max-batch 4
  # Clients that go away (a stream, then a plain request, each cut after 1 s) free their slots: each is counted as
  # cancelled, and nothing runs afterwards.
  expected_cancelled=0
  for stream in true false; do
    expected_cancelled=$((expected_cancelled + 1))
    curl -s -o /dev/null --max-time 1 "$base/completions" \
      -d "{\"model\": \"tiny\", \"prompt\": \"hi\", \"max_tokens\": 8000, \"temperature\": 0, \"stream\": $stream}" || true
    freed=""
    for _ in $(seq 1 100); do
      if curl -sf "${base%/v1}/health" | grep -q "\"cancelled\":$expected_cancelled.*\"running\":0"; then freed=yes; break; fi
      sleep 0.1
    done
    [ -n "$freed" ] || { curl -s "${base%/v1}/health" >&2; echo "serve smoke: a disconnected client (stream: $stream) kept its slot" >&2; exit 1; }
    echo "serve smoke: a client that disconnects frees its slot (stream: $stream)" >&2
  done
  flags=(--ecomgpt "$data/ecomgpt" --limit 1 --max-new-tokens 8 --resamples 0 --quiet)
  "$bin/ecom-eval" --model "$tiny" "${flags[@]}" --beams 1 --out "$work/eval-local" > /dev/null
  "$bin/ecom-eval" --endpoint "$base" --endpoint-model tiny "${flags[@]}" --out "$work/eval-endpoint" > /dev/null
  "$py" - "$work/eval-local/predictions.jsonl" "$work/eval-endpoint/predictions.jsonl" <<'PY'
import json, sys
def load(p):
    return {(r["task"], r["id"]): r for r in map(json.loads, open(p))}
local, remote = load(sys.argv[1]), load(sys.argv[2])
assert local.keys() == remote.keys(), (sorted(local), sorted(remote))
compared = [k for k in local if local[k].get("truncated_tokens", 0) == 0]
bad = [k for k in compared if (local[k]["completion"], local[k]["prediction"]) != (remote[k]["completion"], remote[k]["prediction"])]
print(f"serve smoke: ecom-eval --endpoint vs local: {len(compared)} untruncated examples compared, {len(bad)} differ", file=sys.stderr)
assert compared and not bad, [(k, local[k]["completion"], remote[k]["completion"]) for k in bad]
PY
  stop_server
elif [ "${CI:-}" = "true" ]; then
  echo "serve smoke: $data/ecomgpt is missing; CI needs the shared data" >&2; exit 1
else
  echo "serve smoke: no shared data at $data: the endpoint evaluation check is skipped" >&2
fi

# 2. The distiller against faulty teachers (refusing, flaky, garbage, dying): retries, counts, nothing lost.
ECOM_BIN="$bin" bash "$here/distill_faults.sh"

# 3. SmolLM2 (ChatML): chat answers equal ecom-generate --chat's; then SmolLM2 as the teacher of ecom-distill, end to
#    end (two short passages, short answers: a weak teacher, so the check is that the run completes, answers are
#    parsed and counted, and the records are Instruct shards that ecom-data reads).
if [ -n "${ECOM_SMOLLM2_GGUF:-}" ]; then
  expectations "$ECOM_SMOLLM2_GGUF" "$work/smol-expect.json" 6 "--chat"
  start_server "$work/smol.log" --model "$ECOM_SMOLLM2_GGUF" --api-key test-key --context 512 --max-batch 8 --prefill-tokens 1
  "$py" "$here/client_check.py" "$base" test-key --expect "$work/smol-expect.json" --context 512
  cat > "$work/passages.jsonl" <<'JSONL'
{"text": "Apple released the iPhone 15 in California in September 2023."}
{"text": "Nike opened a new store in Berlin, Germany, selling Air Max running shoes."}
JSONL
  ECOM_DISTILL_KEY=test-key "$bin/ecom-distill" --teacher "$base" --teacher-model smollm2 --api-key-env ECOM_DISTILL_KEY \
    --input "$work/passages.jsonl" --out "$work/distilled" --tokenizer "$ECOM_SMOLLM2_GGUF" --max-tokens 48 --concurrency 2
  "$py" - "$work/distilled/summary.json" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
print("serve smoke: distilled by SmolLM2:", json.dumps(s, sort_keys=True)[:600], file=sys.stderr)
assert s.get("chunks") == 2, s
PY
  "$bin/ecom-data" inspect "$work/distilled" > /dev/null
  stop_server
elif [ "${CI:-}" = "true" ]; then
  echo "serve smoke: ECOM_SMOLLM2_GGUF is not set; CI needs it" >&2; exit 1
else
  echo "serve smoke: SmolLM2 not available: its checks are skipped" >&2
fi
echo "serve smoke: passed" >&2
