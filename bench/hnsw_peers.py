# The peers of bench_hnsw.sh: hnswlib (Debian python3-hnswlib) and FAISS IndexHNSWFlat
# (Debian python3-faiss), inner product, on the vectors bench_hnsw gen wrote. Like
# bench_hnsw, one process builds (and saves the index) and another loads it and searches,
# so each prints its own peak RSS ("rss_base_mb" is the interpreter with the library
# imported, before any data). Usage:
#   hnsw_peers.py build hnswlib|faiss DIR DIM M EFC THREADS [KEEP BUDGET_S]
#   hnsw_peers.py search hnswlib|faiss DIR DIM EF...
#
# With KEEP (a folder that outlives the run) the build is resumable: rows are added in
# chunks of CHUNK, and after each the index and its progress (rows added, seconds spent
# adding them, the peak RSS of each sitting, a digest of the vectors) are saved there;
# once BUDGET_S seconds of adding have passed (0: no limit) it stops and exits 3, and the
# next run with the same vectors goes on from there. The build time it reports when done
# is the sum of the adding over every sitting; saving and loading are not counted. For
# FAISS builds longer than one working session on two cores. Chunked adds give a graph
# built in batches of CHUNK rows, not one of all of them: the search that follows says how
# good it is.
import hashlib
import json
import os
import resource
import sys
import time

import numpy as np


def rss_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def load(d, name, dim, dtype=np.float32):
    a = np.fromfile(d + "/" + name, dtype=dtype)
    return a.reshape(-1, dim)


def open_index(lib, dim, n, m, efc, threads, path=None):
    """A new index for n rows (or the one saved at path): (index, add(a, b) of rows a..b of
    vecs, save(path), rows it holds)."""
    if lib == "hnswlib":
        import hnswlib
        ix = hnswlib.Index(space="ip", dim=dim)
        if path:
            ix.load_index(path, max_elements=n)
        else:
            ix.init_index(max_elements=n, ef_construction=efc, M=m, random_seed=100)
        ix.set_num_threads(threads)
        return (ix, lambda vecs, a, b: ix.add_items(vecs[a:b], np.arange(a, b), num_threads=threads),
                ix.save_index, ix.get_current_count())
    import faiss
    faiss.omp_set_num_threads(threads)
    if path:
        ix = faiss.read_index(path)
    else:
        ix = faiss.IndexHNSWFlat(dim, m, faiss.METRIC_INNER_PRODUCT)
        ix.hnsw.efConstruction = efc
    return (ix, lambda vecs, a, b: ix.add(np.ascontiguousarray(vecs[a:b])),
            lambda p: faiss.write_index(ix, p), ix.ntotal)


def build(lib, d, dim, m, efc, threads):
    base = rss_mb()
    vecs = np.memmap(d + "/vecs.f32", dtype=np.float32, mode="r").reshape(-1, dim)
    t0 = time.perf_counter()
    ix, add, save, _ = open_index(lib, dim, len(vecs), m, efc, threads)
    add(vecs, 0, len(vecs))
    secs = time.perf_counter() - t0
    save(d + "/" + lib + ".bin")
    print("result lib=%s build_s=%.2f build_threads=%d build_rss_mb=%.1f rss_base_mb=%.1f" %
          (lib, secs, threads, rss_mb(), base))


CHUNK = int(os.environ.get("BENCH_HNSW_PEER_CHUNK", 100000))  # rows per add
SAVE_EVERY = 900   # seconds of adding between saves (a session can end without warning)


def put_json(path, obj):
    with open(path + ".tmp", "w") as f:
        json.dump(obj, f)
    os.replace(path + ".tmp", path)


