#!/usr/bin/env bash
# The Python client's tests (client/python) against the real server, run
# against the installed package: a fresh venv under the cargo target dir,
# the pinned requirements, then `pip install client/python` (not editable),
# and the tests run from a temporary directory where the source tree is not
# importable, so that a packaging mistake fails the suite. Also builds the
# server. Needs only python3 (3.11, with venv and pip), cargo, and PyPI.
#   scripts/python-tests.sh                     # every test
#   scripts/python-tests.sh ViewsTest resumes   # only tests whose names contain these
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
PYTHON=${PYTHON:-python3}
TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target}
case $TARGET_DIR in /*) ;; *) TARGET_DIR=$ROOT/$TARGET_DIR ;; esac
VENV=$TARGET_DIR/python-venv
CLIENT=$ROOT/client/python
PIP=(--quiet --disable-pip-version-check --no-input)

echo "python-tests: creating a fresh $VENV"
mkdir -p "$TARGET_DIR"
if ! "$PYTHON" -m venv --clear "$VENV"; then
    rm -rf "$VENV"
    echo "python-tests: '$PYTHON -m venv' failed (on Debian: apt-get install python3-venv)" >&2
    exit 1
fi
echo "python-tests: installing client/python/requirements.txt, then the package"
"$VENV/bin/python" -m pip install "${PIP[@]}" -r "$CLIENT/requirements.txt"
"$VENV/bin/python" -m pip install "${PIP[@]}" "$CLIENT"

echo "python-tests: building pmm-server"
cargo build -p pmm-server --locked --quiet
export PMM_SERVER_BIN=$TARGET_DIR/debug/pmm-server

WORK=$(mktemp -d "${TMPDIR:-/tmp}/pmm-python-tests.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
cd "$WORK"
PYTHONDONTWRITEBYTECODE=1 "$VENV/bin/python" "$CLIENT/tests/run.py" "$@"
