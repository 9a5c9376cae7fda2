#!/usr/bin/env bash
# Creates (once) the Python venv of the serving checks from scripts/serve/requirements.txt (the openai client and
# llama.cpp's server) and prints its python path.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
# shellcheck source=scripts/lib/pinned_venv.sh
source "$root/scripts/lib/pinned_venv.sh"
venv="${ECOM_SERVE_VENV:-$here/.venv}"
pinned_venv "$venv" "$here/requirements.txt" "serve venv"
echo "$venv/bin/python"
