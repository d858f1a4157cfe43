/*
 * build: networks written in C, for models that ship as weights only (face-api's dlib
 * ResNet is a weights manifest plus a network defined in code). A builder records nodes
 * in the same in-memory graph the TFJS loader produces, and nn_build_finish puts it
 * through the same load-time passes (folding element-wise chains into convolution
 * epilogues, packing weights), so a built model runs on the same interpreter, kernels,
 * threads and arenas as any other and is freed with nn_model_free.
 *
 * Ops take and return node ids. A failed op (an id that is not a node, a window that
 * makes no sense) returns -1 and the builder keeps the first error; every op given -1
 * returns -1 too, so a network is straight-line code checked once, by nn_build_finish.
 * Shapes are checked when the model runs, as for loaded models. Names are what
 * nn_model_run's outputs and DOPPEL_NN_PROFILE use; NULL names a node "<op>_<id>".
 */
#ifndef DOPPEL_BUILD_H
#define DOPPEL_BUILD_H

#include "nn/model.h"

#include <stdint.h>

/* Spatial padding of convolutions and pools (TensorFlow's rules: SAME puts the odd
 * padding pixel after). */
enum nn_padding {
    NN_PAD_VALID = 0,
    NN_PAD_SAME,
    NN_PAD_EXPLICIT, /* TFJS models only */
};

struct nn_build;

/* Returns an empty builder. Free with nn_build_free. */
struct nn_build *nn_build_new(void);

/* Frees the builder and whatever it holds; b may be NULL. */
void nn_build_free(struct nn_build *b);

/* The graph's input (one per graph), a float NHWC tensor given to nn_model_run. */
int nn_build_input(struct nn_build *b, const char *name);

/* A constant. Takes t: an owned tensor's data moves into the model (or is freed when
 * the op fails) and t is left empty; a borrowed one is copied. */
int nn_build_const(struct nn_build *b, const char *name, struct nn_tensor *t);

/* 2-D convolution of x (NHWC) by w (a constant, HWIO), plus bias (a constant [O], or -1
 * for none), with the same stride on both axes. */
int nn_build_conv2d(struct nn_build *b, const char *name, int x, int w, int bias, int stride,
                    enum nn_padding pad);

/* Element-wise x + y, x - y, x * y (NumPy broadcasting), and max(x, 0). */
int nn_build_add(struct nn_build *b, const char *name, int x, int y);
int nn_build_sub(struct nn_build *b, const char *name, int x, int y);
int nn_build_mul(struct nn_build *b, const char *name, int x, int y);
int nn_build_relu(struct nn_build *b, const char *name, int x);

/* x + skip for operands of one shape (a residual connection; a run whose shapes differ
 * fails): when x is a convolution or product read by nothing else and skip is made
 * before it, the sum is made in x's output pass instead of a pass of its own. */
int nn_build_residual(struct nn_build *b, const char *name, int x, int skip);

/* Max and average pooling over k x k windows (NHWC); padded cells are not counted. */
int nn_build_maxpool(struct nn_build *b, const char *name, int x, int k, int stride,
                     enum nn_padding pad);
int nn_build_avgpool(struct nn_build *b, const char *name, int x, int k, int stride,
                     enum nn_padding pad);

/* Mean over the naxes axes (negative counts from the end); keep_dims keeps them as 1. */
int nn_build_mean(struct nn_build *b, const char *name, int x, const int *axes, int naxes,
                  int keep_dims);

/* Matrix product x (2-D) by w (2-D, a constant packed at finish). */
int nn_build_matmul(struct nn_build *b, const char *name, int x, int w);

/* x (2-D) times w (a constant [K, N], or [N, K] when transpose_w: PyTorch's Linear
 * layout), plus bias (a constant [N], or -1 for none). */
int nn_build_linear(struct nn_build *b, const char *name, int x, int w, int bias, int transpose_w);

/* Layer normalisation over the last axis: (x - mean) / sqrt(var + eps) * gamma + beta,
 * gamma and beta constants as wide as that axis. */
int nn_build_layernorm(struct nn_build *b, const char *name, int x, int gamma, int beta, float eps);

/* Multi-head self-attention over qkv, [B T, 3D] (q, k, v side by side; B sequences of
 * tokens rows, or one sequence of all rows when tokens is 0): per sequence and head of
 * D / heads channels, softmax(scale q k^T) v; the output is [B T, D], heads side by side. */
int nn_build_attention(struct nn_build *b, const char *name, int qkv, int heads, float scale,
                       int64_t tokens);

/* A ViT's token matrix from patches [B, ..., W] (P patches of W per sample), a class token
 * [W] and positions [P + 1, W]: [B (P + 1), W], each sample's class token first. */
int nn_build_vit_tokens(struct nn_build *b, const char *name, int patches, int cls, int pos);

/* GELU, exact (erf) or CLIP's quick form x * sigmoid(1.702 x). */
int nn_build_gelu(struct nn_build *b, const char *name, int x, int quick);

/* Rows [first, first + count) of x's first axis; or, when step > 0, rows first, first +
 * step, ... to the end (count unused). */
int nn_build_slice(struct nn_build *b, const char *name, int x, int64_t first, int64_t count,
                   int64_t step);

/* Zero padding: pads[2 d] values before and pads[2 d + 1] after axis d, for the rank
 * nd of x (checked when the model runs). */
int nn_build_pad(struct nn_build *b, const char *name, int x, const int64_t *pads, int nd);

/* Returns the first error recorded (a static "" when none); borrowed from b. */
const char *nn_build_error(const struct nn_build *b);

/* Finishes the graph: checks it (an input, unique names, no earlier error), folds and
 * packs it, and hands it to *out (the caller frees it with nn_model_free). Returns NN_OK
 * or NN_ERR_GRAPH with e set. Either way b is then only fit for nn_build_free. */
int nn_build_finish(struct nn_build *b, struct nn_model **out, struct err *e);

#endif
