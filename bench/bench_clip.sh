# CLIP ViT-B/32 forward pass: doppel (nn/clip.h on the shared runtime) vs PyTorch
# (Debian's python3-torch running tests/clip_ref.py's ViT in float32, traced, frozen and
# optimised for inference), on the same random weights at the full ViT-B/32 shape
# (written by tests/clip_ref.py; the speed does not depend on the values), at batch 1
# and 16, on 1 and 2 threads (PyTorch's OpenMP, OpenBLAS and MKL pools all pinned to the
# count: bench/torch_pin.py), same machine, same run. Medians of RUNS, in milliseconds
# per batch; ratios above 1 mean doppel is faster. gflops is doppel's rate (2 x the
# multiply-adds of every product, attention's included), of_sgemm that rate against
# OpenBLAS sgemm's on 1024^3 on as many threads, measured at the start of the run.
# Usage: sh bench/bench_clip.sh BUILD_DIR
BUILD=${1:?usage: bench_clip.sh BUILD_DIR}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
# Bring the benchmark programs up to date first (make's default goal does not build them).
make -s "$BUILD/bench/bench_nn" "$BUILD/bench/bench_gemm" >/dev/null 2>&1 || true
RUNS=${BENCH_RUNS:-10}
/usr/bin/python3 -c 'import torch' 2>/dev/null || { echo "bench_clip: needs /usr/bin/python3 with torch"; exit 1; }
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
W="$T/b32.safetensors"
/usr/bin/python3 "$ROOT/tests/clip_ref.py" make "$W" --config b32 --seed 5 || exit 1
"$BUILD/bench/bench_gemm" 1024 1024 1024 5 2 >"$T/gemm"
sed 's/^/sgemm 1024^3: /' "$T/gemm"
echo
# torch_ms BATCH THREADS: the peer's median, on more than one thread the faster of its
# OpenMP pool spinning (the default) and waiting passively: its products run on OpenBLAS's
# own threads, and the two pools spinning side by side on two cores slow it by a third.
torch_ms() {
    best=""
    for policy in ACTIVE PASSIVE; do
        [ "$policy" = PASSIVE ] && [ "$2" -le 1 ] && continue
        ms=$(OMP_WAIT_POLICY=$policy /usr/bin/python3 "$ROOT/bench/torch_clip.py" "$W" --batch "$1" \
            --threads "$2" --runs "$RUNS" | awk '/^median_ms/ { print $2 }')
        if [ -z "$best" ]; then best=$ms; else best=$(echo "$best $ms" | awk '{ print $2 < $1 ? $2 : $1 }'); fi
    done
    echo "$best"
}

echo "batch threads  doppel_ms  torch_ms  torch/doppel  doppel_gflops  of_sgemm"
for b in 1 16; do
    for t in 1 2; do
        d=$(BENCH_THREADS=$t "$BUILD/bench/bench_nn" "$W" 224 "$b" "$RUNS" clip_embedding |
            awk '/^median_ms/ { m = $2 } /^gflops/ { g = $2 } END { print m, g }')
        p=$(torch_ms "$b" "$t")
        peak=$(awk -v t="$t" '$2 == t { print $4 }' "$T/gemm")
        echo "$d $p" | awk -v b="$b" -v t="$t" -v peak="$peak" '{
            printf "%5d %7d  %9.1f  %8.1f  %11.2fx  %13.1f  %7.0f%%\n", b, t, $1, $3, $3 / $1, $2,
                peak == "" ? 0 : 100 * $2 / peak }'
    done
done
