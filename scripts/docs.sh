#!/usr/bin/env bash
# Build the documentation site from nothing: a .venv in the repository with
# the "docs" extra (Sphinx, MyST, furo), then Sphinx with warnings as errors
# and nitpicky references, as CI and Read the Docs build it.
# Usage: bash scripts/docs.sh [OUTPUT_DIR]   (default: docs/_build/html)
set -euo pipefail
cd "$(dirname "$0")/.."
out="${1:-docs/_build/html}"
if [ ! -x .venv/bin/python ]; then
    python3 -m venv .venv
fi
.venv/bin/python -m pip install --quiet --disable-pip-version-check -e '.[docs]'
.venv/bin/python -m sphinx -W -n --keep-going -q -b html docs "$out"
echo "Built: $out/index.html"
