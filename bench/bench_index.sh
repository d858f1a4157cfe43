# Exact top-10 search over a synthetic catalogue of 406,317 people (the seed system's
# size) at d = 128, 512 and 1024: doppel (1 and 2 threads, and its full int8 scan without
# pruning) against numpy brute force (E @ q + argpartition: Debian's python3-numpy, the
# seed system's method) and FAISS IndexFlatIP (Debian's python3-faiss), on the same
# vectors, which bench_index writes to a temporary .f32 file that the peers memory-map.
#
# Data (bench/bench_index.c): a 32-d Gaussian latent through a fixed random linear map to
# d, plus isotropic noise of BENCH_NOISE (0.25) times the signal per element (6% of the
# energy), each vector L2-normalised: face embeddings likewise vary along few directions.
# Queries: catalogue vectors plus isotropic noise of norm 0.5, renormalised (cosine ~0.9
# to their source); doppel excludes the source person, the peers ask for 11 hits instead.
# Per d: median ms per query; numpy/doppel and faiss/doppel; recall@10 against float32
# exact scores; index open time (page cache warm); bytes a query reads and the int8 copy,
# both as a fraction of the float32 matrix; the bandwidth the scan reaches. Peers run with
# their libraries' default threads.
#
# Environment: BENCH_N (406317), BENCH_DIMS ("128 512 1024"), BENCH_QUERIES (100),
# BENCH_NOISE (0.25). The default run takes about two minutes and ~6 GB of memory at 1024.
# BENCH_FIT=FILE (raw float32 unit vectors, one dimension, set BENCH_DIMS to it) draws the
# catalogue from the Gaussian with their mean and covariance instead: given real
# embeddings (e.g. the look vectors of the shared photos) it is as high-dimensional as a
# real catalogue, where pruning saves far less than on the low-rank default.
BUILD=${1:?usage: bench_index.sh BUILD_DIR}
N=${BENCH_N:-406317}
DIMS=${BENCH_DIMS:-128 512 1024}
Q=${BENCH_QUERIES:-100}
NOISE=${BENCH_NOISE:-0.25}
PY=/usr/bin/python3
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
$PY -c 'import numpy' 2>/dev/null || { echo "bench_index: python3-numpy not installed; skipped"; exit 0; }
$PY -c 'import faiss' 2>/dev/null || echo "bench_index: python3-faiss not installed; no FAISS column"
if [ -n "${BENCH_FIT:-}" ]; then
    echo "data: $N unit vectors drawn like those of $BENCH_FIT, $Q queries"
else
    echo "data: $N unit vectors (32-d latent, noise $NOISE), $Q queries"
fi
for d in $DIMS; do
    "$BUILD/bench/bench_index" "$T" "$N" "$d" "$Q" "$NOISE" >"$T/doppel.txt" || exit 1
    grep -v '^result' "$T/doppel.txt"
    grep '^result' "$T/doppel.txt" >>"$T/results.txt"
    $PY - "$T" "$N" "$d" "$Q" >>"$T/results.txt" <<'PY' || exit 1
import statistics, sys, time
import numpy as np
t, n, d, nq = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
E = np.memmap(t + "/vecs.f32", dtype=np.float32, mode="r", shape=(n, d))
Q = np.fromfile(t + "/queries.f32", dtype=np.float32).reshape(nq, d)
def numpy_top(q):
    s = E @ q
    i = np.argpartition(-s, 11)[:11]
    return i[np.argsort(-s[i])]
numpy_top(Q[0])  # fault the mapping in
ms = []
for q in Q:
    t0 = time.perf_counter(); numpy_top(q); ms.append((time.perf_counter() - t0) * 1e3)
out = "peer dim=%d numpy_ms=%.3f" % (d, statistics.median(ms))
try:
    import faiss
    ix = faiss.IndexFlatIP(d)
    ix.add(np.ascontiguousarray(E))
    ix.search(Q[:1], 11)
    ms = []
    for i in range(nq):
        t0 = time.perf_counter(); ix.search(Q[i:i + 1], 11); ms.append((time.perf_counter() - t0) * 1e3)
    out += " faiss_ms=%.3f faiss_threads=%d" % (statistics.median(ms), faiss.omp_get_max_threads())
except ImportError:
    pass
print(out)
PY
    rm -f "$T/vecs.f32" "$T/index.idx" "$T/queries.f32" "$T/queries.rows"
done
$PY - "$T/results.txt" <<'PY'
import sys
rows = {}
for line in open(sys.argv[1]):
    kind, *kv = line.split()
    f = dict(x.split("=") for x in kv)
    rows.setdefault(int(f["dim"]), {}).update(f)
def num(r, k):
    return float(r[k]) if k in r else float("nan")
print()
print("| d | doppel 1T ms | doppel 2T ms | int8 full scan ms | numpy ms | faiss ms | numpy/doppel 1T, 2T | faiss/doppel 1T, 2T | recall@10 | open ms | read/query vs f32 | int8 copy vs f32 | GB/s (1T: pruned, full) |")
print("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
for d in sorted(rows):
    r = rows[d]
    t1, t2, tf, tn, tfa = (num(r, k) for k in ("t1_ms", "t2_ms", "full_ms", "numpy_ms", "faiss_ms"))
    f32 = num(r, "f32_bytes")
    print("| %d | %.2f | %.2f | %.2f | %.2f | %.2f | %.1fx, %.1fx | %.1fx, %.1fx | %.4f | %.2f | %.3fx | %.3fx | %.1f, %.1f |" % (
        d, t1, t2, tf, tn, tfa, tn / t1, tn / t2, tfa / t1, tfa / t2, num(r, "recall"),
        num(r, "open_ms"), num(r, "bytes_q") / f32, num(r, "int8_bytes") / f32,
        num(r, "bytes_q") / t1 / 1e6, num(r, "full_bytes") / tf / 1e6))
r = next(iter(rows.values()))
print("kernel %s; faiss threads %s; numpy/OpenBLAS default threads" % (r.get("kernel", "?"), r.get("faiss_threads", "-")))
PY
