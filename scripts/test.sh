#!/usr/bin/env bash
# Set up from nothing (a .venv in the repository) and run the whole suite:
# pytest (including the differential tests against Flask-JWT-Extended, and every
# example in docs/*.md), ruff, mypy --strict, the import layering (import-linter,
# contract in pyproject.toml), and the documentation site built with warnings as errors
# (scripts/docs.sh, in its own venv).
#
#   bash scripts/test.sh             every check, and every test but those marked
#                                    slow (a few minutes)
#   bash scripts/test.sh --slow      the same, then the tests marked slow: the
#                                    processes, the browser, the load run, the
#                                    other projects' suites (what CI runs)
#   bash scripts/test.sh tests/x.py  the checks, then those tests only (any
#                                    pytest arguments)
set -euo pipefail
cd "$(dirname "$0")/.."
slow=0
if [ "${1:-}" = "--slow" ]; then
    slow=1
    shift
fi
source scripts/venv.sh
# Installed again only when pyproject.toml changed since the last install.
stamp="$(sha256sum pyproject.toml | cut -d' ' -f1)"
if [ "$(cat .venv/.installed 2>/dev/null)" != "$stamp" ]; then
    venv_install .venv -e '.[test,docs]'
    echo "$stamp" >.venv/.installed
fi
# The real OAuth authorization server tests/test_oidc_provider.py runs (oidc-provider,
# on the machine's Node.js), at the versions tests/oidc/package-lock.json pins.
if [ ! -d tests/oidc/node_modules/oidc-provider ]; then
    (cd tests/oidc && npm ci --no-audit --no-fund --loglevel=error)
fi
.venv/bin/python -m ruff check .
.venv/bin/python -m ruff format --check .
.venv/bin/lint-imports --no-cache
if [ "$#" -eq 0 ]; then
    # mypy and the site run at the lowest priority beside pytest: they use the
    # moments its workers wait (on servers, subprocesses, sleeps) and take
    # next to no time from them otherwise. Their output is shown once pytest
    # is done, and pytest's summary line again last. The site is built by
    # scripts/docs.sh, into a scratch folder, in a venv with only the "docs"
    # extra (as Read the Docs builds it), not in .venv, whose test packages
    # could hide one the docs extra lacks.
    scratch="$(mktemp -d)"
    trap 'rm -rf "$scratch"' EXIT
    nice -n 19 .venv/bin/python -m mypy >"$scratch/mypy.log" 2>&1 &
    mypy=$!
    nice -n 19 bash scripts/docs.sh "$scratch/site" >"$scratch/sphinx.log" 2>&1 &
    sphinx=$!
    failed=0
    # Every test not marked slow, on every core (pytest-xdist), with branch
    # coverage, subprocesses included, which must stay >= 95% ([tool.coverage]
    # in pyproject.toml).
    .venv/bin/python -m pytest -n auto -m "not slow" --cov --cov-report=term |
        tee "$scratch/pytest.log" || failed=1
    echo "--- mypy"
    wait "$mypy" || failed=1
    cat "$scratch/mypy.log"
    echo "--- documentation site (scripts/docs.sh)"
    wait "$sphinx" || failed=1
    cat "$scratch/sphinx.log"
    echo "--- pytest"
    tail -n 1 "$scratch/pytest.log"
    if [ "$slow" = 1 ]; then
        echo "--- pytest, the tests marked slow"
        .venv/bin/python -m pytest -n auto -m slow || failed=1
    fi
    exit "$failed"
else
    .venv/bin/python -m mypy
    .venv/bin/python -m pytest "$@"
fi
