/*
 * bench_hnsw: doppel's side of the approximate-search benchmark (bench_hnsw.sh), in three
 * commands so each phase's peak resident memory is that of its own process:
 *
 *   gen DIR N DIM QUERIES [NOISE]   writes DIR/vecs.f32 (N x DIM unit vectors), DIR/
 *       queries.f32 (QUERIES more drawn the same way, not in the catalogue) and DIR/gt.i32
 *       (each query's exact float32 top 10 rows). The vectors: a 32-d Gaussian latent
 *       through a fixed random linear map to DIM, plus isotropic noise of NOISE (0.25) of
 *       the signal per element, L2-normalised, as in bench_index. With BENCH_FIT=FILE (raw
 *       float32 real embeddings of dimension DIM) they are drawn from the Gaussian with
 *       those embeddings' mean and covariance instead.
 *   build DIR M EFC THREADS         writes DIR/index.idx from vecs.f32 (timed apart) and,
 *       in this process, builds and writes DIR/index.hnsw; prints times and peak RSS.
 *   search DIR EF...                opens both (the serving set-up), runs every query at
 *       each ef with 1 thread and with 2 (queries split between them), and prints recall@10
 *       against gt.i32 and queries per second; then the same at the graph's tuned default
 *       ef; then the exact scan's; then peak RSS.
 *
 *   update DIR DIM THREADS          the first 1% of the people leave and the queries join:
 *       times updating DIR/index.hnsw onto the new index against building it whole.
 *
 * Output lines start with "result" (key=value pairs) for the script's table.
 */
#include "index/hnsw.h"
#include "index/index.h"
#include "nn/blas.h"
#include "util/clock.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#define LATENT  32
#define K       10
#define GT_ROWS 16384 /* catalogue rows scored against all queries at once */

static uint64_t rng = 20261123;

static uint64_t next64(void)
{
    uint64_t z = (rng += 0x9E3779B97F4A7C15ull);

    z = (z ^ z >> 30) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ z >> 27) * 0x94D049BB133111EBull;
    return z ^ z >> 31;
}

/* A near-Gaussian draw of unit variance (sum of four 16-bit uniforms). */
static float noise1(void)
{
    uint64_t z = next64();
    double s = (double)(z & 0xFFFF) + (double)(z >> 16 & 0xFFFF) + (double)(z >> 32 & 0xFFFF) +
               (double)(z >> 48);

    return (float)((s / 65536.0 - 2.0) * 1.7320508075688772);
}

static void normalise(float *v, size_t dim)
{
    double n = 0;

    for (size_t i = 0; i < dim; i++)
        n += (double)v[i] * v[i];
    for (size_t i = 0; i < dim; i++)
        v[i] = (float)(v[i] / sqrt(n));
}

static void die(const char *what, const char *msg)
{
    fprintf(stderr, "bench_hnsw: %s: %s\n", what, msg);
    exit(1);
}

/* n vectors: latent (32-d, or the fit's) through map (latent x dim) plus noise. */
static float *draw(size_t n, size_t dim, size_t latent, const float *map, const float *mean,
                   double noise)
{
    float *z = malloc(n * latent * sizeof(float)), *v = malloc(n * dim * sizeof(float));

    for (size_t i = 0; i < n * latent; i++)
        z[i] = noise1();
    nn_sgemm(0, 0, (int)n, (int)dim, (int)latent, z, map, v, 0);
    for (size_t r = 0; r < n; r++) {
        for (size_t i = 0; i < dim; i++)
            v[r * dim + i] += (mean ? mean[i] : 0) + (float)noise * noise1();
        normalise(v + r * dim, dim);
    }
    free(z);
    return v;
}

