#!/usr/bin/env bash
# The whole test suite, with all set-up, on a fresh machine: `scripts/test.sh`.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo test --workspace --locked "$@"
scripts/python-tests.sh   # Python client (client/python) against the real server
# server/tests/proxy.rs passes without running when haproxy is missing:
# say so where it cannot be missed.
if [ -z "${PMM_HAPROXY:-}" ] && ! command -v haproxy >/dev/null 2>&1; then
    cat >&2 <<'BANNER'

######################################################################
## test.sh: haproxy NOT FOUND — server/tests/proxy.rs (sharding      ##
## behind HAProxy) was NOT RUN. Debian: apt-get install -y haproxy.  ##
######################################################################
BANNER
fi
