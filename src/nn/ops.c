/*
 * ops: the kernels of the graph interpreter, float32, NHWC.
 *
 * Convolutions are matrix products on the packed-weight kernels (kern.h): each output
 * pixel's window is read in place as kh runs of kw x c floats (from a zero-padded copy
 * of the input where windows reach outside it; dilated windows are unfolded into
 * scratch), with bias, activation and epilogue applied while the block is in cache.
 * Depthwise convolutions and pools are direct loops whose innermost loop runs over
 * channels, contiguous in NHWC, so the compiler vectorises it.
 * Element-wise binary ops have fast paths for equal shapes, a scalar, and a per-channel
 * vector; anything else broadcasts through a generic index walk. Every kernel checks its
 * input shapes first: a model whose shapes do not fit fails with the node's name.
 */
#include "nn/graph.h"

#include "nn/blas.h"
#include "nn/nmath.h"
#include "nn/wino.h"
#include "util/xalloc.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define F(t) ((float *)(t)->data)



static int bad(const struct nn_node *nd, struct err *e, const char *why)
{
    err_set(e, "node %s: %s", nd->name, why);
    return NN_ERR_RUN;
}

/* Allocates an op's output unless it would hold more than NN_MAX_TENSOR elements (a
 * hostile model could otherwise ask for terabytes through padding or broadcasting). */
#define NN_MAX_TENSOR ((int64_t)1 << 27)
#define WINO_MIN_PIXELS 64 /* output pixels per image below which the direct form is kept */

static int out_alloc(struct nn_ctx *ctx, const struct nn_node *nd, struct nn_tensor *out,
                     enum nn_dtype dt, int rank, const int64_t *shape, struct err *e)
{
    int64_t n = 1;

    for (int i = 0; i < rank; i++) {
        if (shape[i] < 0 || (shape[i] > 0 && n > NN_MAX_TENSOR / shape[i]))
            return bad(nd, e, "output tensor too large");
        n *= shape[i];
    }
    nn_ctx_alloc(ctx, out, dt, rank, shape);
    return NN_OK;
}

int nn_op_fail(const struct nn_node *nd, struct err *e, const char *why)
{
    return bad(nd, e, why);
}

int nn_op_alloc(struct nn_ctx *ctx, const struct nn_node *nd, struct nn_tensor *out,
                enum nn_dtype dt, int rank, const int64_t *shape, struct err *e)
{
    return out_alloc(ctx, nd, out, dt, rank, shape, e);
}

static int is_f32(const struct nn_tensor *t)
{
    return t->dtype == NN_F32;
}

/* ---- activations -------------------------------------------------------------------- */

NN_SIMD
static void bias_act(float *y, int64_t rows, int64_t ld, int64_t c0, int64_t c1,
                     const float *bias, int fused, const float *alpha)
{
    for (int64_t r = 0; r < rows; r++) {
        float *row = y + r * ld;

        if (bias != NULL)
            for (int64_t c = c0; c < c1; c++)
                row[c] += bias[c];
        if (fused & NN_FUSED_RELU)
            for (int64_t c = c0; c < c1; c++)
                row[c] = row[c] > 0 ? row[c] : 0;
        if (fused & NN_FUSED_RELU6)
            for (int64_t c = c0; c < c1; c++)
                row[c] = row[c] < 0 ? 0 : row[c] > 6 ? 6 : row[c];
        if ((fused & NN_FUSED_PRELU) && alpha != NULL)
            for (int64_t c = c0; c < c1; c++)
                row[c] = row[c] >= 0 ? row[c] : row[c] * alpha[c];
    }
}

/* Finishes a block of a convolution's or product's output: bias, fused activation and
 * the folded element-wise steps, on columns [c0, c1) of rows rows ld floats apart. */
static void finish(const struct nn_node *nd, const float *bias, const float *alpha, float *y,
                   int64_t rows, int64_t ld, int64_t c0, int64_t c1, const float *res)
{
    bias_act(y, rows, ld, c0, c1, bias, nd->fused, alpha);
    nn_apply_epilogue(y, rows, ld, c0, c1, nd->epi, nd->nepi, res);
}

/* The residual a fused Add reads (nd->res_in), checked to match the output; NULL when
 * the node has none. */
static int residual_arg(const struct nn_node *nd, const struct nn_tensor *const *in,
                        const struct nn_tensor *out, const float **res, struct err *e)
{
    const struct nn_tensor *r = nd->res_in > 0 ? in[nd->res_in] : NULL;

    *res = NULL;
    if (r == NULL)
        return NN_OK;
    if (!is_f32(r) || r->nd != out->nd ||
        memcmp(r->shape, out->shape, sizeof(int64_t) * (size_t)out->nd) != 0)
        return bad(nd, e, "the residual added to the output has another shape");
    *res = F(r);
    return NN_OK;
}

/* Checks and returns the fused bias / alpha inputs (in[2], in[3]) of a conv or matmul. */
static int fused_args(const struct nn_node *nd, const struct nn_tensor *const *in, int64_t cols,
                      const float **bias, const float **alpha, struct err *e)
{
    *bias = *alpha = NULL;
    if (!(nd->fused & NN_FUSED_BIAS))
        return NN_OK;
    if (nd->nin < 3 || !is_f32(in[2]) || nn_numel(in[2]) != cols)
        return bad(nd, e, "bias does not match the output channels");
    *bias = F(in[2]);
    if (nd->fused & NN_FUSED_PRELU) {
        if (nd->nin < 4 || !is_f32(in[3]) || nn_numel(in[3]) != cols)
            return bad(nd, e, "prelu alpha does not match the output channels");
        *alpha = F(in[3]);
    }
    return NN_OK;
}

/* ---- windows ------------------------------------------------------------------------ */

/* Output size and leading padding of one spatial axis, TensorFlow's rules: SAME puts the
 * odd padding pixel after (bottom/right). Returns -1 when the window does not fit. */
static int window(int64_t in, int k, int s, int d, enum nn_padding p, int pb, int pa,
                  int64_t *out, int *before)
{
    int64_t eff = (int64_t)(k - 1) * d + 1;

    if (p == NN_PAD_SAME) {
        int64_t total;

        *out = (in + s - 1) / s;
        total = (*out - 1) * s + eff - in;
        *before = total > 0 ? (int)(total / 2) : 0;
    } else {
        int64_t padded = in + (p == NN_PAD_EXPLICIT ? pb + pa : 0);

        *before = p == NN_PAD_EXPLICIT ? pb : 0;
        if (padded < eff)
            return -1;
        *out = (padded - eff) / s + 1;
    }
    return *out > 0 ? 0 : -1;
}

