/*
 * identity: alignment is one similarity transform from four keypoints; when the chip
 * samples the photo more sparsely than 1.5 pixels per chip pixel, the chip's footprint
 * is cut out and shrunk first with Pillow-exact antialiased bicubic, so the bilinear
 * warp never skips pixels (aliasing changes the descriptor of a large face). Chips (and
 * their mirror images, with IDENTITY_FLIP) run through the network as one batch of
 * separate samples (nn_model_run_batch).
 */
#include "face/identity.h"

#include "img/resize.h"
#include "img/warp.h"
#include "nn/dlib.h"
#include "util/xalloc.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SHRINK_ABOVE 1.5f /* photo pixels per chip pixel */

/* Measured, not copied: a symmetric template (eye distance, eye, nose and mouth heights)
 * searched on the shared faces for verification ROC AUC, starting from the proportions of
 * a face in a 0.25-padded chip. Between the first guess (eyes 54 apart at y 57, mouth at
 * 108) and this one AUC went from 0.970 to 0.989 (glint) and 0.968 to 0.992 (pins);
 * moving any point by 2 pixels changes it by under 0.002. */
const struct identity_template identity_template_dlib = {
    {{46.0f, 46.0f}, {104.0f, 46.0f}, {75.0f, 78.0f}, {75.0f, 100.0f}},
};

struct identity {
    struct nn_model *net;
};

int identity_load(const char *models_dir, struct identity **out, struct err *e)
{
    char path[4096];
    struct identity *m = xcalloc(1, sizeof *m);
    int rc;

    snprintf(path, sizeof path, "%s/face-api/face_recognition_model-weights_manifest.json",
             models_dir);
    rc = nn_dlib_load(path, &m->net, e);
    if (rc != 0) {
        free(m);
        *out = NULL;
        return rc;
    }
    *out = m;
    return 0;
}

void identity_free(struct identity *m)
{
    if (m == NULL)
        return;
    nn_model_free(m->net);
    free(m);
}

/* The chip-to-photo transform placing f's keypoints on t; 0, or -1 when degenerate. */
static int chip_to_photo(const struct face_box *f, const struct identity_template *t, float inv[6])
{
    static const int kps[4] = {FACE_KP_RIGHT_EYE, FACE_KP_LEFT_EYE, FACE_KP_NOSE, FACE_KP_MOUTH};
    float src[8], m[6];

    for (int i = 0; i < 4; i++) {
        src[2 * i] = f->kp[kps[i]][0];
        src[2 * i + 1] = f->kp[kps[i]][1];
    }
    if (warp_similarity(src, &t->pt[0][0], 4, m) != 0)
        return -1;
    return warp_invert(m, inv);
}

/* The photo rectangle the chip samples (clamped to the photo), as x0, y0, x1, y1. */
static void footprint(const struct image *im, const float inv[6], int box[4])
{
    float xs[4], ys[4], lo_x = INFINITY, lo_y = INFINITY, hi_x = -INFINITY, hi_y = -INFINITY;

    for (int i = 0; i < 4; i++) {
        warp_apply(inv, i & 1 ? IDENTITY_SIDE : -1, i & 2 ? IDENTITY_SIDE : -1, &xs[i], &ys[i]);
        lo_x = fminf(lo_x, xs[i]), hi_x = fmaxf(hi_x, xs[i]);
        lo_y = fminf(lo_y, ys[i]), hi_y = fmaxf(hi_y, ys[i]);
    }
    box[0] = (int)fmaxf(0, floorf(lo_x) - 2);
    box[1] = (int)fmaxf(0, floorf(lo_y) - 2);
    box[2] = (int)fminf((float)im->w, ceilf(hi_x) + 3);
    box[3] = (int)fminf((float)im->h, ceilf(hi_y) + 3);
}

/* Shrinks the chip's footprint of im by the chip's sampling step s into *small, and
 * rewrites inv to map chip pixels into *small. Returns 0, or -1 when the footprint
 * misses the photo (nothing to shrink). */
static int shrink(const struct image *im, float inv[6], float s, struct image *small)
{
    struct image crop;
    int box[4], w, h;
    float kx, ky;

    footprint(im, inv, box);
    if (box[2] - box[0] < 2 || box[3] - box[1] < 2)
        return -1;
    w = (int)lroundf((float)(box[2] - box[0]) / s);
    h = (int)lroundf((float)(box[3] - box[1]) / s);
    w = w < 1 ? 1 : w, h = h < 1 ? 1 : h;
    img_crop(im, box[0], box[1], box[2] - box[0], box[3] - box[1], &crop);
    img_resize_bicubic(&crop, w, h, small);
    img_release(&crop);
    /* photo x -> small: (x - x0 + 0.5) * k - 0.5, pixel centres as the resizer places them */
    kx = (float)w / (float)(box[2] - box[0]);
    ky = (float)h / (float)(box[3] - box[1]);
    for (int c = 0; c < 3; c++) {
        inv[c] *= kx;
        inv[3 + c] *= ky;
    }
    inv[2] += ((0.5f - (float)box[0]) * kx - 0.5f);
    inv[5] += ((0.5f - (float)box[1]) * ky - 0.5f);
    return 0;
}

