/* Tests for index/hnsw: recall against the exact search on low-rank generated data (the
 * floors sit well below what the benchmark measures, so they do not flake), persistence,
 * corrupt and mismatched files, concurrent queries, determinism for a seed whatever the
 * thread count, incremental update with deleted, changed and new people, filters (recall
 * and never a rejected row), exclusion, and index_query's choice of graph or scan; and
 * the near lists made through the graph: the search's own answers, the same for any
 * thread count, persisted, corrupt and mismatched files refused. */
#include "check.h"

#include "index/hnsw.h"
#include "index/index.h"
#include "index/layout.h"
#include "index/near.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DIM    96
#define LATENT 24
#define N      8000
#define NQ     100
#define K      10

/* ---- data ----------------------------------------------------------------------------- */

static uint64_t rng = 1;

static double uniform(void)
{
    uint64_t z = (rng += 0x9E3779B97F4A7C15ull);

    z = (z ^ z >> 30) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ z >> 27) * 0x94D049BB133111EBull;
    return ((double)((z ^ z >> 31) >> 11) + 0.5) / 9007199254740992.0;
}

static double gauss(void)
{
    return sqrt(-2 * log(uniform())) * cos(6.283185307179586 * uniform());
}

static void normalise(float *v, uint32_t dim)
{
    double n = 0;

    for (uint32_t i = 0; i < dim; i++)
        n += (double)v[i] * v[i];
    for (uint32_t i = 0; i < dim; i++)
        v[i] = (float)(v[i] / sqrt(n));
}

static float map_[LATENT * DIM];

/* n unit vectors: a LATENT-d Gaussian through one fixed map to DIM, plus 25% noise. */
static float *make_vecs(size_t n, uint64_t seed)
{
    float *v = malloc(n * DIM * sizeof(float));
    double z[LATENT];

    rng = 99;
    for (size_t i = 0; i < LATENT * DIM; i++)
        map_[i] = (float)gauss();
    rng = seed;
    for (size_t r = 0; r < n; r++) {
        for (int l = 0; l < LATENT; l++)
            z[l] = gauss();
        for (int i = 0; i < DIM; i++) {
            double s = 0;

            for (int l = 0; l < LATENT; l++)
                s += z[l] * map_[l * DIM + i];
            v[r * DIM + i] = (float)(s + 0.25 * sqrt((double)LATENT) * gauss());
        }
        normalise(v + r * DIM, DIM);
    }
    return v;
}

static const char *tmp_path(const char *name)
{
    static char path[4][1024];
    static int next;
    char *p = path[next++ % 4];

    snprintf(p, sizeof path[0], "%s/%s", check_tmpdir(), name);
    return p;
}

static struct index *build_index_dim(const char *name, const float *v, const int64_t *ids,
                                     size_t n, uint32_t dim)
{
    struct index_meta m = {"look", "test", dim, n};
    struct index *ix = NULL;
    struct err e;

    if (index_write(tmp_path(name), &m, v, ids, &e) != INDEX_OK) {
        check_fail(__FILE__, __LINE__, "write: %s", e.msg);
        return NULL;
    }
    if (index_open(tmp_path(name), "look", &ix, &e) != INDEX_OK)
        check_fail(__FILE__, __LINE__, "open: %s", e.msg);
    return ix;
}

static struct index *build_index(const char *name, const float *v, const int64_t *ids, size_t n)
{
    return build_index_dim(name, v, ids, n, DIM);
}

static int64_t *seq_ids(size_t n, int64_t first)
{
    int64_t *ids = malloc(n * sizeof *ids);

    for (size_t r = 0; r < n; r++)
        ids[r] = first + (int64_t)r * 3;
    return ids;
}

/* The shared fixture: N rows, an index and a graph built with 2 threads. */
static float *vecs, *queries;
static int64_t *ids;
static struct index *fix;
static struct hnsw *fgraph;

static int fixture(void)
{
    struct hnsw_params p = {16, 80, 7, 2, NULL};
    struct err e;

    if (fix != NULL)
        return 1;
    vecs = make_vecs(N, 5);
    queries = make_vecs(NQ, 6);
    ids = seq_ids(N, 10);
    fix = build_index("fix.idx", vecs, ids, N);
    if (fix == NULL)
        return 0;
    if (hnsw_build(fix, &p, &fgraph, &e) != INDEX_OK) {
        check_fail(__FILE__, __LINE__, "build: %s", e.msg);
        return 0;
    }
    return 1;
}

/* The fraction of the exact top-K ids (a float scan of the allowed rows) in hits. */
static double recall(const struct index *ix, const float *q, const uint64_t *allow,
                     const struct index_hit *hits, size_t nh)
{
    struct index_query eq = {
        .k = K, .exclude = INDEX_NO_ID, .flags = INDEX_SEARCH_EXACT, .allow = allow};
    struct index_hit ex[K];
    size_t ne, found = 0;
    struct err e;

    if (index_query(ix, q, &eq, ex, &ne, NULL, &e) != INDEX_OK || ne == 0)
        return 0;
    for (size_t i = 0; i < ne; i++)
        for (size_t j = 0; j < nh; j++)
            found += ex[i].row == hits[j].row;
    return (double)found / (double)ne;
}

