/*
 * titles: the header decides the columns once; each row is then cut into its cast
 * names in a scratch buffer (separators become NULs) and handed to the callback. The
 * import commits every TITLES_BATCH rows: a 9,000-title file is a few transactions, and
 * an interruption loses one batch, which the next run adds again.
 */
#include "catalog/titles.h"

#include "util/buf.h"
#include "util/csv.h"
#include "util/xalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define TITLES_BATCH  2000
#define ACTOR_COLUMNS 3

struct columns {
    int title, year, kind, cast;
    int actor[ACTOR_COLUMNS]; /* used when there is no cast column */
};

/* Finds the columns in the header record; TITLES_ERR_FORMAT when title or cast lacks. */
static int find_columns(const struct csv *c, struct columns *col, struct err *e)
{
    static const char *const title[] = {"title", "movie_title", "primaryTitle", "primary_title",
                                        NULL};
    static const char *const year[] = {"year",      "release_year", "title_year",
                                       "startYear", "start_year",   NULL};
    static const char *const kind[] = {"type",       "kind",       "titleType",
                                       "title_type", "media_type", NULL};
    static const char *const cast[] = {"cast", "actors", "stars", NULL};
    static const char *const actor[ACTOR_COLUMNS][2] = {
        {"actor_1_name", NULL}, {"actor_2_name", NULL}, {"actor_3_name", NULL}};
    int any_actor = 0;

    col->title = csv_find(c, title);
    col->year = csv_find(c, year);
    col->kind = csv_find(c, kind);
    col->cast = csv_find(c, cast);
    for (int i = 0; i < ACTOR_COLUMNS; i++) {
        col->actor[i] = csv_find(c, actor[i]);
        any_actor |= col->actor[i] >= 0;
    }
    if (col->title < 0) {
        err_set(e,
                "line %ld: no title column (title, movie_title or primaryTitle) in the "
                "header",
                c->line);
        return TITLES_ERR_FORMAT;
    }
    if (col->cast < 0 && !any_actor) {
        err_set(e,
                "line %ld: no cast column (cast, actors, stars or actor_1_name) in the "
                "header",
                c->line);
        return TITLES_ERR_FORMAT;
    }
    return TITLES_OK;
}

int titles_parse_kind(const char *s)
{
    static const char *const movie[] = {"movie", "film", "tvmovie", "tv movie", "short", "video"};
    static const char *const tv[] = {"tv",           "tv show",        "tv series", "tvseries",
                                     "tvminiseries", "tv mini series", "series",    "show"};
    size_t n;

    while (*s == ' ')
        s++;
    n = strlen(s);
    while (n > 0 && s[n - 1] == ' ')
        n--;
    for (size_t i = 0; i < sizeof movie / sizeof movie[0]; i++) {
        if (n == strlen(movie[i]) && strncasecmp(s, movie[i], n) == 0)
            return CATALOG_TITLE_MOVIE;
    }
    for (size_t i = 0; i < sizeof tv / sizeof tv[0]; i++) {
        if (n == strlen(tv[i]) && strncasecmp(s, tv[i], n) == 0)
            return CATALOG_TITLE_TV;
    }
    return CATALOG_TITLE_UNKNOWN;
}

int titles_parse_year(const char *s)
{
    int y = 0, i;

    while (*s == ' ')
        s++;
    for (i = 0; i < 4 && s[i] >= '0' && s[i] <= '9'; i++)
        y = y * 10 + (s[i] - '0');
    if (i < 4 || (s[4] >= '0' && s[4] <= '9') || y < 1870 || y > 2200)
        return 0;
    return y;
}