struct win {
    int64_t n, h, w, c;  /* input */
    int64_t oh, ow;      /* output */
    int kh, kw, sh, sw, dh, dw, pt, pl;
};

static int win_setup(const struct nn_node *nd, const struct nn_tensor *x, int kh, int kw,
                     struct win *g, struct err *e)
{
    if (x->nd != 4 || !is_f32(x))
        return bad(nd, e, "input is not a 4-D float tensor (NHWC)");
    g->n = x->shape[0], g->h = x->shape[1], g->w = x->shape[2], g->c = x->shape[3];
    g->kh = kh, g->kw = kw, g->sh = nd->stride[0], g->sw = nd->stride[1];
    g->dh = nd->dilation[0], g->dw = nd->dilation[1];
    if (window(g->h, kh, g->sh, g->dh, nd->padding, nd->pads[0], nd->pads[1], &g->oh, &g->pt) ||
        window(g->w, kw, g->sw, g->dw, nd->padding, nd->pads[2], nd->pads[3], &g->ow, &g->pl))
        return bad(nd, e, "the window does not fit the input");
    return NN_OK;
}

/* ---- convolution -------------------------------------------------------------------- */

/* Unfolds one filter row (ky) of output pixel (oy, ox) into dst (kw * c floats). With
 * no dilation and the whole span inside the image it is one copy. */
static void unfold_row(const float *img, const struct win *g, int64_t iy, int64_t ox, float *dst)
{
    int64_t ix0 = ox * g->sw - g->pl, span = (int64_t)g->kw * g->c;

    if (iy < 0 || iy >= g->h) {
        memset(dst, 0, sizeof(float) * (size_t)span);
        return;
    }
    if (g->dw == 1 && ix0 >= 0 && ix0 + g->kw <= g->w) {
        memcpy(dst, img + (iy * g->w + ix0) * g->c, sizeof(float) * (size_t)span);
        return;
    }
    for (int kx = 0; kx < g->kw; kx++, dst += g->c) {
        int64_t ix = ix0 + (int64_t)kx * g->dw;

        if (ix < 0 || ix >= g->w)
            memset(dst, 0, sizeof(float) * (size_t)g->c);
        else
            memcpy(dst, img + (iy * g->w + ix) * g->c, sizeof(float) * (size_t)g->c);
    }
}

/* Unfolds output rows [r0, r1) of the whole batch (row = (image, oy, ox)) into col, one
 * row of kh * kw * c per output pixel, zero outside the image. */
static void im2col(const float *x, const struct win *g, int64_t r0, int64_t r1, float *col)
{
    int64_t kc = (int64_t)g->kh * g->kw * g->c, plane = g->oh * g->ow;

    for (int64_t r = r0; r < r1; r++) {
        const float *img = x + (r / plane) * g->h * g->w * g->c;
        int64_t oy = r % plane / g->ow, ox = r % g->ow;
        float *dst = col + (r - r0) * kc;

        for (int ky = 0; ky < g->kh; ky++, dst += (int64_t)g->kw * g->c)
            unfold_row(img, g, oy * g->sh - g->pt + (int64_t)ky * g->dh, ox, dst);
    }
}

/* One convolution or matrix product as a grid of tasks: blocks of rows (output pixels)
 * by blocks of columns (output channels). A task points at its rows' windows (or, for
 * dilated windows, unfolds them into its thread's scratch), multiplies them by the
 * packed weights and finishes the block while it is still in cache. */
struct product {
    const struct nn_node *nd;
    const struct nn_packed *w;
    const struct nn_kernels *k;
    struct nn_ctx *ctx;
    const float *x, *bias, *alpha;
    const float *res; /* a residual of the output's shape to add (fused Add), or NULL */
    float *y;
    const struct win *g; /* NULL: x is already the m x kc matrix */
    const float *base;   /* not NULL: read the windows in place from base, bh x bw images */
    int64_t bh, bw;
    int64_t m, n, kc, mb, nb, col_blocks;
};

/* The rows of output pixels [r0, r1) as pointers to their windows' first input pixel in
 * p->base (the input, or its padded copy), for the kernels' in-place read. */
static void window_rows(const struct product *p, int64_t r0, int64_t r1, const float **row)
{
    const struct win *g = p->g;
    int64_t plane = g->oh * g->ow, img = r0 / plane, oy = r0 % plane / g->ow, ox = r0 % g->ow;

    for (int64_t r = r0; r < r1; r++) { /* (img, oy, ox) counted on, not divided out */
        row[r - r0] = p->base + ((img * p->bh + oy * g->sh) * p->bw + ox * g->sw) * g->c;
        if (++ox == g->ow) {
            ox = 0;
            if (++oy == g->oh)
                oy = 0, img++;
        }
    }
}

/* After the kernel: what the post did not do, on the block while it is in cache. */
static void product_finish(const struct product *p, float *y, int64_t r0, int64_t r1,
                           int64_t c0, int64_t c1)
{
    const struct nn_node *nd = p->nd;
    const float *res = p->res != NULL ? p->res + r0 * p->n : NULL;

    if (nd->post.scale != NULL)
        nn_apply_epilogue(y, r1 - r0, p->n, c0, c1, nd->epi + nd->nfold, nd->nepi - nd->nfold,
                          res);
    else
        finish(nd, p->bias, p->alpha, y, r1 - r0, p->n, c0, c1, res);
}

static void product_task(void *arg, int64_t t, int thread)
{
    const struct product *p = arg;
    int64_t r0 = t / p->col_blocks * p->mb, c0 = t % p->col_blocks * p->nb;
    int64_t r1 = r0 + p->mb < p->m ? r0 + p->mb : p->m, c1 = c0 + p->nb < p->n ? c0 + p->nb : p->n;
    const struct nn_post *post = p->nd->post.scale != NULL ? &p->nd->post : NULL;
    const float *a = p->x + r0 * p->kc;
    float *y = p->y + r0 * p->n;

    if (p->base != NULL) {
        const float **row = (const float **)nn_ctx_scratch(
            p->ctx, thread, (size_t)(r1 - r0) * sizeof(float *) / sizeof(float));
        struct nn_rows rows = {row, p->g->kh, (int64_t)p->g->kw * p->g->c, p->bw * p->g->c};

        window_rows(p, r0, r1, row);
        p->k->gemm_rows(&rows, p->w, y, p->n, r1 - r0, c0, c1, post);
    } else {
        if (p->g != NULL) {
            float *col = nn_ctx_scratch(p->ctx, thread, (size_t)((r1 - r0) * p->kc));

            im2col(p->x, p->g, r0, r1, col);
            a = col;
        }
        p->k->gemm(a, p->kc, p->w, y, p->n, r1 - r0, c0, c1, post);
    }
    product_finish(p, y, r0, r1, c0, c1);
}

