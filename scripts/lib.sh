# Shared by the run and test scripts: a virtual environment that matches pyproject.toml.
set -euo pipefail

ensure_venv() {
  local extras="$1"
  local python="${PYTHON:-python3}"
  if ! "$python" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
    echo "error: Python 3.11 or newer is needed (set PYTHON=/path/to/python3.11)." >&2
    exit 1
  fi
  if [ ! -x .venv/bin/python ]; then
    echo "== Creating the virtual environment in .venv"
    "$python" -m venv .venv
  fi
  local stamp=".venv/.installed-$(sha256sum pyproject.toml | cut -c1-16)${extras}"
  if [ ! -f "$stamp" ]; then
    echo "== Installing dependencies${extras:+ ($extras)}"
    .venv/bin/python -m pip install --quiet --upgrade pip
    .venv/bin/python -m pip install --quiet -e ".${extras}"
    touch "$stamp"
  fi
}

as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi
}

# WeasyPrint (the briefing pack's PDF) needs Pango; Debian's libpango is on most machines already.
ensure_pango() {
  if ! ldconfig -p 2>/dev/null | grep -q 'libpangoft2-1.0.so.0'; then
    echo "== Installing Debian's Pango for the briefing pack's PDF"
    as_root apt-get update -qq
    DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq libpango-1.0-0 libpangoft2-1.0-0 fonts-dejavu-core >/dev/null
  fi
}