static double mean_recall(const struct hnsw *g, const struct index *ix, uint32_t ef,
                          const uint64_t *allow)
{
    struct index_query q = {.k = K, .exclude = INDEX_NO_ID, .ef = ef, .allow = allow};
    struct index_hit h[K];
    double sum = 0;
    size_t n;
    struct err e;

    for (int i = 0; i < NQ; i++) {
        if (hnsw_search(g, queries + (size_t)i * DIM, &q, h, &n, NULL, &e) != INDEX_OK)
            return 0;
        sum += recall(ix, queries + (size_t)i * DIM, allow, h, n);
    }
    return sum / NQ;
}

/* ---- tests ---------------------------------------------------------------------------- */

static void test_recall(void)
{
    double r64, r200;

    REQUIRE(fixture());
    r64 = mean_recall(fgraph, fix, 64, NULL);
    r200 = mean_recall(fgraph, fix, 200, NULL);
    printf("  recall@10: ef 64 %.3f, ef 200 %.3f\n", r64, r200);
    CHECK(r64 >= 0.85);
    CHECK(r200 >= 0.95);
    CHECK(r200 >= r64 - 0.01);
    CHECK(hnsw_count(fgraph) == N);
    CHECK(hnsw_m(fgraph) == 16);
}

/* Short rows (DIM's 128 int8 bytes) are walked whole; wide ones, as at 512 and 1024
 * dimensions, head first with the tail's bound. The fixture's vectors followed by
 * independent noise of the same energy in WIDE - DIM more dimensions (so the tail, past
 * the head's leading directions, carries much of each row) take the second path. */
static void test_wide_rows(void)
{
    enum { WIDE = 320 };
    struct hnsw_params p = {16, 80, 7, 2, NULL};
    struct index_query q = {.k = K, .exclude = INDEX_NO_ID, .ef = 64};
    float *wv = calloc((size_t)N * WIDE, sizeof(float)), *wq = calloc((size_t)NQ * WIDE, sizeof(float));
    struct index *ix;
    struct hnsw *g = NULL;
    struct index_hit h[K];
    double sum = 0;
    size_t n;
    struct err e;

    REQUIRE(fixture());
    rng = 11;
    for (size_t r = 0; r < N + NQ; r++) {
        float *w = r < N ? wv + r * WIDE : wq + (r - N) * WIDE;

        memcpy(w, r < N ? vecs + r * DIM : queries + (r - N) * DIM, DIM * sizeof(float));
        for (int i = DIM; i < WIDE; i++)
            w[i] = (float)(gauss() / sqrt((double)(WIDE - DIM)));
        normalise(w, WIDE);
    }
    ix = build_index_dim("wide.idx", wv, ids, N, WIDE);
    REQUIRE(ix != NULL);
    CHECK(ix->lay.head > 0 && ix->lay.padded == WIDE);
    REQUIRE(hnsw_build(ix, &p, &g, &e) == INDEX_OK);
    for (int i = 0; i < NQ; i++) {
        REQUIRE(hnsw_search(g, wq + (size_t)i * WIDE, &q, h, &n, NULL, &e) == INDEX_OK);
        sum += recall(ix, wq + (size_t)i * WIDE, NULL, h, n);
    }
    printf("  recall@10 at %d dimensions, ef 64: %.3f\n", WIDE, sum / NQ);
    CHECK(sum / NQ >= 0.85);
    hnsw_free(g);
    index_close(ix);
    free(wv);
    free(wq);
}

static void test_hits_sorted_and_exclude(void)
{
    struct index_query q = {.k = K, .exclude = 10 + 3 * 17};
    struct index_hit h[K];
    size_t n;
    struct err e;

    REQUIRE(fixture());
    REQUIRE(hnsw_search(fgraph, vecs + 17 * DIM, &q, h, &n, NULL, &e) == INDEX_OK);
    CHECK_INT((int)n, K);
    for (size_t i = 0; i < n; i++) {
        CHECK(h[i].id != q.exclude);
        CHECK(h[i].id == ids[h[i].row]);
        CHECK(i == 0 || h[i].score <= h[i - 1].score);
        CHECK(h[i].rank_pct >= 0 && h[i].rank_pct <= 100);
    }
    q.exclude = INDEX_NO_ID;
    REQUIRE(hnsw_search(fgraph, vecs + 17 * DIM, &q, h, &n, NULL, &e) == INDEX_OK);
    CHECK(h[0].row == 17);
    CHECK_NEAR(h[0].score, 1.0, 1e-4);
    CHECK(hnsw_search(fgraph, (float[DIM]){0}, &q, h, &n, NULL, &e) == INDEX_ERR_INPUT);
}

