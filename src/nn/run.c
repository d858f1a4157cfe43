/*
 * run: the interpreter loop. Marks the nodes the requested outputs depend on, walks the
 * topological order computing only those, and frees each intermediate as soon as its
 * last consumer has run, so peak memory is the widest layer rather than the whole graph.
 * Everything a run allocates belongs to the run; the model is only read, so threads can
 * share it.
 */
#include "nn/graph.h"

#include "util/clock.h"
#include "util/xalloc.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Marks every node output depends on; returns the count marked. */
static void mark_needed(const struct nn_model *m, int out, char *needed, int *stack)
{
    int top = 0;

    stack[top++] = out;
    while (top > 0) {
        int u = stack[--top];

        if (needed[u])
            continue;
        needed[u] = 1;
        for (int k = 0; k < m->nodes[u].nin; k++) {
            if (!needed[m->nodes[u].in[k]])
                stack[top++] = m->nodes[u].in[k];
        }
    }
}

/* The node computing output name: a node folded into a convolution's epilogue (fuse.c)
 * stands for that convolution when it is the last step of the chain; any other part of a
 * fused chain no longer exists as a value of its own. */
static int resolve_output(const struct nn_model *m, const char *name, int *node, struct err *e)
{
    int u = nn_graph_find(m, name);
    const struct nn_node *nd = u >= 0 ? &m->nodes[u] : NULL;

    if (nd == NULL) {
        err_set(e, "no node named %s", name);
        return NN_ERR_GRAPH;
    }
    if (nd->op == NN_OP_FUSED && nd->fused_step == m->nodes[nd->in[0]].nepi) {
        *node = nd->in[0];
        return NN_OK;
    }
    if (nd->op == NN_OP_FUSED || nd->nepi > 0) {
        err_set(e, "node %s is computed inside a fused convolution; ask for the last "
                "element-wise node after it", name);
        return NN_ERR_GRAPH;
    }
    *node = u;
    return NN_OK;
}

/* DOPPEL_NN_PROFILE=1: one line per computed node on stderr (milliseconds, op number,
 * output shape, name), for finding the layers worth optimising. */
static void profile_line(const struct nn_node *nd, const struct nn_tensor *t, double s)
{
    fprintf(stderr, "%8.3f %2d", s * 1e3, (int)nd->op);
    for (int i = 0; i < 4; i++)
        fprintf(stderr, " %5lld", i < t->nd ? (long long)t->shape[i] : 0LL);
    fprintf(stderr, " %s\n", nd->name);
}

static int check_input(const struct nn_model *m, const struct nn_tensor *input, struct err *e)
{
    if (input == NULL || input->dtype != NN_F32 || input->nd < 1) {
        err_set(e, "input %s: a float tensor is required", m->nodes[m->input].name);
        return NN_ERR_RUN;
    }
    return NN_OK;
}

/* nn_model_run's context: one per thread, one thread each, freed when the thread ends,
 * so repeated runs in a thread reuse its arena. */
static pthread_key_t thread_ctx;
static pthread_once_t thread_ctx_once = PTHREAD_ONCE_INIT;

static void free_ctx(void *ctx)
{
    nn_ctx_free(ctx);
}

static void make_key(void)
{
    pthread_key_create(&thread_ctx, free_ctx);
}

static struct nn_ctx *own_ctx(void)
{
    struct nn_ctx *ctx;

    pthread_once(&thread_ctx_once, make_key);
    ctx = pthread_getspecific(thread_ctx);
    if (ctx == NULL) {
        ctx = nn_ctx_new(1);
        pthread_setspecific(thread_ctx, ctx);
    }
    return ctx;
}

int nn_model_run(const struct nn_model *m, const struct nn_tensor *input,
                 const char *const *outputs, int nout, struct nn_tensor *results, struct err *e)
{
    return nn_model_run_ctx(m, own_ctx(), input, outputs, nout, results, e);
}

/* The state of one run. */
struct run {
    const struct nn_model *m;
    struct nn_ctx *ctx;
    const struct nn_tensor *input;
    char *needed;
    int *uses;     /* readers still to run, per node */
    long *alloc;   /* per node: its allocation's number in the run, or -1 */
    struct nn_tensor *val;
    int profile;
};

