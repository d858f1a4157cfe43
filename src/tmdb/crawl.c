/*
 * tmdb/crawl: the resumable crawl jobs (crawl.h).
 *
 * Two shapes of job share the code below. A paged list (popular, top rated, discover)
 * keeps "<job>.page" (the last page committed) and "<job>.total" in crawl_state, fetches
 * the next `batch` pages at once, and commits them one by one in page order with the
 * bookmark. A queue drain (credits, images) takes the next `batch` pending items in key
 * order, fetches them at once, and commits each item with its result; an item the
 * network kept failing on stays pending and is skipped for the rest of the run (the
 * `after` cursor), so one bad id cannot stall a crawl. Processing order is fixed (page
 * order, key order), so an interrupted crawl, resumed, ends in the same catalogue as
 * one that was never interrupted.
 */
#include "tmdb/crawl.h"

#include "util/buf.h"
#include "util/clock.h"
#include "util/fs.h"
#include "util/log.h"
#include "util/progress.h"
#include "util/xalloc.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#define BATCH_MAX       64
#define EXPORT_LINE_MAX 4096
#define EXPORT_BATCH    1000

struct crawl {
    struct catalog *c;
    struct tmdb_client *cl;
    struct crawl_opts o;
    struct crawl_stats st;
    double start;
    struct tmdb_config cfg;
    int have_cfg;
    struct tmdb_req reqs[BATCH_MAX * 9]; /* a batch: image lists, then up to 8 downloads each */
};

/* A paged list: its state key prefix and how to make page p's path and use its body. */
struct page_job {
    const char *name; /* "popular", "top_rated.movie", "discover.movie.1999.popularity.desc" */
    char path[256];   /* path and query without the page, e.g. "/person/popular?" */
    int kind;         /* titles' enum tmdb_kind; TMDB_KIND_UNKNOWN for people */
    int pages;        /* wanted; 0 = all */
};

static int stopping(const struct crawl *cr)
{
    return cr->o.stop != NULL && *cr->o.stop;
}

int crawl_new(struct catalog *c, const struct crawl_opts *opts, struct crawl **out, struct err *e)
{
    struct crawl *cr = xcalloc(1, sizeof *cr);
    int rc;

    cr->c = c;
    cr->o = *opts;
    cr->o.client.stop = opts->stop;
    if (cr->o.batch <= 0)
        cr->o.batch = cr->o.client.connections > 0 ? cr->o.client.connections : 8;
    if (cr->o.batch > BATCH_MAX)
        cr->o.batch = BATCH_MAX;
    if (cr->o.max_photos <= 0 || cr->o.max_photos > 7)
        cr->o.max_photos = cr->o.max_photos <= 0 ? 5 : 7;
    if (cr->o.min_width <= 0)
        cr->o.min_width = 500;
    rc = tmdb_client_new(&cr->o.client, &cr->cl, e);
    if (rc != TMDB_OK) {
        free(cr);
        *out = NULL;
        return CRAWL_ERR_NET;
    }
    cr->start = clock_now();
    *out = cr;
    return CRAWL_OK;
}

void crawl_free(struct crawl *cr)
{
    if (cr == NULL)
        return;
    for (size_t i = 0; i < sizeof cr->reqs / sizeof cr->reqs[0]; i++)
        buf_release(&cr->reqs[i].body);
    tmdb_client_free(cr->cl);
    free(cr);
}

void crawl_get_stats(const struct crawl *cr, struct crawl_stats *out)
{
    *out = cr->st;
    tmdb_client_stats(cr->cl, &out->http);
    out->seconds = clock_now() - cr->start;
}

const char *crawl_credits_queue(int kind)
{
    return kind == TMDB_KIND_TV ? CRAWL_Q_CREDITS_TV : CRAWL_Q_CREDITS_MOVIE;
}

/* ---- small catalogue helpers ---- */

static int cat_fail(int rc)
{
    return rc == CATALOG_OK ? CRAWL_OK : CRAWL_ERR_CATALOG;
}

/* Reads an integer crawl-state value; def when absent or not a number. */
static long state_long(struct crawl *cr, const char *key, long def, struct err *e, int *rc)
{
    struct buf b;
    int found = 0;
    long v = def;
    char *end;

    buf_init(&b, 64);
    if (catalog_state_get(cr->c, key, &b, &found, e) != CATALOG_OK)
        *rc = CRAWL_ERR_CATALOG;
    else if (found) {
        errno = 0;
        v = strtol(buf_str(&b), &end, 10);
        if (errno != 0 || *end != '\0')
            v = def;
    }
    buf_release(&b);
    return v;
}

static int state_put_long(struct crawl *cr, const char *key, long v, struct err *e)
{
    char s[32];

    snprintf(s, sizeof s, "%ld", v);
    return cat_fail(catalog_state_set(cr->c, key, s, e));
}

