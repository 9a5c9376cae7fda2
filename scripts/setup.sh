#!/usr/bin/env bash
# Installs what Ecom needs on a fresh Debian/Ubuntu machine: the OpenBLAS and zstd development packages, and on a CPU
# with AVX2 and FMA the oneDNN runtime (libdnnl2 or libdnnl3) that large Float32 products (SgemmBackend) and, where the
# CPU has AVX512_BF16, bf16 compute (--precision bf16|auto) load.
# Idempotent: installs only what is missing. Works as root (or with sudo when not root).
set -euo pipefail

APT_LABEL=setup
# shellcheck source=scripts/lib/apt.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/apt.sh"

wanted=(libopenblas-dev libzstd-dev pkg-config)
# ECOM_SETUP_ASSUME_AVX2=1 takes the oneDNN branch on any CPU (to test this script).
if { grep -qw avx2 /proc/cpuinfo 2>/dev/null && grep -qw fma /proc/cpuinfo 2>/dev/null; } || [ "${ECOM_SETUP_ASSUME_AVX2:-0}" = 1 ]; then
  dnnl=""
  for candidate in libdnnl3 libdnnl2; do
    if apt_installed "$candidate"; then dnnl="$candidate"; break; fi
  done
  if [ -z "$dnnl" ]; then
    # The package lists of a fresh image can be empty: read them before deciding that no oneDNN exists.
    for attempt in lists updated; do
      for candidate in libdnnl3 libdnnl2; do
        if [ -n "$(apt-cache policy "$candidate" 2>/dev/null | awk '/Candidate:/ {print $2}' | grep -v '(none)')" ]; then
          dnnl="$candidate"; break
        fi
      done
      if [ -n "$dnnl" ] || [ "$attempt" = updated ]; then break; fi
      apt_update
    done
  fi
  if [ -n "$dnnl" ]; then wanted+=("$dnnl"); else echo "setup: no libdnnl package known to apt: Float32 products stay on OpenBLAS and bf16 compute is unavailable" >&2; fi
fi

need=()
for pkg in "${wanted[@]}"; do
  if ! apt_installed "$pkg"; then need+=("$pkg"); fi
done

if [ "${#need[@]}" -eq 0 ]; then
  echo "setup: system packages present (${wanted[*]})" >&2
else
  echo "setup: installing ${need[*]}" >&2
  apt_install --no-install-recommends "${need[@]}"
fi

if ! command -v swift >/dev/null 2>&1; then
  echo "setup: the Swift toolchain (6.x) is not on PATH; install it from swift.org first" >&2
  exit 1
fi
