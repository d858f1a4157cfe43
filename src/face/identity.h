/*
 * identity: the "identity" embedding space, for "who is this?" and "are these two photos
 * the same person?". It is dlib's face recognition ResNet (nn/dlib.h; 99.38% on LFW in
 * dlib's own pipeline) run on doppel's runtime from face-api's weights: a 128-d
 * descriptor compared by Euclidean distance, where dlib calls two faces the same person
 * below 0.6.
 *
 * The network was trained on dlib's face chips: 150 x 150, the face's landmarks mapped
 * by a similarity transform onto a mean face shape with 25% padding around it. doppel
 * makes the same kind of chip from BlazeFace's keypoints (both eyes, nose tip, mouth):
 * a least-squares similarity fit of those four points to where they sit in a dlib chip,
 * then a bilinear warp (the region is first shrunk with an antialiasing filter when the
 * face is much larger than the chip, as dlib does). Where the chip reaches past the
 * photo it is black, as in dlib.
 */
#ifndef DOPPEL_IDENTITY_H
#define DOPPEL_IDENTITY_H

#include "face/detect.h"
#include "img/image.h"
#include "nn/model.h"
#include "util/err.h"

#define IDENTITY_DIM  128
#define IDENTITY_SIDE 150

/* The distance below which doppel calls two faces the same person. dlib and face-api
 * use 0.6, chosen on LFW; with doppel's chips from BlazeFace keypoints (and
 * IDENTITY_FLIP), the threshold that errs least with same- and different-person pairs
 * weighted equally is 0.624 on the shared pins photos and 0.644 on the glint ones
 * (bench/eval_faces.sh prints both; the lower is kept, for fewer false matches). */
#define IDENTITY_THRESHOLD 0.62

/* Where the keypoints go in the chip (pixel centres at integers): right eye, left eye,
 * nose tip, mouth centre, as x, y. */
struct identity_template {
    float pt[4][2];
};

/* The template doppel uses. */
extern const struct identity_template identity_template_dlib;

struct identity;

/* Loads the network from models_dir (face-api/face_recognition_model-weights_manifest.json
 * and its shard). Free with identity_free. */
int identity_load(const char *models_dir, struct identity **out, struct err *e);

/* Frees m; m may be NULL. */
void identity_free(struct identity *m);

/* Cuts face f out of im as a 150 x 150 chip into out (allocated here; release with
 * img_release), placing f's keypoints on template t (NULL: identity_template_dlib). */
void identity_align(const struct image *im, const struct face_box *f,
                    const struct identity_template *t, struct image *out);

/* Descriptors of n chips (150 x 150 each) into out[i * IDENTITY_DIM ...], run as a batch
 * over ctx's threads (ctx may be NULL: the calling thread). Returns 0 or an nn_rc with e
 * set. */
int identity_embed_chips(const struct identity *m, struct nn_ctx *ctx, const struct image *chips,
                         int n, float *out, struct err *e);

/* How identity_embed computes a descriptor. */
enum identity_flags {
    /* The mean of the descriptors of the chip and of its mirror image (the template is
     * symmetric, so the mirror is the mirrored face aligned the same way). Twice the
     * work; on the shared photos ROC AUC 0.989 -> 0.991 (glint), 0.992 -> 0.993 (pins).
     * doppel's commands use it. */
    IDENTITY_FLIP = 1 << 0,
};

/* Aligns the n faces of im and computes their descriptors into out (n x IDENTITY_DIM);
 * flags is a set of enum identity_flags. */
int identity_embed(const struct identity *m, struct nn_ctx *ctx, const struct image *im,
                   const struct face_box *faces, int n, unsigned flags, float *out, struct err *e);

/* Euclidean distance of two descriptors. */
float identity_distance(const float *a, const float *b);

#endif
