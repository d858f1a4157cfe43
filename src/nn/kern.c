/*
 * kern: weight packing, the scalar reference kernels, and the choice of variant.
 *
 * The scalar kernels are the specification the SIMD ones are tested against: plain
 * loops in the most obvious order, reading the same packed weights. The choice is made
 * once, on first use, from __builtin_cpu_supports; DOPPEL_NN_KERNELS=scalar|avx2|avx512
 * overrides it (for comparisons), and a name the CPU cannot run is ignored with the best
 * variant kept.
 */
#include "nn/kern.h"

#include "util/xalloc.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

void nn_packed_fill(float *p, const float *w, int64_t ld, int64_t k, int64_t n, int trans)
{
    int64_t panels = (n + NN_PANEL - 1) / NN_PANEL;

    for (int64_t pn = 0; pn < panels; pn++) {
        int64_t j0 = pn * NN_PANEL, cols = n - j0 < NN_PANEL ? n - j0 : NN_PANEL;
        float *dst = p + pn * k * NN_PANEL;

        if (cols < NN_PANEL)
            memset(dst, 0, sizeof(float) * (size_t)(k * NN_PANEL));
        if (trans) /* a column of the panel is a row of w */
            for (int64_t j = 0; j < cols; j++)
                for (int64_t i = 0; i < k; i++)
                    dst[i * NN_PANEL + j] = w[(j0 + j) * ld + i];
        else if (cols == NN_PANEL)
            for (int64_t i = 0; i < k; i++)
                for (int j = 0; j < NN_PANEL; j++)
                    dst[i * NN_PANEL + j] = w[i * ld + j0 + j];
        else
            for (int64_t i = 0; i < k; i++)
                for (int64_t j = 0; j < cols; j++)
                    dst[i * NN_PANEL + j] = w[i * ld + j0 + j];
    }
}

void nn_packed_init(struct nn_packed *pk, const float *w, int64_t k, int64_t n, int trans)
{
    int64_t panels = (n + NN_PANEL - 1) / NN_PANEL;

    pk->k = k;
    pk->n = n;
    pk->p = xaligned_alloc(64, sizeof(float) * (size_t)(panels * k * NN_PANEL));
    nn_packed_fill(pk->p, w, trans ? k : n, k, n, trans);
}

void nn_packed_free(struct nn_packed *pk)
{
    if (pk == NULL)
        return;
    free(pk->p);
    pk->p = NULL;
}

void nn_dw_bounds(const struct nn_dw *g, int64_t oy, int *ky0, int *ky1, int64_t *lo,
                  int64_t *hi)
{
    int64_t span = (int64_t)(g->kw - 1) * g->dw, last = g->w - 1 - span + g->pl;

    *ky0 = 0;
    *ky1 = g->kh;
    while (*ky0 < *ky1 && oy * g->sh - g->pt + (int64_t)*ky0 * g->dh < 0)
        (*ky0)++;
    while (*ky1 > *ky0 && oy * g->sh - g->pt + (int64_t)(*ky1 - 1) * g->dh >= g->h)
        (*ky1)--;
    *lo = (g->pl + g->sw - 1) / g->sw;
    *hi = last < 0 ? 0 : last / g->sw + 1;
    if (*hi > g->ow)
        *hi = g->ow;
    if (*lo > *hi)
        *lo = *hi;
}

static float post_one(const struct nn_post *p, int64_t j, float v)
{
    if (p == NULL)
        return v;
    v = v * p->scale[j] + p->shift[j];
    v = v < p->lo ? p->lo : v;
    return v > p->hi ? p->hi : v;
}