/* Sizes the blocks (a few hundred KiB of rows, weight columns that fit in L2, and at
 * least four tasks per thread when the layer allows) and runs the grid. */
static void product_run(struct product *p)
{
    int threads = p->ctx->threads;
    int64_t rows, tasks;

    if (p->m == 0 || p->n == 0)
        return; /* an empty output */
    p->nb = p->n;
    while (p->nb > 64 && p->nb * p->kc > (1 << 17))
        p->nb = (p->nb / 2 + 63) / 64 * 64;
    p->col_blocks = (p->n + p->nb - 1) / p->nb;
    rows = (1 << 16) / (p->kc > p->n ? p->kc : p->n);
    rows = rows < 24 ? 24 : rows;
    tasks = (p->m + rows - 1) / rows * p->col_blocks;
    if (threads > 1 && tasks < 4 * threads) {
        int64_t want = (4 * threads + p->col_blocks - 1) / p->col_blocks;

        rows = (p->m + want - 1) / want;
        rows = rows < 24 ? 24 : rows;
    }
    p->mb = (rows + 23) / 24 * 24;
    tasks = (p->m + p->mb - 1) / p->mb * p->col_blocks;
    p->ctx->flops += 2.0 * (double)p->m * (double)p->n * (double)p->kc;
    nn_pool_run(p->ctx->pool, tasks, product_task, p);
}

/* Rows [t * 16, t * 16 + 16) of the padded copy (image-major): zeros where the window
 * reaches outside the input, the input's pixels elsewhere. */
struct pad_job {
    const struct win *g;
    const float *x;
    float *y;
    int64_t bh, bw;
};

static void pad_task(void *arg, int64_t t, int thread)
{
    const struct pad_job *j = arg;
    const struct win *g = j->g;
    int64_t c = g->c, copy = g->w < j->bw - g->pl ? g->w : j->bw - g->pl;

    (void)thread;
    for (int64_t r = t * 16; r < (t + 1) * 16 && r < g->n * j->bh; r++) {
        int64_t img = r / j->bh, iy = r % j->bh - g->pt;
        float *dst = j->y + r * j->bw * c;

        if (iy < 0 || iy >= g->h) {
            memset(dst, 0, sizeof(float) * (size_t)(j->bw * c));
            continue;
        }
        memset(dst, 0, sizeof(float) * (size_t)(g->pl * c));
        memcpy(dst + g->pl * c, j->x + ((img * g->h + iy) * g->w) * c,
               sizeof(float) * (size_t)(copy * c));
        memset(dst + (g->pl + copy) * c, 0, sizeof(float) * (size_t)((j->bw - g->pl - copy) * c));
    }
}

/* Sets p up to read each output pixel's window in place: from the input itself when
 * every window lies inside it, else from a copy padded with the zeros the windows reach
 * (made here, on the pool). Each window is then kh runs of kw x c floats. */
static void window_base(struct product *p, struct nn_ctx *ctx)
{
    const struct win *g = p->g;
    struct pad_job j = {g, p->x, NULL, (g->oh - 1) * g->sh + g->kh, (g->ow - 1) * g->sw + g->kw};
    int64_t rows;

    if (g->pt == 0 && g->pl == 0 && j.bh <= g->h && j.bw <= g->w) {
        p->base = p->x, p->bh = g->h, p->bw = g->w;
        return;
    }
    j.y = nn_ctx_shared(ctx, (size_t)(g->n * j.bh * j.bw * g->c));
    rows = g->n * j.bh;
    if (rows * j.bw * g->c < (1 << 16)) /* a face's late layers: waking the pool costs more */
        for (int64_t t = 0; t < (rows + 15) / 16; t++)
            pad_task(&j, t, 0);
    else
        nn_pool_run(ctx->pool, (rows + 15) / 16, pad_task, &j);
    p->base = j.y, p->bh = j.bh, p->bw = j.bw;
}

/* y = min(max(y * scale + shift, lo), hi) on rows outputs of n channels: the kernels'
 * post, for outputs that did not come out of them. */
NN_SIMD
static void post_rows(float *y, int64_t rows, int64_t n, const struct nn_post *post)
{
    for (int64_t r = 0; r < rows; r++, y += n)
        for (int64_t c = 0; c < n; c++) {
            float v = y[c] * post->scale[c] + post->shift[c];

            v = v < post->lo ? post->lo : v;
            y[c] = v > post->hi ? post->hi : v;
        }
}

static void wino_finish_task(void *arg, int64_t t, int thread)
{
    const struct product *p = arg;
    int64_t r0 = t * p->mb, r1 = r0 + p->mb < p->m ? r0 + p->mb : p->m;
    float *y = p->y + r0 * p->n;

    (void)thread;
    if (p->nd->post.scale != NULL)
        post_rows(y, r1 - r0, p->n, &p->nd->post);
    product_finish(p, y, r0, r1, 0, p->n);
}

/* A 3 x 3 stride-1 convolution through Winograd's form (wino.c), then bias, activation
 * and epilogue over blocks of its rows. */
static void wino_run(struct product *p, const struct win *g)
{
    struct nn_wino j = {.x = p->x, .y = p->y, .u = p->nd->wino, .kern = p->k, .n = g->n,
                        .h = g->h, .w = g->w, .c = g->c, .k = p->n, .oh = g->oh, .ow = g->ow,
                        .pt = g->pt, .pl = g->pl, .th = (g->oh + 1) / 2, .tw = (g->ow + 1) / 2};

    j.tiles = j.n * j.th * j.tw;
    nn_wino_run(&j, p->ctx);
    p->ctx->flops += 2.0 * (double)p->m * (double)p->n * (double)p->kc; /* as the direct form */
    p->mb = 256;
    nn_pool_run(p->ctx->pool, (p->m + p->mb - 1) / p->mb, wino_finish_task, p);
}

static int op_conv2d(const struct nn_node *nd, const struct nn_tensor *const *in,
                     struct nn_tensor *out, struct nn_ctx *ctx, struct err *e)
{
    const struct nn_tensor *x = in[0], *w = in[1];
    struct product p = {.nd = nd, .w = &nd->packed, .k = nn_kernels_get(), .ctx = ctx};
    struct nn_packed tmp = {0};
    struct win g;
    int64_t shape[4];
    int rc;

