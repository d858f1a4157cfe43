/*
 * search: the catalogue, its indexes and the face models behind doppel's questions.
 *
 * Index files are a derived cache of the catalogue: search_build_index reads each
 * person's averaged vector (catalog_vecs, the seed system's averaging) and writes the
 * space's file atomically, so a running reader keeps its mapping until it reopens.
 * search_open opens every space's file that exists; a space without one answers
 * SEARCH_ERR_INDEX with the command that builds it. Name lookups use the name index over
 * the catalogue's people (src/names), built on first use.
 */
#include "search/search.h"

#include "core/paths.h"
#include "face/embed.h"
#include "face/identity.h"
#include "index/hnsw.h"
#include "index/index.h"
#include "index/near.h"
#include "names/lists.h"
#include "names/names.h"
#include "nn/model.h"
#include "search/people.h"
#include "util/clock.h"
#include "util/fs.h"
#include "util/log.h"
#include "util/progress.h"
#include "util/xalloc.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define NSPACES 3
#define IDENTIFY_CANDIDATES 5 /* people whose photos a face is compared with */

static const char *const space_names[NSPACES] = {"look", "identity", "clip"};

struct search {
    struct catalog *cat;
    char data_dir[4096];
    const char *models_dir;
    struct index *ix[NSPACES];
    struct near *near[NSPACES]; /* look-alike lists, NULL where none */
    int threads;
    struct nn_ctx *ctx;
    struct face_detector *det;
    struct embedder *emb;
    struct identity *idm;
    struct names_index *names; /* over people, row i = ids[i] */
    struct names_lists *name_lists; /* its whole names' fuzzy answers, NULL where none */
    int64_t *ids;
    int exact;                 /* scan even where a graph exists */
    uint32_t ef;               /* graph candidates, 0 = default */
    int gender;                /* filter: 0 = none */
    uint64_t *allow[NSPACES];  /* the filter's rows per space, built on first use */
    /* Hits are described from these when set (borrowed), else from the catalogue. */
    const struct people *people;
    struct search_photo_times times; /* of the last search_photo */
};

static int space_of(const char *name)
{
    for (int i = 0; i < NSPACES; i++)
        if (strcmp(space_names[i], name) == 0)
            return i;
    return -1;
}

/* DATA/index/<space>.<ext> into out: the index ("idx"), its graph ("hnsw") or its
 * look-alike lists ("near"). Returns -1 when it does not fit. */
static int space_file(char *out, size_t n, const char *data_dir, const char *space,
                      const char *ext)
{
    int w = snprintf(out, n, "%s/index/%s.%s", data_dir, space, ext);

    return w < 0 || (size_t)w >= n ? -1 : 0;
}

/* The space's near lists when there are some and ix has its graph; one that does not
 * open is refused with a warning, and look-alikes are searched for instead. */
static struct near *open_near(const struct index *ix, const char *data_dir, const char *space)
{
    char path[4200];
    struct near *nl = NULL;
    struct err e;

    if (index_get_hnsw(ix) == NULL || space_file(path, sizeof path, data_dir, space, "near") != 0 ||
        !fs_is_file(path))
        return NULL;
    if (near_open(path, ix, &nl, &e) != INDEX_OK)
        log_warn("%s; searching for %s look-alikes instead (rebuild with doppel index build "
                 "--space %s)", e.msg, space, space);
    return nl;
}

/* Attaches the space's graph file to ix when there is one. A graph that does not open
 * (corrupt, or built for an older index) is refused with a warning naming the file and
 * the problem, and searches of the space scan exactly. */
static void open_graph(struct index *ix, const char *data_dir, const char *space)
{
    char path[4200];
    struct hnsw *g;
    struct err e;

    if (space_file(path, sizeof path, data_dir, space, "hnsw") != 0 || !fs_is_file(path))
        return;
    if (hnsw_open(path, ix, &g, &e) != INDEX_OK) {
        log_warn("%s; searching %s exactly (rebuild with doppel index build --space %s)", e.msg,
                 space, space);
        return;
    }
    index_attach_hnsw(ix, g);
}

int search_open(const char *data_dir, const char *models_dir, int threads, struct search **out,
                struct err *e)
{
    struct search *s = xcalloc(1, sizeof *s);
    char path[4200];

