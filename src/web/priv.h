/*
 * web internals shared by the server's files (not for other modules): the snapshot of
 * open search handles, one request and its response, the routes, the pages and the API.
 */
#ifndef DOPPEL_WEB_PRIV_H
#define DOPPEL_WEB_PRIV_H

#include "catalog/catalog.h"
#include "names/names.h"
#include "search/search.h"
#include "util/arena.h"
#include "util/buf.h"
#include "web/web.h"

#include <pthread.h>
#include <stdint.h>

#define WEB_BODY_MAX   ((size_t)8 << 20) /* bytes of a generated page or JSON body */
#define WEB_K_DEFAULT  12
#define WEB_K_MAX      100
#define WEB_SUGGEST    8
#define WEB_TITLES_MAX 50
#define WEB_CAST_MAX   200

/* One generation of open data: a pool of search handles (one per request thread, no
 * models) and one handle for photo queries (models loaded on first use, one query at a
 * time; it uses every core itself). refs counts the server's own reference plus every
 * request holding it; guarded by the server's lock. */
#define WEB_SIG_LEN 18 /* inode and mtime of each space's index, graph and near lists */

struct web_snap {
    int refs;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    struct search **pool;
    int npool, nfree;
    int *free_slots;
    struct search *photo;
    pthread_mutex_t photo_mu;
    const struct names_index *names; /* from pool[0], shared read-only */
    const int64_t *name_ids;
    struct people *people; /* every handle describes hits from these */
    int64_t generation;
    struct catalog_stats stats; /* counted once when the snapshot opens */
};

/* Serialised snapshot loading and the current snapshot. */
struct web_state {
    pthread_mutex_t mu;
    struct web_snap *cur;
    int64_t generations;
    long sig[WEB_SIG_LEN]; /* inode and mtime of each index file at the last load */
};

/* Returns the current snapshot with a reference taken; release with web_snap_release. */
struct web_snap *web_snap_acquire(struct web_state *st);

/* Drops a reference; the last one closes the snapshot. */
void web_snap_release(struct web_state *st, struct web_snap *s);

/* Opens a snapshot of data_dir with npool handles; caller drops it with web_snap_release
 * (refs starts at 1). */
int web_snap_open(const struct web_opts *o, int npool, int64_t generation, struct web_snap **out,
                  struct err *e);

/* Takes a free handle of the pool (waits when every one is in use); give it back with
 * web_snap_put. */
struct search *web_snap_get(struct web_snap *s);

/* Gives a handle back to the pool. */
void web_snap_put(struct web_snap *s, struct search *h);

/* Fingerprint (inode and mtime) of the data folder's index files into sig. */
void web_snap_signature(const char *data_dir, long sig[WEB_SIG_LEN]);

/* A response under construction: status, type, body and caching. */
struct web_resp {
    int status;
    const char *type;  /* static string */
    const char *cache; /* Cache-Control value, static; NULL = no-store */
    struct buf body;
    const unsigned char *data; /* static bytes to send instead of body (assets) */
    size_t data_len;
    char location[CATALOG_SOURCE_MAX]; /* a redirect's target, "" = none */
    int vary_hx;                       /* the body depends on HX-Request */
};

struct web_assets;

/* One request: what the routes read. args and headers come through the callbacks so
 * the routes do not depend on libmicrohttpd. */
struct web_req {
    const char *method;
    const char *path;
    int hx;         /* HX-Request and not a history restore: answer with the fragment */
    int hx_suggest; /* the autocomplete asked (HX-Target: suggest) */
    const char *(*arg)(void *ctx, const char *name);
    void *ctx;
    const unsigned char *upload; /* the photo field's bytes, NULL when none */
    size_t upload_len;
    const struct web_opts *opts;
    struct web_state *state;
    struct web_snap *snap; /* acquired by the dispatcher for the request */
    const struct web_assets *assets;
    struct arena *arena; /* the request's scratch memory, released after the answer */
};

