/*
 * hnsw: building, storing and searching the graph.
 *
 * The graph is the HNSW of Malkov and Yashunin: every node has a level drawn from a
 * geometric law (P(level >= l) = M^-l), a list of up to 2M links at level 0 and up to M
 * at each level above; a search descends greedily from the top entry node and then keeps
 * the ef best nodes seen on level 0, expanding the best unexpanded one until none can
 * improve them. Links are chosen by the usual heuristic (a candidate is kept only when it
 * is closer to the node than to every link kept before it), which keeps long links
 * between clusters. Scores are cosines estimated from the index's int8 copy (per-row
 * scales; head and tail parts as the exact scan stores them), so a node costs one pass of
 * the int8 kernel over dim bytes; the search's best candidates are re-scored in float32.
 *
 * Deterministic parallel build. Inserting one node at a time makes the graph depend on
 * the order threads happen to run in. Instead nodes are inserted in batches, in row
 * order: within a batch, every node searches the graph as it stood when the batch began
 * (read-only, so threads share it without locks and a node's links do not depend on
 * which thread computed them or when), then the reverse links are added: the edges
 * (target, level, new node) are sorted, and each target's new links, in that order, are
 * merged into its list (pruned by the heuristic when full) by whichever thread takes the
 * target, each list written by one thread. The graph is therefore a function of the rows,
 * M, efConstruction and the seed (which draws the levels from the person ids), and the
 * same for 1 or 64 threads. The cost is that nodes of one batch do not see each other, so
 * the batch is kept small against the graph: it starts at one node and grows to 1/64 of
 * the nodes inserted (at most BATCH_MAX), where a node's missed neighbours are few and
 * later insertions link them anyway: on the benchmark (bench/bench_hnsw.sh) recall@10 at
 * every ef is within 0.01 of hnswlib's, built one node at a time with the same M and
 * efConstruction. A lock-per-node build would scale further but gives a different graph
 * on every run.
 *
 * Searching, a node costs one int8 pass over its row, prefetched while the previous one
 * is scored: a row of at most WALK_ROWS_MAX bytes from the graph's own whole copy (made
 * at open or build, one pass and cache lines side by side), a wider one head first from
 * the index, its tail only when the bound allows (probe_score_above); the results' best
 * max(k x INDEX_RERANK, INDEX_CANDIDATES_MIN) are re-scored in float32. A filter keeps
 * rejected nodes as stepping stones but out of the results, and raises ef by 1/(the
 * fraction allowed), at most FILTER_EF_MAX times; below FILTER_MIN_ROWS allowed rows or
 * FILTER_MIN_FRAC of them the graph would walk mostly rejected nodes, so those rows are
 * scanned exactly instead. Without an ef asked, the one tuned at build for recall@10 of
 * 0.99 on queries drawn like the rows (tune_ef, at the end of this file).
 *
 * File (little-endian, sections on 64-byte boundaries): a 192-byte header, then
 *   L0     count x (1 + 2M) uint32   level-0 list of each node: length, then the links
 *   LEVEL  count uint8               each node's top level
 *   UPOFF  count uint32              first upper block of each node (prefix sums of levels)
 *   UPPER  n_upper x (1 + M) uint32  one block per node and level above 0, same format
 *   IDS    count int64               the person id of each node (for updates)
 *   VHASH  count uint64              checksum of each node's float32 vector (for updates)
 * The header's sum covers the header (sum read as zero) and every section.
 */
#include "index/hnsw.h"

#include "index/basis.h"
#include "index/dot.h"
#include "index/layout.h"
#include "util/progress.h"
#include "util/xalloc.h"

#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#define HN_MAGIC        "DOPPELHN"
#define HN_VERSION      1
#define HN_HEADER_SIZE  192
#define HN_NSECT        6
#define BATCH_MAX       1024 /* nodes inserted against one frozen graph */
#define BATCH_FRACTION  64   /* ... and at most 1/64 of the nodes already in */
#define PAR_MIN         8    /* smaller batches run on the calling thread */
#define FILTER_MIN_ROWS 2000 /* fewer allowed rows than this: scan them exactly */
#define FILTER_MIN_FRAC 0.02 /* ... or fewer than this fraction */
#define FILTER_EF_MAX   16   /* a filter multiplies ef by 1/fraction, at most this */
#define WALK_AHEAD      4    /* rows prefetched ahead of their scoring in a walk */
#define WALK_ROWS_MAX   256  /* rows of at most this many int8 bytes are walked whole */
#define NO_NODE         UINT32_MAX
#define HUGE_PAGE       ((size_t)2 << 20) /* arrays walked at random get pages this big */

enum { SEC_L0, SEC_LEVEL, SEC_UPOFF, SEC_UPPER, SEC_IDS, SEC_VHASH };

struct hn_header {
    char magic[8];
    uint32_t version, header_size;
    uint32_t count, dim, m, m0, efc, entry, max_level;
    uint32_t ef_tuned; /* the default ef tuned at build (0 in graphs from before tuning) */
    uint64_t seed, n_upper, ix_sum, file_size;
    uint64_t off[HN_NSECT];
    uint64_t sum;
    uint32_t tune_recall; /* recall@10 that ef reached on the tuning queries, millionths */
    uint32_t tune_rows;   /* how many rows the tuning queries were drawn like */
    unsigned char reserved[48];
};

/* A visited-set: mark[r] == epoch when r was seen in the current search. */
struct visit {
    uint16_t *mark;
    uint16_t epoch;
    struct visit *next;
};

struct pool {
    pthread_mutex_t lock;
    struct visit *free;
};

struct hnsw {
    const struct index *ix; /* bound index or NULL */
    uint32_t count, dim, m, m0, efc, entry, max_level;
    uint32_t ef_tuned, tune_recall, tune_rows; /* see struct hn_header */
    uint64_t seed, n_upper, ix_sum;
    uint64_t off[HN_NSECT], size;
    unsigned char *base; /* the image */
    uint32_t *l0, *upoff, *upper;
    uint8_t *level;
    int64_t *ids;
    uint64_t *vhash;
    int owned;  /* base is ours to free */
    int mapped; /* base is our mapping */
    struct pool *pool;
    int8_t *rows; /* short rows whole (head then tail), for walks; NULL: use the index's */
};

/* ---- layout ---------------------------------------------------------------------------- */

static uint64_t align64(uint64_t x)
{
    return (x + 63) / 64 * 64;
}

/* Section offsets of a graph of this shape into off[]; returns the file size. */
static uint64_t hn_layout(uint64_t count, uint64_t n_upper, uint32_t m, uint64_t *off)
{
    uint64_t size[HN_NSECT] = {count * (1 + 2 * (uint64_t)m) * 4, count,     count * 4,
                               n_upper * (1 + (uint64_t)m) * 4,   count * 8, count * 8};
    uint64_t at = HN_HEADER_SIZE;

    for (int i = 0; i < HN_NSECT; i++) {
        off[i] = at;
        at = align64(at + size[i]);
    }
    return at;
}

static void hn_bind(struct hnsw *g)
{
    g->l0 = (uint32_t *)(g->base + g->off[SEC_L0]);
    g->level = g->base + g->off[SEC_LEVEL];
    g->upoff = (uint32_t *)(g->base + g->off[SEC_UPOFF]);
    g->upper = (uint32_t *)(g->base + g->off[SEC_UPPER]);
    g->ids = (int64_t *)(g->base + g->off[SEC_IDS]);
    g->vhash = (uint64_t *)(g->base + g->off[SEC_VHASH]);
}

/* The link list of node r at level l: [0] the length, then the links. */
static uint32_t *links(const struct hnsw *g, uint32_t r, uint32_t l)
{
    if (l == 0)
        return g->l0 + (size_t)r * (1 + g->m0);
    return g->upper + ((size_t)g->upoff[r] + l - 1) * (1 + g->m);
}

static uint64_t image_sum(const unsigned char *base, uint64_t size)
{
    struct hn_header h;
    uint64_t s;

    memcpy(&h, base, sizeof h);
    h.sum = 0;
    s = layout_sum64(&h, sizeof h, 0x484e5357);
    return layout_sum64(base + HN_HEADER_SIZE, size - HN_HEADER_SIZE, s);
}