/* Marks what the outputs need and counts the readers of each node. */
static int prepare(struct run *r, const char *const *outputs, int nout, int *want, struct err *e)
{
    const struct nn_model *m = r->m;
    int *stack = xmalloc(sizeof(int) * ((size_t)m->nnodes * NN_MAX_INPUTS + 1));
    int rc = NN_OK;

    for (int i = 0; i < nout && rc == NN_OK; i++) {
        rc = resolve_output(m, outputs[i], &want[i], e);
        if (rc == NN_OK) {
            mark_needed(m, want[i], r->needed, stack);
            r->uses[want[i]]++;
        }
    }
    for (int u = 0; u < m->nnodes && rc == NN_OK; u++)
        for (int k = 0; r->needed[u] && k < m->nodes[u].nin; k++)
            r->uses[m->nodes[u].in[k]]++;
    free(stack);
    return rc;
}

/* Computes node u, then frees the inputs it was the last reader of. */
static int step(struct run *r, int u, struct err *e)
{
    const struct nn_node *nd = &r->m->nodes[u];
    const struct nn_tensor *in[NN_MAX_INPUTS];
    size_t first = r->ctx->nalloc;
    double t0 = r->profile ? clock_now() : 0;
    int rc;

    if (nd->op == NN_OP_CONST || nd->op == NN_OP_PLACEHOLDER) {
        nn_tensor_borrow(&r->val[u], nd->op == NN_OP_CONST ? &nd->value : r->input);
        return NN_OK;
    }
    for (int k = 0; k < nd->nin; k++)
        in[k] = &r->val[nd->in[k]];
    rc = nn_op_eval(nd, in, &r->val[u], r->ctx, e);
    if (rc != NN_OK)
        return rc;
    r->alloc[u] = r->ctx->nalloc > first ? (long)first : -1;
    if (r->profile)
        profile_line(nd, &r->val[u], clock_now() - t0);
    for (int k = 0; k < nd->nin; k++) {
        int v = nd->in[k];

        if (--r->uses[v] == 0) {
            if (r->alloc[v] >= 0)
                nn_ctx_last_use(r->ctx, (size_t)r->alloc[v]);
            nn_tensor_release(&r->val[v]);
        }
    }
    return NN_OK;
}

int nn_model_run_ctx(const struct nn_model *m, struct nn_ctx *ctx, const struct nn_tensor *input,
                     const char *const *outputs, int nout, struct nn_tensor *results,
                     struct err *e)
{
    struct run r = {.m = m, .ctx = ctx, .input = input};
    int n = m->nnodes, rc, *want;

    if (ctx == NULL)
        return nn_model_run(m, input, outputs, nout, results, e);
    rc = check_input(m, input, e);
    if (rc != NN_OK)
        return rc;
    want = xcalloc((size_t)nout + 1, sizeof(int));
    r.needed = xcalloc((size_t)n, 1);
    r.uses = xcalloc((size_t)n, sizeof(int));
    r.alloc = xcalloc((size_t)n, sizeof(long));
    r.val = xcalloc((size_t)n, sizeof *r.val);
    r.profile = getenv("DOPPEL_NN_PROFILE") != NULL;
    rc = prepare(&r, outputs, nout, want, e);
    nn_ctx_begin(ctx, m, input, want, nout);
    for (int i = 0; i < n && rc == NN_OK; i++) {
        ctx->step = i;
        if (r.needed[m->order[i]])
            rc = step(&r, m->order[i], e);
    }
    for (int i = 0; i < nout; i++) {
        if (rc == NN_OK)
            nn_tensor_copy(&results[i], &r.val[want[i]]);
        else
            memset(&results[i], 0, sizeof results[i]);
    }
    nn_ctx_end(ctx, m, input, want, nout, rc == NN_OK);
    for (int u = 0; u < n; u++)
        nn_tensor_release(&r.val[u]);
    free(r.val);
    free(r.alloc);
    free(r.uses);
    free(r.needed);
    free(want);
    return rc;
}

/* nn_model_run_batch: one task per group of samples run as one pass. */
struct batch {
    const struct nn_model *m;
    struct nn_ctx *ctx;
    const struct nn_tensor *input;
    const char *const *outputs;
    int nout;
    int64_t n, group;      /* samples, samples per task */
    struct nn_tensor *per; /* [task * nout + output] */
    int *rc;               /* per task */
    struct err *errs;      /* per task */
    double *flops;         /* per thread */
};

/* The number of samples of task i. */
static int64_t task_samples(const struct batch *b, int64_t i)
{
    return b->n - i * b->group < b->group ? b->n - i * b->group : b->group;
}

