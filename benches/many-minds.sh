#!/usr/bin/env bash
# Many minds on one server (BENCHMARKS.md, "Many minds"), with pmm-load:
#   1. 1,000 open minds of 1,000 events: RSS and open files of the server,
#      GetMetrics on a random mind against the no-op RPC;
#   2. 10,000 minds of 100 events on disk, --max-open-minds 1000, GetMetrics
#      uniformly at random (minds closed and opened all the time);
#   3. appends to one mind, and spread over 100 minds, at c=32;
#   4. the first GetMetrics on a closed mind of 100,000 events (open-mind),
#      once from the full rebuild and once from the fold snapshot saved
#      when it was closed.
#
#   benches/many-minds.sh [OUT]          (default OUT: target/bench-minds)
#
# Environment: DURATION (seconds per measurement, 5), BUILD=0 (reuse the
# release binaries), PORT (50500).
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${1:-target/bench-minds}
DURATION=${DURATION:-5}
PORT=${PORT:-50500}
ADDR=127.0.0.1:$PORT

if [ "${BUILD:-1}" != 0 ]; then
    cargo build --release --locked -p pmm-server -p pmm-bench
fi
rm -rf "$OUT" && mkdir -p "$OUT/bin"
cp target/release/pmm-server target/release/pmm-load target/release/pmm-gen "$OUT/bin/"
OUT=$(cd "$OUT" && pwd)
BIN=$OUT/bin

server_pid=
stop_server() {
    if [ -n "$server_pid" ]; then
        kill -TERM "$server_pid" 2>/dev/null || true
        wait "$server_pid" 2>/dev/null || true
        server_pid=
    fi
}
trap stop_server EXIT INT TERM

# serve DATA_DIR FLAGS...: a server on a data directory, waited for.
serve() {
    local data=$1
    shift
    "$BIN/pmm-server" --addr "$ADDR" --data-dir "$data" --backup-dir "$OUT/backups" "$@" \
        >>"$OUT/server.log" 2>&1 &
    server_pid=$!
    for _ in $(seq 1 600); do
        if "$BIN/pmm-load" --addr "$ADDR" -s noop -c 1 -n 1 >/dev/null 2>&1; then return; fi
        sleep 0.1
    done
    echo "many-minds.sh: the server did not start (see $OUT/server.log)" >&2
    exit 1
}

# farm DIR COUNT LEDGER: COUNT minds m00000.. holding a copy of LEDGER.
farm() {
    local dir=$1 count=$2 ledger=$3
    mkdir -p "$dir"
    for i in $(seq 0 $((count - 1))); do
        local name
        name=$(printf 'm%05d' "$i")
        mkdir -p "$dir/$name"
        cp "$ledger" "$dir/$name/pmm.db"
    done
}

# memory PID: RSS and open files of the server.
memory() {
    local rss fds
    rss=$(awk '/^VmRSS/ {print $2}' "/proc/$1/status")
    fds=$(find "/proc/$1/fd" -mindepth 1 -maxdepth 1 | wc -l)
    echo "rss_kb=$rss open_files=$fds"
}

load() { "$BIN/pmm-load" --addr "$ADDR" --server-pid "$server_pid" "$@"; }

echo "== ledgers"
"$BIN/pmm-gen" --events 1000 --seed 1 --format db --server-schema --out "$OUT/1k.db"
"$BIN/pmm-gen" --events 100 --seed 2 --format db --server-schema --out "$OUT/100.db"
"$BIN/pmm-gen" --events 100000 --seed 3 --format db --server-schema --out "$OUT/100k.db"

echo "== 1. 1,000 open minds of 1,000 events"
farm "$OUT/minds-1k" 1000 "$OUT/1k.db"
serve "$OUT/minds-1k" --max-open-minds 1001
echo "default only: $(memory "$server_pid")"
# GetMetrics on each mind in turn: every one opened (and kept: 1,001 fit).
load --minds 1000 -s open-mind -c 1 -n 1000 --json "$OUT/open-all.json" >"$OUT/open-all.txt"
echo "1,000 open: $(memory "$server_pid")"
load --minds 1000 -s noop,get-metrics -c 1,32 -d "$DURATION" --json "$OUT/open-1k.json" | tee "$OUT/open-1k.txt"
echo "after the load: $(memory "$server_pid")"
stop_server

echo "== 2. 10,000 minds on disk, --max-open-minds 1000, uniform random"
farm "$OUT/minds-10k" 10000 "$OUT/100.db"
serve "$OUT/minds-10k" --max-open-minds 1000
load --minds 10000 -s get-metrics -c 1,32 -d "$DURATION" --json "$OUT/spread-10k.json" | tee "$OUT/spread-10k.txt"
echo "after: $(memory "$server_pid")"
stop_server

echo "== 3. appends: one mind, then spread over 100 minds, c=32"
mkdir -p "$OUT/appends"
serve "$OUT/appends" --create-minds-on-append
load -s append -c 32 -d "$DURATION" --json "$OUT/append-1.json" | tee "$OUT/append-1.txt"
load --minds 100 --prepare 1 -s append -c 32 -d "$DURATION" --json "$OUT/append-100.json" | tee "$OUT/append-100.txt"
stop_server

echo "== 4. the first GetMetrics on a closed mind of 100,000 events"
farm "$OUT/minds-100k" 20 "$OUT/100k.db"
serve "$OUT/minds-100k" --max-open-minds 4
# First round: no snapshot yet, every open a full rebuild (then saved).
load --minds 20 -s open-mind -c 1 -n 20 --json "$OUT/open-100k-rebuild.json" | tee "$OUT/open-100k-rebuild.txt"
# Later rounds: each mind was closed with its snapshot saved.
load --minds 20 -s open-mind -c 1 -n 60 --json "$OUT/open-100k-snapshot.json" | tee "$OUT/open-100k-snapshot.txt"
stop_server
echo "done: $OUT"