/* Upserts a TMDB person; *id receives the catalogue's id. */
static int put_person(struct crawl *cr, const struct tmdb_person *tp, int64_t *id, struct err *e)
{
    struct catalog_person p = {0};

    snprintf(p.name, sizeof p.name, "%s", tp->name);
    p.tmdb_id = tp->id;
    p.popularity = tp->popularity;
    p.gender = tp->gender;
    snprintf(p.department, sizeof p.department, "%.63s", tp->department);
    if (catalog_person_upsert(cr->c, &p, id, NULL, e) != CATALOG_OK) {
        err_prefix(e, "TMDB person %lld", (long long)tp->id);
        return CRAWL_ERR_CATALOG;
    }
    cr->st.people++;
    return cat_fail(catalog_queue_add(cr->c, CRAWL_Q_IMAGES, tp->id, NULL, NULL, e));
}

static int put_title(struct crawl *cr, const struct tmdb_title *tt, int64_t *id, struct err *e)
{
    struct catalog_title t = {0};

    t.tmdb_id = tt->id;
    t.kind = tt->kind == TMDB_KIND_TV ? CATALOG_TITLE_TV : CATALOG_TITLE_MOVIE;
    snprintf(t.title, sizeof t.title, "%s", tt->title);
    t.year = tt->year;
    t.popularity = tt->popularity;
    if (catalog_title_upsert(cr->c, &t, id, NULL, e) != CATALOG_OK) {
        err_prefix(e, "TMDB title %lld", (long long)tt->id);
        return CRAWL_ERR_CATALOG;
    }
    cr->st.titles++;
    return CRAWL_OK;
}

static int put_credit(struct crawl *cr, int64_t person, int64_t title, const struct tmdb_person *tp,
                      struct err *e)
{
    struct catalog_credit k = {0};

    k.person_id = person;
    k.title_id = title;
    if (tp != NULL) {
        snprintf(k.character, sizeof k.character, "%s", tp->character);
        k.order = tp->order >= 0 ? tp->order + 1 : 0;
        k.episodes = tp->episodes;
    }
    cr->st.credits++;
    return cat_fail(catalog_credit_put(cr->c, &k, NULL, e));
}

/* The queue data of a title waiting for its cast: what put_title needs again. */
static void title_data(const struct tmdb_title *t, char *out, size_t n)
{
    json_t *o = json_pack("{s:s, s:i, s:f}", "title", t->title, "year", t->year, "popularity",
                          t->popularity);
    char *s = json_dumps(o, JSON_COMPACT);

    snprintf(out, n, "%s", s != NULL && strlen(s) < n ? s : "{}");
    free(s);
    json_decref(o);
}

/* ---- paged lists ---- */

static int use_people_page(struct crawl *cr, const struct tmdb_people_page *pg, struct err *e)
{
    int rc = CRAWL_OK;

    for (int i = 0; rc == CRAWL_OK && i < pg->n; i++) {
        const struct tmdb_person *p = &pg->people[i];
        int64_t pid, tid;

        rc = put_person(cr, p, &pid, e);
        for (int k = 0; rc == CRAWL_OK && k < p->nknown; k++) {
            rc = put_title(cr, &p->known[k], &tid, e);
            if (rc == CRAWL_OK)
                rc = put_credit(cr, pid, tid, NULL, e);
        }
    }
    return rc;
}

static int use_title_page(struct crawl *cr, const struct tmdb_title_page *pg, struct err *e)
{
    char data[CATALOG_QUEUE_DATA_MAX];
    int rc = CRAWL_OK;

    for (int i = 0; rc == CRAWL_OK && i < pg->n; i++) {
        int64_t tid;

        rc = put_title(cr, &pg->titles[i], &tid, e);
        title_data(&pg->titles[i], data, sizeof data);
        if (rc == CRAWL_OK)
            rc = cat_fail(catalog_queue_add(cr->c, crawl_credits_queue(pg->titles[i].kind),
                                            pg->titles[i].id, data, NULL, e));
    }
    return rc;
}

/* Parses and stores one page's body; *total receives total_pages. A body that does not
 * parse is logged and stored as nothing (total unchanged). */
static int use_page(struct crawl *cr, const struct page_job *j, const struct tmdb_req *r,
                    int *total, struct err *e)
{
    struct tmdb_people_page pp;
    struct tmdb_title_page tp;
    struct err pe;
    int rc = CRAWL_OK;

    if (j->kind == TMDB_KIND_UNKNOWN) {
        if (tmdb_parse_people_page(buf_str(&r->body), r->body.len, &pp, &pe) == TMDB_PARSE_OK) {
            *total = pp.total_pages;
            rc = use_people_page(cr, &pp, e);
        } else {
            log_warn("%s: a page does not parse: %s", j->name, pe.msg);
            cr->st.failed++;
        }
        tmdb_people_page_release(&pp);
        return rc;
    }
    if (tmdb_parse_title_page(buf_str(&r->body), r->body.len, j->kind, &tp, &pe) == TMDB_PARSE_OK) {
        *total = tp.total_pages;
        rc = use_title_page(cr, &tp, e);
    } else {
        log_warn("%s: a page does not parse: %s", j->name, pe.msg);
        cr->st.failed++;
    }
    tmdb_title_page_release(&tp);
    return rc;
}

