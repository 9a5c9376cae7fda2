#!/usr/bin/env bash
# Tensor benchmark: our sgemm (the BLAS path: oneDNN or OpenBLAS; OpenBLAS alone; pure SIMD) against numpy's (same OpenBLAS machine, same run), and our
# memory-bound ops (layer norm, softmax, GELU, add) in GB/s against a memcpy of the same bytes.
# Called by scripts/bench.sh with ECOM_ROOT, ECOM_PY and ECOM_BENCH_BIN set. BENCH_QUICK=1 for a short run.
set -euo pipefail
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
BENCH_TENSOR_LIMITS="$tmp/limits.jsonl" "$ECOM_BENCH_BIN/bench-tensor" > "$tmp/ours.jsonl"
"$ECOM_PY" - "${BENCH_QUICK:-0}" > "$tmp/numpy.jsonl" <<'PY'
import json, sys, time
import numpy as np

quick = sys.argv[1] == "1"


def median_seconds(fn, warmup=1, iterations=7, min_seconds=0.0, warmup_seconds=0.0):
    start, warmed = time.perf_counter(), 0
    while warmed < warmup or time.perf_counter() - start < warmup_seconds:
        fn()
        warmed += 1
    samples, total = [], 0.0
    while len(samples) < iterations or total < min_seconds:
        t0 = time.perf_counter()
        fn()
        dt = time.perf_counter() - t0
        samples.append(dt)
        total += dt
    samples.sort()
    n = len(samples)
    return samples[n // 2] if n % 2 else (samples[n // 2 - 1] + samples[n // 2]) / 2


try:  # numpy's own OpenBLAS and the core it runs (threadpoolctl reads it from the loaded library)
    from threadpoolctl import threadpool_info
    numpy_core = next((i.get("architecture") for i in threadpool_info() if i.get("internal_api") == "openblas"), None)
except Exception:
    numpy_core = None

for n in ([256, 512] if quick else [256, 512, 1024, 2048]):
    rng = np.random.default_rng(1)
    a = rng.uniform(-1, 1, (n, n)).astype(np.float32)
    b = rng.uniform(-1, 1, (n, n)).astype(np.float32)
    c = np.empty((n, n), dtype=np.float32)
    # The same warm-up as ours (bench-tensor's sgemmWarmupSeconds).
    t = median_seconds(lambda: np.matmul(a, b, out=c), min_seconds=0.3 if n <= 512 else 0, warmup_seconds=0.2)
    g = 2 * n ** 3 / t / 1e9
    # The same numpy figure is the reference for our BLAS path (oneDNN's sgemm where it multiplies), OpenBLAS's
    # cblas_sgemm alone (reported where oneDNN multiplies) and our SIMD matmul (reported as a fraction).
    for case in (f"sgemm {n}", f"sgemm openblas {n}", f"sgemm simd {n}"):
        print(json.dumps({"bench": "tensor", "case": case, "value": g, "unit": "GFLOPS", "higher_is_better": True,
                          "reference_kind": f"numpy {np.__version__} matmul",
                          "reference_blas_core": numpy_core}), flush=True)
PY
cat "$tmp/numpy.jsonl" "$tmp/limits.jsonl" > "$tmp/reference.jsonl"
"$ECOM_PY" "$ECOM_ROOT/scripts/bench/combine.py" "$tmp/ours.jsonl" "$tmp/reference.jsonl"