    if (w->nd != 4 || !is_f32(w))
        return bad(nd, e, "filter is not a 4-D float tensor (HWIO)");
    rc = win_setup(nd, x, (int)w->shape[0], (int)w->shape[1], &g, e);
    if (rc != NN_OK)
        return rc;
    if (w->shape[2] != g.c)
        return bad(nd, e, "filter input channels differ from the input's");
    p.n = w->shape[3];
    p.kc = (int64_t)g.kh * g.kw * g.c;
    rc = fused_args(nd, in, p.n, &p.bias, &p.alpha, e);
    if (rc != NN_OK)
        return rc;
    shape[0] = g.n, shape[1] = g.oh, shape[2] = g.ow, shape[3] = p.n;
    if (out_alloc(ctx, nd, out, NN_F32, 4, shape, e) != NN_OK)
        return NN_ERR_RUN;
    if (residual_arg(nd, in, out, &p.res, e) != NN_OK)
        return NN_ERR_RUN;
    if (p.w->p == NULL) { /* weights computed at run time: pack them now */
        nn_packed_init(&tmp, F(w), p.kc, p.n, 0);
        p.w = &tmp;
    }
    p.x = F(x), p.y = F(out), p.m = g.n * g.oh * g.ow;
    p.g = g.kh == 1 && g.kw == 1 && g.sh == 1 && g.sw == 1 && g.pt == 0 && g.pl == 0 &&
                  g.oh == g.h && g.ow == g.w
              ? NULL
              : &g;
    if (nd->wino != NULL && g.oh * g.ow >= WINO_MIN_PIXELS) {
        wino_run(&p, &g);
        return NN_OK;
    }
    if (p.g != NULL && g.dh == 1 && g.dw == 1)
        window_base(&p, ctx);
    product_run(&p);
    nn_packed_free(&tmp);
    return NN_OK;
}

/* Depthwise convolution with a channel multiplier above 1 (no model doppel ships uses
 * one): a direct loop. */
static void depthwise_multi(const struct win *g, const float *x, const float *w, int64_t mult,
                            float *y)
{
    int64_t oc = g->c * mult;

    for (int64_t n = 0; n < g->n; n++)
        for (int64_t oy = 0; oy < g->oh; oy++)
            for (int64_t ox = 0; ox < g->ow; ox++) {
                float *acc = y + ((n * g->oh + oy) * g->ow + ox) * oc;

                memset(acc, 0, sizeof(float) * (size_t)oc);
                for (int ky = 0; ky < g->kh; ky++) {
                    int64_t iy = oy * g->sh - g->pt + (int64_t)ky * g->dh;

                    for (int kx = 0; kx < g->kw && iy >= 0 && iy < g->h; kx++) {
                        int64_t ix = ox * g->sw - g->pl + (int64_t)kx * g->dw;
                        const float *xp = x + ((n * g->h + iy) * g->w + ix) * g->c;
                        const float *wp = w + ((int64_t)ky * g->kw + kx) * oc;

                        for (int64_t c = 0; c < g->c && ix >= 0 && ix < g->w; c++)
                            for (int64_t m = 0; m < mult; m++)
                                acc[c * mult + m] += xp[c] * wp[c * mult + m];
                    }
                }
            }
}

/* Depthwise, multiplier 1: one task per output row, finished while in cache. */
struct dw_job {
    const struct nn_node *nd;
    const struct nn_kernels *k;
    struct nn_dw g;
    const float *x, *alpha;
    float *y;
    int64_t image; /* floats per input image */
};

static void dw_task(void *arg, int64_t t, int thread)
{
    const struct dw_job *j = arg;
    struct nn_dw g = j->g;
    int64_t n = t / g.oh, oy = t % g.oh;
    float *y = j->y + t * g.ow * g.c;

    (void)thread;
    g.x = j->x + n * j->image;
    j->k->depthwise_row(&g, oy, y);
    if (g.post == NULL)
        finish(j->nd, NULL, j->alpha, y, g.ow, g.c, 0, g.c, NULL);
    else
        nn_apply_epilogue(y, g.ow, g.c, 0, g.c, j->nd->epi + j->nd->nfold,
                          j->nd->nepi - j->nd->nfold, NULL);
}

static int op_depthwise(const struct nn_node *nd, const struct nn_tensor *const *in,
                        struct nn_tensor *out, struct nn_ctx *ctx, struct err *e)
{
    const struct nn_tensor *x = in[0], *w = in[1];
    const float *bias, *alpha;
    struct win g;
    struct dw_job j;
    int64_t shape[4], mult, oc;
    int rc;

    if (w->nd != 4 || !is_f32(w))
        return bad(nd, e, "filter is not a 4-D float tensor");
    rc = win_setup(nd, x, (int)w->shape[0], (int)w->shape[1], &g, e);
    if (rc != NN_OK)
        return rc;
    if (w->shape[2] != g.c)
        return bad(nd, e, "filter channels differ from the input's");
    mult = w->shape[3];
    oc = g.c * mult;
    rc = fused_args(nd, in, oc, &bias, &alpha, e);
    if (rc != NN_OK)
        return rc;
    shape[0] = g.n, shape[1] = g.oh, shape[2] = g.ow, shape[3] = oc;
    if (out_alloc(ctx, nd, out, NN_F32, 4, shape, e) != NN_OK)
        return NN_ERR_RUN;
    if (mult != 1) {
        depthwise_multi(&g, F(x), F(w), mult, F(out));
        finish(nd, bias, alpha, F(out), g.n * g.oh * g.ow, oc, 0, oc, NULL);
        return NN_OK;
    }
    j = (struct dw_job){.nd = nd, .k = nn_kernels_get(), .x = F(x), .alpha = alpha, .y = F(out),
                        .image = g.h * g.w * g.c};
    j.g = (struct nn_dw){.filter = F(w), .bias = nd->post.scale ? NULL : bias,
                         .post = nd->post.scale ? &nd->post : NULL, .h = g.h, .w = g.w, .c = g.c,
                         .oh = g.oh, .ow = g.ow, .kh = g.kh, .kw = g.kw, .sh = g.sh,
                         .sw = g.sw, .dh = g.dh, .dw = g.dw, .pt = g.pt, .pl = g.pl};
    ctx->flops += 2.0 * (double)(g.n * g.oh * g.ow * g.c) * g.kh * g.kw;
    nn_pool_run(ctx->pool, g.n * g.oh, dw_task, &j);
    return NN_OK;
}

NN_SIMD
/* Output row oy of image n of a max or average pool: for each pixel, the window's taps
 * inside the image combined channel by channel (the loops the compiler vectorises). */
