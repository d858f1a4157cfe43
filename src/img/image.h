/*
 * image: untrusted bytes to 8-bit RGB pixels, safely.
 *
 * Every photo doppel sees is hostile until decoded: crawled from a CDN, imported from a
 * folder, uploaded through the web page. The format is sniffed from magic bytes (never
 * the file name or Content-Type); input size and the pixel count claimed by the header
 * are checked against the caller's limits before any pixel buffer is allocated; a
 * truncated or corrupt file is an error, never a partial image presented as whole.
 * Decoding is done by the Debian-maintained libraries (TurboJPEG, libpng's simplified
 * API, libwebp). JPEG EXIF orientation is applied so phone photos come out upright.
 * When the caller needs a small image (a 224 px network input from a 4000 px upload),
 * the JPEG and WebP decoders downscale while decoding, which costs a fraction of a full
 * decode.
 */
#ifndef DOPPEL_IMAGE_H
#define DOPPEL_IMAGE_H

#include "util/err.h"

#include <stddef.h>
#include <stdint.h>

enum img_rc {
    IMG_OK = 0,
    IMG_ERR_EMPTY,       /* zero bytes */
    IMG_ERR_TOO_BIG,     /* more bytes than the limit */
    IMG_ERR_TOO_MANY_PX, /* the header claims more pixels than the limit */
    IMG_ERR_FORMAT,      /* not JPEG, PNG or WebP, or a variant doppel does not decode */
    IMG_ERR_TRUNCATED,   /* the data ends before the image does */
    IMG_ERR_CORRUPT,     /* the decoder rejected the data */
    IMG_ERR_IO,          /* the file could not be read */
};

enum img_format {
    IMG_FORMAT_UNKNOWN = 0,
    IMG_FORMAT_JPEG,
    IMG_FORMAT_PNG,
    IMG_FORMAT_WEBP,
};

#define IMG_MAX_BYTES_DEFAULT  ((size_t)25 << 20)
#define IMG_MAX_PIXELS_DEFAULT ((uint64_t)40000000)

/* An 8-bit RGB image, rows top to bottom, 3 bytes per pixel, no padding. */
struct image {
    int w;
    int h;
    unsigned char *px;
};

struct img_opts {
    size_t max_bytes;    /* 0 = IMG_MAX_BYTES_DEFAULT */
    uint64_t max_pixels; /* 0 = IMG_MAX_PIXELS_DEFAULT; checked on the stored size */
    int min_side;        /* > 0: the decoder may downscale while the shorter side of the
                            result stays >= min_side; 0 = full size */
    int keep_orientation; /* 1: ignore EXIF orientation */
};

struct img_info {
    enum img_format format;
    int w, h;        /* as stored */
    int orientation; /* EXIF orientation 1..8 (1 when absent or not JPEG) */
    int display_w;   /* after orientation */
    int display_h;
    int has_alpha;
};

/* Returns the format named by the first bytes of p. */
enum img_format img_sniff(const unsigned char *p, size_t n);

/* Returns "jpeg", "png", "webp" or "unknown". Static string. */
const char *img_format_name(enum img_format f);

/* Returns a short name for an img_rc ("truncated", ...). Static string. */
const char *img_rc_name(int rc);

/* Reads the header only: format, size, orientation. Returns an img_rc; on error e says why. */
int img_probe(const unsigned char *p, size_t n, const struct img_opts *opts,
              struct img_info *info, struct err *e);

/* Decodes p into out (caller releases with img_release). opts may be NULL for defaults.
 * Returns an img_rc; on error out is empty and e says why. */
int img_decode(const unsigned char *p, size_t n, const struct img_opts *opts, struct image *out,
               struct err *e);

/* Reads and decodes a file; like img_decode, and IMG_ERR_IO when it cannot be read. */
int img_load_file(const char *path, const struct img_opts *opts, struct image *out,
                  struct err *e);

/* Writes im as a PNG file. Returns IMG_OK or IMG_ERR_IO with e set. */
int img_save_png(const struct image *im, const char *path, struct err *e);

/* Draws a rectangle outline (thickness t) and returns nothing; clipped to the image. */
void img_draw_rect(struct image *im, int x1, int y1, int x2, int y2, int t,
                   const unsigned char rgb[3]);

/* Allocates a w x h image (contents undefined); release with img_release. */
void img_alloc(struct image *im, int w, int h);

/* Frees the pixels and empties im; im may be NULL. */
void img_release(struct image *im);

/* Rotates/flips im in place as EXIF orientation o (1..8) prescribes for display. */
void img_apply_orientation(struct image *im, int o);

/* Composites RGBA pixels (n of them, 4 bytes each) onto white into rgb (3 bytes each);
 * rgb may be the same memory as rgba. */
void img_rgba_on_white(const unsigned char *rgba, size_t n, unsigned char *rgb);

#endif
