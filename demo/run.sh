#!/usr/bin/env bash
# Set up (a .venv in the repository) and run the demo API on http://127.0.0.1:5000.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/venv.sh
venv_install .venv -e ".[demo]"
exec .venv/bin/python -m demo "$@"
