/*
 * graph: the loaded graph as the interpreter sees it. Internal to src/nn.
 */
#ifndef DOPPEL_GRAPH_H
#define DOPPEL_GRAPH_H

#include "nn/model.h"

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

enum nn_padding {
    NN_PAD_VALID = 0,
    NN_PAD_SAME,
    NN_PAD_EXPLICIT,
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
};

struct nn_model {
    struct nn_node *nodes;
    int nnodes;
    int *order; /* topological order of node indices */
    int input;  /* the Placeholder */
    struct nn_tensor *weights; /* owned decoded weights */
    char **weight_names;
    int nweights;
};

/* Computes node nd from its inputs (in[i] for nd->in[i]) into out (allocated here).
 * Returns NN_OK, or NN_ERR_RUN with e naming the node when shapes do not fit. */
int nn_op_eval(const struct nn_node *nd, const struct nn_tensor *const *in, struct nn_tensor *out,
               struct err *e);

/* Folds chains of element-wise ops with constant scalar or per-channel operands into the
 * epilogue of the convolution or matrix product that feeds them (load time). */
void nn_graph_fuse(struct nn_model *m);

/* Applies an epilogue to rows x cols outputs (cols = channels). */
void nn_apply_epilogue(float *y, int64_t rows, int64_t cols, const struct nn_step *epi, int n);

/* Finds a node by name ("name" or "name:0"); returns its index or -1. */
int nn_graph_find(const struct nn_model *m, const char *name);

#endif
