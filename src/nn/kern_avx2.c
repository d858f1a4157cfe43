/*
 * kern_avx2: the kernels of kern.h for CPUs with AVX2 and FMA (compiled with -mavx2
 * -mfma; only called after __builtin_cpu_supports said yes).
 *
 * With 16 ymm registers the matrix-product tile is 6 rows x one 16-column panel (two
 * vectors): 12 accumulators, two weight vectors and a broadcast. Columns past the end
 * go through a masked store, rows past the end are computed from the last valid row
 * and dropped. Depthwise works as in kern_avx512.c with 8-channel vectors and four
 * pixels at a time.
 */
#include "nn/kern.h"

#if defined(__x86_64__) && defined(__GNUC__) && defined(__AVX2__) && defined(__FMA__)

#include <immintrin.h>

#define INLINE static inline __attribute__((always_inline))
#define MR 6

/* A lane mask with the first n (0..8) lanes set. */
static __m256i lanes(int64_t n)
{
    static const int32_t t[16] = {-1, -1, -1, -1, -1, -1, -1, -1, 0, 0, 0, 0, 0, 0, 0, 0};

    return _mm256_loadu_si256((const __m256i *)(t + 8 - (n < 0 ? 0 : n > 8 ? 8 : n)));
}

/* y * scale + shift, clamped: the folded post of kern.h on one vector. */
INLINE __m256 post_vec(__m256 y, const struct nn_post *p, const float *scale, const float *shift,
                       __m256i m)
{
    y = _mm256_fmadd_ps(y, _mm256_maskload_ps(scale, m), _mm256_maskload_ps(shift, m));
    return _mm256_min_ps(_mm256_max_ps(y, _mm256_set1_ps(p->lo)), _mm256_set1_ps(p->hi));
}

/* One tile: rows ar[0, MR) (the caller repeats the last valid row past mr), each segs
 * runs of seg floats segld apart, times one panel. */
INLINE void tile(const float *const *ar, int64_t segs, int64_t seg, int64_t segld, int mr,
                 const float *bp, float *c, int64_t ldc, int cols, const struct nn_post *post,
                 int64_t j)
{
    __m256 acc[MR][2];
    __m256i m0 = lanes(cols), m1 = lanes(cols - 8);

#pragma GCC unroll 6
    for (int r = 0; r < MR; r++)
        acc[r][0] = acc[r][1] = _mm256_setzero_ps();
    for (int64_t g = 0; g < segs; g++, bp += seg * NN_PANEL) {
        const float *x[MR];

#pragma GCC unroll 6
        for (int r = 0; r < MR; r++)
            x[r] = ar[r] + g * segld;
        for (int64_t kk = 0; kk < seg; kk++) {
            __m256 b0 = _mm256_load_ps(bp + kk * NN_PANEL);
            __m256 b1 = _mm256_load_ps(bp + kk * NN_PANEL + 8);

#pragma GCC unroll 6
            for (int r = 0; r < MR; r++) {
                __m256 v = _mm256_broadcast_ss(x[r] + kk);

                acc[r][0] = _mm256_fmadd_ps(v, b0, acc[r][0]);
                acc[r][1] = _mm256_fmadd_ps(v, b1, acc[r][1]);
            }
        }
    }
    for (int r = 0; r < mr; r++) {
        if (post != NULL) {
            acc[r][0] = post_vec(acc[r][0], post, post->scale + j, post->shift + j, m0);
            acc[r][1] = post_vec(acc[r][1], post, post->scale + j + 8, post->shift + j + 8, m1);
        }
        _mm256_maskstore_ps(c + r * ldc, m0, acc[r][0]);
        _mm256_maskstore_ps(c + r * ldc + 8, m1, acc[r][1]);
    }
}

/* The product over rows [0, m): row i at a + i lda, or at rows->row[i] when rows is set. */
static void product(const float *a, int64_t lda, const struct nn_rows *rows,
                    const struct nn_packed *b, float *c, int64_t ldc, int64_t m, int64_t n0,
                    int64_t n1, const struct nn_post *post)
{
    int64_t segs = rows ? rows->segs : 1, seg = rows ? rows->seg : b->k;
    int64_t segld = rows ? rows->segld : 0;

    for (int64_t j = n0; j < n1; j += NN_PANEL) {
        const float *bp = b->p + (j / NN_PANEL) * b->k * NN_PANEL;
        int cols = (int)(n1 - j < NN_PANEL ? n1 - j : NN_PANEL);

        for (int64_t i = 0; i < m; i += MR) {
            int mr = (int)(m - i < MR ? m - i : MR);
            const float *ar[MR];

            for (int r = 0; r < MR; r++) {
                int64_t row = i + (r < mr ? r : mr - 1);

                ar[r] = rows ? rows->row[row] : a + row * lda;
            }
            tile(ar, segs, seg, segld, mr, bp, c + i * ldc + j, ldc, cols, post, j);
        }
    }
}

