"""Load on an OpenAI-compatible server on loopback: C concurrent clients share R chat requests (greedy, M new tokens
at most), each client sending its next request when its last one is answered. Prints one JSON line per level:
{"bench": "serve", "case": "<C> clients", "value": generated tokens/s, "unit": "tokens/s", "p50_s", "p99_s", ...}.

Usage: serve_load.py BASE_URL SIDE --clients 1,4,16 --requests 64 --max-tokens 128 [--pid PID] [--storm N]
SIDE names the server in the output ("ours" or "reference" side of combine.py). With --pid, the server's peak
resident memory (VmHWM) is reported. With --storm N, a last phase sends N requests at once (more than the server's
queue holds): refusals (429) are counted, nothing else may fail, and a well-behaved client's latency is measured
during the storm.
"""
import argparse
import json
import statistics
import threading
import time
import urllib.error
import urllib.request

PRODUCTS = ["a stainless steel water bottle", "wireless earbuds with noise cancelling", "a leather office chair",
            "a cotton summer dress", "a 4K action camera", "an electric kettle", "a yoga mat", "running shoes",
            "a mechanical keyboard", "a ceramic coffee mug", "a child's car seat", "a hiking backpack",
            "a robot vacuum cleaner", "a silk scarf", "a smart watch", "a cast iron skillet"]


def prompt(i):
    return f"Write a detailed product description for {PRODUCTS[i % len(PRODUCTS)]}, with its features and uses."


def request(base, i, max_tokens, timeout=900):
    body = json.dumps({"model": "bench", "messages": [{"role": "user", "content": prompt(i)}],
                       "max_tokens": max_tokens, "temperature": 0}).encode()
    req = urllib.request.Request(base.rstrip("/") + "/chat/completions", data=body, method="POST",
                                 headers={"Content-Type": "application/json", "Authorization": "Bearer bench"})
    start = time.perf_counter()
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            out = json.loads(r.read())
        return 200, time.perf_counter() - start, out["usage"]["completion_tokens"]
    except urllib.error.HTTPError as e:
        e.read()
        return e.code, time.perf_counter() - start, 0


def peak_rss_mb(pid):
    if not pid:
        return None
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return None


def level(base, clients, total, max_tokens):
    lock, next_i, results = threading.Lock(), [0], []

    def client():
        while True:
            with lock:
                if next_i[0] >= total:
                    return
                i = next_i[0]
                next_i[0] += 1
            status, seconds, tokens = request(base, i, max_tokens)
            while status == 429:  # the server is full: wait and retry, as clients do
                time.sleep(0.05)
                status, seconds, tokens = request(base, i, max_tokens)
            with lock:
                results.append((status, seconds, tokens))

    start = time.perf_counter()
    threads = [threading.Thread(target=client) for _ in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - start
    ok = [r for r in results if r[0] == 200]
    lat = sorted(r[1] for r in ok)
    tokens = sum(r[2] for r in ok)
    return {"value": tokens / wall, "wall_s": round(wall, 2), "requests": len(results), "failed": len(results) - len(ok),
            "generated_tokens": tokens, "p50_s": round(statistics.median(lat), 3),
            "p99_s": round(lat[min(len(lat) - 1, int(0.99 * len(lat)))], 3)}


def storm(base, n, max_tokens):
    """n requests at once, and one polite client's sequential requests meanwhile."""
    results, polite = [], []
    lock = threading.Lock()

    def one(i):
        r = request(base, i, max_tokens)
        with lock:
            results.append(r)

    threads = [threading.Thread(target=one, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    while any(t.is_alive() for t in threads):
        status, seconds, _ = request(base, 0, 8)
        polite.append((status, seconds))
        if status == 429:
            time.sleep(0.05)  # a polite client backs off
    for t in threads:
        t.join()
    codes = {}
    for r in results:
        codes[r[0]] = codes.get(r[0], 0) + 1
    answered = [s for st, s in polite if st == 200]
    return {"storm_requests": n, "status_counts": {str(k): v for k, v in sorted(codes.items())},
            "polite_requests": len(polite), "polite_refused": sum(1 for st, _ in polite if st == 429),
            "polite_p50_s": round(statistics.median(answered), 3) if answered else None}


def emit(row, side):
    """Prints a row with its measurements named by side (combine.py keeps one copy of each extra key)."""
    fixed = ("bench", "case", "value", "unit", "higher_is_better")
    out = {k: v for k, v in row.items() if k in fixed}
    out.update({f"{side}_{k}": v for k, v in row.items() if k not in fixed})
    print(json.dumps(out), flush=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("base")
    ap.add_argument("side")
    ap.add_argument("--clients", default="1,4,16")
    ap.add_argument("--requests", type=int, default=64)
    ap.add_argument("--max-tokens", type=int, default=128)
    ap.add_argument("--pid", type=int)
    ap.add_argument("--storm", type=int, default=0)
    ap.add_argument("--note", default="")
    a = ap.parse_args()
    request(a.base, 0, 4)  # warm-up
    for c in (int(x) for x in a.clients.split(",") if x):
        row = {"bench": "serve", "case": f"{c} clients, {a.requests} requests of <= {a.max_tokens} tokens",
               "unit": "tokens/s", "higher_is_better": True, "note": a.note}
        row.update(level(a.base, c, a.requests, a.max_tokens))
        if a.pid:
            row["peak_rss_mb"] = round(peak_rss_mb(a.pid), 1)
        emit(row, a.side)
    if a.storm:
        row = {"bench": "serve", "case": f"storm of {a.storm} requests", "unit": "requests", "higher_is_better": True,
               "note": a.note}
        row.update(storm(a.base, a.storm, 32))
        row["value"] = row["status_counts"].get("200", 0)
        if a.pid:
            row["peak_rss_mb"] = round(peak_rss_mb(a.pid), 1)
        emit(row, a.side)


if __name__ == "__main__":
    main()
