#!/usr/bin/env bash
# Set up (the repository's .venv, with the "crypto" extra: the services sign
# with ES256 key pairs) and run the two-service JWKS example. EXAMPLE_VENV
# names another venv directory (.ci/run gives it an empty one, so the example
# runs with only what this script installs).
set -euo pipefail
cd "$(dirname "$0")/../.."
venv="${EXAMPLE_VENV:-.venv}"
source scripts/venv.sh
venv_install "$venv" -e ".[crypto]"
exec "$venv/bin/python" -m examples.two_services.run
