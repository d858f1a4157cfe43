/*
 * upload: a photo query from an uploaded file, for the page and the API alike. The bytes
 * arrive in memory (server.c caps them at 25 MB); the format is sniffed from the bytes,
 * the pixel count in the header is checked before any pixel buffer exists (a 100000 x
 * 100000 PNG of a few hundred bytes is refused, not allocated), and the photo handle of
 * the snapshot runs the networks, one query at a time (they use every core already).
 */
#include "web/priv.h"

#include "img/resize.h"
#include "util/xalloc.h"

#include <stdlib.h>
#include <string.h>
#include <turbojpeg.h>

#define THUMB_SIDE 800

static int decode_status(int rc)
{
    switch (rc) {
    case IMG_ERR_TOO_BIG:
        return 413;
    case IMG_ERR_FORMAT:
        return 415;
    default: /* too many pixels, truncated, corrupt, empty */
        return 400;
    }
}

static int decode(struct web_req *r, struct image *im, int *status, struct err *e)
{
    struct img_opts o = {WEB_UPLOAD_MAX, 0, 0, 0};
    int rc;

    if (r->upload == NULL) {
        *status = 400;
        err_set(e, "send the photo as the multipart form field 'photo'");
        return WEB_ERR_DATA;
    }
    if (img_sniff(r->upload, r->upload_len) == IMG_FORMAT_UNKNOWN) {
        *status = r->upload_len == 0 ? 400 : 415;
        err_set(e, r->upload_len == 0 ? "the photo is empty"
                                      : "this is not a photo doppel reads (JPEG, PNG or WebP)");
        return WEB_ERR_DATA;
    }
    rc = img_decode(r->upload, r->upload_len, &o, im, e);
    if (rc != IMG_OK) {
        *status = decode_status(rc);
        return WEB_ERR_DATA;
    }
    return WEB_OK;
}

int web_photo_query(struct web_req *r, int k, struct web_photo *p, int *status, struct err *e)
{
    int rc;

    memset(p, 0, sizeof *p);
    *status = 200;
    if (decode(r, &p->im, status, e) != WEB_OK)
        return WEB_ERR_DATA;
    p->faces = arena_calloc(r->arena, SEARCH_FACES_MAX, sizeof *p->faces);
    pthread_mutex_lock(&r->snap->photo_mu);
    rc = search_photo(r->snap->photo, &p->im, k, p->faces, &p->nfaces, e);
    pthread_mutex_unlock(&r->snap->photo_mu);
    if (rc != SEARCH_OK) {
        *status = web_status_of(rc);
        web_photo_release(p);
        return WEB_ERR_DATA;
    }
    return WEB_OK;
}

void web_photo_release(struct web_photo *p)
{
    img_release(&p->im);
    p->faces = NULL;
    p->nfaces = 0;
}

static void put_base64(struct buf *b, const unsigned char *p, size_t n)
{
    static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

    for (size_t i = 0; i < n; i += 3) {
        unsigned v = (unsigned)p[i] << 16 | (i + 1 < n ? (unsigned)p[i + 1] << 8 : 0) |
                     (i + 2 < n ? p[i + 2] : 0);
        char q[4] = {tab[v >> 18 & 63], tab[v >> 12 & 63], i + 1 < n ? tab[v >> 6 & 63] : '=',
                     i + 2 < n ? tab[v & 63] : '='};

        buf_append(b, q, 4);
    }
}

void web_photo_thumb(const struct image *im, struct buf *b)
{
    struct image small = {0};
    const struct image *src = im;
    unsigned char *jpeg = NULL;
    unsigned long len = 0;
    tjhandle tj = tjInitCompress();
    int side = im->w > im->h ? im->w : im->h;

    if (side > THUMB_SIDE) {
        img_resize_bilinear(im, im->w * THUMB_SIDE / side > 0 ? im->w * THUMB_SIDE / side : 1,
                            im->h * THUMB_SIDE / side > 0 ? im->h * THUMB_SIDE / side : 1, &small);
        src = &small;
    }
    if (tj != NULL && tjCompress2(tj, src->px, src->w, 0, src->h, TJPF_RGB, &jpeg, &len, TJSAMP_420,
                                  80, 0) == 0) {
        buf_puts(b, "data:image/jpeg;base64,");
        put_base64(b, jpeg, len);
    }
    tjFree(jpeg);
    if (tj != NULL)
        tjDestroy(tj);
    img_release(&small);
}