static void test_round_trip(void)
{
    struct hnsw *g = NULL;
    struct index_query q = {.k = K, .exclude = INDEX_NO_ID};
    struct index_hit a[K], b[K];
    size_t na, nb, la, lb;
    struct err e;

    REQUIRE(fixture());
    REQUIRE(hnsw_write(fgraph, tmp_path("fix.hnsw"), &e) == INDEX_OK);
    if (hnsw_open(tmp_path("fix.hnsw"), fix, &g, &e) != INDEX_OK)
        check_fail(__FILE__, __LINE__, "open: %s", e.msg);
    REQUIRE(g != NULL);
    const void *ia = hnsw_image(fgraph, &la), *ib = hnsw_image(g, &lb);
    CHECK(la == lb && memcmp(ia, ib, la) == 0);
    for (int i = 0; i < 10; i++) {
        REQUIRE(hnsw_search(fgraph, queries + i * DIM, &q, a, &na, NULL, &e) == INDEX_OK);
        REQUIRE(hnsw_search(g, queries + i * DIM, &q, b, &nb, NULL, &e) == INDEX_OK);
        CHECK(na == nb && memcmp(a, b, na * sizeof *a) == 0);
    }
    hnsw_free(g);
}

/* Opens a copy of the graph image altered by fn; returns the open's result, message in e. */
static int open_altered(size_t len, void (*fn)(unsigned char *, size_t *), const struct index *ix,
                        struct err *e)
{
    size_t n;
    const void *img = hnsw_image(fgraph, &n);
    unsigned char *buf = aligned_alloc(64, (n + 64) / 64 * 64);
    struct hnsw *g = NULL;
    int rc;

    memcpy(buf, img, n);
    n = len ? len : n;
    fn(buf, &n);
    rc = hnsw_open_mem(buf, n, ix, &g, e);
    hnsw_free(g);
    free(buf);
    return rc;
}

static void flip_middle(unsigned char *b, size_t *n)
{
    b[*n / 2] ^= 0x10;
}

static void truncate_end(unsigned char *b, size_t *n)
{
    (void)b;
    *n -= 64;
}

static void bad_magic(unsigned char *b, size_t *n)
{
    (void)n;
    b[0] = 'X';
}

/* Sets node 5's first level-0 link out of range, with a fresh checksum (so only the
 * structural validation can refuse it; the same in the two below). */
static void bad_link_resealed(unsigned char *b, size_t *n)
{
    uint64_t off0;
    uint32_t big = 0xFFFFFF;

    memcpy(&off0, b + 80, 8); /* off[SEC_L0] */
    memcpy(b + off0 + 5 * (1 + 32) * 4 + 4, &big, 4);
    hnsw_reseal(b, *n);
}

/* A tuned ef (header offset 44) above HNSW_EF_MAX. */
static void bad_ef_resealed(unsigned char *b, size_t *n)
{
    uint32_t ef = HNSW_EF_MAX + 1;

    memcpy(b + 44, &ef, 4);
    hnsw_reseal(b, *n);
}

/* As a graph written before tuning existed: no tuned ef, recall or rows (44, 136, 140). */
static void untuned_resealed(unsigned char *b, size_t *n)
{
    memset(b + 44, 0, 4);
    memset(b + 136, 0, 8);
    hnsw_reseal(b, *n);
}

static void test_corrupt_refused(void)
{
    struct err e;
    struct index *other;
    float *v2;

    REQUIRE(fixture());
    CHECK_INT(open_altered(0, flip_middle, fix, &e), INDEX_ERR_FORMAT);
    CHECK(strstr(e.msg, "checksum") != NULL);
    CHECK_INT(open_altered(0, truncate_end, fix, &e), INDEX_ERR_FORMAT);
    CHECK_INT(open_altered(0, bad_magic, fix, &e), INDEX_ERR_FORMAT);
    CHECK(strstr(e.msg, "magic") != NULL);
    CHECK_INT(open_altered(0, bad_link_resealed, NULL, &e), INDEX_ERR_FORMAT);
    CHECK(strstr(e.msg, "links to node") != NULL);
    CHECK_INT(open_altered(0, bad_ef_resealed, fix, &e), INDEX_ERR_FORMAT);
    CHECK(strstr(e.msg, "out of range") != NULL);
    v2 = make_vecs(N, 77);
    other = build_index("other.idx", v2, ids, N);
    REQUIRE(other != NULL);
    {
        size_t n;
        struct hnsw *g = NULL;

        const void *img = hnsw_image(fgraph, &n);

        CHECK_INT(hnsw_open_mem(img, n, other, &g, &e), INDEX_ERR_MISMATCH);
        CHECK(strstr(e.msg, "another index") != NULL);
        hnsw_free(g);
    }
    index_close(other);
    free(v2);
    {
        FILE *f = fopen(tmp_path("junk.hnsw"), "wb");
        struct hnsw *g = NULL;

        REQUIRE(f != NULL);
        fputs("not a graph", f);
        fclose(f);
        CHECK_INT(hnsw_open(tmp_path("junk.hnsw"), fix, &g, &e), INDEX_ERR_FORMAT);
        CHECK(strstr(e.msg, "junk.hnsw") != NULL);
        CHECK_INT(hnsw_open(tmp_path("missing.hnsw"), fix, &g, &e), INDEX_ERR_IO);
    }
}

struct worker {
    int first;
    int bad;
};