static void gemm(const float *a, int64_t lda, const struct nn_packed *b, float *c, int64_t ldc,
                 int64_t m, int64_t n0, int64_t n1, const struct nn_post *post)
{
    product(a, lda, NULL, b, c, ldc, m, n0, n1, post);
}

static void gemm_rows(const struct nn_rows *a, const struct nn_packed *b, float *c, int64_t ldc,
                      int64_t m, int64_t n0, int64_t n1, const struct nn_post *post)
{
    product(NULL, 0, a, b, c, ldc, m, n0, n1, post);
}

static void pixel_edge(const struct nn_dw *g, int64_t oy, int64_t ox, float *y)
{
    for (int64_t cb = 0; cb < g->c; cb += 8) {
        __m256i m = lanes(g->c - cb);
        __m256 acc = g->bias ? _mm256_maskload_ps(g->bias + cb, m) : _mm256_setzero_ps();

        for (int ky = 0; ky < g->kh; ky++) {
            int64_t iy = oy * g->sh - g->pt + (int64_t)ky * g->dh;

            for (int kx = 0; kx < g->kw && iy >= 0 && iy < g->h; kx++) {
                int64_t ix = ox * g->sw - g->pl + (int64_t)kx * g->dw;
                const float *f = g->filter + ((int64_t)ky * g->kw + kx) * g->c + cb;

                if (ix >= 0 && ix < g->w)
                    acc = _mm256_fmadd_ps(
                        _mm256_maskload_ps(g->x + (iy * g->w + ix) * g->c + cb, m),
                        _mm256_maskload_ps(f, m), acc);
            }
        }
        if (g->post != NULL)
            acc = post_vec(acc, g->post, g->post->scale + cb, g->post->shift + cb, m);
        _mm256_maskstore_ps(y + ox * g->c + cb, m, acc);
    }
}

INLINE void pixels_inner(const struct nn_dw *g, int64_t oy, int64_t ox, int ky0, int ky1,
                         float *y, const int P)
{
    for (int64_t cb = 0; cb < g->c; cb += 8) {
        __m256i m = lanes(g->c - cb);
        __m256 b = g->bias ? _mm256_maskload_ps(g->bias + cb, m) : _mm256_setzero_ps();
        __m256 acc[4];

#pragma GCC unroll 4
        for (int p = 0; p < P; p++)
            acc[p] = b;
        for (int ky = ky0; ky < ky1; ky++) {
            int64_t iy = oy * g->sh - g->pt + (int64_t)ky * g->dh;
            const float *row = g->x + (iy * g->w + ox * g->sw - g->pl) * g->c + cb;

            for (int kx = 0; kx < g->kw; kx++) {
                const float *xp = row + (int64_t)kx * g->dw * g->c;
                __m256 f =
                    _mm256_maskload_ps(g->filter + ((int64_t)ky * g->kw + kx) * g->c + cb, m);

#pragma GCC unroll 4
                for (int p = 0; p < P; p++)
                    acc[p] = _mm256_fmadd_ps(
                        _mm256_maskload_ps(xp + (int64_t)p * g->sw * g->c, m), f, acc[p]);
            }
        }
#pragma GCC unroll 4
        for (int p = 0; p < P; p++) {
            if (g->post != NULL)
                acc[p] = post_vec(acc[p], g->post, g->post->scale + cb, g->post->shift + cb, m);
            _mm256_maskstore_ps(y + (ox + p) * g->c + cb, m, acc[p]);
        }
    }
}

static void depthwise_row(const struct nn_dw *g, int64_t oy, float *y)
{
    int64_t lo, hi, ox;
    int ky0, ky1;

    nn_dw_bounds(g, oy, &ky0, &ky1, &lo, &hi);
    for (ox = 0; ox < lo; ox++)
        pixel_edge(g, oy, ox, y);
    for (; ox + 4 <= hi; ox += 4)
        pixels_inner(g, oy, ox, ky0, ky1, y, 4);
    for (; ox < hi; ox++)
        pixels_inner(g, oy, ox, ky0, ky1, y, 1);
    for (; ox < g->ow; ox++)
        pixel_edge(g, oy, ox, y);
}

const struct nn_kernels *nn_kernels_avx2(void)
{
    static const struct nn_kernels k = {"avx2", gemm, gemm_rows, depthwise_row};

    return &k;
}

#else

const struct nn_kernels *nn_kernels_avx2(void)
{
    return NULL;
}

#endif
