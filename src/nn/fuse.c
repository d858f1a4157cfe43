/*
 * fuse: a load-time pass that removes whole-tensor passes from the graph. Converted
 * Keras models spell batch normalisation and ReLU6 as separate element-wise nodes after
 * each convolution (faceres: Mul, Add, Relu, Minimum, Maximum), and each would read and
 * write the full activation again; at batch 32 that traffic dominates. When such a node
 * is the only consumer of a convolution, depthwise convolution or matrix product and its
 * other operand is a constant scalar or per-channel vector, it becomes a step of the
 * producer's epilogue, applied while the output row is still in cache. A Relu that is
 * the only consumer of an element-wise Add (BlazeFace's residual blocks) is folded into
 * the Add the same way. A GELU after a product (a ViT's first MLP layer) becomes a step
 * too: the affine part still folds into the kernels' post, and the GELU runs on each
 * finished block while it is in cache. A residual Add a builder declared
 * (nn_build_residual) folds into the convolution or product before it when its other
 * operand is computed earlier: the product reads that operand as one more input and adds
 * it to each finished block. The fused node stays in the graph (op NN_OP_FUSED) so a
 * request for it can be refused by name.
 */
#include "nn/graph.h"

#include "nn/nmath.h"
#include "nn/wino.h"
#include "util/xalloc.h"

#include <math.h>
#include <stdlib.h>

#define WINO_MAX_OUT 128

/* Steps that take no operand. */
static int unary_op(enum nn_op op)
{
    return op == NN_OP_RELU || op == NN_OP_RELU6 || op == NN_OP_GELU || op == NN_OP_GELU_QUICK;
}

static int fusible_op(enum nn_op op)
{
    return op == NN_OP_ADD || op == NN_OP_SUB || op == NN_OP_MUL || op == NN_OP_MAXIMUM ||
           op == NN_OP_MINIMUM || unary_op(op);
}

static int producer_op(enum nn_op op)
{
    return op == NN_OP_CONV2D || op == NN_OP_DEPTHWISE || op == NN_OP_MATMUL;
}

/* Element-wise producers whose output shape is only known at run time: they take
 * activations (Relu, Relu6) only, which need no per-channel constant. */
static int activation_host(enum nn_op op)
{
    return op == NN_OP_ADD || op == NN_OP_SUB || op == NN_OP_MUL || op == NN_OP_MAXIMUM ||
           op == NN_OP_MINIMUM;
}

/* Channels of a producer's output, known from its weights; 0 when unknown. */
static int64_t out_channels(const struct nn_model *m, const struct nn_node *u)
{
    const struct nn_node *w = &m->nodes[u->in[1]];

    if (w->op != NN_OP_CONST || w->value.nd < 2)
        return 0;
    if (u->op == NN_OP_CONV2D && w->value.nd == 4)
        return w->value.shape[3];
    if (u->op == NN_OP_DEPTHWISE && w->value.nd == 4)
        return w->value.shape[2] * w->value.shape[3];
    if (u->op == NN_OP_MATMUL && w->value.nd == 2)
        return u->transpose_b ? w->value.shape[0] : w->value.shape[1];
    return 0;
}

/* The step that folds v (a consumer of u) into u's epilogue, if v allows it. */
static int as_step(const struct nn_model *m, int u, const struct nn_node *v, int64_t channels,
                   struct nn_step *st)
{
    const struct nn_node *k;
    int other;

    if (!fusible_op(v->op))
        return 0;
    st->op = v->op;
    st->k = NULL;
    st->n = 0;
    st->tensor = 0;
    if (unary_op(v->op))
        return v->nin == 1;
    if (v->nin != 2 || (v->in[0] != u && v->in[1] != u) || v->in[0] == v->in[1])
        return 0;
    other = v->in[0] == u ? v->in[1] : v->in[0];
    if (v->in[0] != u && v->op == NN_OP_SUB)
        return 0; /* k - y does not commute */
    if (v->op == NN_OP_ADD && v->same_shape) {
        /* a residual: computed before u, added to a product's output block by block */
        st->tensor = other < u && m->nodes[u].res_in == 0 && m->nodes[u].nin < NN_MAX_INPUTS &&
                     (m->nodes[u].op == NN_OP_CONV2D || m->nodes[u].op == NN_OP_MATMUL);
        return st->tensor;
    }
    k = &m->nodes[other];
    if (k->op != NN_OP_CONST || k->value.dtype != NN_F32)
        return 0;
    st->n = nn_numel(&k->value);
    st->k = k->value.data;
    for (int d = 0; d + 1 < k->value.nd; d++)
        if (k->value.shape[d] != 1)
            return 0;
    return st->n == 1 || (st->n == channels && channels > 0);
}