/* Commits page p of job j (its data, the bookmark) in one transaction. */
static int commit_page(struct crawl *cr, const struct page_job *j, int p, const struct tmdb_req *r,
                       int *total, struct err *e)
{
    char key[300];
    int rc = cat_fail(catalog_begin(cr->c, e));

    if (rc == CRAWL_OK && r->rc == TMDB_OK)
        rc = use_page(cr, j, r, total, e);
    else if (rc == CRAWL_OK) {
        /* a final 4xx (a page past the end): recorded, and the list ends there */
        log_warn("%s page %d: %s", j->name, p, r->error);
        cr->st.failed++;
        *total = p - 1;
    }
    snprintf(key, sizeof key, "%s.page", j->name);
    if (rc == CRAWL_OK)
        rc = state_put_long(cr, key, p, e);
    snprintf(key, sizeof key, "%s.total", j->name);
    if (rc == CRAWL_OK)
        rc = state_put_long(cr, key, *total, e);
    if (rc == CRAWL_OK)
        rc = cat_fail(catalog_commit(cr->c, e));
    if (rc != CRAWL_OK)
        catalog_rollback(cr->c);
    cr->st.units += rc == CRAWL_OK;
    return rc;
}

/* The last page to fetch: the wanted count, TMDB's total and its 500-page cap. */
static int page_limit(const struct page_job *j, int total)
{
    int lim = j->pages > 0 && j->pages < CRAWL_PAGES_MAX ? j->pages : CRAWL_PAGES_MAX;

    return total >= 0 && total < lim ? total : lim;
}

/* Maps a request's failure to the job's result: 0 to go on. */
static int req_verdict(const struct tmdb_req *r, const char *what, struct err *e)
{
    if (r->rc == TMDB_ERR_STOPPED)
        return CRAWL_ERR_STOPPED;
    if (r->rc == TMDB_ERR_AUTH) {
        err_set(e,
                "%s: TMDB refused the API key (%s); set TMDB_API_KEY to a valid v3 key "
                "or v4 read access token",
                what, r->error);
        return CRAWL_ERR_AUTH;
    }
    if (r->rc == TMDB_ERR_FAILED) {
        err_set(e, "%s: %s", what, r->error);
        return CRAWL_ERR_NET;
    }
    return CRAWL_OK;
}

/* Fetches pages first..first+k-1 of j at once and commits them in order. */
static int page_batch(struct crawl *cr, const struct page_job *j, int first, int k, int *total,
                      struct err *e)
{
    int rc = CRAWL_OK;
    char pq[320];

    for (int i = 0; i < k; i++) {
        snprintf(pq, sizeof pq, "%spage=%d", j->path, first + i);
        cr->reqs[i].kind = TMDB_REQ_JSON;
        if (tmdb_client_api_url(cr->cl, pq, cr->reqs[i].url) != 0) {
            err_set(e, "%s: the URL is too long", j->name);
            return CRAWL_ERR_INPUT;
        }
    }
    if (tmdb_client_run(cr->cl, cr->reqs, k, e) != TMDB_OK)
        return CRAWL_ERR_NET;
    for (int i = 0; rc == CRAWL_OK && i < k && first + i <= page_limit(j, *total); i++) {
        char what[300];

        snprintf(what, sizeof what, "%s page %d", j->name, first + i);
        rc = req_verdict(&cr->reqs[i], what, e);
        if (rc == CRAWL_OK)
            rc = commit_page(cr, j, first + i, &cr->reqs[i], total, e);
    }
    return rc;
}

/* Runs a paged list from its bookmark to its end. */
static int page_job_run(struct crawl *cr, const struct page_job *j, struct err *e)
{
    char key[300];
    int rc = CRAWL_OK, last, total;
    struct progress pr;

    snprintf(key, sizeof key, "%s.page", j->name);
    last = (int)state_long(cr, key, 0, e, &rc);
    snprintf(key, sizeof key, "%s.total", j->name);
    total = (int)state_long(cr, key, -1, e, &rc);
    if (cr->o.progress)
        progress_init(&pr, j->name, (uint64_t)page_limit(j, total));
    while (rc == CRAWL_OK && last < page_limit(j, total)) {
        int k = total < 0 ? 1 : page_limit(j, total) - last;

        if (stopping(cr)) {
            rc = CRAWL_ERR_STOPPED;
            break;
        }
        if (k > cr->o.batch)
            k = cr->o.batch;
        rc = page_batch(cr, j, last + 1, k, &total, e);
        snprintf(key, sizeof key, "%s.page", j->name);
        if (rc == CRAWL_OK || rc == CRAWL_ERR_STOPPED) {
            int now = (int)state_long(cr, key, last, e, &rc);

            if (cr->o.progress) {
                pr.total = (uint64_t)page_limit(j, total);
                progress_add(&pr, (uint64_t)(now - last));
            }
            last = now;
        }
    }
    if (cr->o.progress)
        progress_finish(&pr);
    return rc;
}

int crawl_popular(struct crawl *cr, int pages, struct err *e)
{
    struct page_job j = {.name = "popular", .path = "/person/popular?", .pages = pages};

    return page_job_run(cr, &j, e);
}

int crawl_top_rated(struct crawl *cr, int kind, int pages, struct err *e)
{
    struct page_job j = {.kind = kind, .pages = pages};

    j.name = kind == TMDB_KIND_TV ? "top_rated.tv" : "top_rated.movie";
    snprintf(j.path, sizeof j.path, "%s",
             kind == TMDB_KIND_TV ? "/tv/top_rated?" : "/movie/top_rated?");
    return page_job_run(cr, &j, e);
}

