/*
 * wino: 3 x 3, stride-1 convolutions by Winograd's F(2x2, 3x3).
 *
 * Each 2 x 2 block of output pixels (a tile) is computed from the 4 x 4 input patch
 * under it: the patch is transformed (V = B^T d B), multiplied element by element with
 * the transformed filter (U = G g G^T, made once at load), and transformed back
 * (Y = A^T M A). Summed over input channels, the element-wise products are 16 matrix
 * products, one per position of the 4 x 4 transform, of (tiles x C) by (C x K): per
 * input and output channel, 16 multiply-adds make 4 output pixels, where the direct
 * convolution needs 36, 2.25 times fewer. The products run on the packed kernels; the
 * transforms are adds over channels, which vectorise. Worth it where the image is large
 * and the channels few (the early layers of a ResNet); late layers with many channels and
 * few pixels are bound by reading their weights, which this form makes 16/9 larger.
 *
 * Numbers: F(2x2, 3x3) only adds, subtracts and halves, so its results differ from the
 * direct sum by rounding alone: within 1e-4 of a double-precision convolution in
 * tests/test_nn.c, and dlib's descriptors move by under 4e-7.
 */
#include "nn/wino.h"

#include "util/xalloc.h"

#include <stdlib.h>
#include <string.h>

struct nn_packed *nn_wino_pack(const float *w, int64_t c, int64_t k)
{
    struct nn_packed *u = xcalloc(16, sizeof *u);
    float *t = xmalloc(sizeof(float) * 16 * (size_t)(c * k));

    for (int64_t ci = 0; ci < c; ci++) {
        for (int64_t ki = 0; ki < k; ki++) {
            float g[3][3], gg[4][3];

            for (int y = 0; y < 3; y++)
                for (int x = 0; x < 3; x++)
                    g[y][x] = w[((y * 3 + x) * c + ci) * k + ki];
            for (int x = 0; x < 3; x++) { /* G g */
                gg[0][x] = g[0][x];
                gg[1][x] = 0.5f * (g[0][x] + g[1][x] + g[2][x]);
                gg[2][x] = 0.5f * (g[0][x] - g[1][x] + g[2][x]);
                gg[3][x] = g[2][x];
            }
            for (int y = 0; y < 4; y++) { /* (G g) G^T */
                float *row = t + (int64_t)y * 4 * c * k + ci * k + ki;

                row[0] = gg[y][0];
                row[c * k] = 0.5f * (gg[y][0] + gg[y][1] + gg[y][2]);
                row[2 * c * k] = 0.5f * (gg[y][0] - gg[y][1] + gg[y][2]);
                row[3 * c * k] = gg[y][2];
            }
        }
    }
    for (int xi = 0; xi < 16; xi++)
        nn_packed_init(&u[xi], t + xi * c * k, c, k, 0);
    free(t);
    return u;
}

void nn_wino_free(struct nn_packed *u)
{
    if (u == NULL)
        return;
    for (int xi = 0; xi < 16; xi++)
        nn_packed_free(&u[xi]);
    free(u);
}

/* Eight floats as one GCC vector: the transforms' loops over channels, written so every
 * clone of NN_SIMD gets vector code whatever its width (the auto-vectoriser gives up on
 * their sixteen streams). */
typedef float vf8 __attribute__((vector_size(32)));
typedef float vf8u __attribute__((vector_size(32), aligned(4), may_alias)); /* unaligned */

#define LD8(p)    (*(const vf8u *)(p))
#define ST8(p, v) (*(vf8u *)(p) = (v))

/* B^T d B for one patch, channels [i, i + 8): row r of the patch is the 4 pixels at
 * r0..r3 (4 c floats each), and the 16 transformed values go to o[x c] for x = 0..15. */
