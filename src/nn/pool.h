/*
 * pool: the worker threads one forward pass splits its layers across. A pool of T
 * threads is the caller plus T - 1 workers; nn_pool_run hands out the tasks of one
 * parallel loop and returns when all are done. Layers last tens of microseconds, so a
 * worker spins briefly for the next loop before it sleeps. A pool is used by one caller
 * thread at a time (it belongs to an nn_ctx).
 */
#ifndef DOPPEL_POOL_H
#define DOPPEL_POOL_H

#include <stdint.h>

struct nn_pool;

/* Returns a pool of threads (>= 1) threads; free with nn_pool_free. */
struct nn_pool *nn_pool_new(int threads);

/* Stops the workers and frees the pool; p may be NULL. */
void nn_pool_free(struct nn_pool *p);

/* Returns the number of threads, the caller included (1 for a NULL pool). */
int nn_pool_threads(const struct nn_pool *p);

/* Calls fn(arg, task, thread) for every task in [0, ntasks), spread over the threads
 * (thread in [0, nn_pool_threads)); returns when every call has returned. p may be NULL:
 * the caller runs every task. */
void nn_pool_run(struct nn_pool *p, int64_t ntasks, void (*fn)(void *arg, int64_t task, int thread),
                 void *arg);

#endif
