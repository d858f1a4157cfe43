/*
 * detect: BlazeFace's two heads predict, for 896 anchors (16 x 16 cells x 2 and 8 x 8
 * cells x 6, centred at stride * (cell + 0.5) in the 256 input), a score logit, a box
 * (centre offset and size) and six keypoints, all in input pixels. Each look ("view")
 * maps a square region of the photo onto the input by resizing the part inside the photo
 * and padding the rest with black, and remembers the affine map back.
 *
 * A look shrinks a region of a large photo a lot (the whole of a 1920-pixel photo to
 * 256), and an antialiased resize costs in proportion to the pixels it reads: read from
 * the full photo, the resizes cost more than the network. So the photo is first halved
 * (2 x 2 averages) once or twice, and each look reads the smallest copy that still has
 * at least as many pixels as the look needs, leaving a shrink of at most 2 to the resize.
 * The looks' inputs are built on the context's threads, as the looks are run.
 */
#include "face/detect.h"

#include "img/resize.h"
#include "nn/model.h"
#include "util/xalloc.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DET_SIZE    256
#define DET_ANCHORS 896
#define DET_MAX_CAND 4096
#define DET_EXTRA_SCORE 0.7f
#define DET_LEVELS  4 /* the photo, halved, quartered, and an eighth */

struct face_detector {
    struct nn_model *model;
};

/* A square region of the photo shown to the network: input u maps to photo ax * u + bx. */
struct view {
    float ax, bx, ay, by;
};

/* The photo (level 0, borrowed) and copies halved k times (level k, owned). */
struct pyramid {
    struct image lv[DET_LEVELS];
    int n;
};

int face_detector_load(const char *models_dir, struct face_detector **out, struct err *e)
{
    char path[4096];
    struct face_detector *d = xcalloc(1, sizeof *d);
    int rc;

    snprintf(path, sizeof path, "%s/human-models/blazeface.json", models_dir);
    rc = nn_model_load(path, &d->model, e);
    if (rc != NN_OK) {
        free(d);
        *out = NULL;
        return rc;
    }
    *out = d;
    return NN_OK;
}

void face_detector_free(struct face_detector *d)
{
    if (d == NULL)
        return;
    nn_model_free(d->model);
    free(d);
}

int face_largest(const struct face_box *faces, int n)
{
    int best = n > 0 ? 0 : -1;

    for (int i = 1; i < n; i++) {
        if ((faces[i].x2 - faces[i].x1) * (faces[i].y2 - faces[i].y1) >
            (faces[best].x2 - faces[best].x1) * (faces[best].y2 - faces[best].y1))
            best = i;
    }
    return best;
}

float face_iou(const struct face_box *a, const struct face_box *b)
{
    float ix = fminf(a->x2, b->x2) - fmaxf(a->x1, b->x1);
    float iy = fminf(a->y2, b->y2) - fmaxf(a->y1, b->y1);
    float inter = ix > 0 && iy > 0 ? ix * iy : 0;
    float uni = (a->x2 - a->x1) * (a->y2 - a->y1) + (b->x2 - b->x1) * (b->y2 - b->y1) - inter;

    return uni > 0 ? inter / uni : 0;
}

/* A halving to do, one task per band of HALVE_ROWS output rows. */
#define HALVE_ROWS 64
struct halving {
    const struct image *im;
    struct image *out;
};

static void halve_rows(void *arg, int64_t band, int thread)
{
    const struct halving *h = arg;
    size_t stride = (size_t)h->im->w * 3;
    int y1 = (int)band * HALVE_ROWS + HALVE_ROWS;

    (void)thread;
    y1 = y1 < h->out->h ? y1 : h->out->h;
    for (int y = (int)band * HALVE_ROWS; y < y1; y++) {
        const unsigned char *a = h->im->px + (size_t)(2 * y) * stride, *b = a + stride;
        unsigned char *o = h->out->px + (size_t)y * (size_t)h->out->w * 3;

        for (int x = 0; x < h->out->w; x++, a += 6, b += 6, o += 3)
            for (int c = 0; c < 3; c++)
                o[c] = (unsigned char)((a[c] + a[c + 3] + b[c] + b[c + 3] + 2) / 4);
    }
}

/* Writes im halved (each pixel the mean of a 2 x 2 block; an odd last row or column is
 * dropped) into out (allocated), on ctx's threads. */
