#!/usr/bin/env bash
# Set up (the repository's .venv) and run the two-service JWKS example.
set -euo pipefail
cd "$(dirname "$0")/../.."
if [ ! -x .venv/bin/python ]; then
    python3 -m venv .venv
fi
.venv/bin/python -m pip install --quiet --disable-pip-version-check -e .
exec .venv/bin/python -m examples.two_services.run