    *out = NULL;
    snprintf(s->data_dir, sizeof s->data_dir, "%s", data_dir);
    s->models_dir = models_dir;
    s->threads = threads > 0 ? threads : (int)sysconf(_SC_NPROCESSORS_ONLN);
    s->threads = s->threads < 1 ? 1 : s->threads > INDEX_THREADS_MAX ? INDEX_THREADS_MAX : s->threads;
    if (paths_join(path, sizeof path, data_dir, CATALOG_FILE) != 0 ||
        catalog_open(path, 0, &s->cat, e) != CATALOG_OK) {
        if (s->cat == NULL && e->msg[0] == '\0')
            err_set(e, "the data folder's path is too long");
        free(s);
        return SEARCH_ERR_CATALOG;
    }
    for (int i = 0; i < NSPACES; i++) {
        struct err ie;

        if (space_file(path, sizeof path, data_dir, space_names[i], "idx") == 0 && fs_is_file(path) &&
            index_open(path, space_names[i], &s->ix[i], &ie) != INDEX_OK) {
            err_set(e, "%s (rebuild it with doppel index build --space %s)", ie.msg,
                    space_names[i]);
            search_close(s);
            return SEARCH_ERR_INDEX;
        }
        if (s->ix[i] != NULL) {
            open_graph(s->ix[i], data_dir, space_names[i]);
            s->near[i] = open_near(s->ix[i], data_dir, space_names[i]);
        }
    }
    *out = s;
    return SEARCH_OK;
}

void search_close(struct search *s)
{
    if (s == NULL)
        return;
    for (int i = 0; i < NSPACES; i++) {
        near_free(s->near[i]);
        index_close(s->ix[i]);
        free(s->allow[i]);
    }
    names_index_free(s->names);
    names_lists_free(s->name_lists);
    free(s->ids);
    identity_free(s->idm);
    embedder_free(s->emb);
    face_detector_free(s->det);
    nn_ctx_free(s->ctx);
    catalog_close(s->cat);
    free(s);
}

struct catalog *search_catalog(struct search *s)
{
    return s->cat;
}

/* ---- index build ------------------------------------------------------------------- */

/* The model that made the space's vectors, from the catalogue's counts ("" if none). */
static void space_model(struct catalog *c, const char *space, char *model, size_t n)
{
    struct catalog_stats st;
    struct err e;

    model[0] = '\0';
    if (catalog_stats(c, &st, &e) != CATALOG_OK)
        return;
    for (int i = 0; i < st.nspaces; i++)
        if (strcmp(st.spaces[i].space, space) == 0)
            snprintf(model, n, "%s", st.spaces[i].model);
}

/* Reads every person's averaged vector in space into *vecs and *ids (caller frees). */
static int read_averages(struct catalog *c, const char *space, int max_photos, float **vecs,
                         int64_t **ids, int64_t *count, uint32_t *dim, struct err *e)
{
    struct catalog_vec_query q = {space, NULL, CATALOG_VEC_AVERAGE, max_photos, 0};
    struct catalog_vecs *it;
    struct catalog_vec v;
    size_t cap = 0;
    int rc;

    *vecs = NULL, *ids = NULL, *count = 0, *dim = 0;
    if (catalog_vecs_open(c, &q, &it, e) != CATALOG_OK)
        return SEARCH_ERR_CATALOG;
    while ((rc = catalog_vecs_next(it, &v, e)) == CATALOG_OK) {
        if ((size_t)*count == cap) {
            cap = cap ? 2 * cap : 1024;
            *ids = xrealloc(*ids, sizeof **ids * cap);
            *vecs = xrealloc(*vecs, sizeof **vecs * cap * (size_t)v.dim);
        }
        *dim = (uint32_t)v.dim;
        (*ids)[*count] = v.person_id;
        memcpy(*vecs + (size_t)*count * (size_t)v.dim, v.v, sizeof(float) * (size_t)v.dim);
        (*count)++;
    }
    catalog_vecs_close(it);
    return rc == CATALOG_DONE ? SEARCH_OK : SEARCH_ERR_CATALOG;
}

/* Builds the graph of the index just written at ipath, from the old graph file when one
 * opens (only its ids and links are reused), and writes it beside the index. */
static int build_graph(const char *ipath, const char *gpath, const char *space,
                       const struct search_build_opts *o, struct search_build_info *info,
                       struct err *e)
{
    struct hnsw_params p = {o->m, o->efc, o->seed, o->threads, NULL};
    struct progress pr;
    char label[64];
    struct hnsw_update_stats st = {0};
    struct index *ix = NULL;
    struct hnsw *old = NULL, *g = NULL;
    double t0 = clock_now();
    struct err oe;
    int rc = SEARCH_ERR_INDEX;