static void halve(struct nn_ctx *ctx, const struct image *im, struct image *out)
{
    struct halving h = {im, out};

    img_alloc(out, im->w / 2, im->h / 2);
    nn_ctx_parallel(ctx, (out->h + HALVE_ROWS - 1) / HALVE_ROWS, halve_rows, &h);
}

/* Builds the levels the largest look (a region of side largest) reads. */
static void pyramid_build(struct pyramid *p, struct nn_ctx *ctx, const struct image *im,
                          float largest)
{
    p->lv[0] = *im;
    p->n = 1;
    while (p->n < DET_LEVELS && largest / (float)(1 << p->n) >= DET_SIZE &&
           p->lv[p->n - 1].w >= 2 && p->lv[p->n - 1].h >= 2) {
        halve(ctx, &p->lv[p->n - 1], &p->lv[p->n]);
        p->n++;
    }
}

static void pyramid_release(struct pyramid *p)
{
    for (int k = 1; k < p->n; k++)
        img_release(&p->lv[k]);
    p->n = 0;
}

/* Builds the network input for the square region (x0, y0, side) of im: the part inside
 * the photo resized (antialiased when shrinking) and pasted, black elsewhere, scaled to
 * -1..1. Fills v with the map back to im's pixels. */
static void view_input(const struct image *im, float x0, float y0, float side, float *in,
                       struct view *v)
{
    int ix0 = (int)fmaxf(0, floorf(x0)), iy0 = (int)fmaxf(0, floorf(y0));
    int ix1 = (int)fminf((float)im->w, ceilf(x0 + side));
    int iy1 = (int)fminf((float)im->h, ceilf(y0 + side));
    float s = DET_SIZE / side;
    int rw = (int)lrintf((float)(ix1 - ix0) * s), rh = (int)lrintf((float)(iy1 - iy0) * s);
    int px = (int)lrintf(((float)ix0 - x0) * s), py = (int)lrintf(((float)iy0 - y0) * s);
    struct image part, rs;

    px = px < 0 ? 0 : px > DET_SIZE - 1 ? DET_SIZE - 1 : px;
    py = py < 0 ? 0 : py > DET_SIZE - 1 ? DET_SIZE - 1 : py;
    rw = rw < 1 ? 1 : rw > DET_SIZE - px ? DET_SIZE - px : rw;
    rh = rh < 1 ? 1 : rh > DET_SIZE - py ? DET_SIZE - py : rh;
    for (int i = 0; i < DET_SIZE * DET_SIZE * 3; i++)
        in[i] = -1.0f;
    img_crop(im, ix0, iy0, ix1 - ix0, iy1 - iy0, &part);
    if (rw < part.w)
        img_resize_bicubic(&part, rw, rh, &rs);
    else
        img_resize_bilinear(&part, rw, rh, &rs);
    for (int y = 0; y < rh; y++)
        for (int x = 0; x < rw * 3; x++)
            in[((py + y) * DET_SIZE) * 3 + px * 3 + x] = rs.px[y * rw * 3 + x] / 127.5f - 1.0f;
    v->ax = (float)(ix1 - ix0) / (float)rw;
    v->bx = (float)ix0 - (float)px * v->ax;
    v->ay = (float)(iy1 - iy0) / (float)rh;
    v->by = (float)iy0 - (float)py * v->ay;
    img_release(&rs);
    img_release(&part);
}

/* view_input on the smallest level of p with at least DET_SIZE pixels across the region
 * (in photo pixels), with v mapping back to photo pixels. */
static void look_input(const struct pyramid *p, const float r[3], float *in, struct view *v)
{
    int k = 0;
    float f;

    while (k + 1 < p->n && r[2] / (float)(2 << k) >= DET_SIZE)
        k++;
    f = (float)(1 << k);
    view_input(&p->lv[k], r[0] / f, r[1] / f, r[2] / f, in, v);
    v->ax *= f, v->bx *= f, v->ay *= f, v->by *= f;
}

/* The looks' inputs to build, one task per look. */
struct look_batch {
    const struct pyramid *p;
    float (*r)[3];
    float *in;
    struct view *v;
};

static void look_task(void *arg, int64_t i, int thread)
{
    const struct look_batch *b = arg;

    (void)thread;
    look_input(b->p, b->r[i], b->in + (size_t)i * DET_SIZE * DET_SIZE * 3, &b->v[i]);
}

