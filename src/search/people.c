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
    size_t n, cap;
    int64_t *ids; /* ascending */
    int64_t *tmdb;
    size_t *name_off;  /* into pool */
    size_t *photo_off; /* into pool; 0 is the pool's leading "" */
    char *pool;
    struct buf b;    /* the pool while loading */
    size_t next;     /* the merge pass's position */
    const char *why; /* what stopped the load */
};

/* Appends s and its NUL to the pool; 1 (stop) when it is full. */
static int keep(struct people *pp, const char *s)
{
    if (buf_append(&pp->b, s, strlen(s) + 1) == BUF_OK)
        return 0;
    pp->why = "out of memory for the people";
    return 1;
}

static int add_person(void *arg, const struct catalog_person *p)
{
    struct people *pp = arg;

    if (pp->n > 0 && p->id <= pp->ids[pp->n - 1]) {
        pp->why = "the catalogue listed people out of id order";
        return 1;
    }
    if (pp->n == pp->cap) {
        pp->cap = pp->cap ? 2 * pp->cap : 1024;
        pp->ids = xrealloc(pp->ids, pp->cap * sizeof *pp->ids);
        pp->tmdb = xrealloc(pp->tmdb, pp->cap * sizeof *pp->tmdb);
        pp->name_off = xrealloc(pp->name_off, pp->cap * sizeof *pp->name_off);
        pp->photo_off = xrealloc(pp->photo_off, pp->cap * sizeof *pp->photo_off);
    }
    pp->ids[pp->n] = p->id;
    pp->tmdb[pp->n] = p->tmdb_id;
    pp->name_off[pp->n] = pp->b.len;
    pp->photo_off[pp->n++] = 0;
    return keep(pp, p->name);
}

static int add_photo(void *arg, int64_t person_id, const char *source)
{
    struct people *pp = arg;

    while (pp->next < pp->n && pp->ids[pp->next] < person_id)
        pp->next++;
    if (pp->next == pp->n || pp->ids[pp->next] != person_id)
        return 0; /* a photo of someone added since the people were read */
    pp->photo_off[pp->next] = pp->b.len;
    return keep(pp, source);
}

int people_load(struct catalog *c, struct people **out, struct err *e)
{
    struct people *pp = xcalloc(1, sizeof *pp);
    int rc;

    *out = NULL;
    buf_init(&pp->b, (size_t)-1 / 2);
    buf_putc(&pp->b, '\0');
    rc = catalog_people_list(c, add_person, pp, e);
    if (rc == CATALOG_OK)
        rc = catalog_best_photos(c, add_photo, pp, e);
    if (rc != CATALOG_OK) {
        if (pp->why != NULL) {
            err_set(e, "%s", pp->why);
            rc = CATALOG_ERR_DB;
        }
        buf_release(&pp->b);
        people_free(pp);
        return rc;
    }
    pp->pool = buf_detach(&pp->b, NULL);
    *out = pp;
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
