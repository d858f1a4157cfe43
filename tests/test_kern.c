/* Tests for nn/kern: the scalar kernels against naive loops over unpacked weights, then
 * every SIMD variant this CPU runs against the scalar one, on shapes that hit the tails
 * (rows, columns and channels that are not multiples of the vector width), strides,
 * dilations and padding on every side. */
#include "check.h"

#include "nn/kern.h"
#include "util/xalloc.h"

#include <stdlib.h>

struct gemm_case {
    int64_t m, k, n, n0;
    int trans, post;
};

static const struct gemm_case gemm_cases[] = {
    {1, 1, 1, 0, 0, 0},      {5, 3, 17, 0, 0, 1},    {13, 24, 24, 0, 0, 0},
    {7, 75, 24, 0, 1, 1},    {49, 256, 200, 0, 0, 0}, {100, 27, 32, 16, 0, 1},
    {6, 64, 64, 0, 1, 0},    {12, 33, 48, 32, 0, 1}, {25, 96, 130, 64, 0, 1},
    {3, 512, 1000, 0, 1, 1},
};

/* A folded post for up to 1024 channels: scales around 1, shifts around 0, clamp
 * [-0.5, 0.7] so both bounds bite. */
static float post_scale[1024], post_shift[1024];
static const struct nn_post test_post = {post_scale, post_shift, -0.5f, 0.7f};

static void init_post(void)
{
    for (int i = 0; i < 1024; i++) {
        post_scale[i] = 0.5f + (float)(i % 7) / 7;
        post_shift[i] = (float)(i % 5) / 5 - 0.4f;
    }
}

static float apply_post(int on, int64_t j, double v)
{
    if (!on)
        return (float)v;
    v = v * post_scale[j] + post_shift[j];
    return (float)(v < -0.5 ? -0.5 : v > 0.7 ? 0.7 : v);
}

struct dw_case {
    int64_t h, w, c;
    int kh, kw, sh, sw, dh, dw, pt, pl, pb, pr;
};

static const struct dw_case dw_cases[] = {
    {8, 8, 1, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1},   {16, 16, 24, 5, 5, 1, 1, 1, 1, 2, 2, 2, 2},
    {17, 13, 24, 5, 5, 2, 2, 1, 1, 1, 1, 2, 2}, {12, 30, 33, 3, 3, 2, 2, 1, 1, 0, 0, 1, 1},
    {9, 9, 64, 3, 3, 1, 1, 2, 2, 2, 2, 2, 2},  {4, 40, 7, 1, 7, 1, 3, 1, 1, 0, 3, 0, 3},
    {3, 3, 512, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1}, {6, 25, 48, 3, 5, 1, 1, 1, 2, 0, 0, 0, 0},
};

static float *random_floats(size_t n, unsigned seed)
{
    float *v = xmalloc(sizeof(float) * (n ? n : 1));

    srand(seed);
    for (size_t i = 0; i < n; i++)
        v[i] = (float)rand() / RAND_MAX * 2 - 1;
    return v;
}

/* The largest |x - y| over n values, relative to scale. */
static double max_err(const float *x, const float *y, size_t n, double scale)
{
    double worst = 0;

    for (size_t i = 0; i < n; i++) {
        double d = fabs((double)x[i] - y[i]) / scale;

        worst = d > worst ? d : worst;
    }
    return worst;
}

/* Runs kernels k on case t into c (m x n, columns before n0 untouched). */
static void run_gemm(const struct nn_kernels *k, const struct gemm_case *t, const float *a,
                     const struct nn_packed *b, float *c)
{
    for (int64_t i = 0; i < t->m * t->n; i++)
        c[i] = -7;
    k->gemm(a, t->k, b, c, t->n, t->m, t->n0, t->n, t->post ? &test_post : NULL);
}

static void naive_gemm(const struct gemm_case *t, const float *a, const float *w, float *c)
{
    for (int64_t i = 0; i < t->m; i++) {
        for (int64_t j = 0; j < t->n; j++) {
            double s = 0;

            for (int64_t k = 0; k < t->k; k++)
                s += (double)a[i * t->k + k] * (t->trans ? w[j * t->k + k] : w[k * t->n + j]);
            c[i * t->n + j] = j < t->n0 ? -7 : apply_post(t->post, j, s);
        }
    }
}

/* Compares kernels k (or, when NULL, the scalar kernels against naive loops). */
static void gemm_against(const struct nn_kernels *k)
{
    const struct nn_kernels *ref = nn_kernels_scalar();

    for (size_t i = 0; i < sizeof gemm_cases / sizeof gemm_cases[0]; i++) {
        const struct gemm_case *t = &gemm_cases[i];
        float *a = random_floats((size_t)(t->m * t->k), 1 + (unsigned)i);
        float *w = random_floats((size_t)(t->k * t->n), 100 + (unsigned)i);
        float *want = xmalloc(sizeof(float) * (size_t)(t->m * t->n));
        float *got = xmalloc(sizeof(float) * (size_t)(t->m * t->n));
        struct nn_packed pk;
        double e;

        nn_packed_init(&pk, w, t->k, t->n, t->trans);
        if (k == NULL)
            naive_gemm(t, a, w, want);
        else
            run_gemm(ref, t, a, &pk, want);
        run_gemm(k != NULL ? k : ref, t, a, &pk, got);
        e = max_err(want, got, (size_t)(t->m * t->n), (double)t->k);
        if (e > 1e-6)
            check_fail(__FILE__, __LINE__, "gemm case %zu (%s): error %.3g", i,
                       k ? k->name : "scalar", e);
        nn_packed_free(&pk);
        free(got);
        free(want);
        free(w);
        free(a);
    }
}