    if (p.threads <= 0)
        p.threads = (int)sysconf(_SC_NPROCESSORS_ONLN);
    if (index_open(ipath, space, &ix, e) != INDEX_OK)
        goto out;
    if (fs_is_file(gpath) && hnsw_open(gpath, NULL, &old, &oe) != INDEX_OK)
        log_warn("%s; building the graph whole", oe.msg);
    snprintf(label, sizeof label, "%s graph", space);
    progress_init(&pr, label, old == NULL ? index_get_meta(ix)->count : 0);
    p.progress = &pr;
    rc = old != NULL ? hnsw_update(old, ix, &p, &g, &st, e) : hnsw_build(ix, &p, &g, e);
    progress_finish(&pr);
    if (rc != INDEX_OK || hnsw_write(g, gpath, e) != INDEX_OK) {
        rc = SEARCH_ERR_INDEX;
        goto out;
    }
    info->graph = 1;
    info->graph_full = old == NULL || st.full;
    info->kept = st.kept;
    info->removed = st.removed;
    info->inserted = old == NULL ? index_get_meta(ix)->count : st.inserted;
    info->graph_seconds = clock_now() - t0;
    info->graph_ef = hnsw_ef(g, &info->graph_recall);
    info->graph_tune_rows = hnsw_tune_rows(g);
    rc = SEARCH_OK;
out:
    hnsw_free(g);
    hnsw_free(old);
    index_close(ix);
    return rc;
}

/* Finds every person's look-alikes through the graph just written (index/near.h) and
 * writes them beside it. */
static int build_near(const char *ipath, const char *gpath, const char *npath,
                      const char *space, const struct search_build_opts *o,
                      struct search_build_info *info, struct err *e)
{
    struct index *ix = NULL;
    struct hnsw *g = NULL;
    struct near *nl = NULL;
    struct progress pr;
    char label[64];
    double t0 = clock_now();
    int threads = o->threads > 0 ? o->threads : (int)sysconf(_SC_NPROCESSORS_ONLN), rc;

    if (index_open(ipath, space, &ix, e) != INDEX_OK || hnsw_open(gpath, ix, &g, e) != INDEX_OK) {
        index_close(ix);
        return SEARCH_ERR_INDEX;
    }
    index_attach_hnsw(ix, g);
    snprintf(label, sizeof label, "%s look-alikes", space);
    progress_init(&pr, label, index_get_meta(ix)->count);
    rc = near_build(ix, NEAR_K, threads, &pr, &nl, e);
    progress_finish(&pr);
    if (rc == INDEX_OK)
        rc = near_write(nl, npath, e);
    near_free(nl);
    index_close(ix);
    if (rc != INDEX_OK)
        return SEARCH_ERR_INDEX;
    info->near = 1;
    info->near_seconds = clock_now() - t0;
    return SEARCH_OK;
}

/* Removes path if it is there; a failure is only worth a warning. */
static void remove_stale(const char *path, const char *what)
{
    if (unlink(path) != 0 && errno != ENOENT)
        log_warn("cannot remove the stale %s %s: %s", what, path, strerror(errno));
}

int search_build_index_ex(struct catalog *c, const char *data_dir, const char *space,
                          const struct search_build_opts *o, struct search_build_info *info,
                          struct err *e)
{
    struct index_meta meta = {{0}, {0}, 0, 0};
    char dir[4200], path[4200], gpath[4200], npath[4200];
    float *vecs = NULL;
    int64_t *ids = NULL, count, min = o->graph_min < 0 ? HNSW_MIN_ROWS_DEFAULT : o->graph_min;
    int rc;

    memset(info, 0, sizeof *info);
    if (space_of(space) < 0 || strlen(space) >= sizeof meta.space) {
        err_set(e, "unknown space '%s' (look or identity)", space);
        return SEARCH_ERR_INPUT;
    }
    rc = read_averages(c, space, o->max_photos, &vecs, &ids, &count, &meta.dim, e);
    if (rc == SEARCH_OK && count == 0) {
        err_set(e, "the catalogue has no %s vectors (doppel import first)", space);
        rc = SEARCH_ERR_INPUT;
    }
    if (rc == SEARCH_OK && (snprintf(dir, sizeof dir, "%s/index", data_dir) >= (int)sizeof dir ||
                            space_file(path, sizeof path, data_dir, space, "idx") != 0 ||
                            space_file(gpath, sizeof gpath, data_dir, space, "hnsw") != 0 ||
                            space_file(npath, sizeof npath, data_dir, space, "near") != 0)) {
        err_set(e, "the data folder's path is too long");
        rc = SEARCH_ERR_INPUT;
    }
    if (rc == SEARCH_OK && fs_mkdir_p(dir, e) != FS_OK)
        rc = SEARCH_ERR_INDEX;
    if (rc == SEARCH_OK) {
        snprintf(meta.space, sizeof meta.space, "%s", space);
        space_model(c, space, meta.model, sizeof meta.model);
        meta.count = (uint64_t)count;
        rc = index_write(path, &meta, vecs, ids, e) == INDEX_OK ? SEARCH_OK : SEARCH_ERR_INDEX;
    }
    free(ids);
    free(vecs);
    if (rc == SEARCH_OK)
        info->people = count;
    if (rc == SEARCH_OK && count >= min) {
        /* The old lists name rows of the old index: gone before the new index is used. */
        remove_stale(npath, "look-alike lists");
        rc = build_graph(path, gpath, space, o, info, e);
        if (rc == SEARCH_OK && !o->no_near)
            rc = build_near(path, gpath, npath, space, o, info, e);
    } else if (rc == SEARCH_OK) {
        remove_stale(gpath, "graph");
        remove_stale(npath, "look-alike lists");
    }
    return rc;
}

