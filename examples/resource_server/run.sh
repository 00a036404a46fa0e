#!/usr/bin/env bash
# Set up (the repository's .venv, with the "crypto" extra: DPoP and the
# issuer's JWKS need it; and oidc-provider in tests/oidc, on Node.js and npm)
# and run the resource-server example against a real OAuth authorization
# server. EXAMPLE_VENV names another venv directory (.ci/run gives it an empty
# one, so the example runs with only what this script installs).
set -euo pipefail
cd "$(dirname "$0")/../.."
venv="${EXAMPLE_VENV:-.venv}"
source scripts/venv.sh
venv_install "$venv" -e ".[crypto]"
if [ ! -d tests/oidc/node_modules/oidc-provider ]; then
    (cd tests/oidc && npm ci --no-audit --no-fund --loglevel=error)
fi
exec "$venv/bin/python" -m examples.resource_server.run
