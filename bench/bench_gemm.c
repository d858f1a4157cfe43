/*
 * bench_gemm: the matrix-product ceiling the network figures are read against. Times
 * OpenBLAS's sgemm (through nn_sgemm) and doppel's packed-weight kernel on the same
 * M x K x N product, on 1 thread and on T threads (doppel splits the rows over its pool,
 * OpenBLAS over its own threads), and prints GFLOP/s, best of RUNS.
 *
 * Usage: bench_gemm M K N RUNS THREADS
 */
#include "nn/blas.h"
#include "nn/kern.h"
#include "nn/pool.h"
#include "util/clock.h"
#include "util/xalloc.h"

#include <stdio.h>
#include <stdlib.h>

struct job {
    const float *a;
    const struct nn_packed *b;
    float *c;
    int64_t m, k, n, rows;
};

static void job_task(void *arg, int64_t t, int thread)
{
    const struct job *j = arg;
    int64_t r0 = t * j->rows, r1 = r0 + j->rows < j->m ? r0 + j->rows : j->m;

    (void)thread;
    nn_kernels_get()->gemm(j->a + r0 * j->k, j->k, j->b, j->c + r0 * j->n, j->n, r1 - r0, 0,
                           j->n, NULL);
}

static double best_doppel(struct nn_pool *pool, struct job *j, int runs)
{
    double best = 1e9;
    int64_t tasks;

    j->rows = (j->m + 4 * nn_pool_threads(pool) - 1) / (4 * nn_pool_threads(pool));
    j->rows = (j->rows + 23) / 24 * 24;
    tasks = (j->m + j->rows - 1) / j->rows;
    for (int r = 0; r < runs; r++) {
        double t0 = clock_now();

        nn_pool_run(pool, tasks, job_task, j);
        t0 = clock_now() - t0;
        best = t0 < best ? t0 : best;
    }
    return best;
}

static double best_openblas(const struct job *j, const float *w, int runs)
{
    double best = 1e9;

    for (int r = 0; r < runs; r++) {
        double t0 = clock_now();

        nn_sgemm(0, 0, (int)j->m, (int)j->n, (int)j->k, j->a, w, j->c, 0);
        t0 = clock_now() - t0;
        best = t0 < best ? t0 : best;
    }
    return best;
}

int main(int argc, char **argv)
{
    struct job j;
    struct nn_packed pk;
    float *a, *w;
    int runs, threads;
    double flop;

    if (argc != 6) {
        fprintf(stderr, "usage: bench_gemm M K N RUNS THREADS\n");
        return 2;
    }
    j.m = strtol(argv[1], NULL, 10), j.k = strtol(argv[2], NULL, 10);
    j.n = strtol(argv[3], NULL, 10);
    runs = (int)strtol(argv[4], NULL, 10), threads = (int)strtol(argv[5], NULL, 10);
    if (j.m < 1 || j.k < 1 || j.n < 1 || runs < 1 || threads < 1) {
        fprintf(stderr, "bench_gemm: bad arguments\n");
        return 2;
    }
    a = xaligned_alloc(64, sizeof(float) * (size_t)(j.m * j.k));
    w = xaligned_alloc(64, sizeof(float) * (size_t)(j.k * j.n));
    j.c = xaligned_alloc(64, sizeof(float) * (size_t)(j.m * j.n));
    for (int64_t i = 0; i < j.m * j.k; i++)
        a[i] = (float)(i % 13) / 13.0f - 0.5f;
    for (int64_t i = 0; i < j.k * j.n; i++)
        w[i] = (float)(i % 7) / 7.0f - 0.5f;
    nn_packed_init(&pk, w, j.k, j.n, 0);
    j.a = a, j.b = &pk;
    flop = 2.0 * (double)j.m * (double)j.k * (double)j.n;
    for (int t = 1; t <= threads; t = t == threads ? threads + 1 : threads) {
        struct nn_pool *pool = nn_pool_new(t);

        nn_blas_set_threads(t);
        printf("threads %d openblas_gflops %.1f doppel_gflops %.1f kernels %s\n", t,
               flop / best_openblas(&j, w, runs) / 1e9, flop / best_doppel(pool, &j, runs) / 1e9,
               nn_kernels_get()->name);
        nn_pool_free(pool);
    }
    nn_packed_free(&pk);
    free(j.c);
    free(w);
    free(a);
    return 0;
}
