/*
 * codec: the per-format decoders behind img_decode. Internal to src/img. Each gets input
 * already size-checked and sniffed, checks the header's pixel count itself, and fills
 * out only on success.
 */
#ifndef DOPPEL_IMG_CODEC_H
#define DOPPEL_IMG_CODEC_H

#include "img/image.h"

/* Header of a JPEG: size, and EXIF orientation. */
int img_jpeg_probe(const unsigned char *p, size_t n, struct img_info *info, struct err *e);
int img_jpeg_decode(const unsigned char *p, size_t n, const struct img_opts *o,
                    struct image *out, struct err *e);

int img_png_probe(const unsigned char *p, size_t n, struct img_info *info, struct err *e);
int img_png_decode(const unsigned char *p, size_t n, const struct img_opts *o, struct image *out,
                   struct err *e);

int img_webp_probe(const unsigned char *p, size_t n, struct img_info *info, struct err *e);
int img_webp_decode(const unsigned char *p, size_t n, const struct img_opts *o,
                    struct image *out, struct err *e);

/* Returns IMG_OK when w x h is within o's pixel limit, else IMG_ERR_TOO_MANY_PX with e set. */
int img_check_pixels(const struct img_opts *o, int w, int h, struct err *e);

#endif
