/*
 * catalog: the backend-independent half. Every public function checks its arguments
 * here, so a backend only sees well-formed rows: names and titles arrive with their
 * normalised forms, vectors with a sane dimension and finite values. The averaging
 * iterator also lives here, over the backend's stream of per-photo rows (sorted by
 * person, best rank first), so every backend averages the same way: each vector scaled
 * to unit length, summed in double precision, the sum scaled to unit length (the mean
 * and the sum point the same way).
 */
#include "catalog/backend.h"

#include "names/normalize.h"
#include "util/xalloc.h"

#include <assert.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

struct catalog_vecs {
    struct catalog *c;
    int mode;
    int dim; /* of the first row; every row must have it */
    int done;
    double *sum;    /* [CATALOG_DIM_MAX] running sum of unit vectors */
    float *out;     /* [CATALOG_DIM_MAX] the average handed out */
    float *pending; /* [CATALOG_DIM_MAX] first row of the next person */
    int has_pending;
    int64_t pending_person;
};

static const char *const status_names[] = {"ok", "no_face", "decode_error"};
static const char *const kind_names[] = {"", "movie", "tv"};

const char *catalog_status_name(int status)
{
    return status >= 0 && status < 3 ? status_names[status] : "?";
}

const char *catalog_kind_name(int kind)
{
    return kind >= 0 && kind < 3 ? kind_names[kind] : "?";
}

/* 1 when the fixed array s of n bytes holds a NUL (a C string that fits). */
static int fits(const char *s, size_t n)
{
    return memchr(s, '\0', n) != NULL;
}

/* Normalises s (a name or a title) into out; refuses bad UTF-8 and names with no letter
 * or digit. */
static int normalize(const char *s, const char *what, struct buf *out, struct err *e)
{
    int rc = norm_name(s, strlen(s), CATALOG_NAME_MAX, out);

    if (rc == NORM_ERR_UTF8) {
        err_set(e, "%s is not valid UTF-8", what);
        return CATALOG_ERR_INPUT;
    }
    if (rc != NORM_OK || out->len == 0) {
        err_set(e, "%s '%s' has no letters or digits", what, s);
        return CATALOG_ERR_INPUT;
    }
    return CATALOG_OK;
}

int catalog_open(const char *location, int flags, struct catalog **out, struct err *e)
{
    *out = NULL;
    if (strncmp(location, "postgres://", 11) == 0 || strncmp(location, "postgresql://", 13) == 0) {
        err_set(e, "%s: this build of doppel has no PostgreSQL backend", location);
        return CATALOG_ERR_BACKEND;
    }
    if (strncmp(location, "sqlite:", 7) == 0)
        location += 7;
    if (*location == '\0') {
        err_set(e, "no catalogue location given");
        return CATALOG_ERR_OPEN;
    }
    return catalog_sqlite_open(location, flags, out, e);
}

void catalog_close(struct catalog *c)
{
    if (c != NULL)
        c->ops->close(c);
}

int catalog_begin(struct catalog *c, struct err *e)
{
    return c->ops->begin(c, e);
}

int catalog_commit(struct catalog *c, struct err *e)
{
    return c->ops->commit(c, e);
}

void catalog_rollback(struct catalog *c)
{
    c->ops->rollback(c);
}

int catalog_begin_read(struct catalog *c, struct err *e)
{
    return c->ops->begin_read(c, e);
}

static int check_person(const struct catalog_person *p, struct err *e)
{
    if (!fits(p->name, sizeof p->name) || !fits(p->department, sizeof p->department)) {
        err_set(e, "person: name or department not terminated");
        return CATALOG_ERR_INPUT;
    }
    if (p->tmdb_id < 0 || p->gender < 0 || p->gender > 3 || p->birth_year < 0 ||
        !(p->popularity >= 0)) {
        err_set(e, "person %s: tmdb id, gender, birth year or popularity out of range", p->name);
        return CATALOG_ERR_INPUT;
    }
    return CATALOG_OK;
}

