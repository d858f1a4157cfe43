/*
 * backend: what a catalogue backend implements, for src/catalog only.
 *
 * catalog.c checks arguments, normalises names and titles, and averages vectors; a
 * backend stores and finds rows. A backend's handle starts with struct catalog (its ops
 * table), so the public functions dispatch through c->ops. The dedupe rules of
 * catalog.h (TMDB id, normalised name, sha256, (photo, space, model)) are the backend's
 * to enforce, inside its own transactions.
 */
#ifndef DOPPEL_CATALOG_BACKEND_H
#define DOPPEL_CATALOG_BACKEND_H

#include "catalog/catalog.h"

/* One stored photo vector, as the averaging iterator reads them. */
struct catalog_vec_row {
    int64_t person_id;
    int64_t photo_id;
    int dim;
    const float *v; /* borrowed until the next vec_next */
};

struct catalog_ops {
    void (*close)(struct catalog *c);
    int (*begin)(struct catalog *c, struct err *e);
    int (*commit)(struct catalog *c, struct err *e);
    void (*rollback)(struct catalog *c);
    int (*begin_read)(struct catalog *c, struct err *e);
    /* norm is the normalised name; created may be NULL. */
    int (*person_upsert)(struct catalog *c, const struct catalog_person *p, const char *norm,
                         int64_t *id, int *created, struct err *e);
    /* By id (tmdb_id 0, norm NULL), by TMDB id (norm NULL) or by normalised name. */
    int (*person_get)(struct catalog *c, int64_t id, int64_t tmdb_id, const char *norm,
                      struct catalog_person *out, struct err *e);
    int (*people_list)(struct catalog *c, int (*fn)(void *ctx, const struct catalog_person *p),
                       void *ctx, struct err *e);
    int (*photo_add)(struct catalog *c, const struct catalog_photo *ph, int64_t *id, int *created,
                     struct err *e);
    int (*photos_known)(struct catalog *c, const char *space,
                        int (*fn)(void *ctx, const char *sha256, int status, int embedded),
                        void *ctx, struct err *e);
    int (*embedding_put)(struct catalog *c, const struct catalog_embedding *em, int *created,
                         struct err *e);
    /* Rows of ok photos with a vector in space (and model when not NULL), by person, then
     * best rank first; at most max per person (0 = all); person 0 = everyone. */
    int (*vec_open)(struct catalog *c, const char *space, const char *model, int max,
                    int64_t person, struct err *e);
    int (*vec_next)(struct catalog *c, struct catalog_vec_row *row, struct err *e);
    void (*vec_close)(struct catalog *c);
    int (*title_upsert)(struct catalog *c, const struct catalog_title *t, const char *norm,
                        int64_t *id, int *created, struct err *e);
    int (*credit_put)(struct catalog *c, const struct catalog_credit *cr, int *created,
                      struct err *e);
    int (*person_photo)(struct catalog *c, int64_t person_id, char *out, size_t n,
                        struct err *e);
    int (*best_photos)(struct catalog *c,
                       int (*fn)(void *ctx, int64_t person_id, const char *source), void *ctx,
                       struct err *e);
    int (*known_for)(struct catalog *c, int64_t person_id, struct catalog_known *out, int max,
                     int *n, struct err *e);
    int (*stats)(struct catalog *c, struct catalog_stats *out, struct err *e);
    int (*state_get)(struct catalog *c, const char *key, struct buf *value, int *found,
                     struct err *e);
    int (*state_set)(struct catalog *c, const char *key, const char *value, struct err *e);
    int (*person_photos)(struct catalog *c, int64_t person_id, struct catalog_photo *out,
                         int max, int *n, struct err *e);
    int (*title_get)(struct catalog *c, int64_t id, struct catalog_title *out, struct err *e);
    /* norm is the normalised query, non-empty. */
    int (*titles_search)(struct catalog *c, const char *norm, struct catalog_title *out, int max,
                         int *n, struct err *e);
    int (*title_cast)(struct catalog *c, int64_t title_id, struct catalog_cast *out, int max,
                      int *n, struct err *e);
    int (*queue_add)(struct catalog *c, const char *queue, int64_t key, const char *data,
                     int *created, struct err *e);
    /* Appends to out[*n..max) the pending items with key > after, in key order. */
    int (*queue_pending)(struct catalog *c, const char *queue, int64_t after,
                         struct catalog_queue_item *out, int max, int *n, struct err *e);
    int (*queue_finish)(struct catalog *c, const char *queue, int64_t key, int state,
                        int status, const char *data, struct err *e);
    int (*queue_count)(struct catalog *c, const char *queue, int64_t counts[3], struct err *e);
};

struct catalog {
    const struct catalog_ops *ops;
    int iterating; /* a catalog_vecs is open */
};

/* Opens (flags: enum catalog_open_flags) or creates the SQLite catalogue at path and
 * migrates it. Caller closes with catalog_close. */
int catalog_sqlite_open(const char *path, int flags, struct catalog **out, struct err *e);

#endif
