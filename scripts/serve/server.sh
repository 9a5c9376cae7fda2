# Sourced by the serve scripts (smoke.sh, faults.sh): starting and stopping one ecom-serve on a free loopback port.
# Needs $bin (the tools' directory); $server_label prefixes its messages (default "serve").
server_pid=""

# start_server LOG ARGS...: starts ecom-serve on a free port and sets $server_pid and $base (its base URL).
start_server() {
  local log="$1"; shift
  "$bin/ecom-serve" --port 0 "$@" > "$log" 2>&1 &
  server_pid=$!
  base=""
  for _ in $(seq 1 600); do
    base="$(grep -o 'base URL http://[0-9.:]*/v1' "$log" | head -n 1 | cut -d' ' -f3 || true)"
    [ -n "$base" ] && break
    kill -0 "$server_pid" 2>/dev/null || { cat "$log" >&2; echo "${server_label:-serve}: ecom-serve exited" >&2; exit 1; }
    sleep 0.2
  done
  [ -n "$base" ] || { cat "$log" >&2; echo "${server_label:-serve}: ecom-serve did not start" >&2; exit 1; }
  echo "${server_label:-serve}: ecom-serve $* at $base" >&2
}

# stop_server: stops the server start_server started, if any.
stop_server() { if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; server_pid=""; fi; }
