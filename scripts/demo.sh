#!/usr/bin/env bash
# The README's main command: set up .venv and run the demo on the embedded stores.
#   scripts/demo.sh [rfwatch demo args...]
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh run
exec .venv/bin/rfwatch demo "$@"
