#!/usr/bin/env bash
# Runs every fuzz target of fuzz/ for a bounded time and fails if any finds a
# crash or a broken property:
#
#   scripts/fuzz.sh [SECONDS] [TARGET...]     (default: 60 s, every target)
#
# Needs the nightly toolchain (`rustup toolchain install nightly`); installs
# cargo-fuzz from crates.io if it is missing. Each target starts from its
# committed seeds (fuzz/corpus/<target>/, read only) and the inputs earlier
# runs found (fuzz/corpus-run/<target>/, not committed); a failing input is
# written to fuzz/artifacts/<target>/ and reproduced with
#   cargo +nightly fuzz run <target> fuzz/artifacts/<target>/<file>
# Extra libFuzzer flags may be given in FUZZ_FLAGS (e.g. "-jobs=2").
# The targets and what they assert: RELIABILITY.md, "Fuzzing".
set -euo pipefail
cd "$(dirname "$0")/.."

seconds="${1:-60}"
[[ $# -gt 0 ]] && shift
if ! [[ "$seconds" =~ ^[0-9]+$ ]] || [[ "$seconds" -eq 0 ]]; then
    echo "usage: scripts/fuzz.sh [SECONDS] [TARGET...]" >&2
    exit 2
fi

if ! rustup run nightly rustc --version >/dev/null 2>&1; then
    echo "fuzzing needs the nightly toolchain: rustup toolchain install nightly" >&2
    exit 1
fi
if ! cargo fuzz --version >/dev/null 2>&1; then
    cargo install cargo-fuzz --locked
fi

if [[ $# -gt 0 ]]; then
    targets=("$@")
else
    mapfile -t targets < <(cargo +nightly fuzz list)
fi

root="$(pwd)/fuzz"
failed=()
for target in "${targets[@]}"; do
    run="$root/corpus-run/$target"
    mkdir -p "$run" "$root/corpus/$target"
    log="$run.log"
    echo "== $target: ${seconds}s (log: fuzz/corpus-run/$target.log)"
    # -timeout: one input taking over 10 s is a hang; -rss_limit_mb: a
    # leak or a blow-up fails instead of eating the shared machine.
    # shellcheck disable=SC2086
    if cargo +nightly fuzz run "$target" "$run" "$root/corpus/$target" -- \
        -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
        -print_final_stats=1 ${FUZZ_FLAGS:-} >"$log" 2>&1; then
        grep -E '^Done [0-9]+ runs' "$log" || true
    else
        echo "!! $target failed; the end of its log:"
        tail -n 40 "$log"
        failed+=("$target")
    fi
done

if [[ ${#failed[@]} -gt 0 ]]; then
    echo "fuzzing found failures in: ${failed[*]} (inputs in fuzz/artifacts/)" >&2
    exit 1
fi
echo "fuzzing: ${#targets[@]} target(s), ${seconds}s each, no failure"
