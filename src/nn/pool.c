/*
 * pool: a fixed set of workers and a generation counter. nn_pool_run publishes a loop
 * (function, argument, task count), bumps the generation and wakes the workers; every
 * thread, the caller included, claims tasks with an atomic counter until none are left,
 * and the last one out signals completion. Workers poll the generation for a few tens
 * of microseconds before blocking on the condition variable, because the next layer's
 * loop usually follows within that time and a futex wake-up costs more than the spin.
 */
#include "nn/pool.h"

#include "util/clock.h"
#include "util/xalloc.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>

/* How long a thread polls before it blocks: longer than the serial stretch between two
 * parallel layers (a pool, an element-wise op), shorter than anything a user notices.
 * At 20 microseconds BlazeFace on two threads ran slower than on one (every layer paid a
 * futex wake-up); at 300 it runs 1.3x faster. */
#define SPIN_SECONDS 300e-6

/* Polls until *gen moves past seen (gen not NULL) or *busy reaches 0 (busy not NULL),
 * yielding now and then so a thread sharing the core is not starved; gives up after
 * SPIN_SECONDS. Returns 1 when the condition came true. */
static int spin_until(const atomic_ulong *gen, unsigned long seen, const atomic_int *busy)
{
    double until = clock_now() + SPIN_SECONDS;

    for (unsigned i = 1;; i++) {
        if (gen != NULL && atomic_load_explicit(gen, memory_order_acquire) != seen)
            return 1;
        if (busy != NULL && atomic_load_explicit(busy, memory_order_acquire) == 0)
            return 1;
#if defined(__x86_64__) || defined(__i386__)
        __builtin_ia32_pause();
#endif
        if (i % 64 == 0) { /* let a thread that shares this core run */
            if (clock_now() > until)
                return 0;
            sched_yield();
        }
    }
}

struct worker {
    struct nn_pool *pool;
    int index;
};

struct nn_pool {
    int threads;
    pthread_t *tid;
    struct worker *workers;
    pthread_mutex_t mu;
    pthread_cond_t wake, done;
    void (*fn)(void *, int64_t, int);
    void *arg;
    int64_t ntasks;
    atomic_llong next;
    atomic_int busy;   /* workers still in the current loop */
    atomic_ulong gen;  /* bumped once per loop */
    int stop;
};

/* Claims and runs tasks of the current loop until none are left. */
static void drain(struct nn_pool *p, int thread)
{
    int64_t t;

    while ((t = atomic_fetch_add(&p->next, 1)) < p->ntasks)
        p->fn(p->arg, t, thread);
}

/* Waits for the generation to move past seen; returns 0 when the pool is stopping. */
static int await_loop(struct nn_pool *p, unsigned long seen)
{
    if (spin_until(&p->gen, seen, NULL))
        return 1;
    pthread_mutex_lock(&p->mu);
    while (atomic_load(&p->gen) == seen && !p->stop)
        pthread_cond_wait(&p->wake, &p->mu);
    pthread_mutex_unlock(&p->mu);
    return atomic_load(&p->gen) != seen;
}

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    struct nn_pool *p = w->pool;
    unsigned long seen = 0;

    while (await_loop(p, seen)) {
        seen = atomic_load(&p->gen);
        drain(p, w->index);
        if (atomic_fetch_sub(&p->busy, 1) == 1) {
            pthread_mutex_lock(&p->mu);
            pthread_cond_signal(&p->done);
            pthread_mutex_unlock(&p->mu);
        }
    }
    return NULL;
}

struct nn_pool *nn_pool_new(int threads)
{
    struct nn_pool *p = xcalloc(1, sizeof *p);

    p->threads = threads < 1 ? 1 : threads;
    p->tid = xcalloc((size_t)p->threads, sizeof *p->tid);
    p->workers = xcalloc((size_t)p->threads, sizeof *p->workers);
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->wake, NULL);
    pthread_cond_init(&p->done, NULL);
    for (int i = 1; i < p->threads; i++) {
        p->workers[i].pool = p;
        p->workers[i].index = i;
        if (pthread_create(&p->tid[i], NULL, worker_main, &p->workers[i]) != 0) {
            p->threads = i; /* run with the workers that started */
            break;
        }
    }
    return p;
}

void nn_pool_free(struct nn_pool *p)
{
    if (p == NULL)
        return;
    pthread_mutex_lock(&p->mu);
    p->stop = 1;
    pthread_cond_broadcast(&p->wake);
    pthread_mutex_unlock(&p->mu);
    for (int i = 1; i < p->threads; i++)
        pthread_join(p->tid[i], NULL);
    pthread_cond_destroy(&p->done);
    pthread_cond_destroy(&p->wake);
    pthread_mutex_destroy(&p->mu);
    free(p->workers);
    free(p->tid);
    free(p);
}

int nn_pool_threads(const struct nn_pool *p)
{
    return p != NULL ? p->threads : 1;
}

void nn_pool_run(struct nn_pool *p, int64_t ntasks, void (*fn)(void *arg, int64_t task, int thread),
                 void *arg)
{
    if (p == NULL || p->threads == 1 || ntasks <= 1) {
        for (int64_t t = 0; t < ntasks; t++)
            fn(arg, t, 0);
        return;
    }
    p->fn = fn;
    p->arg = arg;
    p->ntasks = ntasks;
    atomic_store(&p->next, 0);
    atomic_store(&p->busy, p->threads - 1);
    pthread_mutex_lock(&p->mu);
    atomic_fetch_add_explicit(&p->gen, 1, memory_order_release);
    pthread_cond_broadcast(&p->wake);
    pthread_mutex_unlock(&p->mu);
    drain(p, 0);
    spin_until(NULL, 0, &p->busy);
    pthread_mutex_lock(&p->mu);
    while (atomic_load(&p->busy) > 0)
        pthread_cond_wait(&p->done, &p->mu);
    pthread_mutex_unlock(&p->mu);
}