int search_build_index(struct catalog *c, const char *data_dir, const char *space,
                       int max_photos, int64_t *people, struct err *e)
{
    struct search_build_opts o = {max_photos, -1, 0, 0, HNSW_SEED_DEFAULT, 0, 0};
    struct search_build_info info;
    int rc = search_build_index_ex(c, data_dir, space, &o, &info, e);

    *people = info.people;
    return rc;
}

void search_set_mode(struct search *s, int exact, uint32_t ef)
{
    s->exact = exact;
    s->ef = ef;
}

void search_set_gender(struct search *s, int gender)
{
    s->gender = gender;
    for (int i = 0; i < NSPACES; i++) {
        free(s->allow[i]);
        s->allow[i] = NULL;
    }
}

/* ---- people ------------------------------------------------------------------------ */

struct name_list {
    char **names;
    double *pop;
    int64_t *ids;
    size_t n, cap;
};

static int add_name(void *arg, const struct catalog_person *p)
{
    struct name_list *l = arg;

    if (l->n == l->cap) {
        l->cap = l->cap ? 2 * l->cap : 1024;
        l->names = xrealloc(l->names, sizeof *l->names * l->cap);
        l->pop = xrealloc(l->pop, sizeof *l->pop * l->cap);
        l->ids = xrealloc(l->ids, sizeof *l->ids * l->cap);
    }
    l->names[l->n] = xstrdup(p->name);
    l->pop[l->n] = p->popularity;
    l->ids[l->n++] = p->id;
    return 0;
}

/* The name index over the catalogue's people (row i is person ids[i]). */
static int names_from_catalog(struct catalog *c, struct names_index **names, int64_t **ids,
                              struct err *e)
{
    struct name_list l = {0};
    int rc = SEARCH_OK;

    if (catalog_people_list(c, add_name, &l, e) != CATALOG_OK)
        rc = SEARCH_ERR_CATALOG;
    else if (names_index_build((const char *const *)l.names, l.pop, l.n, names, e) != 0)
        rc = SEARCH_ERR_CATALOG;
    for (size_t i = 0; i < l.n; i++)
        free(l.names[i]);
    free(l.names);
    free(l.pop);
    if (rc == SEARCH_OK)
        *ids = l.ids;
    else
        free(l.ids);
    return rc;
}

static int names_file(char *out, size_t n, const char *data_dir)
{
    return snprintf(out, n, "%s/index/names.near", data_dir) >= (int)n ? -1 : 0;
}

/* Builds the name index once, with the lists `doppel index build` made when they are
 * there and made from these names (else the fuzzy path answers alone, as fast as before
 * them: a warning says why). */
static int load_names(struct search *s, struct err *e)
{
    char path[4200];
    struct err le;
    int rc;

    if (s->names != NULL)
        return SEARCH_OK;
    rc = names_from_catalog(s->cat, &s->names, &s->ids, e);
    if (rc != SEARCH_OK || names_file(path, sizeof path, s->data_dir) != 0 || !fs_is_file(path))
        return rc;
    if (names_lists_open(path, s->names, &s->name_lists, &le) == NAMES_LISTS_OK)
        names_index_use_lists(s->names, s->name_lists);
    else
        log_warn("%s; name search goes on without them (doppel index build remakes them)", le.msg);
    return SEARCH_OK;
}

const struct names_index *search_names(struct search *s, const int64_t **ids, struct err *e)
{
    if (load_names(s, e) != SEARCH_OK)
        return NULL;
    *ids = s->ids;
    return s->names;
}

int search_build_names(struct catalog *c, const char *data_dir, const struct search_build_opts *o,
                       struct search_build_info *info, struct err *e)
{
    struct names_index *names = NULL;
    struct names_lists *nl = NULL;
    int64_t *ids = NULL, min = o->graph_min < 0 ? HNSW_MIN_ROWS_DEFAULT : o->graph_min;
    int threads = o->threads > 0 ? o->threads : (int)sysconf(_SC_NPROCESSORS_ONLN), rc;
    char path[4200], dir[4200];
    struct progress pr;
    double t0 = clock_now();

