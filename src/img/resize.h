/*
 * resize: resampling, cropping and conversion to network input tensors.
 *
 * Two resamplers: bilinear (cheap, for detector inputs and previews) and antialiased
 * bicubic computed exactly as Pillow's Image.resize(..., BICUBIC) does (separable passes,
 * horizontal first, filter support widened by the scale factor when shrinking,
 * fixed-point weights with 22 fraction bits, 8-bit rounding between passes), because CLIP
 * and many face models were trained on images Pillow resized.
 */
#ifndef DOPPEL_RESIZE_H
#define DOPPEL_RESIZE_H

#include "img/image.h"

enum img_layout {
    IMG_LAYOUT_NHWC = 0, /* out[(y * w + x) * 3 + c] */
    IMG_LAYOUT_NCHW,     /* out[c * h * w + y * w + x] */
};

/* Resizes src to w x h with bilinear interpolation (pixel centres at +0.5, edges clamped)
 * into out (allocated here; release with img_release). */
void img_resize_bilinear(const struct image *src, int w, int h, struct image *out);

/* Resizes src to w x h like Pillow's BICUBIC resize, into out (allocated here). */
void img_resize_bicubic(const struct image *src, int w, int h, struct image *out);

/* Copies the w x h rectangle at (x, y) of src into out (allocated here); parts outside
 * src are filled with black. */
void img_crop(const struct image *src, int x, int y, int w, int h, struct image *out);

/* The centre w x h crop, placed as torchvision's CenterCrop places it. */
void img_center_crop(const struct image *src, int w, int h, struct image *out);

/* Computes the size that makes the shorter side `side` keeping the aspect ratio, as
 * torchvision's Resize(int) does. */
void img_fit_shorter(int w, int h, int side, int *ow, int *oh);

/* Writes src as floats, out[...] = (px * scale - mean[c]) / std[c], in the given layout;
 * out holds w * h * 3 floats. */
void img_to_float(const struct image *src, float scale, const float mean[3], const float std[3],
                  enum img_layout layout, float *out);

#endif