/* Writes the header fields of g into its image and the checksum over everything. */
static void hn_seal(struct hnsw *g)
{
    struct hn_header h;

    memset(&h, 0, sizeof h);
    memcpy(h.magic, HN_MAGIC, 8);
    h.version = HN_VERSION;
    h.header_size = HN_HEADER_SIZE;
    h.count = g->count;
    h.dim = g->dim;
    h.m = g->m;
    h.m0 = g->m0;
    h.efc = g->efc;
    h.entry = g->entry;
    h.max_level = g->max_level;
    h.ef_tuned = g->ef_tuned;
    h.tune_recall = g->tune_recall;
    h.tune_rows = g->tune_rows;
    h.seed = g->seed;
    h.n_upper = g->n_upper;
    h.ix_sum = g->ix_sum;
    h.file_size = g->size;
    memcpy(h.off, g->off, sizeof h.off);
    memcpy(g->base, &h, sizeof h);
    h.sum = image_sum(g->base, g->size);
    memcpy(g->base, &h, sizeof h);
}

void hnsw_reseal(void *image, size_t len)
{
    struct hn_header h;

    if (len < HN_HEADER_SIZE)
        return;
    memcpy(&h, image, sizeof h);
    h.sum = image_sum(image, len);
    memcpy(image, &h, sizeof h);
}

static struct hnsw *hn_alloc(void)
{
    struct hnsw *g = xcalloc(1, sizeof *g);

    g->pool = xcalloc(1, sizeof *g->pool);
    pthread_mutex_init(&g->pool->lock, NULL);
    return g;
}

void hnsw_free(struct hnsw *g)
{
    if (g == NULL)
        return;
    for (struct visit *v = g->pool->free, *nx; v != NULL; v = nx) {
        nx = v->next;
        free(v->mark);
        free(v);
    }
    pthread_mutex_destroy(&g->pool->lock);
    free(g->pool);
    free(g->rows);
    if (g->mapped)
        munmap(g->base, g->size);
    else if (g->owned)
        free(g->base);
    free(g);
}

/* Memory (not zeroed) for an array read at random (rows, visited marks): with 4 KB pages
 * a walk over millions of rows takes a TLB miss on nearly every node (on the benchmark's
 * VM, with nested paging, asking for 2 MB pages doubled the rate at 2M rows), so large
 * arrays ask for them where transparent huge pages are "madvise", as on Debian. Freed
 * with free(). */
static void *huge_alloc(size_t n)
{
    size_t size = (n + HUGE_PAGE - 1) / HUGE_PAGE * HUGE_PAGE;
    void *p;

    if (n < HUGE_PAGE)
        return xmalloc(n ? n : 1);
    p = xaligned_alloc(HUGE_PAGE, size);
    madvise(p, size, MADV_HUGEPAGE); /* advice only: without it the pages are small */
    return p;
}

/* Gives g a whole copy of each int8 row when rows are short: there the head's bound
 * saves little and costs a second kernel call and cache line, so a walk scores each
 * row in one pass over adjacent bytes (the exact scan keeps the index's head and tail). */
static void hn_rows(struct hnsw *g)
{
    const struct index *ix = g->ix;
    const struct layout *lay;

    if (ix == NULL || g->rows != NULL)
        return;
    lay = &ix->lay;
    if (lay->head == 0 || lay->padded > WALK_ROWS_MAX)
        return;
    g->rows = huge_alloc((size_t)g->count * lay->padded);
    for (uint32_t r = 0; r < g->count; r++) {
        memcpy(g->rows + (size_t)r * lay->padded, ix->qhead + (size_t)r * lay->head, lay->head);
        memcpy(g->rows + (size_t)r * lay->padded + lay->head, ix->qtail + (size_t)r * lay->tail,
               lay->tail);
    }
}

/* ---- levels and scratch ---------------------------------------------------------------- */

static uint64_t mix64(uint64_t z)
{
    z = (z ^ z >> 30) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ z >> 27) * 0x94D049BB133111EBull;
    return z ^ z >> 31;
}

/* The level of the person id: floor(-ln(u) / ln(M)), u uniform in (0, 1] from the seed. */
static uint32_t level_of(uint64_t seed, int64_t id, uint32_t m)
{
    uint64_t z = mix64(seed * 0x9E3779B97F4A7C15ull + mix64((uint64_t)id));
    double u = ((double)(z >> 11) + 1.0) / 9007199254740992.0;
    double l = floor(-log(u) / log((double)m));

    return l > HNSW_LEVEL_MAX ? HNSW_LEVEL_MAX : (uint32_t)l;
}

static struct visit *visit_get(const struct hnsw *g)
{
    struct visit *v;

    pthread_mutex_lock(&g->pool->lock);
    v = g->pool->free;
    if (v != NULL)
        g->pool->free = v->next;
    pthread_mutex_unlock(&g->pool->lock);
    if (v == NULL) {
        v = xcalloc(1, sizeof *v);
        v->mark = huge_alloc((size_t)g->count * sizeof *v->mark);
        memset(v->mark, 0, (size_t)g->count * sizeof *v->mark);
    }
    if (++v->epoch == 0) {
        memset(v->mark, 0, (size_t)g->count * sizeof *v->mark);
        v->epoch = 1;
    }
    return v;
}

static void visit_put(const struct hnsw *g, struct visit *v)
{
    pthread_mutex_lock(&g->pool->lock);
    v->next = g->pool->free;
    g->pool->free = v;
    pthread_mutex_unlock(&g->pool->lock);
}

/* ---- scoring --------------------------------------------------------------------------- */

/* A query prepared for scoring rows: int8 parts and scale, as the index stores rows. */
struct probe {
    const struct index *ix;
    const struct dot_kernel *k;
    struct dot_query qh, qt;
    float qscale;
    float qtnorm; /* L2 norm of the int8 tail, for the bound in probe_score_above */
    const int8_t *rows; /* the graph's whole rows, or NULL */
    struct dot_query qf; /* the whole query, for rows */
};

/* The estimated cosine of the probe with row r. */
static float probe_score(const struct probe *p, uint32_t r)
{
    const struct layout *lay = &p->ix->lay;
    int32_t h = 0, t;

    if (p->rows != NULL) {
        p->k->rows(&p->qf, p->rows + (size_t)r * lay->padded, 1, &t);
        return p->qscale * p->ix->scale[r] * (float)t;
    }
    if (lay->head > 0)
        p->k->rows(&p->qh, p->ix->qhead + (size_t)r * lay->head, 1, &h);
    p->k->rows(&p->qt, p->ix->qtail + (size_t)r * lay->tail, 1, &t);
    return p->qscale * p->ix->scale[r] * (float)(h + t);
}

/* The same where only a score above floor matters: the head first, and the tail (most of
 * a high-dimensional row's bytes) only when the head's score plus the Cauchy-Schwarz
 * bound on the tail's, |q_tail| |r_tail| (the index keeps each row's tail norm), could
 * beat floor. Returns -INFINITY for a row skipped that way; its true score is at most
 * floor, so a search taking only scores above floor walks exactly as if it had scored it. */
static float probe_score_above(const struct probe *p, uint32_t r, float floor)
{
    const struct layout *lay = &p->ix->lay;
    float sc = p->qscale * p->ix->scale[r];
    int32_t h = 0, t;

    if (p->rows != NULL)
        return probe_score(p, r);
    if (lay->head > 0) {
        p->k->rows(&p->qh, p->ix->qhead + (size_t)r * lay->head, 1, &h);
        if (sc * ((float)h + p->qtnorm * p->ix->tnorm[r] * (1 + 1e-5f) + 1) <= floor)
            return -INFINITY;
    }
    p->k->rows(&p->qt, p->ix->qtail + (size_t)r * lay->tail, 1, &t);
    return sc * (float)(h + t);
}

/* A probe for row r of g's index itself; bias holds 128 x the sums of each row's head
 * and tail (2 per row). */
static void probe_row(struct probe *p, const struct hnsw *g, const int32_t *bias, uint32_t r)
{
    const struct index *ix = g->ix;
    const struct layout *lay = &ix->lay;

    p->ix = ix;
    p->k = dot_kernel_get();
    p->qh = (struct dot_query){ix->qhead + (size_t)r * lay->head, lay->head, bias[2 * r]};
    p->qt = (struct dot_query){ix->qtail + (size_t)r * lay->tail, lay->tail, bias[2 * r + 1]};
    p->qscale = ix->scale[r];
    p->qtnorm = ix->tnorm[r];
    p->rows = g->rows;
    if (g->rows != NULL)
        p->qf = (struct dot_query){g->rows + (size_t)r * lay->padded, lay->padded,
                                   bias[2 * r] + bias[2 * r + 1]};
}