def digest(path):
    """sha256 of a file, read in 64 MB pieces."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for piece in iter(lambda: f.read(1 << 26), b""):
            h.update(piece)
    return h.hexdigest()


def build_kept(lib, d, dim, m, efc, threads, keep, budget):
    base = rss_mb()
    vecs = np.memmap(d + "/vecs.f32", dtype=np.float32, mode="r").reshape(-1, dim)
    n = len(vecs)
    os.makedirs(keep, exist_ok=True)
    stem = "%s/%s-%d-%d-m%d-efc%d" % (keep, lib, n, dim, m, efc)
    sha = digest(d + "/vecs.f32")
    state = {"rows": 0, "seconds": 0.0, "rss_mb": [], "vecs_sha256": sha, "threads": threads}
    if os.path.exists(stem + ".json"):
        with open(stem + ".json") as f:
            state = json.load(f)
        if state["vecs_sha256"] != sha or state["threads"] != threads:
            sys.exit("hnsw_peers: %s.json was built from other vectors or another thread "
                     "count; remove it and %s.bin to start again" % (stem, stem))
    ix, add, save, count = open_index(lib, dim, n, m, efc, threads,
                                      stem + ".bin" if state["rows"] else None)
    if count != state["rows"]:
        sys.exit("hnsw_peers: %s.bin holds %d rows but %s.json says %d (stopped between the two "
                 "saves?); remove both to start again" % (stem, count, stem, state["rows"]))
    spent = unsaved = 0.0
    while state["rows"] < n and (budget <= 0 or spent < budget):
        a, b = state["rows"], min(n, state["rows"] + CHUNK)
        t0 = time.perf_counter()
        add(vecs, a, b)
        dt = time.perf_counter() - t0
        spent, unsaved = spent + dt, unsaved + dt
        state["rows"], state["seconds"] = b, state["seconds"] + dt
        sys.stderr.write("hnsw_peers: %s %d of %d rows, %.0f s of adding\n" % (lib, b, n, state["seconds"]))
        if unsaved >= SAVE_EVERY or b == n or (budget > 0 and spent >= budget):
            save(stem + ".bin.tmp")
            os.replace(stem + ".bin.tmp", stem + ".bin")
            put_json(stem + ".json", dict(state, rss_mb=state["rss_mb"] + [rss_mb()]))
            unsaved = 0.0
    if spent > 0:
        state["rss_mb"].append(rss_mb())
    if state["rows"] < n:
        sys.stderr.write("hnsw_peers: %s build paused at %d of %d rows (%.0f s so far); run again to go on\n" %
                         (lib, state["rows"], n, state["seconds"]))
        sys.exit(3)
    if os.path.lexists(d + "/" + lib + ".bin"):
        os.remove(d + "/" + lib + ".bin")
    os.symlink(stem + ".bin", d + "/" + lib + ".bin")
    print("result lib=%s build_s=%.2f build_threads=%d build_rss_mb=%.1f rss_base_mb=%.1f build_sittings=%d" %
          (lib, state["seconds"], threads, max(state["rss_mb"]), base, len(state["rss_mb"])))


def recall(rows, gt):
    hit = 0
    for r, g in zip(rows, gt):
        hit += len(set(int(x) for x in r) & set(int(x) for x in g))
    return hit / float(gt.size)


def search(lib, d, dim, efs):
    qs = load(d, "queries.f32", dim)
    gt = load(d, "gt.i32", 10, np.int32)
    if lib == "hnswlib":
        import hnswlib
        ix = hnswlib.Index(space="ip", dim=dim)
        ix.load_index(d + "/hnswlib.bin")

        def run(ef, threads):
            ix.set_ef(ef)
            t0 = time.perf_counter()
            rows, _ = ix.knn_query(qs, k=10, num_threads=threads)
            return rows, len(qs) / (time.perf_counter() - t0)
    else:
        import faiss
        ix = faiss.read_index(d + "/faiss.bin")

        def run(ef, threads):
            faiss.omp_set_num_threads(threads)
            ix.hnsw.efSearch = ef
            t0 = time.perf_counter()
            _, rows = ix.search(qs, 10)
            return rows, len(qs) / (time.perf_counter() - t0)
    for ef in efs:
        run(ef, 1)  # warm up
        rows, q1 = run(ef, 1)
        _, q2 = run(ef, 2)
        print("result lib=%s ef=%d recall=%.4f qps1=%.0f qps2=%.0f" % (lib, ef, recall(rows, gt), q1, q2))
    print("result lib=%s search_rss_mb=%.1f" % (lib, rss_mb()))


def main():
    cmd, lib, d, dim = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    if cmd == "build" and len(sys.argv) > 8:
        build_kept(lib, d, dim, int(sys.argv[5]), int(sys.argv[6]), int(sys.argv[7]), sys.argv[8],
                   float(sys.argv[9]) if len(sys.argv) > 9 else 0.0)
    elif cmd == "build":
        build(lib, d, dim, int(sys.argv[5]), int(sys.argv[6]), int(sys.argv[7]))
    else:
        search(lib, d, dim, [int(x) for x in sys.argv[5:]])


main()