/* Trims blanks (space, tab, no-break space) from both ends of s in place; returns s. */
static char *trim(char *s)
{
    size_t n;

    for (;;) {
        if (*s == ' ' || *s == '\t')
            s++;
        else if ((unsigned char)s[0] == 0xC2 && (unsigned char)s[1] == 0xA0)
            s += 2;
        else
            break;
    }
    n = strlen(s);
    for (;;) {
        if (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t'))
            n--;
        else if (n > 1 && (unsigned char)s[n - 2] == 0xC2 && (unsigned char)s[n - 1] == 0xA0)
            n -= 2;
        else
            break;
    }
    s[n] = '\0';
    return s;
}

/* Splits list at any of seps into trimmed, non-empty names in out (at most max); the
 * names point into list, which is modified. Returns the count. */
static int split(char *list, const char *seps, const char **out, int max)
{
    int n = 0;
    char *p = list;

    while (p != NULL && n < max) {
        char *sep = strpbrk(p, seps), *name;

        if (sep != NULL)
            *sep = '\0';
        name = trim(p);
        if (*name != '\0')
            out[n++] = name;
        p = sep != NULL ? sep + 1 : NULL;
    }
    return n;
}

/* Appends s and its NUL to b; returns where it starts. */
static size_t stash(struct buf *b, const char *s)
{
    size_t at = b->len;

    buf_append(b, s, strlen(s) + 1);
    return at;
}

/* Copies the row's title and cast fields into scratch and fills r from the copies. */
static void read_row(const struct csv *c, const struct columns *col, struct buf *scratch,
                     struct titles_row *r)
{
    size_t title, cast[ACTOR_COLUMNS];
    int ncols = 0;

    buf_reset(scratch);
    title = stash(scratch, csv_field(c, (size_t)col->title));
    if (col->cast >= 0)
        cast[ncols++] = stash(scratch, csv_field(c, (size_t)col->cast));
    for (int i = 0; i < ACTOR_COLUMNS && col->cast < 0; i++) {
        if (col->actor[i] >= 0)
            cast[ncols++] = stash(scratch, csv_field(c, (size_t)col->actor[i]));
    }
    r->title = trim(scratch->data + title);
    r->year = col->year >= 0 ? titles_parse_year(csv_field(c, (size_t)col->year)) : 0;
    r->kind =
        col->kind >= 0 ? titles_parse_kind(csv_field(c, (size_t)col->kind)) : CATALOG_TITLE_UNKNOWN;
    r->line = c->line;
    r->ncast = 0;
    for (int i = 0; i < ncols; i++)
        r->ncast +=
            split(scratch->data + cast[i], ",|", r->cast + r->ncast, TITLES_CAST_MAX - r->ncast);
}

/* Reads the header, then calls fn for every row. */
static int parse_rows(struct csv *c,
                      int (*fn)(void *ctx, const struct titles_row *row, struct err *e), void *ctx,
                      struct err *e)
{
    struct titles_row r;
    struct columns col;
    struct buf scratch;
    int rc = csv_next(c, e), stop = 0;

    if (rc == CSV_DONE)
        err_set(e, "the file is empty (a header line is needed)");
    if (rc != CSV_OK)
        return TITLES_ERR_FORMAT;
    rc = find_columns(c, &col, e);
    if (rc != TITLES_OK)
        return rc;
    buf_init(&scratch, 0);
    while (stop == 0 && (rc = csv_next(c, e)) == CSV_OK) {
        read_row(c, &col, &scratch, &r);
        stop = fn(ctx, &r, e);
    }
    buf_release(&scratch);
    if (stop != 0)
        return stop;
    return rc == CSV_DONE ? TITLES_OK : TITLES_ERR_FORMAT;
}

int titles_parse(const char *text, size_t n,
                 int (*fn)(void *ctx, const struct titles_row *row, struct err *e), void *ctx,
                 struct err *e)
{
    struct csv c;
    int rc;

    csv_init(&c, text, n, 0);
    rc = parse_rows(&c, fn, ctx, e);
    csv_release(&c);
    return rc;
}

struct import_ctx {
    struct catalog *c;
    struct titles_stats *st;
    long in_batch;
};

/* Links one cast name to the title when it names a person of the catalogue. */
static int link_cast(struct import_ctx *x, int64_t title_id, const char *name, int order,
                     struct err *e)
{
    struct catalog_person p;
    struct catalog_credit cr = {0};
    int created, rc = catalog_person_find_name(x->c, name, &p, e);

    if (rc == CATALOG_NOT_FOUND || rc == CATALOG_ERR_INPUT)
        return CATALOG_OK;
    if (rc != CATALOG_OK)
        return rc;
    cr.person_id = p.id;
    cr.title_id = title_id;
    cr.order = order;
    rc = catalog_credit_put(x->c, &cr, &created, e);
    x->st->credits += rc == CATALOG_OK;
    x->st->credits_new += rc == CATALOG_OK && created;
    return rc;
}

/* Commits every TITLES_BATCH rows and starts the next transaction. */
static int batch_step(struct import_ctx *x, struct err *e)
{
    int rc;

    if (++x->in_batch < TITLES_BATCH)
        return CATALOG_OK;
    x->in_batch = 0;
    rc = catalog_commit(x->c, e);
    return rc == CATALOG_OK ? catalog_begin(x->c, e) : rc;
}

static int import_row(void *ctx, const struct titles_row *r, struct err *e)
{
    struct import_ctx *x = ctx;
    struct catalog_title t = {0};
    int64_t id;
    int created, rc;

    x->st->rows++;
    snprintf(t.title, sizeof t.title, "%s", r->title);
    t.year = r->year;
    t.kind = r->kind;
    rc = strlen(r->title) < sizeof t.title ? catalog_title_upsert(x->c, &t, &id, &created, e)
                                           : CATALOG_ERR_INPUT;
    if (rc == CATALOG_ERR_INPUT) {
        x->st->skipped++;
        return TITLES_OK;
    }
    x->st->titles_new += rc == CATALOG_OK && created;
    for (int i = 0; i < r->ncast && rc == CATALOG_OK; i++)
        rc = link_cast(x, id, r->cast[i], i + 1, e);
    if (rc == CATALOG_OK)
        rc = batch_step(x, e);
    if (rc != CATALOG_OK)
        err_prefix(e, "line %ld", r->line);
    return rc == CATALOG_OK ? TITLES_OK : TITLES_ERR_CATALOG;
}

int titles_import(struct catalog *c, const char *text, size_t n, struct titles_stats *st,
                  struct err *e)
{
    struct import_ctx x = {c, st, 0};
    int rc;

    memset(st, 0, sizeof *st);
    if (catalog_begin(c, e) != CATALOG_OK)
        return TITLES_ERR_CATALOG;
    rc = titles_parse(text, n, import_row, &x, e);
    if (rc == TITLES_OK && catalog_commit(c, e) != CATALOG_OK)
        rc = TITLES_ERR_CATALOG;
    if (rc != TITLES_OK)
        catalog_rollback(c);
    return rc;
}

int titles_add_known_for(struct catalog *c, int64_t person_id, const char *list, struct err *e)
{
    const char *names[TITLES_CAST_MAX];
    char *copy = xstrdup(list);
    int n = split(copy, ";|", names, TITLES_CAST_MAX), rc = CATALOG_OK;

    for (int i = 0; i < n && rc == CATALOG_OK; i++) {
        struct catalog_title t = {0};
        struct catalog_credit cr = {0};

        if (strlen(names[i]) >= sizeof t.title)
            continue;
        snprintf(t.title, sizeof t.title, "%s", names[i]);
        rc = catalog_title_upsert(c, &t, &cr.title_id, NULL, e);
        if (rc == CATALOG_ERR_INPUT) {
            rc = CATALOG_OK;
            continue;
        }
        cr.person_id = person_id;
        if (rc == CATALOG_OK)
            rc = catalog_credit_put(c, &cr, NULL, e);
    }
    free(copy);
    return rc;
}
