/*
 * resize: the bicubic path follows Pillow's published resampling algorithm step by step
 * (coefficient windows, normalisation, fixed-point rounding, clipping), so that doppel
 * feeds CLIP the same pixels PyTorch pipelines do; tests compare against Debian's Pillow.
 * Workloads are small (a few hundred pixels a side), so the code favours being exactly
 * right over SIMD.
 */
#include "img/resize.h"

#include "util/xalloc.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define RESIZE_PRECISION_BITS (32 - 8 - 2)

/* Keys' cubic with a = -0.5, Pillow's bicubic kernel; support 2. */
static double bicubic(double x)
{
    const double a = -0.5;

    x = fabs(x);
    if (x < 1.0)
        return ((a + 2.0) * x - (a + 3.0)) * x * x + 1;
    if (x < 2.0)
        return (((x - 5) * x + 8) * x - 4) * a;
    return 0.0;
}

/* Fixed-point weights of one output position's input window. */
struct resize_coeffs {
    int ksize;   /* weights per output position */
    int *first;  /* [out] first input index */
    int *count;  /* [out] inputs used */
    int32_t *k;  /* [out * ksize] weights, RESIZE_PRECISION_BITS fraction bits */
};

static void coeffs_compute(int in, int outn, struct resize_coeffs *rc)
{
    double scale = (double)in / outn, fs = scale < 1.0 ? 1.0 : scale, support = 2.0 * fs;
    double ss = 1.0 / fs;
    double *w;

    rc->ksize = (int)ceil(support) * 2 + 1;
    rc->first = xmalloc(sizeof(int) * (size_t)outn);
    rc->count = xmalloc(sizeof(int) * (size_t)outn);
    rc->k = xcalloc((size_t)outn * (size_t)rc->ksize, sizeof(int32_t));
    w = xmalloc(sizeof(double) * (size_t)rc->ksize);
    for (int o = 0; o < outn; o++) {
        double center = (o + 0.5) * scale, sum = 0;
        int lo = (int)(center - support + 0.5), hi = (int)(center + support + 0.5);

        lo = lo < 0 ? 0 : lo;
        hi = (hi > in ? in : hi) - lo;
        for (int i = 0; i < hi; i++) {
            w[i] = bicubic((i + lo - center + 0.5) * ss);
            sum += w[i];
        }
        for (int i = 0; i < hi; i++) {
            double v = sum != 0.0 ? w[i] / sum : w[i];

            rc->k[(size_t)o * rc->ksize + i] =
                (int32_t)(v < 0 ? v * (1 << RESIZE_PRECISION_BITS) - 0.5
                                : v * (1 << RESIZE_PRECISION_BITS) + 0.5);
        }
        rc->first[o] = lo;
        rc->count[o] = hi;
    }
    free(w);
}

static void coeffs_release(struct resize_coeffs *rc)
{
    free(rc->first);
    free(rc->count);
    free(rc->k);
}

static unsigned char clip8(int64_t v)
{
    v >>= RESIZE_PRECISION_BITS;
    return (unsigned char)(v < 0 ? 0 : v > 255 ? 255 : v);
}

/* One separable pass: along x when horizontal, else along y. */
static void resample_pass(const struct image *src, struct image *dst, int horizontal)
{
    struct resize_coeffs rc;
    int outn = horizontal ? dst->w : dst->h;

    coeffs_compute(horizontal ? src->w : src->h, outn, &rc);
    for (int y = 0; y < dst->h; y++) {
        for (int x = 0; x < dst->w; x++) {
            int o = horizontal ? x : y, first = rc.first[o];
            const int32_t *k = rc.k + (size_t)o * rc.ksize;
            int64_t acc[3] = {1 << (RESIZE_PRECISION_BITS - 1), 1 << (RESIZE_PRECISION_BITS - 1),
                              1 << (RESIZE_PRECISION_BITS - 1)};

            for (int i = 0; i < rc.count[o]; i++) {
                const unsigned char *s =
                    horizontal ? src->px + ((size_t)y * src->w + first + i) * 3
                               : src->px + ((size_t)(first + i) * src->w + x) * 3;

                acc[0] += (int64_t)s[0] * k[i];
                acc[1] += (int64_t)s[1] * k[i];
                acc[2] += (int64_t)s[2] * k[i];
            }
            for (int c = 0; c < 3; c++)
                dst->px[((size_t)y * dst->w + x) * 3 + c] = clip8(acc[c]);
        }
    }
    coeffs_release(&rc);
}

