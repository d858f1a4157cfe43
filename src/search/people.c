/*
 * people: parallel arrays in person id order (the catalogue lists people that way), the
 * strings in one pool; a card is found by binary search on the ids. Photos arrive in the
 * same order, so they are matched to people in one merge pass.
 */
#include "search/people.h"

#include "util/buf.h"
#include "util/xalloc.h"

#include <stdlib.h>
#include <string.h>

struct people {
    size_t n;
    int64_t *ids; /* ascending */
    int64_t *tmdb;
    size_t *name_off;  /* into pool */
    size_t *photo_off; /* into pool; 0 is the pool's leading "" */
    char *pool;
};

/* people_load's state between the catalogue's callbacks. */
struct loader {
    struct people *p;
    size_t cap;
    struct buf pool;
    size_t next;     /* the photo pass's position */
    const char *why; /* what stopped the load */
};

/* Appends s and its NUL to the pool; 1 (stop) when it is full. */
static int keep(struct loader *l, const char *s)
{
    if (buf_append(&l->pool, s, strlen(s) + 1) == BUF_OK)
        return 0;
    l->why = "out of memory for the people";
    return 1;
}

static int add_person(void *arg, const struct catalog_person *person)
{
    struct loader *l = arg;
    struct people *p = l->p;

    if (p->n > 0 && person->id <= p->ids[p->n - 1]) {
        l->why = "the catalogue listed people out of id order";
        return 1;
    }
    if (p->n == l->cap) {
        l->cap = l->cap ? 2 * l->cap : 1024;
        p->ids = xrealloc(p->ids, l->cap * sizeof *p->ids);
        p->tmdb = xrealloc(p->tmdb, l->cap * sizeof *p->tmdb);
        p->name_off = xrealloc(p->name_off, l->cap * sizeof *p->name_off);
        p->photo_off = xrealloc(p->photo_off, l->cap * sizeof *p->photo_off);
    }
    p->ids[p->n] = person->id;
    p->tmdb[p->n] = person->tmdb_id;
    p->name_off[p->n] = l->pool.len;
    p->photo_off[p->n++] = 0;
    return keep(l, person->name);
}

static int add_photo(void *arg, int64_t person_id, const char *source)
{
    struct loader *l = arg;
    struct people *p = l->p;

    while (l->next < p->n && p->ids[l->next] < person_id)
        l->next++;
    if (l->next == p->n || p->ids[l->next] != person_id)
        return 0; /* a photo of someone added since the people were read */
    p->photo_off[l->next] = l->pool.len;
    return keep(l, source);
}

int people_load(struct catalog *c, struct people **out, struct err *e)
{
    struct loader l = {.p = xcalloc(1, sizeof *l.p)};
    int rc;

    *out = NULL;
    buf_init(&l.pool, (size_t)-1 / 2);
    buf_putc(&l.pool, '\0');
    rc = catalog_people_list(c, add_person, &l, e);
    if (rc == CATALOG_OK)
        rc = catalog_best_photos(c, add_photo, &l, e);
    if (rc != CATALOG_OK) {
        if (l.why != NULL) {
            err_set(e, "%s", l.why);
            rc = CATALOG_ERR_DB;
        }
        buf_release(&l.pool);
        people_free(l.p);
        return rc;
    }
    l.p->pool = buf_detach(&l.pool, NULL);
    *out = l.p;
    return CATALOG_OK;
}

void people_free(struct people *p)
{
    if (p == NULL)
        return;
    free(p->ids);
    free(p->tmdb);
    free(p->name_off);
    free(p->photo_off);
    free(p->pool);
    free(p);
}

size_t people_count(const struct people *p)
{
    return p->n;
}

int people_get(const struct people *p, int64_t id, struct people_card *out)
{
    size_t lo = 0, hi = p->n;

    /* Ids are usually dense (SQLite hands them out in order): try the row they would
     * have if none were missing, then search. */
    if (p->n > 0 && id >= p->ids[0] && (uint64_t)(id - p->ids[0]) < p->n &&
        p->ids[id - p->ids[0]] == id)
        lo = hi = (size_t)(id - p->ids[0]);
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;

        if (p->ids[mid] < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo == p->n || p->ids[lo] != id)
        return 0;
    out->id = id;
    out->tmdb_id = p->tmdb[lo];
    out->name = p->pool + p->name_off[lo];
    out->photo = p->pool + p->photo_off[lo];
    return 1;
}

void people_prefetch(const struct people *p, int64_t id)
{
    if (p->n > 0 && id >= p->ids[0] && (uint64_t)(id - p->ids[0]) < p->n) {
        size_t i = (size_t)(id - p->ids[0]);

        __builtin_prefetch(&p->ids[i]);
        __builtin_prefetch(&p->photo_off[i]);
    }
}