/* Anchor centre of row r of the 896 (512 from the 16 x 16 head, then 384 from 8 x 8). */
static void anchor(int r, float *ax, float *ay)
{
    int cell = r < 512 ? r / 2 : (r - 512) / 6, grid = r < 512 ? 16 : 8;
    float stride = r < 512 ? 16.0f : 32.0f;

    *ax = stride * ((float)(cell % grid) + 0.5f);
    *ay = stride * ((float)(cell / grid) + 0.5f);
}

/* Decodes the rows scoring at least min_score into cands, in photo pixels. */
static void decode(const struct nn_tensor *out, const struct view *v, float min_score,
                   struct face_box *cands, int *n)
{
    for (int r = 0; r < DET_ANCHORS && *n < DET_MAX_CAND; r++) {
        const float *logit = r < 512 ? (float *)out[0].data + r : (float *)out[1].data + r - 512;
        const float *reg = r < 512 ? (float *)out[2].data + r * 16
                                   : (float *)out[3].data + (r - 512) * 16;
        float l = fmaxf(-80.0f, fminf(80.0f, *logit)), score = 1.0f / (1.0f + expf(-l));
        float ax, ay, cx, cy;
        struct face_box *b = &cands[*n];

        if (score < min_score)
            continue;
        anchor(r, &ax, &ay);
        cx = reg[0] + ax;
        cy = reg[1] + ay;
        b->x1 = v->ax * (cx - reg[2] / 2) + v->bx;
        b->x2 = v->ax * (cx + reg[2] / 2) + v->bx;
        b->y1 = v->ay * (cy - reg[3] / 2) + v->by;
        b->y2 = v->ay * (cy + reg[3] / 2) + v->by;
        b->score = score;
        for (int k = 0; k < FACE_KP_COUNT; k++) {
            b->kp[k][0] = v->ax * (reg[4 + 2 * k] + ax) + v->bx;
            b->kp[k][1] = v->ay * (reg[5 + 2 * k] + ay) + v->by;
        }
        if (b->x2 > b->x1 && b->y2 > b->y1)
            (*n)++;
    }
}

/* Runs the looks at the square regions r[i] = (x0, y0, side) as one batch of samples
 * (spread over ctx's threads) and appends their candidates; look 0 keeps candidates from
 * min_score, the others from extra_score. */
static int run_looks(const struct face_detector *d, struct nn_ctx *ctx, const struct pyramid *p,
                     float (*r)[3], int nlooks, float min_score, float extra_score,
                     struct face_box *cands, int *n, struct err *e)
{
    static const char *const outs[] = {"Identity", "Identity_1", "Identity_2", "Identity_3"};
    static const int64_t per[4] = {512, 384, 8192, 6144};
    int64_t shape[4] = {nlooks, DET_SIZE, DET_SIZE, 3};
    struct nn_tensor in, res[4];
    struct view *v = xcalloc((size_t)nlooks, sizeof *v);
    struct look_batch b = {p, r, NULL, v};
    int rc;

    nn_tensor_alloc(&in, NN_F32, 4, shape);
    b.in = in.data;
    nn_ctx_parallel(ctx, nlooks, look_task, &b);
    rc = nn_model_run_batch(d->model, ctx, &in, outs, 4, res, e);
    nn_tensor_release(&in);
    for (int k = 0; k < 4 && rc == NN_OK; k++)
        if (nn_numel(&res[k]) != per[k] * nlooks) {
            err_set(e, "blazeface: unexpected output shapes");
            rc = NN_ERR_RUN;
        }
    for (int i = 0; i < nlooks && rc == NN_OK; i++) {
        struct nn_tensor one[4];

        for (int k = 0; k < 4; k++) {
            nn_tensor_borrow(&one[k], &res[k]);
            one[k].data = (float *)res[k].data + per[k] * i;
        }
        decode(one, &v[i], i == 0 ? min_score : extra_score, cands, n);
    }
    for (int k = 0; k < 4 && rc == NN_OK; k++)
        nn_tensor_release(&res[k]);
    free(v);
    return rc;
}

static int by_score(const void *a, const void *b)
{
    float x = ((const struct face_box *)a)->score, y = ((const struct face_box *)b)->score;

    return (x < y) - (x > y);
}

/* The share of a's area that b covers. */
static float covered(const struct face_box *a, const struct face_box *b)
{
    float ix = fminf(a->x2, b->x2) - fmaxf(a->x1, b->x1);
    float iy = fminf(a->y2, b->y2) - fmaxf(a->y1, b->y1);
    float area = (a->x2 - a->x1) * (a->y2 - a->y1);

    return ix > 0 && iy > 0 && area > 0 ? ix * iy / area : 0;
}

