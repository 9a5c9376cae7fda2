#!/usr/bin/env bash
# Installs what Ecom needs on a fresh Debian/Ubuntu machine: the OpenBLAS and zstd development packages.
# Idempotent: installs only what is missing. Works as root (or with sudo when not root).
set -euo pipefail

need=()
for pkg in libopenblas-dev libzstd-dev pkg-config; do
  if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; then
    need+=("$pkg")
  fi
done

if [ "${#need[@]}" -eq 0 ]; then
  echo "setup: system packages present (libopenblas-dev libzstd-dev pkg-config)" >&2
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
