/*
 * ops_tx: the ops a vision transformer needs beyond convolutions and products.
 *
 * A ViT-B/32 block on one image is 50 tokens x 768 channels: its four products (7 of 8
 * GFLOP of the whole network) run on the packed kernels in ops.c, and what is left here
 * must only stay out of their way. LayerNorm is two passes over each row (mean, then
 * variance of the centred values, as PyTorch computes it, in sixteen-lane partial sums
 * that vectorise) and one to write. Attention reads q, k and v as strided views of the
 * packed [T, 3D] projection: per (sequence, head), K^T and V are packed into the thread's
 * scratch as weight panels, and S = q K^T and O = softmax(scale S) V run on the same
 * packed kernels as the products, with (sequence, head) pairs spread over the threads.
 * A batch of images is one [B T, W] matrix (the products then read their weights once
 * for the batch); only attention and the token ops know where each image's T rows start.
 * GELU and softmax use nmath.h's branch-free exp, which the compiler vectorises; a GELU
 * after a product is folded into the product's epilogue at load time (fuse.c), so the op
 * here only runs where it stands alone.
 */
#include "nn/graph.h"

#include "nn/nmath.h"

#include <math.h>
#include <string.h>

#define F(t) ((float *)(t)->data)

/* ---- LayerNorm ---------------------------------------------------------------------- */

struct rows_job {
    const struct nn_node *nd;
    const float *x, *g, *b;
    float *y;
    int64_t rows, cols, per_task;
};

/* The sum of (v[i] - mean)^2, in sixteen lanes as nn_row_sum. */
static inline float centred_squares(const float *v, int64_t n, float mean)
{
    float lane[16] = {0}, sum = 0;
    int64_t i = 0;

    for (; i + 16 <= n; i += 16)
        for (int j = 0; j < 16; j++)
            lane[j] += (v[i + j] - mean) * (v[i + j] - mean);
    for (; i < n; i++)
        sum += (v[i] - mean) * (v[i] - mean);
    for (int j = 0; j < 16; j++)
        sum += lane[j];
    return sum;
}

NN_SIMD
static void layernorm_rows(const struct rows_job *j, int64_t r0, int64_t r1)
{
    const int64_t c = j->cols;

    for (int64_t r = r0; r < r1; r++) {
        const float *x = j->x + r * c;
        float *y = j->y + r * c, mean, var, inv;

        mean = nn_row_sum(x, c) / (float)c;
        var = centred_squares(x, c, mean);
        inv = 1.0f / sqrtf(var / (float)c + j->nd->eps);
        for (int64_t i = 0; i < c; i++)
            y[i] = (x[i] - mean) * inv * j->g[i] + j->b[i];
    }
}

static void layernorm_task(void *arg, int64_t t, int thread)
{
    const struct rows_job *j = arg;
    int64_t r0 = t * j->per_task, r1 = r0 + j->per_task < j->rows ? r0 + j->per_task : j->rows;

    (void)thread;
    layernorm_rows(j, r0, r1);
}

static int op_layernorm(const struct nn_node *nd, const struct nn_tensor *const *in,
                        struct nn_tensor *out, struct nn_ctx *ctx, struct err *e)
{
    const struct nn_tensor *x = in[0];
    int64_t c = x->nd > 0 ? x->shape[x->nd - 1] : 0;
    struct rows_job j = {nd, F(x), F(in[1]), F(in[2]), NULL, 0, c, 0};

    if (x->dtype != NN_F32 || in[1]->dtype != NN_F32 || in[2]->dtype != NN_F32 || c < 1 ||
        nn_numel(in[1]) != c || nn_numel(in[2]) != c)
        return nn_op_fail(nd, e, "LayerNorm needs a float tensor and a gamma and beta as wide");
    if (nn_op_alloc(ctx, nd, out, NN_F32, x->nd, x->shape, e) != NN_OK)
        return NN_ERR_RUN;
    j.y = F(out);
    j.rows = nn_numel(x) / c;
    j.per_task = (32768 + c - 1) / c;
    if (ctx->threads > 1 && j.rows > j.per_task)
        nn_pool_run(ctx->pool, (j.rows + j.per_task - 1) / j.per_task, layernorm_task, &j);
    else
        layernorm_rows(&j, 0, j.rows);
    return NN_OK;
}

/* ---- Attention ---------------------------------------------------------------------- */

struct attn_job {
    const struct nn_kernels *k;
    const float *qkv;
    float *y;
    struct nn_ctx *ctx;
    int64_t t, d, dh, heads;
    float scale;
};