/* Counts, for every node, how many inputs of other nodes name it. */
static int *count_users(const struct nn_model *m)
{
    int *users = xcalloc((size_t)m->nnodes, sizeof(int));

    for (int v = 0; v < m->nnodes; v++)
        for (int k = 0; k < m->nodes[v].nin; k++)
            users[m->nodes[v].in[k]]++;
    return users;
}

/* The single node reading u, or -1. */
static int only_user(const struct nn_model *m, const int *users, int u)
{
    if (users[u] != 1)
        return -1;
    for (int v = 0; v < m->nnodes; v++)
        for (int k = 0; k < m->nodes[v].nin && m->nodes[v].op != NN_OP_FUSED; k++)
            if (m->nodes[v].in[k] == u)
                return v;
    return -1;
}

void nn_graph_fuse(struct nn_model *m)
{
    int *users = count_users(m);

    for (int i = 0; i < m->nnodes; i++) {
        int u = m->order[i], v;
        struct nn_node *nu = &m->nodes[u];
        int64_t channels = producer_op(nu->op) && nu->nin >= 2 ? out_channels(m, nu) : 0;
        int host = activation_host(nu->op);
        struct nn_step st;

        if (channels == 0 && !host)
            continue;
        while (nu->nepi < NN_MAX_EPILOGUE && (v = only_user(m, users, u)) >= 0 &&
               as_step(m, u, &m->nodes[v], channels, &st) &&
               (!host || st.op == NN_OP_RELU || st.op == NN_OP_RELU6)) {
            if (st.tensor) { /* u now reads the residual too */
                nu->res_in = nu->nin;
                nu->in[nu->nin++] = m->nodes[v].in[0] == u ? m->nodes[v].in[1] : m->nodes[v].in[0];
            }
            nu->epi[nu->nepi++] = st;
            /* v's readers now read u; v stays behind, marked fused. */
            users[u] = users[v];
            for (int w = 0; w < m->nnodes; w++)
                for (int k = 0; k < m->nodes[w].nin; k++)
                    if (m->nodes[w].in[k] == v)
                        m->nodes[w].in[k] = u;
            m->nodes[v].op = NN_OP_FUSED;
            m->nodes[v].fused_step = nu->nepi;
            m->nodes[v].nin = 1;
            m->nodes[v].in[0] = u;
            users[v] = 0;
        }
    }
    free(users);
}

NN_SIMD static void epilogue(float *y, int64_t rows, int64_t ld, int64_t c0, int64_t c1,
                             const struct nn_step *epi, int n, const float *res)
{
    for (int64_t r = 0; r < rows; r++) {
        float *row = y + r * ld;

        for (int s = 0; s < n; s++) {
            const float *k = epi[s].k;
            int per = epi[s].n > 1;

            if (epi[s].tensor) {
                for (int64_t c = c0; c < c1; c++)
                    row[c] += res[r * ld + c];
                continue;
            }
            switch (epi[s].op) {
            case NN_OP_ADD: for (int64_t c = c0; c < c1; c++) row[c] += k[per ? c : 0]; break;
            case NN_OP_SUB: for (int64_t c = c0; c < c1; c++) row[c] -= k[per ? c : 0]; break;
            case NN_OP_MUL: for (int64_t c = c0; c < c1; c++) row[c] *= k[per ? c : 0]; break;
            case NN_OP_MAXIMUM:
                for (int64_t c = c0; c < c1; c++)
                    row[c] = row[c] > k[per ? c : 0] ? row[c] : k[per ? c : 0];
                break;
            case NN_OP_MINIMUM:
                for (int64_t c = c0; c < c1; c++)
                    row[c] = row[c] < k[per ? c : 0] ? row[c] : k[per ? c : 0];
                break;
            case NN_OP_RELU:
                for (int64_t c = c0; c < c1; c++)
                    row[c] = row[c] > 0 ? row[c] : 0;
                break;
            case NN_OP_RELU6:
                for (int64_t c = c0; c < c1; c++)
                    row[c] = row[c] < 0 ? 0 : row[c] > 6 ? 6 : row[c];
                break;
            case NN_OP_GELU_QUICK:
                for (int64_t c = c0; c < c1; c++)
                    row[c] = nn_gelu_quick(row[c]);
                break;
            case NN_OP_GELU:
                for (int64_t c = c0; c < c1; c++)
                    row[c] = nn_gelu(row[c]);
                break;
            default: break;
            }
        }
    }
}