    memset(info, 0, sizeof *info);
    if (names_file(path, sizeof path, data_dir) != 0 ||
        snprintf(dir, sizeof dir, "%s/index", data_dir) >= (int)sizeof dir) {
        err_set(e, "the data folder's path is too long");
        return SEARCH_ERR_INPUT;
    }
    rc = names_from_catalog(c, &names, &ids, e);
    if (rc == SEARCH_OK)
        info->people = (int64_t)names_index_count(names);
    if (rc == SEARCH_OK && (info->people < min || info->people == 0 || o->no_near)) {
        remove_stale(path, "name lists");
    } else if (rc == SEARCH_OK) {
        progress_init(&pr, "name lists", (uint64_t)info->people);
        rc = names_lists_build(names, NAMES_LIST_K, threads, &pr, &nl, e) == NAMES_LISTS_OK
                 ? SEARCH_OK
                 : SEARCH_ERR_INPUT;
        progress_finish(&pr);
        if (rc == SEARCH_OK && fs_mkdir_p(dir, e) != FS_OK)
            rc = SEARCH_ERR_INDEX;
        if (rc == SEARCH_OK && names_lists_write(nl, path, e) != NAMES_LISTS_OK)
            rc = SEARCH_ERR_INDEX;
        info->near = rc == SEARCH_OK;
        info->near_seconds = clock_now() - t0;
    }
    names_lists_free(nl);
    names_index_free(names);
    free(ids);
    return rc;
}

/* Parses a whole decimal number >= 1; returns 0 on success. */
static int parse_id(const char *s, int64_t *out)
{
    char *end;
    long long v;

    if (*s < '0' || *s > '9')
        return -1;
    errno = 0;
    v = strtoll(s, &end, 10);
    if (errno != 0 || *end != '\0' || v < 1)
        return -1;
    *out = v;
    return 0;
}

static int from_catalog(int rc)
{
    return rc == CATALOG_OK ? SEARCH_OK : rc == CATALOG_NOT_FOUND ? SEARCH_NOT_FOUND
                                                                   : SEARCH_ERR_CATALOG;
}

int search_find_person(struct search *s, const char *query, struct catalog_person *out,
                       int *guessed, struct err *e)
{
    struct names_hit hit;
    size_t nhits = 0;
    int64_t id;
    int rc;

    *guessed = 0;
    if (parse_id(query, &id) == 0)
        return from_catalog(catalog_person_get(s->cat, id, out, e));
    if (strncmp(query, "tmdb:", 5) == 0 && parse_id(query + 5, &id) == 0)
        return from_catalog(catalog_person_find_tmdb(s->cat, id, out, e));
    rc = catalog_person_find_name(s->cat, query, out, e);
    if (rc != CATALOG_NOT_FOUND)
        return from_catalog(rc);
    rc = load_names(s, e);
    if (rc == SEARCH_OK &&
        names_search(s->names, query, strlen(query), 1, 0, NAMES_MODE_AUTO, &hit, &nhits, e) != 0)
        rc = SEARCH_ERR_INPUT;
    if (rc != SEARCH_OK)
        return rc;
    if (nhits == 0) {
        err_set(e, "no one in the catalogue is called '%s'", query);
        return SEARCH_NOT_FOUND;
    }
    *guessed = 1;
    return from_catalog(catalog_person_get(s->cat, s->ids[hit.row], out, e));
}

/* ---- similar ----------------------------------------------------------------------- */

static int need_index(struct search *s, const char *space, struct index **ix, struct err *e)
{
    int k = space_of(space);

    if (k < 0) {
        err_set(e, "unknown space '%s' (look or identity)", space);
        return SEARCH_ERR_INPUT;
    }
    if (s->ix[k] == NULL) {
        err_set(e, "no %s index in %s (run doppel index build --space %s)", space, s->data_dir,
                space);
        return SEARCH_ERR_INDEX;
    }
    *ix = s->ix[k];
    return SEARCH_OK;
}

void search_use_people(struct search *s, const struct people *p)
{
    s->people = p;
}

int search_person_photo(struct search *s, int64_t id, char *out, size_t n, struct err *e)
{
    struct people_card c;

    if (s->people == NULL)
        return from_catalog(catalog_person_photo(s->cat, id, out, n, e));
    if (n > 0)
        snprintf(out, n, "%s", people_get(s->people, id, &c) ? c.photo : "");
    return n > 0 && out[0] != '\0' ? SEARCH_OK : SEARCH_NOT_FOUND;
}

void search_person_prefetch(const struct search *s, int64_t id)
{
    if (s->people != NULL)
        people_prefetch(s->people, id);
}

/* Fills hit i's person fields from the loaded people, or else the catalogue. */
static int describe(struct search *s, const struct index_hit *h, struct search_hit *out,
                    struct err *e)
{
    struct catalog_person p;
    struct people_card c;
    int rc;

