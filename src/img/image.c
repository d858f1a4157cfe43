/*
 * image: format dispatch, limits, orientation and the pixel container. The codecs live in
 * jpeg.c, png.c and webp.c; this file holds what is common to all of them.
 */
#include "img/image.h"

#include "img/codec.h"
#include "util/fs.h"
#include "util/xalloc.h"

#include <stdlib.h>
#include <string.h>

enum img_format img_sniff(const unsigned char *p, size_t n)
{
    if (n >= 3 && p[0] == 0xFF && p[1] == 0xD8 && p[2] == 0xFF)
        return IMG_FORMAT_JPEG;
    if (n >= 8 && memcmp(p, "\x89PNG\r\n\x1a\n", 8) == 0)
        return IMG_FORMAT_PNG;
    if (n >= 12 && memcmp(p, "RIFF", 4) == 0 && memcmp(p + 8, "WEBP", 4) == 0)
        return IMG_FORMAT_WEBP;
    return IMG_FORMAT_UNKNOWN;
}

const char *img_format_name(enum img_format f)
{
    static const char *const names[] = {"unknown", "jpeg", "png", "webp"};

    return (unsigned)f < 4 ? names[f] : "unknown";
}

const char *img_rc_name(int rc)
{
    static const char *const names[] = {"ok",        "empty",   "too_big", "too_many_pixels",
                                        "format",    "truncated", "corrupt", "io"};

    return rc >= 0 && rc < 8 ? names[rc] : "unknown";
}

static struct img_opts img_defaults(const struct img_opts *o)
{
    struct img_opts d = {0};

    if (o != NULL)
        d = *o;
    if (d.max_bytes == 0)
        d.max_bytes = IMG_MAX_BYTES_DEFAULT;
    if (d.max_pixels == 0)
        d.max_pixels = IMG_MAX_PIXELS_DEFAULT;
    return d;
}

int img_check_pixels(const struct img_opts *o, int w, int h, struct err *e)
{
    uint64_t px = (uint64_t)w * (uint64_t)h;

    if (w <= 0 || h <= 0) {
        err_set(e, "image has no pixels (%d x %d)", w, h);
        return IMG_ERR_CORRUPT;
    }
    if (px > o->max_pixels) {
        err_set(e, "%d x %d is %.1f megapixels, more than the limit of %.1f", w, h, px / 1e6,
                o->max_pixels / 1e6);
        return IMG_ERR_TOO_MANY_PX;
    }
    return IMG_OK;
}

/* Checks size and format; returns the format through *f. */
static int img_precheck(const unsigned char *p, size_t n, const struct img_opts *o,
                        enum img_format *f, struct err *e)
{
    if (n == 0) {
        err_set(e, "empty input (0 bytes)");
        return IMG_ERR_EMPTY;
    }
    if (n > o->max_bytes) {
        err_set(e, "%zu bytes, more than the limit of %zu", n, o->max_bytes);
        return IMG_ERR_TOO_BIG;
    }
    *f = img_sniff(p, n);
    if (*f == IMG_FORMAT_UNKNOWN) {
        err_set(e, "not a JPEG, PNG or WebP image");
        return IMG_ERR_FORMAT;
    }
    return IMG_OK;
}

int img_probe(const unsigned char *p, size_t n, const struct img_opts *opts,
              struct img_info *info, struct err *e)
{
    struct img_opts o = img_defaults(opts);
    enum img_format f;
    int rc = img_precheck(p, n, &o, &f, e);

    memset(info, 0, sizeof *info);
    if (rc != IMG_OK)
        return rc;
    info->format = f;
    info->orientation = 1;
    if (f == IMG_FORMAT_JPEG)
        rc = img_jpeg_probe(p, n, info, e);
    else if (f == IMG_FORMAT_PNG)
        rc = img_png_probe(p, n, info, e);
    else
        rc = img_webp_probe(p, n, info, e);
    if (rc != IMG_OK)
        return rc;
    if (o.keep_orientation)
        info->orientation = 1;
    info->display_w = info->orientation >= 5 ? info->h : info->w;
    info->display_h = info->orientation >= 5 ? info->w : info->h;
    return img_check_pixels(&o, info->w, info->h, e);
}