NN_SIMD
static void pool_row(const struct win *g, const float *x, int64_t n, int64_t oy, int is_max,
                     float *y)
{
    for (int64_t ox = 0; ox < g->ow; ox++) {
        float *acc = y + ox * g->c;
        int count = 0;

        for (int64_t c = 0; c < g->c; c++)
            acc[c] = is_max ? -INFINITY : 0;
        for (int ky = 0; ky < g->kh; ky++) {
            int64_t iy = oy * g->sh - g->pt + ky;

            for (int kx = 0; kx < g->kw; kx++) {
                int64_t ix = ox * g->sw - g->pl + kx;
                const float *xp = x + ((n * g->h + iy) * g->w + ix) * g->c;

                if (iy < 0 || iy >= g->h || ix < 0 || ix >= g->w)
                    continue;
                count++;
                if (is_max)
                    for (int64_t c = 0; c < g->c; c++)
                        acc[c] = xp[c] > acc[c] ? xp[c] : acc[c];
                else
                    for (int64_t c = 0; c < g->c; c++)
                        acc[c] += xp[c];
            }
        }
        if (!is_max && count > 0)
            for (int64_t c = 0; c < g->c; c++)
                acc[c] /= (float)count;
    }
}

static int op_pool(const struct nn_node *nd, const struct nn_tensor *const *in,
                   struct nn_tensor *out, struct nn_ctx *ctx, struct err *e)
{
    const struct nn_tensor *x = in[0];
    struct win g;
    int64_t shape[4];
    int rc = win_setup(nd, x, nd->ksize[0], nd->ksize[1], &g, e);

    if (rc != NN_OK)
        return rc;
    shape[0] = g.n, shape[1] = g.oh, shape[2] = g.ow, shape[3] = g.c;
    if (out_alloc(ctx, nd, out, NN_F32, 4, shape, e) != NN_OK)
        return NN_ERR_RUN;
    for (int64_t n = 0; n < g.n; n++)
        for (int64_t oy = 0; oy < g.oh; oy++)
            pool_row(&g, F(x), n, oy, nd->op == NN_OP_MAXPOOL,
                     F(out) + (n * g.oh + oy) * g.ow * g.c);
    return NN_OK;
}

static int op_matmul(const struct nn_node *nd, const struct nn_tensor *const *in,
                     struct nn_tensor *out, struct nn_ctx *ctx, struct err *e)
{
    const struct nn_tensor *a = in[0], *b = in[1];
    const float *bias, *alpha, *res;
    int64_t m, k, n, shape[2];
    int rc;

    if (a->nd != 2 || b->nd != 2 || !is_f32(a) || !is_f32(b))
        return bad(nd, e, "MatMul needs two 2-D float tensors");
    m = nd->transpose_a ? a->shape[1] : a->shape[0];
    k = nd->transpose_a ? a->shape[0] : a->shape[1];
    n = nd->transpose_b ? b->shape[0] : b->shape[1];
    if ((nd->transpose_b ? b->shape[1] : b->shape[0]) != k)
        return bad(nd, e, "inner dimensions differ");
    rc = fused_args(nd, in, n, &bias, &alpha, e);
    if (rc != NN_OK)
        return rc;
    shape[0] = m, shape[1] = n;
    if (out_alloc(ctx, nd, out, NN_F32, 2, shape, e) != NN_OK)
        return NN_ERR_RUN;
    if (residual_arg(nd, in, out, &res, e) != NN_OK)
        return NN_ERR_RUN;
    if (nd->packed.p != NULL && !nd->transpose_a) {
        struct product p = {.nd = nd, .w = &nd->packed, .k = nn_kernels_get(), .ctx = ctx,
                            .x = F(a), .bias = bias, .alpha = alpha, .res = res, .y = F(out),
                            .m = m, .n = n, .kc = k};

        product_run(&p);
        return NN_OK;
    }
    ctx->flops += 2.0 * (double)m * (double)n * (double)k;
    nn_sgemm(nd->transpose_a, nd->transpose_b, (int)m, (int)n, (int)k, F(a), F(b), F(out), 0);
    finish(nd, bias, alpha, F(out), m, n, 0, n, res);
    return NN_OK;
}

/* ---- element-wise ------------------------------------------------------------------- */

static float binary(enum nn_op op, float a, float b)
{
    switch (op) {
    case NN_OP_ADD: return a + b;
    case NN_OP_SUB: return a - b;
    case NN_OP_MUL: return a * b;
    case NN_OP_DIV: return a / b;
    case NN_OP_MAXIMUM: return a > b ? a : b;
    case NN_OP_MINIMUM: return a < b ? a : b;
    case NN_OP_PRELU: return a >= 0 ? a : a * b;
    default: return 0;
    }
}

/* Broadcast shape of a and b (numpy rules) into out; returns -1 if they do not fit. */
static int broadcast_shape(const struct nn_tensor *a, const struct nn_tensor *b,
                           struct nn_tensor *out)
{
    int nd = a->nd > b->nd ? a->nd : b->nd;

    out->nd = nd;
    for (int i = 0; i < nd; i++) {
        int ia = i - (nd - a->nd), ib = i - (nd - b->nd);
        int64_t da = ia >= 0 ? a->shape[ia] : 1, db = ib >= 0 ? b->shape[ib] : 1;

        if (da != db && da != 1 && db != 1)
            return -1;
        out->shape[i] = da == 1 ? db : da;
    }
    return 0;
}

/* Element offset in t (right-aligned against an nd-dimensional index idx, broadcast). */
static int64_t bcast_offset(const struct nn_tensor *t, int nd, const int64_t *idx)
{
    int64_t off = 0;

    for (int i = 0; i < t->nd; i++) {
        int64_t d = t->shape[i], v = idx[i + nd - t->nd];

        off = off * d + (d == 1 ? 0 : v);
    }
    return off;
}

static void binary_generic(enum nn_op op, const struct nn_tensor *a, const struct nn_tensor *b,
                           struct nn_tensor *out)
{
    int64_t idx[NN_MAX_DIMS] = {0}, total = nn_numel(out);

    for (int64_t i = 0; i < total; i++) {
        F(out)[i] = binary(op, F(a)[bcast_offset(a, out->nd, idx)],
                           F(b)[bcast_offset(b, out->nd, idx)]);
        for (int d = out->nd - 1; d >= 0; d--) {
            if (++idx[d] < out->shape[d])
                break;
            idx[d] = 0;
        }
    }
}

/* 1 when t is a vector over the last axis of out (shape [..1.., C]). */
static int is_channel_vector(const struct nn_tensor *t, const struct nn_tensor *out)
{
    if (out->nd == 0 || nn_numel(t) != out->shape[out->nd - 1] || t->nd == 0)
        return 0;
    return t->shape[t->nd - 1] == out->shape[out->nd - 1];
}

/* out[i] = a[i op] b[i % nb] with the op chosen outside the loop, so each loop is a
 * tight vectorisable one; na and nb are n, or 1 (scalar), or a divisor (channel vector,
 * b only). */
