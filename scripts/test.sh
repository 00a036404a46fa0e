#!/usr/bin/env bash
# Set up from nothing (a .venv in the repository) and run the whole suite:
# pytest (including the differential tests against Flask-JWT-Extended), ruff, mypy --strict,
# and the import layering (import-linter, contract in pyproject.toml).
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -x .venv/bin/python ]; then
    python3 -m venv .venv
fi
.venv/bin/python -m pip install --quiet --disable-pip-version-check -e '.[test]'
.venv/bin/python -m ruff check .
.venv/bin/python -m ruff format --check .
.venv/bin/python -m mypy
.venv/bin/lint-imports --no-cache
if [ "$#" -eq 0 ]; then
    # The whole suite: branch coverage, subprocesses included, must stay >= 95%
    # ([tool.coverage] in pyproject.toml).
    .venv/bin/python -m pytest --cov --cov-report=term
else
    .venv/bin/python -m pytest "$@"
fi
