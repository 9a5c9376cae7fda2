#!/usr/bin/env bash
# Creates (once) the Python venv of the scale-out smoke test from scripts/scale-out/requirements.txt, installs ./python
# (ecom_shards) into it, and prints its python path. A lighter venv than scripts/reference's (no llama.cpp build), used
# by scripts/test.sh so that CI runs scripts/scale-out/smoke.sh in minutes.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
# shellcheck source=scripts/lib/pinned_venv.sh
source "$root/scripts/lib/pinned_venv.sh"
venv="${ECOM_SCALE_OUT_VENV:-$here/.venv}"
pinned_venv "$venv" "$here/requirements.txt" "scale-out venv"
"$venv/bin/python" -m pip install -q --no-deps --no-build-isolation "$root/python" >&2
echo "$venv/bin/python"
