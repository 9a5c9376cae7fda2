#!/usr/bin/env bash
# Sets up the machine (system packages, the pretrained backbone in the model cache) and runs the whole test suite.
# This is the README's test command; .ci/run calls it. Tests are offline: fixtures are committed; ../shared/data and
# the cached SmolLM2 GGUF are read where present (both required in CI, CI=true). The scale-out smoke needs PyPI once
# (its venv).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
bash scripts/setup.sh
if gguf="$(bash scripts/fetch-model.sh | tail -n 1)"; then
  export ECOM_SMOLLM2_GGUF="$gguf"
elif [ "${CI:-}" = "true" ]; then
  echo "test: the SmolLM2 GGUF could not be fetched (scripts/fetch-model.sh); CI needs it" >&2
  exit 1
else
  echo "test: SmolLM2 not fetched: the tests that need it are skipped" >&2
fi
# The CPU in the log: results' last bits and some tolerances depend on its kernels (OpenBLAS core, AVX512_BF16).
cpu="$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo 2>/dev/null | head -n 1)"
family="$(sed -n 's/^cpu family[[:space:]]*: //p' /proc/cpuinfo 2>/dev/null | head -n 1)"
echo "test: CPU ${cpu:-unknown} (family ${family:-?}, $(nproc) processors$(grep -qw avx512_bf16 /proc/cpuinfo 2>/dev/null && echo ', AVX512_BF16')), OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-unset}" >&2
swift build --build-tests
swift test "$@"
# The main job's shell logic (scripts/lib/backbone.sh: examples per task sized to the job's time, resumed and restarted
# evaluations) against a fake ecom-eval; whole suite only, a second.
if [ $# -eq 0 ]; then
  bash scripts/lib/backbone_check.sh > /dev/null
fi
# The scale-out path (python/ and scripts/scale-out, Docs/SCALE-OUT.md): the Python reader's tests and train.py on
# two ranks against ecom-train, in a venv of pinned packages (first time: about 3 minutes). Run on the whole suite
# only (not with swift test arguments); outside CI it is skipped when the venv cannot be made (no registry).
if [ $# -eq 0 ]; then
  if py="$(bash scripts/scale-out/venv.sh)"; then
    ECOM_PY="$py" ECOM_BIN="$root/.build/debug" bash scripts/scale-out/smoke.sh
  elif [ "${CI:-}" = "true" ]; then
    echo "test: the scale-out venv could not be made (scripts/scale-out/venv.sh); CI needs it" >&2
    exit 1
  else
    echo "test: scale-out smoke skipped: its venv could not be made (scripts/scale-out/venv.sh)" >&2
  fi
fi
# The serving path (ecom-serve, ecom-distill, ecom-eval's endpoint client; Docs/CLI.md): scripts/serve/smoke.sh drives
# ecom-serve with the official openai client and curl, and the distiller against faulty and real teachers. Whole
# suite only; outside CI it is skipped when its venv cannot be made (no registry).
if [ $# -eq 0 ]; then
  if py="$(bash scripts/serve/venv.sh)"; then
    ECOM_PY="$py" ECOM_BIN="$root/.build/debug" bash scripts/serve/smoke.sh
  elif [ "${CI:-}" = "true" ]; then
    echo "test: the serve venv could not be made (scripts/serve/venv.sh); CI needs it" >&2
    exit 1
  else
    echo "test: serve smoke skipped: its venv could not be made (scripts/serve/venv.sh)" >&2
  fi
fi
# Reliability (Docs/RELIABILITY.md), whole suite only: the server under faults (hostile and slow clients, a flood,
# disconnects; about 40 s), two SIGKILLs per tool with resume to identical results (scripts/soak.sh; its seed is
# printed for replay; about 3 minutes), and every fuzz target for a short smoke run from its seed corpus
# (ECOM_FUZZ_SECONDS, 30 s each by default; the first build of the sanitized targets takes a few minutes).
if [ $# -eq 0 ]; then
  ECOM_BIN="$root/.build/debug" bash scripts/serve/faults.sh
  ECOM_BIN="$root/.build/debug" bash scripts/soak.sh all --kills 2
  bash scripts/fuzz.sh all "${ECOM_FUZZ_SECONDS:-30}"
fi
