/*
 * fuzz_hnsw: libFuzzer target over graph file validation (hnsw_open_mem: header, layout,
 * checksum, then every level and link) and, for images that pass, everything that walks a
 * graph: searches with and without a filter and an exclusion, and an update that takes the
 * graph as the old one.
 *
 * A mutated file rarely keeps its checksum, so most inputs are patches instead: at start
 * the target writes a small index (300 rows; a temporary file, unlinked once mapped) and
 * builds its graph; an input not starting "DOPPELHN" is a list of (offset: 4 bytes,
 * value: 1 byte) patches to that graph's image, resealed with a fresh checksum when the
 * first byte's low bit is set, so the structural checks and the walks behind them see
 * arbitrary link lists. An input starting "DOPPELHN" is taken as a whole graph file.
 */
#include "index/hnsw.h"
#include "index/index.h"

#include "fixture.h"

#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define ROWS 300
#define DIM  80

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct index *ix;
static unsigned char *golden;
static size_t golden_len;
static uint64_t allow[(ROWS + 63) / 64];

static void make_rows(float *v, int64_t *ids)
{
    fuzz_unit_rows(v, ROWS, DIM, 7);
    for (size_t r = 0; r < ROWS; r++) {
        ids[r] = (int64_t)r * 5 + 1;
        if (r % 3 == 0)
            allow[r / 64] |= 1ull << (r % 64);
    }
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    static float v[ROWS * DIM];
    static int64_t ids[ROWS];
    struct index_meta m = {"look", "fuzz", DIM, ROWS};
    struct hnsw_params p = {4, 16, 3, 1, NULL};
    char path[] = "/tmp/fuzz_hnsw-XXXXXX";
    struct hnsw *g;
    struct err e;
    int fd = mkstemp(path);

    (void)argc;
    (void)argv;
    make_rows(v, ids);
    if (fd < 0 || index_write(path, &m, v, ids, &e) != INDEX_OK ||
        index_open(path, "look", &ix, &e) != INDEX_OK || hnsw_build(ix, &p, &g, &e) != INDEX_OK) {
        fprintf(stderr, "fuzz_hnsw: cannot set up: %s\n", e.msg);
        abort();
    }
    close(fd);
    unlink(path);
    {
        const void *img = hnsw_image(g, &golden_len);

        golden = aligned_alloc(64, (golden_len + 63) / 64 * 64);
        memcpy(golden, img, golden_len);
    }
    hnsw_free(g);
    return 0;
}

static void check_hits(const struct index_hit *h, size_t n, size_t k, const uint64_t *ok)
{
    if (n > k)
        abort();
    for (size_t i = 0; i < n; i++) {
        if (h[i].row >= ROWS || (ok != NULL && !(ok[h[i].row / 64] >> (h[i].row % 64) & 1)))
            abort();
        if (i > 0 && h[i].score > h[i - 1].score)
            abort();
    }
}

static void exercise(const struct hnsw *g)
{
    struct index_query q = {.k = 5, .exclude = 6, .ef = 8};
    struct hnsw_params p = {4, 16, 3, 2, NULL};
    struct hnsw_update_stats st;
    struct index_hit h[5];
    struct hnsw *u;
    struct err e;
    size_t n;

    if (hnsw_search(g, index_get_vector(ix, 1), &q, h, &n, NULL, &e) == INDEX_OK)
        check_hits(h, n, 5, NULL);
    q.allow = allow;
    q.ef = 0;
    if (hnsw_search(g, index_get_vector(ix, 7), &q, h, &n, NULL, &e) == INDEX_OK)
        check_hits(h, n, 5, allow);
    if (hnsw_update(g, ix, &p, &u, &st, &e) == INDEX_OK)
        hnsw_free(u);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t n;
    int reseal_it;
    unsigned char *buf =
        fuzz_patch_image(data, size, "DOPPELHN", golden, golden_len, &n, &reseal_it);
    struct hnsw *g = NULL;
    struct err e;

    if (reseal_it)
        hnsw_reseal(buf, n);
    if (hnsw_open_mem(buf, n, ix, &g, &e) == INDEX_OK)
        exercise(g);
    hnsw_free(g);
    free(buf);
    return 0;
}