#define BINARY_LOOP(expr)                                                                      \
    for (int64_t i = 0; i < n; i++) {                                                          \
        float x = sa ? A[0] : A[i], y = B[sb ? 0 : (nb == n ? i : i % nb)];                    \
        Y[i] = (expr);                                                                         \
    }

NN_SIMD
static void binary_flat(enum nn_op op, const float *A, int64_t na, const float *B, int64_t nb,
                        float *Y, int64_t n)
{
    int sa = na == 1 && n > 1, sb = nb == 1 && n > 1;

    switch (op) {
    case NN_OP_ADD: BINARY_LOOP(x + y); break;
    case NN_OP_SUB: BINARY_LOOP(x - y); break;
    case NN_OP_MUL: BINARY_LOOP(x * y); break;
    case NN_OP_DIV: BINARY_LOOP(x / y); break;
    case NN_OP_MAXIMUM: BINARY_LOOP(x > y ? x : y); break;
    case NN_OP_MINIMUM: BINARY_LOOP(x < y ? x : y); break;
    case NN_OP_PRELU: BINARY_LOOP(x >= 0 ? x : x * y); break;
    default: break;
    }
}

/* A flat element-wise op in chunks over the context's threads; a chunk is a whole
 * number of channel vectors, so b's index within a chunk is the same as in the whole. */
struct flat_job {
    const struct nn_node *nd;
    const float *a, *b;
    float *y;
    int64_t na, nb, n, chunk;
};

static void flat_task(void *arg, int64_t t, int thread)
{
    const struct flat_job *j = arg;
    int64_t s = t * j->chunk, len = s + j->chunk < j->n ? j->chunk : j->n - s;

    (void)thread;
    binary_flat(j->nd->op, j->a + (j->na == j->n ? s : 0), j->na == j->n ? len : 1,
                j->b + (j->nb == j->n ? s : 0), j->nb == j->n ? len : j->nb, j->y + s, len);
    nn_apply_epilogue(j->y + s, 1, len, 0, len, j->nd->epi, j->nd->nepi, NULL);
}

static void flat_run(struct nn_ctx *ctx, const struct nn_node *nd, const float *a, int64_t na,
                     const float *b, int64_t nb, float *y, int64_t n)
{
    struct flat_job j = {nd, a, b, y, na, nb, n, n};
    int64_t unit = nb > 1 && nb < n ? nb : 1;

    if (ctx->threads > 1 && n >= 32768) {
        j.chunk = (16384 + unit - 1) / unit * unit;
        nn_pool_run(ctx->pool, (n + j.chunk - 1) / j.chunk, flat_task, &j);
    } else {
        flat_task(&j, 0, 0);
    }
}

static int op_binary(const struct nn_node *nd, const struct nn_tensor *const *in,
                     struct nn_tensor *out, struct nn_ctx *ctx, struct err *e)
{
    const struct nn_tensor *a = in[0], *b = in[1];
    struct nn_tensor shape = {0};
    int64_t n, na, nb;

    if (!is_f32(a) || !is_f32(b))
        return bad(nd, e, "arithmetic on int32 tensors is not supported");
    if (nd->same_shape && (a->nd != b->nd ||
                           memcmp(a->shape, b->shape, sizeof(int64_t) * (size_t)a->nd) != 0))
        return bad(nd, e, "the residual added to the output has another shape");
    if (broadcast_shape(a, b, &shape) != 0)
        return bad(nd, e, "operand shapes do not broadcast");
    if (out_alloc(ctx, nd, out, NN_F32, shape.nd, shape.shape, e) != NN_OK)
        return NN_ERR_RUN;
    n = nn_numel(out), na = nn_numel(a), nb = nn_numel(b);
    if ((na == n || na == 1) && (nb == n || nb == 1 || (na == n && is_channel_vector(b, out)))) {
        flat_run(ctx, nd, F(a), na, F(b), nb, F(out), n);
    } else if (nb == n && is_channel_vector(a, out) && nd->op != NN_OP_SUB &&
               nd->op != NN_OP_DIV && nd->op != NN_OP_PRELU) {
        flat_run(ctx, nd, F(b), nb, F(a), na, F(out), n); /* commutative: swap */
    } else {
        binary_generic(nd->op, a, b, out);
        nn_apply_epilogue(F(out), 1, n, 0, n, nd->epi, nd->nepi, NULL);
    }
    return NN_OK;
}

static float unary(enum nn_op op, float x)
{
    switch (op) {
    case NN_OP_RELU: return x > 0 ? x : 0;
    case NN_OP_RELU6: return x < 0 ? 0 : x > 6 ? 6 : x;
    case NN_OP_SIGMOID: return 1.0f / (1.0f + expf(-x));
    case NN_OP_TANH: return tanhf(x);
    case NN_OP_RSQRT: return 1.0f / sqrtf(x);
    case NN_OP_SQUARE: return x * x;
    case NN_OP_ABS: return fabsf(x);
    default: return x;
    }
}

NN_SIMD
static int op_unary(const struct nn_node *nd, const struct nn_tensor *const *in,
                    struct nn_tensor *out, struct nn_ctx *ctx, struct err *e)
{
    int64_t n = nn_numel(in[0]);

    if (!is_f32(in[0]))
        return bad(nd, e, "input is not a float tensor");
    if (out_alloc(ctx, nd, out, NN_F32, in[0]->nd, in[0]->shape, e) != NN_OK)
        return NN_ERR_RUN;
    for (int64_t i = 0; i < n; i++)
        F(out)[i] = unary(nd->op, F(in[0])[i]);
    return NN_OK;
}

/* ---- shapes ------------------------------------------------------------------------- */

/* Reads an int32 tensor's values (axes, shapes, paddings) into v; returns the count. */
static int64_t int_values(const struct nn_tensor *t, int64_t *v, int64_t max)
{
    int64_t n = nn_numel(t);

    if (t->dtype != NN_I32 || n > max)
        return -1;
    for (int64_t i = 0; i < n; i++)
        v[i] = ((const int32_t *)t->data)[i];
    return n;
}

static int op_reshape(const struct nn_node *nd, const struct nn_tensor *const *in,
                      struct nn_tensor *out, struct nn_ctx *ctx, struct err *e)
{
    int64_t s[NN_MAX_DIMS], n = int_values(in[1], s, NN_MAX_DIMS), known = 1, total;
    int infer = -1;