/* Task i: head i % heads of sequence i / heads. Keys (as K^T) and values are packed into
 * the thread's scratch as weight panels, so both products run on the packed kernels;
 * S is T rows of tp (T rounded up to 16) floats. */
static void attn_task(void *arg, int64_t i, int thread)
{
    const struct attn_job *j = arg;
    const int64_t t = j->t, ld = 3 * j->d, seq = i / j->heads, h = i % j->heads;
    const int64_t tp = (t + 15) / 16 * 16, dp = (j->dh + 15) / 16 * 16;
    const float *q = j->qkv + seq * t * ld + h * j->dh, *k = q + j->d, *v = q + 2 * j->d;
    float *kt = nn_ctx_scratch(j->ctx, thread, (size_t)(tp * j->dh + dp * t + t * tp));
    float *vp = kt + tp * j->dh, *s = vp + dp * t;
    struct nn_packed kb = {j->dh, t, kt}, vb = {t, j->dh, vp};

    nn_packed_fill(kt, k, ld, j->dh, t, 1);
    nn_packed_fill(vp, v, ld, t, j->dh, 0);
    j->k->gemm(q, ld, &kb, s, tp, t, 0, t, NULL);
    nn_softmax_rows(s, t, t, tp, j->scale);
    j->k->gemm(s, tp, &vb, j->y + seq * t * j->d + h * j->dh, j->d, t, 0, j->dh, NULL);
}

static int op_attention(const struct nn_node *nd, const struct nn_tensor *const *in,
                        struct nn_tensor *out, struct nn_ctx *ctx, struct err *e)
{
    const struct nn_tensor *x = in[0];
    struct attn_job j = {nn_kernels_get(), F(x), NULL, ctx, 0, 0, 0, nd->heads, nd->scale};
    int64_t shape[2], rows;

    if (x->dtype != NN_F32 || x->nd != 2 || x->shape[1] % 3 != 0 || nd->heads < 1 ||
        x->shape[1] / 3 % nd->heads != 0)
        return nn_op_fail(nd, e, "Attention needs a [T, 3D] float tensor, D a multiple of heads");
    rows = x->shape[0];
    j.t = nd->tokens > 0 ? nd->tokens : rows;
    if ((j.t > 0 && rows % j.t != 0) || j.t > 4096 || x->shape[1] > (1 << 20))
        return nn_op_fail(nd, e, "Attention's rows are not whole sequences of at most 4096");
    j.d = x->shape[1] / 3;
    j.dh = j.d / nd->heads;
    shape[0] = rows, shape[1] = j.d;
    if (nn_op_alloc(ctx, nd, out, NN_F32, 2, shape, e) != NN_OK)
        return NN_ERR_RUN;
    j.y = F(out);
    ctx->flops += 4.0 * (double)rows * (double)j.t * (double)j.d;
    if (j.t > 0)
        nn_pool_run(ctx->pool, rows / j.t * nd->heads, attn_task, &j);
    return NN_OK;
}

/* ---- GELU --------------------------------------------------------------------------- */

struct flat_job {
    enum nn_op op;
    const float *x;
    float *y;
    int64_t n, chunk;
};

NN_SIMD
static void gelu_quick(const float *x, float *y, int64_t n)
{
    for (int64_t i = 0; i < n; i++)
        y[i] = nn_gelu_quick(x[i]);
}

static void gelu_erf(const float *x, float *y, int64_t n)
{
    for (int64_t i = 0; i < n; i++)
        y[i] = nn_gelu(x[i]);
}

static void gelu_task(void *arg, int64_t t, int thread)
{
    const struct flat_job *j = arg;
    int64_t s = t * j->chunk, len = s + j->chunk < j->n ? j->chunk : j->n - s;

    (void)thread;
    if (j->op == NN_OP_GELU_QUICK)
        gelu_quick(j->x + s, j->y + s, len);
    else
        gelu_erf(j->x + s, j->y + s, len);
}

static int op_gelu(const struct nn_node *nd, const struct nn_tensor *const *in,
                   struct nn_tensor *out, struct nn_ctx *ctx, struct err *e)
{
    struct flat_job j = {nd->op, F(in[0]), NULL, nn_numel(in[0]), 16384};

