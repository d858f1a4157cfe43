/*
 * fuzz_index: libFuzzer target over index file validation (index_open_mem: header, layout
 * and checksum checks) and, for images that pass, everything that reads the sections: a
 * search with pruning and one without, the id map, vector access and the payload
 * checksum. Open-time validation does not cover the vectors and their int8 copy, so
 * mutations there reach the search. The input is copied to a 64-byte aligned buffer, as
 * a mapped file would be. Seeds: small valid indexes from fuzz/seeds.sh.
 */
#include "index/index.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Aborts unless the hits are a plausible answer: at most k, rows in range, best first. */
static void check_hits(const struct index *ix, const struct index_hit *h, size_t n, size_t k)
{
    if (n > k)
        abort();
    for (size_t i = 0; i < n; i++) {
        if (h[i].row >= index_get_meta(ix)->count || h[i].id != index_get_id(ix, h[i].row))
            abort();
        if (i > 0 && h[i].score > h[i - 1].score)
            abort();
        if (!(h[i].rank_pct >= 0 && h[i].rank_pct <= 100))
            abort();
    }
}

static void exercise(const struct index *ix)
{
    const struct index_meta *m = index_get_meta(ix);
    float *q = malloc(m->dim * sizeof(float));
    struct index_hit hits[5];
    struct err e;
    uint32_t row;
    size_t n;
    int64_t ex = m->count > 0 ? index_get_id(ix, 0) : INDEX_NO_ID;

    for (uint32_t i = 0; i < m->dim; i++)
        q[i] = (float)((int)(i % 5) - 2) + 0.25f;
    if (index_search(ix, q, 5, ex, 2, hits, &n, &e) == INDEX_OK)
        check_hits(ix, hits, n, 5);
    if (index_search_ex(ix, q, 3, INDEX_NO_ID, 1, INDEX_SEARCH_FULL, hits, &n, NULL, &e) ==
        INDEX_OK)
        check_hits(ix, hits, n, 3);
    if (m->count > 0 && index_find_id(ix, ex, &row) && index_get_vector(ix, row) == NULL)
        abort();
    index_verify(ix, &e);
    free(q);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    unsigned char *buf = aligned_alloc(64, (size + 64) / 64 * 64);
    struct index *ix;
    struct err e;

    memcpy(buf, data, size);
    if (index_open_mem(buf, size, NULL, &ix, &e) == INDEX_OK) {
        exercise(ix);
        index_close(ix);
    }
    free(buf);
    return 0;
}