    /* Field by field: the struct is mostly the 4 KB photo path, which is a string. */
    out->id = h->id;
    out->name[0] = '\0';
    out->tmdb_id = 0;
    out->score = h->score;
    out->rank_pct = h->rank_pct;
    out->photo[0] = '\0';
    if (s->people != NULL) {
        if (!people_get(s->people, h->id, &c))
            return SEARCH_NOT_FOUND;
        snprintf(out->name, sizeof out->name, "%s", c.name);
        out->tmdb_id = c.tmdb_id;
        snprintf(out->photo, sizeof out->photo, "%s", c.photo);
        return SEARCH_OK;
    }
    rc = catalog_person_get(s->cat, h->id, &p, e);
    if (rc == CATALOG_NOT_FOUND) /* the index is older than the catalogue */
        return SEARCH_NOT_FOUND;
    if (rc != CATALOG_OK)
        return SEARCH_ERR_CATALOG;
    snprintf(out->name, sizeof out->name, "%s", p.name);
    out->tmdb_id = p.tmdb_id;
    if (catalog_person_photo(s->cat, h->id, out->photo, sizeof out->photo, e) == CATALOG_ERR_DB)
        return SEARCH_ERR_CATALOG;
    return SEARCH_OK;
}

int search_describe(struct search *s, int64_t id, struct search_hit *out, struct err *e)
{
    struct index_hit h = {.id = id};

    return describe(s, &h, out, e);
}

struct allow_ctx {
    const struct index *ix;
    int gender;
    uint64_t *bits;
};

static int allow_person(void *arg, const struct catalog_person *p)
{
    struct allow_ctx *a = arg;
    uint32_t row;

    if (p->gender == a->gender && index_find_id(a->ix, p->id, &row))
        a->bits[row / 64] |= 1ull << (row % 64);
    return 0;
}

/* The rows of space k's index the gender filter keeps (NULL: no filter), built once. */
static const uint64_t *allowed_rows(struct search *s, int k, struct err *e)
{
    struct allow_ctx a = {s->ix[k], s->gender, NULL};

    if (s->gender == 0 || s->allow[k] != NULL)
        return s->allow[k];
    a.bits = xcalloc((index_get_meta(a.ix)->count + 63) / 64 + 1, sizeof *a.bits);
    if (catalog_people_list(s->cat, allow_person, &a, e) != CATALOG_OK) {
        free(a.bits);
        return NULL;
    }
    s->allow[k] = a.bits;
    return a.bits;
}

/* Searches space k's index for q and describes the hits. People the catalogue no longer
 * has (removed since the index was built) are dropped, and more hits asked for in their
 * place, so they are never returned. */
static int nearest(struct search *s, int space, const float *q, int k, int64_t exclude,
                   struct search_hit *out, int *n, struct err *e)
{
    struct index_query iq = {.exclude = exclude, .threads = s->threads, .ef = s->ef};
    size_t want = (size_t)k, nh = 0;
    struct index_hit *hits = NULL;
    int rc = SEARCH_OK;

    iq.flags = s->exact ? INDEX_SEARCH_EXACT : 0;
    iq.allow = allowed_rows(s, space, e);
    if (s->gender != 0 && iq.allow == NULL)
        return SEARCH_ERR_CATALOG;
    for (;;) {
        *n = 0;
        iq.k = want;
        hits = xrealloc(hits, want * sizeof *hits);
        if (index_query(s->ix[space], q, &iq, hits, &nh, NULL, e) != INDEX_OK) {
            rc = SEARCH_ERR_INDEX;
            break;
        }
        for (size_t i = 0; i < nh && *n < k && rc == SEARCH_OK; i++) {
            rc = describe(s, &hits[i], &out[*n], e);
            *n += rc == SEARCH_OK;
            rc = rc == SEARCH_NOT_FOUND ? SEARCH_OK : rc;
        }
        if (rc != SEARCH_OK || *n == k || nh < want)
            break;
        want *= 2;
    }
    free(hits);
    return rc;
}

int search_has_index(const struct search *s, const char *space)
{
    int i = space_of(space);

    return i >= 0 && s->ix[i] != NULL;
}

/* Whether space i's near lists answer a look-alike query for k: they hold the default
 * search's answers, so not when the search is asked to be exact, to keep another ef or
 * to filter. */
static int near_usable(const struct search *s, int i, int k)
{
    return s->near[i] != NULL && !s->exact && s->ef == 0 && s->gender == 0 &&
           (uint32_t)k <= near_k(s->near[i]);
}

/* Row's look-alikes from space i's near lists, described; SEARCH_NOT_FOUND when one of
 * them is no longer in the catalogue. */
static int similar_from_near(struct search *s, int i, uint32_t row, int k, struct search_hit *out,
                             int *n, struct err *e)
{
    struct index_hit hits[NEAR_K_MAX];
    size_t nh = near_get(s->near[i], row, (size_t)k, hits);
    int rc = SEARCH_OK;

    *n = 0;
    for (size_t j = 0; j < nh && rc == SEARCH_OK; j++) {
        rc = describe(s, &hits[j], &out[*n], e);
        *n += rc == SEARCH_OK;
    }
    return rc;
}