static const char *const discover_sorts[] = {
    "popularity.desc", "vote_count.desc",          "vote_average.desc",
    "popularity.asc",  "primary_release_date.asc", "primary_release_date.desc",
};

int crawl_discover(struct crawl *cr, int kind, int y0, int y1, int deep, int pages, struct err *e)
{
    int nsorts = deep ? (int)(sizeof discover_sorts / sizeof discover_sorts[0]) : 1;
    int rc = CRAWL_OK;

    for (int y = y0; rc == CRAWL_OK && y <= y1; y++) {
        for (int s = 0; rc == CRAWL_OK && s < nsorts; s++) {
            const char *k = kind == TMDB_KIND_TV ? "tv" : "movie";
            const char *sort = discover_sorts[s];
            struct page_job j = {.kind = kind, .pages = pages};
            char name[128];

            if (kind == TMDB_KIND_TV && strncmp(sort, "primary_release_date", 20) == 0)
                sort = s == 4 ? "first_air_date.asc" : "first_air_date.desc";
            snprintf(name, sizeof name, "discover.%s.%d.%s", k, y, sort);
            j.name = name;
            snprintf(j.path, sizeof j.path, "/discover/%s?%s=%d&sort_by=%s&", k,
                     kind == TMDB_KIND_TV ? "first_air_date_year" : "primary_release_year", y,
                     sort);
            rc = page_job_run(cr, &j, e);
        }
    }
    return rc;
}

/* ---- queue drains ---- */

/* One drain: its queue, how to make an item's requests and how to commit them. */
struct drain {
    const char *queue;
    int kind;
    /* Appends item's requests to reqs from *n; 0 or -1 when a URL does not fit. */
    int (*make)(struct crawl *cr, const struct catalog_queue_item *it, int kind,
                struct tmdb_req *reqs, int *n);
    /* Commits the item whose first request is reqs[0] (inside a transaction). */
    int (*use)(struct crawl *cr, const struct catalog_queue_item *it, int kind,
               struct tmdb_req *reqs, struct err *e);
};

static int make_credits(struct crawl *cr, const struct catalog_queue_item *it, int kind,
                        struct tmdb_req *reqs, int *n)
{
    char pq[128];

    snprintf(pq, sizeof pq,
             kind == TMDB_KIND_TV ? "/tv/%lld/aggregate_credits" : "/movie/%lld/credits",
             (long long)it->key);
    reqs[*n].kind = TMDB_REQ_JSON;
    return tmdb_client_api_url(cr->cl, pq, reqs[(*n)++].url);
}

/* Reads a title back from its queue data. */
static void title_from_data(const struct catalog_queue_item *it, int kind, struct tmdb_title *t)
{
    json_t *o = json_loads(it->data, 0, NULL);

    memset(t, 0, sizeof *t);
    t->id = it->key;
    t->kind = kind;
    snprintf(t->title, sizeof t->title, "%s",
             json_string_value(json_object_get(o, "title")) != NULL
                 ? json_string_value(json_object_get(o, "title"))
                 : "");
    t->year = (int)json_integer_value(json_object_get(o, "year"));
    t->popularity = json_number_value(json_object_get(o, "popularity"));
    json_decref(o);
}

static int use_credits(struct crawl *cr, const struct catalog_queue_item *it, int kind,
                       struct tmdb_req *reqs, struct err *e)
{
    struct tmdb_credits cs;
    struct tmdb_title t;
    struct err pe;
    int64_t tid, pid;
    int rc;

    title_from_data(it, kind, &t);
    if (tmdb_parse_credits(buf_str(&reqs[0].body), reqs[0].body.len, kind, &cs, &pe) !=
        TMDB_PARSE_OK) {
        log_warn("%s %lld: the cast does not parse: %s", crawl_credits_queue(kind),
                 (long long)it->key, pe.msg);
        cr->st.failed++;
        return cat_fail(catalog_queue_finish(cr->c, crawl_credits_queue(kind), it->key,
                                             CATALOG_QUEUE_FAILED, 200, NULL, e));
    }
    rc = t.title[0] != '\0' ? put_title(cr, &t, &tid, e) : CRAWL_OK;
    for (int i = 0; rc == CRAWL_OK && t.title[0] != '\0' && i < cs.n; i++) {
        rc = put_person(cr, &cs.cast[i], &pid, e);
        if (rc == CRAWL_OK)
            rc = put_credit(cr, pid, tid, &cs.cast[i], e);
    }
    tmdb_credits_release(&cs);
    if (rc == CRAWL_OK)
        rc = cat_fail(catalog_queue_finish(cr->c, crawl_credits_queue(kind), it->key,
                                           CATALOG_QUEUE_DONE, 200, NULL, e));
    return rc;
}

/* Commits one item: its data, or its failure when a request ended in a final 4xx. */
static int commit_item(struct crawl *cr, const struct drain *d, const struct catalog_queue_item *it,
                       struct tmdb_req *reqs, struct err *e)
{
    int rc = cat_fail(catalog_begin(cr->c, e));

