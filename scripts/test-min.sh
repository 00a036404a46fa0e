#!/usr/bin/env bash
# The core specification tests on the floors pyproject.toml declares: what we
# claim to support is what we run. Two environments of their own (git-ignored,
# kept between runs), each with Flask-JWT-Extended 4.7.1, the newest release
# that installs below PyJWT 2.11, for the differential tests on the same PyJWT:
#
# * .venv-min-floor: every declared floor at once, Flask 2.0 / Werkzeug 2.0,
#   PyJWT 2.8 (no 'sub' check), blinker 1.4, urllib3 2.0.7 and cryptography 41
#   (the crypto extra);
# * .venv-min-hmac: a Flask 2.2 app pinned to PyJWT 2.9 that signs with HS256
#   and has no cryptography installed: the key-pair tests skip themselves, and
#   tests/test_floors.py checks the ConfigurationError naming the extra.
#
# Tests that need the store servers or a browser run in scripts/test.sh on
# current versions. Extra arguments go to both pytest runs.
set -euo pipefail
cd "$(dirname "$0")/.."

TOOLS=(pytest hypothesis python-dateutil asgiref "flask-jwt-extended==4.7.1")

source scripts/venv.sh

setup() {  # setup DIR REQUIREMENT...
    local dir="$1"
    shift
    venv_install "$dir" "$@" "${TOOLS[@]}" -e .
}

setup .venv-min-floor "Flask==2.0.0" "Werkzeug==2.0.0" "PyJWT==2.8.0" "blinker==1.4" \
    "cryptography==41.0.0" "urllib3==2.0.7"
.venv-min-floor/bin/python -m pytest -p no:cacheprovider -q \
    tests/test_api.py tests/test_tokens.py tests/test_authorization.py \
    tests/test_keysets.py tests/test_vectors.py tests/test_differential.py \
    tests/test_floors.py tests/test_fuzz.py tests/test_jwks_deadline.py \
    tests/test_jwks_proxy.py "$@"

setup .venv-min-hmac "Flask==2.2.5" "Werkzeug==2.2.3" "PyJWT==2.9.0"
# Nothing may have brought cryptography in: this environment is the proof that
# an HMAC app installs and runs without it.
if .venv-min-hmac/bin/python -c "import cryptography" 2>/dev/null; then
    echo "cryptography is installed in .venv-min-hmac" >&2
    exit 1
fi
.venv-min-hmac/bin/python -m pytest -p no:cacheprovider -q \
    tests/test_api.py tests/test_tokens.py tests/test_authorization.py \
    tests/test_differential.py tests/test_floors.py "$@"
