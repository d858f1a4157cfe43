/*
 * bench_index: exact top-10 search over a synthetic catalogue, for bench_index.sh.
 *
 * Makes N unit vectors of dimension DIM with a low intrinsic dimension (a 32-d Gaussian
 * latent through a fixed random linear map to DIM, plus isotropic noise whose per-element
 * size is NOISE times the signal's, then L2-normalised), writes them raw to DIR/vecs.f32
 * for the Python peers, builds DIR/index.idx from them, and QUERIES perturbed catalogue
 * vectors (row r plus isotropic noise of norm 0.5, normalised; the search excludes r's id)
 * to DIR/queries.f32 with their excluded rows in DIR/queries.rows. Then times, per query:
 * index_search with 1 and 2 threads, and the full int8 scan (no pruning) with 1 thread;
 * computes recall@10 against float32 exact scores (one matrix product); and prints one
 * "result" line of key=value pairs that bench_index.sh puts in its table.
 *
 * With BENCH_FIT=FILE (raw float32 unit vectors of dimension DIM, e.g. real embeddings)
 * the catalogue is drawn instead from the Gaussian with their mean and covariance: as
 * high-dimensional as real face embeddings, the hard case for pruning.
 *
 * Usage: bench_index DIR N DIM QUERIES [NOISE]
 */
#include "index/index.h"
#include "nn/blas.h"
#include "util/clock.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LATENT 32
#define K      10

static uint64_t rng = 20261123;

static uint64_t next64(void)
{
    uint64_t z = (rng += 0x9E3779B97F4A7C15ull);

    z = (z ^ z >> 30) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ z >> 27) * 0x94D049BB133111EBull;
    return z ^ z >> 31;
}

/* A cheap, near-Gaussian draw: the sum of four 16-bit uniforms, centred and scaled to
 * unit variance (isotropic noise needs no exact Gaussian tails). */
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

/* The catalogue: latent (n x 32) times map (32 x dim), plus noise, normalised. */
static float *make_catalogue(size_t n, size_t dim, double noise)
{
    float *z = malloc(n * LATENT * sizeof(float)), *map = malloc(LATENT * dim * sizeof(float));
    float *v = malloc(n * dim * sizeof(float));

    for (size_t i = 0; i < n * LATENT; i++)
        z[i] = noise1();
    for (size_t i = 0; i < LATENT * dim; i++)
        map[i] = noise1();
    nn_sgemm(0, 0, (int)n, (int)dim, LATENT, z, map, v, 0);
    for (size_t r = 0; r < n; r++) {
        for (size_t i = 0; i < dim; i++)
            v[r * dim + i] += (float)(noise * sqrt((double)LATENT)) * noise1();
        normalise(v + r * dim, dim);
    }
    free(map);
    free(z);
    return v;
}

/* The catalogue drawn from the Gaussian with the mean and covariance of the m unit
 * vectors in fit (m x dim): mean + sum_i z_i (f_i - mean) / sqrt(m - 1), z standard
 * normal, plus isotropic noise of 0.1 of a component, normalised. Realistic when fit holds
 * real embeddings; needs no structure beyond their second moments. */
static float *fit_catalogue(size_t n, size_t dim, float *fit, size_t m)
{
    float *z = malloc(n * m * sizeof(float)), *v = malloc(n * dim * sizeof(float));
    double *mean = calloc(dim, sizeof(double));

    for (size_t r = 0; r < m; r++)
        for (size_t i = 0; i < dim; i++)
            mean[i] += fit[r * dim + i] / (double)m;
    for (size_t r = 0; r < m; r++)
        for (size_t i = 0; i < dim; i++)
            fit[r * dim + i] = (float)((fit[r * dim + i] - mean[i]) / sqrt((double)m - 1));
    for (size_t i = 0; i < n * m; i++)
        z[i] = noise1();
    nn_sgemm(0, 0, (int)n, (int)dim, (int)m, z, fit, v, 0);
    for (size_t r = 0; r < n; r++) {
        for (size_t i = 0; i < dim; i++)
            v[r * dim + i] += (float)(mean[i] + 0.1 / sqrt((double)dim) * noise1());
        normalise(v + r * dim, dim);
    }
    free(mean);
    free(z);
    return v;
}

