/*
 * png: decoding with libpng's simplified API (png_image), which expands grey and palette
 * images and reduces 16-bit samples to 8 bits, all inside libpng's own error handling,
 * so no setjmp here. The header is read by png_image_begin_read_from_memory alone, before
 * the pixel buffer exists. A file missing only its IEND chunk still holds every pixel and
 * decodes; any shortfall in the image data is an error.
 */
#include "img/codec.h"

#include "util/xalloc.h"

#include <png.h>
#include <stdlib.h>
#include <string.h>

static int png_failure(png_imagep im, struct err *e)
{
    const char *msg = im->message;

    err_set(e, "PNG: %s", msg[0] ? msg : "unreadable");
    if (strstr(msg, "Not enough") != NULL || strstr(msg, "too short") != NULL ||
        strstr(msg, "EOF") != NULL || strstr(msg, "end of") != NULL ||
        strstr(msg, "Read Error") != NULL)
        return IMG_ERR_TRUNCATED;
    return IMG_ERR_CORRUPT;
}

static int png_begin(png_imagep im, const unsigned char *p, size_t n, struct err *e)
{
    memset(im, 0, sizeof *im);
    im->version = PNG_IMAGE_VERSION;
    if (!png_image_begin_read_from_memory(im, p, n)) {
        int rc = png_failure(im, e);

        png_image_free(im);
        return rc;
    }
    return IMG_OK;
}

int img_png_probe(const unsigned char *p, size_t n, struct img_info *info, struct err *e)
{
    png_image im;
    int rc = png_begin(&im, p, n, e);

    if (rc != IMG_OK)
        return rc;
    info->w = (int)im.width;
    info->h = (int)im.height;
    info->has_alpha = (im.format & PNG_FORMAT_FLAG_ALPHA) != 0;
    png_image_free(&im);
    if (info->w <= 0 || info->h <= 0) {
        err_set(e, "PNG: size out of range");
        return IMG_ERR_CORRUPT;
    }
    return IMG_OK;
}

int img_png_decode(const unsigned char *p, size_t n, const struct img_opts *o, struct image *out,
                   struct err *e)
{
    png_image im;
    unsigned char *px = NULL;
    int alpha, rc = png_begin(&im, p, n, e);

    if (rc != IMG_OK)
        return rc;
    if (im.width > 0x7fffffff || im.height > 0x7fffffff) {
        err_set(e, "PNG: size out of range");
        rc = IMG_ERR_CORRUPT;
        goto out;
    }
    rc = img_check_pixels(o, (int)im.width, (int)im.height, e);
    if (rc != IMG_OK)
        goto out;
    /* Alpha is composited onto white by img_rgba_on_white, in sRGB as browsers and the
     * WebP path do; libpng's own compositing works in linear light and would differ. */
    alpha = (im.format & PNG_FORMAT_FLAG_ALPHA) != 0;
    im.format = alpha ? PNG_FORMAT_RGBA : PNG_FORMAT_RGB;
    /* A 16-bit file without gamma information is sRGB-encoded in practice (as Pillow and
     * browsers assume); without this flag libpng would treat it as linear light. */
    im.flags |= PNG_IMAGE_FLAG_16BIT_sRGB;
    px = xmalloc(PNG_IMAGE_SIZE(im));
    if (!png_image_finish_read(&im, NULL, px, 0, NULL)) {
        rc = png_failure(&im, e);
        goto out;
    }
    if (alpha)
        img_rgba_on_white(px, (size_t)im.width * im.height, px);
    out->w = (int)im.width;
    out->h = (int)im.height;
    out->px = px;
    px = NULL;
out:
    free(px);
    png_image_free(&im);
    return rc;
}

int img_save_png(const struct image *im, const char *path, struct err *e)
{
    png_image out;

    memset(&out, 0, sizeof out);
    out.version = PNG_IMAGE_VERSION;
    out.width = (png_uint_32)im->w;
    out.height = (png_uint_32)im->h;
    out.format = PNG_FORMAT_RGB;
    if (!png_image_write_to_file(&out, path, 0, im->px, 0, NULL)) {
        err_set(e, "%s: %s", path, out.message);
        png_image_free(&out);
        return IMG_ERR_IO;
    }
    return IMG_OK;
}
