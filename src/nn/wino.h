/*
 * wino: 3 x 3 stride-1 convolutions by Winograd's F(2x2, 3x3) (see wino.c). Internal to
 * src/nn.
 */
#ifndef DOPPEL_WINO_H
#define DOPPEL_WINO_H

#include "nn/graph.h"

/* One convolution: NHWC input n x h x w x c, output n x oh x ow x k (the raw sums: no
 * bias, no activation), leading padding pt and pl; tiles = n * th * tw with th and tw
 * the output's sides halved up. The rest is set by nn_wino_run. */
struct nn_wino {
    const float *x;
    float *y;
    const struct nn_packed *u; /* from nn_wino_pack */
    const struct nn_kernels *kern;
    int64_t n, h, w, c, k, oh, ow, pt, pl, th, tw, tiles;
    struct nn_ctx *ctx;  /* its pool and per-thread scratch */
    int64_t mb;          /* tiles per task */
};

/* The transformed filter of HWIO weights w (3 x 3 x c x k) as 16 packed c x k matrices;
 * free with nn_wino_free. */
struct nn_packed *nn_wino_pack(const float *w, int64_t c, int64_t k);

void nn_wino_free(struct nn_packed *u);

/* Runs the convolution j describes on ctx's threads, in their scratch. */
void nn_wino_run(struct nn_wino *j, struct nn_ctx *ctx);

#endif
