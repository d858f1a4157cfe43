/*
 * assets: the static files of the web app, read once at start-up and served from
 * memory under content-hashed names (style-1a2b3c4d5e6f.css), so they can be cached for
 * a year and a new version is a new URL. htmx comes from the models folder, where
 * scripts/setup.sh puts it (pinned in scripts/models.lock with its sha256); ours come
 * from the web folder. Catalogue photos are served from where the import read them.
 */
#include "web/priv.h"

#include "util/fs.h"
#include "util/sha256.h"
#include "util/log.h"
#include "util/xalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ASSET_MAX   ((size_t)4 << 20)
#define PHOTO_MAX   (WEB_BODY_MAX - 1)
#define LONG_CACHE  "public, max-age=31536000, immutable"
#define PHOTO_CACHE "public, max-age=86400"

struct asset {
    const char *name; /* as pages ask for it */
    const char *dir;  /* "web" or "models" */
    const char *path; /* under dir */
    const char *type;
    char url[128];
    unsigned char *data;
    size_t len;
};

struct web_assets {
    struct asset a[3];
};

static const struct asset asset_table[3] = {
    {"style.css", "web", "style.css", "text/css; charset=utf-8", "", NULL, 0},
    {"app.js", "web", "app.js", "text/javascript; charset=utf-8", "", NULL, 0},
    {"htmx.min.js", "models", "htmx/htmx.min.js", "text/javascript; charset=utf-8", "", NULL, 0},
};

/* Reads one asset and names it by its content. Missing htmx is a warning only: every page
 * works as plain links and forms without it. */
static int load_one(const struct web_opts *o, struct asset *a, struct err *e)
{
    const char *dir = strcmp(a->dir, "web") == 0 ? o->web_dir : o->models_dir;
    char path[4200], hex[SHA256_HEX_LEN + 1];
    const char *dot;

    if (dir == NULL || snprintf(path, sizeof path, "%s/%s", dir, a->path) >= (int)sizeof path ||
        fs_read_file(path, ASSET_MAX, &a->data, &a->len, e) != FS_OK) {
        if (strcmp(a->dir, "models") == 0) {
            log_warn("no %s in the models folder (run scripts/setup.sh --models); pages work "
                     "without it, less smoothly",
                     a->path);
            return WEB_OK;
        }
        err_prefix(e, "web assets (--web DIR)");
        return WEB_ERR_ASSETS;
    }
    sha256_hex(a->data, a->len, hex);
    dot = strchr(a->name, '.');
    snprintf(a->url, sizeof a->url, "/static/%.*s-%.12s%s", (int)(dot - a->name), a->name, hex,
             dot);
    return WEB_OK;
}

int web_assets_load(const struct web_opts *o, struct web_assets **out, struct err *e)
{
    struct web_assets *w = xcalloc(1, sizeof *w);

    *out = NULL;
    memcpy(w->a, asset_table, sizeof w->a);
    for (size_t i = 0; i < sizeof w->a / sizeof w->a[0]; i++) {
        if (load_one(o, &w->a[i], e) != WEB_OK) {
            web_assets_free(w);
            return WEB_ERR_ASSETS;
        }
    }
    *out = w;
    return WEB_OK;
}

void web_assets_free(struct web_assets *w)
{
    if (w == NULL)
        return;
    for (size_t i = 0; i < sizeof w->a / sizeof w->a[0]; i++)
        free(w->a[i].data);
    free(w);
}

const char *web_assets_url(const struct web_assets *w, const char *name)
{
    for (size_t i = 0; w != NULL && i < sizeof w->a / sizeof w->a[0]; i++)
        if (strcmp(w->a[i].name, name) == 0 && w->a[i].data != NULL)
            return w->a[i].url;
    return NULL;
}

int web_assets_serve(const struct web_assets *w, const char *name, struct web_resp *resp)
{
    for (size_t i = 0; i < sizeof w->a / sizeof w->a[0]; i++) {
        const struct asset *a = &w->a[i];

        if (a->data == NULL || strcmp(a->url + 8, name) != 0)
            continue;
        resp->status = 200;
        resp->type = a->type;
        resp->cache = LONG_CACHE;
        resp->data = a->data;
        resp->data_len = a->len;
        return 1;
    }
    return 0;
}

static const char *photo_type(const unsigned char *p, size_t n)
{
    switch (img_sniff(p, n)) {
    case IMG_FORMAT_JPEG:
        return "image/jpeg";
    case IMG_FORMAT_PNG:
        return "image/png";
    case IMG_FORMAT_WEBP:
        return "image/webp";
    default:
        return NULL;
    }
}

