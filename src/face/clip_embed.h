/*
 * clip_embed: the optional "clip" space, CLIP's image embedding of a headshot, for
 * users who have the weights (a safetensors checkpoint; `doppel models fetch clip`).
 *
 * The seed system embeds whole TMDB headshots with CLIP ViT-B/32, so the default input
 * is the whole photo, prepared exactly as CLIP's own preprocessing does: shorter side
 * resized to the model's side with Pillow's antialiased bicubic, centre crop, CLIP's
 * mean and deviation. The face-crop variant cuts a square of CLIP_FACE_MARGIN times a
 * detected face's box around it first (hair and jaw line included: what "looks like"
 * depends on), then prepares it the same way. Vectors are L2-normalised.
 */
#ifndef DOPPEL_CLIP_EMBED_H
#define DOPPEL_CLIP_EMBED_H

#include "face/detect.h"
#include "img/image.h"
#include "nn/clip.h"
#include "util/err.h"

#define CLIP_FACE_MARGIN 2.0f
#define CLIP_ENV_WEIGHTS "DOPPEL_CLIP_WEIGHTS"
#define CLIP_DEFAULT_FILE "clip/clip-vit-base-patch32.safetensors" /* under the models folder */

struct clip_embedder;
struct nn_ctx;

/* Returns the checkpoint to use: $DOPPEL_CLIP_WEIGHTS when set, else models_dir's
 * CLIP_DEFAULT_FILE (written by `doppel models fetch clip`) when it exists, else NULL.
 * The result is borrowed from the environment or written into buf (n bytes). */
const char *clip_embed_default_weights(const char *models_dir, char *buf, size_t n);

/* Loads the checkpoint at path. Caller frees with clip_embed_free. */
int clip_embed_load(const char *path, struct clip_embedder **out, struct err *e);

/* Frees m; m may be NULL. */
void clip_embed_free(struct clip_embedder *m);

/* Returns the model's sizes (borrowed, valid until clip_embed_free). */
const struct nn_clip_config *clip_embed_config(const struct clip_embedder *m);

/* Prepares im as the model's input (shorter side resized, centre crop) into out. */
void clip_embed_prepare(const struct clip_embedder *m, const struct image *im, struct image *out);

/* Embeds n whole images ims[0..n) into out (n x dim floats, unit length), spread over
 * ctx's threads (ctx may be NULL). Returns 0 or an nn_rc with e set. */
int clip_embed_images(const struct clip_embedder *m, struct nn_ctx *ctx,
                      const struct image *const *ims, int n, float *out, struct err *e);

/* Embeds the faces[0..n) of im, each cut out with CLIP_FACE_MARGIN, into out. */
int clip_embed_faces(const struct clip_embedder *m, struct nn_ctx *ctx, const struct image *im,
                     const struct face_box *faces, int n, float *out, struct err *e);

#endif