int catalog_person_upsert(struct catalog *c, const struct catalog_person *p, int64_t *id,
                          int *created, struct err *e)
{
    struct buf norm;
    int rc = check_person(p, e);

    buf_init(&norm, 0);
    if (rc == CATALOG_OK)
        rc = normalize(p->name, "person name", &norm, e);
    if (rc == CATALOG_OK)
        rc = c->ops->person_upsert(c, p, buf_str(&norm), id, created, e);
    buf_release(&norm);
    return rc;
}

int catalog_person_get(struct catalog *c, int64_t id, struct catalog_person *out, struct err *e)
{
    return c->ops->person_get(c, id, 0, NULL, out, e);
}

int catalog_person_find_tmdb(struct catalog *c, int64_t tmdb_id, struct catalog_person *out,
                             struct err *e)
{
    if (tmdb_id <= 0)
        return CATALOG_NOT_FOUND;
    return c->ops->person_get(c, 0, tmdb_id, NULL, out, e);
}

int catalog_person_find_name(struct catalog *c, const char *name, struct catalog_person *out,
                             struct err *e)
{
    struct buf norm;
    int rc;

    buf_init(&norm, 0);
    rc = norm_name(name, strlen(name), CATALOG_NAME_MAX, &norm);
    if (rc == NORM_ERR_UTF8) {
        err_set(e, "person name is not valid UTF-8");
        rc = CATALOG_ERR_INPUT;
    } else if (rc != NORM_OK || norm.len == 0) {
        rc = CATALOG_NOT_FOUND;
    } else {
        rc = c->ops->person_get(c, 0, 0, buf_str(&norm), out, e);
    }
    buf_release(&norm);
    return rc;
}

int catalog_people_list(struct catalog *c, int (*fn)(void *ctx, const struct catalog_person *p),
                        void *ctx, struct err *e)
{
    return c->ops->people_list(c, fn, ctx, e);
}

/* 1 when s is 64 lower-case hex digits. */
static int is_sha256(const char *s)
{
    size_t i;

    for (i = 0; i < 64; i++) {
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
            return 0;
    }
    return s[i] == '\0';
}

int catalog_photo_add(struct catalog *c, const struct catalog_photo *ph, int64_t *id, int *created,
                      struct err *e)
{
    if (ph->person_id <= 0 || !is_sha256(ph->sha256) || ph->status < 0 || ph->status > 2 ||
        !fits(ph->source, sizeof ph->source) || !fits(ph->reason, sizeof ph->reason) ||
        ph->rank < 0 || ph->faces < 0) {
        err_set(e, "photo %.200s: person, sha256, status or rank out of range",
                fits(ph->source, sizeof ph->source) ? ph->source : "?");
        return CATALOG_ERR_INPUT;
    }
    return c->ops->photo_add(c, ph, id, created, e);
}

int catalog_photos_known(struct catalog *c, const char *space,
                         int (*fn)(void *ctx, const char *sha256, int status, int embedded),
                         void *ctx, struct err *e)
{
    return c->ops->photos_known(c, space, fn, ctx, e);
}

/* 1 when s is a non-empty label shorter than CATALOG_TEXT_MAX. */
static int is_label(const char *s)
{
    return s != NULL && *s != '\0' && strlen(s) < CATALOG_TEXT_MAX;
}

int catalog_embedding_put(struct catalog *c, const struct catalog_embedding *em, int *created,
                          struct err *e)
{
    if (em->photo_id <= 0 || !is_label(em->space) || !is_label(em->model) ||
        !is_label(em->version) || em->dim < 1 || em->dim > CATALOG_DIM_MAX || em->v == NULL) {
        err_set(e, "embedding: photo, space, model, version or dimension out of range");
        return CATALOG_ERR_INPUT;
    }
    for (int i = 0; i < em->dim; i++) {
        if (!isfinite(em->v[i])) {
            err_set(e, "embedding of photo %lld: component %d is not finite",
                    (long long)em->photo_id, i);
            return CATALOG_ERR_INPUT;
        }
    }
    return c->ops->embedding_put(c, em, created, e);
}

