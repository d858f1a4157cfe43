/*
 * ctx: what a caller keeps between forward passes: the worker pool, per-thread scratch
 * for unfolded convolution rows, and the activation arena.
 *
 * The arena removes the allocator from the forward pass. Fresh multi-megabyte buffers
 * come from mmap and every first touch of a page is a fault: BlazeFace spent half its
 * time in page faults before the arena. A graph allocates the same sizes in the same
 * order for a given input shape, so the first run with a shape allocates from the heap
 * and records, for each allocation, its size and the steps of the run that made and
 * last read it. The plan then places the allocations in one block: biggest first, each
 * at the lowest offset that overlaps no placed allocation alive at the same time (the
 * classic greedy for this interval problem; within a few per cent of the peak of live
 * bytes on these graphs). Later runs with that shape take their activations from the
 * block, which stays mapped. A run that strays from the plan (an allocation larger than
 * planned) falls back to the heap for that tensor and the plan is made again.
 */
#include "nn/graph.h"

#include "util/xalloc.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define ALIGN 64

struct nn_ctx *nn_ctx_new(int threads)
{
    struct nn_ctx *ctx = xcalloc(1, sizeof *ctx);
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);

    if (threads <= 0)
        threads = cpus > 0 ? (int)cpus : 1;
    ctx->pool = threads > 1 ? nn_pool_new(threads) : NULL;
    ctx->threads = nn_pool_threads(ctx->pool);
    ctx->scratch = xcalloc((size_t)ctx->threads, sizeof *ctx->scratch);
    ctx->scratch_cap = xcalloc((size_t)ctx->threads, sizeof *ctx->scratch_cap);
    return ctx;
}

static void plan_release(struct nn_plan *p)
{
    free(p->base);
    free(p->off);
    free(p->size);
    free(p->outs);
    memset(p, 0, sizeof *p);
}

void nn_ctx_free(struct nn_ctx *ctx)
{
    if (ctx == NULL)
        return;
    nn_pool_free(ctx->pool);
    for (int i = 0; i < ctx->threads; i++) {
        free(ctx->scratch[i]);
        nn_ctx_free(ctx->sub != NULL ? ctx->sub[i] : NULL);
    }
    free(ctx->sub);
    for (int i = 0; i < NN_CTX_PLANS; i++)
        plan_release(&ctx->plans[i]);
    free(ctx->size);
    free(ctx->born);
    free(ctx->died);
    free(ctx->scratch_cap);
    free(ctx->scratch);
    free(ctx->shared);
    free(ctx);
}

int nn_ctx_threads(const struct nn_ctx *ctx)
{
    return ctx->threads;
}

void nn_ctx_parallel(struct nn_ctx *ctx, int64_t ntasks,
                     void (*fn)(void *arg, int64_t task, int thread), void *arg)
{
    nn_pool_run(ctx != NULL ? ctx->pool : NULL, ntasks, fn, arg);
}

double nn_ctx_flops(const struct nn_ctx *ctx)
{
    return ctx->flops;
}

struct nn_ctx *nn_ctx_sub(struct nn_ctx *ctx, int thread)
{
    if (ctx->sub == NULL)
        ctx->sub = xcalloc((size_t)ctx->threads, sizeof *ctx->sub);
    if (ctx->sub[thread] == NULL)
        ctx->sub[thread] = nn_ctx_new(1);
    return ctx->sub[thread];
}

float *nn_ctx_scratch(struct nn_ctx *ctx, int thread, size_t n)
{
    if (ctx->scratch[thread] == NULL || ctx->scratch_cap[thread] < n) {
        free(ctx->scratch[thread]);
        n = n < 16 ? 16 : n;
        ctx->scratch[thread] = xaligned_alloc(ALIGN, sizeof(float) * n);
        ctx->scratch_cap[thread] = n;
    }
    return ctx->scratch[thread];
}

float *nn_ctx_shared(struct nn_ctx *ctx, size_t n)
{
    if (ctx->shared == NULL || ctx->shared_cap < n) {
        free(ctx->shared);
        n = n < 16 ? 16 : n;
        ctx->shared = xaligned_alloc(ALIGN, sizeof(float) * n);
        ctx->shared_cap = n;
    }
    return ctx->shared;
}

static int plan_fits(const struct nn_plan *p, const struct nn_model *m,
                     const struct nn_tensor *input, const int *outs, int nout)
{
    return p->base != NULL && p->model == m->id && p->nd == input->nd && p->nout == nout &&
           memcmp(p->shape, input->shape, sizeof(int64_t) * (size_t)input->nd) == 0 &&
           memcmp(p->outs, outs, sizeof(int) * (size_t)nout) == 0;
}

void nn_ctx_begin(struct nn_ctx *ctx, const struct nn_model *m, const struct nn_tensor *input,
                  const int *outs, int nout)
{
    ctx->plan = NULL;
    ctx->runs++;
    for (int i = 0; i < NN_CTX_PLANS && ctx->plan == NULL; i++)
        if (plan_fits(&ctx->plans[i], m, input, outs, nout))
            ctx->plan = &ctx->plans[i];
    if (ctx->plan != NULL)
        ctx->plan->used = ctx->runs;
    ctx->stray = 0;
    ctx->flops = 0;
    ctx->nalloc = 0;
    ctx->step = 0;
}