int img_decode(const unsigned char *p, size_t n, const struct img_opts *opts, struct image *out,
               struct err *e)
{
    struct img_opts o = img_defaults(opts);
    enum img_format f;
    int rc = img_precheck(p, n, &o, &f, e);

    out->w = out->h = 0;
    out->px = NULL;
    if (rc != IMG_OK)
        return rc;
    if (f == IMG_FORMAT_JPEG)
        return img_jpeg_decode(p, n, &o, out, e);
    if (f == IMG_FORMAT_PNG)
        return img_png_decode(p, n, &o, out, e);
    return img_webp_decode(p, n, &o, out, e);
}

int img_load_file(const char *path, const struct img_opts *opts, struct image *out,
                  struct err *e)
{
    struct img_opts o = img_defaults(opts);
    unsigned char *data;
    size_t n;
    int rc = fs_read_file(path, o.max_bytes, &data, &n, e);

    out->w = out->h = 0;
    out->px = NULL;
    if (rc == FS_ERR_TOO_BIG)
        return IMG_ERR_TOO_BIG;
    if (rc != FS_OK)
        return IMG_ERR_IO;
    rc = img_decode(data, n, &o, out, e);
    if (rc != IMG_OK)
        err_prefix(e, "%s", path);
    free(data);
    return rc;
}

void img_alloc(struct image *im, int w, int h)
{
    im->w = w;
    im->h = h;
    im->px = xmalloc((size_t)w * (size_t)h * 3);
}

void img_release(struct image *im)
{
    if (im == NULL)
        return;
    free(im->px);
    im->px = NULL;
    im->w = im->h = 0;
}

/* Maps display pixel (x, y) of a w x h display image to the stored pixel for EXIF
 * orientation o; sw and sh are the stored size. */
static void orient_source(int o, int x, int y, int sw, int sh, int *sx, int *sy)
{
    switch (o) {
    case 2: *sx = sw - 1 - x; *sy = y; break;
    case 3: *sx = sw - 1 - x; *sy = sh - 1 - y; break;
    case 4: *sx = x; *sy = sh - 1 - y; break;
    case 5: *sx = y; *sy = x; break;
    case 6: *sx = y; *sy = sh - 1 - x; break;
    case 7: *sx = sw - 1 - y; *sy = sh - 1 - x; break;
    case 8: *sx = sw - 1 - y; *sy = x; break;
    default: *sx = x; *sy = y; break;
    }
}

void img_apply_orientation(struct image *im, int o)
{
    struct image out;

    if (o < 2 || o > 8)
        return;
    if (o >= 5)
        img_alloc(&out, im->h, im->w);
    else
        img_alloc(&out, im->w, im->h);
    for (int y = 0; y < out.h; y++) {
        for (int x = 0; x < out.w; x++) {
            int sx, sy;

            orient_source(o, x, y, im->w, im->h, &sx, &sy);
            memcpy(out.px + ((size_t)y * out.w + x) * 3, im->px + ((size_t)sy * im->w + sx) * 3,
                   3);
        }
    }
    free(im->px);
    *im = out;
}

void img_rgba_on_white(const unsigned char *rgba, size_t n, unsigned char *rgb)
{
    for (size_t i = 0; i < n; i++) {
        unsigned a = rgba[4 * i + 3];

        for (int c = 0; c < 3; c++)
            rgb[3 * i + c] = (unsigned char)((rgba[4 * i + c] * a + 255 * (255 - a) + 127) / 255);
    }
}

static void put_px(struct image *im, int x, int y, const unsigned char rgb[3])
{
    if (x >= 0 && y >= 0 && x < im->w && y < im->h)
        memcpy(im->px + ((size_t)y * im->w + x) * 3, rgb, 3);
}

void img_draw_rect(struct image *im, int x1, int y1, int x2, int y2, int t,
                   const unsigned char rgb[3])
{
    for (int k = 0; k < t; k++) {
        for (int x = x1 - k; x <= x2 + k; x++) {
            put_px(im, x, y1 - k, rgb);
            put_px(im, x, y2 + k, rgb);
        }
        for (int y = y1 - k; y <= y2 + k; y++) {
            put_px(im, x1 - k, y, rgb);
            put_px(im, x2 + k, y, rgb);
        }
    }
}
