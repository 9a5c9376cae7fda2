#!/usr/bin/env bash
# Regenerates every golden fixture under Tests/Fixtures with the pinned reference packages
# (scripts/reference/requirements.txt) in their own venv. Usage: scripts/reference/generate.sh [NAME...]
# where NAME is a generator scripts/reference/gen_NAME.py; no NAME runs them all. Tests never need Python.
# ECOM_REBUILD_TRAINED=1 first rebuilds the fixtures trained by ecom-train (scripts/reference/build_trained.py).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
py="$(bash "$here/venv.sh")"
export ECOM_ROOT="$root"
export ECOM_SHARED_DATA="${ECOM_SHARED_DATA:-$root/../shared/data}"
export PYTHONPATH="$here${PYTHONPATH:+:$PYTHONPATH}"
names=("$@")
if [ "${#names[@]}" -eq 0 ]; then
  for f in "$here"/gen_*.py; do [ -e "$f" ] && names+=("$(basename "$f" .py | sed 's/^gen_//')"); done
fi
[ "${#names[@]}" -gt 0 ] || { echo "generate: no generators (scripts/reference/gen_*.py)" >&2; exit 1; }
# Fixtures our own tools write (Tests/Fixtures/train/ours-ckpt, Tests/Fixtures/eval/): rebuilt only on request
# (ECOM_REBUILD_TRAINED=1; needs the tools, see build_trained.py), before the gen_ scripts that read them.
if [ "${ECOM_REBUILD_TRAINED:-0}" = 1 ]; then "$py" "$here/build_trained.py"; fi
for n in "${names[@]}"; do
  echo "generate: $n" >&2
  "$py" "$here/gen_$n.py"
done
