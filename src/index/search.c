/*
 * search: exact top-k over the mapped index, bounded by memory bandwidth.
 *
 * Each row's full int8 score is est = scale x (H + T), H and T the int8 dot products of
 * the query with the row's head and tail. Cauchy-Schwarz bounds T by |q tail| |row tail|
 * (the row's tail norm is stored), so the head alone gives an interval [lb, ub] holding
 * est. Pass 1 streams the heads (64 bytes a row) and keeps the C best lower bounds; a row
 * whose upper bound falls below the C-th best lower bound so far can never be among the C
 * best, and is dropped; the others go on a short list. Most rows are dropped by a float
 * bound computed for a whole block at once (vectorised, raised by a margin that covers
 * its rounding); only the few that pass it get the exact test in double. Pass 2 reads the
 * tails of the listed rows whose bound still reaches the final C-th lower bound and keeps
 * the C best full scores. The candidates are exactly those of a full int8 scan (the
 * bounds carry a slack for rounding); INDEX_SEARCH_FULL computes that scan for the tests.
 * On the benchmark's low-rank 406k x 512 catalogue pass 2 reads ~0.6% of the tails, so a
 * query reads ~31 MB where a float32 scan reads 832 MB; with the covariance of real look
 * embeddings (406k x 1024) it reads about two thirds of them, 276 MB against 1.66 GB.
 *
 * The C candidates are re-scored in float32 from the original vectors, which fixes the
 * order the int8 estimate blurs. Threads take contiguous slices of rows, each with its
 * own heaps and list; the slices' candidates are merged by (estimate, row), so the result
 * does not depend on the thread count. Each slice keeps its own C candidates, so two
 * threads read ~1.6x the tails of one (~0.6 MB more per query at 406k x 512, next to
 * the 26 MB of heads); sharing thresholds between slices was tried and saved ~1% of it. A search allocates only per-query scratch.
 */
#include "index/index.h"

#include "index/basis.h"
#include "index/dot.h"
#include "index/layout.h"
#include "util/xalloc.h"

#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#ifdef __SSE2__
#include <immintrin.h>
#endif

#define BLOCK          256   /* rows per kernel call */
#define SPLIT_MIN_ROWS 32768 /* fewer rows per thread do not repay starting one */
#define SLACK          1e-6  /* relative and absolute slack on the tail bound */
#define PREFETCH       8     /* tails fetched ahead in pass 2 */
#define GROUP          32    /* rows whose float bounds pass 1 tests at once (bits) */
#define NO_ROW         UINT32_MAX

struct cand {
    double est;
    uint32_t row;
};

/* A bounded heap of the best candidates seen; a[0] is the worst kept. */
struct heap {
    struct cand *a;
    size_t n, cap;
};

/* A row that survived pass 1: its head product and upper bound. */
struct maybe {
    uint32_t row;
    int32_t h;
    double ub;
};

struct job {
    const struct index *ix;
    const struct dot_kernel *kern;
    const struct dot_query *qh, *qt; /* head and tail parts of the query */
    double qnorm;                    /* |int8 query tail| */
    uint32_t first, end, skip;       /* rows [first, end); skip: the excluded row */
    unsigned flags;
    struct heap cands;     /* out: the slice's C best by estimate */
    struct index_stats st; /* out */
};

/* 1 when x ranks below y: lower estimate, or equal with a higher row. */
static int worse(const struct cand *x, const struct cand *y)
{
    return x->est < y->est || (x->est == y->est && x->row > y->row);
}

static void heap_init(struct heap *h, size_t cap)
{
    h->a = xmalloc((cap ? cap : 1) * sizeof *h->a);
    h->n = 0;
    h->cap = cap;
}

static void sift_down(struct heap *h, size_t i)
{
    for (;;) {
        size_t l = 2 * i + 1, m = i;
        struct cand t;

        if (l < h->n && worse(&h->a[l], &h->a[m]))
            m = l;
        if (l + 1 < h->n && worse(&h->a[l + 1], &h->a[m]))
            m = l + 1;
        if (m == i)
            return;
        t = h->a[i];
        h->a[i] = h->a[m];
        h->a[m] = t;
        i = m;
    }
}

/* Keeps c if the heap has room or c beats its worst. A NaN (only a corrupt file makes
 * one) ranks lowest, so every comparison stays a total order. */
