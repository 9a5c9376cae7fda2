#!/usr/bin/env bash
# Creates (once) the Python venv with the pinned reference packages and prints its python path.
# Used by scripts/reference/generate.sh and scripts/bench.sh. Nothing in the test suite needs it.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=scripts/lib/pinned_venv.sh
source "$here/../lib/pinned_venv.sh"
venv="${ECOM_REFERENCE_VENV:-$here/.venv}"
pinned_venv "$venv" "$here/requirements.txt" "reference venv"
echo "$venv/bin/python"
