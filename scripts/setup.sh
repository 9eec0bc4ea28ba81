#!/usr/bin/env bash
# Create .venv in the repository root and install rfwatch into it (editable).
#   scripts/setup.sh [run|test]   (test also installs the test and dev extras)
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$PY" -m venv .venv
extras=""
[ "${1:-run}" = test ] && extras="[dev]"
.venv/bin/python -m pip install -q --disable-pip-version-check --upgrade pip >/dev/null
.venv/bin/python -m pip install -q --disable-pip-version-check -e ".${extras}"
