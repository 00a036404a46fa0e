#!/usr/bin/env bash
# Set up from nothing (a .venv in the repository) and run the whole suite:
# pytest (including the differential tests against Flask-JWT-Extended, and every
# example in docs/*.md), ruff, mypy --strict, the import layering (import-linter,
# contract in pyproject.toml), and the documentation site built with warnings as errors
# (scripts/docs.sh, in its own venv). About 10 minutes on 2 cores; arguments
# (bash scripts/test.sh tests/test_api.py -x) run those tests only, after the checks.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -x .venv/bin/python ]; then
    python3 -m venv .venv
fi
.venv/bin/python -m pip install --quiet --disable-pip-version-check -e '.[test,docs]'
# The real OAuth authorization server tests/test_oidc_provider.py runs (oidc-provider,
# on the machine's Node.js), at the versions tests/oidc/package-lock.json pins.
if [ ! -d tests/oidc/node_modules/oidc-provider ]; then
    (cd tests/oidc && npm ci --no-audit --no-fund --loglevel=error)
fi
.venv/bin/python -m ruff check .
.venv/bin/python -m ruff format --check .
.venv/bin/python -m mypy
.venv/bin/lint-imports --no-cache
if [ "$#" -eq 0 ]; then
    # The whole suite: branch coverage, subprocesses included, must stay >= 95%
    # ([tool.coverage] in pyproject.toml).
    .venv/bin/python -m pytest --cov --cov-report=term
    # The site, into a scratch folder, by scripts/docs.sh: in a venv with only
    # the "docs" extra (as Read the Docs builds it), not in .venv, whose test
    # packages could hide one the docs extra lacks.
    site="$(mktemp -d)"
    trap 'rm -rf "$site"' EXIT
    bash scripts/docs.sh "$site"
else
    .venv/bin/python -m pytest "$@"
fi