int catalog_vecs_open(struct catalog *c, const struct catalog_vec_query *q,
                      struct catalog_vecs **out, struct err *e)
{
    int max = q->max_photos, rc;
    struct catalog_vecs *it;

    *out = NULL;
    if (!is_label(q->space) || (q->model != NULL && !is_label(q->model)) || q->mode < 0 ||
        q->mode > CATALOG_VEC_PHOTOS || max < -1 || q->person_id < 0) {
        err_set(e, "vector query: space, model, mode or photo count out of range");
        return CATALOG_ERR_INPUT;
    }
    if (c->iterating) {
        err_set(e, "a vector iteration is already open on this catalogue");
        return CATALOG_ERR_INPUT;
    }
    if (max == 0 && q->mode == CATALOG_VEC_AVERAGE)
        max = CATALOG_AVG_PHOTOS;
    rc = c->ops->vec_open(c, q->space, q->model, max < 0 ? 0 : max, q->person_id, e);
    if (rc != CATALOG_OK)
        return rc;
    it = xcalloc(1, sizeof *it);
    it->c = c;
    it->mode = q->mode;
    it->sum = xcalloc(CATALOG_DIM_MAX, sizeof *it->sum);
    it->out = xcalloc(CATALOG_DIM_MAX, sizeof *it->out);
    it->pending = xcalloc(CATALOG_DIM_MAX, sizeof *it->pending);
    c->iterating = 1;
    *out = it;
    return CATALOG_OK;
}

/* Reads the backend's next row, checking its dimension against the first row's. */
static int next_row(struct catalog_vecs *it, struct catalog_vec_row *row, struct err *e)
{
    int rc = it->c->ops->vec_next(it->c, row, e);

    if (rc != CATALOG_OK)
        return rc;
    if (row->dim < 1 || row->dim > CATALOG_DIM_MAX || (it->dim != 0 && row->dim != it->dim)) {
        err_set(e, "photo %lld: a %d-d vector among %d-d ones; name the model",
                (long long)row->photo_id, row->dim, it->dim);
        return CATALOG_ERR_INPUT;
    }
    it->dim = row->dim;
    return CATALOG_OK;
}

/* Adds v scaled to unit length to the running sum; returns 1, or 0 for a zero vector. */
static int sum_add(double *sum, const float *v, int dim)
{
    double n = 0;

    for (int i = 0; i < dim; i++)
        n += (double)v[i] * v[i];
    if (n == 0)
        return 0;
    n = 1 / sqrt(n);
    for (int i = 0; i < dim; i++)
        sum[i] += v[i] * n;
    return 1;
}

/* Writes sum / count, scaled to unit length, into out (zeros when the sum is zero). */
static void sum_finish(const double *sum, int dim, int count, float *out)
{
    double n = 0;

    for (int i = 0; i < dim; i++)
        n += (sum[i] / count) * (sum[i] / count);
    n = n > 0 ? 1 / sqrt(n) : 0;
    for (int i = 0; i < dim; i++)
        out[i] = (float)(sum[i] / count * n);
}

/* One person's average: the pending row (or the next one) and every following row of the
 * same person; the first row of the next person is kept pending. */
