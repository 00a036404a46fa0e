#!/usr/bin/env bash
# Set up (the repository's .venv, and oidc-provider in tests/oidc) and run the
# resource-server example against a real OAuth authorization server.
set -euo pipefail
cd "$(dirname "$0")/../.."
if [ ! -x .venv/bin/python ]; then
    python3 -m venv .venv
fi
.venv/bin/python -m pip install --quiet --disable-pip-version-check -e .
if [ ! -d tests/oidc/node_modules/oidc-provider ]; then
    (cd tests/oidc && npm ci --no-audit --no-fund --loglevel=error)
fi
exec .venv/bin/python -m examples.resource_server.run
