/*
 * clip_embed: preprocessing and batching around the ViT of nn/clip.c. A batch runs as
 * separate images over the context's threads (nn_model_run_batch), like the other
 * spaces.
 */
#include "face/clip_embed.h"

#include "img/resize.h"
#include "nn/model.h"
#include "util/fs.h"
#include "util/xalloc.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct clip_embedder {
    struct nn_model *model;
    struct nn_clip_config cfg;
};

const char *clip_embed_default_weights(const char *models_dir, char *buf, size_t n)
{
    const char *env = getenv(CLIP_ENV_WEIGHTS);

    if (env != NULL && env[0] != '\0')
        return env;
    if (models_dir == NULL || snprintf(buf, n, "%s/%s", models_dir, CLIP_DEFAULT_FILE) >= (int)n)
        return NULL;
    return fs_is_file(buf) ? buf : NULL;
}

int clip_embed_load(const char *path, struct clip_embedder **out, struct err *e)
{
    struct clip_embedder *m = xcalloc(1, sizeof *m);
    int rc = nn_clip_load(path, &m->model, &m->cfg, e);

    if (rc != NN_OK) {
        free(m);
        m = NULL;
    }
    *out = m;
    return rc;
}

void clip_embed_free(struct clip_embedder *m)
{
    if (m == NULL)
        return;
    nn_model_free(m->model);
    free(m);
}

const struct nn_clip_config *clip_embed_config(const struct clip_embedder *m)
{
    return &m->cfg;
}

void clip_embed_prepare(const struct clip_embedder *m, const struct image *im, struct image *out)
{
    struct image resized;
    int w, h;

    img_fit_shorter(im->w, im->h, m->cfg.image, &w, &h);
    img_resize_bicubic(im, w, h, &resized);
    img_center_crop(&resized, m->cfg.image, m->cfg.image, out);
    img_release(&resized);
}

static void unit(float *v, int n)
{
    double ss = 0;

    for (int i = 0; i < n; i++)
        ss += (double)v[i] * v[i];
    if (ss > 0)
        for (int i = 0; i < n; i++)
            v[i] = (float)(v[i] / sqrt(ss));
}

int clip_embed_images(const struct clip_embedder *m, struct nn_ctx *ctx,
                      const struct image *const *ims, int n, float *out, struct err *e)
{
    const int s = m->cfg.image, d = m->cfg.dim;
    const int64_t shape[4] = {n, s, s, 3};
    const char *outs[1] = {NN_CLIP_OUTPUT};
    struct nn_tensor in, res;
    struct image prep;
    int rc;

    if (n <= 0)
        return NN_OK;
    nn_tensor_alloc(&in, NN_F32, 4, shape);
    for (int i = 0; i < n; i++) {
        clip_embed_prepare(m, ims[i], &prep);
        img_to_float(&prep, 1.0f / 255.0f, nn_clip_mean, nn_clip_std, IMG_LAYOUT_NHWC,
                     (float *)in.data + (size_t)i * s * s * 3);
        img_release(&prep);
    }
    rc = nn_model_run_batch(m->model, ctx, &in, outs, 1, &res, e);
    nn_tensor_release(&in);
    if (rc != NN_OK)
        return rc;
    memcpy(out, res.data, sizeof(float) * (size_t)n * (size_t)d);
    for (int i = 0; i < n; i++)
        unit(out + (size_t)i * d, d);
    nn_tensor_release(&res);
    return NN_OK;
}

/* The square of CLIP_FACE_MARGIN times f's larger side around its centre. */
static void face_crop(const struct image *im, const struct face_box *f, struct image *out)
{
    float side = CLIP_FACE_MARGIN * fmaxf(f->x2 - f->x1, f->y2 - f->y1);
    int x = (int)lroundf((f->x1 + f->x2 - side) / 2), y = (int)lroundf((f->y1 + f->y2 - side) / 2);
    int n = side < 1 ? 1 : (int)lroundf(side);

    img_crop(im, x, y, n, n, out);
}

int clip_embed_faces(const struct clip_embedder *m, struct nn_ctx *ctx, const struct image *im,
                     const struct face_box *faces, int n, float *out, struct err *e)
{
    struct image *crops = xcalloc((size_t)n + 1, sizeof *crops);
    const struct image **p = xcalloc((size_t)n + 1, sizeof *p);
    int rc;

    for (int i = 0; i < n; i++) {
        face_crop(im, &faces[i], &crops[i]);
        p[i] = &crops[i];
    }
    rc = clip_embed_images(m, ctx, p, n, out, e);
    for (int i = 0; i < n; i++)
        img_release(&crops[i]);
    free(crops);
    free(p);
    return rc;
}
