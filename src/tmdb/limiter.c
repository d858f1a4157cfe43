/*
 * tmdb/limiter: a token bucket whose tokens come back a window after use (limiter.h).
 *
 * The budget is small (40 by default, a few hundred at most), so taking a token is a
 * linear scan for the earliest free one; nothing here is on a hot path next to the
 * network round trips it spaces out.
 */
#include "tmdb/limiter.h"

#include "util/xalloc.h"

#include <assert.h>
#include <math.h>
#include <stdlib.h>

void tmdb_limiter_init(struct tmdb_limiter *l, int budget, double window)
{
    l->budget = budget > 0 ? budget : 0;
    l->window = window > 0 ? window : 0;
    l->free_at = l->budget > 0 ? xcalloc((size_t)l->budget, sizeof *l->free_at) : NULL;
    l->paused_until = 0;
}

void tmdb_limiter_release(struct tmdb_limiter *l)
{
    if (l == NULL)
        return;
    free(l->free_at);
    l->free_at = NULL;
}

int tmdb_limiter_take(struct tmdb_limiter *l, double now, int *token, double *wait)
{
    int best = -1;

    *token = -1;
    *wait = 0;
    if (now < l->paused_until) {
        *wait = l->paused_until - now;
        return 0;
    }
    if (l->budget == 0)
        return 1;
    for (int i = 0; i < l->budget; i++) {
        if (best < 0 || l->free_at[i] < l->free_at[best])
            best = i;
    }
    if (l->free_at[best] > now) {
        /* every token in use: wait a little and look again */
        *wait = isinf(l->free_at[best]) ? 0.01 : l->free_at[best] - now;
        return 0;
    }
    l->free_at[best] = INFINITY;
    *token = best;
    return 1;
}

void tmdb_limiter_give(struct tmdb_limiter *l, int token, double now)
{
    if (token < 0)
        return;
    assert(token < l->budget && isinf(l->free_at[token]));
    l->free_at[token] = now + l->window;
}

void tmdb_limiter_pause(struct tmdb_limiter *l, double until)
{
    if (until > l->paused_until)
        l->paused_until = until;
}
