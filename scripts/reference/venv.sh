#!/usr/bin/env bash
# Creates (once) the Python venv with the pinned reference packages and prints its python path.
# Used by scripts/reference/generate.sh and scripts/bench.sh. Nothing in the test suite needs it.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
venv="${ECOM_REFERENCE_VENV:-$here/.venv}"
req="$here/requirements.txt"
stamp="$venv/.requirements.sha256"
want="$(sha256sum "$req" | cut -d' ' -f1)"
if [ ! -x "$venv/bin/python" ] || [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  echo "reference venv: installing pinned packages into $venv (first time takes minutes: torch is large)" >&2
  python3 -m venv "$venv"
  "$venv/bin/python" -m pip install -q --upgrade pip >&2
  "$venv/bin/python" -m pip install -q -r "$req" >&2
  echo "$want" > "$stamp"
fi
echo "$venv/bin/python"
