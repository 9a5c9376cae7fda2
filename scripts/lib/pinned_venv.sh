# shellcheck shell=bash
# pinned_venv VENV REQUIREMENTS LABEL: makes (once) a Python venv at VENV with the pinned packages of REQUIREMENTS,
# again whenever that file changes (its sha256 is stamped in VENV), and prints nothing. Progress on standard error.
pinned_venv() {
  local venv="$1" req="$2" label="$3"
  local stamp="$venv/.requirements.sha256" want
  want="$(sha256sum "$req" | cut -d' ' -f1)"
  if [ ! -x "$venv/bin/python" ] || [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
    echo "$label: installing pinned packages into $venv (first time takes minutes: torch is large)" >&2
    python3 -m venv "$venv"
    "$venv/bin/python" -m pip install -q --upgrade pip >&2
    "$venv/bin/python" -m pip install -q -r "$req" >&2
    echo "$want" > "$stamp"
  fi
}