static void dw_setup(const struct dw_case *t, struct nn_dw *g, const float *x, const float *f,
                     const float *bias)
{
    g->x = x, g->filter = f, g->bias = bias;
    g->h = t->h, g->w = t->w, g->c = t->c;
    g->kh = t->kh, g->kw = t->kw, g->sh = t->sh, g->sw = t->sw, g->dh = t->dh, g->dw = t->dw;
    g->pt = t->pt, g->pl = t->pl;
    g->oh = (t->h + t->pt + t->pb - (int64_t)(t->kh - 1) * t->dh - 1) / t->sh + 1;
    g->ow = (t->w + t->pl + t->pr - (int64_t)(t->kw - 1) * t->dw - 1) / t->sw + 1;
}

static void naive_dw(const struct nn_dw *g, float *y)
{
    for (int64_t oy = 0; oy < g->oh; oy++)
        for (int64_t ox = 0; ox < g->ow; ox++)
            for (int64_t ch = 0; ch < g->c; ch++) {
                double s = g->bias ? g->bias[ch] : 0;

                for (int ky = 0; ky < g->kh; ky++)
                    for (int kx = 0; kx < g->kw; kx++) {
                        int64_t iy = oy * g->sh - g->pt + ky * g->dh;
                        int64_t ix = ox * g->sw - g->pl + kx * g->dw;

                        if (iy >= 0 && iy < g->h && ix >= 0 && ix < g->w)
                            s += (double)g->x[(iy * g->w + ix) * g->c + ch] *
                                 g->filter[(ky * g->kw + kx) * g->c + ch];
                    }
                y[(oy * g->ow + ox) * g->c + ch] = apply_post(g->post != NULL, ch, s);
            }
}

static void run_dw(const struct nn_kernels *k, const struct nn_dw *g, float *y)
{
    for (int64_t oy = 0; oy < g->oh; oy++)
        k->depthwise_row(g, oy, y + oy * g->ow * g->c);
}

static void dw_against(const struct nn_kernels *k)
{
    for (size_t i = 0; i < sizeof dw_cases / sizeof dw_cases[0]; i++) {
        const struct dw_case *t = &dw_cases[i];
        float *x = random_floats((size_t)(t->h * t->w * t->c), 7 + (unsigned)i);
        float *f = random_floats((size_t)(t->kh * t->kw * t->c), 70 + (unsigned)i);
        float *bias = random_floats((size_t)t->c, 700 + (unsigned)i);
        struct nn_dw g;
        float *want, *got;
        size_t n;

        dw_setup(t, &g, x, f, i % 2 ? bias : NULL);
        g.post = i % 3 == 1 ? &test_post : NULL;
        n = (size_t)(g.oh * g.ow * g.c);
        want = xmalloc(sizeof(float) * n);
        got = xmalloc(sizeof(float) * n);
        if (k == NULL)
            naive_dw(&g, want);
        else
            run_dw(nn_kernels_scalar(), &g, want);
        run_dw(k != NULL ? k : nn_kernels_scalar(), &g, got);
        if (max_err(want, got, n, (double)(t->kh * t->kw)) > 1e-6)
            check_fail(__FILE__, __LINE__, "depthwise case %zu (%s) differs", i,
                       k ? k->name : "scalar");
        free(got);
        free(want);
        free(bias);
        free(f);
        free(x);
    }
}

static void variant(const char *name, void (*against)(const struct nn_kernels *))
{
    const struct nn_kernels *k = nn_kernels_find(name);

    init_post();
    if (k == NULL)
        SKIP("this CPU has no %s", name);
    against(k);
}

static void test_gemm_scalar(void)
{
    init_post();
    gemm_against(NULL);
}

static void test_gemm_avx2(void)
{
    variant("avx2", gemm_against);
}

static void test_gemm_avx512(void)
{
    variant("avx512", gemm_against);
}

static void test_depthwise_scalar(void)
{
    init_post();
    dw_against(NULL);
}

static void test_depthwise_avx2(void)
{
    variant("avx2", dw_against);
}

static void test_depthwise_avx512(void)
{
    variant("avx512", dw_against);
}

static void test_choice(void)
{
    const struct nn_kernels *k = nn_kernels_get();

    REQUIRE(k != NULL);
    CHECK(nn_kernels_find(k->name) == k);
    CHECK(nn_kernels_find("scalar") == nn_kernels_scalar());
    CHECK(nn_kernels_find("sse9") == NULL);
    CHECK_INT(nn_kernels_use("sse9"), -1);
    CHECK_INT(nn_kernels_use("scalar"), 0);
    CHECK(nn_kernels_get() == nn_kernels_scalar());
    CHECK_INT(nn_kernels_use(k->name), 0);
}

int main(int argc, char **argv)
{
    static const struct check_case cases[] = {
        {"gemm_scalar", test_gemm_scalar},
        {"gemm_avx2", test_gemm_avx2},
        {"gemm_avx512", test_gemm_avx512},
        {"depthwise_scalar", test_depthwise_scalar},
        {"depthwise_avx2", test_depthwise_avx2},
        {"depthwise_avx512", test_depthwise_avx512},
        {"choice", test_choice},
    };

    return check_main("kern", cases, sizeof cases / sizeof cases[0], argc, argv);
}
