#!/usr/bin/env bash
# The main job: sets up the machine, builds the tools in release mode and runs the pipeline on the embedded
# default. It grows with each issue; today it builds the libraries and checks the system libraries.
# Environment: ECOM_SHARED_DATA (default ../shared/data), ECOM_RUN_DIR (default runs/default).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
bash scripts/setup.sh
echo "main: building (release)" >&2
swift build -c release
run="${ECOM_RUN_DIR:-$root/runs/default}"
mkdir -p "$run"
echo "main: the pipeline's stages (data, tokenizer, training, evaluation) are added by later issues;" >&2
echo "main: run directory: $run" >&2