static int32_t *row_biases(const struct index *ix)
{
    const struct layout *lay = &ix->lay;
    int32_t *b = xmalloc(2 * (ix->meta.count ? ix->meta.count : 1) * sizeof *b);

    for (uint64_t r = 0; r < ix->meta.count; r++) {
        struct dot_query d;

        dot_query_init(&d, ix->qhead + r * lay->head, lay->head);
        b[2 * r] = d.bias;
        dot_query_init(&d, ix->qtail + r * lay->tail, lay->tail);
        b[2 * r + 1] = d.bias;
    }
    return b;
}

/* What probe_score_above reads first of row r: the whole short row, or its head, scale
 * and tail norm (the tail is read only for rows that pass the bound, and then in one run
 * the hardware streams). */
static void prefetch_row(const struct probe *p, uint32_t r)
{
    const struct index *ix = p->ix;

    if (p->rows != NULL) {
        for (uint32_t j = 0; j < ix->lay.padded; j += 64)
            __builtin_prefetch(p->rows + (size_t)r * ix->lay.padded + j);
    } else if (ix->lay.head > 0) {
        __builtin_prefetch(ix->qhead + (size_t)r * ix->lay.head);
        __builtin_prefetch(ix->tnorm + r);
    } else {
        __builtin_prefetch(ix->qtail + (size_t)r * ix->lay.tail);
    }
    __builtin_prefetch(ix->scale + r);
}

/* ---- heaps ----------------------------------------------------------------------------- */

struct nb {
    float s;
    uint32_t r;
};

/* A binary max-heap on s (a min-heap when the caller stores -s). */
struct heap {
    struct nb *a;
    size_t n, cap;
};

static void heap_push(struct heap *h, float s, uint32_t r)
{
    size_t i = h->n++;

    if (h->n > h->cap) {
        h->cap = h->cap ? 2 * h->cap : 64;
        h->a = xrealloc(h->a, h->cap * sizeof *h->a);
    }
    while (i > 0 && h->a[(i - 1) / 2].s < s) {
        h->a[i] = h->a[(i - 1) / 2];
        i = (i - 1) / 2;
    }
    h->a[i] = (struct nb){s, r};
}

static struct nb heap_pop(struct heap *h)
{
    struct nb top = h->a[0], last = h->a[--h->n];
    size_t i = 0;

    for (;;) {
        size_t c = 2 * i + 1;

        if (c >= h->n)
            break;
        if (c + 1 < h->n && h->a[c + 1].s > h->a[c].s)
            c++;
        if (h->a[c].s <= last.s)
            break;
        h->a[i] = h->a[c];
        i = c;
    }
    if (h->n > 0)
        h->a[i] = last;
    return top;
}

static int cmp_nb_best_first(const void *a, const void *b)
{
    const struct nb *x = a, *y = b;

    if (x->s != y->s)
        return x->s < y->s ? 1 : -1;
    return (x->r > y->r) - (x->r < y->r);
}

/* ---- searching a layer ----------------------------------------------------------------- */

/* One layer search's inputs besides the graph. */
struct walk {
    const struct probe *p;
    struct visit *v;
    const uint64_t *allow; /* NULL: every node is a result candidate */
    uint32_t skip;         /* never a result (NO_NODE: none) */
    size_t ef;
    struct heap near, res; /* scratch: res holds -s */
    uint64_t scored;
};

static int walk_allowed(const struct walk *w, uint32_t r)
{
    if (r == w->skip)
        return 0;
    return w->allow == NULL || (w->allow[r / 64] >> (r % 64) & 1);
}

/* Scores the unvisited links of c and pushes those that may improve the results. */
static void walk_expand(const struct hnsw *g, struct walk *w, uint32_t c, uint32_t l)
{
    const uint32_t *ls = links(g, c, l);
    uint32_t n = ls[0], fresh[2 * HNSW_M_MAX], nf = 0;

    for (uint32_t i = 1; i <= n; i++) {
        if (w->v->mark[ls[i]] != w->v->epoch) {
            w->v->mark[ls[i]] = w->v->epoch;
            fresh[nf++] = ls[i];
        }
    }
    for (uint32_t i = 0; i < nf && i < WALK_AHEAD; i++)
        prefetch_row(w->p, fresh[i]);
    for (uint32_t i = 0; i < nf; i++) {
        float s;

        if (i + WALK_AHEAD < nf)
            prefetch_row(w->p, fresh[i + WALK_AHEAD]);
        s = probe_score_above(w->p, fresh[i], w->res.n < w->ef ? -INFINITY : -w->res.a[0].s);
        w->scored++;
        if (w->res.n < w->ef || s > -w->res.a[0].s) {
            heap_push(&w->near, s, fresh[i]);
            if (walk_allowed(w, fresh[i])) {
                heap_push(&w->res, -s, fresh[i]);
                if (w->res.n > w->ef)
                    heap_pop(&w->res);
            }
        }
    }
}

/* The ef best allowed nodes of level l reachable from ep (score s), into w->res. */
static void walk_layer(const struct hnsw *g, struct walk *w, uint32_t ep, float s, uint32_t l)
{
    w->near.n = 0;
    w->res.n = 0;
    w->v->mark[ep] = w->v->epoch;
    heap_push(&w->near, s, ep);
    if (walk_allowed(w, ep))
        heap_push(&w->res, -s, ep);
    while (w->near.n > 0) {
        struct nb c = heap_pop(&w->near);

        if (w->res.n >= w->ef && c.s < -w->res.a[0].s)
            break;
        walk_expand(g, w, c.r, l);
    }
}

/* Greedy descent on level l from *ep (score *s) to a local best. */
static void walk_greedy(const struct hnsw *g, const struct probe *p, uint32_t l, uint32_t *ep,
                        float *s, uint64_t *scored)
{
    for (int moved = 1; moved;) {
        const uint32_t *ls = links(g, *ep, l);

        moved = 0;
        for (uint32_t i = 1; i <= ls[0]; i++) {
            float t = probe_score_above(p, ls[i], *s);

            (*scored)++;
            if (t > *s) {
                *s = t;
                *ep = ls[i];
                moved = 1;
            }
        }
    }
}

/* Moves w->res into out (best first); returns how many. */
static size_t walk_results(struct walk *w, struct nb *out)
{
    size_t n = w->res.n;

    for (size_t i = n; i-- > 0;) {
        struct nb x = heap_pop(&w->res);

        out[i] = (struct nb){-x.s, x.r};
    }
    return n;
}

/* ---- building -------------------------------------------------------------------------- */

/* Picks up to cap links for base from cand (n, best first, scored against base) by the
 * heuristic; writes them to list (length first). */
static void select_links(const struct hnsw *g, const int32_t *bias, const struct nb *cand,
                         size_t n, uint32_t cap, uint32_t *list)
{
    uint32_t kept = 0;

    for (size_t i = 0; i < n && kept < cap; i++) {
        struct probe pc;
        int good = 1;

        probe_row(&pc, g, bias, cand[i].r);
        for (uint32_t j = 1; j <= kept && good; j++)
            good = probe_score(&pc, list[j]) <= cand[i].s;
        if (good)
            list[++kept] = cand[i].r;
    }
    list[0] = kept;
}

/* Shared state of a build or update. */
struct builder {
    struct hnsw *g;
    const struct index *ix;
    const int32_t *bias;
    uint32_t entry, top;   /* the frozen entry node and its level during a batch */
    const uint32_t *order; /* rows to insert, in order */
    size_t b0, b1;         /* the current batch: order[b0 .. b1) */
    struct edge *edges;
    size_t n_edges;
    size_t *groups; /* start of each target's run in edges, n_groups + 1 */
    size_t n_groups;
    atomic_size_t next;
    int threads;
    struct progress *progress;
};

struct edge {
    uint32_t v, l, u;
};

/* Per-thread scratch of a build. */
struct scratch {
    struct walk w;
    struct nb *cand;
};

static void scratch_init(struct scratch *s, const struct hnsw *g, size_t ef)
{
    memset(s, 0, sizeof *s);
    s->w.v = visit_get(g);
    s->w.ef = ef;
    s->w.skip = NO_NODE;
    s->cand = xmalloc((ef + 2 * (size_t)HNSW_M_MAX + 1) * sizeof *s->cand);
}

static void scratch_release(struct scratch *s, const struct hnsw *g)
{
    visit_put(g, s->w.v);
    free(s->w.near.a);
    free(s->w.res.a);
    free(s->cand);
}