/* Returns the query argument, or NULL. */
const char *web_req_arg(const struct web_req *r, const char *name);

/* Answers the request into resp (never fails: errors are error pages). */
void web_route(struct web_req *r, struct web_resp *resp);

/* The pages (web/pages.c); each fills resp. */
void web_page_home(struct web_req *r, struct web_resp *resp);
void web_page_search(struct web_req *r, struct web_resp *resp);
void web_page_actor(struct web_req *r, struct web_resp *resp, int64_t id);
void web_page_title(struct web_req *r, struct web_resp *resp, int64_t id);
void web_page_photo_form(struct web_req *r, struct web_resp *resp);
void web_page_photo(struct web_req *r, struct web_resp *resp);
void web_page_about(struct web_req *r, struct web_resp *resp);
void web_page_error(struct web_req *r, struct web_resp *resp, int status, const char *msg);

/* The JSON API (web/api.c). */
void web_api_search(struct web_req *r, struct web_resp *resp);
void web_api_similar(struct web_req *r, struct web_resp *resp, int64_t id);
void web_api_query(struct web_req *r, struct web_resp *resp);
void web_api_titles(struct web_req *r, struct web_resp *resp);
void web_api_cast(struct web_req *r, struct web_resp *resp, int64_t id);
void web_api_person(struct web_req *r, struct web_resp *resp, int64_t id);
void web_api_error(struct web_resp *resp, int status, const char *msg);

/* Static assets and photos (web/assets.c). */
struct web_assets;
int web_assets_load(const struct web_opts *o, struct web_assets **out, struct err *e);
void web_assets_free(struct web_assets *a);
/* Returns the content-hashed URL of asset name ("htmx.min.js", "style.css", "app.js"), or
 * NULL when it is not loaded (htmx without the models folder). Borrowed. */
const char *web_assets_url(const struct web_assets *a, const char *name);
/* Serves /static/NAME; returns 0 when NAME is not an asset. */
int web_assets_serve(const struct web_assets *a, const char *name, struct web_resp *resp);
#define WEB_PHOTO_URL_MAX 192

/* The URL a page or answer shows person id's photo nth (0: the best) at, given its source
 * (NULL or "": no photo, and NULL is returned): with hotlink, a photo the TMDB crawler
 * saved, or one whose source is on TMDB's image CDN, is shown from TMDB's CDN (which the
 * Content-Security-Policy allows); any other from this server, /img/person/ID or
 * /img/person/ID?n=N. May write into buf (WEB_PHOTO_URL_MAX bytes). */
const char *web_photo_url(int hotlink, int64_t id, int nth, const char *source, char *buf,
                          size_t n);

/* Serves person id's photo (?n=N, default the best) from the data folder, or with
 * --hotlink redirects to it on TMDB's CDN when web_photo_url puts it there. */
void web_photo_serve(struct web_req *r, struct web_resp *resp, int64_t id);

/* Photo queries shared by the page and the API (web/upload.c): decodes the upload,
 * finds its faces; on failure sets *status (400, 413, 415, 500, 503) and e. */
struct web_photo {
    struct image im;
    struct search_face *faces; /* in the request's arena */
    int nfaces;
};
int web_photo_query(struct web_req *r, int k, struct web_photo *p, int *status, struct err *e);
void web_photo_release(struct web_photo *p);

/* Appends a data: URL of a small JPEG copy of im (at most 800 px) to b, for showing an
 * upload back without storing it. */
void web_photo_thumb(const struct image *im, struct buf *b);

/* Maps a search_rc to an HTTP status. */
int web_status_of(int search_rc);

/* Parses a whole decimal id >= 1; returns 0 on success. */
int web_parse_id(const char *s, int64_t *out);

/* Parses k from the request (default def, clamped to 1..max); -1 when not a number. */
int web_parse_k(const struct web_req *r, int def, int max);

#endif
