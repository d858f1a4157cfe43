/*
 * dot: the kernels. Searching is a stream over the rows with a tiny working set (one
 * query), so the kernels are built to keep up with memory: one multiply-add instruction
 * per 32 or 64 bytes, and rows taken four at a time so the four horizontal sums share
 * one shuffle tree instead of paying one each (with 64-byte heads the reduction would
 * otherwise cost more than the products). Each SIMD kernel is compiled for its target
 * with a function attribute, so the file builds with plain -O2 and one binary runs on
 * any x86-64; other machines get the scalar kernel.
 */
#include "index/dot.h"

#include <pthread.h>
#include <string.h>

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define DOT_X86 1
#endif

static void rows_scalar(const struct dot_query *dq, const int8_t *x, size_t n, int32_t *out)
{
    for (size_t r = 0; r < n; r++, x += dq->width) {
        int32_t s = 0;

        for (size_t j = 0; j < dq->width; j++)
            s += (int32_t)x[j] * dq->q[j];
        out[r] = s;
    }
}

#ifdef DOT_X86

/* The four 32-bit lane sums of a, b, c, d (8 lanes each). */
__attribute__((target("avx2"))) static __m128i sum4_256(__m256i a, __m256i b, __m256i c, __m256i d)
{
    __m256i ab = _mm256_add_epi32(_mm256_unpacklo_epi32(a, b), _mm256_unpackhi_epi32(a, b));
    __m256i cd = _mm256_add_epi32(_mm256_unpacklo_epi32(c, d), _mm256_unpackhi_epi32(c, d));
    __m256i s = _mm256_add_epi32(_mm256_unpacklo_epi64(ab, cd), _mm256_unpackhi_epi64(ab, cd));

    return _mm_add_epi32(_mm256_castsi256_si128(s), _mm256_extracti128_si256(s, 1));
}

/* 16 pairwise products of x and q summed into 8 int32 lanes, exactly: |x| * (q signed
 * like x) keeps maddubs' unsigned operand unsigned and its pair sums within int16. */
__attribute__((target("avx2"))) static __m256i madd_avx2(const int8_t *x, const int8_t *q)
{
    __m256i v = _mm256_loadu_si256((const __m256i *)x);
    __m256i w = _mm256_loadu_si256((const __m256i *)q);
    __m256i p = _mm256_maddubs_epi16(_mm256_sign_epi8(v, v), _mm256_sign_epi8(w, v));

    return _mm256_madd_epi16(p, _mm256_set1_epi16(1));
}

__attribute__((target("avx2"))) static void rows_avx2(const struct dot_query *dq, const int8_t *x,
                                                      size_t n, int32_t *out)
{
    size_t w = dq->width, r = 0;

    for (; r + 4 <= n; r += 4, x += 4 * w) {
        __m256i a[4] = {_mm256_setzero_si256(), _mm256_setzero_si256(), _mm256_setzero_si256(),
                        _mm256_setzero_si256()};

        for (size_t j = 0; j < w; j += 32) {
            for (int i = 0; i < 4; i++)
                a[i] = _mm256_add_epi32(a[i], madd_avx2(x + i * w + j, dq->q + j));
        }
        _mm_storeu_si128((__m128i *)(out + r), sum4_256(a[0], a[1], a[2], a[3]));
    }
    for (; r < n; r++, x += w) {
        __m256i a = _mm256_setzero_si256(), z = a;
        int32_t s[4];

        for (size_t j = 0; j < w; j += 32)
            a = _mm256_add_epi32(a, madd_avx2(x + j, dq->q + j));
        _mm_storeu_si128((__m128i *)s, sum4_256(a, z, z, z));
        out[r] = s[0];
    }
}

/* The four 32-bit lane sums of a, b, c, d (16 lanes each). */
__attribute__((target("avx512f,avx512bw"))) static __m128i sum4_512(__m512i a, __m512i b, __m512i c,
                                                                    __m512i d)
{
    __m512i ab = _mm512_add_epi32(_mm512_unpacklo_epi32(a, b), _mm512_unpackhi_epi32(a, b));
    __m512i cd = _mm512_add_epi32(_mm512_unpacklo_epi32(c, d), _mm512_unpackhi_epi32(c, d));
    __m512i s = _mm512_add_epi32(_mm512_unpacklo_epi64(ab, cd), _mm512_unpackhi_epi64(ab, cd));
    __m256i h = _mm256_add_epi32(_mm512_castsi512_si256(s), _mm512_extracti64x4_epi64(s, 1));

    return _mm_add_epi32(_mm256_castsi256_si128(h), _mm256_extracti128_si256(h, 1));
}

/* As madd_avx2 over 64 bytes; AVX-512 has no sign instruction, so a mask negates q. */
__attribute__((target("avx512f,avx512bw"))) static __m512i madd_avx512(const int8_t *x,
                                                                       const int8_t *q)
{
    __m512i v = _mm512_loadu_si512(x), w = _mm512_loadu_si512(q);
    __m512i sw = _mm512_mask_sub_epi8(w, _mm512_movepi8_mask(v), _mm512_setzero_si512(), w);
    __m512i p = _mm512_maddubs_epi16(_mm512_abs_epi8(v), sw);

    return _mm512_madd_epi16(p, _mm512_set1_epi16(1));
}

