#!/usr/bin/env bash
# The README's test command: install what the tests need, lint (ruff) and type-check (mypy) the code, then run the
# whole suite. Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
python3 -m ruff check --quiet .
python3 -m mypy
exec python3 -m pytest "$@"
