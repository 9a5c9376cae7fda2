#!/usr/bin/env bash
# Regenerates every golden fixture under Tests/Fixtures with the pinned reference packages
# (scripts/reference/requirements.txt) in their own venv. Usage: scripts/reference/generate.sh [NAME...]
# where NAME is a generator scripts/reference/gen_NAME.py; no NAME runs them all. Tests never need Python.
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
for n in "${names[@]}"; do
  echo "generate: $n" >&2
  "$py" "$here/gen_$n.py"
done