/* Finds and writes the links of new node u against the frozen graph. */
static void insert_search(struct builder *b, struct scratch *s, uint32_t u)
{
    struct hnsw *g = b->g;
    struct probe p;
    uint32_t ep = b->entry, lu = g->level[u];
    uint64_t scored = 0;
    float es;

    probe_row(&p, b->g, b->bias, u);
    es = probe_score(&p, ep);
    for (uint32_t l = b->top; l > lu; l--)
        walk_greedy(g, &p, l, &ep, &es, &scored);
    s->w.p = &p;
    for (uint32_t l = lu < b->top ? lu : b->top;; l--) {
        size_t n;

        if (++s->w.v->epoch == 0) {
            memset(s->w.v->mark, 0, (size_t)g->count * sizeof *s->w.v->mark);
            s->w.v->epoch = 1;
        }
        walk_layer(g, &s->w, ep, es, l);
        n = walk_results(&s->w, s->cand);
        select_links(b->g, b->bias, s->cand, n, g->m, links(g, u, l));
        ep = s->cand[0].r;
        es = s->cand[0].s;
        if (l == 0)
            break;
    }
}

/* Merges the new links of one target (edges[a .. z), same v and l) into its list. */
static void link_target(struct builder *b, struct scratch *s, size_t a, size_t z)
{
    struct hnsw *g = b->g;
    uint32_t v = b->edges[a].v, l = b->edges[a].l, *ls = links(g, v, l);
    uint32_t cap = l == 0 ? g->m0 : g->m, n = ls[0];
    struct probe p;

    if (n + (z - a) <= cap) {
        for (size_t i = a; i < z; i++)
            ls[++ls[0]] = b->edges[i].u;
        return;
    }
    probe_row(&p, b->g, b->bias, v);
    for (uint32_t i = 0; i < n; i++)
        s->cand[i] = (struct nb){probe_score(&p, ls[1 + i]), ls[1 + i]};
    for (size_t i = a; i < z; i++)
        s->cand[n++] = (struct nb){probe_score(&p, b->edges[i].u), b->edges[i].u};
    qsort(s->cand, n, sizeof *s->cand, cmp_nb_best_first);
    select_links(b->g, b->bias, s->cand, n, cap, ls);
}

static void *phase_search(void *arg)
{
    struct builder *b = arg;
    struct scratch s;

    scratch_init(&s, b->g, b->g->efc);
    for (size_t i; (i = atomic_fetch_add(&b->next, 1) + b->b0) < b->b1;)
        insert_search(b, &s, b->order[i]);
    scratch_release(&s, b->g);
    return NULL;
}

static void *phase_link(void *arg)
{
    struct builder *b = arg;
    struct scratch s;

    scratch_init(&s, b->g, 4 * (size_t)HNSW_M_MAX);
    s.cand = xrealloc(s.cand, (BATCH_MAX + 2 * (size_t)HNSW_M_MAX + 1) * sizeof *s.cand);
    for (size_t i; (i = atomic_fetch_add(&b->next, 1)) < b->n_groups;)
        link_target(b, &s, b->groups[i], b->groups[i + 1]);
    scratch_release(&s, b->g);
    return NULL;
}

/* Runs fn on the calling thread and, for n items or more, on threads - 1 more. */
static void run_parallel(struct builder *b, void *(*fn)(void *), size_t n)
{
    pthread_t tid[INDEX_THREADS_MAX];
    int nt = n >= PAR_MIN ? b->threads : 1, started = 0;

    atomic_store(&b->next, 0);
    for (int t = 1; t < nt; t++)
        if (pthread_create(&tid[started], NULL, fn, b) == 0)
            started++;
    fn(b);
    for (int t = 0; t < started; t++)
        pthread_join(tid[t], NULL);
}

static int cmp_edge(const void *a, const void *b)
{
    const struct edge *x = a, *y = b;

    if (x->v != y->v)
        return x->v < y->v ? -1 : 1;
    if (x->l != y->l)
        return x->l < y->l ? -1 : 1;
    return (x->u > y->u) - (x->u < y->u);
}

/* Collects the batch's reverse edges, sorted, and the runs of equal targets. */
static void collect_edges(struct builder *b)
{
    struct hnsw *g = b->g;

    b->n_edges = 0;
    for (size_t i = b->b0; i < b->b1; i++) {
        uint32_t u = b->order[i], top = g->level[u] < b->top ? g->level[u] : b->top;

        for (uint32_t l = 0; l <= top; l++) {
            const uint32_t *ls = links(g, u, l);

            for (uint32_t j = 1; j <= ls[0]; j++)
                b->edges[b->n_edges++] = (struct edge){ls[j], l, u};
        }
    }
    qsort(b->edges, b->n_edges, sizeof *b->edges, cmp_edge);
    b->n_groups = 0;
    for (size_t i = 0; i < b->n_edges; i++)
        if (i == 0 || b->edges[i].v != b->edges[i - 1].v || b->edges[i].l != b->edges[i - 1].l)
            b->groups[b->n_groups++] = i;
    b->groups[b->n_groups] = b->n_edges;
}

/* Inserts order[from .. n) in batches into the graph whose entry is b->entry. */
static void insert_all(struct builder *b, size_t from, size_t n)
{
    size_t per_node = (HNSW_LEVEL_MAX + 1) * (size_t)b->g->m;

    b->edges = xmalloc(BATCH_MAX * per_node * sizeof *b->edges);
    b->groups = xmalloc((BATCH_MAX * per_node + 1) * sizeof *b->groups);
    for (size_t done = from; done < n;) {
        size_t size = done / BATCH_FRACTION;

        size = size < 1 ? 1 : size > BATCH_MAX ? BATCH_MAX : size;
        b->b0 = done;
        b->b1 = done + size < n ? done + size : n;
        run_parallel(b, phase_search, b->b1 - b->b0);
        collect_edges(b);
        run_parallel(b, phase_link, b->n_groups);
        if (b->progress != NULL)
            progress_add(b->progress, b->b1 - b->b0);
        for (size_t i = b->b0; i < b->b1; i++) {
            if (b->g->level[b->order[i]] > b->top) {
                b->top = b->g->level[b->order[i]];
                b->entry = b->order[i];
            }
        }
        done = b->b1;
    }
    b->g->entry = b->entry;
    b->g->max_level = b->top;
    free(b->edges);
    free(b->groups);
}

static int check_params(const struct index *ix, const struct hnsw_params *p, struct err *e)
{
    uint32_t m = p->m ? p->m : HNSW_M_DEFAULT;

    if (ix->meta.count == 0) {
        err_set(e, "no rows to build a graph of");
        return INDEX_ERR_INPUT;
    }
    if (m < 2 || m > HNSW_M_MAX) {
        err_set(e, "M %u out of range 2..%d", m, HNSW_M_MAX);
        return INDEX_ERR_INPUT;
    }
    if (p->efc > HNSW_EF_MAX) {
        err_set(e, "efConstruction %u above %d", p->efc, HNSW_EF_MAX);
        return INDEX_ERR_INPUT;
    }
    return INDEX_OK;
}

/* An empty graph for ix's rows: levels, upper offsets, ids and vector sums set, no links. */
static struct hnsw *hn_new(const struct index *ix, const struct hnsw_params *p)
{
    struct hnsw *g = hn_alloc();
    uint64_t n_upper = 0;

    g->ix = ix;
    g->count = (uint32_t)ix->meta.count;
    g->dim = ix->meta.dim;
    g->m = p->m ? p->m : HNSW_M_DEFAULT;
    g->m0 = 2 * g->m;
    g->efc = p->efc ? p->efc : HNSW_EFC_DEFAULT;
    g->seed = p->seed;
    g->ix_sum = ix->data_sum;
    for (uint32_t r = 0; r < g->count; r++)
        n_upper += level_of(g->seed, ix->ids[r], g->m);
    g->n_upper = n_upper;
    g->size = hn_layout(g->count, n_upper, g->m, g->off);
    g->base = xaligned_alloc(64, g->size);
    memset(g->base, 0, g->size);
    g->owned = 1;
    hn_bind(g);
    n_upper = 0;
    for (uint32_t r = 0; r < g->count; r++) {
        g->level[r] = (uint8_t)level_of(g->seed, ix->ids[r], g->m);
        g->upoff[r] = (uint32_t)n_upper;
        n_upper += g->level[r];
        g->ids[r] = ix->ids[r];
        g->vhash[r] = layout_sum64(index_get_vector(ix, r), (size_t)g->dim * 4, 0);
    }
    return g;
}

static void tune_ef(struct hnsw *g, int threads);

static int clamp_threads(int t)
{
    return t < 1 ? 1 : t > INDEX_THREADS_MAX ? INDEX_THREADS_MAX : t;
}

int hnsw_build(const struct index *ix, const struct hnsw_params *p, struct hnsw **out,
               struct err *e)
{
    struct builder b;
    uint32_t *order;
    int rc = check_params(ix, p, e);