static inline void input_patch8(const float *r0, const float *r1, const float *r2,
                                const float *r3, float *o, int64_t c)
{
    vf8 a[4], b[4], e[4], f[4];

    for (int q = 0; q < 4; q++) { /* rows of B^T d: r0 - r2, r1 + r2, r2 - r1, r1 - r3 */
        vf8 x0 = LD8(r0 + q * c), x1 = LD8(r1 + q * c), x2 = LD8(r2 + q * c);
        vf8 x3 = LD8(r3 + q * c);

        a[q] = x0 - x2, b[q] = x1 + x2, e[q] = x2 - x1, f[q] = x1 - x3;
    }
    /* then the same across each row */
    ST8(o, a[0] - a[2]), ST8(o + c, a[1] + a[2]), ST8(o + 2 * c, a[2] - a[1]);
    ST8(o + 3 * c, a[1] - a[3]);
    ST8(o + 4 * c, b[0] - b[2]), ST8(o + 5 * c, b[1] + b[2]), ST8(o + 6 * c, b[2] - b[1]);
    ST8(o + 7 * c, b[1] - b[3]);
    ST8(o + 8 * c, e[0] - e[2]), ST8(o + 9 * c, e[1] + e[2]), ST8(o + 10 * c, e[2] - e[1]);
    ST8(o + 11 * c, e[1] - e[3]);
    ST8(o + 12 * c, f[0] - f[2]), ST8(o + 13 * c, f[1] + f[2]), ST8(o + 14 * c, f[2] - f[1]);
    ST8(o + 15 * c, f[1] - f[3]);
}

/* The same for one channel (the last c % 8). */
static inline void input_patch1(const float *r0, const float *r1, const float *r2,
                                const float *r3, float *o, int64_t c)
{
    float a[4], b[4], e[4], f[4];

    for (int q = 0; q < 4; q++) {
        a[q] = r0[q * c] - r2[q * c], b[q] = r1[q * c] + r2[q * c];
        e[q] = r2[q * c] - r1[q * c], f[q] = r1[q * c] - r3[q * c];
    }
    o[0] = a[0] - a[2], o[c] = a[1] + a[2], o[2 * c] = a[2] - a[1], o[3 * c] = a[1] - a[3];
    o[4 * c] = b[0] - b[2], o[5 * c] = b[1] + b[2], o[6 * c] = b[2] - b[1];
    o[7 * c] = b[1] - b[3];
    o[8 * c] = e[0] - e[2], o[9 * c] = e[1] + e[2], o[10 * c] = e[2] - e[1];
    o[11 * c] = e[1] - e[3];
    o[12 * c] = f[0] - f[2], o[13 * c] = f[1] + f[2], o[14 * c] = f[2] - f[1];
    o[15 * c] = f[1] - f[3];
}

static inline void input_patch(const float *r0, const float *r1, const float *r2,
                               const float *r3, float *o, int64_t c)
{
    int64_t i = 0;

    for (; i + 8 <= c; i += 8)
        input_patch8(r0 + i, r1 + i, r2 + i, r3 + i, o + i, c);
    for (; i < c; i++)
        input_patch1(r0 + i, r1 + i, r2 + i, r3 + i, o + i, c);
}

/* V for tiles [t0, t1) into v, tile by tile ([t1 - t0][16][c]): each patch's 4 rows of
 * 4 pixels, read in place, or copied with zeros where the patch reaches outside the
 * image (into edge: 16 c floats). */
NN_SIMD
static void input_tiles(const struct nn_wino *j, int64_t t0, int64_t t1, float *v, float *edge)
{
    const int64_t c = j->c, per = j->th * j->tw;

    for (int64_t p = t0; p < t1; p++) {
        int64_t img = p / per, iy0 = 2 * (p % per / j->tw) - j->pt, ix0 = 2 * (p % j->tw) - j->pl;
        const float *r[4];

        for (int i = 0; i < 4; i++) {
            int64_t iy = iy0 + i;
            const float *row = j->x + ((img * j->h + iy) * j->w + ix0) * c;

            if (iy >= 0 && iy < j->h && ix0 >= 0 && ix0 + 4 <= j->w) {
                r[i] = row;
                continue;
            }
            r[i] = edge + i * 4 * c;
            for (int q = 0; q < 4; q++) {
                int inside = iy >= 0 && iy < j->h && ix0 + q >= 0 && ix0 + q < j->w;

                if (inside)
                    memcpy(edge + (i * 4 + q) * c, row + q * c, sizeof(float) * (size_t)c);
                else
                    memset(edge + (i * 4 + q) * c, 0, sizeof(float) * (size_t)c);
            }
        }
        input_patch(r[0], r[1], r[2], r[3], v + (p - t0) * 16 * c, c);
    }
}

/* A^T M A for one tile, channels [i, i + 8): its 16 products at m[x k] (x = 0..15),
 * its 2 x 2 outputs to y0, y1 (top row) and y2, y3. */
