# Neural runtime speed: doppel vs TensorFlow.js on its WebAssembly backend
# (@tensorflow/tfjs-backend-wasm 4.22, SIMD, Node's default of one thread: what users of
# these models run today), same model, same input, same machine, same run. blazeface
# (fixed batch 1, 256 x 256) and faceres (224 x 224) at batch 1 and 32. Medians of RUNS.
# Usage: sh bench/bench_nn.sh BUILD_DIR
BUILD=${1:?usage: bench_nn.sh BUILD_DIR}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
MODELS=${DOPPEL_MODELS:-$ROOT/models}
RUNS=${BENCH_RUNS:-10}
[ -f "$MODELS/human-models/faceres.json" ] || { echo "bench_nn: no models (scripts/setup.sh)"; exit 1; }
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
have_tfjs=0
[ -d "$ROOT/tools/tfjs/node_modules/@tensorflow/tfjs-backend-wasm" ] && command -v node >/dev/null && have_tfjs=1
echo "model      batch  doppel_ms  tfjs_wasm_ms  wasm/doppel  doppel_ms/image"
run() { # name json side batch outputs
    mine=$(BENCH_THREADS=1 "$BUILD/bench/bench_nn" "$MODELS/human-models/$2" "$3" "$4" "$RUNS" "$5" | awk '{ print $2 }')
    theirs=-
    if [ "$have_tfjs" = 1 ]; then
        /usr/bin/python3 -c "import sys; sys.stdout.buffer.write(bytes(4 * $4 * $3 * $3 * 3))" >"$T/in.f32"
        theirs=$(node "$ROOT/tools/tfjs/run.js" --model "$MODELS/human-models/$2" --input "$T/in.f32" \
            --shape "$4,$3,$3,3" --outputs "$5" --out "$T/out" --backend wasm --runs "$RUNS" 2>/dev/null |
            awk '/median_ms/ { print $2 }')
    fi
    awk -v n="$1" -v b="$4" -v a="$mine" -v t="$theirs" 'BEGIN {
        printf "%-10s %5d  %9.2f  %12s  %11s  %15.2f\n", n, b, a, t, (t == "-" || t == "") ? "-" : sprintf("%.2fx", t / a), a / b }'
}
run blazeface blazeface.json 256 1 Identity,Identity_1,Identity_2,Identity_3
run faceres faceres.json 224 1 global_pooling/Mean,gender_pred/Sigmoid,age_pred/Softmax
run faceres faceres.json 224 32 global_pooling/Mean,gender_pred/Sigmoid,age_pred/Softmax
