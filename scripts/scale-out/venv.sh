#!/usr/bin/env bash
# Creates (once) the Python venv of the scale-out smoke test from scripts/scale-out/requirements.txt, installs ./python
# (ecom_shards) into it, and prints its python path. A lighter venv than scripts/reference's (no llama.cpp build), used
# by scripts/test.sh so that CI runs scripts/scale-out/smoke.sh in minutes.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
venv="${ECOM_SCALE_OUT_VENV:-$here/.venv}"
req="$here/requirements.txt"
stamp="$venv/.requirements.sha256"
want="$(sha256sum "$req" | cut -d' ' -f1)"
if [ ! -x "$venv/bin/python" ] || [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  echo "scale-out venv: installing pinned packages into $venv (first time: about 3 minutes, torch is large)" >&2
  python3 -m venv "$venv"
  "$venv/bin/python" -m pip install -q --upgrade pip >&2
  "$venv/bin/python" -m pip install -q -r "$req" >&2
  echo "$want" > "$stamp"
fi
"$venv/bin/python" -m pip install -q --no-deps --no-build-isolation "$root/python" >&2
echo "$venv/bin/python"