void identity_align(const struct image *im, const struct face_box *f,
                    const struct identity_template *t, struct image *out)
{
    static const unsigned char black[3] = {0, 0, 0};
    struct image small = {0};
    float inv[6], s;

    if (chip_to_photo(f, t ? t : &identity_template_dlib, inv) != 0) {
        img_alloc(out, IDENTITY_SIDE, IDENTITY_SIDE);
        memset(out->px, 0, (size_t)IDENTITY_SIDE * IDENTITY_SIDE * 3);
        return;
    }
    s = sqrtf(fabsf(inv[0] * inv[4] - inv[1] * inv[3]));
    if (s > SHRINK_ABOVE && shrink(im, inv, s, &small) == 0) {
        warp_affine(&small, inv, IDENTITY_SIDE, IDENTITY_SIDE, black, out);
        img_release(&small);
        return;
    }
    warp_affine(im, inv, IDENTITY_SIDE, IDENTITY_SIDE, black, out);
}

/* One chip as face-api normalises it: (pixel - mean RGB) / 255, NHWC. */
static void chip_input(const struct image *chip, float *x)
{
    size_t n = (size_t)IDENTITY_SIDE * IDENTITY_SIDE;

    for (size_t i = 0; i < n; i++)
        for (int c = 0; c < 3; c++)
            x[i * 3 + c] = ((float)chip->px[i * 3 + c] - nn_dlib_mean[c]) / 255.0f;
}

int identity_embed_chips(const struct identity *m, struct nn_ctx *ctx, const struct image *chips,
                         int n, float *out, struct err *e)
{
    static const char *const outs[] = {NN_DLIB_OUTPUT};
    int64_t shape[4] = {n, IDENTITY_SIDE, IDENTITY_SIDE, 3};
    size_t each = (size_t)IDENTITY_SIDE * IDENTITY_SIDE * 3;
    struct nn_tensor in, res;
    int rc;

    if (n <= 0)
        return 0;
    for (int i = 0; i < n; i++)
        if (chips[i].w != IDENTITY_SIDE || chips[i].h != IDENTITY_SIDE) {
            err_set(e, "a face chip is %d x %d, not %d x %d", chips[i].w, chips[i].h, IDENTITY_SIDE,
                    IDENTITY_SIDE);
            return NN_ERR_RUN;
        }
    nn_tensor_alloc(&in, NN_F32, 4, shape);
    for (int i = 0; i < n; i++)
        chip_input(&chips[i], (float *)in.data + (size_t)i * each);
    rc = nn_model_run_batch(m->net, ctx, &in, outs, 1, &res, e);
    nn_tensor_release(&in);
    if (rc != 0)
        return rc;
    memcpy(out, res.data, sizeof(float) * IDENTITY_DIM * (size_t)n);
    nn_tensor_release(&res);
    return 0;
}

/* Writes src mirrored left to right into out (allocated here). */
static void mirror(const struct image *src, struct image *out)
{
    img_alloc(out, src->w, src->h);
    for (int y = 0; y < src->h; y++)
        for (int x = 0; x < src->w; x++)
            memcpy(out->px + ((size_t)y * src->w + x) * 3,
                   src->px + ((size_t)y * src->w + (src->w - 1 - x)) * 3, 3);
}

/* Replaces each of the n descriptor pairs (face, mirror) in d by their mean, in place
 * (descriptor i ends at i * IDENTITY_DIM). */
static void average_pairs(float *d, int n)
{
    for (int i = 0; i < n; i++)
        for (int k = 0; k < IDENTITY_DIM; k++)
            d[i * IDENTITY_DIM + k] =
                (d[2 * i * IDENTITY_DIM + k] + d[(2 * i + 1) * IDENTITY_DIM + k]) / 2;
}

/* The chips to cut for a batch, one task per face (its chip and, with the flip, the
 * mirror image after it). */
struct chip_batch {
    const struct image *im;
    const struct face_box *faces;
    struct image *chips;
    int per;
};

static void chip_task(void *arg, int64_t i, int thread)
{
    const struct chip_batch *b = arg;

    (void)thread;
    identity_align(b->im, &b->faces[i], NULL, &b->chips[i * b->per]);
    if (b->per == 2)
        mirror(&b->chips[2 * i], &b->chips[2 * i + 1]);
}

int identity_embed(const struct identity *m, struct nn_ctx *ctx, const struct image *im,
                   const struct face_box *faces, int n, unsigned flags, float *out, struct err *e)
{
    int per = flags & IDENTITY_FLIP ? 2 : 1, rc;
    struct chip_batch b = {im, faces, NULL, per};
    struct image *chips;
    float *d;

    if (n <= 0)
        return 0;
    chips = xcalloc((size_t)(n * per), sizeof *chips);
    d = per == 1 ? out : xmalloc(sizeof(float) * IDENTITY_DIM * (size_t)(2 * n));
    b.chips = chips;
    nn_ctx_parallel(ctx, n, chip_task, &b);
    rc = identity_embed_chips(m, ctx, chips, n * per, d, e);
    if (rc == 0 && per == 2) {
        average_pairs(d, n);
        memcpy(out, d, sizeof(float) * IDENTITY_DIM * (size_t)n);
    }
    for (int i = 0; i < n * per; i++)
        img_release(&chips[i]);
    if (d != out)
        free(d);
    free(chips);
    return rc;
}

float identity_distance(const float *a, const float *b)
{
    double s = 0;

    for (int i = 0; i < IDENTITY_DIM; i++)
        s += ((double)a[i] - b[i]) * ((double)a[i] - b[i]);
    return (float)sqrt(s);
}
