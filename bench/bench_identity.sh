# Identity network speed: dlib's face recognition ResNet (0.54 GFLOP per 150 x 150 face)
# in doppel's runtime (built in C from face-api's manifest, nn/dlib.c) vs the same network
# written with TensorFlow.js ops (tools/tfjs/dlib.js) on the WebAssembly backend (SIMD,
# Node's one thread: how face-api users run it) vs PyTorch (Debian's python3-torch, the
# port in bench/torch_dlib.py, frozen and optimize_for_inference'd), one face and a
# batch of 32, doppel and PyTorch at 1 and 2 threads. doppel runs a batch as its separate
# faces spread over its threads (nn_model_run_batch). Same machine, same run; medians of
# RUNS; the load average is printed before and after, since other work on the machine
# shows in the times.
# Usage: sh bench/bench_identity.sh BUILD_DIR
#
# Both peers are checked against each other and against doppel in tests/test_identity.c
# (doppel vs TFJS) and by `bench/torch_dlib.py --check` (PyTorch vs TFJS).
BUILD=${1:?usage: bench_identity.sh BUILD_DIR}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
# Bring the benchmark programs up to date first (make's default goal does not build them).
make -s "$BUILD/bench/bench_nn" >/dev/null 2>&1 || true
MODELS=${DOPPEL_MODELS:-$ROOT/models}
MANIFEST=$MODELS/face-api/face_recognition_model-weights_manifest.json
RUNS=${BENCH_RUNS:-10}
[ -f "$MANIFEST" ] || { echo "bench_identity: no models (scripts/setup.sh)"; exit 1; }
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
have_tfjs=0
[ -d "$ROOT/tools/tfjs/node_modules/@tensorflow/tfjs-backend-wasm" ] && command -v node >/dev/null && have_tfjs=1
have_torch=0
/usr/bin/python3 -c 'import torch' 2>/dev/null && have_torch=1
/usr/bin/python3 -c "import sys; sys.stdout.buffer.write(bytes(range(256)) * 264)" >"$T/face.rgb"
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"

doppel_ms() { # THREADS BATCH
    BENCH_THREADS=$1 "$BUILD/bench/bench_nn" "$MANIFEST" 150 "$2" "$RUNS" descriptor |
        awk '/^median_ms/ { print $2 }'
}
tfjs_ms() { # BATCH
    [ "$have_tfjs" = 1 ] || { echo -; return; }
    node "$ROOT/tools/tfjs/dlib.js" --manifest "$MANIFEST" --faces "$T/face.rgb" --count 1 \
        --out "$T/js.f32" --backend wasm --runs "$RUNS" --batch "$1" 2>/dev/null |
        awk '/^median_ms/ { print $2 }'
}
torch_ms() { # THREADS BATCH
    [ "$have_torch" = 1 ] || { echo -; return; }
    /usr/bin/python3 "$ROOT/bench/torch_dlib.py" --manifest "$MANIFEST" --faces "$T/face.rgb" \
        --count 1 --out "$T/torch.f32" --threads "$1" --runs "$RUNS" --batch "$2" 2>/dev/null |
        awk '/^median_ms/ { print $2 }'
}
gflop=$("$BUILD/bench/bench_nn" "$MANIFEST" 150 1 1 descriptor | awk '/^gflop / { print $2 }')
echo
echo "batch  gflop  doppel_1t  doppel_2t  tfjs_wasm  torch_1t  torch_2t  wasm/d1  torch1/d1  torch2/d2   GFLOP/s: d1    d2  wasm  t1    t2"
for b in 1 32; do
    echo "$b $(doppel_ms 1 $b) $(doppel_ms 2 $b) $(tfjs_ms $b) $(torch_ms 1 $b) $(torch_ms 2 $b)" |
        awk -v g="$gflop" '
        function ms(x) { return x == "-" || x == "" ? "-" : sprintf("%.2f", x) }
        function ratio(x, y) { return x == "-" || x == "" || y == "" ? "-" : sprintf("%.2fx", x / y) }
        function rate(x) { return x == "-" || x == "" ? "-" : sprintf("%.0f", g * $1 / (x / 1e3)) }
        { printf "%5d  %5.2f  %9s  %9s  %9s  %8s  %8s  %7s  %9s  %9s  %14s %5s %5s %5s %5s\n", $1,
            g * $1, ms($2), ms($3), ms($4), ms($5), ms($6), ratio($4, $2), ratio($5, $2),
            ratio($6, $3), rate($2), rate($3), rate($4), rate($5), rate($6) }'
done
echo
echo "Times are milliseconds per batch (medians of $RUNS); ratios above 1 mean doppel is faster."
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
