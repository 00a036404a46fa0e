#!/usr/bin/env bash
# The core specification tests on the minimum versions pyproject.toml declares
# (Flask 2.3, PyJWT 2.10, cryptography 41, urllib3 2.0.7), in a .venv-min of
# their own: what we claim to support is what we run. Tests that need the
# incumbent, the store servers or a browser run in scripts/test.sh on current
# versions.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -x .venv-min/bin/python ]; then
    python3 -m venv .venv-min
fi
.venv-min/bin/python -m pip install --quiet --disable-pip-version-check \
    "Flask==2.3.0" "Werkzeug==2.3.0" "PyJWT==2.10.0" "cryptography==41.0.0" "urllib3==2.0.7" \
    pytest hypothesis python-dateutil asgiref -e .
.venv-min/bin/python -m pytest -p no:cacheprovider -q \
    tests/test_api.py tests/test_tokens.py tests/test_authorization.py \
    tests/test_keysets.py tests/test_vectors.py tests/test_fuzz.py \
    tests/test_jwks_deadline.py tests/test_jwks_proxy.py "$@"