    if (rc == CRAWL_OK && reqs[0].rc == TMDB_ERR_HTTP) {
        log_info("%s %lld: %s", d->queue, (long long)it->key, reqs[0].error);
        cr->st.failed++;
        rc = cat_fail(catalog_queue_finish(cr->c, d->queue, it->key, CATALOG_QUEUE_FAILED,
                                           (int)reqs[0].http, NULL, e));
    } else if (rc == CRAWL_OK) {
        rc = d->use(cr, it, d->kind, reqs, e);
    }
    if (rc == CRAWL_OK)
        rc = cat_fail(catalog_commit(cr->c, e));
    if (rc != CRAWL_OK)
        catalog_rollback(cr->c);
    cr->st.units += rc == CRAWL_OK;
    return rc;
}

/* Fetches and commits one batch of items; *after moves past every item looked at. */
static int drain_batch(struct crawl *cr, const struct drain *d, struct catalog_queue_item *items,
                       int n, struct err *e)
{
    int first[BATCH_MAX + 1], k = 0, rc = CRAWL_OK;

    for (int i = 0; i < n; i++) {
        first[i] = k;
        if (d->make(cr, &items[i], d->kind, cr->reqs, &k) != 0) {
            err_set(e, "%s: a URL is too long", d->queue);
            return CRAWL_ERR_INPUT;
        }
    }
    first[n] = k;
    if (tmdb_client_run(cr->cl, cr->reqs, k, e) != TMDB_OK)
        return CRAWL_ERR_NET;
    for (int i = 0; rc == CRAWL_OK && i < n; i++) {
        struct tmdb_req *r = &cr->reqs[first[i]];
        char what[128];

        snprintf(what, sizeof what, "%s %lld", d->queue, (long long)items[i].key);
        rc = req_verdict(r, what, e);
        if (rc == CRAWL_ERR_NET) {
            log_warn("%s; left for a later run", e->msg);
            cr->st.skipped++;
            rc = CRAWL_OK;
            continue;
        }
        if (rc == CRAWL_OK)
            rc = commit_item(cr, d, &items[i], r, e);
    }
    return rc;
}

/* Drains d's queue: every pending item, once per run. */
static int drain_run(struct crawl *cr, const struct drain *d, struct err *e)
{
    static struct catalog_queue_item items[BATCH_MAX];
    int64_t counts[3], after = 0;
    int rc = cat_fail(catalog_queue_count(cr->c, d->queue, counts, e)), n = 0;
    long done = 0;
    struct progress pr;

    if (rc != CRAWL_OK)
        return rc;
    if (cr->o.progress)
        progress_init(&pr, d->queue, (uint64_t)counts[CATALOG_QUEUE_PENDING]);
    while (rc == CRAWL_OK) {
        int want = cr->o.batch;

        if (cr->o.limit > 0 && cr->o.limit - done < want)
            want = (int)(cr->o.limit - done);
        if (want <= 0)
            break;
        if (stopping(cr)) {
            rc = CRAWL_ERR_STOPPED;
            break;
        }
        rc = cat_fail(catalog_queue_pending(cr->c, d->queue, after, items, want, &n, e));
        if (rc != CRAWL_OK || n == 0)
            break;
        rc = drain_batch(cr, d, items, n, e);
        after = items[n - 1].key;
        done += n;
        if (cr->o.progress)
            progress_add(&pr, (uint64_t)n);
    }
    if (cr->o.progress)
        progress_finish(&pr);
    return rc;
}

int crawl_credits(struct crawl *cr, int kind, struct err *e)
{
    struct drain d = {
        .queue = crawl_credits_queue(kind), .kind = kind, .make = make_credits, .use = use_credits};

    return drain_run(cr, &d, e);
}

/* ---- images ---- */

/* Orders profiles: wide enough first, then by vote average, vote count, position. */
static int profile_before(const struct tmdb_image *im, int a, int b, int min_width)
{
    int wa = im[a].width >= min_width, wb = im[b].width >= min_width;

    if (wa != wb)
        return wa;
    if (im[a].vote_average != im[b].vote_average)
        return im[a].vote_average > im[b].vote_average;
    if (im[a].vote_count != im[b].vote_count)
        return im[a].vote_count > im[b].vote_count;
    return a < b;
}

int crawl_pick_profiles(const struct tmdb_image *im, int n, int max, int min_width, int *pick)
{
    int k = 0;

    /* insertion into the best max so far */
    for (int i = 0; i < n; i++) {
        int pos = k;

        while (pos > 0 && profile_before(im, i, pick[pos - 1], min_width))
            pos--;
        if (pos >= max)
            continue;
        if (k < max)
            k++;
        memmove(&pick[pos + 1], &pick[pos], (size_t)(k - 1 - pos) * sizeof *pick);
        pick[pos] = i;
    }
    return k;
}

/* The width size s gives an image w x h; 0 when s is not a size. */
static int size_width(const char *s, int w, int h)
{
    long v;
    char *end;

    if (strcmp(s, "original") == 0)
        return w;
    errno = 0;
    v = strtol(s + 1, &end, 10);
    if (errno != 0 || *end != '\0' || v <= 0)
        return 0;
    if (s[0] == 'h')
        v = h > 0 ? (long)((double)v * w / h) : 0;
    return (int)(v < w ? v : w);
}

