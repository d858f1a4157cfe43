/*
 * warp: closed-form 2-D similarity fit (centre both point sets, then the scaled rotation
 * is two dot products) and an inverse-mapped bilinear warp. Outside pixels blend with the
 * fill colour, so the border of a face near the frame edge fades instead of smearing.
 */
#include "img/warp.h"

#include <math.h>

int warp_similarity(const float *src, const float *dst, int n, float m[6])
{
    double sx = 0, sy = 0, dx = 0, dy = 0, num_a = 0, num_b = 0, den = 0;

    if (n < 1)
        return -1;
    for (int i = 0; i < n; i++) {
        sx += src[2 * i];
        sy += src[2 * i + 1];
        dx += dst[2 * i];
        dy += dst[2 * i + 1];
    }
    sx /= n, sy /= n, dx /= n, dy /= n;
    for (int i = 0; i < n; i++) {
        double ax = src[2 * i] - sx, ay = src[2 * i + 1] - sy;
        double bx = dst[2 * i] - dx, by = dst[2 * i + 1] - dy;

        num_a += ax * bx + ay * by;
        num_b += ax * by - ay * bx;
        den += ax * ax + ay * ay;
    }
    if (den < 1e-12)
        return -1;
    m[0] = (float)(num_a / den);
    m[1] = (float)(-num_b / den);
    m[3] = (float)(num_b / den);
    m[4] = (float)(num_a / den);
    m[2] = (float)(dx - (num_a * sx - num_b * sy) / den);
    m[5] = (float)(dy - (num_b * sx + num_a * sy) / den);
    return 0;
}

int warp_invert(const float m[6], float inv[6])
{
    double det = (double)m[0] * m[4] - (double)m[1] * m[3];

    if (fabs(det) < 1e-12)
        return -1;
    inv[0] = (float)(m[4] / det);
    inv[1] = (float)(-m[1] / det);
    inv[3] = (float)(-m[3] / det);
    inv[4] = (float)(m[0] / det);
    inv[2] = (float)(-(inv[0] * (double)m[2] + inv[1] * (double)m[5]));
    inv[5] = (float)(-(inv[3] * (double)m[2] + inv[4] * (double)m[5]));
    return 0;
}

void warp_apply(const float m[6], float x, float y, float *ox, float *oy)
{
    *ox = m[0] * x + m[1] * y + m[2];
    *oy = m[3] * x + m[4] * y + m[5];
}

/* Returns channel c of src at (x, y), or the fill colour outside. */
static float px_at(const struct image *src, int x, int y, int c, const unsigned char fill[3])
{
    if (x < 0 || y < 0 || x >= src->w || y >= src->h)
        return fill[c];
    return src->px[((size_t)y * src->w + x) * 3 + c];
}

void warp_affine(const struct image *src, const float inv[6], int w, int h,
                 const unsigned char fill[3], struct image *out)
{
    img_alloc(out, w, h);
    for (int y = 0; y < h; y++) {
        for (int x = 0; x < w; x++) {
            float sx, sy, tx, ty;
            int x0, y0;
            unsigned char *o = out->px + ((size_t)y * w + x) * 3;

            warp_apply(inv, (float)x, (float)y, &sx, &sy);
            if (!(sx > -2 && sy > -2 && sx < src->w + 1 && sy < src->h + 1)) {
                o[0] = fill[0], o[1] = fill[1], o[2] = fill[2];
                continue;
            }
            x0 = (int)floorf(sx);
            y0 = (int)floorf(sy);
            tx = sx - (float)x0;
            ty = sy - (float)y0;
            for (int c = 0; c < 3; c++) {
                float top = px_at(src, x0, y0, c, fill) * (1 - tx) +
                            px_at(src, x0 + 1, y0, c, fill) * tx;
                float bot = px_at(src, x0, y0 + 1, c, fill) * (1 - tx) +
                            px_at(src, x0 + 1, y0 + 1, c, fill) * tx;

                o[c] = (unsigned char)(top * (1 - ty) + bot * ty + 0.5f);
            }
        }
    }
}
