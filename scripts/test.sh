#!/usr/bin/env bash
# Sets up the machine (system packages) and runs the whole test suite. This is the README's test command;
# .ci/run calls it. Tests are offline: fixtures are committed; ../shared/data is read where present (required in CI).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
bash scripts/setup.sh
swift build --build-tests
swift test "$@"
