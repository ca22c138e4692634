#!/usr/bin/env bash
# Through the proxy vs direct, side by side (BENCHMARKS.md, "Through the
# proxy"): one pmm-server, HAProxy in front of it with deploy/haproxy.cfg.in,
# and pmm-load run alternately against the server and through the proxy,
# RUNS times each, on the same server process; then the medians of each,
# the proxied table with "÷ prev" columns = through the proxy ÷ direct.
#
#   deploy/bench-proxy.sh [OUT]      (default OUT: target/bench-proxy)
#
# Environment: RUNS (3), DURATION (seconds per scenario and concurrency, 3),
# SCENARIOS (noop,get-metrics,append), CONCURRENCY (1,32), PORT (50300: the
# proxy; the server on PORT+1), MINDS (empty: the mind `default`, no header;
# N: pmm-load --minds N --prepare 10, for a server that creates minds on
# Append), SERVER_ARGS (more pmm-server flags), BUILD=0 (reuse the release
# binaries). Needs haproxy on PATH.
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${1:-target/bench-proxy}
RUNS=${RUNS:-3}
DURATION=${DURATION:-3}
SCENARIOS=${SCENARIOS:-noop,get-metrics,append}
CONCURRENCY=${CONCURRENCY:-1,32}
PORT=${PORT:-50300}
MINDS=${MINDS:-}
SERVER_ARGS=${SERVER_ARGS:-}

if [ "${BUILD:-1}" != 0 ]; then
    cargo build --release --locked -p pmm-server -p pmm-bench
fi
command -v haproxy >/dev/null || { echo "bench-proxy.sh: haproxy not found" >&2; exit 1; }
rm -rf "$OUT" && mkdir -p "$OUT/bin" "$OUT/data"
cp target/release/pmm-server target/release/pmm-load "$OUT/bin/"
OUT=$(cd "$OUT" && pwd)

pids=()
stop() { for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap stop EXIT INT TERM

server_addr=127.0.0.1:$((PORT + 1))
proxy_addr=127.0.0.1:$PORT
if [ -n "$MINDS" ]; then
    # shellcheck disable=SC2086
    "$OUT/bin/pmm-server" --addr "$server_addr" --data-dir "$OUT/data" --backup-dir "$OUT/backups" \
        $SERVER_ARGS >"$OUT/server.log" 2>&1 &
else
    # shellcheck disable=SC2086
    "$OUT/bin/pmm-server" --addr "$server_addr" --db "$OUT/data/pmm.db" $SERVER_ARGS >"$OUT/server.log" 2>&1 &
fi
server_pid=$!
pids+=("$server_pid")
sed -e "s#@BIND@#$proxy_addr#" -e "s#@RUNDIR@#$OUT#" deploy/haproxy.cfg.in |
    SERVERS="server s1 $server_addr id 1 proto h2" \
        awk '$1 == "@SERVERS@" { printf "    %s\n", ENVIRON["SERVERS"]; next } { print }' >"$OUT/haproxy.cfg"
haproxy -c -q -f "$OUT/haproxy.cfg"
haproxy -db -f "$OUT/haproxy.cfg" >"$OUT/haproxy.log" 2>&1 &
haproxy_pid=$!
pids+=("$haproxy_pid")
sleep 1

minds=()
if [ -n "$MINDS" ]; then minds=(--minds "$MINDS"); fi
prepared=0
for i in $(seq 1 "$RUNS"); do
    for via in direct proxy; do
        addr=$server_addr
        [ $via = proxy ] && addr=$proxy_addr
        prepare=()
        if [ -n "$MINDS" ] && [ $prepared = 0 ]; then prepare=(--prepare 10); prepared=1; fi
        echo "bench-proxy.sh: run $i, $via ($addr)"
        "$OUT/bin/pmm-load" --addr "$addr" --server-pid "$server_pid" "${minds[@]}" "${prepare[@]}" \
            -s "$SCENARIOS" -c "$CONCURRENCY" --duration "$DURATION" --quiet \
            --json "$OUT/$via-$i.json" >"$OUT/$via-$i.md"
    done
done
"$OUT/bin/pmm-load" --combine "$OUT"/direct-*.json --json "$OUT/direct.json" >"$OUT/direct.md"
"$OUT/bin/pmm-load" --combine "$OUT"/proxy-*.json --baseline "$OUT/direct.json" \
    --json "$OUT/proxy.json" | tee "$OUT/proxy.md"
echo "bench-proxy.sh: haproxy CPU $(awk '{print ($14+$15)/100 " s"}' /proc/$haproxy_pid/stat) over the run; tables in $OUT"