static void *run_queries(void *arg)
{
    struct worker *w = arg;
    struct index_query q = {.k = K, .exclude = INDEX_NO_ID};
    struct index_hit a[K], b[K];
    size_t na, nb;
    struct err e;

    for (int i = 0; i < 40; i++) {
        const float *qv = queries + (size_t)((w->first + i) % NQ) * DIM;

        if (hnsw_search(fgraph, qv, &q, a, &na, NULL, &e) != INDEX_OK)
            w->bad++;
        q.ef = (uint32_t)(32 + i % 3 * 40);
        if (hnsw_search(fgraph, qv, &q, b, &nb, NULL, &e) != INDEX_OK || nb != K)
            w->bad++;
        q.ef = 0;
        if (hnsw_search(fgraph, qv, &q, b, &nb, NULL, &e) != INDEX_OK || nb != na ||
            memcmp(a, b, na * sizeof *a) != 0)
            w->bad++;
    }
    return NULL;
}

static void test_concurrent(void)
{
    pthread_t t[8];
    struct worker w[8];

    REQUIRE(fixture());
    for (int i = 0; i < 8; i++) {
        w[i] = (struct worker){i * 13, 0};
        REQUIRE(pthread_create(&t[i], NULL, run_queries, &w[i]) == 0);
    }
    for (int i = 0; i < 8; i++) {
        pthread_join(t[i], NULL);
        CHECK_INT(w[i].bad, 0);
    }
}

static void test_deterministic(void)
{
    struct hnsw_params p1 = {16, 80, 7, 1, NULL}, p3 = {16, 80, 7, 3, NULL},
                       other = {16, 80, 8, 3, NULL};
    struct hnsw *a = NULL, *b = NULL, *c = NULL;
    size_t la, lb, lc;
    struct err e;

    REQUIRE(fixture());
    REQUIRE(hnsw_build(fix, &p1, &a, &e) == INDEX_OK);
    REQUIRE(hnsw_build(fix, &p3, &b, &e) == INDEX_OK);
    REQUIRE(hnsw_build(fix, &other, &c, &e) == INDEX_OK);
    const void *ia = hnsw_image(a, &la), *ib = hnsw_image(b, &lb), *ic = hnsw_image(c, &lc);
    const void *ifx = hnsw_image(fgraph, &lc);
    CHECK(la == lb && memcmp(ia, ib, la) == 0);
    CHECK(la == lc && memcmp(ia, ifx, la) == 0); /* the fixture: 2 threads */
    hnsw_image(c, &lc);
    CHECK(la != lc || memcmp(ia, ic, la) != 0);
    hnsw_free(a);
    hnsw_free(b);
    hnsw_free(c);
}

/* Drops every 10th person, changes every 50th person's vector, and adds 1500 people;
 * updates the fixture's graph onto that, then checks recall, that removed people never
 * come back, and the update's counts. */
static void test_update(void)
{
    size_t nn = 0, added = 1500;
    float *nv = malloc((N + added) * DIM * sizeof(float)), *fresh = make_vecs(added, 42);
    int64_t *nid = malloc((N + added) * sizeof *nid);
    struct hnsw_params p = {16, 80, 7, 2, NULL};
    struct hnsw_update_stats st;
    struct hnsw *g = NULL;
    struct index *ix;
    struct err e;
    uint64_t changed = 0, dropped = 0;

    REQUIRE(fixture());
    for (size_t r = 0; r < N; r++) {
        if (r % 10 == 3) {
            dropped++;
            continue;
        }
        memcpy(nv + nn * DIM, vecs + r * DIM, DIM * sizeof(float));
        if (r % 50 == 7) {
            memcpy(nv + nn * DIM, fresh + (r / 50 % added) * DIM, DIM * sizeof(float));
            changed++;
        }
        nid[nn++] = ids[r];
    }
    for (size_t i = 0; i < added; i++, nn++) {
        memcpy(nv + nn * DIM, fresh + i * DIM, DIM * sizeof(float));
        nid[nn] = 1000000 + (int64_t)i;
    }
    ix = build_index("upd.idx", nv, nid, nn);
    REQUIRE(ix != NULL);
    REQUIRE(hnsw_update(fgraph, ix, &p, &g, &st, &e) == INDEX_OK);
    CHECK_INT(st.full, 0);
    CHECK(st.kept == N - dropped - changed);
    CHECK(st.removed == dropped + changed);
    CHECK(st.inserted == added + changed);
    CHECK(st.repaired > 0);
    CHECK(mean_recall(g, ix, 64, NULL) >= 0.85);
    {
        struct index_query q = {.k = K, .exclude = INDEX_NO_ID};
        struct index_hit h[K];
        size_t n;

        for (size_t r = 3; r < N; r += 10 * 7) {
            REQUIRE(hnsw_search(g, vecs + r * DIM, &q, h, &n, NULL, &e) == INDEX_OK);
            for (size_t i = 0; i < n; i++)
                CHECK(h[i].id != ids[r]);
        }
    }
    REQUIRE(hnsw_write(g, tmp_path("upd.hnsw"), &e) == INDEX_OK);
    hnsw_free(g);
    REQUIRE(hnsw_open(tmp_path("upd.hnsw"), ix, &g, &e) == INDEX_OK);
    hnsw_free(g);
    p.seed = 8; /* another seed: nothing reusable, a full build */
    REQUIRE(hnsw_update(fgraph, ix, &p, &g, &st, &e) == INDEX_OK);
    CHECK_INT(st.full, 1);
    hnsw_free(g);
    index_close(ix);
    free(nv);
    free(nid);
    free(fresh);
}