const char *crawl_pick_size(const struct tmdb_config *cfg, int w, int h, int want)
{
    const char *best = "original";
    int bw = 1 << 30;

    if (want > w && w > 0)
        want = w;
    for (int i = 0; i < cfg->nsizes; i++) {
        int sw = strcmp(cfg->sizes[i], "original") == 0 ? 0 : size_width(cfg->sizes[i], w, h);

        if (w <= 0 && cfg->sizes[i][0] == 'w')
            sw = (int)strtol(cfg->sizes[i] + 1, NULL, 10);
        if (sw >= want && sw > 0 && sw < bw) {
            best = cfg->sizes[i];
            bw = sw;
        }
    }
    return best;
}

/* Fetches /configuration once per crawler; the base URL may be overridden. */
static int load_config(struct crawl *cr, struct err *e)
{
    struct tmdb_req *r = &cr->reqs[0];
    struct err pe;
    int rc;

    if (cr->have_cfg)
        return CRAWL_OK;
    r->kind = TMDB_REQ_JSON;
    if (tmdb_client_api_url(cr->cl, "/configuration", r->url) != 0 ||
        tmdb_client_run(cr->cl, r, 1, e) != TMDB_OK)
        return CRAWL_ERR_NET;
    rc = req_verdict(r, "/configuration", e);
    if (rc == CRAWL_OK && r->rc != TMDB_OK) {
        err_set(e, "/configuration: %s", r->error);
        rc = CRAWL_ERR_NET;
    }
    if (rc == CRAWL_OK &&
        tmdb_parse_config(buf_str(&r->body), r->body.len, &cr->cfg, &pe) != TMDB_PARSE_OK) {
        err_set(e, "/configuration: %s", pe.msg);
        rc = CRAWL_ERR_NET;
    }
    if (rc == CRAWL_OK && cr->o.image_base != NULL)
        snprintf(cr->cfg.base_url, sizeof cr->cfg.base_url, "%s%s", cr->o.image_base,
                 cr->o.image_base[0] != '\0' &&
                         cr->o.image_base[strlen(cr->o.image_base) - 1] == '/'
                     ? ""
                     : "/");
    cr->have_cfg = rc == CRAWL_OK;
    return rc;
}

static int make_images(struct crawl *cr, const struct catalog_queue_item *it, int kind,
                       struct tmdb_req *reqs, int *n)
{
    char pq[128];

    (void)kind;
    snprintf(pq, sizeof pq, "/person/%lld/images", (long long)it->key);
    reqs[*n].kind = TMDB_REQ_JSON;
    return tmdb_client_api_url(cr->cl, pq, reqs[(*n)++].url);
}

/* One person's photos to fetch: the picked profiles, then the display size of the best. */
struct person_photos {
    int64_t tmdb_id;
    int n;                            /* downloads, the display one last */
    char file[8][TMDB_PATH_MAX + 16]; /* file name under photo_dir/<tmdb id>/ */
    int rank[8];                      /* 1.. ; 0 for the display copy */
};

/* Plans person's downloads from its images body, appending requests to reqs at *k. */
static void plan_photos(struct crawl *cr, const struct tmdb_req *r, struct person_photos *pp,
                        struct tmdb_req *reqs, int *k)
{
    struct tmdb_images im;
    struct err pe;
    int pick[8], n;

    pp->n = 0;
    if (r->rc != TMDB_OK ||
        tmdb_parse_images(buf_str(&r->body), r->body.len, &im, &pe) != TMDB_PARSE_OK)
        return;
    n = crawl_pick_profiles(im.profiles, im.n, cr->o.max_photos, cr->o.min_width, pick);
    for (int i = 0; i <= n && n > 0; i++) {
        const struct tmdb_image *p = &im.profiles[pick[i < n ? i : 0]];
        const char *size = i < n ? crawl_pick_size(&cr->cfg, p->width, p->height, cr->o.min_width)
                                 : crawl_pick_size(&cr->cfg, p->width, p->height, 185);

        snprintf(reqs[*k].url, TMDB_URL_LEN, "%s%s%s", cr->cfg.base_url, size, p->file_path);
        reqs[*k].kind = TMDB_REQ_IMAGE;
        (*k)++;
        pp->rank[pp->n] = i < n ? i + 1 : 0;
        snprintf(pp->file[pp->n++], sizeof pp->file[0], "%s%s",
                 i < n ? (const char *[]){"1_", "2_", "3_", "4_", "5_", "6_", "7_"}[i] : "display_",
                 p->file_path + 1);
    }
    tmdb_images_release(&im);
}

/* Writes data to path through a temporary file, so a kill leaves no half photo. */
static int write_file(const char *path, const struct buf *data, struct err *e)
{
    char tmp[4500];
    FILE *f;
    int ok;

    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    f = fopen(tmp, "wb");
    if (f == NULL) {
        err_set(e, "%s: %s", tmp, strerror(errno));
        return CRAWL_ERR_IO;
    }
    ok = fwrite(buf_str(data), 1, data->len, f) == data->len;
    ok = fclose(f) == 0 && ok;
    if (!ok || rename(tmp, path) != 0) {
        err_set(e, "%s: %s", path, strerror(errno));
        remove(tmp);
        return CRAWL_ERR_IO;
    }
    return CRAWL_OK;
}

