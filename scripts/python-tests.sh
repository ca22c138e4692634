#!/usr/bin/env bash
# The Python client's tests (client/python) against the real server, with all
# set-up: a venv under target/python-venv with the pinned requirements, the
# pmm.v1 stubs generated from proto/, and the server binary built by cargo.
# Needs only python3 (3.11, with venv and pip), cargo, and PyPI.
#   scripts/python-tests.sh            # every test
#   scripts/python-tests.sh ViewsTest  # unittest names/patterns are passed on
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
PYTHON=${PYTHON:-python3}
TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target}
case $TARGET_DIR in /*) ;; *) TARGET_DIR=$ROOT/$TARGET_DIR ;; esac
VENV=$TARGET_DIR/python-venv
CLIENT=$ROOT/client/python

if [ ! -x "$VENV/bin/python" ]; then
    echo "python-tests: creating $VENV"
    mkdir -p "$TARGET_DIR"
    if ! "$PYTHON" -m venv "$VENV"; then
        rm -rf "$VENV"
        echo "python-tests: '$PYTHON -m venv' failed (on Debian: apt-get install python3-venv)" >&2
        exit 1
    fi
fi
echo "python-tests: installing client/python/requirements.txt"
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check --no-input -r "$CLIENT/requirements.txt"
"$VENV/bin/python" "$CLIENT/generate.py"

echo "python-tests: building pmm-server"
cargo build -p pmm-server --locked --quiet
export PMM_SERVER_BIN=$TARGET_DIR/debug/pmm-server

cd "$CLIENT"
exec "$VENV/bin/python" test_pmm_client.py "$@"
