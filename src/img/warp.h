/*
 * warp: the geometric half of face alignment. A similarity transform (rotation, uniform
 * scale, translation) is fitted by least squares from detected keypoints to a model's
 * template, then the face is resampled into the model's N x N input.
 *
 * Transforms are 2x3 row-major matrices m: x' = m[0] x + m[1] y + m[2],
 * y' = m[3] x + m[4] y + m[5], in pixel coordinates whose pixel centres are integers.
 */
#ifndef DOPPEL_WARP_H
#define DOPPEL_WARP_H

#include "img/image.h"

/* Fits the similarity transform taking the n points src (x0, y0, x1, y1, ...) closest to
 * dst in least squares (Umeyama's method, no reflection). Returns 0, or -1 when the
 * source points are all the same point. */
int warp_similarity(const float *src, const float *dst, int n, float m[6]);

/* Inverts an affine transform. Returns 0, or -1 when it is singular. */
int warp_invert(const float m[6], float inv[6]);

/* Applies m to the point (x, y). */
void warp_apply(const float m[6], float x, float y, float *ox, float *oy);

/* Fills out (allocated here, w x h) by sampling src bilinearly at inv(x, y) for every
 * output pixel, where inv maps output coordinates to source coordinates; samples outside
 * src take the colour fill (3 bytes). */
void warp_affine(const struct image *src, const float inv[6], int w, int h,
                 const unsigned char fill[3], struct image *out);

#endif