static void *read_file(const char *dir, const char *name, size_t *len)
{
    char path[4096];
    FILE *f;
    void *p;
    long n;

    snprintf(path, sizeof path, "%s%s%s", dir ? dir : "", dir ? "/" : "", name);
    f = fopen(path, "rb");
    if (f == NULL || fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) <= 0)
        die(path, "cannot read");
    p = malloc((size_t)n);
    fseek(f, 0, SEEK_SET);
    if (fread(p, 1, (size_t)n, f) != (size_t)n)
        die(path, "short read");
    fclose(f);
    *len = (size_t)n;
    return p;
}

static void write_file(const char *dir, const char *name, const void *p, size_t n)
{
    char path[4096];
    FILE *f;

    snprintf(path, sizeof path, "%s/%s", dir, name);
    f = fopen(path, "wb");
    if (f == NULL || fwrite(p, 1, n, f) != n || fclose(f) != 0)
        die(path, "cannot write");
}

/* The map and mean of the catalogue: random (32 x dim) or the fit's centred rows. */
static float *make_map(size_t dim, double noise, size_t *latent, float **mean, double *nz)
{
    const char *fit = getenv("BENCH_FIT");
    float *map;

    *mean = NULL;
    if (fit == NULL || *fit == '\0') {
        *latent = LATENT;
        map = malloc(LATENT * dim * sizeof(float));
        for (size_t i = 0; i < LATENT * dim; i++)
            map[i] = noise1();
        *nz = noise * sqrt((double)LATENT);
        return map;
    }
    {
        size_t len, m;
        float *f = read_file(NULL, fit, &len);

        m = len / (dim * 4);
        if (m < 2 || len % (dim * 4) != 0)
            die(fit, "not raw float32 vectors of that dimension");
        *mean = calloc(dim, sizeof(float));
        for (size_t r = 0; r < m; r++)
            for (size_t i = 0; i < dim; i++)
                (*mean)[i] += f[r * dim + i] / (float)m;
        for (size_t r = 0; r < m; r++)
            for (size_t i = 0; i < dim; i++)
                f[r * dim + i] = (f[r * dim + i] - (*mean)[i]) / (float)sqrt((double)m - 1);
        *latent = m;
        *nz = 0.1 / sqrt((double)dim);
        printf("data: drawn from the mean and covariance of %zu vectors of %s\n", m, fit);
        return f;
    }
}

/* Inserts (s, r) into the sorted top K of one query. */
static void top_add(float *s, int32_t *r, float v, int32_t row)
{
    int i = K - 1;

    if (v <= s[K - 1])
        return;
    for (; i > 0 && s[i - 1] < v; i--) {
        s[i] = s[i - 1];
        r[i] = r[i - 1];
    }
    s[i] = v;
    r[i] = row;
}

/* Each query's exact top K rows, by blocks of catalogue rows. */
static int32_t *ground_truth(const float *v, size_t n, const float *qs, size_t nq, size_t dim)
{
    float *s = malloc(GT_ROWS * nq * sizeof(float)), *best = malloc(nq * K * sizeof(float));
    int32_t *gt = malloc(nq * K * sizeof *gt);

    for (size_t i = 0; i < nq * K; i++)
        best[i] = -INFINITY;
    for (size_t r0 = 0; r0 < n; r0 += GT_ROWS) {
        size_t m = n - r0 < GT_ROWS ? n - r0 : GT_ROWS;

        nn_sgemm(0, 1, (int)m, (int)nq, (int)dim, v + r0 * dim, qs, s, 0);
        for (size_t r = 0; r < m; r++)
            for (size_t q = 0; q < nq; q++)
                top_add(best + q * K, gt + q * K, s[r * nq + q], (int32_t)(r0 + r));
    }
    free(s);
    free(best);
    return gt;
}

