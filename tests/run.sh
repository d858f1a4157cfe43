#!/bin/sh
# Runs every test of the suite and prints one closing line:
#   tests: N passed, N failed, N skipped
# Usage: tests/run.sh BUILD_DIR   (e.g. build/rel; `make check` calls it)
#
# Each test program (C binaries in BUILD_DIR/tests, shell tests tests/test_*.sh) ends
# with "<suite>: N tests, N passed, N failed, N skipped". A program that exits non-zero
# without reporting a failure (a crash, a sanitizer report) counts as one failure.
set -u

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${1:?usage: tests/run.sh BUILD_DIR}
case "$BUILD" in /*) ;; *) BUILD="$ROOT/$BUILD" ;; esac
export DOPPEL_BIN="$BUILD/doppel"
export DOPPEL_ROOT="$ROOT"
: "${DOPPEL_MODELS:=$ROOT/models}"
export DOPPEL_MODELS
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1}"

passed=0
failed=0
skipped=0
failed_suites=""
log=$(mktemp)
trap 'rm -f "$log"' EXIT

if [ -z "${DOPPEL_TESTDATA:-}" ] || [ ! -d "${DOPPEL_TESTDATA:-}" ]; then
    echo "note: DOPPEL_TESTDATA is not a folder; tests on the shared photos will be skipped"
fi

run_one() {
    name=$1
    shift
    echo "== $name"
    "$@" >"$log" 2>&1
    rc=$?
    cat "$log"
    summary=$(grep -E '^[A-Za-z0-9_.-]+: [0-9]+ tests, [0-9]+ passed, [0-9]+ failed, [0-9]+ skipped$' "$log" | tail -n 1)
    if [ -z "$summary" ]; then
        echo "  FAIL $name: exited $rc without a summary line"
        failed=$((failed + 1))
        failed_suites="$failed_suites $name"
        return
    fi
    p=$(echo "$summary" | sed -E 's/.* ([0-9]+) passed.*/\1/')
    f=$(echo "$summary" | sed -E 's/.* ([0-9]+) failed.*/\1/')
    s=$(echo "$summary" | sed -E 's/.* ([0-9]+) skipped$/\1/')
    if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
        echo "  FAIL $name: exited $rc after reporting no failure"
        f=1
    fi
    passed=$((passed + p))
    failed=$((failed + f))
    skipped=$((skipped + s))
    [ "$f" -eq 0 ] || failed_suites="$failed_suites $name"
}

for t in "$BUILD"/tests/test_*; do
    case "$t" in *.o | *.d) continue ;; esac
    [ -x "$t" ] || continue
    run_one "$(basename "$t")" "$t"
done
for t in "$ROOT"/tests/test_*.sh; do
    [ -f "$t" ] || continue
    run_one "$(basename "$t" .sh)" sh "$t"
done

[ -z "$failed_suites" ] || echo "failed suites:$failed_suites"
echo "tests: $passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