void nn_apply_epilogue(float *y, int64_t rows, int64_t ld, int64_t c0, int64_t c1,
                       const struct nn_step *epi, int n, const float *res)
{
    if (n > 0)
        epilogue(y, rows, ld, c0, c1, epi, n, res);
}

/* The weight matrix of a convolution (HWIO, read as [kh kw i] x o) or of a matrix
 * product with a constant right operand; NULL when the node has none to pack. */
static const struct nn_tensor *packable(const struct nn_model *m, const struct nn_node *nd,
                                        int64_t *k, int64_t *n)
{
    const struct nn_tensor *w;

    if ((nd->op != NN_OP_CONV2D && nd->op != NN_OP_MATMUL) || nd->nin < 2)
        return NULL;
    w = &m->nodes[nd->in[1]].value;
    if (m->nodes[nd->in[1]].op != NN_OP_CONST || w->dtype != NN_F32)
        return NULL;
    if (nd->op == NN_OP_CONV2D && w->nd == 4) {
        *k = w->shape[0] * w->shape[1] * w->shape[2];
        *n = w->shape[3];
    } else if (nd->op == NN_OP_MATMUL && w->nd == 2) {
        *k = w->shape[nd->transpose_b ? 1 : 0];
        *n = w->shape[nd->transpose_b ? 0 : 1];
    } else {
        return NULL;
    }
    return *k > 0 && *n > 0 ? w : NULL;
}

/* The folded post being built: y * scale + shift, clamped to [lo, hi]. */
struct folding {
    float *scale, *shift, lo, hi;
    int64_t n;
};

/* Folds y = y op k into f (k scalar or per channel); 0 when it cannot be: an affine step
 * after a clamp, or a clamp that would make the output a constant. */
static int fold_step(struct folding *f, enum nn_op op, const float *k, int64_t nk)
{
    int clamped = f->lo > -INFINITY || f->hi < INFINITY;

    for (int64_t c = 0; c < f->n; c++) {
        float v = k != NULL ? k[nk > 1 ? c : 0] : 0;

        switch (op) {
        case NN_OP_ADD: f->shift[c] += v; break;
        case NN_OP_SUB: f->shift[c] -= v; break;
        case NN_OP_MUL: f->scale[c] *= v, f->shift[c] *= v; break;
        default: break;
        }
    }
    switch (op) {
    case NN_OP_ADD: case NN_OP_SUB: case NN_OP_MUL: return !clamped;
    case NN_OP_RELU: return fold_step(f, NN_OP_MAXIMUM, NULL, 1);
    case NN_OP_RELU6: return fold_step(f, NN_OP_MAXIMUM, NULL, 1) && fold_step(f, NN_OP_MINIMUM, (const float[]){6}, 1);
    case NN_OP_MAXIMUM:
        if (nk != 1 || (k ? k[0] : 0) > f->hi)
            return 0;
        f->lo = fmaxf(f->lo, k ? k[0] : 0);
        return 1;
    case NN_OP_MINIMUM:
        if (nk != 1 || k[0] < f->lo)
            return 0;
        f->hi = fminf(f->hi, k[0]);
        return 1;
    default: return 0;
    }
}

