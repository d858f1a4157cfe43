/*
 * api: the JSON API, with the CLI's keys (results[].id, .name, .score, .rank_pct,
 * .tmdb_id, .photo) so a script moves between `doppel similar --json` and
 * /api/similar/ID without renaming anything. "photo" is the URL this server serves the
 * person's photo at, not a path on the server's disk. Errors are
 * {"error": {"status": N, "message": "..."}} with the HTTP status N. Documented in
 * docs/api.md.
 */
#include "web/priv.h"

#include "cli/cli.h"
#include "face/identity.h"
#include "util/jw.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Replaces the body with a JSON error saying the server ran out of memory. */
static void send_oom(struct web_resp *resp)
{
    resp->status = 500;
    buf_reset(&resp->body);
    buf_puts(&resp->body, "{\"error\": {\"status\": 500, \"message\": \"out of memory\"}}\n");
}

/* Sends o (taking its reference) as the response body. */
static void send_json(struct web_resp *resp, int status, json_t *o)
{
    char *text =
        o ? json_dumps(o, JSON_INDENT(1) | JSON_ENSURE_ASCII | JSON_REAL_PRECISION(9)) : NULL;

    resp->status = status;
    resp->type = "application/json";
    resp->data = NULL;
    buf_reset(&resp->body);
    if (text == NULL || buf_puts(&resp->body, text) != BUF_OK || buf_putc(&resp->body, '\n'))
        send_oom(resp);
    free(text);
    json_decref(o);
}

/* The answers asked for most (search, similar) are written with jw into the body, the
 * same bytes send_json would send, without building them as jansson values first. */
static void answer_begin(struct web_resp *resp, struct jw *w)
{
    resp->status = 200;
    resp->type = "application/json";
    resp->data = NULL;
    buf_reset(&resp->body);
    jw_init(w, &resp->body);
}

static void answer_send(struct web_resp *resp, struct jw *w)
{
    if (jw_finish(w) != BUF_OK)
        send_oom(resp);
}

void web_api_error(struct web_resp *resp, int status, const char *msg)
{
    send_json(resp, status,
              json_pack("{s:{s:i, s:s}}", "error", "status", status, "message",
                        msg && msg[0] ? msg : "error"));
}

/* Photo nth of person id (source "" for none) as the URL to show it at, or null. */
static json_t *photo_url(int hotlink, int64_t id, int nth, const char *source)
{
    char url[WEB_PHOTO_URL_MAX];
    const char *u = web_photo_url(hotlink, id, nth, source, url, sizeof url);

    return u != NULL ? json_string(u) : json_null();
}

/* A search hit with the CLI's keys (cli_hit_json's), photo as a URL. */
static void hit_jw(struct jw *w, int hotlink, const struct search_hit *h)
{
    char url[WEB_PHOTO_URL_MAX];

    jw_open(w, NULL, '{');
    jw_int(w, "id", h->id);
    jw_str(w, "name", h->name);
    jw_real(w, "score", (double)h->score);
    jw_real(w, "rank_pct", h->rank_pct);
    if (h->tmdb_id)
        jw_int(w, "tmdb_id", h->tmdb_id);
    else
        jw_null(w, "tmdb_id");
    jw_str(w, "photo", web_photo_url(hotlink, h->id, 0, h->photo, url, sizeof url));
    jw_close(w);
}

/* The same as a jansson value, for the answers still built that way. */
static json_t *hit_json(int hotlink, const struct search_hit *h)
{
    json_t *o = cli_hit_json(h);

    json_object_set_new(o, "photo", photo_url(hotlink, h->id, 0, h->photo));
    return o;
}

static json_t *hits_json(int hotlink, const struct search_hit *h, int n)
{
    json_t *a = json_array();

    for (int i = 0; i < n; i++)
        json_array_append_new(a, hit_json(hotlink, &h[i]));
    return a;
}

