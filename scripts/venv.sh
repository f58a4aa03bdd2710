# shellcheck shell=bash
# Sourced by scripts/build, scripts/test and scripts/compat: make .venv if needed and install
# the project with the extras named in $1, only when pyproject.toml changed since the last
# install (the editable install picks up code changes by itself), so a current environment
# costs nothing.
ensure_venv() {
  local extras=$1 stamp want
  PY=${PYTHON:-python3}
  if [ ! -x .venv/bin/python ]; then
    "$PY" -m venv .venv
  fi
  want="$extras $(cksum <pyproject.toml)"
  stamp=.venv/.interview-deck-installed
  # The build needs no extras: an install with the test extras serves it too.
  if [ -f "$stamp" ] && { grep -qxF "$want" "$stamp" ||
    { [ -z "$extras" ] && grep -q " $(cksum <pyproject.toml)\$" "$stamp"; }; }; then
    return 0
  fi
  # PYTHONWARNINGS: setuptools' editable-install warning is about other layouts, not ours.
  PYTHONWARNINGS=ignore .venv/bin/python -m pip install --quiet --disable-pip-version-check \
    -e ".$extras"
  echo "$want" >"$stamp"
}