    if (n < 0)
        return bad(nd, e, "shape is not a small int32 tensor");
    for (int i = 0; i < n; i++) {
        if (s[i] == -1 && infer < 0)
            infer = i;
        else if (s[i] < 0)
            return bad(nd, e, "invalid target shape");
        else
            known *= s[i];
    }
    total = nn_numel(in[0]);
    if (infer >= 0 && known > 0 && total % known == 0)
        s[infer] = total / known;
    else if (infer >= 0)
        return bad(nd, e, "cannot infer the -1 dimension");
    if (out_alloc(ctx, nd, out, in[0]->dtype, (int)n, s, e) != NN_OK)
        return NN_ERR_RUN;
    if (nn_numel(out) != total) {
        nn_tensor_release(out);
        return bad(nd, e, "element count changes");
    }
    memcpy(out->data, in[0]->data, (size_t)total * 4);
    return NN_OK;
}

static int op_squeeze(const struct nn_node *nd, const struct nn_tensor *const *in,
                      struct nn_tensor *out, struct nn_ctx *ctx, struct err *e)
{
    int64_t s[NN_MAX_DIMS];
    int n = 0;

    for (int i = 0; i < in[0]->nd; i++) {
        int drop = 0;

        for (int k = 0; k < nd->naxes; k++)
            drop |= (nd->axes[k] < 0 ? nd->axes[k] + in[0]->nd : nd->axes[k]) == i;
        if (nd->naxes == 0)
            drop = in[0]->shape[i] == 1;
        if (drop && in[0]->shape[i] != 1)
            return bad(nd, e, "squeezed dimension is not 1");
        if (!drop)
            s[n++] = in[0]->shape[i];
    }
    if (out_alloc(ctx, nd, out, in[0]->dtype, n, s, e) != NN_OK)
        return NN_ERR_RUN;
    memcpy(out->data, in[0]->data, (size_t)nn_numel(in[0]) * 4);
    return NN_OK;
}

static int op_expand_dims(const struct nn_node *nd, const struct nn_tensor *const *in,
                          struct nn_tensor *out, struct nn_ctx *ctx, struct err *e)
{
    int64_t axis, s[NN_MAX_DIMS];
    int k = 0;

    if (int_values(in[1], &axis, 1) != 1 || in[0]->nd >= NN_MAX_DIMS)
        return bad(nd, e, "ExpandDims needs one int32 axis and room for a dimension");
    if (axis < 0)
        axis += in[0]->nd + 1;
    if (axis < 0 || axis > in[0]->nd)
        return bad(nd, e, "axis out of range");
    for (int i = 0; i <= in[0]->nd; i++)
        s[i] = i == axis ? 1 : in[0]->shape[k++];
    if (out_alloc(ctx, nd, out, in[0]->dtype, in[0]->nd + 1, s, e) != NN_OK)
        return NN_ERR_RUN;
    memcpy(out->data, in[0]->data, (size_t)nn_numel(in[0]) * 4);
    return NN_OK;
}

static int op_pad(const struct nn_node *nd, const struct nn_tensor *const *in,
                  struct nn_tensor *out, struct nn_ctx *ctx, struct err *e)
{
    const struct nn_tensor *x = in[0];
    int64_t p[2 * NN_MAX_DIMS], s[NN_MAX_DIMS], idx[NN_MAX_DIMS] = {0}, n;

    if (int_values(in[1], p, 2 * NN_MAX_DIMS) != 2 * x->nd || !is_f32(x))
        return bad(nd, e, "paddings do not match the input rank");
    for (int i = 0; i < x->nd; i++) {
        if (p[2 * i] < 0 || p[2 * i + 1] < 0 || p[2 * i] + p[2 * i + 1] > 4096)
            return bad(nd, e, "invalid paddings");
        s[i] = x->shape[i] + p[2 * i] + p[2 * i + 1];
    }
    if (out_alloc(ctx, nd, out, NN_F32, x->nd, s, e) != NN_OK)
        return NN_ERR_RUN;
    memset(out->data, 0, (size_t)nn_numel(out) * 4);
    n = nn_numel(x);
    for (int64_t i = 0; i < n; i++) {
        int64_t off = 0;

        for (int d = 0; d < x->nd; d++)
            off = off * s[d] + idx[d] + p[2 * d];
        F(out)[off] = F(x)[i];
        for (int d = x->nd - 1; d >= 0; d--) {
            if (++idx[d] < x->shape[d])
                break;
            idx[d] = 0;
        }
    }
    return NN_OK;
}

static int op_reduce(const struct nn_node *nd, const struct nn_tensor *const *in,
                     struct nn_tensor *out, struct nn_ctx *ctx, struct err *e)
{
    const struct nn_tensor *x = in[0];
    int64_t axes[NN_MAX_DIMS], na = int_values(in[1], axes, NN_MAX_DIMS), s[NN_MAX_DIMS];
    int64_t idx[NN_MAX_DIMS] = {0}, n = nn_numel(x), cnt = 1;
    int red[NN_MAX_DIMS] = {0}, ond = 0;

    if (na < 0 || !is_f32(x))
        return bad(nd, e, "reduction axes are not an int32 tensor");
    for (int64_t i = 0; i < na; i++) {
        int64_t a = axes[i] < 0 ? axes[i] + x->nd : axes[i];

        if (a < 0 || a >= x->nd)
            return bad(nd, e, "reduction axis out of range");
        red[a] = 1;
    }
    for (int d = 0; d < x->nd; d++) {
        if (!red[d])
            s[ond++] = x->shape[d];
        else if (nd->keep_dims)
            s[ond++] = 1;
        cnt *= red[d] ? x->shape[d] : 1;
    }
    if (out_alloc(ctx, nd, out, NN_F32, ond, s, e) != NN_OK)
        return NN_ERR_RUN;
    for (int64_t i = 0; i < nn_numel(out); i++)
        F(out)[i] = nd->op == NN_OP_MAX ? -INFINITY : 0;
    for (int64_t i = 0; i < n; i++) {
        int64_t off = 0;

        for (int d = 0; d < x->nd; d++)
            if (!red[d])
                off = off * x->shape[d] + idx[d];
        F(out)[off] = nd->op == NN_OP_MAX ? (F(x)[i] > F(out)[off] ? F(x)[i] : F(out)[off])
                                          : F(out)[off] + F(x)[i];
        for (int d = x->nd - 1; d >= 0; d--) {
            if (++idx[d] < x->shape[d])
                break;
            idx[d] = 0;
        }
    }
    if (nd->op == NN_OP_MEAN && cnt > 0)
        for (int64_t i = 0; i < nn_numel(out); i++)
            F(out)[i] /= (float)cnt;
    return NN_OK;
}

