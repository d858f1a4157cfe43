/*
 * arena: scoped scratch memory. Allocations come from large blocks and are never freed
 * one by one; arena_release frees them all at once. Used for one HTTP request's
 * working memory (result lists, a photo's faces), released when its answer is built.
 */
#ifndef DOPPEL_ARENA_H
#define DOPPEL_ARENA_H

#include <stddef.h>

struct arena_block;

struct arena {
    struct arena_block *head; /* the newest block; NULL when empty */
    size_t block;             /* bytes of a new block (larger requests get their own) */
};

/* Prepares an empty arena whose blocks hold block bytes (0 = 64 KiB). */
void arena_init(struct arena *a, size_t block);

/* Returns n zeroed bytes aligned to 16, valid until arena_release; never NULL (aborts on
 * out-of-memory, as xmalloc does). */
void *arena_alloc(struct arena *a, size_t n);

/* Returns an array of count elements of size bytes (zeroed); aborts on overflow. */
void *arena_calloc(struct arena *a, size_t count, size_t size);

/* Frees every allocation and leaves the arena empty and reusable; a may be NULL. */
void arena_release(struct arena *a);

#endif