static int cmd_gen(int argc, char **argv)
{
    size_t n, dim, nq, latent;
    double noise, nz;
    float *map, *mean, *v, *qs;
    int32_t *gt;

    if (argc < 6)
        die("gen", "usage: gen DIR N DIM QUERIES [NOISE]");
    n = strtoul(argv[3], NULL, 10);
    dim = strtoul(argv[4], NULL, 10);
    nq = strtoul(argv[5], NULL, 10);
    noise = argc > 6 ? strtod(argv[6], NULL) : 0.25;
    map = make_map(dim, noise, &latent, &mean, &nz);
    v = draw(n, dim, latent, map, mean, nz);
    qs = draw(nq, dim, latent, map, mean, nz);
    gt = ground_truth(v, n, qs, nq, dim);
    write_file(argv[2], "vecs.f32", v, n * dim * 4);
    write_file(argv[2], "queries.f32", qs, nq * dim * 4);
    write_file(argv[2], "gt.i32", gt, nq * K * 4);
    free(map);
    free(mean);
    free(v);
    free(qs);
    free(gt);
    return 0;
}

static double peak_rss_mb(void)
{
    struct rusage ru;

    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_maxrss / 1024.0;
}

static char *path_in(const char *dir, const char *name)
{
    static char p[2][4096];
    static int i;
    char *s = p[i++ % 2];

    snprintf(s, sizeof p[0], "%s/%s", dir, name);
    return s;
}

static int cmd_index(int argc, char **argv)
{
    size_t len, dim;
    struct index_meta m = {"bench", "synthetic", 0, 0};
    float *v;
    int64_t *ids;
    double t0;
    struct err e;

    if (argc < 4)
        die("index", "usage: index DIR DIM");
    dim = strtoul(argv[3], NULL, 10);
    v = read_file(argv[2], "vecs.f32", &len);
    m.dim = (uint32_t)dim;
    m.count = len / (dim * 4);
    ids = malloc(m.count * sizeof *ids);
    for (size_t r = 0; r < m.count; r++)
        ids[r] = (int64_t)(r * 7 + 1000);
    t0 = clock_now();
    if (index_write(path_in(argv[2], "index.idx"), &m, v, ids, &e) != INDEX_OK)
        die("index", e.msg);
    printf("result lib=doppel index_s=%.2f\n", clock_now() - t0);
    free(v);
    free(ids);
    return 0;
}

static int cmd_build(int argc, char **argv)
{
    struct hnsw_params p = {0};
    struct index *ix;
    struct hnsw *g;
    double t0;
    struct err e;

    if (argc < 6)
        die("build", "usage: build DIR M EFC THREADS");
    p.m = (uint32_t)strtoul(argv[3], NULL, 10);
    p.efc = (uint32_t)strtoul(argv[4], NULL, 10);
    p.threads = atoi(argv[5]);
    p.seed = HNSW_SEED_DEFAULT;
    if (index_open(path_in(argv[2], "index.idx"), NULL, &ix, &e) != INDEX_OK)
        die("build", e.msg);
    t0 = clock_now();
    if (hnsw_build(ix, &p, &g, &e) != INDEX_OK)
        die("build", e.msg);
    printf("result lib=doppel build_s=%.2f build_threads=%d kernel=%s\n", clock_now() - t0,
           p.threads, index_kernel_name());
    if (hnsw_write(g, path_in(argv[2], "index.hnsw"), &e) != INDEX_OK)
        die("build", e.msg);
    printf("result lib=doppel build_rss_mb=%.1f\n", peak_rss_mb());
    hnsw_free(g);
    index_close(ix);
    return 0;
}

/* update DIR DIM THREADS: the catalogue changes (the first 1% of the people leave, the
 * held-out queries join as new people); times updating the old graph against building
 * the new index's graph whole. */