/* Saves the downloaded photos of pp; writes the embed item's data (JSON, keys sorted)
 * into out. */
static int save_photos(struct crawl *cr, const struct person_photos *pp, struct tmdb_req *reqs,
                       struct buf *out, struct err *e)
{
    char dir[4096], path[4400], *text;
    json_t *o = json_object(), *photos = json_array();
    int rc = CRAWL_OK;

    snprintf(dir, sizeof dir, "%s/%lld", cr->o.photo_dir, (long long)pp->tmdb_id);
    if (pp->n > 0 && fs_mkdir_p(dir, e) != 0)
        rc = CRAWL_ERR_IO;
    for (int i = 0; rc == CRAWL_OK && i < pp->n; i++) {
        if (reqs[i].rc != TMDB_OK)
            continue; /* a photo gone from the CDN (404) */
        snprintf(path, sizeof path, "%s/%s", dir, pp->file[i]);
        rc = write_file(path, &reqs[i].body, e);
        cr->st.photos += rc == CRAWL_OK;
        if (rc == CRAWL_OK && pp->rank[i] > 0)
            json_array_append_new(
                photos, json_pack("{s:s, s:i}", "file", pp->file[i], "rank", pp->rank[i]));
        else if (rc == CRAWL_OK)
            json_object_set_new(o, "display", json_string(pp->file[i]));
    }
    json_object_set_new(o, "photos", photos);
    text = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
    if (rc == CRAWL_OK && (text == NULL || buf_puts(out, text) != BUF_OK)) {
        err_set(e, "images %lld: the photo list is too long", (long long)pp->tmdb_id);
        rc = CRAWL_ERR_IO;
    }
    free(text);
    json_decref(o);
    return rc;
}

/* Commits one person's photos: the images item done, an embed item queued. */
static int commit_photos(struct crawl *cr, const struct catalog_queue_item *it,
                         const struct tmdb_req *info, const struct person_photos *pp,
                         struct tmdb_req *downloads, struct err *e)
{
    struct buf data;
    int rc = CRAWL_OK;

    buf_init(&data, CATALOG_QUEUE_DATA_MAX - 1);
    if (info->rc == TMDB_OK)
        rc = save_photos(cr, pp, downloads, &data, e);
    if (rc == CRAWL_OK)
        rc = cat_fail(catalog_begin(cr->c, e));
    if (rc == CRAWL_OK && info->rc != TMDB_OK) {
        log_info("images %lld: %s", (long long)it->key, info->error);
        cr->st.failed++;
        rc = cat_fail(catalog_queue_finish(cr->c, CRAWL_Q_IMAGES, it->key, CATALOG_QUEUE_FAILED,
                                           (int)info->http, NULL, e));
    } else if (rc == CRAWL_OK) {
        rc = cat_fail(
            catalog_queue_finish(cr->c, CRAWL_Q_IMAGES, it->key, CATALOG_QUEUE_DONE, 200, NULL, e));
        if (rc == CRAWL_OK && pp->n > 0)
            rc =
                cat_fail(catalog_queue_add(cr->c, CRAWL_Q_EMBED, it->key, buf_str(&data), NULL, e));
    }
    if (rc == CRAWL_OK)
        rc = cat_fail(catalog_commit(cr->c, e));
    else
        catalog_rollback(cr->c);
    buf_release(&data);
    cr->st.units += rc == CRAWL_OK;
    return rc;
}

/* Returns the verdict over a person's downloads: a stop, a key refusal, or a network
 * failure that leaves the person for later. */
static int downloads_verdict(const struct tmdb_req *r, int n, struct err *e)
{
    for (int i = 0; i < n; i++) {
        int rc = req_verdict(&r[i], "a photo download", e);

        if (rc != CRAWL_OK)
            return rc;
    }
    return CRAWL_OK;
}

/* Fetches and commits one batch of people's photos. */
static int images_batch(struct crawl *cr, struct catalog_queue_item *items, int n, struct err *e)
{
    static struct person_photos pp[BATCH_MAX];
    struct tmdb_req *info = cr->reqs, *dl = cr->reqs + BATCH_MAX;
    int k = 0, first[BATCH_MAX + 1], rc = CRAWL_OK;

    for (int i = 0; i < n; i++) {
        int m = i;

        if (make_images(cr, &items[i], 0, info, &m) != 0)
            return CRAWL_ERR_INPUT;
    }
    if (tmdb_client_run(cr->cl, info, n, e) != TMDB_OK)
        return CRAWL_ERR_NET;
    for (int i = 0; i < n; i++) {
        pp[i].tmdb_id = items[i].key;
        first[i] = k;
        plan_photos(cr, &info[i], &pp[i], dl, &k);
    }
    first[n] = k;
    if (k > 0 && tmdb_client_run(cr->cl, dl, k, e) != TMDB_OK)
        return CRAWL_ERR_NET;
    for (int i = 0; rc == CRAWL_OK && i < n; i++) {
        char what[64];

        snprintf(what, sizeof what, "images %lld", (long long)items[i].key);
        rc = req_verdict(&info[i], what, e);
        if (rc == CRAWL_OK)
            rc = downloads_verdict(dl + first[i], first[i + 1] - first[i], e);
        if (rc == CRAWL_ERR_NET) {
            log_warn("images %lld: %s; left for a later run", (long long)items[i].key, e->msg);
            cr->st.skipped++;
            rc = CRAWL_OK;
            continue;
        }
        if (rc == CRAWL_OK)
            rc = commit_photos(cr, &items[i], &info[i], &pp[i], dl + first[i], e);
    }
    return rc;
}

