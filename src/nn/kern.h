/*
 * kern: the runtime's two hot kernels, written three times (a scalar reference, AVX2 +
 * FMA, AVX-512) and picked once at start-up from what the CPU supports, so one binary
 * runs on any x86-64 at the best speed it offers. tests/test_kern.c runs every variant
 * the machine has against the scalar one.
 *
 * The matrix product multiplies activations by constant weights, so the weights are
 * packed once at load time into the layout the kernels stream: 16-column panels, each
 * K rows of 16 floats, zero-padded past the last column. The depthwise kernel computes
 * one output row of a depthwise convolution (one filter per channel, NHWC), keeping the
 * sums of several output pixels in registers across the filter taps.
 */
#ifndef DOPPEL_KERN_H
#define DOPPEL_KERN_H

#include <stdint.h>

#define NN_PANEL 16

/* Weights B (k x n), packed: panel j holds columns [16 j, 16 j + 16) as k rows of 16. */
struct nn_packed {
    int64_t k, n;
    float *p; /* 64-byte aligned, ceil(n / 16) * k * 16 floats; owned */
};

/* What follows a product or convolution, folded at load time into one per-channel
 * affine map and a clamp: y = min(max(y * scale[j] + shift[j], lo), hi). Applied to the
 * sums while they are still in registers. */
struct nn_post {
    const float *scale, *shift; /* per output channel; indexed from the first column */
    float lo, hi;
};

/* One depthwise convolution over one image, multiplier 1: x is h x w x c, the filter
 * kh x kw x c, the output oh x ow x c; pt and pl are the leading padding. */
struct nn_dw {
    const float *x, *filter, *bias; /* bias may be NULL */
    const struct nn_post *post;     /* may be NULL; bias is then NULL, folded in */
    int64_t h, w, c, oh, ow;
    int kh, kw, sh, sw, dh, dw, pt, pl;
};

/* The left operand of a product read in place through a convolution's window (no
 * unfolded copy): row i is segs runs of seg floats, starting at row[i], row[i] + segld,
 * ... (one run per filter row), so k = segs x seg. */
struct nn_rows {
    const float *const *row; /* one pointer per row of the product */
    int64_t segs, seg, segld;
};

struct nn_kernels {
    const char *name;
    /* C[i][j] = sum_k A[i][k] B[k][j] for rows [0, m) and columns [n0, n1) of B, n0 a
     * multiple of 16, then post applied (post may be NULL). A and C are row-major with
     * leading dimensions lda and ldc; C points at row 0, column 0. */
    void (*gemm)(const float *a, int64_t lda, const struct nn_packed *b, float *c,
                 int64_t ldc, int64_t m, int64_t n0, int64_t n1, const struct nn_post *post);
    /* The same product with A given as rows [0, m) of a (see struct nn_rows). */
    void (*gemm_rows)(const struct nn_rows *a, const struct nn_packed *b, float *c,
                      int64_t ldc, int64_t m, int64_t n0, int64_t n1, const struct nn_post *post);
    /* Output row oy of g into y (ow x c floats), bias added, then g->post applied. */
    void (*depthwise_row)(const struct nn_dw *g, int64_t oy, float *y);
};

/* Packs w (k x n row-major, or n x k when trans) into pk. Release with nn_packed_free. */
void nn_packed_init(struct nn_packed *pk, const float *w, int64_t k, int64_t n, int trans);

/* Packs w into the panels at p (64-byte aligned, ceil(n / 16) * k * 16 floats): w is
 * k x n with rows ld floats apart, or n x k (rows ld apart) when trans. For operands
 * made at run time, such as attention's keys and values. */
void nn_packed_fill(float *p, const float *w, int64_t ld, int64_t k, int64_t n, int trans);

/* Frees pk's panels; pk may be NULL. */
void nn_packed_free(struct nn_packed *pk);

/* Returns the kernels in use: the best the CPU supports, unless nn_kernels_use chose. */
const struct nn_kernels *nn_kernels_get(void);

/* Returns the variant named "scalar", "avx2" or "avx512", or NULL when this CPU (or
 * build) lacks it. */
const struct nn_kernels *nn_kernels_find(const char *name);

/* Makes the named variant the one in use (tests, benchmarks, DOPPEL_NN_KERNELS); returns
 * 0, or -1 when it is not available. Not thread-safe: call before running models. */
int nn_kernels_use(const char *name);

/* The filter rows of output row oy that fall inside the image, [ky0, ky1), and the
 * output pixels whose whole window lies inside it horizontally, [lo, hi). */
void nn_dw_bounds(const struct nn_dw *g, int64_t oy, int *ky0, int *ky1, int64_t *lo,
                  int64_t *hi);

/* The variants, for the dispatcher. Each returns NULL when not compiled in. */
const struct nn_kernels *nn_kernels_scalar(void);
const struct nn_kernels *nn_kernels_avx2(void);
const struct nn_kernels *nn_kernels_avx512(void);

#endif
