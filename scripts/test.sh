#!/usr/bin/env bash
# The whole test suite, with all set-up, on a fresh machine: `scripts/test.sh`.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo test --workspace --locked "$@"
scripts/python-tests.sh   # Python client (client/python) against the real server
