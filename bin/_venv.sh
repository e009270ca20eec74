# Sourced by bin/gateway, bin/test and bin/bench: make the virtualenv and install the project into it.
# Usage: ensure_venv EXTRAS   (e.g. "" or "test"); afterwards $VENV names the virtualenv's directory.
# PYTHON unset: python3 into .venv. PYTHON set (PYTHON=python3.13 ./bin/test): that interpreter into
# .venv-X.Y, named after its version, so trying another Python never replaces the default .venv.
ensure_venv() {
  local extras="$1" py="${PYTHON:-python3}" spec="." stamp version installed
  if ! "$py" -c '' 2>/dev/null; then
    echo "cannot run Python '$py' (PYTHON=${PYTHON:-unset}); set PYTHON to an interpreter's name or path" >&2
    return 1
  fi
  if ! version="$("$py" -c 'import sys; print("%d.%d" % sys.version_info[:2]); sys.exit(sys.version_info < (3, 11))' 2>/dev/null)"; then
    echo "contact-gateway needs Python 3.11 or newer; 3.11, 3.12 and 3.13 are tested (set PYTHON=/path/to/python3.11)" >&2
    return 1
  fi
  VENV=.venv
  [ -n "${PYTHON:-}" ] && VENV=".venv-$version"
  [ -n "$extras" ] && spec=".[$extras]"
  [ -x "$VENV/bin/python" ] || "$py" -m venv "$VENV"
  stamp="$(cat pyproject.toml | sha256sum | cut -c1-16)-$extras"
  installed="$(cat "$VENV/.installed" 2>/dev/null || true)"
  # an install with the test extras has all a plain one needs: bin/gateway after bin/test does not reinstall
  # (it did, each time the two alternated, and pip then needs the network)
  if [ "$installed" != "$stamp" ] && ! { [ -z "$extras" ] && [ "$installed" = "${stamp}test" ]; }; then
    echo "installing contact-gateway$([ -n "$extras" ] && echo " with [$extras]") into $VENV (Python $version) ..." >&2
    "$VENV/bin/python" -m pip install -q --disable-pip-version-check --upgrade pip >&2
    "$VENV/bin/python" -m pip install -q --disable-pip-version-check -e "$spec" >&2
    echo "$stamp" > "$VENV/.installed"
  fi
}
