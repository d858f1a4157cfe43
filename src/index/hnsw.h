/*
 * hnsw: an approximate nearest-neighbour graph (Hierarchical Navigable Small World) over
 * the rows of one index, for catalogues where the exact scan is too slow per query.
 *
 * The graph lives in its own file beside the index (index/<space>.hnsw): node r is row r
 * of the index it was built for, and the file records that index's data checksum, so a
 * graph is only ever used with the very rows it links. It holds no vectors: the search
 * scores nodes with the index's int8 copy (the same SIMD kernels as the exact scan, a
 * quarter of the bytes of float32) and re-ranks its best candidates in float32 from the
 * index's vectors. Like the index it is written under a temporary name and renamed into
 * place, memory-mapped read-only at open and validated there (checksum over the whole
 * file, then every link checked in range), so a corrupt file is refused with a message
 * and never read out of bounds. Any number of threads may search one graph at once.
 *
 * Searches take a filter (a bitset of the rows allowed); rows outside it are still
 * walked through, so the graph stays connected, and a filter that keeps few rows sends
 * the query to an exact scan of just those rows. An update maps an old graph onto a
 * rebuilt index by person id: kept people keep their links, links to people who left are
 * repaired from those people's own neighbours, and only new people are inserted.
 */
#ifndef DOPPEL_INDEX_HNSW_H
#define DOPPEL_INDEX_HNSW_H

#include "index/index.h"
#include "util/err.h"

#include <stddef.h>
#include <stdint.h>

#define HNSW_M_DEFAULT        16 /* links per node above level 0 (2M at level 0) */
#define HNSW_M_MAX            64
#define HNSW_EFC_DEFAULT      100 /* candidates kept while inserting */
#define HNSW_EF_MAX           4096
#define HNSW_SEED_DEFAULT     20261123
#define HNSW_MIN_ROWS_DEFAULT 50000 /* index build makes a graph from this many rows */
#define HNSW_LEVEL_MAX        15
#define HNSW_TUNE_QUERIES     256 /* queries the default ef is tuned on (hnsw_ef) */

struct hnsw;
struct progress;

struct hnsw_params {
    uint32_t m;   /* 0: HNSW_M_DEFAULT */
    uint32_t efc; /* 0: HNSW_EFC_DEFAULT */
    uint64_t seed;
    int threads; /* build threads, 1 .. INDEX_THREADS_MAX; the graph does not depend on it */
    struct progress *progress; /* advanced by the nodes inserted (borrowed); NULL for none */
};

/* What an update did. */
struct hnsw_update_stats {
    uint64_t kept;     /* nodes carried over from the old graph with their links */
    uint64_t removed;  /* old nodes whose person left or whose vector changed */
    uint64_t repaired; /* kept nodes that had a link to a removed node */
    uint64_t inserted; /* nodes inserted (all of them for a full build) */
    int full;          /* 1 when the old graph could not be reused */
};

/* Builds the graph of every row of ix (borrowed: must outlive the graph, which searches
 * it). Deterministic: the same rows and params give the same graph bytes whatever the
 * thread count. Caller frees *out with hnsw_free. Returns INDEX_OK or INDEX_ERR_INPUT (an
 * empty index or bad params). */
int hnsw_build(const struct index *ix, const struct hnsw_params *p, struct hnsw **out,
               struct err *e);

/* Builds the graph of ix from old (an earlier graph, possibly of another index; only its
 * ids and links are read): see the file comment. Falls back to hnsw_build, with st->full
 * set, when old has other params or no person in common. st may be NULL. */
int hnsw_update(const struct hnsw *old, const struct index *ix, const struct hnsw_params *p,
                struct hnsw **out, struct hnsw_update_stats *st, struct err *e);

/* Writes g to path atomically (temporary file, fsync, rename, folder fsync). Returns
 * INDEX_OK or INDEX_ERR_IO. */
int hnsw_write(const struct hnsw *g, const char *path, struct err *e);

/* Maps and validates the graph file at path. When ix is not NULL (borrowed, must outlive
 * the graph) the graph must have been built for exactly its rows, and may then search
 * it; with ix NULL it serves only as the old graph of hnsw_update. Caller frees *out with
 * hnsw_free. Returns INDEX_OK, INDEX_ERR_IO, INDEX_ERR_FORMAT or INDEX_ERR_MISMATCH;
 * messages start with the path. */
int hnsw_open(const char *path, const struct index *ix, struct hnsw **out, struct err *e);

/* The same over a graph image in memory (len bytes at buf, 64-byte aligned), borrowed
 * until hnsw_free. For the fuzzer and tests. */
int hnsw_open_mem(const void *buf, size_t len, const struct index *ix, struct hnsw **out,
                  struct err *e);

/* Writes a fresh checksum into a graph image in memory (len bytes; shorter than a header:
 * nothing), so an image altered on purpose reaches the structural checks. For the fuzzer
 * and tests. */
void hnsw_reseal(void *image, size_t len);

/* Frees g; g may be NULL. */
void hnsw_free(struct hnsw *g);

/* The top q->k rows by cosine with query, as index_query describes, searched through the
 * graph (or, when q->allow keeps few rows, by an exact scan of them). g must be bound to
 * an index. Thread-safe. */
int hnsw_search(const struct hnsw *g, const float *query, const struct index_query *q,
                struct index_hit *out, size_t *n_out, struct index_stats *st, struct err *e);

/* The exact top q->k among the rows q->allow keeps (all when NULL) of ix: int8 scores of
 * those rows, the best re-ranked in float32. Thread-safe. */
int hnsw_scan_allowed(const struct index *ix, const float *query, const struct index_query *q,
                      struct index_hit *out, size_t *n_out, struct index_stats *st, struct err *e);

/* The ef (candidates kept while searching) a query that names none runs with: the one
 * tuned when the graph was built or updated, the smallest of a ladder (32 .. 4,096) at
 * which 256 queries drawn like new rows (from the Gaussian with the mean and covariance
 * of up to 2,048 of its rows, picked by the seed) found recall@10 of 0.99 against the
 * exact scan, or HNSW_EF_MAX when none did. *recall (when not NULL) gets the recall found
 * there. A graph of under 1,000 rows, or one written before tuning existed, has none:
 * hnsw_default_ef(count), and *recall 0. */
uint32_t hnsw_ef(const struct hnsw *g, double *recall);

/* How many rows the tuning queries' law was estimated from (0: not tuned). */
uint32_t hnsw_tune_rows(const struct hnsw *g);

/* The default ef of a graph of count nodes that was not tuned: the smallest of the
 * benchmark's efs that reached recall@10 of 0.99 at 128, 512 and 1,024 dimensions alike on
 * its synthetic low-rank data at 100,000, 406,317 and 2,000,000 rows (384, 512 and 1,024;
 * see README), log-linear in count between those sizes, 384 below them, the last step's
 * rate continued above them (not measured there), at most HNSW_EF_MAX. */
size_t hnsw_default_ef(uint64_t count);

/* The graph's node count, M, links at level 0 and top level; for tools and tests. */
uint32_t hnsw_count(const struct hnsw *g);
uint32_t hnsw_m(const struct hnsw *g);
uint32_t hnsw_max_level(const struct hnsw *g);

/* Returns the graph image (its file bytes) and sets *len; borrowed until hnsw_free. */
const void *hnsw_image(const struct hnsw *g, size_t *len);

#endif
