/*
 * build: the builder appends nodes to a struct nn_model as it goes. Every node's inputs
 * exist before it, so creation order is a topological order and finishing is cheap:
 * check names, then run the same fuse and pack passes as the TFJS loader. Integer
 * operands (paddings, reduction axes) become int32 constants, as in a converted graph.
 */
#include "nn/graph.h"

#include "util/xalloc.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct nn_build {
    struct nn_model *m;
    int cap;
    struct err error; /* the first failure; msg[0] == '\0' when none */
};

uint64_t nn_model_new_id(void)
{
    static _Atomic uint64_t next_id = 1;

    return atomic_fetch_add(&next_id, 1);
}

struct nn_build *nn_build_new(void)
{
    struct nn_build *b = xcalloc(1, sizeof *b);

    b->m = xcalloc(1, sizeof *b->m);
    b->m->input = -1;
    return b;
}

void nn_build_free(struct nn_build *b)
{
    if (b == NULL)
        return;
    nn_model_free(b->m);
    free(b);
}

const char *nn_build_error(const struct nn_build *b)
{
    return b->error.msg;
}

/* Records the first failure; returns -1 for the op to return. */
static int fail(struct nn_build *b, const char *what, const char *name)
{
    if (b->error.msg[0] == '\0')
        err_set(&b->error, "%s%s%s", name ? "node " : "", name ? name : "", what);
    return -1;
}

/* 1 when every id in ids[0..n) names an existing node. */
static int ids_ok(const struct nn_build *b, const int *ids, int n)
{
    for (int i = 0; i < n; i++)
        if (ids[i] < 0 || ids[i] >= b->m->nnodes)
            return 0;
    return 1;
}

/* Appends a node of op reading ins[0..nin); returns its id or -1. */
static int add_node(struct nn_build *b, const char *name, enum nn_op op, const int *ins, int nin)
{
    struct nn_model *m = b->m;
    struct nn_node *nd;
    char auto_name[32];

    if (b->error.msg[0] != '\0' || nin > NN_MAX_INPUTS || !ids_ok(b, ins, nin))
        return fail(b, ": an input is not a node (an earlier op failed?)", name);
    if (m->nnodes == b->cap) {
        b->cap = b->cap ? 2 * b->cap : 64;
        m->nodes = xrealloc(m->nodes, sizeof *m->nodes * (size_t)b->cap);
    }
    nd = &m->nodes[m->nnodes];
    memset(nd, 0, sizeof *nd);
    snprintf(auto_name, sizeof auto_name, "op%d_%d", (int)op, m->nnodes);
    nd->name = xstrdup(name ? name : auto_name);
    nd->op = op;
    nd->nin = nin;
    for (int i = 0; i < nin; i++)
        nd->in[i] = ins[i];
    nd->stride[0] = nd->stride[1] = nd->dilation[0] = nd->dilation[1] = 1;
    nd->ksize[0] = nd->ksize[1] = 1;
    return m->nnodes++;
}

int nn_build_input(struct nn_build *b, const char *name)
{
    int id;

    if (b->m->input >= 0)
        return fail(b, ": a graph has one input", name);
    id = add_node(b, name, NN_OP_PLACEHOLDER, NULL, 0);
    if (id >= 0)
        b->m->input = id;
    return id;
}

int nn_build_const(struct nn_build *b, const char *name, struct nn_tensor *t)
{
    struct nn_weights *w = &b->m->weights;
    struct nn_tensor own;
    int id = add_node(b, name, NN_OP_CONST, NULL, 0);

    if (id < 0) {
        nn_tensor_release(t);
        return -1;
    }
    if (t->owned)
        own = *t;
    else
        nn_tensor_copy(&own, t);
    memset(t, 0, sizeof *t);
    nn_weights_add(w, b->m->nodes[id].name, &own);
    nn_tensor_borrow(&b->m->nodes[id].value, &w->t[w->n - 1]);
    return id;
}

