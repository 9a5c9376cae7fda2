"""Drives a running ecom-serve with hostile and faulty clients, all at once, against 127.0.0.1 only and bounded in
count and time, while a well-behaved client keeps asking; checks that the server stays up, answers every request
with a result or a refusal of the right status, keeps its memory bounded, and frees every slot afterwards.

    python faults.py --base http://127.0.0.1:PORT --pid PID --key KEY --max-batch B --max-queue Q --context C \
        --max-body N --idle-timeout S [--out summary.json]

Standard library only. Prints one JSON summary (also to --out) and exits 1 if any check failed.
"""
import argparse
import json
import socket
import statistics
import threading
import time
import urllib.error
import urllib.request

p = argparse.ArgumentParser()
for name in ("base", "key", "out"):
    p.add_argument("--" + name)
p.add_argument("--pid", type=int, required=True)
for name in ("max-batch", "max-queue", "context", "max-body", "idle-timeout"):
    p.add_argument("--" + name, type=int, required=True)
a = p.parse_args()
root = a.base.rstrip("/").rsplit("/v1", 1)[0]
host, port = a.base.split("//")[1].split("/")[0].split(":")
port = int(port)
failures = []
lock = threading.Lock()


def fail(msg):
    with lock:
        failures.append(msg)


def post(path, body, timeout=120, headers=None):
    """(status, parsed JSON or None, seconds)."""
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    h = {"Content-Type": "application/json", "Authorization": "Bearer " + a.key}
    h.update(headers or {})
    req = urllib.request.Request(root + path, data=data, headers=h, method="POST")
    t = time.monotonic()
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            raw = r.read()
            status = r.status
    except urllib.error.HTTPError as e:
        raw, status = e.read(), e.code
    try:
        parsed = json.loads(raw)
    except ValueError:
        parsed = None
    return status, parsed, time.monotonic() - t


def health():
    with urllib.request.urlopen(root + "/health", timeout=10) as r:
        return json.loads(r.read())


