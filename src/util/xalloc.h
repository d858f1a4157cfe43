/*
 * xalloc: the one allocator wrapper. Out of memory is not a recoverable condition for
 * doppel (every input is size-capped before allocation), so these abort with a message
 * instead of returning NULL. Memory from them is released with plain free().
 */
#ifndef DOPPEL_XALLOC_H
#define DOPPEL_XALLOC_H

#include <stddef.h>

/* Returns n bytes (n may be 0); never NULL. Caller frees with free(). */
void *xmalloc(size_t n);

/* Returns zeroed memory for count * size bytes, overflow-checked; never NULL. */
void *xcalloc(size_t count, size_t size);

/* Resizes p (which may be NULL) to n bytes; never NULL. */
void *xrealloc(void *p, size_t n);

/* Returns n bytes aligned to align (a power of two, a multiple of sizeof(void *));
 * caller frees with free(). */
void *xaligned_alloc(size_t align, size_t n);

/* Returns a heap copy of s; caller frees with free(). */
char *xstrdup(const char *s);

/* Returns a heap copy of the first n bytes of s, NUL-terminated. */
char *xstrndup(const char *s, size_t n);

#endif
