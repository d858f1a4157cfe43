/*
 * basis: subspace iteration, then Householder vectors.
 *
 * The second-moment matrix M = X^T X comes from an evenly spaced sample of at most
 * BASIS_SAMPLE rows (a 16k-row sample pins down 64 leading directions well; the full
 * 406k x 1024 product would cost ten times more for nothing). head random vectors are
 * multiplied by M and re-orthonormalised BASIS_ITERS times, which converges to the leading
 * invariant subspace at the rate of the eigenvalue gap; exact eigenvectors are not needed,
 * only their span. The Householder reflections of the QR factorisation of those head
 * vectors then define the whole rotation: their product maps the subspace onto the first
 * head coordinates and its complement onto the rest. Stored as head vectors instead of a
 * dim x dim matrix, a rotation costs 4 dim head flops instead of 2 dim^2 (8x fewer at
 * 1024 dimensions), one vector at a time for queries or as three matrix products (the
 * compact WY form) for the writer's blocks of rows. Matrix products go through nn_sgemm.
 */
#include "index/basis.h"

#include "nn/blas.h"
#include "util/xalloc.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define BASIS_SAMPLE 16384
#define BASIS_ITERS  8

static double dot(const float *a, const float *b, uint32_t n)
{
    double s = 0;

    for (uint32_t i = 0; i < n; i++)
        s += (double)a[i] * b[i];
    return s;
}

static void axpy(float *y, double a, const float *x, uint32_t n)
{
    for (uint32_t i = 0; i < n; i++)
        y[i] = (float)(y[i] + a * x[i]);
}

/* splitmix64: a deterministic stream for starting vectors. */
static double uniform(uint64_t *state)
{
    uint64_t z = (*state += 0x9E3779B97F4A7C15ull);

    z = (z ^ z >> 30) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ z >> 27) * 0x94D049BB133111EBull;
    return (double)((z ^ z >> 31) >> 11) / 9007199254740992.0 - 0.5;
}

/* Orthonormalises the h rows of v (h x dim) in order, by Gram-Schmidt done twice; a row
 * that (nearly) lies in the span of the previous ones is replaced by a random one, so
 * the result always has h orthonormal rows (h < dim). */
static void orthonormalise(float *v, uint32_t h, uint32_t dim, uint64_t *seed)
{
    for (uint32_t i = 0; i < h; i++) {
        float *a = v + (size_t)i * dim;
        double before = sqrt(dot(a, a, dim)), after;

        for (int pass = 0; pass < 2; pass++) {
            for (uint32_t j = 0; j < i; j++)
                axpy(a, -dot(a, v + (size_t)j * dim, dim), v + (size_t)j * dim, dim);
        }
        after = sqrt(dot(a, a, dim));
        if (!(after > 1e-4 * before) || !(after > 1e-20)) {
            for (uint32_t c = 0; c < dim; c++)
                a[c] = (float)uniform(seed);
            i--;
            continue;
        }
        for (uint32_t c = 0; c < dim; c++)
            a[c] = (float)(a[c] / after);
    }
}

/* The head x dim matrix of vectors spanning the sample's leading subspace. */
static float *leading(const float *vecs, size_t count, uint32_t dim, uint32_t head)
{
    size_t ns = count < BASIS_SAMPLE ? count : BASIS_SAMPLE;
    float *xs = xmalloc((ns ? ns : 1) * dim * sizeof(float));
    float *m = xcalloc((size_t)dim * dim, sizeof(float));
    float *v = xmalloc((size_t)head * dim * sizeof(float));
    float *z = xmalloc((size_t)head * dim * sizeof(float));
    uint64_t seed = 20261123;

    for (size_t i = 0; i < ns; i++)
        memcpy(xs + i * dim, vecs + i * count / ns * dim, dim * sizeof(float));
    if (ns > 0)
        nn_sgemm(1, 0, (int)dim, (int)dim, (int)ns, xs, xs, m, 0);
    for (size_t i = 0; i < (size_t)head * dim; i++)
        v[i] = (float)uniform(&seed);
    orthonormalise(v, head, dim, &seed);
    for (int it = 0; it < BASIS_ITERS; it++) {
        float *t;

        nn_sgemm(0, 0, (int)head, (int)dim, (int)dim, v, m, z, 0); /* (M v^T)^T, M symmetric */
        t = v;
        v = z;
        z = t;
        orthonormalise(v, head, dim, &seed);
    }
    free(z);
    free(m);
    free(xs);
    return v;
}