/* The first half of the people leave (the graph's oldest, best-linked nodes): nodes lose
 * many links at once, so their repair gathers more candidates than it has room for (a
 * heap overflow at 406k rows once, with the first 1% gone). The kept people still find
 * each other. */
static void test_update_mass_removal(void)
{
    size_t nn = 0;
    float *nv = malloc(N * DIM * sizeof(float));
    int64_t *nid = malloc(N * sizeof *nid);
    struct hnsw_params p = {HNSW_M_MAX, 80, 7, 2, NULL};
    struct hnsw_update_stats st;
    struct hnsw *g = NULL, *full = NULL;
    struct index *ix;
    struct err e;

    REQUIRE(fixture());
    REQUIRE(hnsw_build(fix, &p, &full, &e) == INDEX_OK); /* the widest lists there are */
    for (size_t r = 0; r < N; r++) {
        if (r < N / 2)
            continue;
        memcpy(nv + nn * DIM, vecs + r * DIM, DIM * sizeof(float));
        nid[nn++] = ids[r];
    }
    ix = build_index("mass.idx", nv, nid, nn);
    REQUIRE(ix != NULL);
    REQUIRE(hnsw_update(full, ix, &p, &g, &st, &e) == INDEX_OK);
    CHECK_INT(st.full, 0);
    CHECK(st.kept == nn && st.removed == N - nn && st.repaired > nn / 2);
    CHECK(mean_recall(g, ix, 64, NULL) >= 0.85);
    hnsw_free(g);
    hnsw_free(full);
    index_close(ix);
    free(nv);
    free(nid);
}

static uint64_t *make_filter(double frac, uint64_t seed)
{
    uint64_t *b = calloc((N + 63) / 64, sizeof *b);

    rng = seed;
    for (size_t r = 0; r < N; r++)
        if (uniform() < frac)
            b[r / 64] |= 1ull << (r % 64);
    return b;
}

static void test_filter(void)
{
    static const double fracs[] = {0.5, 0.15, 0.01};

    REQUIRE(fixture());
    for (size_t f = 0; f < sizeof fracs / sizeof fracs[0]; f++) {
        uint64_t *allow = make_filter(fracs[f], 3 + f);
        struct index_query q = {.k = K, .exclude = INDEX_NO_ID, .allow = allow};
        struct index_hit h[K];
        size_t n;
        struct err e;
        double r = mean_recall(fgraph, fix, 0, allow);

        printf("  filter keeping %.0f%%: recall@10 %.3f\n", 100 * fracs[f], r);
        CHECK(r >= (fracs[f] < 0.02 ? 0.999 : 0.85));
        for (int i = 0; i < 20; i++) {
            REQUIRE(hnsw_search(fgraph, queries + i * DIM, &q, h, &n, NULL, &e) == INDEX_OK);
            for (size_t j = 0; j < n; j++)
                CHECK(allow[h[j].row / 64] >> (h[j].row % 64) & 1);
        }
        free(allow);
    }
}

static void test_index_query(void)
{
    struct index_query q = {.k = K, .exclude = INDEX_NO_ID};
    struct index_hit a[K], b[K];
    struct index_stats st;
    size_t na, nb;
    struct err e;
    struct hnsw *g = NULL;

    REQUIRE(fixture());
    REQUIRE(index_query(fix, queries, &q, a, &na, &st, &e) == INDEX_OK);
    CHECK(st.nodes == 0);
    REQUIRE(index_search(fix, queries, K, INDEX_NO_ID, 1, b, &nb, &e) == INDEX_OK);
    CHECK(na == nb && memcmp(a, b, na * sizeof *a) == 0);
    REQUIRE(hnsw_open(tmp_path("fix.hnsw"), fix, &g, &e) == INDEX_OK);
    index_attach_hnsw(fix, g);
    CHECK(index_get_hnsw(fix) == g);
    REQUIRE(index_query(fix, queries, &q, a, &na, &st, &e) == INDEX_OK);
    CHECK(st.nodes > 0 && st.nodes < N);
    q.flags = INDEX_SEARCH_EXACT;
    REQUIRE(index_query(fix, queries, &q, a, &na, &st, &e) == INDEX_OK);
    CHECK(st.nodes == 0);
    CHECK(na == nb && memcmp(a, b, na * sizeof *a) == 0);
    index_attach_hnsw(fix, NULL);
}

