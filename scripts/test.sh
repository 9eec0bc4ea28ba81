#!/usr/bin/env bash
# The README's test command: set up .venv, start the services, run every test, stop them.
#   scripts/test.sh [pytest args...]
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh test
scripts/services.sh start
trap 'scripts/services.sh stop' EXIT
eval "$(scripts/services.sh env)"
.venv/bin/ruff check .
.venv/bin/python -m pytest "$@"