static void heap_push(struct heap *h, double est, uint32_t row)
{
    struct cand c = {isnan(est) ? -INFINITY : est, row};
    size_t i;

    if (h->n == h->cap) {
        if (h->cap == 0 || !worse(&h->a[0], &c))
            return;
        h->a[0] = c;
        sift_down(h, 0);
        return;
    }
    i = h->n++;
    while (i > 0 && worse(&c, &h->a[(i - 1) / 2])) {
        h->a[i] = h->a[(i - 1) / 2];
        i = (i - 1) / 2;
    }
    h->a[i] = c;
}

/* The estimate a candidate must beat to enter a full heap, else -infinity. */
static double heap_floor(const struct heap *h)
{
    return h->n == h->cap && h->cap > 0 ? h->a[0].est : -INFINITY;
}

/* Every row's whole int8 score, block by block. */
static void scan_full(struct job *j)
{
    const struct index *ix = j->ix;
    uint32_t hw = ix->lay.head, tw = ix->lay.tail;
    int32_t h[BLOCK], t[BLOCK];

    memset(h, 0, sizeof h);
    for (uint32_t r0 = j->first; r0 < j->end; r0 += BLOCK) {
        uint32_t n = j->end - r0 < BLOCK ? j->end - r0 : BLOCK;

        if (hw > 0)
            j->kern->rows(j->qh, ix->qhead + (size_t)r0 * hw, n, h);
        j->kern->rows(j->qt, ix->qtail + (size_t)r0 * tw, n, t);
        for (uint32_t i = 0; i < n; i++) {
            if (r0 + i != j->skip)
                heap_push(&j->cands, ix->scale[r0 + i] * ((double)h[i] + t[i]), r0 + i);
        }
    }
    j->st.rows = j->st.tail_rows = j->end - j->first;
}

/* Upper bounds of a block's full int8 scores, in float for speed (the loop vectorises):
 * scale x (h + qn |tail|), raised by 1e-5 of its terms' size, which covers float rounding
 * (~1e-7) and the slack of the exact bound in scan_heads. */
static void block_bounds(const float *restrict scale, const float *restrict tnorm,
                         const int32_t *restrict h, float qn, uint32_t n, float *restrict ub)
{
    for (uint32_t i = 0; i < n; i++) {
        float hf = (float)h[i], t = qn * tnorm[i];

        ub[i] = scale[i] * (hf + t + (fabsf(hf) + t) * 1e-5f + 1e-5f);
    }
}

/* The largest float not above d, so a float below it is below d. */
static float float_below(double d)
{
    float f = (float)d;

    return (double)f > d ? nextafterf(f, -INFINITY) : f;
}

/* A bit per bound of the group (n <= GROUP) that reaches f. */
static uint32_t reach_mask(const float *ub, uint32_t n, float f)
{
    uint32_t m = 0;

#ifdef __SSE2__
    if (n == GROUP) {
        __m128 v = _mm_set1_ps(f);

        for (uint32_t i = 0; i < GROUP; i += 4)
            m |= (uint32_t)_mm_movemask_ps(_mm_cmpge_ps(_mm_loadu_ps(ub + i), v)) << i;
        return m;
    }
#endif
    for (uint32_t i = 0; i < n; i++)
        m |= (uint32_t)(ub[i] >= f) << i;
    return m;
}

/* Pass 1: head products of every row; returns the rows that may still make the C best
 * (*n of them, caller frees) and the C-th best lower bound in *tau. A row is dropped
 * when its bound falls below the C-th best lower bound so far: first by the float bound,
 * then, for the few rows that pass it, by the exact one in double. */
static struct maybe *scan_heads(struct job *j, size_t *n_out, double *tau)
{
    const struct index *ix = j->ix;
    uint32_t hw = ix->lay.head;
    struct heap lbs;
    struct maybe *list = NULL;
    size_t n = 0, cap = 0;
    int32_t h[BLOCK];
    float ubf[BLOCK];
    double floor = -INFINITY;
    float floor_f = -INFINITY;

    heap_init(&lbs, j->cands.cap);
    for (uint32_t r0 = j->first; r0 < j->end; r0 += BLOCK) {
        uint32_t m = j->end - r0 < BLOCK ? j->end - r0 : BLOCK;

        j->kern->rows(j->qh, ix->qhead + (size_t)r0 * hw, m, h);
        block_bounds(ix->scale + r0, ix->tnorm + r0, h, (float)j->qnorm, m, ubf);
        for (uint32_t g = 0; g < m; g += GROUP) {
            uint32_t bits = reach_mask(ubf + g, m - g < GROUP ? m - g : GROUP, floor_f);

            for (; bits != 0; bits &= bits - 1) {
                uint32_t i = g + (uint32_t)__builtin_ctz(bits), r = r0 + i;
                double s = ix->scale[r], b = j->qnorm * ix->tnorm[r] * (1 + SLACK) + SLACK;
                double ub = s * (h[i] + b);

                if (ub < floor || r == j->skip)
                    continue;
                heap_push(&lbs, s * (h[i] - b), r);
                floor = heap_floor(&lbs);
                floor_f = float_below(floor);
                if (n == cap) {
                    cap = cap ? 2 * cap : 1024;
                    list = xrealloc(list, cap * sizeof *list);
                }
                list[n++] = (struct maybe){r, h[i], ub};
            }
        }
    }
    *tau = floor;
    free(lbs.a);
    *n_out = n;
    return list;
}

