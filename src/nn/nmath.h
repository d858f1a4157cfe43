/*
 * nmath: the runtime's element-wise maths, branch-free so that loops over it vectorise
 * (softmax, GELU). Internal to src/nn.
 */
#ifndef DOPPEL_NMATH_H
#define DOPPEL_NMATH_H

#include <math.h>
#include <stdint.h>
#include <string.h>

/* e^x for x in [-87, 88] (clamped outside): Cody-Waite reduction to r in [-ln2/2, ln2/2],
 * a degree-6 polynomial, the exponent put back through the bits; relative error under
 * 2e-7. */
static inline float nn_exp(float x)
{
    const float log2e = 1.44269504f, ln2_hi = 0.693359375f, ln2_lo = -2.12194440e-4f;
    float k, r, p, s;
    int32_t bits;

    x = x < -87.0f ? -87.0f : x > 88.0f ? 88.0f : x;
    k = x * log2e + 12582912.0f; /* 1.5 x 2^23: the addition rounds to an integer */
    k -= 12582912.0f;
    r = x - k * ln2_hi - k * ln2_lo;
    p = 1.9875691500e-4f;
    p = p * r + 1.3981999507e-3f;
    p = p * r + 8.3334519073e-3f;
    p = p * r + 4.1665795894e-2f;
    p = p * r + 1.6666665459e-1f;
    p = p * r + 5.0000001201e-1f;
    p = p * r * r + r + 1.0f;
    bits = ((int32_t)k + 127) << 23;
    memcpy(&s, &bits, sizeof s);
    return p * s;
}

/* CLIP's GELU, x sigmoid(1.702 x), and the exact one, x Phi(x). */
static inline float nn_gelu_quick(float x)
{
    return x / (1.0f + nn_exp(-1.702f * x));
}

static inline float nn_gelu(float x)
{
    return 0.5f * x * (1.0f + erff(x * 0.70710678f));
}

/* Sixteen partial maxima or sums, one per lane, so the loops vectorise without
 * reassociation flags; the lanes are folded at the end. */
static inline float nn_row_max(const float *v, int64_t n)
{
    float lane[16], mx = -INFINITY;
    int64_t i = 0;

    for (int j = 0; j < 16; j++)
        lane[j] = -INFINITY;
    for (; i + 16 <= n; i += 16)
        for (int j = 0; j < 16; j++)
            lane[j] = v[i + j] > lane[j] ? v[i + j] : lane[j];
    for (; i < n; i++)
        mx = v[i] > mx ? v[i] : mx;
    for (int j = 0; j < 16; j++)
        mx = lane[j] > mx ? lane[j] : mx;
    return mx;
}

static inline float nn_row_sum(const float *v, int64_t n)
{
    float lane[16] = {0}, sum = 0;
    int64_t i = 0;

    for (; i + 16 <= n; i += 16)
        for (int j = 0; j < 16; j++)
            lane[j] += v[i + j];
    for (; i < n; i++)
        sum += v[i];
    for (int j = 0; j < 16; j++)
        sum += lane[j];
    return sum;
}

#endif
