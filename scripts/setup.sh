#!/usr/bin/env bash
# Installs what Ecom needs on a fresh Debian/Ubuntu machine: the OpenBLAS and zstd development packages, and on a CPU
# with AVX512_BF16 the oneDNN runtime (libdnnl2 or libdnnl3) that bf16 compute loads (--precision bf16|auto).
# Idempotent: installs only what is missing. Works as root (or with sudo when not root).
set -euo pipefail

wanted=(libopenblas-dev libzstd-dev pkg-config)
if grep -qw avx512_bf16 /proc/cpuinfo 2>/dev/null; then
  dnnl=""
  for candidate in libdnnl3 libdnnl2; do
    if dpkg-query -W -f='${Status}' "$candidate" 2>/dev/null | grep -q "install ok installed"; then dnnl="$candidate"; break; fi
  done
  if [ -z "$dnnl" ]; then
    for candidate in libdnnl3 libdnnl2; do
      if apt-cache show "$candidate" >/dev/null 2>&1; then dnnl="$candidate"; break; fi
    done
  fi
  if [ -n "$dnnl" ]; then wanted+=("$dnnl"); else echo "setup: no libdnnl package known to apt: bf16 compute will be unavailable" >&2; fi
fi

need=()
for pkg in "${wanted[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; then
    need+=("$pkg")
  fi
done

if [ "${#need[@]}" -eq 0 ]; then
  echo "setup: system packages present (${wanted[*]})" >&2
else
  echo "setup: installing ${need[*]}" >&2
  sudo=""
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null 2>&1 || { echo "setup: need root or sudo to install ${need[*]}" >&2; exit 1; }
    sudo="sudo"
  fi
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq
  $sudo apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

if ! command -v swift >/dev/null 2>&1; then
  echo "setup: the Swift toolchain (6.x) is not on PATH; install it from swift.org first" >&2
  exit 1
fi
