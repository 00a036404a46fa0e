#!/usr/bin/env bash
# Set up (a .venv in the repository) and run the demo API on http://127.0.0.1:5000.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -x .venv/bin/python ]; then
    python3 -m venv .venv
fi
.venv/bin/python -m pip install --quiet --disable-pip-version-check -e ".[demo]"
exec .venv/bin/python -m demo "$@"