    if (in[0]->dtype != NN_F32)
        return nn_op_fail(nd, e, "input is not a float tensor");
    if (nn_op_alloc(ctx, nd, out, NN_F32, in[0]->nd, in[0]->shape, e) != NN_OK)
        return NN_ERR_RUN;
    j.y = F(out);
    if (ctx->threads > 1 && j.n >= 2 * j.chunk)
        nn_pool_run(ctx->pool, (j.n + j.chunk - 1) / j.chunk, gelu_task, &j);
    else if (j.n > 0)
        j.chunk = j.n, gelu_task(&j, 0, 0);
    return NN_OK;
}

/* ---- Slice, ViT tokens --------------------------------------------------------------- */

static int op_slice(const struct nn_node *nd, const struct nn_tensor *const *in,
                    struct nn_tensor *out, struct nn_ctx *ctx, struct err *e)
{
    const struct nn_tensor *x = in[0];
    int64_t shape[NN_MAX_DIMS], row, first = nd->slice[0], step = nd->slice[2], count;

    if (x->nd < 1 || first < 0 || nd->slice[1] < 0 || step < 0)
        return nn_op_fail(nd, e, "Slice rows fall outside the tensor");
    count = step > 0 ? (x->shape[0] - first + step - 1) / step : nd->slice[1];
    if (count < 0 || (step == 0 && first + count > x->shape[0]))
        return nn_op_fail(nd, e, "Slice rows fall outside the tensor");
    memcpy(shape, x->shape, sizeof shape);
    shape[0] = count;
    if (nn_op_alloc(ctx, nd, out, x->dtype, x->nd, shape, e) != NN_OK)
        return NN_ERR_RUN;
    row = x->shape[0] > 0 ? nn_numel(x) / x->shape[0] : 0;
    for (int64_t i = 0; i < count; i++)
        memcpy((char *)out->data + 4 * i * row,
               (const char *)x->data + 4 * (first + i * (step > 0 ? step : 1)) * row,
               (size_t)(4 * row));
    return NN_OK;
}

/* Patches [B, ..., W] (a sequence of P rows of W per sample), class token [W] and
 * positions [P + 1, W] -> [B (P + 1), W]: each sample's class token, then its patches,
 * with the positions added. */
static int op_vit_tokens(const struct nn_node *nd, const struct nn_tensor *const *in,
                         struct nn_tensor *out, struct nn_ctx *ctx, struct err *e)
{
    const struct nn_tensor *x = in[0], *cls = in[1], *pos = in[2];
    int64_t w = x->nd >= 2 ? x->shape[x->nd - 1] : 0, b = x->nd >= 2 ? x->shape[0] : 0, p, t;
    int64_t shape[2];
    const float *px, *pp;
    float *y;

    if (x->dtype != NN_F32 || cls->dtype != NN_F32 || pos->dtype != NN_F32 || w < 1 || b < 1 ||
        nn_numel(cls) != w || pos->nd != 2 || pos->shape[1] != w)
        return nn_op_fail(nd, e, "ViT tokens need [B, ..., W] patches, a [W] class token and "
                                 "[T, W] positions");
    p = nn_numel(x) / (b * w);
    t = p + 1;
    if (pos->shape[0] != t)
        return nn_op_fail(nd, e, "the positions do not match the patches");
    shape[0] = b * t, shape[1] = w;
    if (nn_op_alloc(ctx, nd, out, NN_F32, 2, shape, e) != NN_OK)
        return NN_ERR_RUN;
    y = F(out), px = F(x), pp = F(pos);
    for (int64_t s = 0; s < b; s++)
        for (int64_t r = 0; r < t; r++)
            for (int64_t c = 0; c < w; c++)
                y[(s * t + r) * w + c] =
                    (r == 0 ? F(cls)[c] : px[(s * p + r - 1) * w + c]) + pp[r * w + c];
    return NN_OK;
}

int nn_op_transformer(const struct nn_node *nd, const struct nn_tensor *const *in,
                      struct nn_tensor *out, struct nn_ctx *ctx, struct err *e)
{
    switch (nd->op) {
    case NN_OP_LAYERNORM: return op_layernorm(nd, in, out, ctx, e);
    case NN_OP_ATTENTION: return op_attention(nd, in, out, ctx, e);
    case NN_OP_GELU: case NN_OP_GELU_QUICK: return op_gelu(nd, in, out, ctx, e);
    case NN_OP_SLICE: return op_slice(nd, in, out, ctx, e);
    case NN_OP_VIT_TOKENS: return op_vit_tokens(nd, in, out, ctx, e);
    default: return nn_op_fail(nd, e, "not a transformer op");
    }
}
