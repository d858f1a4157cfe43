/*
 * fuzz_names: libFuzzer target over the name-search query path (UTF-8 validation,
 * normalisation, prefix and fuzzy search, every ratio) on a small fixed index. The
 * first byte picks the mode and k; the rest is the query.
 */
#include "names/names.h"
#include "names/normalize.h"
#include "names/ratio.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct names_index *fuzz_index(void)
{
    static const char *const names[] = {
        "Jessica Chastain", "Leonardo DiCaprio", "Keanu Reeves", "Penélope Cruz", "渡辺 謙",
        "Zoë Saldaña",      "O'Brien",           "Robert Downey Jr.", "A", "Straße Müller",
    };
    static struct names_index *ix;
    struct err e;

    if (ix == NULL && names_index_build(names, NULL, 10, &ix, &e) != NAMES_OK)
        abort();
    return ix;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct names_hit hits[16];
    struct err e;
    size_t n;
    int k;

    if (size < 1)
        return 0;
    k = data[0] & 15;
    names_search(fuzz_index(), (const char *)data + 1, size - 1, k, data[0] >> 6 ? 0 : 60,
                 (enum names_mode)((data[0] >> 4) % 3), hits, &n, &e);
    if (n > (size_t)(k < 1 ? 1 : k))
        abort();
    return 0;
}
