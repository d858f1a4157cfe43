# The peers of bench_hnsw.sh: hnswlib (Debian python3-hnswlib) and FAISS IndexHNSWFlat
# (Debian python3-faiss), inner product, on the vectors bench_hnsw gen wrote. Like
# bench_hnsw, one process builds (and saves the index) and another loads it and searches,
# so each prints its own peak RSS ("rss_base_mb" is the interpreter with the library
# imported, before any data). Usage:
#   hnsw_peers.py build hnswlib|faiss DIR DIM M EFC THREADS
#   hnsw_peers.py search hnswlib|faiss DIR DIM EF...
import resource
import sys
import time

import numpy as np


def rss_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def load(d, name, dim, dtype=np.float32):
    a = np.fromfile(d + "/" + name, dtype=dtype)
    return a.reshape(-1, dim)


def build(lib, d, dim, m, efc, threads):
    base = rss_mb()
    vecs = np.memmap(d + "/vecs.f32", dtype=np.float32, mode="r").reshape(-1, dim)
    t0 = time.perf_counter()
    if lib == "hnswlib":
        import hnswlib
        ix = hnswlib.Index(space="ip", dim=dim)
        ix.init_index(max_elements=len(vecs), ef_construction=efc, M=m, random_seed=100)
        ix.set_num_threads(threads)
        ix.add_items(vecs, np.arange(len(vecs)), num_threads=threads)
        secs = time.perf_counter() - t0
        ix.save_index(d + "/hnswlib.bin")
    else:
        import faiss
        faiss.omp_set_num_threads(threads)
        ix = faiss.IndexHNSWFlat(dim, m, faiss.METRIC_INNER_PRODUCT)
        ix.hnsw.efConstruction = efc
        ix.add(np.ascontiguousarray(vecs))
        secs = time.perf_counter() - t0
        faiss.write_index(ix, d + "/faiss.bin")
    print("result lib=%s build_s=%.2f build_threads=%d build_rss_mb=%.1f rss_base_mb=%.1f" %
          (lib, secs, threads, rss_mb(), base))


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
    if cmd == "build":
        build(lib, d, dim, int(sys.argv[5]), int(sys.argv[6]), int(sys.argv[7]))
    else:
        search(lib, d, dim, [int(x) for x in sys.argv[5:]])


main()