int search_similar(struct search *s, const char *space, int64_t id, int k, struct search_hit *out,
                   int *n, struct err *e)
{
    struct index *ix = NULL;
    float q[INDEX_DIM_MAX];
    uint32_t row;
    int rc = need_index(s, space, &ix, e);

    *n = 0;
    if (rc != SEARCH_OK)
        return rc;
    if (k < 1 || k > SEARCH_K_MAX) {
        err_set(e, "k must be between 1 and %d", SEARCH_K_MAX);
        return SEARCH_ERR_INPUT;
    }
    if (!index_find_id(ix, id, &row)) {
        err_set(e, "person %lld has no %s vector in the index (no photo with a face, or "
                   "imported after the last doppel index build)", (long long)id, space);
        return SEARCH_NOT_FOUND;
    }
    if (near_usable(s, space_of(space), k)) {
        rc = similar_from_near(s, space_of(space), row, k, out, n, e);
        if (rc != SEARCH_NOT_FOUND) /* else someone listed has left: search instead */
            return rc;
    }
    return nearest(s, space_of(space), index_read_vector(ix, row, q), k, id, out, n, e);
}

/* ---- photos ------------------------------------------------------------------------ */

/* Loads whichever photo models s lacks (some may have come from search_adopt_models). */
static int load_models(struct search *s, struct err *e)
{
    int need_id = s->ix[1] != NULL;

    if (s->det != NULL && s->emb != NULL && (s->idm != NULL || !need_id))
        return SEARCH_OK;
    if (s->models_dir == NULL) {
        err_set(e, "photo queries need the models folder");
        return SEARCH_ERR_MODEL;
    }
    if ((s->det == NULL && face_detector_load(s->models_dir, &s->det, e) != 0) ||
        (s->emb == NULL && embedder_load(s->models_dir, &s->emb, e) != 0) ||
        (need_id && s->idm == NULL && identity_load(s->models_dir, &s->idm, e) != 0))
        return SEARCH_ERR_MODEL;
    if (s->ctx == NULL)
        s->ctx = nn_ctx_new(s->threads);
    return SEARCH_OK;
}

int search_adopt_models(struct search *to, struct search *from)
{
    if (from->det == NULL || to->det != NULL || to->emb != NULL || to->idm != NULL ||
        to->ctx != NULL || to->threads != from->threads || from->models_dir == NULL ||
        to->models_dir == NULL || strcmp(from->models_dir, to->models_dir) != 0)
        return 0;
    to->det = from->det, to->emb = from->emb, to->idm = from->idm, to->ctx = from->ctx;
    from->det = NULL, from->emb = NULL, from->idm = NULL, from->ctx = NULL;
    return 1;
}

/* Sorts faces largest first. */
static int by_area(const void *a, const void *b)
{
    const struct face_box *x = a, *y = b;
    float ax = (x->x2 - x->x1) * (x->y2 - x->y1), ay = (y->x2 - y->x1) * (y->y2 - y->y1);

    return (ax < ay) - (ax > ay);
}

/* The smallest distance from descriptor d to person id's stored identity descriptors. */
static int closest_photo(struct search *s, int64_t id, const float *d, float *best, struct err *e)
{
    struct catalog_vec_query q = {"identity", NULL, CATALOG_VEC_PHOTOS, -1, id};
    struct catalog_vecs *it;
    struct catalog_vec v;
    int rc;

    *best = 1e9f;
    if (catalog_vecs_open(s->cat, &q, &it, e) != CATALOG_OK)
        return SEARCH_ERR_CATALOG;
    while ((rc = catalog_vecs_next(it, &v, e)) == CATALOG_OK)
        if (v.dim == IDENTITY_DIM && identity_distance(d, v.v) < *best)
            *best = identity_distance(d, v.v);
    catalog_vecs_close(it);
    return rc == CATALOG_DONE ? SEARCH_OK : SEARCH_ERR_CATALOG;
}

/* Who face f is: the identity index's nearest few people by cosine, then the one whose
 * closest photo is nearest in dlib's Euclidean distance (what the threshold is for);
 * only that one is looked up in the catalogue. */