static void test_bad_params(void)
{
    struct hnsw_params p = {1, 0, 0, 1, NULL};
    struct hnsw *g = NULL;
    struct err e;

    REQUIRE(fixture());
    CHECK_INT(hnsw_build(fix, &p, &g, &e), INDEX_ERR_INPUT);
    p.m = 1000;
    CHECK_INT(hnsw_build(fix, &p, &g, &e), INDEX_ERR_INPUT);
    CHECK(g == NULL);
}

/* The default ef is the benchmark's at its sizes, grows with the graph and stays in range. */
static void test_default_ef(void)
{
    size_t prev = 0;

    CHECK_INT(hnsw_default_ef(0), 384);
    CHECK_INT(hnsw_default_ef(50000), 384);
    CHECK_INT(hnsw_default_ef(100000), 384);
    CHECK_INT(hnsw_default_ef(406317), 512);
    CHECK_INT(hnsw_default_ef(2000000), 1024);
    CHECK(hnsw_default_ef(200000) > 384 && hnsw_default_ef(200000) < 512);
    CHECK(hnsw_default_ef(1000000) > 512 && hnsw_default_ef(1000000) < 1024);
    CHECK(hnsw_default_ef(4000000) > 1024);
    CHECK_INT(hnsw_default_ef(UINT64_MAX), HNSW_EF_MAX);
    for (uint64_t n = 1000; n < 100000000; n += n / 7) {
        size_t ef = hnsw_default_ef(n);

        CHECK(ef >= prev && ef <= HNSW_EF_MAX);
        prev = ef;
    }
}

/* Opens the fixture's graph as it would be had it been written before tuning. */
static void test_untuned_graph(void)
{
    size_t n;
    const void *img;
    unsigned char *buf;
    struct hnsw *g = NULL;
    double r = 1;
    struct err e;

    REQUIRE(fixture());
    img = hnsw_image(fgraph, &n);
    buf = aligned_alloc(64, (n + 63) / 64 * 64);
    REQUIRE(buf != NULL);
    memcpy(buf, img, n);
    untuned_resealed(buf, &n);
    CHECK_INT(hnsw_open_mem(buf, n, fix, &g, &e), INDEX_OK);
    if (g != NULL) {
        CHECK_INT(hnsw_ef(g, &r), hnsw_default_ef(N));
        CHECK(r == 0);
        CHECK_INT(hnsw_tune_rows(g), 0);
    }
    hnsw_free(g);
    free(buf);
}

/* n unit vectors with no low-rank structure: every dimension independent noise. */
static float *make_noise(size_t n, uint64_t seed)
{
    float *v = malloc(n * DIM * sizeof(float));

    rng = seed;
    for (size_t i = 0; i < n * DIM; i++)
        v[i] = (float)gauss();
    for (size_t r = 0; r < n; r++)
        normalise(v + r * DIM, DIM);
    return v;
}

/* The default ef is tuned at build on queries drawn like the rows: it reaches 0.99 there,
 * the held-out queries (the fixture's own law) get what it promises within a margin, an
 * explicit ef of that value answers the same, it survives a round trip, and data that is
 * harder to walk (isotropic noise) is given a larger one. */
static void test_tuned_ef(void)
{
    struct hnsw_params p = {16, 80, 7, 2, NULL};
    struct index_query q0 = {.k = K, .exclude = INDEX_NO_ID}, q1 = q0;
    struct index_hit a[K], b[K];
    struct hnsw *g = NULL, *hard = NULL;
    struct index *hix;
    float *hv;
    double r, rh, held;
    uint32_t ef, efh;
    size_t na, nb;
    struct err e;

    REQUIRE(fixture());
    ef = hnsw_ef(fgraph, &r);
    CHECK_INT(hnsw_tune_rows(fgraph), 2048);
    CHECK(r >= 0.99 && r <= 1);
    CHECK(ef >= 32 && ef <= HNSW_EF_MAX);
    held = mean_recall(fgraph, fix, 0, NULL);
    printf("  tuned ef %u: recall@10 %.3f on the tuning queries, %.3f on held-out ones\n", ef, r,
           held);
    CHECK(held >= 0.97);
    CHECK(held == mean_recall(fgraph, fix, ef, NULL));
    q1.ef = ef;
    for (int i = 0; i < 10; i++) {
        REQUIRE(hnsw_search(fgraph, queries + i * DIM, &q0, a, &na, NULL, &e) == INDEX_OK);
        REQUIRE(hnsw_search(fgraph, queries + i * DIM, &q1, b, &nb, NULL, &e) == INDEX_OK);
        CHECK(na == nb && memcmp(a, b, na * sizeof *a) == 0);
    }
    REQUIRE(hnsw_write(fgraph, tmp_path("tuned.hnsw"), &e) == INDEX_OK);
    REQUIRE(hnsw_open(tmp_path("tuned.hnsw"), fix, &g, &e) == INDEX_OK);
    CHECK_INT(hnsw_ef(g, &rh), ef);
    CHECK(rh == r);
    hnsw_free(g);

    hv = make_noise(N, 31);
    hix = build_index("noise.idx", hv, ids, N);
    REQUIRE(hix != NULL);
    REQUIRE(hnsw_build(hix, &p, &hard, &e) == INDEX_OK);
    efh = hnsw_ef(hard, &rh);
    printf("  isotropic noise: tuned ef %u, recall@10 %.3f on the tuning queries\n", efh, rh);
    CHECK(efh > ef);
    CHECK(rh >= 0.99 || efh == HNSW_EF_MAX);
    hnsw_free(hard);
    index_close(hix);
    free(hv);
}

