/*
 * graph: the loaded graph as the interpreter sees it. Internal to src/nn.
 */
#ifndef DOPPEL_GRAPH_H
#define DOPPEL_GRAPH_H

#include "nn/build.h"
#include "nn/kern.h"
#include "nn/model.h"
#include "nn/pool.h"
#include "nn/weights.h"

enum nn_op {
    NN_OP_CONST = 0,
    NN_OP_PLACEHOLDER,
    NN_OP_IDENTITY,
    NN_OP_CONV2D,     /* Conv2D and _FusedConv2D */
    NN_OP_DEPTHWISE,  /* DepthwiseConv2dNative and FusedDepthwiseConv2dNative */
    NN_OP_MATMUL,     /* MatMul and _FusedMatMul */
    NN_OP_ADD,
    NN_OP_SUB,
    NN_OP_MUL,
    NN_OP_DIV,
    NN_OP_MAXIMUM,
    NN_OP_MINIMUM,
    NN_OP_PRELU,
    NN_OP_RELU,
    NN_OP_RELU6,
    NN_OP_SIGMOID,
    NN_OP_TANH,
    NN_OP_RSQRT,
    NN_OP_SQUARE,
    NN_OP_ABS,
    NN_OP_MEAN,
    NN_OP_SUM,
    NN_OP_MAX,
    NN_OP_MAXPOOL,
    NN_OP_AVGPOOL,
    NN_OP_PAD,
    NN_OP_RESHAPE,
    NN_OP_SQUEEZE,
    NN_OP_EXPAND_DIMS,
    NN_OP_CONCAT,
    NN_OP_SOFTMAX,
    NN_OP_LAYERNORM, /* over the last axis: x, gamma, beta; eps */
    NN_OP_ATTENTION, /* multi-head self-attention over [B T, 3D] packed q, k, v; heads, scale */
    NN_OP_GELU,      /* erf form */
    NN_OP_GELU_QUICK, /* x * sigmoid(1.702 x), CLIP's */
    NN_OP_SLICE,     /* rows of the first axis: slice[1] from slice[0], or every slice[2]-th */
    NN_OP_VIT_TOKENS, /* [B, ..., W] patches -> [B T, W]: class token first, positions added */
    NN_OP_FUSED, /* folded into the epilogue of its input node at load time */
    NN_OP_COUNT
};

/* Activations fused into a convolution or matrix product, in order. */
enum nn_fused {
    NN_FUSED_BIAS = 1 << 0,
    NN_FUSED_RELU = 1 << 1,
    NN_FUSED_RELU6 = 1 << 2,
    NN_FUSED_PRELU = 1 << 3,
};

/* The hot loops are compiled three times (AVX-512, AVX2 + FMA, baseline x86-64) and the
 * best the CPU supports is picked at load time, so one binary runs everywhere at full
 * speed. tests/test_nn.c compares the results with TensorFlow.js's. */
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define NN_SIMD __attribute__((target_clones("avx512f", "arch=haswell", "default")))
#else
#define NN_SIMD
#endif

#define NN_MAX_INPUTS 8
#define NN_MAX_EPILOGUE 8

/* One element-wise step folded into a convolution's or matrix product's output pass:
 * y = y op k, with k a scalar (n == 1) or a per-channel vector (n == channels). */
struct nn_step {
    enum nn_op op;
    const float *k;
    int64_t n;
    int tensor; /* Add of the producer's residual input (nn_node.res_in), read at run time */
};

struct nn_node {
    char *name;
    enum nn_op op;
    int nin;
    int in[NN_MAX_INPUTS]; /* node indices */
    int stride[2];         /* h, w */
    int dilation[2];
    int ksize[2];
    enum nn_padding padding;
    int pads[4]; /* explicit: top, bottom, left, right */
    int fused;   /* enum nn_fused bits */
    int keep_dims;
    int transpose_a, transpose_b;
    int axes[NN_MAX_DIMS]; /* Squeeze's squeeze_dims */
    int naxes;
    struct nn_tensor value; /* Const: the weight (borrowed from the model's store) */
    struct nn_step epi[NN_MAX_EPILOGUE]; /* conv, depthwise, matmul: after bias/act */
    int nepi;
    int fused_step; /* NN_OP_FUSED: its position (1-based) in the producer's epilogue */
    float eps;      /* LayerNorm */
    int heads;      /* Attention: heads, each D / heads wide */
    int64_t tokens; /* Attention: rows per sequence (0: all rows are one) */
    float scale;    /* Attention: applied to q k^T before the softmax */
    int64_t slice[3]; /* Slice: first row, row count; or with a step slice[2] > 0, every
                         step-th row from the first to the end */
    struct nn_packed packed; /* Conv2D, MatMul with constant weights: packed at load */
    struct nn_packed *wino;  /* 3x3 stride-1 Conv2D with few channels: Winograd's 16 */
    struct nn_post post;     /* bias, activation and epilogue folded (post.scale != NULL) */
    int nfold;               /* with a post: epi[0, nfold) are in it, the rest run after */
    int same_shape;          /* Add: the builder's promise that both operands match */
    int res_in;              /* > 0: in[res_in] is the residual a tensor step adds */
    float *post_buf;         /* owned: post.scale and post.shift */
};

struct nn_model {
    uint64_t id; /* unique in the process: plans made for one model never serve another */
    struct nn_node *nodes;
    int nnodes;
    int *order; /* topological order of node indices */
    int input;  /* the Placeholder */
    int batch_group; /* nn_model_run_batch: samples per pass (0 or 1: one at a time) */
    struct nn_weights weights; /* owned: every Const's value (nodes borrow them) */
};

