#!/bin/sh
# Runs every benchmark binary in BUILD_DIR/bench and every bench/bench_*.sh.
# Usage: bench/run.sh BUILD_DIR   (`make bench` calls it)
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${1:?usage: bench/run.sh BUILD_DIR}
n=0
for b in "$BUILD"/bench/bench_*; do
    case "$b" in *.o | *.d) continue ;; esac
    [ -x "$b" ] || continue
    echo "== $(basename "$b")"
    "$b" || echo "bench: $(basename "$b") failed"
    n=$((n + 1))
done
for b in "$ROOT"/bench/bench_*.sh; do
    [ -f "$b" ] || continue
    echo "== $(basename "$b")"
    sh "$b" "$BUILD" || echo "bench: $(basename "$b") failed"
    n=$((n + 1))
done
echo "bench: $n benchmarks run"