static size_t round_up(size_t n)
{
    return (n + ALIGN - 1) / ALIGN * ALIGN;
}

static void record(struct nn_ctx *ctx, size_t i, size_t bytes)
{
    if (i >= ctx->cap) {
        ctx->cap = ctx->cap ? 2 * ctx->cap : 256;
        ctx->size = xrealloc(ctx->size, sizeof *ctx->size * ctx->cap);
        ctx->born = xrealloc(ctx->born, sizeof *ctx->born * ctx->cap);
        ctx->died = xrealloc(ctx->died, sizeof *ctx->died * ctx->cap);
    }
    ctx->size[i] = round_up(bytes);
    ctx->born[i] = ctx->step;
    ctx->died[i] = INT_MAX;
}

void nn_ctx_alloc(struct nn_ctx *ctx, struct nn_tensor *out, enum nn_dtype dt, int rank,
                  const int64_t *shape)
{
    size_t i = ctx->nalloc, bytes = 4;

    for (int d = 0; d < rank; d++)
        bytes *= (size_t)shape[d];
    ctx->nalloc++;
    if (ctx->plan != NULL && !ctx->stray && i < ctx->plan->n && bytes <= ctx->plan->size[i]) {
        *out = (struct nn_tensor){.nd = rank, .dtype = dt, .owned = 0,
                                  .data = (char *)ctx->plan->base + ctx->plan->off[i]};
        memcpy(out->shape, shape, sizeof(int64_t) * (size_t)rank);
        return;
    }
    if (ctx->plan != NULL) { /* off the plan: the rest of the run from the heap */
        ctx->stray = 1;
    } else {
        record(ctx, i, bytes);
    }
    nn_tensor_alloc(out, dt, rank, shape);
}

void nn_ctx_last_use(struct nn_ctx *ctx, size_t alloc)
{
    if (ctx->plan == NULL && alloc < ctx->nalloc)
        ctx->died[alloc] = ctx->step;
}

/* The lowest offset for allocation i clear of every placed allocation alive with it. */
static size_t first_fit(const struct nn_ctx *ctx, const size_t *placed, size_t np,
                        const size_t *off, size_t i)
{
    size_t at = 0;
    int moved = 1;

    while (moved) {
        moved = 0;
        for (size_t k = 0; k < np; k++) {
            size_t j = placed[k];

            if (ctx->born[i] > ctx->died[j] || ctx->born[j] > ctx->died[i])
                continue;
            if (at < off[j] + ctx->size[j] && off[j] < at + ctx->size[i]) {
                at = off[j] + ctx->size[j];
                moved = 1;
            }
        }
    }
    return at;
}

struct sized {
    size_t size, index;
};

static int by_size_desc(const void *a, const void *b)
{
    const struct sized *x = a, *y = b;

    if (x->size != y->size)
        return (x->size < y->size) - (x->size > y->size);
    return (x->index > y->index) - (x->index < y->index);
}

/* The slot for a new plan: a free one, else the least recently used. */
static struct nn_plan *plan_slot(struct nn_ctx *ctx)
{
    struct nn_plan *p = &ctx->plans[0];

    for (int i = 0; i < NN_CTX_PLANS; i++) {
        if (ctx->plans[i].base == NULL)
            return &ctx->plans[i];
        if (ctx->plans[i].used < p->used)
            p = &ctx->plans[i];
    }
    plan_release(p);
    return p;
}

/* Places every recorded allocation (biggest first, lowest free offset) into p. */
static void plan_place(const struct nn_ctx *ctx, struct nn_plan *p)
{
    struct sized *by = xmalloc(sizeof *by * ctx->nalloc);
    size_t *order = xmalloc(sizeof *order * ctx->nalloc);

    p->off = xmalloc(sizeof *p->off * ctx->nalloc);
    p->size = xmalloc(sizeof *p->size * ctx->nalloc);
    for (size_t i = 0; i < ctx->nalloc; i++)
        by[i] = (struct sized){ctx->size[i], i};
    qsort(by, ctx->nalloc, sizeof *by, by_size_desc);
    for (size_t k = 0; k < ctx->nalloc; k++) {
        size_t i = by[k].index;

        order[k] = i;
        p->off[i] = first_fit(ctx, order, k, p->off, i);
        p->size[i] = ctx->size[i];
        if (p->off[i] + p->size[i] > p->total)
            p->total = p->off[i] + p->size[i];
    }
    free(order);
    free(by);
    p->n = ctx->nalloc;
}

void nn_ctx_end(struct nn_ctx *ctx, const struct nn_model *m, const struct nn_tensor *input,
                const int *outs, int nout, int ok)
{
    struct nn_plan *p;

    if (ctx->plan != NULL && ctx->stray) /* the plan no longer fits: make it again */
        plan_release(ctx->plan);
    if (ctx->plan != NULL || !ok || ctx->nalloc == 0)
        return;
    p = plan_slot(ctx);
    plan_place(ctx, p);
    p->model = m->id;
    p->nd = input->nd;
    memcpy(p->shape, input->shape, sizeof(int64_t) * (size_t)input->nd);
    p->nout = nout;
    p->outs = xmalloc(sizeof(int) * (size_t)(nout + 1));
    memcpy(p->outs, outs, sizeof(int) * (size_t)nout);
    p->used = ctx->runs;
    p->base = xaligned_alloc(ALIGN, p->total);
}