static void batch_task(void *arg, int64_t i, int thread)
{
    const struct batch *b = arg;
    struct nn_tensor some = *b->input;
    int64_t each = nn_numel(b->input) / b->input->shape[0];
    struct nn_ctx *sub = nn_ctx_sub(b->ctx, thread);

    some.shape[0] = task_samples(b, i);
    some.owned = 0;
    some.data = (float *)b->input->data + i * b->group * each;
    b->rc[i] = nn_model_run_ctx(b->m, sub, &some, b->outputs, b->nout, &b->per[i * b->nout],
                                &b->errs[i]);
    b->flops[thread] += sub->flops;
}

/* Stacks output o of every task into result (first axis = samples). */
static int stack(const struct batch *b, int64_t tasks, int o, struct nn_tensor *result,
                 struct err *e)
{
    const struct nn_tensor *first = &b->per[o];
    int64_t shape[NN_MAX_DIMS], done = 0;

    for (int64_t i = 0; i < tasks; i++) {
        const struct nn_tensor *t = &b->per[i * b->nout + o];
        int ok = t->nd == first->nd && t->nd >= 1 && t->shape[0] == task_samples(b, i) &&
                 t->dtype == first->dtype;

        for (int d = 1; ok && d < t->nd; d++)
            ok = t->shape[d] == first->shape[d];
        if (!ok) {
            err_set(e, "output %s: samples do not stack (the model mixes its batch)",
                    b->outputs[o]);
            return NN_ERR_RUN;
        }
    }
    memcpy(shape, first->shape, sizeof shape);
    shape[0] = b->n;
    nn_tensor_alloc(result, first->dtype, first->nd, shape);
    for (int64_t i = 0; i < tasks; i++) {
        const struct nn_tensor *t = &b->per[i * b->nout + o];

        memcpy((char *)result->data + (size_t)done * 4, t->data, (size_t)nn_numel(t) * 4);
        done += nn_numel(t);
    }
    return NN_OK;
}

void nn_model_set_batch_group(struct nn_model *m, int group)
{
    m->batch_group = group > 1 ? group : 1;
}

int nn_model_run_batch(const struct nn_model *m, struct nn_ctx *ctx, const struct nn_tensor *input,
                       const char *const *outputs, int nout, struct nn_tensor *results,
                       struct err *e)
{
    int64_t n = input != NULL && input->nd >= 1 ? input->shape[0] : 0, tasks;
    struct batch b = {m, ctx, input, outputs, nout, n, 1, NULL, NULL, NULL, NULL};
    int rc = NN_OK;

    if (n <= 1)
        return nn_model_run_ctx(m, ctx, input, outputs, nout, results, e);
    if (ctx == NULL)
        b.ctx = ctx = own_ctx();
    b.group = m->batch_group > 1 ? m->batch_group : 1; /* never fewer tasks than threads */
    if (b.group > (n + ctx->threads - 1) / ctx->threads)
        b.group = (n + ctx->threads - 1) / ctx->threads;
    tasks = (n + b.group - 1) / b.group;
    b.per = xcalloc((size_t)(tasks * nout), sizeof *b.per);
    b.rc = xcalloc((size_t)tasks, sizeof *b.rc);
    b.errs = xcalloc((size_t)tasks, sizeof *b.errs);
    b.flops = xcalloc((size_t)ctx->threads, sizeof *b.flops);
    for (int t = 0; t < ctx->threads; t++) /* made here: the tasks only read them */
        nn_ctx_sub(ctx, t);
    nn_pool_run(ctx->pool, tasks, batch_task, &b);
    ctx->flops = 0;
    for (int t = 0; t < ctx->threads; t++)
        ctx->flops += b.flops[t];
    for (int64_t i = 0; i < tasks && rc == NN_OK; i++)
        if (b.rc[i] != NN_OK) {
            rc = b.rc[i];
            err_set(e, "%s", b.errs[i].msg);
        }
    memset(results, 0, sizeof *results * (size_t)nout);
    for (int o = 0; o < nout && rc == NN_OK; o++)
        rc = stack(&b, tasks, o, &results[o], e);
    for (int o = 0; o < nout && rc != NN_OK; o++)
        nn_tensor_release(&results[o]);
    for (int64_t i = 0; i < tasks * nout; i++)
        nn_tensor_release(&b.per[i]);
    free(b.flops);
    free(b.errs);
    free(b.rc);
    free(b.per);
    return rc;
}