    *out = NULL;
    if (rc != INDEX_OK)
        return rc;
    memset(&b, 0, sizeof b);
    b.g = hn_new(ix, p);
    b.ix = ix;
    hn_rows(b.g);
    b.bias = row_biases(ix);
    b.threads = clamp_threads(p->threads);
    b.progress = p->progress;
    order = xmalloc(b.g->count * sizeof *order);
    for (uint32_t r = 0; r < b.g->count; r++)
        order[r] = r;
    b.order = order;
    b.entry = 0;
    b.top = b.g->level[0];
    insert_all(&b, 1, b.g->count);
    free(order);
    free((void *)b.bias);
    tune_ef(b.g, b.threads);
    hn_seal(b.g);
    *out = b.g;
    return INDEX_OK;
}

/* ---- updating -------------------------------------------------------------------------- */

struct remap {
    const struct hnsw *old;
    struct builder *b;
    const uint32_t *to; /* old node -> new row or NO_NODE */
    atomic_size_t next;
    atomic_ulong repaired;
};

#define REMAP_CAND (4 * (size_t)HNSW_M_MAX) /* room for a repaired list's candidates */

/* Adds x to cand (n entries, room for REMAP_CAND) unless it is base, already there, or
 * there is no room left. */
static size_t add_unique(struct nb *cand, size_t n, uint32_t x, uint32_t base)
{
    if (x == NO_NODE || x == base || n >= REMAP_CAND)
        return n;
    for (size_t i = 0; i < n; i++)
        if (cand[i].r == x)
            return n;
    cand[n].r = x;
    return n + 1;
}

/* Adds the kept links of removed node d at level l to cand (n entries, room for
 * REMAP_CAND); returns the new count. */
static size_t add_replacements(const struct remap *m, struct nb *cand, size_t n, uint32_t d,
                               uint32_t l, uint32_t base)
{
    const uint32_t *dl = links(m->old, d, l);

    for (uint32_t j = 1; j <= dl[0] && n < REMAP_CAND; j++)
        n = add_unique(cand, n, m->to[dl[j]], base);
    return n;
}

/* Copies old node o's level-l list to new row r, replacing removed links by their own
 * links and pruning back to the cap; returns 1 when something was removed. */
static int remap_list(struct remap *m, struct nb *cand, uint32_t o, uint32_t l)
{
    const struct hnsw *old = m->old;
    struct hnsw *g = m->b->g;
    const uint32_t *ol = links(old, o, l);
    uint32_t r = m->to[o], *nl = links(g, r, l), cap = l == 0 ? g->m0 : g->m;
    size_t n = 0, lost = 0;
    struct probe p;

    for (uint32_t i = 1; i <= ol[0]; i++) {
        uint32_t x = m->to[ol[i]];

        if (x != NO_NODE) {
            nl[++nl[0]] = x;
            n = add_unique(cand, n, x, r);
            continue;
        }
        lost++;
        n = add_replacements(m, cand, n, ol[i], l, r);
    }
    if (lost == 0)
        return 0;
    probe_row(&p, m->b->g, m->b->bias, r);
    for (size_t i = 0; i < n; i++)
        cand[i].s = probe_score(&p, cand[i].r);
    qsort(cand, n, sizeof *cand, cmp_nb_best_first);
    select_links(m->b->g, m->b->bias, cand, n, cap, nl);
    return 1;
}

static void *phase_remap(void *arg)
{
    struct remap *m = arg;
    struct nb *cand = xmalloc(REMAP_CAND * sizeof *cand);

    for (size_t o; (o = atomic_fetch_add(&m->next, 1)) < m->old->count;) {
        int lost = 0;

        if (m->to[o] == NO_NODE)
            continue;
        for (uint32_t l = 0; l <= m->old->level[o]; l++)
            lost |= remap_list(m, cand, (uint32_t)o, l);
        if (lost)
            atomic_fetch_add(&m->repaired, 1);
    }
    free(cand);
    return NULL;
}

/* old node -> row of ix with the same id and vector, or NO_NODE; *kept counts them. */
static uint32_t *map_old(const struct hnsw *old, const struct hnsw *g, uint64_t *kept)
{
    uint32_t *to = xmalloc((old->count ? old->count : 1) * sizeof *to);
    uint8_t *taken = xcalloc(g->count, 1);

    *kept = 0;
    for (uint32_t o = 0; o < old->count; o++) {
        uint32_t r;

        to[o] = NO_NODE;
        if (index_find_id(g->ix, old->ids[o], &r) && !taken[r] && g->vhash[r] == old->vhash[o] &&
            g->level[r] == old->level[o]) {
            to[o] = r;
            taken[r] = 1;
            (*kept)++;
        }
    }
    free(taken);
    return to;
}

/* The rows of g no old node maps to, in row order (*n of them); the entry and top level
 * among the kept ones into b. */
static uint32_t *fresh_rows(struct builder *b, const struct hnsw *old, const uint32_t *to,
                            size_t *n)
{
    const struct hnsw *g = b->g;
    uint8_t *have = xcalloc(g->count, 1);
    uint32_t *order = xmalloc(g->count * sizeof *order);

    for (uint32_t o = 0; o < old->count; o++)
        if (to[o] != NO_NODE)
            have[to[o]] = 1;
    b->entry = NO_NODE;
    *n = 0;
    if (to[old->entry] != NO_NODE) {
        b->entry = to[old->entry];
        b->top = g->level[b->entry];
    }
    for (uint32_t r = 0; r < g->count; r++) {
        if (!have[r])
            order[(*n)++] = r;
        else if (b->entry == NO_NODE || g->level[r] > b->top) {
            b->entry = r;
            b->top = g->level[r];
        }
    }
    free(have);
    return order;
}

int hnsw_update(const struct hnsw *old, const struct index *ix, const struct hnsw_params *p,
                struct hnsw **out, struct hnsw_update_stats *st, struct err *e)
{
    struct hnsw_update_stats s = {0};
    struct remap m = {0};
    struct builder b;
    uint32_t *to, *order;
    size_t n;
    int rc = check_params(ix, p, e);

    *out = NULL;
    if (rc != INDEX_OK)
        return rc;
    if (old->m != (p->m ? p->m : HNSW_M_DEFAULT) || old->seed != p->seed ||
        old->dim != ix->meta.dim)
        goto full;
    memset(&b, 0, sizeof b);
    b.g = hn_new(ix, p);
    b.ix = ix;
    to = map_old(old, b.g, &s.kept);
    if (s.kept == 0) {
        free(to);
        hnsw_free(b.g);
        goto full;
    }
    hn_rows(b.g);
    b.bias = row_biases(ix);
    b.threads = clamp_threads(p->threads);
    b.progress = p->progress;
    m = (struct remap){.old = old, .b = &b, .to = to};
    {
        pthread_t tid[INDEX_THREADS_MAX];
        int started = 0;

        for (int t = 1; t < b.threads; t++)
            if (pthread_create(&tid[started], NULL, phase_remap, &m) == 0)
                started++;
        phase_remap(&m);
        for (int t = 0; t < started; t++)
            pthread_join(tid[t], NULL);
    }
    order = fresh_rows(&b, old, to, &n);
    b.order = order;
    insert_all(&b, 0, n);
    s.removed = old->count - s.kept;
    s.repaired = atomic_load(&m.repaired);
    s.inserted = n;
    free(order);
    free(to);
    free((void *)b.bias);
    tune_ef(b.g, b.threads);
    hn_seal(b.g);
    *out = b.g;
    goto out;
full:
    s.full = 1;
    s.inserted = ix->meta.count;
    rc = hnsw_build(ix, p, out, e);
out:
    if (st != NULL)
        *st = s;
    return rc;
}

/* ---- files ----------------------------------------------------------------------------- */

int hnsw_write(const struct hnsw *g, const char *path, struct err *e)
{
    return layout_write_file(path, g->base, g->size, e);
}