static int next_average(struct catalog_vecs *it, struct catalog_vec *out, struct err *e)
{
    struct catalog_vec_row row;
    int64_t person;
    int count = 0, rc = CATALOG_OK;

    if (!it->has_pending) {
        rc = next_row(it, &row, e);
        if (rc != CATALOG_OK)
            return rc;
        memcpy(it->pending, row.v, sizeof(float) * (size_t)row.dim);
        it->pending_person = row.person_id;
    }
    person = it->pending_person;
    memset(it->sum, 0, sizeof(double) * (size_t)it->dim);
    count += sum_add(it->sum, it->pending, it->dim);
    it->has_pending = 0;
    while ((rc = next_row(it, &row, e)) == CATALOG_OK && row.person_id == person)
        count += sum_add(it->sum, row.v, it->dim);
    if (rc == CATALOG_OK) {
        memcpy(it->pending, row.v, sizeof(float) * (size_t)row.dim);
        it->pending_person = row.person_id;
        it->has_pending = 1;
    } else if (rc != CATALOG_DONE) {
        return rc;
    }
    it->done = !it->has_pending;
    if (count > 0)
        sum_finish(it->sum, it->dim, count, it->out);
    else
        memset(it->out, 0, sizeof(float) * (size_t)it->dim);
    *out = (struct catalog_vec){person, 0, count, it->dim, it->out};
    return CATALOG_OK;
}

int catalog_vecs_next(struct catalog_vecs *it, struct catalog_vec *out, struct err *e)
{
    struct catalog_vec_row row;
    int rc;

    if (it->done)
        return CATALOG_DONE;
    if (it->mode == CATALOG_VEC_AVERAGE)
        return next_average(it, out, e);
    rc = next_row(it, &row, e);
    if (rc == CATALOG_DONE)
        it->done = 1;
    if (rc != CATALOG_OK)
        return rc;
    *out = (struct catalog_vec){row.person_id, row.photo_id, 1, row.dim, row.v};
    return CATALOG_OK;
}

void catalog_vecs_close(struct catalog_vecs *it)
{
    if (it == NULL)
        return;
    assert(it->c->iterating);
    it->c->ops->vec_close(it->c);
    it->c->iterating = 0;
    free(it->pending);
    free(it->out);
    free(it->sum);
    free(it);
}

int catalog_title_upsert(struct catalog *c, const struct catalog_title *t, int64_t *id,
                         int *created, struct err *e)
{
    struct buf norm;
    int rc = CATALOG_OK;

    if (!fits(t->title, sizeof t->title) || t->kind < 0 || t->kind > 2 || t->tmdb_id < 0 ||
        t->year < 0 || !(t->popularity >= 0)) {
        err_set(e, "title: kind, tmdb id, year or popularity out of range");
        return CATALOG_ERR_INPUT;
    }
    buf_init(&norm, 0);
    rc = normalize(t->title, "title", &norm, e);
    if (rc == CATALOG_OK)
        rc = c->ops->title_upsert(c, t, buf_str(&norm), id, created, e);
    buf_release(&norm);
    return rc;
}

int catalog_credit_put(struct catalog *c, const struct catalog_credit *cr, int *created,
                       struct err *e)
{
    if (cr->person_id <= 0 || cr->title_id <= 0 || cr->order < 0 || cr->episodes < 0 ||
        !fits(cr->character, sizeof cr->character)) {
        err_set(e, "credit: person, title, order or episode count out of range");
        return CATALOG_ERR_INPUT;
    }
    return c->ops->credit_put(c, cr, created, e);
}

int catalog_person_photo(struct catalog *c, int64_t person_id, char *out, size_t n,
                         struct err *e)
{
    if (n > 0)
        out[0] = '\0';
    return c->ops->person_photo(c, person_id, out, n, e);
}

int catalog_best_photos(struct catalog *c,
                        int (*fn)(void *ctx, int64_t person_id, const char *source), void *ctx,
                        struct err *e)
{
    return c->ops->best_photos(c, fn, ctx, e);
}

int catalog_known_for(struct catalog *c, int64_t person_id, struct catalog_known *out, int max,
                      int *n, struct err *e)
{
    *n = 0;
    if (max <= 0)
        return CATALOG_OK;
    return c->ops->known_for(c, person_id, out, max, n, e);
}