/* Pass 2: the tails of the listed rows whose bound reaches tau, scored into the kept
 * candidates. The tails are scattered, so the rows to read are gathered first and each
 * is prefetched PREFETCH rows ahead of its use. */
static void scan_tails(struct job *j, struct maybe *list, size_t n, double tau)
{
    const struct index *ix = j->ix;
    uint32_t tw = ix->lay.tail;
    size_t m = 0;

    for (size_t i = 0; i < n; i++) {
        if (list[i].ub >= tau)
            list[m++] = list[i];
    }
    for (size_t i = 0; i < m; i++) {
        uint32_t r = list[i].row;
        int32_t t;

        if (i + PREFETCH < m) {
            const int8_t *p = ix->qtail + (size_t)list[i + PREFETCH].row * tw;

            for (uint32_t c = 0; c < tw; c += 64)
                __builtin_prefetch(p + c);
        }
        if (list[i].ub < heap_floor(&j->cands))
            continue;
        j->kern->rows(j->qt, ix->qtail + (size_t)r * tw, 1, &t);
        heap_push(&j->cands, ix->scale[r] * ((double)list[i].h + t), r);
        j->st.tail_rows++;
    }
}

static void *run_job(void *arg)
{
    struct job *j = arg;
    struct maybe *list;
    size_t n;
    double tau;

    if (j->ix->lay.head == 0 || (j->flags & INDEX_SEARCH_FULL)) {
        scan_full(j);
        return NULL;
    }
    list = scan_heads(j, &n, &tau);
    scan_tails(j, list, n, tau);
    free(list);
    j->st.rows = j->end - j->first;
    return NULL;
}

static int cmp_cand_best_first(const void *a, const void *b)
{
    const struct cand *x = a, *y = b;

    return worse(x, y) - worse(y, x);
}