static json_t *title_json(const struct catalog_title *t)
{
    return json_pack("{s:I, s:s, s:s, s:o, s:o, s:f}", "id", (json_int_t)t->id, "title", t->title,
                     "kind", catalog_kind_name(t->kind), "year",
                     t->year ? json_integer(t->year) : json_null(), "tmdb_id",
                     t->tmdb_id ? json_integer(t->tmdb_id) : json_null(), "popularity",
                     t->popularity);
}

static const char *query_arg(struct web_req *r, struct web_resp *resp)
{
    const char *q = web_req_arg(r, "q");

    if (q == NULL || *q == '\0') {
        web_api_error(resp, 400, "q is required");
        return NULL;
    }
    if (strlen(q) > NAMES_QUERY_MAX) {
        web_api_error(resp, 400, "q is too long");
        return NULL;
    }
    return q;
}

void web_api_search(struct web_req *r, struct web_resp *resp)
{
    const char *q = query_arg(r, resp);
    int k = web_parse_k(r, 10, WEB_K_MAX);
    struct names_hit hits[WEB_K_MAX];
    int64_t ids[WEB_K_MAX];
    const char *names[WEB_K_MAX];
    struct search *h;
    struct jw w;
    size_t n = 0;
    struct err e;

    if (q == NULL)
        return;
    if (k < 0) {
        web_api_error(resp, 400, "k must be a number from 1 to 100");
        return;
    }
    if (names_search(r->snap->names, q, strlen(q), k, NAMES_CUTOFF, NAMES_MODE_AUTO, hits, &n,
                     &e) != NAMES_OK) {
        web_api_error(resp, 400, e.msg);
        return;
    }
    answer_begin(resp, &w);
    jw_open(&w, NULL, '{');
    jw_str(&w, "query", q);
    jw_open(&w, "results", '[');
    h = web_snap_get(r->snap);
    /* The hits' rows and people are scattered over arrays of a few hundred thousand: what
     * each needs is asked of the cache for all of them first, in two rounds (where the
     * name is kept, then the name), so the misses overlap instead of queueing. */
    for (size_t i = 0; i < n; i++) {
        __builtin_prefetch(&r->snap->name_ids[hits[i].row]);
        names_index_prefetch(r->snap->names, hits[i].row);
    }
    for (size_t i = 0; i < n; i++) {
        ids[i] = r->snap->name_ids[hits[i].row];
        names[i] = names_index_name(r->snap->names, hits[i].row);
        __builtin_prefetch(names[i]);
        search_person_prefetch(h, ids[i]);
    }
    for (size_t i = 0; i < n; i++) {
        int64_t id = ids[i];
        char src[CATALOG_SOURCE_MAX], url[WEB_PHOTO_URL_MAX];

        if (search_person_photo(h, id, src, sizeof src, &e) != SEARCH_OK)
            src[0] = '\0';
        jw_open(&w, NULL, '{');
        jw_int(&w, "id", id);
        jw_str(&w, "name", names[i]);
        jw_int(&w, "score", hits[i].score);
        jw_str(&w, "match", hits[i].prefix ? "prefix" : "fuzzy");
        jw_str(&w, "photo", web_photo_url(r->opts->hotlink, id, 0, src, url, sizeof url));
        jw_close(&w);
    }
    web_snap_put(r->snap, h);
    jw_close(&w);
    jw_close(&w);
    answer_send(resp, &w);
}

/* A person's id, name and TMDB id (null when none). */
static json_t *person_json(int64_t id, const char *name, int64_t tmdb_id)
{
    return json_pack("{s:I, s:s, s:o}", "id", (json_int_t)id, "name", name, "tmdb_id",
                     tmdb_id ? json_integer(tmdb_id) : json_null());
}