int catalog_person_photos(struct catalog *c, int64_t person_id, struct catalog_photo *out,
                          int max, int *n, struct err *e)
{
    *n = 0;
    if (max <= 0)
        return CATALOG_OK;
    return c->ops->person_photos(c, person_id, out, max, n, e);
}

int catalog_title_get(struct catalog *c, int64_t id, struct catalog_title *out, struct err *e)
{
    memset(out, 0, sizeof *out);
    return c->ops->title_get(c, id, out, e);
}

int catalog_titles_search(struct catalog *c, const char *query, struct catalog_title *out,
                          int max, int *n, struct err *e)
{
    struct buf norm;
    int rc;

    *n = 0;
    buf_init(&norm, 0);
    rc = norm_name(query, strlen(query), CATALOG_NAME_MAX, &norm);
    if (rc == NORM_OK && norm.len > 0 && max > 0)
        rc = c->ops->titles_search(c, buf_str(&norm), out, max, n, e);
    else
        rc = CATALOG_OK;
    buf_release(&norm);
    return rc;
}

int catalog_title_cast(struct catalog *c, int64_t title_id, struct catalog_cast *out, int max,
                       int *n, struct err *e)
{
    *n = 0;
    if (max <= 0)
        return CATALOG_OK;
    return c->ops->title_cast(c, title_id, out, max, n, e);
}

int catalog_stats(struct catalog *c, struct catalog_stats *out, struct err *e)
{
    memset(out, 0, sizeof *out);
    return c->ops->stats(c, out, e);
}

int catalog_state_get(struct catalog *c, const char *key, struct buf *value, int *found,
                      struct err *e)
{
    *found = 0;
    return c->ops->state_get(c, key, value, found, e);
}

int catalog_state_set(struct catalog *c, const char *key, const char *value, struct err *e)
{
    if (*key == '\0') {
        err_set(e, "crawl state: empty key");
        return CATALOG_ERR_INPUT;
    }
    return c->ops->state_set(c, key, value, e);
}

/* Refuses an empty queue name or data longer than an item holds. */
static int queue_check(const char *queue, const char *data, struct err *e)
{
    if (*queue == '\0') {
        err_set(e, "crawl queue: empty name");
        return CATALOG_ERR_INPUT;
    }
    if (data != NULL && strlen(data) >= CATALOG_QUEUE_DATA_MAX) {
        err_set(e, "crawl queue %s: data of %zu bytes is over the limit", queue, strlen(data));
        return CATALOG_ERR_INPUT;
    }
    return CATALOG_OK;
}

int catalog_queue_add(struct catalog *c, const char *queue, int64_t key, const char *data,
                      int *created, struct err *e)
{
    int rc = queue_check(queue, data, e);

    if (created != NULL)
        *created = 0;
    return rc != CATALOG_OK ? rc : c->ops->queue_add(c, queue, key, data, created, e);
}

int catalog_queue_pending(struct catalog *c, const char *queue, int64_t after,
                          struct catalog_queue_item *out, int max, int *n, struct err *e)
{
    *n = 0;
    if (max <= 0)
        return CATALOG_OK;
    return c->ops->queue_pending(c, queue, after, out, max, n, e);
}

int catalog_queue_finish(struct catalog *c, const char *queue, int64_t key, int state,
                         int status, const char *data, struct err *e)
{
    int rc = queue_check(queue, data, e);

    if (rc == CATALOG_OK && (state < CATALOG_QUEUE_PENDING || state > CATALOG_QUEUE_FAILED)) {
        err_set(e, "crawl queue %s: bad state %d", queue, state);
        rc = CATALOG_ERR_INPUT;
    }
    return rc != CATALOG_OK ? rc : c->ops->queue_finish(c, queue, key, state, status, data, e);
}

int catalog_queue_count(struct catalog *c, const char *queue, int64_t counts[3],
                        struct err *e)
{
    counts[0] = counts[1] = counts[2] = 0;
    return c->ops->queue_count(c, queue, counts, e);
}