/* Checks the header's own fields and that the layout they imply is the image's size. */
static int check_header(const struct hn_header *h, size_t len, struct err *e)
{
    uint64_t off[HN_NSECT];

    if (memcmp(h->magic, HN_MAGIC, 8) != 0) {
        err_set(e, "not a doppel graph file (bad magic)");
        return INDEX_ERR_FORMAT;
    }
    if (h->version != HN_VERSION || h->header_size != HN_HEADER_SIZE) {
        err_set(e, "graph format version %u, this doppel reads %d", h->version, HN_VERSION);
        return INDEX_ERR_FORMAT;
    }
    if (h->count == 0 || h->dim == 0 || h->dim > INDEX_DIM_MAX || h->m < 2 || h->m > HNSW_M_MAX ||
        h->m0 != 2 * h->m || h->max_level > HNSW_LEVEL_MAX || h->entry >= h->count ||
        h->n_upper > (uint64_t)h->count * HNSW_LEVEL_MAX || h->ef_tuned > HNSW_EF_MAX ||
        h->tune_recall > 1000000 || h->tune_rows > h->count) {
        err_set(e,
                "graph header out of range (count %u, dim %u, M %u, level %u, entry %u, "
                "ef %u)",
                h->count, h->dim, h->m, h->max_level, h->entry, h->ef_tuned);
        return INDEX_ERR_FORMAT;
    }
    if (h->file_size != len || hn_layout(h->count, h->n_upper, h->m, off) != len ||
        memcmp(off, h->off, sizeof off) != 0) {
        err_set(e, "graph file is %zu bytes, its header says %llu (truncated?)", len,
                (unsigned long long)h->file_size);
        return INDEX_ERR_FORMAT;
    }
    return INDEX_OK;
}

/* Checks one link list: length within cap, links in range, not to itself, on level l. */
static int check_list(const struct hnsw *g, uint32_t r, uint32_t l, struct err *e)
{
    const uint32_t *ls = links(g, r, l);
    uint32_t cap = l == 0 ? g->m0 : g->m;

    if (ls[0] > cap) {
        err_set(e, "node %u has %u links at level %u, more than %u", r, ls[0], l, cap);
        return INDEX_ERR_FORMAT;
    }
    for (uint32_t i = 1; i <= ls[0]; i++) {
        if (ls[i] >= g->count || ls[i] == r || g->level[ls[i]] < l) {
            err_set(e, "node %u links to node %u at level %u, which is not there", r, ls[i], l);
            return INDEX_ERR_FORMAT;
        }
    }
    return INDEX_OK;
}

/* Checks levels, upper offsets and every link, so searches never leave the image. */
static int check_graph(const struct hnsw *g, struct err *e)
{
    uint64_t up = 0;

    if (g->level[g->entry] != g->max_level) {
        err_set(e, "entry node %u is not on the top level %u", g->entry, g->max_level);
        return INDEX_ERR_FORMAT;
    }
    for (uint32_t r = 0; r < g->count; r++) {
        if (g->level[r] > g->max_level || g->upoff[r] != up) {
            err_set(e, "node %u: level %u or upper offset %u inconsistent", r, g->level[r],
                    g->upoff[r]);
            return INDEX_ERR_FORMAT;
        }
        up += g->level[r];
    }
    if (up != g->n_upper) {
        err_set(e, "levels add up to %llu upper lists, header says %llu", (unsigned long long)up,
                (unsigned long long)g->n_upper);
        return INDEX_ERR_FORMAT;
    }
    for (uint32_t r = 0; r < g->count; r++)
        for (uint32_t l = 0; l <= g->level[r]; l++)
            if (check_list(g, r, l, e) != INDEX_OK)
                return INDEX_ERR_FORMAT;
    return INDEX_OK;
}

static int check_binding(const struct hnsw *g, const struct index *ix, struct err *e)
{
    if (ix->meta.count != g->count || ix->meta.dim != g->dim || ix->data_sum != g->ix_sum) {
        err_set(e,
                "graph was built for another index (%u rows of %u; the index has %llu of "
                "%u): run doppel index build",
                g->count, g->dim, (unsigned long long)ix->meta.count, ix->meta.dim);
        return INDEX_ERR_MISMATCH;
    }
    return INDEX_OK;
}

/* Validates the image at base (len bytes) and fills g's fields from it. */
static int hn_load(struct hnsw *g, const struct index *ix, struct err *e)
{
    struct hn_header h;
    int rc;

    if (g->size < HN_HEADER_SIZE) {
        err_set(e, "graph file too short (%zu bytes)", (size_t)g->size);
        return INDEX_ERR_FORMAT;
    }
    memcpy(&h, g->base, sizeof h);
    rc = check_header(&h, g->size, e);
    if (rc != INDEX_OK)
        return rc;
    if (image_sum(g->base, g->size) != h.sum) {
        err_set(e, "graph file checksum mismatch (corrupt)");
        return INDEX_ERR_FORMAT;
    }
    g->count = h.count;
    g->dim = h.dim;
    g->m = h.m;
    g->m0 = h.m0;
    g->efc = h.efc;
    g->entry = h.entry;
    g->max_level = h.max_level;
    g->ef_tuned = h.ef_tuned;
    g->tune_recall = h.tune_recall;
    g->tune_rows = h.tune_rows;
    g->seed = h.seed;
    g->n_upper = h.n_upper;
    g->ix_sum = h.ix_sum;
    memcpy(g->off, h.off, sizeof g->off);
    hn_bind(g);
    rc = check_graph(g, e);
    if (rc == INDEX_OK && ix != NULL)
        rc = check_binding(g, ix, e);
    g->ix = ix;
    if (rc == INDEX_OK)
        hn_rows(g);
    return rc;
}

int hnsw_open_mem(const void *buf, size_t len, const struct index *ix, struct hnsw **out,
                  struct err *e)
{
    struct hnsw *g = hn_alloc();
    int rc;

    g->base = (unsigned char *)buf;
    g->size = len;
    rc = hn_load(g, ix, e);
    if (rc != INDEX_OK) {
        hnsw_free(g);
        g = NULL;
    }
    *out = g;
    return rc;
}

int hnsw_open(const char *path, const struct index *ix, struct hnsw **out, struct err *e)
{
    struct hnsw *g;
    void *map;
    size_t len;
    int rc = layout_map_file(path, &map, &len, NULL, e);

    *out = NULL;
    if (rc != INDEX_OK) {
        err_prefix(e, "%s: cannot open", path);
        return rc;
    }
    if (len < HN_HEADER_SIZE) {
        err_set(e, "%s: graph file too short (%zu bytes)", path, len);
        if (map != NULL)
            munmap(map, len);
        return INDEX_ERR_FORMAT;
    }
    g = hn_alloc();
    g->base = map;
    g->size = (uint64_t)len;
    g->mapped = 1;
    rc = hn_load(g, ix, e);
    if (rc != INDEX_OK) {
        err_prefix(e, "%s", path);
        hnsw_free(g);
        g = NULL;
    }
    *out = g;
    return rc;
}

uint32_t hnsw_count(const struct hnsw *g)
{
    return g->count;
}

uint32_t hnsw_m(const struct hnsw *g)
{
    return g->m;
}

uint32_t hnsw_max_level(const struct hnsw *g)
{
    return g->max_level;
}

const void *hnsw_image(const struct hnsw *g, size_t *len)
{
    *len = g->size;
    return g->base;
}

/* ---- searching ------------------------------------------------------------------------- */

static float tail_norm(const int8_t *q, uint32_t n)
{
    int64_t s = 0;

    for (uint32_t i = 0; i < n; i++)
        s += (int32_t)q[i] * q[i];
    return (float)sqrt((double)s);
}

/* A user query: normalised (u, dim floats), rotated and quantised into the probe. */
struct prepared {
    float *u;
    int8_t *q;
    struct probe p;
    uint32_t skip;    /* the excluded person's row, or NO_NODE */
    uint64_t allowed; /* rows that may be returned */
};

static int prepare(const struct index *ix, const float *query, const struct index_query *q,
                   struct prepared *pq, struct err *e)
{
    const struct layout *lay = &ix->lay;
    double n = 0;