/* Reads the vectors of path (raw float32, a multiple of dim) for fit_catalogue. */
static float *read_fit(const char *path, size_t dim, size_t *m)
{
    FILE *f = fopen(path, "rb");
    float *p;
    long len;

    if (f == NULL || fseek(f, 0, SEEK_END) != 0 || (len = ftell(f)) < 0 ||
        (size_t)len % (dim * 4) != 0 || len == 0) {
        fprintf(stderr, "bench_index: %s is not raw float32 vectors of dimension %zu\n", path, dim);
        exit(2);
    }
    *m = (size_t)len / (dim * 4);
    p = malloc((size_t)len);
    fseek(f, 0, SEEK_SET);
    if (fread(p, dim * 4, *m, f) != *m)
        exit(2);
    fclose(f);
    return p;
}

static int write_raw(const char *dir, const char *name, const void *p, size_t n)
{
    char path[4096];
    FILE *f;
    int ok;

    snprintf(path, sizeof path, "%s/%s", dir, name);
    f = fopen(path, "wb");
    if (f == NULL)
        return -1;
    ok = fwrite(p, 1, n, f) == n;
    return fclose(f) == 0 && ok ? 0 : -1;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return (x > y) - (x < y);
}

static double median(double *t, size_t n)
{
    qsort(t, n, sizeof t[0], cmp_double);
    return n % 2 ? t[n / 2] : (t[n / 2 - 1] + t[n / 2]) / 2;
}

/* Median ms per query of index_search_ex over all queries; hits of the last run into hits
 * (q x K) when not NULL; bytes read per query into *bytes. */
static double time_search(const struct index *ix, const float *qs, const int64_t *ex, size_t nq,
                          size_t dim, int threads, unsigned flags, struct index_hit *hits,
                          double *bytes)
{
    double *t = malloc(nq * sizeof(double)), sum = 0, m;
    struct index_hit h[K];
    struct index_stats st;
    struct err e;
    size_t n;

    for (size_t i = 0; i < 3 && i < nq; i++) /* fault the mapping in */
        index_search_ex(ix, qs + i * dim, K, ex[i], threads, flags, h, &n, NULL, &e);
    for (size_t i = 0; i < nq; i++) {
        double t0 = clock_now();

        if (index_search_ex(ix, qs + i * dim, K, ex[i], threads, flags, h, &n, &st, &e) !=
            INDEX_OK) {
            fprintf(stderr, "bench_index: %s\n", e.msg);
            exit(1);
        }
        t[i] = (clock_now() - t0) * 1e3;
        sum += (double)st.bytes;
        if (hits != NULL)
            memcpy(hits + i * K, h, sizeof h);
    }
    m = median(t, nq);
    *bytes = sum / (double)nq;
    free(t);
    return m;
}

/* The K-th best of n scores, skipping row skip (one pass keeping the K best, sorted). */
static double kth_best(const float *s, size_t stride, size_t n, size_t skip)
{
    double best[K];
    size_t m = 0;

    for (size_t r = 0; r < n; r++) {
        double v = s[r * stride];
        size_t i;

        if (r == skip || (m == K && v <= best[K - 1]))
            continue;
        i = m < K ? m++ : K - 1;
        for (; i > 0 && best[i - 1] < v; i--)
            best[i] = best[i - 1];
        best[i] = v;
    }
    return best[K - 1];
}

/* Recall@10 of hits against float32 exact scores: a hit counts when its exact score
 * reaches the exact 10th best (so ties and last-bit rounding are not misses). */
static double recall(const struct index *ix, const float *qs, const int64_t *ex_rows, size_t nq,
                     size_t n, size_t dim, const struct index_hit *hits)
{
    float *s = malloc(n * nq * sizeof(float));
    double good = 0;

    nn_sgemm(0, 1, (int)n, (int)nq, (int)dim, index_get_vector(ix, 0), qs, s, 0);
    for (size_t q = 0; q < nq; q++) {
        double tenth = kth_best(s + q, nq, n, (size_t)ex_rows[q]);

        for (size_t j = 0; j < K; j++)
            good += s[(size_t)hits[q * K + j].row * nq + q] >= tenth;
    }
    free(s);
    return good / (double)(nq * K);
}