NN_SIMD
void nn_softmax_rows(float *s, int64_t rows, int64_t n, int64_t ld, float scale)
{
    for (int64_t r = 0; r < rows; r++) {
        float *v = s + r * ld, mx, inv;

        for (int64_t i = 0; i < n; i++)
            v[i] *= scale;
        mx = nn_row_max(v, n);
        for (int64_t i = 0; i < n; i++)
            v[i] = nn_exp(v[i] - mx);
        inv = 1.0f / nn_row_sum(v, n);
        for (int64_t i = 0; i < n; i++)
            v[i] *= inv;
    }
}

static int op_softmax(const struct nn_node *nd, const struct nn_tensor *const *in,
                      struct nn_tensor *out, struct nn_ctx *ctx, struct err *e)
{
    const struct nn_tensor *x = in[0];
    int64_t c = x->nd > 0 ? x->shape[x->nd - 1] : 1;

    if (!is_f32(x) || c < 1)
        return bad(nd, e, "input is not a float tensor");
    if (out_alloc(ctx, nd, out, NN_F32, x->nd, x->shape, e) != NN_OK)
        return NN_ERR_RUN;
    memcpy(out->data, x->data, (size_t)nn_numel(x) * 4);
    nn_softmax_rows(F(out), nn_numel(x) / c, c, c, 1.0f);
    return NN_OK;
}

static int op_concat(const struct nn_node *nd, const struct nn_tensor *const *in,
                     struct nn_tensor *out, struct nn_ctx *ctx, struct err *e)
{
    int64_t axis, s[NN_MAX_DIMS], outer = 1, done = 0;
    int k = nd->nin - 1;

    if (k < 1 || int_values(in[k], &axis, 1) != 1)
        return bad(nd, e, "ConcatV2 needs inputs and an int32 axis");
    if (axis < 0)
        axis += in[0]->nd;
    if (axis < 0 || axis >= in[0]->nd)
        return bad(nd, e, "axis out of range");
    memcpy(s, in[0]->shape, sizeof s);
    s[axis] = 0;
    for (int i = 0; i < k; i++) {
        for (int d = 0; d < in[0]->nd; d++)
            if (d != axis && (in[i]->nd != in[0]->nd || in[i]->shape[d] != in[0]->shape[d] ||
                              in[i]->dtype != in[0]->dtype))
                return bad(nd, e, "inputs differ outside the concatenation axis");
        s[axis] += in[i]->shape[axis];
    }
    if (out_alloc(ctx, nd, out, in[0]->dtype, in[0]->nd, s, e) != NN_OK)
        return NN_ERR_RUN;
    for (int d = 0; d < axis; d++)
        outer *= s[d];
    for (int64_t o = 0; o < outer; o++) {
        for (int i = 0; i < k; i++) {
            int64_t chunk = nn_numel(in[i]) / (outer ? outer : 1);

            memcpy((char *)out->data + 4 * done, (const char *)in[i]->data + 4 * o * chunk,
                   (size_t)chunk * 4);
            done += chunk;
        }
    }
    return NN_OK;
}

/* ---- dispatch ----------------------------------------------------------------------- */

static int op_identity(const struct nn_node *nd, const struct nn_tensor *const *in,
                       struct nn_tensor *out, struct nn_ctx *ctx, struct err *e)
{
    if (out_alloc(ctx, nd, out, in[0]->dtype, in[0]->nd, in[0]->shape, e) != NN_OK)
        return NN_ERR_RUN;
    memcpy(out->data, in[0]->data, (size_t)nn_numel(in[0]) * 4);
    return NN_OK;
}

static int arity_ok(const struct nn_node *nd)
{
    switch (nd->op) {
    case NN_OP_CONV2D:
    case NN_OP_DEPTHWISE:
    case NN_OP_MATMUL:
        return nd->nin >= 2 + ((nd->fused & NN_FUSED_BIAS) != 0) + ((nd->fused & NN_FUSED_PRELU) != 0);
    case NN_OP_ADD: case NN_OP_SUB: case NN_OP_MUL: case NN_OP_DIV: case NN_OP_MAXIMUM:
    case NN_OP_MINIMUM: case NN_OP_PRELU: case NN_OP_MEAN: case NN_OP_SUM: case NN_OP_MAX:
    case NN_OP_PAD: case NN_OP_RESHAPE: case NN_OP_EXPAND_DIMS:
        return nd->nin == 2;
    case NN_OP_LAYERNORM: case NN_OP_VIT_TOKENS:
        return nd->nin == 3;
    case NN_OP_CONCAT:
        return nd->nin >= 2;
    default:
        return nd->nin >= 1;
    }
}

int nn_op_eval(const struct nn_node *nd, const struct nn_tensor *const *in, struct nn_tensor *out,
               struct nn_ctx *ctx, struct err *e)
{
    if (!arity_ok(nd))
        return bad(nd, e, "wrong number of inputs");
    switch (nd->op) {
    case NN_OP_CONV2D: return op_conv2d(nd, in, out, ctx, e);
    case NN_OP_DEPTHWISE: return op_depthwise(nd, in, out, ctx, e);
    case NN_OP_MATMUL: return op_matmul(nd, in, out, ctx, e);
    case NN_OP_MAXPOOL: case NN_OP_AVGPOOL: return op_pool(nd, in, out, ctx, e);
    case NN_OP_ADD: case NN_OP_SUB: case NN_OP_MUL: case NN_OP_DIV: case NN_OP_MAXIMUM:
    case NN_OP_MINIMUM: case NN_OP_PRELU: return op_binary(nd, in, out, ctx, e);
    case NN_OP_RELU: case NN_OP_RELU6: case NN_OP_SIGMOID: case NN_OP_TANH: case NN_OP_RSQRT:
    case NN_OP_SQUARE: case NN_OP_ABS: return op_unary(nd, in, out, ctx, e);
    case NN_OP_MEAN: case NN_OP_SUM: case NN_OP_MAX: return op_reduce(nd, in, out, ctx, e);
    case NN_OP_PAD: return op_pad(nd, in, out, ctx, e);
    case NN_OP_RESHAPE: return op_reshape(nd, in, out, ctx, e);
    case NN_OP_SQUEEZE: return op_squeeze(nd, in, out, ctx, e);
    case NN_OP_EXPAND_DIMS: return op_expand_dims(nd, in, out, ctx, e);
    case NN_OP_CONCAT: return op_concat(nd, in, out, ctx, e);
    case NN_OP_SOFTMAX: return op_softmax(nd, in, out, ctx, e);
    case NN_OP_IDENTITY: return op_identity(nd, in, out, ctx, e);
    case NN_OP_LAYERNORM: case NN_OP_ATTENTION: case NN_OP_GELU: case NN_OP_GELU_QUICK:
    case NN_OP_SLICE: case NN_OP_VIT_TOKENS: return nn_op_transformer(nd, in, out, ctx, e);
    default: return bad(nd, e, "op cannot be evaluated");
    }
}
