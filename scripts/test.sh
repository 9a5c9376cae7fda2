#!/usr/bin/env bash
# Sets up the machine (system packages, the pretrained backbone in the model cache) and runs the whole test suite.
# This is the README's test command; .ci/run calls it. Tests are offline: fixtures are committed; ../shared/data and
# the cached SmolLM2 GGUF are read where present (both required in CI, CI=true).
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
swift build --build-tests
swift test "$@"