static void img_copy(const struct image *src, struct image *out)
{
    img_alloc(out, src->w, src->h);
    memcpy(out->px, src->px, (size_t)src->w * (size_t)src->h * 3);
}

void img_resize_bicubic(const struct image *src, int w, int h, struct image *out)
{
    struct image mid;

    if (w == src->w && h == src->h) {
        img_copy(src, out);
        return;
    }
    if (w == src->w) {
        img_alloc(out, w, h);
        resample_pass(src, out, 0);
        return;
    }
    img_alloc(&mid, w, src->h);
    resample_pass(src, &mid, 1);
    if (h == src->h) {
        *out = mid;
        return;
    }
    img_alloc(out, w, h);
    resample_pass(&mid, out, 0);
    img_release(&mid);
}

/* Source coordinate and weight for output index o of n over an input of size in. */
static void bilinear_axis(int o, int n, int in, int *i0, int *i1, float *t)
{
    float s = ((float)o + 0.5f) * (float)in / (float)n - 0.5f;
    int f;

    if (s < 0)
        s = 0;
    f = (int)s;
    if (f > in - 1)
        f = in - 1;
    *i0 = f;
    *i1 = f + 1 < in ? f + 1 : in - 1;
    *t = s - (float)f;
}

void img_resize_bilinear(const struct image *src, int w, int h, struct image *out)
{
    img_alloc(out, w, h);
    for (int y = 0; y < h; y++) {
        int y0, y1;
        float ty;

        bilinear_axis(y, h, src->h, &y0, &y1, &ty);
        for (int x = 0; x < w; x++) {
            int x0, x1;
            float tx;

            bilinear_axis(x, w, src->w, &x0, &x1, &tx);
            for (int c = 0; c < 3; c++) {
                float a = src->px[((size_t)y0 * src->w + x0) * 3 + c];
                float b = src->px[((size_t)y0 * src->w + x1) * 3 + c];
                float d = src->px[((size_t)y1 * src->w + x0) * 3 + c];
                float e = src->px[((size_t)y1 * src->w + x1) * 3 + c];
                float top = a + (b - a) * tx, bot = d + (e - d) * tx;

                out->px[((size_t)y * w + x) * 3 + c] =
                    (unsigned char)(top + (bot - top) * ty + 0.5f);
            }
        }
    }
}

void img_crop(const struct image *src, int x, int y, int w, int h, struct image *out)
{
    img_alloc(out, w, h);
    memset(out->px, 0, (size_t)w * (size_t)h * 3);
    for (int r = 0; r < h; r++) {
        int sy = y + r, x0 = x < 0 ? -x : 0, x1 = x + w > src->w ? src->w - x : w;

        if (sy < 0 || sy >= src->h || x0 >= x1)
            continue;
        memcpy(out->px + ((size_t)r * w + x0) * 3, src->px + ((size_t)sy * src->w + x + x0) * 3,
               (size_t)(x1 - x0) * 3);
    }
}

void img_center_crop(const struct image *src, int w, int h, struct image *out)
{
    /* Python's round(), which torchvision uses: halves go to the even neighbour. */
    int x = (int)lrint((src->w - w) / 2.0), y = (int)lrint((src->h - h) / 2.0);

    img_crop(src, x, y, w, h, out);
}

void img_fit_shorter(int w, int h, int side, int *ow, int *oh)
{
    if (w <= h) {
        *ow = side;
        *oh = (int)((long long)side * h / w);
    } else {
        *oh = side;
        *ow = (int)((long long)side * w / h);
    }
}

void img_to_float(const struct image *src, float scale, const float mean[3], const float std[3],
                  enum img_layout layout, float *out)
{
    size_t n = (size_t)src->w * (size_t)src->h;
    float inv[3] = {1.0f / std[0], 1.0f / std[1], 1.0f / std[2]};

    for (size_t i = 0; i < n; i++) {
        for (int c = 0; c < 3; c++) {
            float v = ((float)src->px[i * 3 + c] * scale - mean[c]) * inv[c];

            if (layout == IMG_LAYOUT_NHWC)
                out[i * 3 + c] = v;
            else
                out[(size_t)c * n + i] = v;
        }
    }
}
