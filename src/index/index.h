/*
 * index: the consolidated vector index of one embedding space and exact top-k search.
 *
 * One file per space (index/<space>.idx), written whole from the catalogue by index_write
 * and memory-mapped read-only by index_open, so opening reads ~1% of the file and every
 * process shares the page cache. The workload is ~400k people x 128..1024 dimensions
 * and one query at a time that must answer in a few milliseconds.
 *
 * The file holds the float32 vectors (the truth) and an int8 copy of them (a quarter of
 * the bytes) in a rotated basis whose first 64 coordinates carry most of the energy
 * (principal directions of the catalogue). A rotation preserves dot products, so the
 * int8 copy still estimates cosine scores; what it buys is a cheap bound. A search:
 *   1. rotates and quantises the query to int8 like the rows;
 *   2. scans the 64-byte heads of all rows (SIMD: AVX-512 VNNI, AVX-512BW, AVX2 or
 *      scalar, picked at run time) and bounds each row's full int8 score by
 *      head dot +- |query tail| |row tail| (Cauchy-Schwarz on the int8 tails);
 *   3. reads the tails only of rows whose upper bound reaches the C-th best lower bound,
 *      keeping the C = max(k x INDEX_RERANK, INDEX_CANDIDATES_MIN) best full int8
 *      scores; the pruning is exact: the candidates equal those of a full int8 scan;
 *   4. re-scores the candidates in float32 and returns the best k.
 * How much step 3 saves depends on the data. On the benchmark's low-rank catalogue (a 32-d
 * latent) it reads under 1% of the tails, so a query reads 2-4% of the float32 bytes. Real
 * look embeddings spread wider (the leading 64 directions hold ~77% of their energy): on a
 * catalogue drawn with their covariance it reads about two thirds of the tails, 17% of the
 * float32 bytes against 25% for the whole int8 copy, and is never slower than a full scan.
 * Recall of the float32 top 10 is 1.000 on the benchmark (bench/bench_index.sh, 406k rows
 * at 128, 512 and 1024 dimensions); with no margin (C = k) it drops to ~0.97, so
 * INDEX_RERANK = 4 leaves room for data less kind than it. threads > 1 splits the rows.
 *
 * rank_pct needs no second scan and no histogram: the scan is exhaustive, so the rows
 * that score higher than a hit are the hits before it (and equal scores count as not
 * lower), and rank_pct = 100 x (rows scoring lower) / (rows searched - 1), exactly,
 * whenever the top k is exact. Each row the int8 stage missed (recall below 1) makes the
 * figure 100 / (rows searched - 1) too high, so at worst 100 x k / (rows - 1).
 *
 * Files are trusted only after validation: a wrong magic, version, space or dimension,
 * sizes that do not add up, or a checksum mismatch is refused with a message naming the
 * file and the problem. Everything is read-only after open, so any number of threads may
 * search one index at once.
 */
#ifndef DOPPEL_INDEX_H
#define DOPPEL_INDEX_H

#include "util/err.h"

#include <stddef.h>
#include <stdint.h>

enum index_rc {
    INDEX_OK = 0,
    INDEX_ERR_IO,       /* the file cannot be opened, mapped, written, synced or renamed */
    INDEX_ERR_FORMAT,   /* not an index, truncated, corrupt, or another format version */
    INDEX_ERR_MISMATCH, /* a sound index of another space than the caller asked for */
    INDEX_ERR_INPUT,    /* bad arguments: vectors not unit length, duplicate ids, ... */
};

#define INDEX_SPACE_MAX      16 /* bytes of the space name, NUL included */
#define INDEX_MODEL_MAX      64 /* bytes of the model version, NUL included */
#define INDEX_DIM_MAX        4096
#define INDEX_NO_ID          (-1) /* exclude nothing */
#define INDEX_RERANK         4    /* candidates re-scored per hit asked for */
#define INDEX_CANDIDATES_MIN 40
#define INDEX_THREADS_MAX    64

struct index_meta {
    char space[INDEX_SPACE_MAX]; /* "look", "identity", "clip" */
    char model[INDEX_MODEL_MAX]; /* the model version that made the vectors */
    uint32_t dim;
    uint64_t count;
};

struct index;
struct hnsw;

struct index_hit {
    int64_t id; /* person id */
    uint32_t row;
    float score;     /* cosine of the query and the row, float32 */
    double rank_pct; /* percent of the other rows searched that score lower */
};

/* What a search read, for the benchmark and the tests. */
struct index_stats {
    uint64_t rows;      /* rows scanned (their heads, or whole rows without pruning) */
    uint64_t tail_rows; /* rows whose int8 tail was read as well */
    uint64_t reranked;  /* candidates re-scored in float32 */
    uint64_t bytes;     /* bytes of the index the search read */
    uint64_t nodes;     /* graph nodes scored (0: the search was a scan) */
};

enum index_search_flags {
    INDEX_SEARCH_FULL = 1 << 0,  /* read every row's whole int8 copy: no pruning */
    INDEX_SEARCH_EXACT = 1 << 1, /* scan, even when a graph is attached */
};

/* One question to index_query. A zero-initialised struct with k set asks for the k best
 * rows of all, through the graph when one is attached. */