__attribute__((target("avx512f,avx512bw"))) static void
rows_avx512(const struct dot_query *dq, const int8_t *x, size_t n, int32_t *out)
{
    size_t w = dq->width, r = 0;

    for (; r + 4 <= n; r += 4, x += 4 * w) {
        __m512i a[4] = {_mm512_setzero_si512(), _mm512_setzero_si512(), _mm512_setzero_si512(),
                        _mm512_setzero_si512()};

        for (size_t j = 0; j < w; j += 64) {
            for (int i = 0; i < 4; i++)
                a[i] = _mm512_add_epi32(a[i], madd_avx512(x + i * w + j, dq->q + j));
        }
        _mm_storeu_si128((__m128i *)(out + r), sum4_512(a[0], a[1], a[2], a[3]));
    }
    for (; r < n; r++, x += w) {
        __m512i a = _mm512_setzero_si512();

        for (size_t j = 0; j < w; j += 64)
            a = _mm512_add_epi32(a, madd_avx512(x + j, dq->q + j));
        out[r] = _mm512_reduce_add_epi32(a);
    }
}

/* vpdpbusd multiplies unsigned by signed bytes: x + 128 (x ^ 0x80) times q, whose extra
 * 128 x sum(q) the caller removes. Each lane adds four products below 2^15, so int32
 * cannot overflow for widths up to 2^16. */
__attribute__((target("avx512f,avx512bw,avx512vnni"))) static __m512i
dp_vnni(__m512i acc, const int8_t *x, const int8_t *q)
{
    __m512i u = _mm512_xor_si512(_mm512_loadu_si512(x), _mm512_set1_epi8((char)0x80));

    return _mm512_dpbusd_epi32(acc, u, _mm512_loadu_si512(q));
}

__attribute__((target("avx512f,avx512bw,avx512vnni"))) static void
rows_vnni(const struct dot_query *dq, const int8_t *x, size_t n, int32_t *out)
{
    size_t w = dq->width, r = 0;
    __m128i bias = _mm_set1_epi32(dq->bias);

    for (; r + 4 <= n; r += 4, x += 4 * w) {
        __m512i a[4] = {_mm512_setzero_si512(), _mm512_setzero_si512(), _mm512_setzero_si512(),
                        _mm512_setzero_si512()};

        for (size_t j = 0; j < w; j += 64) {
            for (int i = 0; i < 4; i++)
                a[i] = dp_vnni(a[i], x + i * w + j, dq->q + j);
        }
        _mm_storeu_si128((__m128i *)(out + r),
                         _mm_sub_epi32(sum4_512(a[0], a[1], a[2], a[3]), bias));
    }
    for (; r < n; r++, x += w) {
        __m512i a = _mm512_setzero_si512();

        for (size_t j = 0; j < w; j += 64)
            a = dp_vnni(a, x + j, dq->q + j);
        out[r] = _mm512_reduce_add_epi32(a) - dq->bias;
    }
}

#endif /* DOT_X86 */

static const struct dot_kernel kernels[] = {
    {"scalar", rows_scalar},
#ifdef DOT_X86
    {"avx2", rows_avx2},
    {"avx512", rows_avx512},
    {"vnni", rows_vnni},
#endif
};
#define NKERNELS (sizeof kernels / sizeof kernels[0])

static int supported(const struct dot_kernel *k)
{
#ifdef DOT_X86
    __builtin_cpu_init();
    if (strcmp(k->name, "avx2") == 0)
        return __builtin_cpu_supports("avx2");
    if (strcmp(k->name, "avx512") == 0)
        return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw");
    if (strcmp(k->name, "vnni") == 0)
        return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
               __builtin_cpu_supports("avx512vnni");
#endif
    return strcmp(k->name, "scalar") == 0;
}

static pthread_once_t pick_once = PTHREAD_ONCE_INIT;
static const struct dot_kernel *best, *current;
static const char *names[NKERNELS + 1];

/* Lists the supported kernels (best last) and makes the best current. */
static void pick(void)
{
    size_t n = 0;

    for (size_t i = 0; i < NKERNELS; i++) {
        if (supported(&kernels[i])) {
            names[n++] = kernels[i].name;
            best = &kernels[i];
        }
    }
    names[n] = NULL;
    current = best;
}

void dot_query_init(struct dot_query *dq, const int8_t *q, size_t width)
{
    int32_t s = 0;

    for (size_t j = 0; j < width; j++)
        s += q[j];
    dq->q = q;
    dq->width = width;
    dq->bias = 128 * s;
}

const struct dot_kernel *dot_kernel_get(void)
{
    pthread_once(&pick_once, pick);
    return current;
}

const struct dot_kernel *dot_kernel_find(const char *name)
{
    pthread_once(&pick_once, pick);
    if (strcmp(name, "auto") == 0)
        return best;
    for (size_t i = 0; i < NKERNELS; i++) {
        if (strcmp(kernels[i].name, name) == 0)
            return supported(&kernels[i]) ? &kernels[i] : NULL;
    }
    return NULL;
}

int dot_kernel_set(const char *name)
{
    const struct dot_kernel *k = dot_kernel_find(name);

    if (k == NULL)
        return -1;
    current = k;
    return 0;
}

const char *const *dot_kernel_names(void)
{
    pthread_once(&pick_once, pick);
    return names;
}
