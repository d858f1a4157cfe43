#!/bin/sh
# Runs one libFuzzer target on a copy of its seed corpus for a time, keeping what it
# learns in build/fuzz/work-<name> and any crash in build/fuzz/artifacts/.
# Usage: fuzz/run.sh TARGET SEEDS SECONDS   e.g. fuzz/run.sh fuzz_image jpeg 1800
set -eu
ROOT=$(cd "$(dirname "$0")/.." && pwd)
T=${1:?target}; S=${2:?seed corpus name}; SECS=${3:-60}
B="$ROOT/build/fuzz"
[ -x "$B/$T" ] || { echo "fuzz: $B/$T not built (make fuzz)" >&2; exit 2; }
[ -d "$B/corpus-$S" ] || "$ROOT/fuzz/seeds.sh"
[ -d "$B/corpus-$S" ] || { echo "fuzz: no seed corpus $B/corpus-$S" >&2; exit 2; }
W="$B/work-$T-$S"
mkdir -p "$W" "$B/artifacts"
cp -n "$B/corpus-$S"/* "$W"/ 2>/dev/null || true
exec "$B/$T" -max_total_time="$SECS" -rss_limit_mb=2048 -timeout=10 -print_final_stats=1 \
    -artifact_prefix="$B/artifacts/$T-$S-" "$W"
