/* The request arena: alignment, zeroing, large requests, release and reuse. */
#include "check.h"

#include "util/arena.h"

#include <stdint.h>
#include <string.h>

static void test_alloc(void)
{
    static const size_t sizes[] = {1, 7, 16, 100, 4000, 70000, 3, 1 << 20};
    struct arena a;
    unsigned char *prev = NULL;

    arena_init(&a, 4096);
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        unsigned char *p = arena_alloc(&a, sizes[i]);
        size_t zero = 0;

        CHECK(((uintptr_t)p & 15) == 0);
        for (size_t j = 0; j < sizes[i]; j++)
            zero += p[j] == 0;
        CHECK(zero == sizes[i]);
        memset(p, 0xAB, sizes[i]);
        CHECK(p != prev);
        prev = p;
    }
    arena_release(&a);
    CHECK(a.head == NULL);
    CHECK(arena_calloc(&a, 10, 8) != NULL); /* reusable after release */
    arena_release(&a);
    arena_release(NULL);
}

int main(int argc, char **argv)
{
    static const struct check_case cases[] = {
        {"alloc", test_alloc},
    };

    return check_main("arena", cases, sizeof cases / sizeof cases[0], argc, argv);
}
