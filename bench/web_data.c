/*
 * web_data: a large synthetic data folder for bench_web.sh. People come from a names
 * file (one "name<TAB>popularity" a line: real names padded with generated ones, see
 * bench_web.sh); their look vectors are synthetic: a 32-d Gaussian latent through a
 * fixed random linear map to 1024-d, plus noise, L2-normalised (no photos, so the web
 * app shows placeholders). Writes DIR/catalog.db, DIR/index/look.idx and, as `doppel
 * index build` does above its graph threshold, the graph DIR/index/look.hnsw, the
 * look-alike lists DIR/index/look.near and each name's fuzzy answers DIR/index/names.near.
 *
 * Usage: web_data NAMES_FILE DIR
 */
#include "catalog/catalog.h"
#include "index/hnsw.h"
#include "index/index.h"
#include "index/near.h"
#include "search/search.h"
#include "util/fs.h"
#include "util/xalloc.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define DIM    1024
#define LATENT 32

static uint64_t rng = 20261123;

static double uniform(void)
{
    uint64_t z = (rng += 0x9E3779B97F4A7C15ull);

    z = (z ^ z >> 30) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ z >> 27) * 0x94D049BB133111EBull;
    return ((z ^ z >> 31) >> 11) * (1.0 / 9007199254740992.0);
}

static float gauss(void)
{
    double u = uniform(), v = uniform();

    return (float)(sqrt(-2.0 * log(u + 1e-300)) * cos(6.283185307179586 * v));
}

static void make_vector(const float *map, float *out)
{
    float z[LATENT], norm = 0;

    for (int i = 0; i < LATENT; i++)
        z[i] = gauss();
    for (int d = 0; d < DIM; d++) {
        float s = 0.5f * gauss();

        for (int i = 0; i < LATENT; i++)
            s += map[d * LATENT + i] * z[i];
        out[d] = s;
        norm += s * s;
    }
    for (int d = 0; d < DIM; d++)
        out[d] /= sqrtf(norm);
}

/* Upserts every person of the names file; ids into *ids, count into *n. */
static int add_people(struct catalog *c, FILE *f, int64_t **ids, size_t *n, struct err *e)
{
    char line[1024];
    size_t cap = 0;

    *n = 0;
    if (catalog_begin(c, e) != CATALOG_OK)
        return 1;
    while (fgets(line, sizeof line, f) != NULL) {
        struct catalog_person p = {0};
        char *tab = strchr(line, '\t');
        int64_t id;
        int created = 0;

        line[strcspn(line, "\r\n")] = '\0';
        if (tab != NULL) {
            *tab = '\0';
            p.popularity = strtod(tab + 1, NULL);
        }
        if (strlen(line) >= sizeof p.name)
            continue;
        memcpy(p.name, line, strlen(line) + 1);
        if (catalog_person_upsert(c, &p, &id, &created, e) != CATALOG_OK || !created)
            continue; /* a name with no letters, or one equal to another once normalised */
        if (*n == cap) {
            cap = cap ? 2 * cap : 65536;
            *ids = xrealloc(*ids, cap * sizeof **ids);
        }
        (*ids)[(*n)++] = id;
    }
    return catalog_commit(c, e) != CATALOG_OK;
}

/* The graph over the index at ipath, with the defaults and every core, and the near
 * lists through it, as `doppel index build` makes them. */
static int build_graph(const char *dir, const char *ipath, struct err *e)
{
    int threads = (int)sysconf(_SC_NPROCESSORS_ONLN);
    struct hnsw_params p = {0, 0, HNSW_SEED_DEFAULT, threads, NULL};
    struct index *ix = NULL;
    struct hnsw *g = NULL;
    struct near *nl = NULL;
    char gpath[4200], npath[4200];
    int rc;

    snprintf(gpath, sizeof gpath, "%s/index/look.hnsw", dir);
    snprintf(npath, sizeof npath, "%s/index/look.near", dir);
    rc = index_open(ipath, "look", &ix, e) != INDEX_OK || hnsw_build(ix, &p, &g, e) != INDEX_OK ||
         hnsw_write(g, gpath, e) != INDEX_OK;
    if (rc == 0) {
        printf("web_data: graph %s\n", gpath);
        index_attach_hnsw(ix, g); /* the index frees it */
        g = NULL;
        rc = near_build(ix, NEAR_K, threads, NULL, &nl, e) != INDEX_OK ||
             near_write(nl, npath, e) != INDEX_OK;
    }
    if (rc == 0)
        printf("web_data: look-alike lists %s\n", npath);
    near_free(nl);
    hnsw_free(g);
    index_close(ix);
    return rc;
}

int main(int argc, char **argv)
{
    struct index_meta meta = {"look", "synthetic", DIM, 0};
    struct catalog *c = NULL;
    char path[4200];
    int64_t *ids = NULL;
    float *vecs, *map;
    size_t n = 0;
    struct err e = {{0}};
    FILE *f;

    if (argc != 3 || (f = fopen(argv[1], "r")) == NULL) {
        fprintf(stderr, "usage: web_data NAMES_FILE DIR\n");
        return 2;
    }
    snprintf(path, sizeof path, "%s/catalog.db", argv[2]);
    if (catalog_open(path, CATALOG_OPEN_CREATE, &c, &e) != CATALOG_OK ||
        add_people(c, f, &ids, &n, &e) != 0) {
        fprintf(stderr, "web_data: %s\n", e.msg);
        return 1;
    }
    fclose(f);
    catalog_close(c);
    map = xmalloc(sizeof *map * DIM * LATENT);
    for (int i = 0; i < DIM * LATENT; i++)
        map[i] = gauss();
    vecs = xmalloc(sizeof *vecs * DIM * n);
    for (size_t i = 0; i < n; i++)
        make_vector(map, vecs + i * DIM);
    snprintf(path, sizeof path, "%s/index", argv[2]);
    meta.count = n;
    if (fs_mkdir_p(path, &e) != FS_OK ||
        snprintf(path, sizeof path, "%s/index/look.idx", argv[2]) < 0 ||
        index_write(path, &meta, vecs, ids, &e) != INDEX_OK) {
        fprintf(stderr, "web_data: %s\n", e.msg);
        return 1;
    }
    printf("web_data: %zu people, %s\n", n, path);
    if (build_graph(argv[2], path, &e) != 0) {
        fprintf(stderr, "web_data: %s\n", e.msg);
        return 1;
    }
    snprintf(path, sizeof path, "%s/catalog.db", argv[2]);
    {
        struct search_build_opts o = {0, -1, 0, 0, HNSW_SEED_DEFAULT, 0, 0};
        struct search_build_info info;

        if (catalog_open(path, 0, &c, &e) != CATALOG_OK ||
            search_build_names(c, argv[2], &o, &info, &e) != SEARCH_OK) {
            fprintf(stderr, "web_data: %s\n", e.msg);
            return 1;
        }
        catalog_close(c);
        printf("web_data: name lists of %lld names, %s/index/names.near (%.1f s)\n",
               (long long)info.people, argv[2], info.near_seconds);
    }
    free(vecs);
    free(map);
    free(ids);
    return 0;
}