void web_api_similar(struct web_req *r, struct web_resp *resp, int64_t id)
{
    const char *space = web_req_arg(r, "space");
    int k = web_parse_k(r, 10, SEARCH_K_MAX), n = 0, rc;
    struct search_hit *hits, *who;
    struct search *h;
    struct err e = {{0}};
    struct jw w;

    if (space == NULL || *space == '\0')
        space = "look";
    if (strcmp(space, "look") != 0 && strcmp(space, "identity") != 0 &&
        strcmp(space, "clip") != 0) {
        web_api_error(resp, 400, "space must be look, identity or clip");
        return;
    }
    if (k < 0) {
        web_api_error(resp, 400, "k must be a number from 1 to 1000");
        return;
    }
    hits = arena_calloc(r->arena, (size_t)k, sizeof *hits);
    who = arena_calloc(r->arena, 1, sizeof *who);
    h = web_snap_get(r->snap);
    rc = search_describe(h, id, who, &e);
    if (rc == SEARCH_OK)
        rc = search_similar(h, space, id, k, hits, &n, &e);
    web_snap_put(r->snap, h);
    if (rc != SEARCH_OK) {
        web_api_error(resp, web_status_of(rc), e.msg[0] ? e.msg : "no such person");
        return;
    }
    answer_begin(resp, &w);
    jw_open(&w, NULL, '{');
    jw_open(&w, "query", '{');
    jw_int(&w, "id", who->id);
    jw_str(&w, "name", who->name);
    if (who->tmdb_id)
        jw_int(&w, "tmdb_id", who->tmdb_id);
    else
        jw_null(&w, "tmdb_id");
    jw_close(&w);
    jw_str(&w, "space", space);
    jw_open(&w, "results", '[');
    for (int i = 0; i < n; i++)
        hit_jw(&w, r->opts->hotlink, &hits[i]);
    jw_close(&w);
    jw_close(&w);
    answer_send(resp, &w);
}

static json_t *face_json(int hotlink, const struct search_face *f)
{
    json_t *who = json_null();

    if (f->has_identity) {
        who = hit_json(hotlink, &f->identity);
        json_object_set_new(who, "distance", json_real(f->distance));
        json_object_set_new(who, "threshold", json_real(IDENTITY_THRESHOLD));
        json_object_set_new(who, "same_person", json_boolean(f->same_person));
    }
    return json_pack("{s:[f, f, f, f], s:f, s:o, s:o}", "box", (double)f->box.x1, (double)f->box.y1,
                     (double)f->box.x2, (double)f->box.y2, "score", (double)f->box.score,
                     "identity", who, "lookalikes", hits_json(hotlink, f->looks, f->nlooks));
}

void web_api_query(struct web_req *r, struct web_resp *resp)
{
    int k = web_parse_k(r, 10, 50), status;
    struct web_photo p;
    struct err e = {{0}};
    json_t *faces;

    if (k < 0) {
        web_api_error(resp, 400, "k must be a number from 1 to 50");
        return;
    }
    if (web_photo_query(r, k, &p, &status, &e) != WEB_OK) {
        web_api_error(resp, status, e.msg);
        return;
    }
    faces = json_array();
    for (int i = 0; i < p.nfaces; i++)
        json_array_append_new(faces, face_json(r->opts->hotlink, &p.faces[i]));
    send_json(resp, 200,
              json_pack("{s:i, s:i, s:o}", "width", p.im.w, "height", p.im.h, "faces", faces));
    web_photo_release(&p);
}

void web_api_titles(struct web_req *r, struct web_resp *resp)
{
    const char *q = query_arg(r, resp);
    int k = web_parse_k(r, 10, WEB_TITLES_MAX), n = 0, rc;
    struct catalog_title t[WEB_TITLES_MAX];
    struct search *h;
    struct err e;
    json_t *arr;

    if (q == NULL)
        return;
    if (k < 0) {
        web_api_error(resp, 400, "k must be a number from 1 to 50");
        return;
    }
    h = web_snap_get(r->snap);
    rc = catalog_titles_search(search_catalog(h), q, t, k, &n, &e);
    web_snap_put(r->snap, h);
    if (rc != CATALOG_OK) {
        web_api_error(resp, 500, e.msg);
        return;
    }
    arr = json_array();
    for (int i = 0; i < n; i++)
        json_array_append_new(arr, title_json(&t[i]));
    send_json(resp, 200, json_pack("{s:s, s:o}", "query", q, "results", arr));
}

