/*
 * jpeg: decoding with libjpeg-turbo's TurboJPEG API.
 *
 * The header is read first so the pixel limit is checked before TurboJPEG allocates
 * anything. When the caller wants a small result, the IDCT scales by 1/2, 1/4 or 1/8
 * (whichever keeps the shorter side at least min_side), which skips most of the work of a
 * full decode. libjpeg reports damage as warnings and fills the rest of the image with
 * grey, so a warning is an error here: a truncated photo must not pass as a whole one.
 * The one benign warning, stray bytes between segments, is let through.
 */
#include "img/codec.h"

#include "img/exif.h"
#include "util/xalloc.h"

#include <stdlib.h>
#include <string.h>
#include <turbojpeg.h>

#ifndef TJFLAG_LIMITSCANS
#define TJFLAG_LIMITSCANS 0
#endif

/* Classifies a TurboJPEG failure: IMG_OK for a benign warning, else an error code. */
static int jpeg_failure(tjhandle tj, struct err *e)
{
    const char *msg = tjGetErrorStr2(tj);

    if (tjGetErrorCode(tj) == TJERR_WARNING && strstr(msg, "extraneous bytes") != NULL)
        return IMG_OK;
    err_set(e, "JPEG: %s", msg);
    if (strstr(msg, "remature end") != NULL || strstr(msg, "truncated") != NULL)
        return IMG_ERR_TRUNCATED;
    return IMG_ERR_CORRUPT;
}

static int jpeg_header(tjhandle tj, const unsigned char *p, size_t n, int *w, int *h, int *cs,
                       struct err *e)
{
    int subsamp = 0;

    *w = *h = 0;
    *cs = 0;
    if (n > (unsigned long)-1 ||
        tjDecompressHeader3(tj, p, (unsigned long)n, w, h, &subsamp, cs) != 0) {
        int rc = jpeg_failure(tj, e);

        return rc == IMG_OK ? IMG_ERR_CORRUPT : rc;
    }
    /* A stream that ends before its frame header reads as tables-only: success, no size. */
    if (*w <= 0 || *h <= 0) {
        err_set(e, "JPEG: data ends before the frame header");
        return IMG_ERR_TRUNCATED;
    }
    return IMG_OK;
}

int img_jpeg_probe(const unsigned char *p, size_t n, struct img_info *info, struct err *e)
{
    tjhandle tj = tjInitDecompress();
    int cs, rc;

    if (tj == NULL) {
        err_set(e, "JPEG: cannot start the decoder");
        return IMG_ERR_CORRUPT;
    }
    rc = jpeg_header(tj, p, n, &info->w, &info->h, &cs, e);
    info->orientation = exif_jpeg_orientation(p, n);
    tjDestroy(tj);
    return rc;
}

/* Picks the strongest IDCT downscale whose result keeps the shorter side >= min_side. */
static tjscalingfactor jpeg_scale(int w, int h, int min_side)
{
    tjscalingfactor best = {1, 1};
    int count = 0;
    tjscalingfactor *f = tjGetScalingFactors(&count);

    if (min_side <= 0 || f == NULL)
        return best;
    for (int i = 0; i < count; i++) {
        int sw = TJSCALED(w, f[i]), sh = TJSCALED(h, f[i]);

        if (f[i].num > f[i].denom || (sw < sh ? sw : sh) < min_side)
            continue;
        if (f[i].num * best.denom < best.num * f[i].denom)
            best = f[i];
    }
    return best;
}

/* Converts Adobe's inverted CMYK (what JPEG CMYK files store) to RGB, in place. */
static void cmyk_to_rgb(unsigned char *px, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned k = px[4 * i + 3];

        px[3 * i] = (unsigned char)(px[4 * i] * k / 255);
        px[3 * i + 1] = (unsigned char)(px[4 * i + 1] * k / 255);
        px[3 * i + 2] = (unsigned char)(px[4 * i + 2] * k / 255);
    }
}

int img_jpeg_decode(const unsigned char *p, size_t n, const struct img_opts *o,
                    struct image *out, struct err *e)
{
    tjhandle tj = tjInitDecompress();
    tjscalingfactor sf;
    unsigned char *px = NULL;
    int w, h, sw, sh, cs, cmyk, rc;

    if (tj == NULL) {
        err_set(e, "JPEG: cannot start the decoder");
        return IMG_ERR_CORRUPT;
    }
    rc = jpeg_header(tj, p, n, &w, &h, &cs, e);
    if (rc == IMG_OK)
        rc = img_check_pixels(o, w, h, e);
    if (rc != IMG_OK)
        goto out;
    sf = jpeg_scale(w, h, o->min_side);
    sw = TJSCALED(w, sf);
    sh = TJSCALED(h, sf);
    cmyk = cs == TJCS_CMYK || cs == TJCS_YCCK;
    px = xmalloc((size_t)sw * (size_t)sh * (cmyk ? 4 : 3));
    if (tjDecompress2(tj, p, (unsigned long)n, px, sw, 0, sh, cmyk ? TJPF_CMYK : TJPF_RGB,
                      TJFLAG_LIMITSCANS) != 0) {
        rc = jpeg_failure(tj, e);
        if (rc != IMG_OK)
            goto out;
    }
    if (cmyk)
        cmyk_to_rgb(px, (size_t)sw * (size_t)sh);
    out->w = sw;
    out->h = sh;
    out->px = px;
    px = NULL;
    if (!o->keep_orientation)
        img_apply_orientation(out, exif_jpeg_orientation(p, n));
out:
    free(px);
    tjDestroy(tj);
    return rc;
}