    pq->u = xmalloc(2 * (size_t)lay->dim * sizeof(float));
    pq->q = xmalloc(lay->padded);
    for (uint32_t i = 0; i < lay->dim; i++) {
        if (!isfinite(query[i])) {
            err_set(e, "query element %u is not a finite number", i);
            return INDEX_ERR_INPUT;
        }
        n += (double)query[i] * query[i];
    }
    n = sqrt(n);
    if (!(n > 0) || !isfinite(n)) {
        err_set(e, "query has no direction (length %g)", n);
        return INDEX_ERR_INPUT;
    }
    for (uint32_t i = 0; i < lay->dim; i++)
        pq->u[i] = (float)(query[i] / n);
    basis_rotate(ix->basis, lay->head, lay->dim, pq->u, pq->u + lay->dim);
    pq->p.ix = ix;
    pq->p.k = dot_kernel_get();
    pq->p.qscale = layout_quantise(pq->u + lay->dim, lay->dim, lay->padded, pq->q);
    dot_query_init(&pq->p.qh, pq->q, lay->head);
    dot_query_init(&pq->p.qt, pq->q + lay->head, lay->tail);
    pq->p.qtnorm = tail_norm(pq->q + lay->head, lay->tail);
    pq->skip = NO_NODE;
    if (q->exclude != INDEX_NO_ID && !index_find_id(ix, q->exclude, &pq->skip))
        pq->skip = NO_NODE;
    pq->allowed = ix->meta.count;
    if (q->allow != NULL) {
        pq->allowed = 0;
        for (uint64_t w = 0; w < (ix->meta.count + 63) / 64; w++) {
            uint64_t bits = q->allow[w];

            if (w == ix->meta.count / 64)
                bits &= (1ull << (ix->meta.count % 64)) - 1;
            pq->allowed += (uint64_t)__builtin_popcountll(bits);
        }
    }
    if (pq->skip != NO_NODE &&
        (q->allow == NULL || (q->allow[pq->skip / 64] >> (pq->skip % 64) & 1)))
        pq->allowed--;
    return INDEX_OK;
}

static float dot_f32(const float *a, const float *b, uint32_t n)
{
    float s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    uint32_t i = 0;

    for (; i + 4 <= n; i += 4) {
        s0 += a[i] * b[i];
        s1 += a[i + 1] * b[i + 1];
        s2 += a[i + 2] * b[i + 2];
        s3 += a[i + 3] * b[i + 3];
    }
    for (; i < n; i++)
        s0 += a[i] * b[i];
    return (s0 + s1) + (s2 + s3);
}

/* Re-scores the best candidates (c, n, best first by estimate) in float32 and writes the
 * best k as hits; rank_pct takes them as the true top of `allowed` rows. */
static size_t rerank(const struct index *ix, const float *u, struct nb *c, size_t n, size_t k,
                     uint64_t allowed, struct index_hit *out)
{
    size_t r = k * INDEX_RERANK < INDEX_CANDIDATES_MIN ? INDEX_CANDIDATES_MIN : k * INDEX_RERANK;
    float row[INDEX_DIM_MAX];

    n = n < r ? n : r;
    for (size_t i = 0; i < n; i++) {
        c[i].s = dot_f32(u, index_read_vector(ix, c[i].r, row), ix->meta.dim);
        if (isnan(c[i].s))
            c[i].s = -INFINITY;
    }
    qsort(c, n, sizeof *c, cmp_nb_best_first);
    k = k < n ? k : n;
    for (size_t j = 0; j < k; j++) {
        out[j].id = ix->ids[c[j].r];
        out[j].row = c[j].r;
        out[j].score = c[j].s;
        out[j].rank_pct =
            allowed > 1 ? 100.0 * (double)(allowed - 1 - j) / (double)(allowed - 1) : 100.0;
    }
    return k;
}

/* The exact pass over the allowed rows: int8 estimates, the best C kept. */
static size_t scan_rows(const struct index *ix, const struct prepared *pq, const uint64_t *allow,
                        size_t cap, struct nb *out)
{
    struct heap h = {0};
    size_t n;

    for (uint32_t r = 0; r < ix->meta.count; r++) {
        float s;

        if (r == pq->skip || (allow != NULL && !(allow[r / 64] >> (r % 64) & 1)))
            continue;
        s = probe_score(&pq->p, r);
        if (h.n < cap || s > -h.a[0].s) {
            heap_push(&h, -s, r);
            if (h.n > cap)
                heap_pop(&h);
        }
    }
    n = h.n;
    for (size_t i = n; i-- > 0;) {
        struct nb x = heap_pop(&h);

        out[i] = (struct nb){-x.s, x.r};
    }
    free(h.a);
    return n;
}

static size_t rerank_cap(size_t k)
{
    return k * INDEX_RERANK < INDEX_CANDIDATES_MIN ? INDEX_CANDIDATES_MIN : k * INDEX_RERANK;
}

/* The exact answer for a prepared query: every allowed row scored, the best re-ranked. */
static size_t scan_prepared(const struct index *ix, const struct prepared *pq,
                            const struct index_query *q, struct index_hit *out,
                            struct index_stats *s)
{
    size_t cap = rerank_cap(q->k), n;
    struct nb *c = xmalloc(cap * sizeof *c);

    s->reranked = scan_rows(ix, pq, q->allow, cap, c);
    s->rows = pq->allowed;
    n = rerank(ix, pq->u, c, s->reranked, q->k, pq->allowed, out);
    s->bytes = s->rows * ix->lay.padded + s->reranked * ix->lay.dim * 4;
    free(c);
    return n;
}

int hnsw_scan_allowed(const struct index *ix, const float *query, const struct index_query *q,
                      struct index_hit *out, size_t *n_out, struct index_stats *st, struct err *e)
{
    struct prepared pq = {0};
    struct index_stats s = {0};
    int rc = prepare(ix, query, q, &pq, e);

    *n_out = 0;
    if (rc == INDEX_OK && q->k > 0 && pq.allowed > 0)
        *n_out = scan_prepared(ix, &pq, q, out, &s);
    if (st != NULL)
        *st = s;
    free(pq.u);
    free(pq.q);
    return rc;
}

/* The graph walk for a prepared query: descent, then level 0 with ef; candidates into c
 * (best first, *n of them; caller frees). */
static struct nb *graph_walk(const struct hnsw *g, struct prepared *pq, const uint64_t *allow,
                             size_t ef, size_t *n, uint64_t *scored)
{
    struct walk w = {.p = &pq->p, .allow = allow, .skip = pq->skip, .ef = ef};
    uint32_t ep = g->entry;
    struct nb *c = xmalloc(ef * sizeof *c);
    float es;

    if (g->rows != NULL) {
        pq->p.rows = g->rows;
        dot_query_init(&pq->p.qf, pq->q, g->ix->lay.padded);
    }
    es = probe_score(&pq->p, ep);

    *scored = 1;
    for (uint32_t l = g->max_level; l > 0; l--)
        walk_greedy(g, &pq->p, l, &ep, &es, scored);
    w.v = visit_get(g);
    walk_layer(g, &w, ep, es, 0);
    visit_put(g, w.v);
    *n = walk_results(&w, c);
    *scored += w.scored;
    free(w.near.a);
    free(w.res.a);
    return c;
}

/* Rows and the smallest ef that reached recall@10 of 0.99 there at every dimension
 * benchmarked (README, Approximate search). */
static const struct {
    double rows, ef;
} ef_measured[] = {{100000, 384}, {406317, 512}, {2000000, 1024}};

size_t hnsw_default_ef(uint64_t count)
{
    size_t i = 1, last = sizeof ef_measured / sizeof ef_measured[0] - 1;
    double x = (double)count, t, ef;

    if (x <= ef_measured[0].rows)
        return (size_t)ef_measured[0].ef;
    while (i < last && x > ef_measured[i].rows)
        i++;
    t = log(x / ef_measured[i - 1].rows) / log(ef_measured[i].rows / ef_measured[i - 1].rows);
    ef = round(ef_measured[i - 1].ef * pow(ef_measured[i].ef / ef_measured[i - 1].ef, t));
    return ef >= HNSW_EF_MAX ? HNSW_EF_MAX : (size_t)ef;
}

uint32_t hnsw_ef(const struct hnsw *g, double *recall)
{
    if (recall != NULL)
        *recall = g->ef_tuned ? g->tune_recall / 1e6 : 0;
    return g->ef_tuned ? g->ef_tuned : (uint32_t)hnsw_default_ef(g->count);
}

uint32_t hnsw_tune_rows(const struct hnsw *g)
{
    return g->ef_tuned ? g->tune_rows : 0;
}

/* The ef a query runs with: the asked or default, at least k, raised for a filter. */
static size_t query_ef(const struct hnsw *g, const struct index_query *q, uint64_t allowed)
{
    double ef = q->ef ? q->ef : hnsw_ef(g, NULL);

    if (ef < (double)q->k)
        ef = (double)q->k;
    if (q->allow != NULL && allowed < g->count) {
        double f = (double)allowed / g->count;

        ef *= 1 / f < FILTER_EF_MAX ? 1 / f : FILTER_EF_MAX;
    }
    return ef > HNSW_EF_MAX ? HNSW_EF_MAX : (size_t)ef;
}

int hnsw_search(const struct hnsw *g, const float *query, const struct index_query *q,
                struct index_hit *out, size_t *n_out, struct index_stats *st, struct err *e)
{
    const struct index *ix = g->ix;
    struct prepared pq = {0};
    struct index_stats s = {0};
    struct nb *c = NULL;
    size_t n = 0;
    int rc;

