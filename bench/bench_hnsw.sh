# Approximate top-10 search: doppel's HNSW graph against hnswlib (Debian python3-hnswlib)
# and FAISS IndexHNSWFlat (Debian python3-faiss), inner product, the same M and
# efConstruction, on the same vectors, in the same run.
#
# Data (bench/bench_hnsw.c gen): N unit vectors with a low intrinsic dimension: a 32-d
# Gaussian latent through a fixed random linear map to d, plus isotropic noise of 0.25 of
# the signal per element, L2-normalised; the queries are more draws of the same law (not
# catalogue rows). BENCH_FIT=FILE (raw float32 real embeddings of one dimension; set
# BENCH_HNSW_DIMS to it) draws from their mean and covariance instead. Ground truth: the
# exact float32 top 10.
#
# Per d and library: build time with BENCH_HNSW_BUILD_THREADS threads (doppel's index file
# is written first, timed apart: the graph is built from it), peak RSS of the building
# process and of a separate process that loads the index and runs every query (doppel maps
# its files: its RSS counts the pages the queries touched), then recall@10 and queries
# per second on 1 thread and on 2 (the queries split between them; every library the same)
# for each ef, and the QPS each reaches at recall@10 = 0.99 (interpolated on the curve);
# for doppel also at the default ef its build tuned on the graph's own rows (its build
# time includes that tuning), to show what a query that names no ef gets.
#
# BENCH_HNSW_REAL=DATA (a data folder `doppel import` filled, e.g. from ../shared/data/
# faces) does that with the catalogue's own per-photo embeddings: the look vectors at
# d = 1024 and the identity descriptors (normalised) at d = 128.
#
# Then the catalogue changes (1% of the people leave, the queries join) and doppel's
# update of its graph is timed against a rebuild (BENCH_HNSW_UPDATE=0 leaves that out: at
# 2M x 1024 the rebuild alone takes a quarter of an hour).
#
# Environment: BENCH_HNSW_N (406317), BENCH_HNSW_DIMS ("128 512 1024"), BENCH_HNSW_QUERIES
# (1000), BENCH_HNSW_M (16), BENCH_HNSW_EFC (100), BENCH_HNSW_EFS ("16 32 64 96 128 192 256
# 384"), BENCH_HNSW_BUILD_THREADS (2), BENCH_HNSW_PEERS ("hnswlib faiss").
#
# A peer's build longer than a working session (FAISS at 2M rows on two cores takes hours):
# BENCH_HNSW_PEER_DIR=FOLDER keeps the peers' indexes there and builds them in sittings of
# BENCH_HNSW_PEER_BUDGET seconds of adding (0: to the end); a run whose peer is unfinished
# says so and leaves that peer out, the next goes on (the generator is seeded, and the
# vectors' digest is checked). BENCH_HNSW_DOPPEL=0 leaves doppel's part out of such runs;
# the run that reports is the one with doppel in it. See bench/hnsw_peers.py.
BUILD=${1:?usage: bench_hnsw.sh BUILD_DIR}
N=${BENCH_HNSW_N:-406317}
DIMS=${BENCH_HNSW_DIMS:-128 512 1024}
Q=${BENCH_HNSW_QUERIES:-1000}
M=${BENCH_HNSW_M:-16}
EFC=${BENCH_HNSW_EFC:-100}
EFS=${BENCH_HNSW_EFS:-16 32 64 96 128 192 256 384}
BT=${BENCH_HNSW_BUILD_THREADS:-2}
PEERS=${BENCH_HNSW_PEERS-hnswlib faiss}
PY=/usr/bin/python3
HERE=$(cd "$(dirname "$0")" && pwd)
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
$PY -c 'import numpy' 2>/dev/null || { echo "bench_hnsw: python3-numpy not installed; skipped"; exit 0; }
peers=""
for p in $PEERS; do
    if $PY -c "import $p" 2>/dev/null; then peers="$peers $p"; else echo "bench_hnsw: $p not installed; no $p column"; fi
done
if [ -n "${BENCH_HNSW_REAL:-}${BENCH_FIT:-}" ]; then what="drawn from the mean and covariance of real embeddings (below)"; else what="a 32-d Gaussian latent mapped linearly to d, plus noise 0.25 per element"; fi
echo "data: $N unit vectors ($what), $Q held-out queries; M=$M efConstruction=$EFC, build threads $BT; load: $(uptime | sed 's/.*load/load/')"
for d in $DIMS; do
    if [ -n "${BENCH_HNSW_REAL:-}" ]; then
        $PY - "$BENCH_HNSW_REAL/catalog.db" "$d" "$T/real.f32" <<'PY' || exit 1