static json_t *cast_json(struct search *h, int hotlink, const struct catalog_cast *c, int n)
{
    json_t *arr = json_array();
    char src[CATALOG_SOURCE_MAX];
    struct err e;

    for (int i = 0; i < n; i++) {
        json_t *o = person_json(c[i].person.id, c[i].person.name, c[i].person.tmdb_id);

        if (search_person_photo(h, c[i].person.id, src, sizeof src, &e) != SEARCH_OK)
            src[0] = '\0';
        json_object_set_new(o, "character", json_string(c[i].credit.character));
        json_object_set_new(o, "order",
                            c[i].credit.order ? json_integer(c[i].credit.order) : json_null());
        json_object_set_new(
            o, "episodes", c[i].credit.episodes ? json_integer(c[i].credit.episodes) : json_null());
        json_object_set_new(o, "photo", photo_url(hotlink, c[i].person.id, 0, src));
        json_array_append_new(arr, o);
    }
    return arr;
}

void web_api_cast(struct web_req *r, struct web_resp *resp, int64_t id)
{
    struct catalog_cast *cast = arena_calloc(r->arena, WEB_CAST_MAX, sizeof *cast);
    struct search *h = web_snap_get(r->snap);
    struct catalog_title t;
    struct err e;
    int n = 0, rc = catalog_title_get(search_catalog(h), id, &t, &e);

    if (rc == CATALOG_OK)
        rc = catalog_title_cast(search_catalog(h), id, cast, WEB_CAST_MAX, &n, &e);
    if (rc == CATALOG_OK)
        send_json(resp, 200,
                  json_pack("{s:o, s:o}", "title", title_json(&t), "cast",
                            cast_json(h, r->opts->hotlink, cast, n)));
    else
        web_api_error(resp, rc == CATALOG_NOT_FOUND ? 404 : 500,
                      rc == CATALOG_NOT_FOUND ? "no such title" : e.msg);
    web_snap_put(r->snap, h);
}

static json_t *known_json(struct search *h, int64_t id)
{
    struct catalog_known k[10];
    json_t *arr = json_array();
    struct err e;
    int n = 0;

    catalog_known_for(search_catalog(h), id, k, 10, &n, &e);
    for (int i = 0; i < n; i++) {
        json_t *o = title_json(&k[i].title);

        json_object_set_new(o, "character", json_string(k[i].credit.character));
        json_array_append_new(arr, o);
    }
    return arr;
}

void web_api_person(struct web_req *r, struct web_resp *resp, int64_t id)
{
    struct search *h = web_snap_get(r->snap);
    struct catalog_photo ph[CATALOG_AVG_PHOTOS];
    struct catalog_person p;
    struct err e;
    int n = 0, rc = catalog_person_get(search_catalog(h), id, &p, &e);
    json_t *o, *photos;

    if (rc == CATALOG_OK)
        rc = catalog_person_photos(search_catalog(h), id, ph, CATALOG_AVG_PHOTOS, &n, &e);
    if (rc != CATALOG_OK) {
        web_snap_put(r->snap, h);
        web_api_error(resp, rc == CATALOG_NOT_FOUND ? 404 : 500,
                      rc == CATALOG_NOT_FOUND ? "no such person" : e.msg);
        return;
    }
    photos = json_array();
    for (int i = 0; i < n; i++)
        json_array_append_new(photos, photo_url(r->opts->hotlink, id, i, ph[i].source));
    o = person_json(p.id, p.name, p.tmdb_id);
    json_object_set_new(o, "popularity", json_real(p.popularity));
    json_object_set_new(o, "gender", json_integer(p.gender));
    json_object_set_new(o, "birth_year", p.birth_year ? json_integer(p.birth_year) : json_null());
    json_object_set_new(o, "department", json_string(p.department));
    json_object_set_new(o, "photo", photo_url(r->opts->hotlink, id, 0, n > 0 ? ph[0].source : ""));
    json_object_set_new(o, "photos", photos);
    json_object_set_new(o, "known_for", known_json(h, id));
    web_snap_put(r->snap, h);
    send_json(resp, 200, o);
}