int main(int argc, char **argv)
{
    size_t n, dim, nq;
    double noise, t_open = 1e30, t1, t2, tf, b1, b2, bf, rec;
    float *v, *qs;
    int64_t *ids, *ex, *ex_rows;
    struct index_hit *hits;
    struct index_meta m = {"bench", "synthetic", 0, 0};
    struct index *ix = NULL;
    char path[4096];
    struct err e;

    if (argc < 5 || argc > 6) {
        fprintf(stderr, "usage: bench_index DIR N DIM QUERIES [NOISE]\n");
        return 2;
    }
    n = strtoul(argv[2], NULL, 10);
    dim = strtoul(argv[3], NULL, 10);
    nq = strtoul(argv[4], NULL, 10);
    noise = argc == 6 ? strtod(argv[5], NULL) : 0.25;
    if (n < K + 1 || dim < 1 || dim > INDEX_DIM_MAX || nq < 1) {
        fprintf(stderr, "bench_index: need N > %d, 1 <= DIM <= %d, QUERIES >= 1\n", K,
                INDEX_DIM_MAX);
        return 2;
    }
    if (getenv("BENCH_FIT") != NULL && *getenv("BENCH_FIT") != '\0') {
        size_t nfit;
        float *fit = read_fit(getenv("BENCH_FIT"), dim, &nfit);

        v = fit_catalogue(n, dim, fit, nfit);
        free(fit);
        printf("doppel: catalogue drawn from the mean and covariance of %zu vectors of %s\n", nfit,
               getenv("BENCH_FIT"));
    } else {
        v = make_catalogue(n, dim, noise);
    }
    ids = malloc(n * sizeof *ids);
    for (size_t r = 0; r < n; r++)
        ids[r] = (int64_t)(r * 7 + 1000);
    qs = malloc(nq * dim * sizeof(float));
    ex = malloc(nq * sizeof *ex);
    ex_rows = malloc(nq * sizeof *ex_rows);
    for (size_t q = 0; q < nq; q++) {
        ex_rows[q] = (int64_t)(next64() % n);
        ex[q] = ids[ex_rows[q]];
        for (size_t i = 0; i < dim; i++)
            qs[q * dim + i] =
                v[(size_t)ex_rows[q] * dim + i] + (float)(0.5 / sqrt((double)dim)) * noise1();
        normalise(qs + q * dim, dim);
    }
    if (write_raw(argv[1], "vecs.f32", v, n * dim * sizeof(float)) != 0 ||
        write_raw(argv[1], "queries.f32", qs, nq * dim * sizeof(float)) != 0 ||
        write_raw(argv[1], "queries.rows", ex_rows, nq * sizeof *ex_rows) != 0) {
        fprintf(stderr, "bench_index: cannot write to %s\n", argv[1]);
        return 1;
    }
    m.dim = (uint32_t)dim;
    m.count = n;
    snprintf(path, sizeof path, "%s/index.idx", argv[1]);
    t1 = clock_now();
    if (index_write(path, &m, v, ids, &e) != INDEX_OK) {
        fprintf(stderr, "bench_index: %s\n", e.msg);
        return 1;
    }
    printf("doppel: index of %zu x %zu written in %.1f s\n", n, dim, clock_now() - t1);
    free(v);
    for (int i = 0; i < 5; i++) {
        double t0 = clock_now();

        index_close(ix);
        if (index_open(path, "bench", &ix, &e) != INDEX_OK) {
            fprintf(stderr, "bench_index: %s\n", e.msg);
            return 1;
        }
        t_open = fmin(t_open, (clock_now() - t0) * 1e3);
    }
    hits = malloc(nq * K * sizeof *hits);
    t1 = time_search(ix, qs, ex, nq, dim, 1, 0, hits, &b1);
    t2 = time_search(ix, qs, ex, nq, dim, 2, 0, NULL, &b2);
    tf = time_search(ix, qs, ex, nq, dim, 1, INDEX_SEARCH_FULL, NULL, &bf);
    rec = recall(ix, qs, ex_rows, nq, n, dim, hits);
    printf("result dim=%zu n=%zu queries=%zu kernel=%s open_ms=%.3f t1_ms=%.3f t2_ms=%.3f "
           "full_ms=%.3f bytes_q=%.0f bytes_q2=%.0f full_bytes=%.0f f32_bytes=%.0f "
           "int8_bytes=%.0f recall=%.5f\n",
           dim, n, nq, index_kernel_name(), t_open, t1, t2, tf, b1, b2, bf, (double)n * dim * 4,
           (double)n * ((dim + 63) / 64 * 64 + 8), rec);
    index_close(ix);
    free(hits);
    free(ex_rows);
    free(ex);
    free(qs);
    free(ids);
    return 0;
}