struct index_query {
    size_t k;
    int64_t exclude;       /* person id to skip, INDEX_NO_ID (-1) for none */
    int threads;           /* for scans: as index_search; 0 means 1 */
    unsigned flags;        /* enum index_search_flags */
    uint32_t ef;           /* graph candidates kept (0: the default); see hnsw.h */
    const uint64_t *allow; /* filter: row r is allowed when bit r % 64 of word r / 64 is
                              set (count bits, borrowed); NULL allows every row */
};

/* Writes an index of meta->count rows to path: vecs (count x dim float32, each
 * L2-normalised to within 1e-3, finite) and ids (count distinct person ids >= 0); both
 * borrowed. The file is written under a temporary name in the same folder, synced and
 * renamed over path, so readers see the old index or the new one, never a part. Computes
 * the basis from a sample of the rows (a few seconds for 406k x 1024). Returns INDEX_OK,
 * INDEX_ERR_INPUT (bad meta or vectors, message names the row) or INDEX_ERR_IO. */
int index_write(const char *path, const struct index_meta *meta, const float *vecs,
                const int64_t *ids, struct err *e);

/* Maps and validates the index at path; space (or NULL for any) must match its space.
 * Checks the header, the layout and the checksum of everything but the vectors (see
 * index_verify). Caller frees *out with index_close. Returns INDEX_OK, INDEX_ERR_IO,
 * INDEX_ERR_FORMAT or INDEX_ERR_MISMATCH; messages start with the path. */
int index_open(const char *path, const char *space, struct index **out, struct err *e);

/* The same over an index image in memory (len bytes at buf, 64-byte aligned), borrowed:
 * buf must stay valid and unchanged until index_close. For the fuzzer and for tests. */
int index_open_mem(const void *buf, size_t len, const char *space, struct index **out,
                   struct err *e);

/* Checks the checksum of the vectors and their int8 copy (a full read: ~0.3 s per GB).
 * Returns INDEX_OK or INDEX_ERR_FORMAT. */
int index_verify(const struct index *ix, struct err *e);

/* Unmaps and frees the index; ix may be NULL. */
void index_close(struct index *ix);

/* Returns the index's space, model, dim and count; borrowed, valid until index_close. */
const struct index_meta *index_get_meta(const struct index *ix);

/* Returns row's float32 vector (dim floats, as written), or NULL when row >= count;
 * borrowed, valid until index_close. */
const float *index_get_vector(const struct index *ix, uint32_t row);

/* Returns row's float32 vector as index_get_vector does, but read into buf (dim floats)
 * with pread when the index is a file, so the process maps none of the float rows: a
 * search that re-ranks a few dozen rows would otherwise see whole folios of the float
 * section mapped (the page cache's large folios are mapped whole on a fault), and its
 * resident size grow towards the file's. Falls back to the mapping if pread fails. */
const float *index_read_vector(const struct index *ix, uint32_t row, float *buf);

/* Returns row's person id; row must be < count. */
int64_t index_get_id(const struct index *ix, uint32_t row);

/* Finds the row of a person id (binary search). Returns 1 and sets *row when found,
 * else 0. */
int index_find_id(const struct index *ix, int64_t id, uint32_t *row);

/* The top-k rows by cosine with query (dim floats, any non-zero length: it is normalised
 * first), best first, ties by row; rows whose id equals exclude are skipped (INDEX_NO_ID:
 * none). out has room for k hits; *n_out = min(k, rows searched). threads (1 ..
 * INDEX_THREADS_MAX) split the scan when the index is large enough to gain from it.
 * Returns INDEX_OK or INDEX_ERR_INPUT (query not finite or zero). Thread-safe. */
int index_search(const struct index *ix, const float *query, size_t k, int64_t exclude, int threads,
                 struct index_hit *out, size_t *n_out, struct err *e);

/* index_search with flags (enum index_search_flags) and what it read in *stats (NULL
 * for none). */
int index_search_ex(const struct index *ix, const float *query, size_t k, int64_t exclude,
                    int threads, unsigned flags, struct index_hit *out, size_t *n_out,
                    struct index_stats *stats, struct err *e);

/* Attaches an approximate-search graph (index/hnsw.h) built for ix's rows; ix takes
 * ownership and frees it in index_close. Call before ix is shared between threads. */
void index_attach_hnsw(struct index *ix, struct hnsw *g);

/* Returns the attached graph or NULL; borrowed, valid until index_close. */
const struct hnsw *index_get_hnsw(const struct index *ix);

/* The top q->k rows by cosine with query, through the attached graph (approximate:
 * recall@10 >= 0.99 at the default ef on the benchmark) unless there is none or q->flags
 * has INDEX_SEARCH_EXACT; rows the filter q->allow rejects and the row of q->exclude are
 * never returned. Hits and errors as index_search; a graph's rank_pct takes its hits as
 * the true top. Thread-safe. */
int index_query(const struct index *ix, const float *query, const struct index_query *q,
                struct index_hit *out, size_t *n_out, struct index_stats *st, struct err *e);

/* Forces the int8 kernel of every later search in the process: "scalar", "avx2",
 * "avx512" (AVX-512BW), "vnni" (AVX-512 VNNI) or "auto" (the best this CPU has, the
 * default). Returns INDEX_OK, or INDEX_ERR_INPUT when the name is unknown or the CPU
 * lacks the instructions. For tests and benchmarks; not to be called during a search. */
int index_set_kernel(const char *name);

/* Returns the name of the kernel searches use now; static storage. */
const char *index_kernel_name(void);

/* Returns the kernels this CPU can run, best last, NULL-terminated; static storage. */
const char *const *index_kernel_list(void);

#endif
