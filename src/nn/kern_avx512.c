/*
 * kern_avx512: the kernels of kern.h for CPUs with AVX-512F (compiled with -mavx512f
 * -mfma; only called after __builtin_cpu_supports said yes).
 *
 * Matrix product: register tiles of MR rows x NV panels (16 columns each), with MR x NV
 * accumulators, NV panel vectors and one broadcast in the 32 zmm registers: 6 x 4,
 * 8 x 3, 12 x 2, 12 x 1. The tile walks all of K, so each weight vector loaded feeds MR
 * FMAs and each broadcast NV. Loop order: panel groups outside, rows inside, so a group
 * of weight panels stays in L2 while the rows stream past. Rows past the end read the
 * last valid row again and are not stored; columns past the end are masked off.
 *
 * Depthwise: eight output pixels of one 16-channel block at a time, each filter tap
 * loaded once for the eight. Pixels whose window crosses the image border take a
 * one-pixel path that skips the taps outside.
 */
#include "nn/kern.h"

#if defined(__x86_64__) && defined(__GNUC__) && defined(__AVX512F__)

#include <immintrin.h>

#define INLINE static inline __attribute__((always_inline))

/* y * scale + shift, clamped: the folded post of kern.h on one vector. */
INLINE __m512 post_vec(__m512 y, const struct nn_post *p, const float *scale, const float *shift,
                       __mmask16 m)
{
    y = _mm512_fmadd_ps(y, _mm512_maskz_loadu_ps(m, scale), _mm512_maskz_loadu_ps(m, shift));
    return _mm512_min_ps(_mm512_max_ps(y, _mm512_set1_ps(p->lo)), _mm512_set1_ps(p->hi));
}

/* One tile: rows ar[0, MR) (the caller repeats the last valid row past mr), each segs
 * runs of seg floats segld apart, times NV panels ps floats apart. */
INLINE void tile(const float *const *ar, int64_t segs, int64_t seg, int64_t segld, int mr,
                 const float *bp, int64_t ps, float *c, int64_t ldc, __mmask16 last,
                 const struct nn_post *post, int64_t j, const int MR, const int NV)
{
    __m512 acc[12][4];

#pragma GCC unroll 12
    for (int r = 0; r < MR; r++)
#pragma GCC unroll 4
        for (int v = 0; v < NV; v++)
            acc[r][v] = _mm512_setzero_ps();
    for (int64_t g = 0; g < segs; g++, bp += seg * NN_PANEL) {
        const float *x[12];

#pragma GCC unroll 12
        for (int r = 0; r < MR; r++)
            x[r] = ar[r] + g * segld;
        for (int64_t kk = 0; kk < seg; kk++) {
            __m512 b[4];

#pragma GCC unroll 4
            for (int v = 0; v < NV; v++)
                b[v] = _mm512_load_ps(bp + v * ps + kk * NN_PANEL);
#pragma GCC unroll 12
            for (int r = 0; r < MR; r++) {
                __m512 xv = _mm512_set1_ps(x[r][kk]);

#pragma GCC unroll 4
                for (int v = 0; v < NV; v++)
                    acc[r][v] = _mm512_fmadd_ps(xv, b[v], acc[r][v]);
            }
        }
    }
#pragma GCC unroll 12
    for (int r = 0; r < MR; r++) {
        if (r >= mr)
            break;
#pragma GCC unroll 4
        for (int v = 0; v < NV; v++) {
            __mmask16 m = v == NV - 1 ? last : 0xffff;
            __m512 y = acc[r][v];

            if (post != NULL)
                y = post_vec(y, post, post->scale + j + v * NN_PANEL,
                             post->shift + j + v * NN_PANEL, m);
            _mm512_mask_storeu_ps(c + r * ldc + v * NN_PANEL, m, y);
        }
    }
}

/* The left operand: row i at a + i lda, or at rows->row[i] when rows is set. */
struct lhs {
    const float *a;
    int64_t lda;
    const struct nn_rows *rows;
    int64_t segs, seg, segld;
};

/* One group of nv panels (columns [j, j + cols); c points at column j) over all m rows. */
static void group(const struct lhs *l, const float *bp, int64_t k, float *c, int64_t ldc,
                  int64_t m, int nv, int cols, const struct nn_post *post, int64_t j)
{
    int rest = cols - (nv - 1) * NN_PANEL;
    __mmask16 last = (__mmask16)(rest >= 16 ? 0xffff : (1u << rest) - 1);
    int64_t ps = k * NN_PANEL;
    int mr = nv == 4 ? 6 : nv == 3 ? 8 : 12;

    for (int64_t i = 0; i < m; i += mr) {
        int rows = m - i < mr ? (int)(m - i) : mr;
        const float *ar[12];
        float *ci = c + i * ldc;

        for (int r = 0; r < mr; r++) {
            int64_t row = i + (r < rows ? r : rows - 1);

            ar[r] = l->rows ? l->rows->row[row] : l->a + row * l->lda;
        }
#define TILE(MR, NV) \
    tile(ar, l->segs, l->seg, l->segld, rows, bp, ps, ci, ldc, last, post, j, MR, NV)
        switch (nv) {
        case 4: TILE(6, 4); break;
        case 3: TILE(8, 3); break;
        case 2: TILE(12, 2); break;
        default: TILE(12, 1); break;
        }
#undef TILE
    }
}