static void test_tiny(void)
{
    float *v = make_vecs(3, 9);
    int64_t *id = seq_ids(3, 1);
    struct index *ix = build_index("tiny.idx", v, id, 3);
    struct hnsw_params p = {4, 10, 1, 2, NULL};
    struct index_query q = {.k = 5, .exclude = INDEX_NO_ID};
    struct index_hit h[5];
    struct hnsw *g = NULL;
    size_t n;
    struct err e;

    REQUIRE(ix != NULL);
    REQUIRE(hnsw_build(ix, &p, &g, &e) == INDEX_OK);
    REQUIRE(hnsw_search(g, v, &q, h, &n, NULL, &e) == INDEX_OK);
    CHECK_INT((int)n, 3);
    CHECK(h[0].row == 0);
    CHECK_INT(hnsw_tune_rows(g), 0); /* too small to tune: the size rule's ef */
    CHECK_INT(hnsw_ef(g, NULL), hnsw_default_ef(3));
    hnsw_free(g);
    index_close(ix);
    free(v);
    free(id);
}

/* ---- near lists ------------------------------------------------------------------------ */

#define NEAR_TEST_K 16

static struct index *near_ix; /* its own index, with a graph attached */
static struct near *near_fix;

static int near_fixture(void)
{
    struct hnsw_params p = {16, 80, 7, 2, NULL};
    struct hnsw *g = NULL;
    struct err e;

    if (near_fix != NULL)
        return 1;
    if (!fixture() || (near_ix = build_index("near.idx", vecs, ids, N)) == NULL)
        return 0;
    if (hnsw_build(near_ix, &p, &g, &e) != INDEX_OK) {
        check_fail(__FILE__, __LINE__, "graph: %s", e.msg);
        return 0;
    }
    index_attach_hnsw(near_ix, g);
    if (near_build(near_ix, NEAR_TEST_K, 2, NULL, &near_fix, &e) != INDEX_OK) {
        check_fail(__FILE__, __LINE__, "near: %s", e.msg);
        return 0;
    }
    return 1;
}

/* Every listed answer is what index_query gives for the row's own vector with its person
 * excluded: ids, rows, scores and ranks, for k = 1, 10 and the lists' k. */
static void test_near_matches_search(void)
{
    struct index_query q = {.k = NEAR_TEST_K, .threads = 1};
    struct index_hit want[NEAR_TEST_K], got[NEAR_TEST_K];
    size_t checked = 0;
    struct err e;

    REQUIRE(near_fixture());
    CHECK_INT(near_k(near_fix), NEAR_TEST_K);
    for (uint32_t r = 0; r < N; r += 37) {
        size_t nw, ng;

        q.exclude = index_get_id(near_ix, r);
        REQUIRE(index_query(near_ix, vecs + (size_t)r * DIM, &q, want, &nw, NULL, &e) == INDEX_OK);
        for (size_t k = 1; k <= NEAR_TEST_K; k += k == 1 ? 9 : NEAR_TEST_K - 10) {
            ng = near_get(near_fix, r, k, got);
            CHECK_INT(ng, k);
            for (size_t i = 0; i < ng && i < nw; i++) {
                if (got[i].id != want[i].id || got[i].row != want[i].row ||
                    got[i].score != want[i].score || got[i].rank_pct != want[i].rank_pct) {
                    check_fail(__FILE__, __LINE__,
                               "row %u answer %zu: %lld %.6f %.4f vs %lld %.6f %.4f", r, i,
                               (long long)got[i].id, got[i].score, got[i].rank_pct,
                               (long long)want[i].id, want[i].score, want[i].rank_pct);
                    return;
                }
                CHECK(got[i].row != r);
            }
        }
        checked++;
    }
    printf("    %zu rows' lists equal to their searches\n", checked);
    CHECK_INT(near_get(near_fix, N, 5, got), 0); /* a row past the end has no list */
}

static void test_near_deterministic(void)
{
    struct near *one = NULL;
    const void *a, *b;
    size_t la, lb;
    struct err e;

    REQUIRE(near_fixture());
    REQUIRE(near_build(near_ix, NEAR_TEST_K, 1, NULL, &one, &e) == INDEX_OK);
    a = near_image(near_fix, &la);
    b = near_image(one, &lb);
    CHECK(la == lb && memcmp(a, b, la) == 0);
    near_free(one);
}

/* Opens a copy of the near image altered by fn against ix. */
static int near_altered(void (*fn)(unsigned char *, size_t *), const struct index *ix,
                        struct err *e)
{
    size_t n;
    const void *img = near_image(near_fix, &n);
    unsigned char *buf = aligned_alloc(64, (n + 64) / 64 * 64);
    struct near *nl = NULL;
    int rc;