/* An int32 vector constant, for paddings and axes. */
static int int_const(struct nn_build *b, const char *name, const char *suffix, const int64_t *v,
                     int n)
{
    char cname[256];
    struct nn_tensor t;
    int64_t shape[1] = {n};

    snprintf(cname, sizeof cname, "%s/%s", name ? name : "const", suffix);
    nn_tensor_alloc(&t, NN_I32, 1, shape);
    for (int i = 0; i < n; i++)
        ((int32_t *)t.data)[i] = (int32_t)v[i];
    return nn_build_const(b, name ? cname : NULL, &t);
}

/* Sets a node's window: k x k, stride, padding. */
static int window(struct nn_build *b, int id, int k, int stride, enum nn_padding pad)
{
    struct nn_node *nd;

    if (id < 0)
        return -1;
    nd = &b->m->nodes[id];
    if (k < 1 || stride < 1 || (pad != NN_PAD_VALID && pad != NN_PAD_SAME))
        return fail(b, ": invalid kernel size, stride or padding", nd->name);
    nd->ksize[0] = nd->ksize[1] = k;
    nd->stride[0] = nd->stride[1] = stride;
    nd->padding = pad;
    return id;
}

int nn_build_conv2d(struct nn_build *b, const char *name, int x, int w, int bias, int stride,
                    enum nn_padding pad)
{
    int ins[3] = {x, w, bias};
    int id = add_node(b, name, NN_OP_CONV2D, ins, bias >= 0 ? 3 : 2);

    if (id >= 0 && bias >= 0)
        b->m->nodes[id].fused = NN_FUSED_BIAS;
    return window(b, id, 1, stride, pad);
}

int nn_build_add(struct nn_build *b, const char *name, int x, int y)
{
    return add_node(b, name, NN_OP_ADD, (const int[]){x, y}, 2);
}

int nn_build_residual(struct nn_build *b, const char *name, int x, int skip)
{
    int id = add_node(b, name, NN_OP_ADD, (const int[]){x, skip}, 2);

    if (id >= 0)
        b->m->nodes[id].same_shape = 1;
    return id;
}

int nn_build_sub(struct nn_build *b, const char *name, int x, int y)
{
    return add_node(b, name, NN_OP_SUB, (const int[]){x, y}, 2);
}

int nn_build_mul(struct nn_build *b, const char *name, int x, int y)
{
    return add_node(b, name, NN_OP_MUL, (const int[]){x, y}, 2);
}

int nn_build_relu(struct nn_build *b, const char *name, int x)
{
    return add_node(b, name, NN_OP_RELU, &x, 1);
}

int nn_build_maxpool(struct nn_build *b, const char *name, int x, int k, int stride,
                     enum nn_padding pad)
{
    return window(b, add_node(b, name, NN_OP_MAXPOOL, &x, 1), k, stride, pad);
}

int nn_build_avgpool(struct nn_build *b, const char *name, int x, int k, int stride,
                     enum nn_padding pad)
{
    return window(b, add_node(b, name, NN_OP_AVGPOOL, &x, 1), k, stride, pad);
}

int nn_build_mean(struct nn_build *b, const char *name, int x, const int *axes, int naxes,
                  int keep_dims)
{
    int64_t v[NN_MAX_DIMS];
    int k, id;

    if (naxes < 1 || naxes > NN_MAX_DIMS)
        return fail(b, ": Mean needs 1 to 6 axes", name);
    for (int i = 0; i < naxes; i++)
        v[i] = axes[i];
    k = int_const(b, name, "axes", v, naxes);
    id = add_node(b, name, NN_OP_MEAN, (const int[]){x, k}, 2);
    if (id >= 0)
        b->m->nodes[id].keep_dims = keep_dims != 0;
    return id;
}

int nn_build_matmul(struct nn_build *b, const char *name, int x, int w)
{
    return add_node(b, name, NN_OP_MATMUL, (const int[]){x, w}, 2);
}

int nn_build_pad(struct nn_build *b, const char *name, int x, const int64_t *pads, int nd)
{
    int k;

    if (nd < 1 || nd > NN_MAX_DIMS)
        return fail(b, ": Pad needs a rank of 1 to 6", name);
    for (int i = 0; i < 2 * nd; i++)
        if (pads[i] < 0 || pads[i] > 4096)
            return fail(b, ": invalid paddings", name);
    k = int_const(b, name, "paddings", pads, 2 * nd);
    return add_node(b, name, NN_OP_PAD, (const int[]){x, k}, 2);
}