static int cmd_update(int argc, char **argv)
{
    size_t lv, lq, dim, n, nq, drop, m;
    struct index_meta meta = {"bench", "synthetic", 0, 0};
    struct hnsw_params p = {0};
    struct hnsw_update_stats st;
    struct index *ix;
    struct hnsw *old, *a, *b;
    float *v, *q, *all;
    int64_t *ids;
    double t0, tu, tb;
    struct err e;

    if (argc < 5)
        die("update", "usage: update DIR DIM THREADS");
    dim = strtoul(argv[3], NULL, 10);
    p = (struct hnsw_params){16, 100, HNSW_SEED_DEFAULT, atoi(argv[4]), NULL};
    v = read_file(argv[2], "vecs.f32", &lv);
    q = read_file(argv[2], "queries.f32", &lq);
    n = lv / (dim * 4);
    nq = lq / (dim * 4);
    drop = n / 100;
    m = n - drop + nq;
    all = malloc(m * dim * sizeof(float));
    ids = malloc(m * sizeof *ids);
    memcpy(all, v + drop * dim, (n - drop) * dim * sizeof(float));
    memcpy(all + (n - drop) * dim, q, nq * dim * sizeof(float));
    free(v); /* 8 GB at 2M x 1024: only the merged copy is needed now */
    free(q);
    for (size_t r = 0; r < m; r++)
        ids[r] = r < n - drop ? (int64_t)((r + drop) * 7 + 1000) : (int64_t)(n * 7 + 1000 + r);
    meta.dim = (uint32_t)dim;
    meta.count = m;
    if (hnsw_open(path_in(argv[2], "index.hnsw"), NULL, &old, &e) != INDEX_OK ||
        index_write(path_in(argv[2], "index2.idx"), &meta, all, ids, &e) != INDEX_OK ||
        index_open(path_in(argv[2], "index2.idx"), NULL, &ix, &e) != INDEX_OK)
        die("update", e.msg);
    free(all); /* the index file holds them now */
    free(ids);
    t0 = clock_now();
    if (hnsw_update(old, ix, &p, &a, &st, &e) != INDEX_OK)
        die("update", e.msg);
    tu = clock_now() - t0;
    t0 = clock_now();
    if (hnsw_build(ix, &p, &b, &e) != INDEX_OK)
        die("update", e.msg);
    tb = clock_now() - t0;
    printf("result lib=doppel update_s=%.2f rebuild_s=%.2f kept=%llu removed=%llu repaired=%llu "
           "inserted=%llu\n",
           tu, tb, (unsigned long long)st.kept, (unsigned long long)st.removed,
           (unsigned long long)st.repaired, (unsigned long long)st.inserted);
    hnsw_free(a);
    hnsw_free(b);
    hnsw_free(old);
    index_close(ix);
    return 0;
}

/* One thread's share of a timed pass: queries [q0, q1). */
struct pass {
    const struct index *ix;
    const float *qs;
    size_t dim, q0, q1;
    struct index_query q;
    int32_t *rows; /* out: K per query */
};

static void *run_pass(void *arg)
{
    struct pass *p = arg;
    struct index_hit h[K];
    size_t n;
    struct err e;

    for (size_t i = p->q0; i < p->q1; i++) {
        if (index_query(p->ix, p->qs + i * p->dim, &p->q, h, &n, NULL, &e) != INDEX_OK)
            die("search", e.msg);
        for (size_t j = 0; j < K; j++)
            p->rows[i * K + j] = j < n ? (int32_t)h[j].row : -1;
    }
    return NULL;
}

/* Runs queries [0, nq) over threads; returns queries per second. */
static double timed(const struct pass *proto, size_t nq, int threads)
{
    struct pass p[2];
    pthread_t t;
    double t0 = clock_now();

    for (int i = 0; i < threads; i++) {
        p[i] = *proto;
        p[i].q0 = nq * (size_t)i / (size_t)threads;
        p[i].q1 = nq * (size_t)(i + 1) / (size_t)threads;
    }
    if (threads > 1 && pthread_create(&t, NULL, run_pass, &p[1]) != 0)
        die("search", "cannot start a thread");
    run_pass(&p[0]);
    if (threads > 1)
        pthread_join(t, NULL);
    return (double)nq / (clock_now() - t0);
}