/* The query normalised into u; fails on a non-finite or zero query. */
static int normalise(const float *query, uint32_t dim, float *u, struct err *e)
{
    double n = 0;

    for (uint32_t i = 0; i < dim; i++) {
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
    for (uint32_t i = 0; i < dim; i++)
        u[i] = (float)(query[i] / n);
    return INDEX_OK;
}

/* Splits rows over jobs and runs them, the calling thread taking the first slice; returns
 * the candidates of all slices merged (C best first, *n of them; caller frees). */
static struct cand *run_jobs(struct job *proto, int threads, size_t *n_out, struct index_stats *st)
{
    uint64_t count = proto->ix->meta.count;
    int nt = threads < 1 ? 1 : threads > INDEX_THREADS_MAX ? INDEX_THREADS_MAX : threads;
    struct job jobs[INDEX_THREADS_MAX];
    pthread_t tid[INDEX_THREADS_MAX];
    int started[INDEX_THREADS_MAX] = {0};
    struct cand *all;
    size_t n = 0;

    if ((uint64_t)nt > count / SPLIT_MIN_ROWS)
        nt = count / SPLIT_MIN_ROWS > 1 ? (int)(count / SPLIT_MIN_ROWS) : 1;
    for (int t = 0; t < nt; t++) {
        jobs[t] = *proto;
        jobs[t].first = (uint32_t)(count * (uint64_t)t / (uint64_t)nt);
        jobs[t].end = (uint32_t)(count * (uint64_t)(t + 1) / (uint64_t)nt);
        heap_init(&jobs[t].cands, proto->cands.cap);
        if (t > 0)
            started[t] = pthread_create(&tid[t], NULL, run_job, &jobs[t]) == 0;
    }
    run_job(&jobs[0]);
    all = xmalloc((size_t)nt * (proto->cands.cap ? proto->cands.cap : 1) * sizeof *all);
    for (int t = 0; t < nt; t++) {
        if (t > 0 && started[t])
            pthread_join(tid[t], NULL);
        else if (t > 0)
            run_job(&jobs[t]);
        memcpy(all + n, jobs[t].cands.a, jobs[t].cands.n * sizeof *all);
        n += jobs[t].cands.n;
        st->rows += jobs[t].st.rows;
        st->tail_rows += jobs[t].st.tail_rows;
        free(jobs[t].cands.a);
    }
    qsort(all, n, sizeof *all, cmp_cand_best_first);
    *n_out = n < proto->cands.cap ? n : proto->cands.cap;
    return all;
}

static float dot_f32(const float *a, const float *b, uint32_t n)
{
    double s = 0;

    for (uint32_t i = 0; i < n; i++)
        s += (double)a[i] * b[i];
    return (float)s;
}

/* Re-scores the candidates in float32 (in place, best first) and fills the hits. */
static void rerank(const struct index *ix, const float *u, struct cand *c, size_t n, size_t k,
                   uint64_t searched, struct index_hit *out)
{
    for (size_t i = 0; i < n; i++) {
        c[i].est = dot_f32(u, index_get_vector(ix, c[i].row), ix->meta.dim);
        if (isnan(c[i].est))
            c[i].est = -INFINITY;
    }
    qsort(c, n, sizeof *c, cmp_cand_best_first);
    for (size_t j = 0; j < k; j++) {
        uint64_t above = 0;

        for (size_t i = 0; i < n; i++)
            above += i != j && c[i].est >= c[j].est;
        out[j].id = ix->ids[c[j].row];
        out[j].row = c[j].row;
        out[j].score = (float)c[j].est;
        out[j].rank_pct =
            searched > 1 ? 100.0 * (double)(searched - 1 - above) / (double)(searched - 1) : 100.0;
    }
}

int index_search_ex(const struct index *ix, const float *query, size_t k, int64_t exclude,
                    int threads, unsigned flags, struct index_hit *out, size_t *n_out,
                    struct index_stats *stats, struct err *e)
{
    const struct layout *lay = &ix->lay;
    struct index_stats st = {0};
    struct dot_query qh, qt;
    struct job proto = {0};
    struct cand *cands = NULL;
    float *u = xmalloc(2 * (size_t)lay->dim * sizeof(float));
    int8_t *q = xmalloc(lay->padded);
    uint64_t searched = ix->meta.count;
    size_t nc = 0;
    uint32_t skip = NO_ROW;
    double qn = 0;
    int rc;

    *n_out = 0;
    rc = normalise(query, lay->dim, u, e);
    if (rc != INDEX_OK)
        goto out;
    if (index_find_id(ix, exclude, &skip))
        searched--;
    k = k < searched ? k : (size_t)searched;
    if (k == 0)
        goto out;
    basis_rotate(ix->basis, lay->head, lay->dim, u, u + lay->dim);
    layout_quantise(u + lay->dim, lay->dim, lay->padded, q);
    for (uint32_t i = lay->head; i < lay->padded; i++)
        qn += (double)q[i] * q[i];
    dot_query_init(&qh, q, lay->head);
    dot_query_init(&qt, q + lay->head, lay->tail);
    proto = (struct job){.ix = ix,
                         .kern = dot_kernel_get(),
                         .qh = &qh,
                         .qt = &qt,
                         .qnorm = sqrt(qn),
                         .skip = skip,
                         .flags = flags};
    proto.cands.cap = k * INDEX_RERANK;
    if (proto.cands.cap < INDEX_CANDIDATES_MIN)
        proto.cands.cap = INDEX_CANDIDATES_MIN;
    if (proto.cands.cap > searched)
        proto.cands.cap = (size_t)searched;
    cands = run_jobs(&proto, threads, &nc, &st);
    rerank(ix, u, cands, nc, k, searched, out);
    *n_out = k;
    st.reranked = nc;
    st.bytes = (uint64_t)lay->head * lay->dim * 4 + st.rows * (lay->head + 8) +
               st.tail_rows * lay->tail + nc * lay->dim * 4;
out:
    if (stats != NULL)
        *stats = st;
    free(cands);
    free(q);
    free(u);
    return rc;
}

int index_search(const struct index *ix, const float *query, size_t k, int64_t exclude, int threads,
                 struct index_hit *out, size_t *n_out, struct err *e)
{
    return index_search_ex(ix, query, k, exclude, threads, 0, out, n_out, NULL, e);
}

int index_set_kernel(const char *name)
{
    return dot_kernel_set(name) == 0 ? INDEX_OK : INDEX_ERR_INPUT;
}

const char *index_kernel_name(void)
{
    return dot_kernel_get()->name;
}

const char *const *index_kernel_list(void)
{
    return dot_kernel_names();
}