/* Where each activation of a run lives in the arena, learnt from the first run of a
 * model with an input shape and set of outputs (ctx.c): allocation i of the run gets
 * bytes [off[i], off[i] + size[i]) of base. */
struct nn_plan {
    uint64_t model;             /* nn_model.id */
    int nd, nout;
    int64_t shape[NN_MAX_DIMS]; /* the input shape */
    int *outs;                  /* the output nodes */
    size_t n, total;
    size_t *off, *size;
    void *base; /* total bytes, 64-byte aligned; NULL: slot unused */
    uint64_t used; /* ctx->runs at its last use, for eviction */
};

#define NN_CTX_PLANS 8

/* What one run needs besides the model: the worker pool its layers split across, the
 * arenas its activations live in, and scratch buffers (one per thread), all kept from
 * one run to the next. */
struct nn_ctx {
    struct nn_pool *pool;
    int threads;
    float **scratch;
    size_t *scratch_cap; /* floats */
    float *shared;       /* one buffer every thread reads (a convolution's padded input) */
    size_t shared_cap;   /* floats */
    struct nn_ctx **sub;  /* one-thread contexts per thread, for nn_model_run_batch */
    struct nn_plan plans[NN_CTX_PLANS];
    struct nn_plan *plan; /* the one this run follows, or NULL */
    int stray;            /* this run left its plan: neither follows nor records */
    int step;             /* position of the running node in the run */
    uint64_t runs;
    double flops;       /* multiply-adds x 2 of convolutions and products in the last run */
    size_t nalloc, cap; /* allocations so far in this run; capacity of the records */
    size_t *size;       /* recording: bytes of allocation i */
    int *born, *died;   /* recording: steps that made and last read allocation i */
};

/* Returns thread's scratch buffer of at least n floats (64-byte aligned), valid until the
 * next call for the same thread. */
float *nn_ctx_scratch(struct nn_ctx *ctx, int thread, size_t n);

/* Returns the context's shared buffer of at least n floats (64-byte aligned), valid
 * until the next call: filled by the running op before it hands work to the pool. */
float *nn_ctx_shared(struct nn_ctx *ctx, size_t n);

/* Returns thread's one-thread context (made on first use), for runs of one sample. Not
 * thread-safe: make them on the calling thread before handing them to the pool. */
struct nn_ctx *nn_ctx_sub(struct nn_ctx *ctx, int thread);

/* Starts a run of m on input for the output nodes outs[0..nout): it follows the plan
 * made for the same model, input shape and outputs, if there is one. */
void nn_ctx_begin(struct nn_ctx *ctx, const struct nn_model *m, const struct nn_tensor *input,
                  const int *outs, int nout);

/* Allocates out's data for the running node: from the arena when the run follows a plan,
 * else from the heap, recording the size for the next plan. */
void nn_ctx_alloc(struct nn_ctx *ctx, struct nn_tensor *out, enum nn_dtype dt, int rank,
                  const int64_t *shape);

/* Notes that allocation alloc of this run was read for the last time at ctx->step. */
void nn_ctx_last_use(struct nn_ctx *ctx, size_t alloc);

/* Ends the run begun last (ok: it succeeded); a run that recorded makes its plan. */
void nn_ctx_end(struct nn_ctx *ctx, const struct nn_model *m, const struct nn_tensor *input,
                const int *outs, int nout, int ok);

/* Computes node nd from its inputs (in[i] for nd->in[i]) into out (allocated here),
 * spreading the work over ctx's threads. Returns NN_OK, or NN_ERR_RUN with e naming the
 * node when shapes do not fit. */
int nn_op_eval(const struct nn_node *nd, const struct nn_tensor *const *in, struct nn_tensor *out,
               struct nn_ctx *ctx, struct err *e);

/* For op files beside ops.c: sets e to "node <name>: why" and returns NN_ERR_RUN. */
int nn_op_fail(const struct nn_node *nd, struct err *e, const char *why);

/* For op files beside ops.c: allocates out (float32 or int32, rank dims) for nd from the
 * run's arena, refusing sizes a hostile model could use to exhaust memory. */
int nn_op_alloc(struct nn_ctx *ctx, const struct nn_node *nd, struct nn_tensor *out,
                enum nn_dtype dt, int rank, const int64_t *shape, struct err *e);

/* softmax(scale v) of each of the rows rows of s (n floats wide, ld apart), in place. */
void nn_softmax_rows(float *s, int64_t rows, int64_t n, int64_t ld, float scale);

/* The transformer ops (ops_tx.c): LayerNorm, Attention, Gelu, GeluQuick, Slice. */
int nn_op_transformer(const struct nn_node *nd, const struct nn_tensor *const *in,
                      struct nn_tensor *out, struct nn_ctx *ctx, struct err *e);

/* Folds chains of element-wise ops with constant scalar or per-channel operands into the
 * epilogue of the convolution or matrix product that feeds them (load time). */
void nn_graph_fuse(struct nn_model *m);

/* Packs the constant weights of every convolution and matrix product, and folds what
 * follows each convolution or product into one affine map and clamp where it can (load
 * time). */
void nn_graph_pack(struct nn_model *m);

/* Applies an epilogue to columns [c0, c1) of rows outputs (ld floats apart; the column
 * is the channel); res is the residual at y's position (same ld), for a tensor step. */
void nn_apply_epilogue(float *y, int64_t rows, int64_t ld, int64_t c0, int64_t c1,
                       const struct nn_step *epi, int n, const float *res);

/* Returns a model id never returned before in this process (plans are keyed by it). */
uint64_t nn_model_new_id(void);

/* Finds a node by name ("name" or "name:0"); returns its index or -1. */
int nn_graph_find(const struct nn_model *m, const char *name);

#endif