/* Folds nd's bias, fused activation and epilogue into nd->post when all of it folds. */
static void fold_post(const struct nn_model *m, struct nn_node *nd, int64_t n)
{
    const struct nn_tensor *bias = nd->nin >= 3 ? &m->nodes[nd->in[2]].value : NULL;
    struct folding f = {xmalloc(sizeof(float) * 2 * (size_t)n), NULL, -INFINITY, INFINITY, n};
    int ok = !(nd->fused & NN_FUSED_PRELU);

    f.shift = f.scale + n;
    for (int64_t c = 0; c < n; c++)
        f.scale[c] = 1, f.shift[c] = 0;
    if (nd->fused & NN_FUSED_BIAS)
        ok = ok && m->nodes[nd->in[2]].op == NN_OP_CONST && bias->dtype == NN_F32 &&
             nn_numel(bias) == n && fold_step(&f, NN_OP_ADD, bias->data, n);
    if (ok && (nd->fused & NN_FUSED_RELU))
        ok = fold_step(&f, NN_OP_RELU, NULL, 1);
    if (ok && (nd->fused & NN_FUSED_RELU6))
        ok = fold_step(&f, NN_OP_RELU6, NULL, 1);
    nd->nfold = nd->nepi;
    for (int s = 0; ok && s < nd->nepi; s++) {
        if (nd->epi[s].op == NN_OP_GELU || nd->epi[s].op == NN_OP_GELU_QUICK ||
            nd->epi[s].tensor) {
            nd->nfold = s; /* the post, then the steps from here on the block */
            break;
        }
        ok = fold_step(&f, nd->epi[s].op, nd->epi[s].k, nd->epi[s].n);
    }
    if (!ok) {
        free(f.scale);
        nd->nfold = 0;
        return;
    }
    nd->post_buf = f.scale;
    nd->post = (struct nn_post){f.scale, f.shift, f.lo, f.hi};
}

/* Output channels of a depthwise convolution with a constant filter; 0 otherwise. */
static int64_t depthwise_channels(const struct nn_model *m, const struct nn_node *nd)
{
    const struct nn_node *w = nd->nin >= 2 ? &m->nodes[nd->in[1]] : NULL;

    if (nd->op != NN_OP_DEPTHWISE || w == NULL || w->op != NN_OP_CONST || w->value.nd != 4)
        return 0;
    return w->value.shape[2] * w->value.shape[3];
}

/* 1 when node c (a constant) is read only as the packed weights of products, which
 * never touch its values again (only its shape). */
static int only_packed(const struct nn_model *m, int c)
{
    int users = 0;

    for (int i = 0; i < m->nnodes; i++) {
        const struct nn_node *nd = &m->nodes[i];

        for (int k = 0; k < nd->nin; k++) {
            if (nd->in[k] != c)
                continue;
            if (k != 1 || nd->packed.p == NULL ||
                (nd->op == NN_OP_MATMUL && nd->transpose_a) ||
                (nd->op != NN_OP_MATMUL && nd->op != NN_OP_CONV2D))
                return 0;
            users++;
        }
    }
    return users > 0;
}

/* Frees the values of constants that now live packed (half the weights' memory): the
 * node keeps its shape and dtype, with data NULL. */
static void release_packed(struct nn_model *m)
{
    struct nn_weights *w = &m->weights;

    for (int c = 0; c < m->nnodes; c++) {
        struct nn_node *nd = &m->nodes[c];

        if (nd->op != NN_OP_CONST || nd->value.data == NULL || !only_packed(m, c))
            continue;
        for (int j = 0; j < w->n; j++)
            if (w->t[j].data == nd->value.data && w->t[j].owned) {
                free(w->t[j].data);
                w->t[j].data = NULL;
                nd->value.data = NULL;
                break;
            }
    }
}

/* 3 x 3, stride 1, undilated, with at most WINO_MAX_OUT output channels: where
 * Winograd's form pays (wino.c). */
static int wino_fits(const struct nn_node *nd, const struct nn_tensor *w)
{
    return nd->op == NN_OP_CONV2D && w->nd == 4 && w->shape[0] == 3 && w->shape[1] == 3 &&
           w->shape[3] <= WINO_MAX_OUT && nd->stride[0] == 1 && nd->stride[1] == 1 &&
           nd->dilation[0] == 1 && nd->dilation[1] == 1;
}

void nn_graph_pack(struct nn_model *m)
{
    for (int i = 0; i < m->nnodes; i++) {
        struct nn_node *nd = &m->nodes[i];
        int64_t k, n = depthwise_channels(m, nd);
        const struct nn_tensor *w = packable(m, nd, &k, &n);

        if (w != NULL)
            nn_packed_init(&nd->packed, w->data, k, n, nd->op == NN_OP_MATMUL && nd->transpose_b);
        if (w != NULL && wino_fits(nd, w))
            nd->wino = nn_wino_pack(w->data, w->shape[2], w->shape[3]);
        if (n > 0 && (w != NULL || nd->op == NN_OP_DEPTHWISE))
            fold_post(m, nd, n);
    }
    release_packed(m);
}
