/*
 * tmdb/pending: the photos the crawler downloaded, through the import pipeline.
 *
 * The images job only fetches; embedding costs a network pass per photo and wants the
 * models loaded once, so downloaded photos wait in the "embed" queue, each item naming a
 * person's files under photo_dir/<tmdb id>/ with their ranks. This turns a chunk of
 * items into import rows (catalog/source.h) and hands them to ingest_run, which skips
 * photos already stored, so a chunk interrupted before its items were marked done is
 * redone at no cost.
 */
#include "tmdb/crawl.h"

#include "catalog/ingest.h"
#include "catalog/source.h"
#include "util/xalloc.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>

#define CHUNK 256

/* Appends the rows of one queue item to src; items whose person is gone add nothing. */
static int item_rows(struct catalog *c, const char *photo_dir, const struct catalog_queue_item *it,
                     struct source *src, struct err *e)
{
    struct catalog_person p;
    json_t *o, *photos;
    size_t i;
    int rc = catalog_person_find_tmdb(c, it->key, &p, e);

    if (rc == CATALOG_NOT_FOUND)
        return CRAWL_OK;
    if (rc != CATALOG_OK)
        return CRAWL_ERR_CATALOG;
    o = json_loads(it->data, 0, NULL);
    photos = json_object_get(o, "photos");
    for (i = 0; i < json_array_size(photos); i++) {
        json_t *ph = json_array_get(photos, i);
        const char *file = json_string_value(json_object_get(ph, "file"));
        struct source_row *r;
        char path[4400];

        if (file == NULL || strchr(file, '/') != NULL)
            continue;
        snprintf(path, sizeof path, "%s/%lld/%s", photo_dir, (long long)it->key, file);
        if (src->n == src->cap) {
            src->cap = src->cap ? src->cap * 2 : 64;
            src->rows = xrealloc(src->rows, src->cap * sizeof *src->rows);
        }
        r = &src->rows[src->n++];
        memset(r, 0, sizeof *r);
        r->name = xstrdup(p.name);
        r->tmdb_id = it->key;
        r->photo = xstrdup(path);
        r->rank = (int)json_integer_value(json_object_get(ph, "rank"));
    }
    json_decref(o);
    return CRAWL_OK;
}

/* Marks n items done in one transaction. */
static int items_done(struct catalog *c, const struct catalog_queue_item *items, int n,
                      struct err *e)
{
    int rc = catalog_begin(c, e);

    for (int i = 0; rc == CATALOG_OK && i < n; i++)
        rc = catalog_queue_finish(c, CRAWL_Q_EMBED, items[i].key, CATALOG_QUEUE_DONE, 0, NULL, e);
    if (rc == CATALOG_OK)
        rc = catalog_commit(c, e);
    if (rc != CATALOG_OK)
        catalog_rollback(c);
    return rc == CATALOG_OK ? CRAWL_OK : CRAWL_ERR_CATALOG;
}

static void stats_add(struct ingest_stats *sum, const struct ingest_stats *s)
{
    sum->rows += s->rows;
    sum->people += s->people;
    sum->photos += s->photos;
    sum->ok += s->ok;
    sum->no_face += s->no_face;
    sum->decode_error += s->decode_error;
    sum->known += s->known;
    sum->unreadable += s->unreadable;
    sum->embeddings += s->embeddings;
    sum->seconds += s->seconds;
    sum->threads = s->threads;
}

/* Embeds one chunk of items. */
static int chunk_run(struct catalog *c, const char *photo_dir,
                     const struct catalog_queue_item *items, int n, const struct ingest_opts *io,
                     struct ingest_stats *st, struct err *e)
{
    struct ingest_stats one;
    struct source src;
    int rc = CRAWL_OK;

    source_init(&src);
    for (int i = 0; rc == CRAWL_OK && i < n; i++)
        rc = item_rows(c, photo_dir, &items[i], &src, e);
    if (rc == CRAWL_OK && src.n > 0) {
        memset(&one, 0, sizeof one);
        rc = ingest_run(c, &src, io, &one, e);
        stats_add(st, &one);
        rc = rc == INGEST_OK            ? CRAWL_OK
             : rc == INGEST_ERR_STOPPED ? CRAWL_ERR_STOPPED
                                        : CRAWL_ERR_CATALOG;
    }
    source_release(&src);
    return rc == CRAWL_OK ? items_done(c, items, n, e) : rc;
}

int crawl_embed_pending(struct catalog *c, const char *photo_dir, const struct ingest_opts *io,
                        struct ingest_stats *st, long *people, struct err *e)
{
    struct catalog_queue_item *items = xcalloc(CHUNK, sizeof *items);
    int rc = CRAWL_OK, n = 0;

    memset(st, 0, sizeof *st);
    *people = 0;
    while (rc == CRAWL_OK) {
        if (io->stop != NULL && *io->stop) {
            rc = CRAWL_ERR_STOPPED;
            break;
        }
        if (catalog_queue_pending(c, CRAWL_Q_EMBED, 0, items, CHUNK, &n, e) != CATALOG_OK)
            rc = CRAWL_ERR_CATALOG;
        if (rc != CRAWL_OK || n == 0)
            break;
        rc = chunk_run(c, photo_dir, items, n, io, st, e);
        *people += rc == CRAWL_OK ? n : 0;
    }
    free(items);
    return rc;
}