static double recall(const int32_t *rows, const int32_t *gt, size_t nq)
{
    size_t hit = 0;

    for (size_t q = 0; q < nq; q++)
        for (size_t i = 0; i < K; i++)
            for (size_t j = 0; j < K; j++)
                hit += rows[q * K + i] == gt[q * K + j];
    return (double)hit / (double)(nq * K);
}

static int cmd_search(int argc, char **argv)
{
    struct index *ix;
    struct hnsw *g;
    struct pass p = {0};
    size_t len, nq;
    int32_t *gt;
    struct err e;

    if (argc < 4)
        die("search", "usage: search DIR EF...");
    if (index_open(path_in(argv[2], "index.idx"), NULL, &ix, &e) != INDEX_OK)
        die("search", e.msg);
    if (hnsw_open(path_in(argv[2], "index.hnsw"), ix, &g, &e) != INDEX_OK)
        die("search", e.msg);
    index_attach_hnsw(ix, g);
    p.ix = ix;
    p.dim = index_get_meta(ix)->dim;
    p.qs = read_file(argv[2], "queries.f32", &len);
    nq = len / (p.dim * 4);
    gt = read_file(argv[2], "gt.i32", &len);
    p.rows = malloc(nq * K * sizeof *p.rows);
    p.q = (struct index_query){.k = K, .exclude = INDEX_NO_ID};
    for (int a = 3; a < argc; a++) {
        double q1, q2;

        p.q.ef = (uint32_t)strtoul(argv[a], NULL, 10);
        timed(&p, nq < 200 ? nq : 200, 1); /* warm up */
        q1 = timed(&p, nq, 1);
        q2 = timed(&p, nq, 2);
        printf("result lib=doppel ef=%u recall=%.4f qps1=%.0f qps2=%.0f\n", p.q.ef,
               recall(p.rows, gt, nq), q1, q2);
    }
    {
        double tuned, q1, q2;
        uint32_t ef = hnsw_ef(g, &tuned);

        p.q.ef = 0; /* the graph's own default */
        timed(&p, nq < 200 ? nq : 200, 1);
        q1 = timed(&p, nq, 1);
        q2 = timed(&p, nq, 2);
        printf("result lib=doppel default_ef=%u tuned_recall=%.4f tune_rows=%u "
               "default_recall=%.4f default_qps1=%.0f default_qps2=%.0f\n",
               ef, tuned, hnsw_tune_rows(g), recall(p.rows, gt, nq), q1, q2);
    }
    printf("result lib=doppel search_rss_mb=%.1f\n", peak_rss_mb());
    {
        size_t ne = nq < 100 ? nq : 100;
        double q1, q2;

        p.q.flags = INDEX_SEARCH_EXACT;
        p.q.threads = 1;
        q1 = timed(&p, ne, 1);
        p.q.threads = 2;
        q2 = timed(&p, ne, 1);
        printf("result lib=exact recall=%.4f qps1=%.0f qps2=%.0f rss_mb=%.1f\n",
               recall(p.rows, gt, ne), q1, q2, peak_rss_mb());
    }
    free(p.rows);
    free((void *)p.qs);
    free(gt);
    index_close(ix);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc >= 2 && strcmp(argv[1], "gen") == 0)
        return cmd_gen(argc, argv);
    if (argc >= 2 && strcmp(argv[1], "index") == 0)
        return cmd_index(argc, argv);
    if (argc >= 2 && strcmp(argv[1], "build") == 0)
        return cmd_build(argc, argv);
    if (argc >= 2 && strcmp(argv[1], "search") == 0)
        return cmd_search(argc, argv);
    if (argc >= 2 && strcmp(argv[1], "update") == 0)
        return cmd_update(argc, argv);
    fprintf(stderr, "usage: bench_hnsw gen|index|build|search|update DIR ...\n");
    return 2;
}