/* Drops faces half covered by a better one: partial detections of the same face at
 * another scale (two real faces never overlap that much). Faces are sorted by score. */
static int drop_covered(struct face_box *f, int n)
{
    int k = 0;

    for (int i = 0; i < n; i++) {
        int keep = 1;

        for (int j = 0; j < k && keep; j++)
            keep = covered(&f[i], &f[j]) < 0.5f;
        if (keep)
            f[k++] = f[i];
    }
    return k;
}

/* Weighted NMS: each cluster of boxes overlapping its best by more than iou becomes one
 * box, the score-weighted mean of the cluster, with the best score. */
static int merge(struct face_box *c, int n, float iou, struct face_box *out, int max)
{
    char *used = xcalloc((size_t)n + 1, 1);
    int k = 0;

    qsort(c, (size_t)n, sizeof c[0], by_score);
    for (int i = 0; i < n && k < max; i++) {
        struct face_box m = {0};
        float wsum = 0;

        if (used[i])
            continue;
        for (int j = i; j < n; j++) {
            float w = c[j].score;

            if (used[j] || face_iou(&c[i], &c[j]) <= iou)
                continue;
            used[j] = 1;
            wsum += w;
            m.x1 += w * c[j].x1, m.y1 += w * c[j].y1, m.x2 += w * c[j].x2, m.y2 += w * c[j].y2;
            for (int p = 0; p < FACE_KP_COUNT; p++)
                m.kp[p][0] += w * c[j].kp[p][0], m.kp[p][1] += w * c[j].kp[p][1];
        }
        m.x1 /= wsum, m.y1 /= wsum, m.x2 /= wsum, m.y2 /= wsum;
        for (int p = 0; p < FACE_KP_COUNT; p++)
            m.kp[p][0] /= wsum, m.kp[p][1] /= wsum;
        m.score = c[i].score;
        out[k++] = m;
    }
    free(used);
    return k;
}

/* The looks for a photo: letterboxed whole; a canvas twice the size for small photos
 * (tight crops); overlapping tiles for large ones (small faces). */
static int plan_looks(const struct image *im, int tiles, float (*r)[3], int max)
{
    float w = (float)im->w, h = (float)im->h, side = fmaxf(w, h), shortest = fminf(w, h);
    int n = 0;

    r[n][0] = (w - side) / 2, r[n][1] = (h - side) / 2, r[n++][2] = side;
    if (!tiles)
        return n;
    if (side <= 640) {
        r[n][0] = w / 2 - side, r[n][1] = h / 2 - side, r[n++][2] = 2 * side;
    }
    if (shortest >= 800) {
        float t = fmaxf(512, shortest / 2), step = t * 0.75f;

        for (float y = 0; y < h && n < max; y += step) {
            for (float x = 0; x < w && n < max; x += step) {
                r[n][0] = fminf(x, w - t), r[n][1] = fminf(y, h - t), r[n++][2] = t;
                if (x + t >= w)
                    break;
            }
            if (y + t >= h)
                break;
        }
    }
    return n;
}

int face_detect(const struct face_detector *d, const struct image *im,
                const struct face_detect_opts *opts, struct face_box *faces, int max, int *n,
                struct err *e)
{
    float regions[32][3], min_score = opts && opts->min_score > 0 ? opts->min_score : 0.5f;
    float iou = opts && opts->iou > 0 ? opts->iou : 0.3f;
    struct face_box *cands = xmalloc(sizeof *cands * DET_MAX_CAND);
    int nlooks = plan_looks(im, !(opts && opts->no_tiles), regions, 32), nc = 0, rc = NN_OK;
    struct pyramid p;
    float largest = 0;

    *n = 0;
    for (int i = 0; i < nlooks; i++)
        largest = fmaxf(largest, regions[i][2]);
    pyramid_build(&p, opts ? opts->ctx : NULL, im, largest);
    /* The extra looks (tiles, padded canvas) see more texture up close and bring most of
     * the false positives, so their candidates must score higher. */
    rc = run_looks(d, opts ? opts->ctx : NULL, &p, regions, nlooks, min_score,
                   fmaxf(min_score, DET_EXTRA_SCORE), cands, &nc, e);
    pyramid_release(&p);
    if (rc == NN_OK)
        *n = drop_covered(faces, merge(cands, nc, iou, faces, max));
    if (*n > 1)
        qsort(faces, (size_t)*n, sizeof faces[0], by_score);
    free(cands);
    return rc;
}
