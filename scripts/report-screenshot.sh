#!/usr/bin/env bash
# Draws an Ecom report (ecom-eval's or ecom-eval compare's report.html) in headless Chromium (Debian's `chromium`,
# and a Chinese font, `fonts-wqy-zenhei`, for the Chinese tasks' examples: installed when missing) and writes a PNG of
# the page as a browser renders it.
# Usage: scripts/report-screenshot.sh REPORT.html [OUT.png]   (default OUT: REPORT.png beside the page)
# Environment: ECOM_SCREENSHOT_SIZE (window width,height in pixels; 1400,6000: tall enough for the whole page).
set -euo pipefail
html="${1:-}"
if [ -z "$html" ] || [ "$html" = "-h" ] || [ "$html" = "--help" ]; then
  echo "usage: $0 REPORT.html [OUT.png]" >&2
  exit 2
fi
out="${2:-${html%.html}.png}"
[ -f "$html" ] || { echo "report-screenshot: $html: no such file" >&2; exit 1; }
browser="$(command -v chromium || command -v chromium-browser || true)"
missing=()
[ -n "$browser" ] || missing+=(chromium)
[ -n "$(fc-list :lang=zh 2> /dev/null)" ] || missing+=(fonts-wqy-zenhei)
if [ "${#missing[@]}" -gt 0 ]; then
  APT_LABEL=report-screenshot
  # shellcheck source=scripts/lib/apt.sh
  source "$(dirname "${BASH_SOURCE[0]}")/lib/apt.sh"
  echo "report-screenshot: installing ${missing[*]} (Debian)" >&2
  apt_install "${missing[@]}"
  browser="$(command -v chromium || command -v chromium-browser)"
fi
"$browser" --headless --no-sandbox --disable-gpu --hide-scrollbars --window-size="${ECOM_SCREENSHOT_SIZE:-1400,6000}" \
  --screenshot="$(realpath -m "$out")" "file://$(realpath "$html")" 2> /dev/null
[ -s "$out" ] || { echo "report-screenshot: chromium wrote no screenshot for $html" >&2; exit 1; }
echo "$out"