def rss_mb():
    with open(f"/proc/{a.pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def chat(text="Say hello.", max_tokens=8, **extra):
    body = {"model": "m", "messages": [{"role": "user", "content": text}], "max_tokens": max_tokens, "temperature": 0}
    body.update(extra)
    return body


# ---- 1. Baseline: a well-behaved client alone.
baseline = []
for _ in range(5):
    s, j, dt = post("/v1/chat/completions", chat())
    if s != 200:
        fail(f"baseline request answered {s}: {j}")
    baseline.append(dt)
rss_before = rss_mb()
summary = {"baseline_latency_s": {"median": statistics.median(baseline), "max": max(baseline)}, "rss_mb_before": rss_before}

stop = threading.Event()
results = {}


def record(kind, value):
    with lock:
        results.setdefault(kind, []).append(value)


# ---- 2. The storm: every fault at once.
def slow_headers(i):
    """Sends a request's headers a byte a second and never finishes them; the server should close it after its idle
    timeout (the well-behaved client meanwhile is unaffected)."""
    s = socket.create_connection((host, port), timeout=5)
    head = f"POST /v1/completions HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {a.key}\r\nX-Pad: {'a' * 200}\r\n".encode()
    t0 = time.monotonic()
    closed_after = None
    for b in head:
        if stop.is_set():
            break
        try:
            s.sendall(bytes([b]))
            s.settimeout(1.0)
            if s.recv(1024) == b"":
                closed_after = time.monotonic() - t0
                break
        except socket.timeout:
            continue
        except OSError:
            closed_after = time.monotonic() - t0
            break
    s.close()
    record("slow_headers_closed_after_s", closed_after)


def slow_body(i):
    """Complete headers, then a body of 40 bytes at a byte a second, then gone."""
    s = socket.create_connection((host, port), timeout=5)
    s.sendall(f"POST /v1/completions HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {a.key}\r\n"
              f"Content-Type: application/json\r\nContent-Length: 400\r\n\r\n".encode())
    for b in b'{"model": "m", "prompt": "slow", "max_':
        if stop.is_set():
            break
        try:
            s.sendall(bytes([b]))
        except OSError:
            break
        time.sleep(1)
    s.close()
    record("slow_body_done", True)


def disconnect_mid_stream(i):
    """A streamed completion abandoned after its first events."""
    s = socket.create_connection((host, port), timeout=30)
    body = json.dumps({"model": "m", "prompt": "Tell me a story", "max_tokens": 200, "stream": True, "temperature": 0}).encode()
    s.sendall(f"POST /v1/completions HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {a.key}\r\n"
              f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n".encode() + body)
    got = b""
    try:
        while got.count(b"data:") < 3:
            chunk = s.recv(4096)
            if not chunk:
                break
            got += chunk
    except OSError:
        pass
    status = got.split(b" ", 2)[1].decode() if got.startswith(b"HTTP/1.1 ") else "none"
    s.close()
    record("disconnect_status", status)


def hostile_bodies():
    """Oversized, malformed, invalid UTF-8, deeply nested, out-of-range values and too-long prompts: each a 4xx."""
    comp, chat_path = "/v1/completions", "/v1/chat/completions"
    cases = [
        ("oversized", comp, b'{"model": "m", "prompt": "' + b"x" * (a.max_body + 10) + b'"}', {413}),
        ("not json", comp, b"this is not json", {400}),
        ("truncated json", chat_path, b'{"model": "m", "messages": [{"role": "user", "con', {400}),
        ("invalid utf-8", comp, b'{"model": "m", "prompt": "\xff\xfe\xc3\x28"}', {400}),
        ("lone surrogate", comp, b'{"model": "m", "prompt": "\\ud800 hi", "max_tokens": 2}', {200, 400}),
        ("nested 20000", comp, b"[" * 20000 + b"]" * 20000, {400}),
        ("nested object", chat_path, b'{"model": "m", "messages": ' + b'{"a":' * 5000 + b"1" + b"}" * 5000 + b"}", {400}),
        ("wrong types", chat_path, b'{"model": 5, "messages": "hi"}', {400}),
        ("huge max_tokens", chat_path, json.dumps(chat(max_tokens=2**63 - 1)).encode(), {400}),
        ("negative temperature", chat_path, json.dumps(chat(temperature=-1)).encode(), {400}),
        ("nan", comp, b'{"model": "m", "prompt": "x", "temperature": NaN}', {400}),
        ("empty body", comp, b"", {400}),
        ("too long for the context", comp, json.dumps({"model": "m", "prompt": "hello " * (a.context * 2), "max_tokens": 4}).encode(), {400}),
        ("null byte in the body", comp, b'{"model": "m", "prompt": "a\x00b"}', {400}),
    ]
    for name, path, body, allowed in cases:
        try:
            s, j, _ = post(path, body, timeout=60)
        except Exception as e:  # a reset connection is also an answer for the oversized body
            s, j = ("reset" if name == "oversized" else f"error {e}"), None
        record("hostile", {"case": name, "status": s})
        if s not in allowed and not (name == "oversized" and s == "reset"):
            fail(f"hostile body '{name}': status {s}, expected one of {sorted(allowed)} ({j})")
        elif isinstance(s, int) and s >= 400 and (j is None or "error" not in j):
            fail(f"hostile body '{name}': {s} without OpenAI's error object: {j}")


def flood(i):
    """10x more concurrent requests than the server's slots and queue hold."""
    try:
        s, j, dt = post("/v1/completions", {"model": "m", "prompt": f"Item {i}", "max_tokens": 16, "temperature": 0}, timeout=180)
    except Exception as e:
        s, dt = f"error {e}", 0
    record("flood_status", s)
    if s not in (200, 429):
        fail(f"flood request {i}: status {s}")


def well_behaved():
    """A client that asks one short question at a time throughout the storm (retrying on 429 as clients do)."""
    while not stop.is_set():
        t = time.monotonic()
        s, j, dt = post("/v1/chat/completions", chat(max_tokens=4), timeout=120)
        tries = 1
        while s == 429 and not stop.is_set() and tries < 50:
            time.sleep(0.2)
            s, j, _ = post("/v1/chat/completions", chat(max_tokens=4), timeout=120)
            tries += 1
        record("storm_latency_s", time.monotonic() - t)
        record("storm_status", s)
        time.sleep(0.2)


def sample_rss():
    while not stop.is_set():
        record("rss_mb", rss_mb())
        time.sleep(0.2)


flood_n = 10 * (a.max_batch + a.max_queue)
threads = [threading.Thread(target=sample_rss), threading.Thread(target=well_behaved), threading.Thread(target=hostile_bodies)]
threads += [threading.Thread(target=slow_headers, args=(i,)) for i in range(8)]
threads += [threading.Thread(target=slow_body, args=(i,)) for i in range(4)]
threads += [threading.Thread(target=disconnect_mid_stream, args=(i,)) for i in range(8)]
threads += [threading.Thread(target=flood, args=(i,)) for i in range(flood_n)]
t_storm = time.monotonic()
for t in threads:
    t.start()
storm_limit = max(45, a.idle_timeout + 20)
workers = threads[3:]
for t in workers:
    t.join(timeout=max(1, storm_limit - (time.monotonic() - t_storm)))
time.sleep(1)
stop.set()
for t in threads:
    t.join(timeout=60)
storm_s = time.monotonic() - t_storm
if any(t.is_alive() for t in threads):
    fail("some clients were still waiting 60 s after the storm ended")

# ---- 3. After the storm: alive, slots freed, still answering.
try:
    import os
    os.kill(a.pid, 0)
except OSError:
    fail("ecom-serve is no longer running")
h = None
for _ in range(150):
    try:
        h = health()
    except Exception as e:
        fail(f"/health failed after the storm: {e}")
        break
    if h["running"] == 0 and h["waiting"] == 0:
        break
    time.sleep(0.2)
if h and (h["running"] or h["waiting"]):
    fail(f"slots not freed 30 s after the storm: {h}")
after = []
for _ in range(3):
    s, j, dt = post("/v1/chat/completions", chat())
    after.append(dt)
    if s != 200:
        fail(f"request after the storm answered {s}: {j}")

closed = results.get("slow_headers_closed_after_s", [])
if any(c is None for c in closed):
    fail(f"slow-header clients not closed by the idle timeout ({a.idle_timeout} s): {closed}")
elif any(c > a.idle_timeout + 5 for c in closed):
    fail(f"slow-header clients closed late: {closed} (idle timeout {a.idle_timeout} s)")
flood_status = results.get("flood_status", [])
storm_lat = results.get("storm_latency_s", [])
rss = results.get("rss_mb", [0])
if max(rss) > rss_before + 512:
    fail(f"memory grew from {rss_before:.0f} MB to {max(rss):.0f} MB during the storm")
if any(s != 200 for s in results.get("storm_status", [])):
    fail(f"the well-behaved client got {results.get('storm_status')}")
summary.update({
    "storm_s": round(storm_s, 1),
    "slow_header_clients_closed_after_s": [round(c, 1) for c in closed if c is not None],
    "slow_body_clients": len(results.get("slow_body_done", [])),
    "mid_stream_disconnects": results.get("disconnect_status", []),
    "hostile_bodies": results.get("hostile", []),
    "flood": {"requests": flood_n, "ok": flood_status.count(200), "rejected_429": flood_status.count(429),
              "other": [s for s in flood_status if s not in (200, 429)]},
    "well_behaved_during_storm": {"requests": len(storm_lat), "median_s": statistics.median(storm_lat) if storm_lat else None,
                                  "max_s": max(storm_lat) if storm_lat else None},
    "rss_mb": {"before": round(rss_before), "max_during": round(max(rss)), "after": round(rss_mb())},
    "health_after": h,
    "latency_after_s": {"median": statistics.median(after)},
    "failures": failures,
})
text = json.dumps(summary, indent=1)
print(text)
if a.out:
    with open(a.out, "w") as f:
        f.write(text + "\n")
raise SystemExit(1 if failures else 0)