import sqlite3, sys
import numpy as np
db, d, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
space = {1024: "look", 128: "identity"}[d]
rows = sqlite3.connect(db).execute("SELECT vec FROM embeddings WHERE space = ? AND dim = ?", (space, d)).fetchall()
v = np.frombuffer(b"".join(r[0] for r in rows), dtype=np.float32).reshape(-1, d)
v = v / np.linalg.norm(v, axis=1, keepdims=True)
v.astype(np.float32).tofile(out)
print("data: d=%d from %d real %s embeddings of %s" % (d, len(v), space, db))
PY
        export BENCH_FIT="$T/real.f32"
    fi
    "$BUILD/bench/bench_hnsw" gen "$T" "$N" "$d" "$Q" || exit 1
    {
        if [ "${BENCH_HNSW_DOPPEL:-1}" != 0 ]; then
            "$BUILD/bench/bench_hnsw" index "$T" "$d" || exit 1
            "$BUILD/bench/bench_hnsw" build "$T" "$M" "$EFC" "$BT" || exit 1
            "$BUILD/bench/bench_hnsw" search "$T" $EFS || exit 1
            if [ "${BENCH_HNSW_UPDATE:-1}" != 0 ]; then
                "$BUILD/bench/bench_hnsw" update "$T" "$d" "$BT" || exit 1
            fi
        fi
        for p in $peers; do
            $PY "$HERE/hnsw_peers.py" build "$p" "$T" "$d" "$M" "$EFC" "$BT" \
                ${BENCH_HNSW_PEER_DIR:+"$BENCH_HNSW_PEER_DIR" "${BENCH_HNSW_PEER_BUDGET:-0}"}
            case $? in 0) ;; 3) echo "bench_hnsw: $p at d=$d unfinished; run again to go on" >&2; continue ;; *) exit 1 ;; esac
            $PY "$HERE/hnsw_peers.py" search "$p" "$T" "$d" $EFS || exit 1
            rm -f "$T/$p.bin"
        done
    } | sed "s/^result /result dim=$d /" | tee -a "$T/results.txt" | grep -v '^result' 
    rm -f "$T"/*.f32 "$T"/*.idx "$T"/*.hnsw "$T"/gt.i32
done
$PY - "$T/results.txt" "$N" <<'PY'
import sys
from collections import defaultdict
meta, curve = defaultdict(dict), defaultdict(list)
for line in open(sys.argv[1]):
    f = dict(x.split("=", 1) for x in line.split()[1:])
    key = (int(f.pop("dim")), f.pop("lib"))
    if "ef" in f:
        curve[key].append((int(f["ef"]), float(f["recall"]), float(f["qps1"]), float(f["qps2"])))
    else:
        meta[key].update(f)
def at99(c, i):
    """QPS at recall@10 = 0.99, linear between the two points around it (None if never reached)."""
    c = sorted(c)
    for a, b in zip(c, c[1:]):
        if a[1] < 0.99 <= b[1]:
            t = (0.99 - a[1]) / (b[1] - a[1])
            return a[i] + t * (b[i] - a[i])
    if c and c[0][1] >= 0.99:
        return c[0][i]
    return None
fmt = lambda x, p="%.0f": "-" if x is None else p % x
print("\n### recall@10 / QPS (1 thread, 2 threads) per ef, n = %s" % sys.argv[2])
for (d, lib) in sorted(curve):
    print("d=%d %-8s " % (d, lib) + "  ".join("ef%d: %.4f %d/%d" % p for p in sorted(curve[(d, lib)])))
print("\n| d | library | build s | build RSS MB | search RSS MB | QPS@0.99 1T | QPS@0.99 2T | doppel / it, 1T | doppel / it, 2T |")
print("|---|---|---|---|---|---|---|---|---|")
for d in sorted(set(k[0] for k in curve)):
    dop = curve.get((d, "doppel"), [])
    d1, d2 = at99(dop, 2), at99(dop, 3)
    for lib in ["doppel", "hnswlib", "faiss"]:
        if (d, lib) not in curve:
            continue
        m, c = meta[(d, lib)], curve[(d, lib)]
        q1, q2 = at99(c, 2), at99(c, 3)
        b = m.get("build_s")
        if int(m.get("build_sittings", 1)) > 1:
            b = "%s (adding, over %s sittings)" % (b, m["build_sittings"])
        if lib == "doppel":
            b = "%s (+%s index file)" % (m.get("build_s"), m.get("index_s"))
        r1 = "%.2fx" % (d1 / q1) if d1 and q1 else "-"
        r2 = "%.2fx" % (d2 / q2) if d2 and q2 else "-"
        print("| %d | %s | %s | %s | %s | %s | %s | %s | %s |" % (d, lib, b, m.get("build_rss_mb", "-"),
              m.get("search_rss_mb", "-"), fmt(q1), fmt(q2), r1 if lib != "doppel" else "", r2 if lib != "doppel" else ""))
for d in sorted(set(k[0] for k in meta)):
    e = meta.get((d, "exact"), {})
    base = ", ".join("%s %s" % (lib, meta[(d, lib)]["rss_base_mb"]) for lib in ("hnswlib", "faiss") if "rss_base_mb" in meta.get((d, lib), {}))
    u = meta.get((d, "doppel"), {})
    if "update_s" in u:
        print("d=%d: doppel's incremental update (1%% of the people removed, %s added): %s s against %s s to rebuild (%s kept, %s repaired)" %
              (d, u["inserted"], u["update_s"], u["rebuild_s"], u["kept"], u["repaired"]))
    if "default_ef" in u:
        print("d=%d: doppel's default ef %s (tuned at build: recall@10 %s on 256 queries drawn like %s of its rows): recall@10 %s on the held-out queries, %s QPS on 1 thread, %s on 2" %
              (d, u["default_ef"], u["tuned_recall"], u["tune_rows"], u["default_recall"], u["default_qps1"], u["default_qps2"]))
    print("d=%d: doppel's exact scan %s QPS on 1 thread, %s on 2 (recall %s); python peers' RSS includes the interpreter with the library, MB: %s" %
          (d, e.get("qps1", "-"), e.get("qps2", "-"), e.get("recall", "-"), base or "-"))
PY
