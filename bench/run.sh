#!/bin/sh
# Runs every benchmark script bench/bench_*.sh (each drives its C binary from
# BUILD_DIR/bench and its peer in the same run, and prints ratios).
# Usage: bench/run.sh BUILD_DIR   (`make bench` calls it)
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${1:?usage: bench/run.sh BUILD_DIR}
case "$BUILD" in /*) ;; *) BUILD="$ROOT/$BUILD" ;; esac
n=0
failed=0
for b in "$ROOT"/bench/bench_*.sh; do
    [ -f "$b" ] || continue
    echo "== $(basename "$b" .sh)"
    sh "$b" "$BUILD" || { echo "bench: $(basename "$b") failed"; failed=$((failed + 1)); }
    n=$((n + 1))
done
echo "bench: $n benchmarks run, $failed failed"
[ "$failed" -eq 0 ]
