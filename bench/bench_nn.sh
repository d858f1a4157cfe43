# Neural runtime speed: doppel vs TensorFlow.js on its WebAssembly backend
# (@tensorflow/tfjs-backend-wasm 4.22, SIMD, Node's default of one thread: what users of
# these models run today) and vs PyTorch (Debian's python3-torch 1.13, oneDNN) running
# the same graph through bench/torch_nn.py, traced and frozen with
# torch.jit.optimize_for_inference, at 1 and 2 threads (OpenMP, OpenBLAS and MKL pinned
# alike). Same model, same input, same machine, same run. blazeface (fixed batch 1,
# 256 x 256) and faceres (224 x 224) at batch 1 and 32, doppel too at 1 and 2 threads.
# Medians of RUNS. gflop is 2 x the multiply-adds of the convolutions and matrix
# products, per batch; d2_gflops is doppel's rate on 2 threads, of_sgemm_2t that rate
# against OpenBLAS sgemm on 2 threads measured at the start of the same run.
# Usage: sh bench/bench_nn.sh BUILD_DIR
#
# The torch peer is checked against TFJS's CPU backend on a photo (max |diff| within
# doppel's test tolerance 1e-4 + 1e-3 |ref|) with: sh bench/torch_check.sh
BUILD=${1:?usage: bench_nn.sh BUILD_DIR}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
# Bring the benchmark programs up to date first (make's default goal does not build them).
make -s "$BUILD/bench/bench_nn" "$BUILD/bench/bench_gemm" >/dev/null 2>&1 || true
MODELS=${DOPPEL_MODELS:-$ROOT/models}
RUNS=${BENCH_RUNS:-10}
[ -f "$MODELS/human-models/faceres.json" ] || { echo "bench_nn: no models (scripts/setup.sh)"; exit 1; }
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
have_tfjs=0
[ -d "$ROOT/tools/tfjs/node_modules/@tensorflow/tfjs-backend-wasm" ] && command -v node >/dev/null && have_tfjs=1
have_torch=0
/usr/bin/python3 -c 'import torch' 2>/dev/null && have_torch=1
# torch THREADS json side batch outputs: prints "median_ms gflop" of bench/torch_nn.py.
torch_run() {
    /usr/bin/python3 "$ROOT/bench/torch_nn.py" --model "$MODELS/human-models/$2" --input "$T/in.f32" \
        --shape "$4,$3,$3,3" --outputs "$5" --out "$T/torch" --threads "$1" --runs "$RUNS" 2>/dev/null |
        awk '/^gflop/ { g = $2 } /^median_ms/ { m = $2 } END { print (m == "" ? "-" : m), (g == "" ? "-" : g) }'
}
# The ceiling: OpenBLAS sgemm on 1024^3 at 1 and 2 threads, and doppel's packed kernel
# on the same product.
"$BUILD/bench/bench_gemm" 1024 1024 1024 5 2 >"$T/gemm"
sed 's/^/sgemm 1024^3: /' "$T/gemm"
peak=$(awk '$2 == 2 { print $4 }' "$T/gemm")
# doppel THREADS json side batch outputs: prints "median_ms gflops".
doppel_run() {
    BENCH_THREADS=$1 "$BUILD/bench/bench_nn" "$MODELS/human-models/$2" "$3" "$4" "$RUNS" "$5" |
        awk '/^median_ms/ { m = $2 } /^gflops/ { g = $2 } END { print m, g }'
}
echo
echo "model      batch  gflop  doppel_1t  doppel_2t  tfjs_wasm  torch_1t  torch_2t   wasm/d1  torch1/d1  torch2/d2  d2_gflops  of_sgemm_2t"
run() { # name json side batch outputs
    d1=$(doppel_run 1 "$2" "$3" "$4" "$5")
    d2=$(doppel_run 2 "$2" "$3" "$4" "$5")
    /usr/bin/python3 -c "import sys; sys.stdout.buffer.write(bytes(4 * $4 * $3 * $3 * 3))" >"$T/in.f32"
    theirs=-
    if [ "$have_tfjs" = 1 ]; then
        theirs=$(node "$ROOT/tools/tfjs/run.js" --model "$MODELS/human-models/$2" --input "$T/in.f32" \
            --shape "$4,$3,$3,3" --outputs "$5" --out "$T/out" --backend wasm --runs "$RUNS" 2>/dev/null |
            awk '/median_ms/ { print $2 }')
    fi
    t1="- -"
    t2="- -"
    if [ "$have_torch" = 1 ]; then
        t1=$(torch_run 1 "$2" "$3" "$4" "$5")
        t2=$(torch_run 2 "$2" "$3" "$4" "$5")
    fi
    echo "$d1 $d2 $t1 $t2" | awk -v n="$1" -v b="$4" -v w="$theirs" -v peak="$peak" '
        function ratio(x, y) { return (x == "-" || x == "" || y == "") ? "-" : sprintf("%.2fx", x / y) }
        function ms(x) { return (x == "-" || x == "") ? "-" : sprintf("%.2f", x) }
        { printf "%-10s %5d  %5s  %9s  %9s  %9s  %8s  %8s  %8s  %9s  %9s  %9.1f  %10s\n", n, b,
            $6 == "-" ? "-" : sprintf("%.2f", $6), ms($1), ms($3), ms(w), ms($5), ms($7),
            ratio(w, $1), ratio($5, $1), ratio($7, $3), $4,
            peak == "" ? "-" : sprintf("%.0f%%", 100 * $4 / peak) }'
}
run blazeface blazeface.json 256 1 Identity,Identity_1,Identity_2,Identity_3
run faceres faceres.json 224 1 global_pooling/Mean,gender_pred/Sigmoid,age_pred/Softmax
run faceres faceres.json 224 32 global_pooling/Mean,gender_pred/Sigmoid,age_pred/Softmax
echo
echo "Times are milliseconds per batch (medians of $RUNS). Ratios above 1 mean doppel is faster."
echo "doppel runs a batch as its separate images spread over its threads (nn_model_run_batch)."