static void gemm_scalar(const float *a, int64_t lda, const struct nn_packed *b, float *c,
                        int64_t ldc, int64_t m, int64_t n0, int64_t n1, const struct nn_post *post)
{
    for (int64_t i = 0; i < m; i++) {
        for (int64_t j = n0; j < n1; j++) {
            const float *col = b->p + (j / NN_PANEL) * b->k * NN_PANEL + j % NN_PANEL;
            float s = 0;

            for (int64_t k = 0; k < b->k; k++)
                s += a[i * lda + k] * col[k * NN_PANEL];
            c[i * ldc + j] = post_one(post, j, s);
        }
    }
}

static void gemm_rows_scalar(const struct nn_rows *a, const struct nn_packed *b, float *c,
                             int64_t ldc, int64_t m, int64_t n0, int64_t n1,
                             const struct nn_post *post)
{
    for (int64_t i = 0; i < m; i++) {
        for (int64_t j = n0; j < n1; j++) {
            const float *col = b->p + (j / NN_PANEL) * b->k * NN_PANEL + j % NN_PANEL;
            float s = 0;

            for (int64_t g = 0; g < a->segs; g++)
                for (int64_t k = 0; k < a->seg; k++)
                    s += a->row[i][g * a->segld + k] * col[(g * a->seg + k) * NN_PANEL];
            c[i * ldc + j] = post_one(post, j, s);
        }
    }
}

static void depthwise_row_scalar(const struct nn_dw *g, int64_t oy, float *y)
{
    for (int64_t ox = 0; ox < g->ow; ox++) {
        for (int64_t ch = 0; ch < g->c; ch++) {
            float s = g->bias != NULL ? g->bias[ch] : 0;

            for (int ky = 0; ky < g->kh; ky++) {
                int64_t iy = oy * g->sh - g->pt + (int64_t)ky * g->dh;

                for (int kx = 0; kx < g->kw && iy >= 0 && iy < g->h; kx++) {
                    int64_t ix = ox * g->sw - g->pl + (int64_t)kx * g->dw;

                    if (ix >= 0 && ix < g->w)
                        s += g->x[(iy * g->w + ix) * g->c + ch] *
                             g->filter[((int64_t)ky * g->kw + kx) * g->c + ch];
                }
            }
            y[ox * g->c + ch] = post_one(g->post, ch, s);
        }
    }
}

const struct nn_kernels *nn_kernels_scalar(void)
{
    static const struct nn_kernels k = {"scalar", gemm_scalar, gemm_rows_scalar, depthwise_row_scalar};

    return &k;
}

const struct nn_kernels *nn_kernels_find(const char *name)
{
    const struct nn_kernels *k = NULL;

    if (strcmp(name, "scalar") == 0)
        return nn_kernels_scalar();
#if defined(__x86_64__) && defined(__GNUC__)
    __builtin_cpu_init();
    if (strcmp(name, "avx2") == 0 && __builtin_cpu_supports("avx2") &&
        __builtin_cpu_supports("fma"))
        k = nn_kernels_avx2();
    if (strcmp(name, "avx512") == 0 && __builtin_cpu_supports("avx512f"))
        k = nn_kernels_avx512();
#endif
    return k;
}

static const struct nn_kernels *current;

static const struct nn_kernels *best(void)
{
    static const char *const order[] = {"avx512", "avx2", "scalar"};
    const char *want = getenv("DOPPEL_NN_KERNELS");
    const struct nn_kernels *k = want != NULL ? nn_kernels_find(want) : NULL;

    for (size_t i = 0; k == NULL && i < sizeof order / sizeof order[0]; i++)
        k = nn_kernels_find(order[i]);
    return k;
}

const struct nn_kernels *nn_kernels_get(void)
{
    const struct nn_kernels *k = __atomic_load_n(&current, __ATOMIC_ACQUIRE);

    if (k == NULL) {
        k = best();
        __atomic_store_n(&current, k, __ATOMIC_RELEASE);
    }
    return k;
}

int nn_kernels_use(const char *name)
{
    const struct nn_kernels *k = nn_kernels_find(name);

    if (k == NULL)
        return -1;
    __atomic_store_n(&current, k, __ATOMIC_RELEASE);
    return 0;
}
