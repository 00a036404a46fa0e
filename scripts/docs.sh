#!/usr/bin/env bash
# Build the documentation site from nothing, as Read the Docs does: a venv of
# its own holding only the "docs" extra (Sphinx, MyST, furo, pytest for the
# plugin's autodoc), then Sphinx with warnings as errors and nitpicky
# references. The venv is .venv-docs in the repository, or $DOCS_VENV (CI
# points it at a new empty directory, so the build never sees a package the
# extra does not declare).
# Usage: bash scripts/docs.sh [OUTPUT_DIR]   (default: docs/_build/html)
set -euo pipefail
cd "$(dirname "$0")/.."
out="${1:-docs/_build/html}"
venv="${DOCS_VENV:-.venv-docs}"
source scripts/venv.sh
venv_install "$venv" -e '.[docs]'
"$venv/bin/python" -m sphinx -W -n --keep-going -q -b html docs "$out"
echo "Built: $out/index.html"