    *n_out = 0;
    if (ix == NULL) {
        err_set(e, "the graph is not bound to an index");
        return INDEX_ERR_INPUT;
    }
    rc = prepare(ix, query, q, &pq, e);
    if (rc != INDEX_OK || q->k == 0 || pq.allowed == 0)
        goto out;
    if (q->allow != NULL &&
        (pq.allowed < FILTER_MIN_ROWS || (double)pq.allowed < FILTER_MIN_FRAC * g->count)) {
        *n_out = scan_prepared(ix, &pq, q, out, &s);
        goto out;
    }
    c = graph_walk(g, &pq, q->allow, query_ef(g, q, pq.allowed), &n, &s.nodes);
    s.rows = s.nodes;
    s.reranked = n < rerank_cap(q->k) ? n : rerank_cap(q->k);
    *n_out = rerank(ix, pq.u, c, n, q->k, pq.allowed, out);
    s.bytes = s.nodes * ix->lay.padded + s.reranked * ix->lay.dim * 4;
out:
    if (st != NULL)
        *st = s;
    free(c);
    free(pq.u);
    free(pq.q);
    return rc;
}

/* ---- tuning the default ef ------------------------------------------------------------- */

/* How far a walk must go for recall@10 of 0.99 depends on the data as well as the size: on
 * the benchmark's low-rank vectors ef 384 does at 100,000 rows, on vectors spread like
 * real look embeddings it takes nearer 700. So every build measures it on the graph
 * itself. The queries must be like the ones it will be asked, new faces, not its own rows:
 * a walk from a row's own node finds that row's neighbours among its links, and reaches
 * 0.99 at a fraction of the ef a new vector needs. So TUNE_QUERIES queries are drawn from
 * the Gaussian with the catalogue's mean and covariance, estimated from TUNE_SPAN rows: a
 * query is their mean plus a sum of their deviations from it, each times an independent
 * normal draw over sqrt(TUNE_SPAN - 1), which has exactly their sample covariance. The
 * exact scan gives each query's true top 10, and the default ef is the smallest rung of
 * tune_efs at which the walks find TUNE_RECALL of them. Rows and draws come from the
 * seed, so the result is a function of the graph and its index. A graph of fewer than
 * TUNE_MIN_ROWS rows is not tuned: the untuned default (384) walks most of it anyway, and
 * the fuzzer's small graphs would spend their time here. */
#define TUNE_MIN_ROWS 1000
#define TUNE_QUERIES  HNSW_TUNE_QUERIES
#define TUNE_SPAN     2048
#define TUNE_K        10
#define TUNE_RECALL   0.99

static const uint32_t tune_efs[] = {32,  48,  64,  96,   128,  192,  256,  384,  512,
                                    640, 768, 1024, 1280, 1536, 2048, 3072, HNSW_EF_MAX};

struct tune {
    const struct hnsw *g;
    const float *qs;  /* nq queries of dim floats */
    uint32_t *truth;  /* k rows per query, NO_NODE where the scan found fewer */
    size_t nq, k;
    uint32_t ef; /* 0: find the truth by the exact scan */
    atomic_size_t next, found, wanted;
};

static void *tune_run(void *arg)
{
    struct tune *t = arg;
    struct index_hit hit[TUNE_K];
    struct err e;
    size_t i;

    while ((i = atomic_fetch_add(&t->next, 1)) < t->nq) {
        const float *v = t->qs + i * t->g->dim;
        struct index_query q = {.k = t->k, .exclude = INDEX_NO_ID, .threads = 1, .ef = t->ef};
        uint32_t *tr = t->truth + i * t->k;
        size_t n = 0, found = 0, wanted = 0;

        if (t->ef == 0) {
            if (index_search(t->g->ix, v, t->k, INDEX_NO_ID, 1, hit, &n, &e) != INDEX_OK)
                n = 0;
            for (size_t j = 0; j < t->k; j++)
                tr[j] = j < n ? hit[j].row : NO_NODE;
            continue;
        }
        if (hnsw_search(t->g, v, &q, hit, &n, NULL, &e) != INDEX_OK)
            n = 0;
        for (size_t j = 0; j < t->k; j++) {
            wanted += tr[j] != NO_NODE;
            for (size_t a = 0; a < n; a++)
                found += tr[j] != NO_NODE && hit[a].row == tr[j];
        }
        atomic_fetch_add(&t->found, found);
        atomic_fetch_add(&t->wanted, wanted);
    }
    return NULL;
}

static void tune_pass(struct tune *t, uint32_t ef, int threads)
{
    pthread_t tid[INDEX_THREADS_MAX];
    int started = 0;

    t->ef = ef;
    atomic_store(&t->next, 0);
    atomic_store(&t->found, 0);
    atomic_store(&t->wanted, 0);
    for (int i = 1; i < threads && (size_t)i < t->nq; i++)
        if (pthread_create(&tid[started], NULL, tune_run, t) == 0)
            started++;
    tune_run(t);
    for (int i = 0; i < started; i++)
        pthread_join(tid[i], NULL);
}

/* A standard normal draw from the counter *z (Box-Muller on two mix64 uniforms). */
static double tune_gauss(uint64_t *z)
{
    double u = ((double)(mix64((*z)++) >> 11) + 0.5) / 9007199254740992.0;
    double v = ((double)(mix64((*z)++) >> 11) + 0.5) / 9007199254740992.0;

    return sqrt(-2 * log(u)) * cos(6.283185307179586 * v);
}

/* nq queries drawn as the comment above says; caller frees. */
static float *tune_queries(const struct hnsw *g, size_t nq)
{
    size_t span = g->count < TUNE_SPAN ? g->count : TUNE_SPAN, dim = g->dim;
    uint32_t *rows = xmalloc(span * sizeof *rows);
    double *mean = xcalloc(dim, sizeof *mean), *acc = xcalloc(nq * dim, sizeof *acc);
    double *dev = xmalloc(dim * sizeof *dev), scale = span > 1 ? 1 / sqrt((double)span - 1) : 0;
    float *qs = xmalloc(nq * dim * sizeof *qs);
    uint64_t z = mix64(g->seed ^ 0x74756e65ull);

    for (size_t j = 0; j < span; j++) {
        const float *x;

        rows[j] = span == g->count ? (uint32_t)j : (uint32_t)(mix64(z++) % g->count);
        x = index_get_vector(g->ix, rows[j]);
        for (size_t c = 0; c < dim; c++)
            mean[c] += x[c] / (double)span;
    }
    for (size_t j = 0; j < span; j++) {
        const float *x = index_get_vector(g->ix, rows[j]);

        for (size_t c = 0; c < dim; c++)
            dev[c] = (x[c] - mean[c]) * scale;
        for (size_t i = 0; i < nq; i++) {
            double w = tune_gauss(&z), *a = acc + i * dim;

            for (size_t c = 0; c < dim; c++)
                a[c] += w * dev[c];
        }
    }
    for (size_t i = 0; i < nq * dim; i++)
        qs[i] = (float)(mean[i % dim] + acc[i]);
    free(dev);
    free(acc);
    free(mean);
    free(rows);
    return qs;
}

/* Sets g's tuned ef and what it reached (see above); g is built, bound, not yet sealed. */
static void tune_ef(struct hnsw *g, int threads)
{
    struct tune t = {.g = g};
    double recall = 0;
    size_t i;

    g->ef_tuned = g->tune_recall = g->tune_rows = 0;
    if (g->count < TUNE_MIN_ROWS)
        return;
    t.nq = TUNE_QUERIES;
    t.k = TUNE_K;
    t.qs = tune_queries(g, t.nq);
    t.truth = xmalloc(t.nq * t.k * sizeof *t.truth);
    tune_pass(&t, 0, threads);
    for (i = 0; i < sizeof tune_efs / sizeof tune_efs[0]; i++) {
        if (tune_efs[i] < t.k)
            continue;
        tune_pass(&t, tune_efs[i], threads);
        recall = atomic_load(&t.wanted) ? (double)atomic_load(&t.found) / atomic_load(&t.wanted) : 1;
        if (recall >= TUNE_RECALL)
            break;
    }
    g->ef_tuned = i < sizeof tune_efs / sizeof tune_efs[0] ? tune_efs[i] : HNSW_EF_MAX;
    g->tune_recall = (uint32_t)lround(recall * 1e6);
    g->tune_rows = (uint32_t)(g->count < TUNE_SPAN ? g->count : TUNE_SPAN);
    free(t.truth);
    free((void *)t.qs);
}
