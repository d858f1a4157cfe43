/*
 * webp: decoding with libwebp's advanced API, which reports why a decode failed
 * (truncated versus corrupt) and can scale while decoding. Images with alpha are decoded
 * as RGBA and composited onto white; animated WebP is refused (doppel wants one frame of
 * a face, and a first frame of an animation is rarely it).
 */
#include "img/codec.h"

#include "util/xalloc.h"

#include <stdlib.h>
#include <webp/decode.h>

static int webp_status(VP8StatusCode st, struct err *e)
{
    switch (st) {
    case VP8_STATUS_OK:
        return IMG_OK;
    case VP8_STATUS_NOT_ENOUGH_DATA:
        err_set(e, "WebP: data ends before the image does");
        return IMG_ERR_TRUNCATED;
    case VP8_STATUS_UNSUPPORTED_FEATURE:
        err_set(e, "WebP: unsupported feature");
        return IMG_ERR_FORMAT;
    default:
        err_set(e, "WebP: corrupt data (libwebp status %d)", (int)st);
        return IMG_ERR_CORRUPT;
    }
}

int img_webp_probe(const unsigned char *p, size_t n, struct img_info *info, struct err *e)
{
    WebPBitstreamFeatures f;
    int rc = webp_status(WebPGetFeatures(p, n, &f), e);

    if (rc != IMG_OK)
        return rc;
    if (f.has_animation) {
        err_set(e, "WebP: animated images are not supported");
        return IMG_ERR_FORMAT;
    }
    info->w = f.width;
    info->h = f.height;
    info->has_alpha = f.has_alpha;
    return IMG_OK;
}

/* Sets the scaled output size so the shorter side stays >= min_side. */
static void webp_scale(WebPDecoderConfig *c, int w, int h, int min_side)
{
    int s = w < h ? w : h;

    if (min_side <= 0 || s <= 2 * min_side)
        return;
    c->options.use_scaling = 1;
    c->options.scaled_width = (int)((long long)w * min_side / s);
    c->options.scaled_height = (int)((long long)h * min_side / s);
    if (c->options.scaled_width < 1 || c->options.scaled_height < 1)
        c->options.use_scaling = 0;
}

int img_webp_decode(const unsigned char *p, size_t n, const struct img_opts *o,
                    struct image *out, struct err *e)
{
    WebPDecoderConfig c;
    struct img_info info = {0};
    unsigned char *px = NULL;
    int rc = img_webp_probe(p, n, &info, e), ow, oh, bpp;

    if (rc == IMG_OK)
        rc = img_check_pixels(o, info.w, info.h, e);
    if (rc != IMG_OK)
        return rc;
    if (!WebPInitDecoderConfig(&c)) {
        err_set(e, "WebP: library version mismatch");
        return IMG_ERR_CORRUPT;
    }
    webp_scale(&c, info.w, info.h, o->min_side);
    ow = c.options.use_scaling ? c.options.scaled_width : info.w;
    oh = c.options.use_scaling ? c.options.scaled_height : info.h;
    bpp = info.has_alpha ? 4 : 3;
    px = xmalloc((size_t)ow * (size_t)oh * (size_t)bpp);
    c.output.colorspace = info.has_alpha ? MODE_RGBA : MODE_RGB;
    c.output.is_external_memory = 1;
    c.output.u.RGBA.rgba = px;
    c.output.u.RGBA.stride = ow * bpp;
    c.output.u.RGBA.size = (size_t)ow * (size_t)oh * (size_t)bpp;
    rc = webp_status(WebPDecode(p, n, &c), e);
    WebPFreeDecBuffer(&c.output);
    if (rc != IMG_OK) {
        free(px);
        return rc;
    }
    if (info.has_alpha)
        img_rgba_on_white(px, (size_t)ow * (size_t)oh, px);
    out->w = ow;
    out->h = oh;
    out->px = px;
    return IMG_OK;
}
