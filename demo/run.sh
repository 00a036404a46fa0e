#!/usr/bin/env bash
# Set up (a .venv in the repository, holding the "demo" extra) and run the
# demo API on http://127.0.0.1:5000. Arguments go to `python -m demo`:
#
#   bash demo/run.sh                 serve it, printing a curl walkthrough
#   bash demo/run.sh --port 8000     on another port (--db PATH: the SQLite file)
#   bash demo/run.sh --check         set up the same way, then log in, call, refresh
#                                    and log out through the app on a real server,
#                                    print each step, and exit 0 (all as expected) or 1
#
# DEMO_VENV names another venv directory (.ci/run gives it an empty one, so the
# check sees only what the "demo" extra installs).
set -euo pipefail
cd "$(dirname "$0")/.."
venv="${DEMO_VENV:-.venv}"
source scripts/venv.sh
venv_install "$venv" -e ".[demo]"
exec "$venv/bin/python" -m demo "$@"
