/* Tests for nn/kern: the scalar kernels against naive loops over unpacked weights, then
 * every SIMD variant this CPU runs against the scalar one, on shapes that hit the tails
 * (rows, columns and channels that are not multiples of the vector width), strides,
 * dilations and padding on every side. */
#include "check.h"

#include "nn/kern.h"
#include "util/xalloc.h"

#include <stdlib.h>
#include <string.h>

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

/* Fails case i of kind what when got differs from want by more than 1e-6 of scale
 * anywhere. */
static void check_case(const char *what, size_t i, const struct nn_kernels *k,
                       const float *want, const float *got, size_t n, double scale)
{
    double e = max_err(want, got, n, scale);

    if (e > 1e-6)
        check_fail(__FILE__, __LINE__, "%s case %zu (%s): error %.3g", what, i,
                   k ? k->name : "scalar", e);
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

        nn_packed_init(&pk, w, t->k, t->n, t->trans);
        if (k == NULL)
            naive_gemm(t, a, w, want);
        else
            run_gemm(ref, t, a, &pk, want);
        run_gemm(k != NULL ? k : ref, t, a, &pk, got);
        check_case("gemm", i, k, want, got, (size_t)(t->m * t->n), (double)t->k);
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

/* A valid convolution read in place (gemm_rows): h x w x c input, kh x kw filter,
 * strides sh x sw, n output channels. */
struct rows_case {
    int64_t h, w, c, n;
    int kh, kw, sh, sw, post;
};

static const struct rows_case rows_cases[] = {
    {9, 9, 3, 32, 7, 7, 2, 2, 1},    {10, 12, 32, 32, 3, 3, 1, 1, 0},
    {7, 7, 5, 17, 3, 3, 1, 1, 1},    {6, 11, 64, 64, 3, 3, 2, 2, 0},
    {64, 64, 3, 50, 32, 32, 32, 32, 1}, {5, 5, 16, 130, 1, 1, 1, 1, 1},
};

static void run_rows(const struct nn_kernels *k, const struct rows_case *t, const float *x,
                     const struct nn_packed *b, float *c)
{
    int64_t oh = (t->h - t->kh) / t->sh + 1, ow = (t->w - t->kw) / t->sw + 1, m = oh * ow;
    const float **row = xmalloc(sizeof *row * (size_t)m);
    struct nn_rows rows = {row, t->kh, (int64_t)t->kw * t->c, t->w * t->c};

    for (int64_t r = 0; r < m; r++)
        row[r] = x + ((r / ow * t->sh) * t->w + r % ow * t->sw) * t->c;
    k->gemm_rows(&rows, b, c, t->n, m, 0, t->n, t->post ? &test_post : NULL);
    free(row);
}

static void naive_conv(const struct rows_case *t, const float *x, const float *w, float *c)
{
    int64_t oh = (t->h - t->kh) / t->sh + 1, ow = (t->w - t->kw) / t->sw + 1;

    for (int64_t r = 0; r < oh * ow; r++)
        for (int64_t j = 0; j < t->n; j++) {
            double s = 0;

            for (int ky = 0; ky < t->kh; ky++)
                for (int kx = 0; kx < t->kw; kx++)
                    for (int64_t ch = 0; ch < t->c; ch++)
                        s += (double)x[((r / ow * t->sh + ky) * t->w + r % ow * t->sw + kx) *
                                           t->c + ch] *
                             w[(((int64_t)ky * t->kw + kx) * t->c + ch) * t->n + j];
            c[r * t->n + j] = apply_post(t->post, j, s);
        }
}

static void rows_against(const struct nn_kernels *k)
{
    const struct nn_kernels *ref = nn_kernels_scalar();

    for (size_t i = 0; i < sizeof rows_cases / sizeof rows_cases[0]; i++) {
        const struct rows_case *t = &rows_cases[i];
        int64_t kc = (int64_t)t->kh * t->kw * t->c;
        int64_t m = ((t->h - t->kh) / t->sh + 1) * ((t->w - t->kw) / t->sw + 1);
        float *x = random_floats((size_t)(t->h * t->w * t->c), 7 + (unsigned)i);
        float *w = random_floats((size_t)(kc * t->n), 70 + (unsigned)i);
        float *want = xmalloc(sizeof(float) * (size_t)(m * t->n));
        float *got = xmalloc(sizeof(float) * (size_t)(m * t->n));
        struct nn_packed pk;

        nn_packed_init(&pk, w, kc, t->n, 0);
        if (k == NULL)
            naive_conv(t, x, w, want);
        else
            run_rows(ref, t, x, &pk, want);
        run_rows(k != NULL ? k : ref, t, x, &pk, got);
        check_case("rows", i, k, want, got, (size_t)(m * t->n), (double)kc);
        nn_packed_free(&pk);
        free(got);
        free(want);
        free(w);
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

static void test_rows_scalar(void)
{
    init_post();
    rows_against(NULL);
}

static void test_rows_avx2(void)
{
    variant("avx2", rows_against);
}

static void test_rows_avx512(void)
{
    variant("avx512", rows_against);
}

/* Packing from a strided operand (attention's keys and values) gives the panels the
 * packing of the same matrix stored compactly gives. */
static void test_packed_fill(void)
{
    const int64_t k = 37, n = 21, ld = 50;
    float *wide = random_floats((size_t)(ld * ld), 3), *tight = xmalloc(sizeof(float) * k * n);
    float *p = xaligned_alloc(64, sizeof(float) * 2 * k * 16);

    for (int trans = 0; trans <= 1; trans++) {
        struct nn_packed want;
        int64_t rows = trans ? n : k, cols = trans ? k : n;

        for (int64_t r = 0; r < rows; r++)
            for (int64_t c = 0; c < cols; c++)
                tight[r * cols + c] = wide[r * ld + c];
        nn_packed_init(&want, tight, k, n, trans);
        nn_packed_fill(p, wide, ld, k, n, trans);
        CHECK(memcmp(p, want.p, sizeof(float) * 2 * k * 16) == 0);
        nn_packed_free(&want);
    }
    free(p);
    free(tight);
    free(wide);
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
        {"rows_scalar", test_rows_scalar},
        {"rows_avx2", test_rows_avx2},
        {"rows_avx512", test_rows_avx512},
        {"packed_fill", test_packed_fill},
        {"depthwise_scalar", test_depthwise_scalar},
        {"depthwise_avx2", test_depthwise_avx2},
        {"depthwise_avx512", test_depthwise_avx512},
        {"choice", test_choice},
    };

    return check_main("kern", cases, sizeof cases / sizeof cases[0], argc, argv);
}