static void product(const struct lhs *l, const struct nn_packed *b, float *c, int64_t ldc,
                    int64_t m, int64_t n0, int64_t n1, const struct nn_post *post)
{
    for (int64_t j = n0; j < n1; j += 4 * NN_PANEL) {
        int64_t cols = n1 - j < 4 * NN_PANEL ? n1 - j : 4 * NN_PANEL;
        int nv = (int)((cols + NN_PANEL - 1) / NN_PANEL);

        group(l, b->p + (j / NN_PANEL) * b->k * NN_PANEL, b->k, c + j, ldc, m, nv, (int)cols,
              post, j);
    }
}

static void gemm(const float *a, int64_t lda, const struct nn_packed *b, float *c, int64_t ldc,
                 int64_t m, int64_t n0, int64_t n1, const struct nn_post *post)
{
    struct lhs l = {a, lda, NULL, 1, b->k, 0};

    product(&l, b, c, ldc, m, n0, n1, post);
}

static void gemm_rows(const struct nn_rows *a, const struct nn_packed *b, float *c, int64_t ldc,
                      int64_t m, int64_t n0, int64_t n1, const struct nn_post *post)
{
    struct lhs l = {NULL, 0, a, a->segs, a->seg, a->segld};

    product(&l, b, c, ldc, m, n0, n1, post);
}

static __mmask16 mask_for(int64_t rest)
{
    return (__mmask16)(rest >= 16 ? 0xffff : (1u << rest) - 1);
}

/* Output pixel ox, with the taps outside the image skipped. */
static void pixel_edge(const struct nn_dw *g, int64_t oy, int64_t ox, float *y)
{
    for (int64_t cb = 0; cb < g->c; cb += 16) {
        __mmask16 m = mask_for(g->c - cb);
        __m512 acc = g->bias ? _mm512_maskz_loadu_ps(m, g->bias + cb) : _mm512_setzero_ps();

        for (int ky = 0; ky < g->kh; ky++) {
            int64_t iy = oy * g->sh - g->pt + (int64_t)ky * g->dh;

            for (int kx = 0; kx < g->kw && iy >= 0 && iy < g->h; kx++) {
                int64_t ix = ox * g->sw - g->pl + (int64_t)kx * g->dw;
                const float *f = g->filter + ((int64_t)ky * g->kw + kx) * g->c + cb;

                if (ix >= 0 && ix < g->w)
                    acc = _mm512_fmadd_ps(
                        _mm512_maskz_loadu_ps(m, g->x + (iy * g->w + ix) * g->c + cb),
                        _mm512_maskz_loadu_ps(m, f), acc);
            }
        }
        if (g->post != NULL)
            acc = post_vec(acc, g->post, g->post->scale + cb, g->post->shift + cb, m);
        _mm512_mask_storeu_ps(y + ox * g->c + cb, m, acc);
    }
}

/* P output pixels from ox, every tap inside the image horizontally; rows [ky0, ky1). */
INLINE void pixels_inner(const struct nn_dw *g, int64_t oy, int64_t ox, int ky0, int ky1,
                         float *y, const int P)
{
    for (int64_t cb = 0; cb < g->c; cb += 16) {
        __mmask16 m = mask_for(g->c - cb);
        __m512 b = g->bias ? _mm512_maskz_loadu_ps(m, g->bias + cb) : _mm512_setzero_ps();
        __m512 acc[8];

#pragma GCC unroll 8
        for (int p = 0; p < P; p++)
            acc[p] = b;
        for (int ky = ky0; ky < ky1; ky++) {
            int64_t iy = oy * g->sh - g->pt + (int64_t)ky * g->dh;
            const float *row = g->x + (iy * g->w + ox * g->sw - g->pl) * g->c + cb;

            for (int kx = 0; kx < g->kw; kx++) {
                const float *xp = row + (int64_t)kx * g->dw * g->c;
                __m512 f = _mm512_maskz_loadu_ps(
                    m, g->filter + ((int64_t)ky * g->kw + kx) * g->c + cb);

#pragma GCC unroll 8
                for (int p = 0; p < P; p++)
                    acc[p] = _mm512_fmadd_ps(
                        _mm512_maskz_loadu_ps(m, xp + (int64_t)p * g->sw * g->c), f, acc[p]);
            }
        }
#pragma GCC unroll 8
        for (int p = 0; p < P; p++) {
            if (g->post != NULL)
                acc[p] = post_vec(acc[p], g->post, g->post->scale + cb, g->post->shift + cb, m);
            _mm512_mask_storeu_ps(y + (ox + p) * g->c + cb, m, acc[p]);
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
    for (; ox + 8 <= hi; ox += 8)
        pixels_inner(g, oy, ox, ky0, ky1, y, 8);
    for (; ox < hi; ox++)
        pixels_inner(g, oy, ox, ky0, ky1, y, 1);
    for (; ox < g->ow; ox++)
        pixel_edge(g, oy, ox, y);
}

const struct nn_kernels *nn_kernels_avx512(void)
{
    static const struct nn_kernels k = {"avx512", gemm, gemm_rows, depthwise_row};

    return &k;
}

#else

const struct nn_kernels *nn_kernels_avx512(void)
{
    return NULL;
}

#endif
