/*
 * arena: a list of blocks, newest first; an allocation takes the next aligned bytes of
 * the newest block, or starts a block of its own size when it does not fit.
 */
#include "util/arena.h"

#include "util/xalloc.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define ARENA_ALIGN 16

struct arena_block {
    struct arena_block *next;
    size_t used, size;
    _Alignas(ARENA_ALIGN) unsigned char data[];
};

void arena_init(struct arena *a, size_t block)
{
    a->head = NULL;
    a->block = block ? block : (size_t)64 << 10;
}

void *arena_alloc(struct arena *a, size_t n)
{
    struct arena_block *b = a->head;
    size_t need = (n + ARENA_ALIGN - 1) & ~(size_t)(ARENA_ALIGN - 1);
    void *p;

    if (need < n)
        abort();
    if (b == NULL || b->size - b->used < need) {
        size_t size = need > a->block ? need : a->block;

        b = xmalloc(sizeof *b + size);
        b->size = size;
        b->used = 0;
        b->next = a->head;
        a->head = b;
    }
    p = b->data + b->used;
    b->used += need;
    memset(p, 0, n);
    return p;
}

void *arena_calloc(struct arena *a, size_t count, size_t size)
{
    if (size != 0 && count > SIZE_MAX / size)
        abort();
    return arena_alloc(a, count * size);
}

void arena_release(struct arena *a)
{
    if (a == NULL)
        return;
    while (a->head != NULL) {
        struct arena_block *next = a->head->next;

        free(a->head);
        a->head = next;
    }
}
