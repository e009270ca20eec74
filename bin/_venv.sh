# Sourced by bin/gateway, bin/test and bin/bench: make .venv and install the project into it.
# Usage: ensure_venv EXTRAS   (e.g. "" or "test")
ensure_venv() {
  local extras="$1" py="${PYTHON:-python3}" spec="." stamp
  if ! "$py" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
    echo "contact-gateway needs Python 3.11 or newer (set PYTHON=/path/to/python3.11)" >&2
    return 1
  fi
  [ -n "$extras" ] && spec=".[$extras]"
  [ -x .venv/bin/python ] || "$py" -m venv .venv
  stamp="$(cat pyproject.toml | sha256sum | cut -c1-16)-$extras"
  if [ "$(cat .venv/.installed 2>/dev/null)" != "$stamp" ]; then
    echo "installing contact-gateway$([ -n "$extras" ] && echo " with [$extras]") into .venv ..." >&2
    .venv/bin/python -m pip install -q --disable-pip-version-check --upgrade pip >&2
    .venv/bin/python -m pip install -q --disable-pip-version-check -e "$spec" >&2
    echo "$stamp" > .venv/.installed
  fi
}
