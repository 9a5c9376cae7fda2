#!/usr/bin/env bash
# Serving benchmark, same run, same GGUF (SmolLM2-135M-Instruct Q4_1), 2 threads each, traffic only to 127.0.0.1:
# ecom-serve (continuous batching, --max-batch 16) against llama.cpp's server (llama-cpp-python[server], pinned in
# scripts/serve/requirements.txt). 1, 4 and 16 concurrent clients share 64 greedy chat requests of at most 128 new
# tokens (BENCH_QUICK=1: 16 requests); output tokens/s, p50/p99 latency and the server's peak memory. Then a storm
# of 64 simultaneous requests against ecom-serve with a small queue (--max-batch 4 --max-queue 8): refusals (429) are
# counted, memory must stay bounded, and a polite client's latency is measured meanwhile.
# Called by scripts/bench.sh with ECOM_ROOT and ECOM_BIN (release tools) set.
set -euo pipefail
root="${ECOM_ROOT:?}"
bin="${ECOM_BIN:?}"
py="$(bash "$root/scripts/serve/venv.sh")"
gguf="$(bash "$root/scripts/fetch-model.sh" | tail -n 1)"
requests=64
[ "${BENCH_QUICK:-0}" = "1" ] && requests=16
tmp="$(mktemp -d)"
pid=""
stop() { if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; pid=""; fi; }
trap 'stop; rm -rf "$tmp"' EXIT
cpu="$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')"
free_port() { "$py" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_up() {  # wait_up URL LOG
  for _ in $(seq 1 600); do
    curl -sf "$1" > /dev/null 2>&1 && return 0
    kill -0 "$pid" 2>/dev/null || { cat "$2" >&2; echo "bench serve: the server exited" >&2; exit 1; }
    sleep 0.2
  done
  cat "$2" >&2; echo "bench serve: the server did not start" >&2; exit 1
}

# Ours.
port="$(free_port)"
"$bin/ecom-serve" --model "$gguf" --port "$port" --threads 2 --max-batch 16 --max-queue 64 --context 1024 > "$tmp/ours.log" 2>&1 &
pid=$!
wait_up "http://127.0.0.1:$port/health" "$tmp/ours.log"
"$py" "$root/scripts/bench/serve_load.py" "http://127.0.0.1:$port/v1" ours --requests "$requests" --pid "$pid" \
  --note "ecom-serve, continuous batching (max batch 16), GGUF blocks kept, 2 threads; cpu: $cpu" > "$tmp/ours.jsonl"
stop
port="$(free_port)"
"$bin/ecom-serve" --model "$gguf" --port "$port" --threads 2 --max-batch 4 --max-queue 8 --context 1024 > "$tmp/storm.log" 2>&1 &
pid=$!
wait_up "http://127.0.0.1:$port/health" "$tmp/storm.log"
"$py" "$root/scripts/bench/serve_load.py" "http://127.0.0.1:$port/v1" ours --clients "" --storm 64 --pid "$pid" \
  --note "ecom-serve --max-batch 4 --max-queue 8; cpu: $cpu" >> "$tmp/ours.jsonl" || true
stop

# llama.cpp's server.
port="$(free_port)"
"$py" -m llama_cpp.server --model "$gguf" --host 127.0.0.1 --port "$port" --n_threads 2 --n_threads_batch 2 --n_ctx 2048 \
  > "$tmp/reference.log" 2>&1 &
pid=$!
wait_up "http://127.0.0.1:$port/v1/models" "$tmp/reference.log"
version="$("$py" -c 'import llama_cpp; print(llama_cpp.__version__)')"
"$py" "$root/scripts/bench/serve_load.py" "http://127.0.0.1:$port/v1" reference --requests "$requests" --pid "$pid" \
  --note "llama-cpp-python[server] $version, n_threads=2, same GGUF; cpu: $cpu" > "$tmp/reference.jsonl"
stop

"$py" "$root/scripts/bench/combine.py" "$tmp/ours.jsonl" "$tmp/reference.jsonl"
