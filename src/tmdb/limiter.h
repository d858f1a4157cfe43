/*
 * tmdb/limiter: the crawler's rate limiter, shared by all its connections.
 *
 * A token bucket of `budget` tokens where each token comes back `window` seconds after
 * the request that took it has finished (not when it started). So over any window of
 * that length at most `budget` requests are made, whatever the concurrency; the budget
 * is counted from completions, which makes the bound hold on the server's side too:
 * a request arrives there before its response finishes, and the request that reuses
 * the token leaves at least `window` later. A 429 pauses the whole bucket until its
 * Retry-After has passed. Single-threaded (the client's curl multi loop owns it).
 */
#ifndef DOPPEL_TMDB_LIMITER_H
#define DOPPEL_TMDB_LIMITER_H

struct tmdb_limiter {
    int budget;          /* tokens; 0 = no limit */
    double window;       /* seconds until a returned token can be taken again */
    double *free_at;     /* per token: when it can be taken; INFINITY while in use */
    double paused_until; /* no token is handed out before this time */
};

/* Prepares a limiter of budget requests per window seconds (budget 0: unlimited).
 * Release with tmdb_limiter_release. */
void tmdb_limiter_init(struct tmdb_limiter *l, int budget, double window);

/* Frees the limiter's memory; l may be NULL. */
void tmdb_limiter_release(struct tmdb_limiter *l);

/* Takes a token at time now: returns 1 with *token set (give it back with
 * tmdb_limiter_give), or 0 with *wait the seconds until one may be free. */
int tmdb_limiter_take(struct tmdb_limiter *l, double now, int *token, double *wait);

/* Returns token (from tmdb_limiter_take) when its request finished at time now. */
void tmdb_limiter_give(struct tmdb_limiter *l, int token, double now);

/* Hands out no token before time until (a 429's Retry-After). */
void tmdb_limiter_pause(struct tmdb_limiter *l, double until);

#endif