/* The nth (0 = best) ok photo of person id, from the catalogue. */
static int photo_source(struct web_req *r, int64_t id, int nth, char *src, size_t n)
{
    struct search *h = web_snap_get(r->snap);
    struct catalog_photo ph[CATALOG_AVG_PHOTOS];
    struct err e;
    int count = 0, rc;

    src[0] = '\0';
    rc = catalog_person_photos(search_catalog(h), id, ph, CATALOG_AVG_PHOTOS, &count, &e);
    web_snap_put(r->snap, h);
    if (rc != CATALOG_OK)
        return 500;
    if (nth >= count)
        return 404;
    snprintf(src, n, "%s", ph[nth].source);
    return 200;
}

#define TMDB_IMAGES "https://image.tmdb.org/"
#define TMDB_THUMBS TMDB_IMAGES "t/p/w185/" /* pages show photos at 160 px at most */

/* TMDB's file name of a photo the crawler saved (DATA/photos/tmdb/<tmdb id>/<rank>_<name>
 * or display_<name>, see tmdb/crawl.c), or NULL for any other path. */
static const char *crawled_name(const char *source)
{
    const char *file = strrchr(source, '/'), *dir, *name;

    if (file == NULL || file == source)
        return NULL;
    for (dir = file; dir > source && dir[-1] != '/'; dir--)
        if (dir[-1] < '0' || dir[-1] > '9')
            return NULL;
    if (dir == file || (size_t)(dir - source) < 13 || strncmp(dir - 13, "/photos/tmdb/", 13) != 0)
        return NULL;
    name = strchr(file + 1, '_');
    if (name == NULL ||
        !(name - file == 2 ? file[1] >= '1' && file[1] <= '9'
                           : strncmp(file + 1, "display_", 8) == 0) ||
        strlen(name + 1) == 0 || strlen(name + 1) > 128 ||
        strspn(name + 1, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") !=
            strlen(name + 1))
        return NULL;
    return name + 1;
}

const char *web_photo_url(int hotlink, int64_t id, int nth, const char *source, char *buf, size_t n)
{
    const char *name;

    if (source == NULL || source[0] == '\0')
        return NULL;
    if (hotlink && strncmp(source, TMDB_IMAGES, strlen(TMDB_IMAGES)) == 0)
        return source;
    if (hotlink && (name = crawled_name(source)) != NULL &&
        snprintf(buf, n, "%s%s", TMDB_THUMBS, name) < (int)n)
        return buf;
    if (nth > 0)
        snprintf(buf, n, "/img/person/%lld?n=%d", (long long)id, nth + 1);
    else
        snprintf(buf, n, "/img/person/%lld", (long long)id);
    return buf;
}

void web_photo_serve(struct web_req *r, struct web_resp *resp, int64_t id)
{
    char src[CATALOG_SOURCE_MAX], url[WEB_PHOTO_URL_MAX];
    const char *ns = web_req_arg(r, "n"), *to;
    int64_t nth = 0;
    unsigned char *data = NULL;
    size_t len = 0;
    struct err e;
    int status;

    if (ns != NULL && (web_parse_id(ns, &nth) != 0 || nth > CATALOG_AVG_PHOTOS)) {
        web_page_error(r, resp, 400, "n must be a number from 1 to 5");
        return;
    }
    nth = nth > 0 ? nth - 1 : 0;
    status = photo_source(r, id, (int)nth, src, sizeof src);
    if (status != 200) {
        web_page_error(r, resp, status, "no photo of this person");
        return;
    }
    to = web_photo_url(r->opts->hotlink, id, (int)nth, src, url, sizeof url);
    if (to != NULL && strncmp(to, TMDB_IMAGES, strlen(TMDB_IMAGES)) == 0) {
        resp->status = 302;
        resp->cache = PHOTO_CACHE;
        snprintf(resp->location, sizeof resp->location, "%s", to);
        return;
    }
    if (strncmp(src, "http://", 7) == 0 || strncmp(src, "https://", 8) == 0) {
        web_page_error(r, resp, 404,
                       r->opts->hotlink ? "this photo is not on TMDB's image CDN"
                                        : "this photo is on TMDB (serve with --hotlink)");
        return;
    }
    if (fs_read_file(src, PHOTO_MAX, &data, &len, &e) != FS_OK || photo_type(data, len) == NULL) {
        free(data);
        web_page_error(r, resp, 404, "the photo file is gone from the data folder");
        return;
    }
    resp->type = photo_type(data, len);
    resp->cache = PHOTO_CACHE;
    buf_reset(&resp->body);
    if (buf_append(&resp->body, data, len) != BUF_OK)
        resp->status = 500;
    free(data);
}