int crawl_images(struct crawl *cr, struct err *e)
{
    static struct catalog_queue_item items[BATCH_MAX];
    int64_t counts[3], after = 0;
    int rc, n = 0;
    long done = 0;
    struct progress pr;

    if (cr->o.photo_dir == NULL) {
        err_set(e, "images: no photo folder");
        return CRAWL_ERR_INPUT;
    }
    rc = load_config(cr, e);
    if (rc == CRAWL_OK)
        rc = cat_fail(catalog_queue_count(cr->c, CRAWL_Q_IMAGES, counts, e));
    if (rc != CRAWL_OK)
        return rc;
    if (cr->o.progress)
        progress_init(&pr, "images", (uint64_t)counts[CATALOG_QUEUE_PENDING]);
    while (rc == CRAWL_OK) {
        int want = cr->o.batch;

        if (cr->o.limit > 0 && cr->o.limit - done < want)
            want = (int)(cr->o.limit - done);
        if (want <= 0)
            break;
        if (stopping(cr)) {
            rc = CRAWL_ERR_STOPPED;
            break;
        }
        rc = cat_fail(catalog_queue_pending(cr->c, CRAWL_Q_IMAGES, after, items, want, &n, e));
        if (rc != CRAWL_OK || n == 0)
            break;
        rc = images_batch(cr, items, n, e);
        after = items[n - 1].key;
        done += n;
        if (cr->o.progress)
            progress_add(&pr, (uint64_t)n);
    }
    if (cr->o.progress)
        progress_finish(&pr);
    return rc;
}

/* ---- exports ---- */

/* Commits the lines read so far with the bookmark. */
static int export_commit(struct crawl *cr, const char *key, long line, struct err *e)
{
    int rc = state_put_long(cr, key, line, e);

    if (rc == CRAWL_OK)
        rc = cat_fail(catalog_commit(cr->c, e));
    return rc;
}

/* Stores one export line (adult entries are left out). */
static int export_line(struct crawl *cr, const char *line, long no, struct err *e)
{
    struct tmdb_person p;
    struct err pe;
    int64_t id;

    if (tmdb_parse_export_line(line, strlen(line), &p, &pe) != TMDB_PARSE_OK) {
        err_set(e, "line %ld: %s", no, pe.msg);
        return CRAWL_ERR_INPUT;
    }
    if (p.adult)
        return CRAWL_OK;
    return put_person(cr, &p, &id, e);
}

int crawl_exports(struct crawl *cr, const char *path, struct err *e)
{
    char line[EXPORT_LINE_MAX + 2], key[512];
    const char *base = strrchr(path, '/') != NULL ? strrchr(path, '/') + 1 : path;
    gzFile f = gzopen(path, "rb");
    long no = 0, done;
    int rc = CRAWL_OK, open_tx = 0;

    if (f == NULL) {
        err_set(e, "%s: %s", path, strerror(errno));
        return CRAWL_ERR_INPUT;
    }
    snprintf(key, sizeof key, "exports.%s.line", base);
    done = state_long(cr, key, 0, e, &rc);
    while (rc == CRAWL_OK && gzgets(f, line, sizeof line) != NULL) {
        size_t n = strlen(line);

        no++;
        if (n > EXPORT_LINE_MAX) {
            err_set(e, "%s line %ld: longer than %d bytes", path, no, EXPORT_LINE_MAX);
            rc = CRAWL_ERR_INPUT;
            break;
        }
        if (no <= done || strspn(line, " \t\r\n") == n)
            continue;
        if (!open_tx) {
            rc = cat_fail(catalog_begin(cr->c, e));
            open_tx = rc == CRAWL_OK;
        }
        if (rc == CRAWL_OK)
            rc = export_line(cr, line, no, e);
        cr->st.units += rc == CRAWL_OK;
        if (rc == CRAWL_OK && no % EXPORT_BATCH == 0) {
            rc = export_commit(cr, key, no, e);
            open_tx = 0;
            if (stopping(cr))
                rc = CRAWL_ERR_STOPPED;
        }
    }
    if (rc == CRAWL_OK && !gzeof(f)) {
        err_set(e, "%s: a read error or a corrupt gzip stream", path);
        rc = CRAWL_ERR_INPUT;
    }
    if (rc == CRAWL_OK && open_tx)
        rc = export_commit(cr, key, no, e);
    else if (open_tx)
        catalog_rollback(cr->c);
    gzclose(f);
    return rc;
}