/* The unit Householder vector that maps a[j..] onto a multiple of e_j, in u (zero before
 * j); returns 0 when a[j..] is already there (no reflection needed). */
static int householder(const float *a, uint32_t j, uint32_t dim, float *u)
{
    double norm = 0, alpha, un;

    memset(u, 0, dim * sizeof(float));
    for (uint32_t i = j; i < dim; i++)
        norm += (double)a[i] * a[i];
    norm = sqrt(norm);
    alpha = a[j] > 0 ? -norm : norm;
    for (uint32_t i = j; i < dim; i++)
        u[i] = a[i];
    u[j] = (float)(u[j] - alpha);
    un = sqrt(dot(u, u, dim));
    if (!(un > 1e-12))
        return 0;
    for (uint32_t i = j; i < dim; i++)
        u[i] = (float)(u[i] / un);
    return 1;
}

void basis_compute(const float *vecs, size_t count, uint32_t dim, uint32_t head, float *hv)
{
    float *v;

    if (head == 0)
        return;
    v = leading(vecs, count, dim, head);
    /* QR of A = v^T column by column: reflector j maps A[j.., j] onto e_j and goes to the
     * later columns too. */
    for (uint32_t j = 0; j < head; j++) {
        float *u = hv + (size_t)j * dim;

        if (!householder(v + (size_t)j * dim, j, dim, u))
            continue;
        for (uint32_t k = j + 1; k < head; k++) {
            float *a = v + (size_t)k * dim;

            axpy(a, -2.0 * dot(u, a, dim), u, dim);
        }
    }
    free(v);
}

void basis_rotate(const float *hv, uint32_t head, uint32_t dim, const float *x, float *y)
{
    if (y != x)
        memcpy(y, x, dim * sizeof(float));
    for (uint32_t j = 0; j < head; j++) {
        const float *u = hv + (size_t)j * dim;
        float d = 0;

        for (uint32_t i = j; i < dim; i++)
            d += u[i] * y[i];
        for (uint32_t i = j; i < dim; i++)
            y[i] -= 2 * d * u[i];
    }
}

/* The h x h upper triangular T of the compact WY form H_0 ... H_{h-1} = I - V T V^T
 * (V's columns the vectors): T[j][j] = 2, T[0..j-1][j] = -2 T[0..j-1][0..j-1] V^T v_j. */
static float *wy_factor(const float *hv, uint32_t head, uint32_t dim)
{
    float *t = xcalloc((size_t)head * head, sizeof(float));
    double *w = xmalloc(head * sizeof(double));

    for (uint32_t j = 0; j < head; j++) {
        for (uint32_t l = 0; l < j; l++)
            w[l] = dot(hv + (size_t)l * dim, hv + (size_t)j * dim, dim);
        for (uint32_t i = 0; i < j; i++) {
            double s = 0;

            for (uint32_t l = i; l < j; l++)
                s += (double)t[(size_t)i * head + l] * w[l];
            t[(size_t)i * head + j] = (float)(-2 * s);
        }
        t[(size_t)j * head + j] = 2;
    }
    free(w);
    return t;
}

void basis_rotate_rows(const float *hv, uint32_t head, uint32_t dim, const float *x, size_t n,
                       float *y)
{
    float *t, *a, *b;

    memcpy(y, x, n * dim * sizeof(float));
    if (head == 0 || n == 0)
        return;
    t = wy_factor(hv, head, dim);
    a = xmalloc(n * head * sizeof(float));
    b = xmalloc(n * head * sizeof(float));
    /* y = x (I - V T V^T) = x - ((x V) T) V^T, as rows. */
    nn_sgemm(0, 1, (int)n, (int)head, (int)dim, x, hv, a, 0);
    nn_sgemm(0, 0, (int)n, (int)head, (int)head, a, t, b, 0);
    for (size_t i = 0; i < n * head; i++)
        b[i] = -b[i];
    nn_sgemm(0, 0, (int)n, (int)dim, (int)head, b, hv, y, 1);
    free(b);
    free(a);
    free(t);
}
