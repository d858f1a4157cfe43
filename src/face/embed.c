/*
 * embed: alignment is one affine warp from the rotated square around the face to the
 * network input; faces of a photo are embedded in one batch (faceres takes any batch).
 * Age follows human's reading of the 100-bin softmax (the peak bin refined by its larger
 * neighbour); gender is the sigmoid head, which gives the probability of "male".
 */
#include "face/embed.h"

#include "img/resize.h"
#include "img/warp.h"
#include "nn/model.h"
#include "util/xalloc.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LOOK_SIZE   224
#define LOOK_MARGIN 1.4f

struct embedder {
    struct nn_model *look;
};

int embedder_load(const char *models_dir, struct embedder **out, struct err *e)
{
    char path[4096];
    struct embedder *m = xcalloc(1, sizeof *m);
    int rc;

    snprintf(path, sizeof path, "%s/human-models/faceres.json", models_dir);
    rc = nn_model_load(path, &m->look, e);
    if (rc != 0) {
        free(m);
        *out = NULL;
        return rc;
    }
    *out = m;
    return 0;
}

void embedder_free(struct embedder *m)
{
    if (m == NULL)
        return;
    nn_model_free(m->look);
    free(m);
}

void embed_align_look(const struct image *im, const struct face_box *f, struct image *out)
{
    static const unsigned char black[3] = {0, 0, 0};
    float cx = (f->x1 + f->x2) / 2, cy = (f->y1 + f->y2) / 2;
    float side = LOOK_MARGIN * fmaxf(f->x2 - f->x1, f->y2 - f->y1);
    float dx = f->kp[FACE_KP_LEFT_EYE][0] - f->kp[FACE_KP_RIGHT_EYE][0];
    float dy = f->kp[FACE_KP_LEFT_EYE][1] - f->kp[FACE_KP_RIGHT_EYE][1];
    float a = atan2f(dy, dx), s = side / LOOK_SIZE, c = cosf(a) * s, n = sinf(a) * s;
    float h = (LOOK_SIZE - 1) / 2.0f;
    /* output (u, v) -> photo: centre + R(a) * s * ((u, v) - centre of output) */
    float inv[6] = {c, -n, cx - c * h + n * h, n, c, cy - n * h - c * h};

    warp_affine(im, inv, LOOK_SIZE, LOOK_SIZE, black, out);
}

/* Age from the 100-bin softmax p, as human reads it. */
static float age_of(const float *p)
{
    int best = 0;

    for (int i = 1; i < 100; i++)
        if (p[i] > p[best])
            best = i;
    if (best > 0 && (best == 99 || p[best - 1] > p[best + 1]))
        return roundf(10.0f * (float)best - 100.0f * p[best - 1]) / 10.0f;
    return roundf(10.0f * (float)best + 100.0f * p[best + 1]) / 10.0f;
}

static void unit(float *v, int n)
{
    double ss = 0;

    for (int i = 0; i < n; i++)
        ss += (double)v[i] * v[i];
    ss = ss > 0 ? 1.0 / sqrt(ss) : 0;
    for (int i = 0; i < n; i++)
        v[i] = (float)(v[i] * ss);
}

/* The faces to align into a batch's input, one task per face. */
struct look_batch {
    const struct image *im;
    const struct face_box *faces;
    float *x;
};

static void look_input(void *arg, int64_t i, int thread)
{
    static const float zero[3] = {0, 0, 0}, one[3] = {1, 1, 1};
    const struct look_batch *b = arg;
    struct image face;

    (void)thread;
    embed_align_look(b->im, &b->faces[i], &face);
    img_to_float(&face, 1.0f, zero, one, IMG_LAYOUT_NHWC,
                 b->x + (size_t)i * LOOK_SIZE * LOOK_SIZE * 3);
    img_release(&face);
}

int embed_look(const struct embedder *m, const struct image *im, const struct face_box *faces,
               int n, struct embedding *out, struct err *e)
{
    return embed_look_ctx(m, NULL, im, faces, n, out, e);
}

int embed_look_ctx(const struct embedder *m, struct nn_ctx *ctx, const struct image *im,
                   const struct face_box *faces, int n, struct embedding *out, struct err *e)
{
    static const char *const outs[] = {"global_pooling/Mean", "gender_pred/Sigmoid",
                                       "age_pred/Softmax"};
    int64_t shape[4] = {n, LOOK_SIZE, LOOK_SIZE, 3};
    struct nn_tensor in, res[3];
    struct look_batch b = {im, faces, NULL};
    int rc;

    if (n <= 0)
        return 0;
    nn_tensor_alloc(&in, NN_F32, 4, shape);
    b.x = in.data;
    nn_ctx_parallel(ctx, n, look_input, &b);
    rc = nn_model_run_batch(m->look, ctx, &in, outs, 3, res, e);
    nn_tensor_release(&in);
    if (rc != 0)
        return rc;
    for (int i = 0; i < n; i++) {
        memcpy(out[i].v, (float *)res[0].data + (size_t)i * EMBED_LOOK_DIM,
               sizeof(float) * EMBED_LOOK_DIM);
        unit(out[i].v, EMBED_LOOK_DIM);
        out[i].dim = EMBED_LOOK_DIM;
        out[i].female = 1.0f - ((float *)res[1].data)[i];
        out[i].age = age_of((float *)res[2].data + (size_t)i * 100);
    }
    for (int i = 0; i < 3; i++)
        nn_tensor_release(&res[i]);
    return 0;
}

float embed_cosine(const struct embedding *a, const struct embedding *b)
{
    double s = 0;

    for (int i = 0; i < a->dim && i < b->dim; i++)
        s += (double)a->v[i] * b->v[i];
    return (float)s;
}