int nn_build_linear(struct nn_build *b, const char *name, int x, int w, int bias, int transpose_w)
{
    int ins[3] = {x, w, bias};
    int id = add_node(b, name, NN_OP_MATMUL, ins, bias >= 0 ? 3 : 2);

    if (id >= 0) {
        b->m->nodes[id].fused = bias >= 0 ? NN_FUSED_BIAS : 0;
        b->m->nodes[id].transpose_b = transpose_w != 0;
    }
    return id;
}

int nn_build_layernorm(struct nn_build *b, const char *name, int x, int gamma, int beta, float eps)
{
    int id = add_node(b, name, NN_OP_LAYERNORM, (const int[]){x, gamma, beta}, 3);

    if (id >= 0 && !(eps > 0 && eps < 1))
        return fail(b, ": LayerNorm's eps must lie in (0, 1)", name);
    if (id >= 0)
        b->m->nodes[id].eps = eps;
    return id;
}

int nn_build_attention(struct nn_build *b, const char *name, int qkv, int heads, float scale,
                       int64_t tokens)
{
    int id = add_node(b, name, NN_OP_ATTENTION, &qkv, 1);

    if (id >= 0 && (heads < 1 || heads > 1024 || !(scale > 0) || tokens < 0 || tokens > 4096))
        return fail(b, ": Attention needs 1 to 1024 heads, a positive scale, 0 to 4096 tokens",
                    name);
    if (id >= 0) {
        b->m->nodes[id].heads = heads;
        b->m->nodes[id].scale = scale;
        b->m->nodes[id].tokens = tokens;
    }
    return id;
}

int nn_build_vit_tokens(struct nn_build *b, const char *name, int patches, int cls, int pos)
{
    return add_node(b, name, NN_OP_VIT_TOKENS, (const int[]){patches, cls, pos}, 3);
}

int nn_build_gelu(struct nn_build *b, const char *name, int x, int quick)
{
    return add_node(b, name, quick ? NN_OP_GELU_QUICK : NN_OP_GELU, &x, 1);
}

int nn_build_slice(struct nn_build *b, const char *name, int x, int64_t first, int64_t count,
                   int64_t step)
{
    int id = add_node(b, name, NN_OP_SLICE, &x, 1);

    if (id >= 0 && (first < 0 || count < 0 || step < 0))
        return fail(b, ": Slice needs a first row, a count and a step that are not negative",
                    name);
    if (id >= 0) {
        b->m->nodes[id].slice[0] = first;
        b->m->nodes[id].slice[1] = count;
        b->m->nodes[id].slice[2] = step;
    }
    return id;
}

static int name_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Returns the first name two nodes share, or NULL. */
static const char *duplicate_name(const struct nn_model *m)
{
    const char **names = xmalloc(sizeof *names * (size_t)(m->nnodes + 1));
    const char *dup = NULL;

    for (int i = 0; i < m->nnodes; i++)
        names[i] = m->nodes[i].name;
    qsort(names, (size_t)m->nnodes, sizeof *names, name_cmp);
    for (int i = 1; i < m->nnodes && dup == NULL; i++)
        if (strcmp(names[i - 1], names[i]) == 0)
            dup = names[i];
    free(names);
    return dup;
}

int nn_build_finish(struct nn_build *b, struct nn_model **out, struct err *e)
{
    struct nn_model *m = b->m;
    const char *dup = duplicate_name(m);

    *out = NULL;
    if (b->error.msg[0] == '\0' && m->input < 0)
        fail(b, "the graph has no input", NULL);
    if (b->error.msg[0] == '\0' && dup != NULL)
        err_set(&b->error, "two nodes are named %s", dup);
    if (b->error.msg[0] != '\0') {
        err_set(e, "%s", b->error.msg);
        return NN_ERR_GRAPH;
    }
    m->order = xmalloc(sizeof(int) * (size_t)(m->nnodes + 1));
    for (int i = 0; i < m->nnodes; i++)
        m->order[i] = i;
    m->id = nn_model_new_id();
    nn_graph_fuse(m);
    nn_graph_pack(m);
    *out = m;
    b->m = NULL;
    return NN_OK;
}
