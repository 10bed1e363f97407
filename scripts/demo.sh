#!/usr/bin/env bash
# The README's main-job command: build the bundled example program and verify what was written.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec python3 -m examples.demo "${@:-out}"