    memcpy(buf, img, n);
    if (fn != NULL)
        fn(buf, &n);
    rc = near_open_mem(buf, n, ix, &nl, e);
    near_free(nl);
    free(buf);
    return rc;
}

static void near_truncate(unsigned char *b, size_t *n)
{
    (void)b;
    *n -= 8;
}

/* Reseals the body checksum (header bytes 32..39) after an edit. */
static void near_reseal(unsigned char *b, size_t n)
{
    uint64_t sum = layout_sum64(b + 64, n - 64, 0);

    memcpy(b + 32, &sum, 8);
}

/* Row 3's first answer made row 3 itself, checksum resealed. */
static void near_self_resealed(unsigned char *b, size_t *n)
{
    uint32_t self = 3;

    memcpy(b + 64 + (size_t)3 * NEAR_TEST_K * 8, &self, 4);
    near_reseal(b, *n);
}

/* Row 7's answer 2 out of range, resealed. */
static void near_range_resealed(unsigned char *b, size_t *n)
{
    uint32_t big = N + 5;

    memcpy(b + 64 + ((size_t)7 * NEAR_TEST_K + 2) * 8, &big, 4);
    near_reseal(b, *n);
}

/* k set to 0 in the header. */
static void near_zero_k(unsigned char *b, size_t *n)
{
    (void)n;
    memset(b + 12, 0, 4);
}

static void test_near_files(void)
{
    struct near *nl = NULL;
    struct index *bare;
    const void *a, *b;
    size_t la, lb;
    struct err e;

    REQUIRE(near_fixture());
    REQUIRE(near_write(near_fix, tmp_path("fix.near"), &e) == INDEX_OK);
    if (near_open(tmp_path("fix.near"), near_ix, &nl, &e) != INDEX_OK)
        check_fail(__FILE__, __LINE__, "open: %s", e.msg);
    REQUIRE(nl != NULL);
    a = near_image(near_fix, &la);
    b = near_image(nl, &lb);
    CHECK(la == lb && memcmp(a, b, la) == 0);
    near_free(nl);
    CHECK_INT(near_altered(NULL, near_ix, &e), INDEX_OK);
    CHECK_INT(near_altered(flip_middle, near_ix, &e), INDEX_ERR_FORMAT);
    CHECK(strstr(e.msg, "checksum") != NULL);
    CHECK_INT(near_altered(near_truncate, near_ix, &e), INDEX_ERR_FORMAT);
    CHECK_INT(near_altered(bad_magic, near_ix, &e), INDEX_ERR_FORMAT);
    CHECK_INT(near_altered(near_zero_k, near_ix, &e), INDEX_ERR_FORMAT);
    CHECK_INT(near_altered(near_self_resealed, near_ix, &e), INDEX_ERR_FORMAT);
    CHECK(strstr(e.msg, "row 3") != NULL);
    CHECK_INT(near_altered(near_range_resealed, near_ix, &e), INDEX_ERR_FORMAT);
    CHECK(strstr(e.msg, "row 7") != NULL);
    /* Lists made for other rows: the fixture's index holds other vectors. */
    {
        float *v2 = make_vecs(N, 77);
        struct index *other = build_index("near-other.idx", v2, ids, N);

        REQUIRE(other != NULL);
        CHECK_INT(near_altered(NULL, other, &e), INDEX_ERR_MISMATCH);
        index_close(other);
        free(v2);
    }
    CHECK_INT(near_open(tmp_path("no-such.near"), near_ix, &nl, &e), INDEX_ERR_IO);
    /* No graph, no lists. */
    bare = build_index("near-bare.idx", vecs, ids, N);
    REQUIRE(bare != NULL);
    CHECK_INT(near_build(bare, NEAR_TEST_K, 1, NULL, &nl, &e), INDEX_ERR_INPUT);
    CHECK_INT(near_build(near_ix, 0, 1, NULL, &nl, &e), INDEX_ERR_INPUT);
    index_close(bare);
}

int main(int argc, char **argv)
{
    static const struct check_case cases[] = {
        {"recall", test_recall},
        {"wide_rows", test_wide_rows},
        {"hits_sorted_and_exclude", test_hits_sorted_and_exclude},
        {"round_trip", test_round_trip},
        {"corrupt_refused", test_corrupt_refused},
        {"concurrent", test_concurrent},
        {"deterministic", test_deterministic},
        {"update", test_update},
        {"update_mass_removal", test_update_mass_removal},
        {"filter", test_filter},
        {"index_query", test_index_query},
        {"bad_params", test_bad_params},
        {"default_ef", test_default_ef},
        {"tuned_ef", test_tuned_ef},
        {"untuned_graph", test_untuned_graph},
        {"tiny", test_tiny},
        {"near_matches_search", test_near_matches_search},
        {"near_deterministic", test_near_deterministic},
        {"near_files", test_near_files},
    };
    int rc = check_main("hnsw", cases, sizeof cases / sizeof cases[0], argc, argv);

    near_free(near_fix);
    index_close(near_ix);
    hnsw_free(fgraph);
    index_close(fix);
    free(vecs);
    free(queries);
    free(ids);
    return rc;
}
