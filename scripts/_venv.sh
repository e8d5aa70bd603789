# Shared by scripts/demo and scripts/test: make .venv and install into it.
# Usage: . scripts/_venv.sh REQUIREMENTS_FILE
set -euo pipefail
PYTHON=${PYTHON:-$(command -v python3.11 || command -v python3)}
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
.venv/bin/python -m pip install --quiet --disable-pip-version-check -r "$1"
# Compiled catalogues are build output; only the .po files are committed.
.venv/bin/pybabel -q compile -d voting/translations