static inline void output_patch8(const float *m, float *y0, float *y1, float *y2, float *y3,
                                 int64_t k)
{
    vf8 s[4], t[4];

    for (int q = 0; q < 4; q++) { /* A^T M: rows r0 + r1 + r2 and r1 - r2 - r3 */
        vf8 m0 = LD8(m + q * k), m1 = LD8(m + (4 + q) * k), m2 = LD8(m + (8 + q) * k);
        vf8 m3 = LD8(m + (12 + q) * k);

        s[q] = m0 + m1 + m2, t[q] = m1 - m2 - m3;
    }
    ST8(y0, s[0] + s[1] + s[2]), ST8(y1, s[1] - s[2] - s[3]);
    ST8(y2, t[0] + t[1] + t[2]), ST8(y3, t[1] - t[2] - t[3]);
}

static inline void output_patch(const float *m, float *y0, float *y1, float *y2, float *y3,
                                int64_t k)
{
    int64_t i = 0;

    for (; i + 8 <= k; i += 8)
        output_patch8(m + i, y0 + i, y1 + i, y2 + i, y3 + i, k);
    for (; i < k; i++) {
        float s[4], t[4];

        for (int q = 0; q < 4; q++) {
            s[q] = m[q * k + i] + m[(4 + q) * k + i] + m[(8 + q) * k + i];
            t[q] = m[(4 + q) * k + i] - m[(8 + q) * k + i] - m[(12 + q) * k + i];
        }
        y0[i] = s[0] + s[1] + s[2], y1[i] = s[1] - s[2] - s[3];
        y2[i] = t[0] + t[1] + t[2], y3[i] = t[1] - t[2] - t[3];
    }
}

/* Y for tiles [t0, t1) from their products mm ([t1 - t0][16][k]), into the output pixels
 * inside the image (the others into spare: 3 k floats). */
NN_SIMD
static void output_tiles(const struct nn_wino *j, int64_t t0, int64_t t1, const float *mm,
                         float *spare)
{
    const int64_t k = j->k, per = j->th * j->tw;

    for (int64_t p = t0; p < t1; p++) {
        int64_t img = p / per, oy = 2 * (p % per / j->tw), ox = 2 * (p % j->tw);
        float *base = j->y + ((img * j->oh + oy) * j->ow + ox) * k;
        int right = ox + 1 < j->ow, down = oy + 1 < j->oh;

        output_patch(mm + (p - t0) * 16 * k, base, right ? base + k : spare,
                     down ? base + j->ow * k : spare + k,
                     right && down ? base + (j->ow + 1) * k : spare + 2 * k, k);
    }
}

/* Task t: tiles [t mb, (t + 1) mb), start to end in the thread's scratch, so the
 * transformed input and the products stay in cache: transform, 16 products, back. */
static void block_task(void *arg, int64_t t, int thread)
{
    const struct nn_wino *j = arg;
    int64_t t0 = t * j->mb, t1 = t0 + j->mb < j->tiles ? t0 + j->mb : j->tiles, nb = t1 - t0;
    float *v = nn_ctx_scratch(j->ctx, thread,
                              (size_t)(16 * j->mb * (j->c + j->k) + 16 * j->c + 3 * j->k));
    float *m = v + 16 * nb * j->c, *edge = m + 16 * nb * j->k, *spare = edge + 16 * j->c;

    input_tiles(j, t0, t1, v, edge);
    for (int xi = 0; xi < 16; xi++) /* rows of position xi are 16 c (or 16 k) floats apart */
        j->kern->gemm(v + xi * j->c, 16 * j->c, &j->u[xi], m + xi * j->k, 16 * j->k, nb, 0,
                      j->k, NULL);
    output_tiles(j, t0, t1, m, spare);
}

void nn_wino_run(struct nn_wino *j, struct nn_ctx *ctx)
{
    j->ctx = ctx;
    /* blocks of about 384 KiB of transformed input and products, whole kernel tiles */
    j->mb = (96 * 1024) / (16 * (j->c + j->k));
    j->mb = j->mb < 12 ? 12 : j->mb / 12 * 12;
    nn_pool_run(ctx->pool, (j->tiles + j->mb - 1) / j->mb, block_task, j);
}