static int identify(struct search *s, const float *d, struct search_face *f, struct err *e)
{
    struct index_hit cand[IDENTIFY_CANDIDATES];
    struct index_query iq = {.k = IDENTIFY_CANDIDATES, .exclude = INDEX_NO_ID,
                             .threads = s->threads, .ef = s->ef};
    float unit[IDENTITY_DIM], norm = 0, dist;
    size_t n = 0;
    int best = -1, rc = SEARCH_OK;

    for (int i = 0; i < IDENTITY_DIM; i++)
        norm += d[i] * d[i];
    for (int i = 0; i < IDENTITY_DIM; i++)
        unit[i] = norm > 0 ? d[i] / sqrtf(norm) : 0;
    iq.flags = s->exact ? INDEX_SEARCH_EXACT : 0;
    if (index_query(s->ix[1], unit, &iq, cand, &n, NULL, e) != INDEX_OK)
        return SEARCH_ERR_INDEX;
    f->distance = 1e9f;
    for (size_t i = 0; i < n && rc == SEARCH_OK; i++) {
        rc = closest_photo(s, cand[i].id, d, &dist, e);
        if (rc == SEARCH_OK && dist < f->distance) {
            f->distance = dist;
            best = (int)i;
        }
    }
    if (rc == SEARCH_OK && best >= 0)
        rc = describe(s, &cand[best], &f->identity, e);
    if (rc == SEARCH_NOT_FOUND) { /* removed since the index was built: nobody */
        rc = SEARCH_OK;
        best = -1;
    }
    f->has_identity = rc == SEARCH_OK && best >= 0;
    f->same_person = f->has_identity && f->distance < IDENTITY_THRESHOLD;
    return rc;
}

int search_photo(struct search *s, const struct image *im, int k, struct search_face *faces,
                 int *n, struct err *e)
{
    struct face_box boxes[SEARCH_FACES_MAX];
    struct face_detect_opts opts = {0};
    struct search_photo_times *t = &s->times;
    struct embedding *em = NULL;
    float *ids = NULL;
    struct index *ix = NULL;
    int nb = 0, rc = need_index(s, "look", &ix, e);
    double t0, t1;

    *n = 0;
    memset(t, 0, sizeof *t);
    if (rc == SEARCH_OK && (k < 1 || k > (int)(sizeof faces->looks / sizeof faces->looks[0]))) {
        err_set(e, "k must be between 1 and %zu", sizeof faces->looks / sizeof faces->looks[0]);
        rc = SEARCH_ERR_INPUT;
    }
    if (rc == SEARCH_OK && index_get_meta(ix)->dim != EMBED_LOOK_DIM) {
        err_set(e, "the look index holds %u-d vectors, this build's look model makes %d-d "
                   "(rebuild it with doppel index build --space look)",
                (unsigned)index_get_meta(ix)->dim, EMBED_LOOK_DIM);
        rc = SEARCH_ERR_INDEX;
    }
    if (rc == SEARCH_OK)
        rc = load_models(s, e);
    opts.ctx = s->ctx;
    t0 = clock_now();
    if (rc == SEARCH_OK && face_detect(s->det, im, &opts, boxes, SEARCH_FACES_MAX, &nb, e) != 0)
        rc = SEARCH_ERR_MODEL;
    t1 = clock_now();
    t->detect = t1 - t0;
    if (rc != SEARCH_OK || nb == 0) {
        t->total = t->detect;
        return rc;
    }
    qsort(boxes, (size_t)nb, sizeof boxes[0], by_area);
    em = xcalloc((size_t)nb, sizeof *em);
    ids = xcalloc((size_t)nb * IDENTITY_DIM, sizeof *ids);
    if (embed_look_ctx(s->emb, s->ctx, im, boxes, nb, em, e) != 0)
        rc = SEARCH_ERR_MODEL;
    t->look = clock_now() - t1;
    t1 = clock_now();
    if (rc == SEARCH_OK && s->idm != NULL &&
        identity_embed(s->idm, s->ctx, im, boxes, nb, IDENTITY_FLIP, ids, e) != 0)
        rc = SEARCH_ERR_MODEL;
    t->identity = clock_now() - t1;
    t1 = clock_now();
    for (int i = 0; i < nb && rc == SEARCH_OK; i++) {
        memset(&faces[i], 0, sizeof faces[i]);
        faces[i].box = boxes[i];
        rc = nearest(s, 0, em[i].v, k, INDEX_NO_ID, faces[i].looks, &faces[i].nlooks, e);
        if (rc == SEARCH_OK && s->idm != NULL)
            rc = identify(s, ids + (size_t)i * IDENTITY_DIM, &faces[i], e);
        *n = i + 1;
    }
    t->search = clock_now() - t1;
    t->total = clock_now() - t0;
    log_debug("photo %dx%d, %d faces: detect %.1f ms, look %.1f ms, identity %.1f ms, "
              "search %.1f ms, total %.1f ms", im->w, im->h, nb, t->detect * 1e3, t->look * 1e3,
              t->identity * 1e3, t->search * 1e3, t->total * 1e3);
    free(ids);
    free(em);
    return rc;
}

void search_photo_times(const struct search *s, struct search_photo_times *out)
{
    *out = s->times;
}
