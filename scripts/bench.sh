#!/usr/bin/env bash
# The benchmark, in one command: builds the release binaries, generates a
# deterministic ledger (pmm-gen), then RUNS times starts the real pmm-server
# on a fresh copy of it (cold start and peak RSS measured) and runs pmm-load
# over every scenario; prints the median of the runs as a Markdown table
# with the issue-5 targets checked. Then the append scenarios again with
# durability FULL.
#
#   scripts/bench.sh                      # 100,000 events
#   EVENTS=1000000 scripts/bench.sh       # 1M events
#   BASELINE=target/bench/results-100000.json EVENTS=1000000 scripts/bench.sh
#
# Settings (environment): EVENTS (100000), SEED (1), RUNS (3), DURATION
# seconds per scenario and concurrency (5), CONCURRENCY (1,32), SCENARIOS
# (all), OUT (target/bench) for everything written, BUILD=0 to reuse the
# binaries of the last run there ($OUT/bin), FULL=0 to skip the
# durability-FULL runs, BASELINE (BASELINE_FULL) an earlier results JSON to
# compare the NORMAL (FULL) medians with. Extra arguments go to every
# pmm-load run. Output: the tables on stdout; each run's table and JSON,
# the medians' JSON and the server logs in $OUT.
set -euo pipefail
cd "$(dirname "$0")/.."

EVENTS=${EVENTS:-100000}
SEED=${SEED:-1}
RUNS=${RUNS:-3}
DURATION=${DURATION:-5}
CONCURRENCY=${CONCURRENCY:-1,32}
SCENARIOS=${SCENARIOS:-}
FULL=${FULL:-1}
BASELINE=${BASELINE:-}
OUT=${OUT:-target/bench}
BIN=$OUT/bin

if [ "${BUILD:-1}" != "0" ]; then
    cargo build --release --locked -p pmm-bench -p pmm-server >&2
    # Run copies, so that a rebuild during the run cannot swap the binaries;
    # the commit they were built from goes into every report.
    mkdir -p "$BIN"
    cp target/release/pmm-server target/release/pmm-load target/release/pmm-gen "$BIN/"
    git rev-parse HEAD > "$BIN/commit" 2>/dev/null || echo unknown > "$BIN/commit"
    if [ -n "$(git status --porcelain --untracked-files=no 2>/dev/null)" ]; then
        echo 1 > "$BIN/dirty"
    else
        echo 0 > "$BIN/dirty"
    fi
fi
PMM_BENCH_COMMIT=$(cat "$BIN/commit")
PMM_BENCH_DIRTY=$(cat "$BIN/dirty")
export PMM_BENCH_COMMIT PMM_BENCH_DIRTY

LEDGER="$OUT/ledger-$EVENTS-seed$SEED.db"
if [ ! -f "$LEDGER" ]; then
    rm -f "$LEDGER.tmp" "$LEDGER.tmp-wal" "$LEDGER.tmp-shm"
    # With the server's own schema already added: the cold start measured is
    # a restart, not the one-time migration of a reference-made ledger.
    "$BIN/pmm-gen" --events "$EVENTS" --seed "$SEED" --format db --server-schema \
        --out "$LEDGER.tmp" >&2
    for suffix in -wal -shm; do
        if [ -e "$LEDGER.tmp$suffix" ]; then mv "$LEDGER.tmp$suffix" "$LEDGER$suffix"; fi
    done
    mv "$LEDGER.tmp" "$LEDGER"
fi

# The server writes to its ledger: each run gets a fresh copy.
RUN="$OUT/run-$EVENTS.db"
fresh_copy() {
    # The anchor too: the last run's head anchor names rows this copy does
    # not have, and the server would (rightly) refuse to write it.
    # And the fold snapshot: the cold start measured is a full rebuild.
    rm -f "$RUN" "$RUN-wal" "$RUN-shm" "$RUN-anchor" "$RUN-snapshot"
    cp "$LEDGER" "$RUN"
    if [ -e "$LEDGER-wal" ]; then cp "$LEDGER-wal" "$RUN-wal"; fi
    # Written back now, so that flushing the copy's dirty pages does not
    # compete with the cold start being measured (a server restarting on
    # its own ledger has none).
    sync "$RUN"*
}

# runs NAME ARGS...: RUNS runs of pmm-load, then their medians.
runs() {
    local name="$1"
    shift
    local jsons=()
    for i in $(seq 1 "$RUNS"); do
        fresh_copy
        echo "pmm-load: $name, run $i of $RUNS" >&2
        "$BIN/pmm-load" --spawn-server --server-bin "$BIN/pmm-server" --db "$RUN" \
            --duration "$DURATION" --json "$OUT/$name-run$i.json" \
            --server-log "$OUT/$name-run$i.log" "$@" > "$OUT/$name-run$i.md"
        jsons+=("$OUT/$name-run$i.json")
    done
    local combine=(--combine "${jsons[@]}" --json "$OUT/$name.json" --quiet)
    if [ -n "$CMP" ]; then combine+=(--baseline "$CMP"); fi
    "$BIN/pmm-load" "${combine[@]}"
}

echo "## $EVENTS events, durability NORMAL"
echo
normal=(--concurrency "$CONCURRENCY")
if [ -n "$SCENARIOS" ]; then normal+=(--scenarios "$SCENARIOS"); fi
CMP=$BASELINE runs "results-$EVENTS" "${normal[@]}" "$@"

if [ "$FULL" != "0" ]; then
    echo
    echo "## $EVENTS events, durability FULL (appends at concurrency 32)"
    echo
    CMP=${BASELINE_FULL:-} runs "results-$EVENTS-full" --durability full --concurrency 32 \
        --scenarios noop,append,append-batch "$@"
fi
rm -f "$RUN" "$RUN-wal" "$RUN-shm" "$RUN-anchor"
