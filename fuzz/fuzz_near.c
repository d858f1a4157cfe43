/*
 * fuzz_near: libFuzzer target over near-lists file validation (near_open_mem: header,
 * shape, checksum, the index it was made for, then every entry) and, for images that
 * pass, reading every row's list.
 *
 * As in fuzz_hnsw, most inputs are patches: at start the target writes a small index
 * (300 rows; a temporary file, unlinked once mapped), builds its graph and its lists; an
 * input not starting "DOPPELNR" is a list of (offset: 4 bytes, value: 1 byte) patches to
 * that image, resealed with a fresh checksum when the first byte's low bit is set, so the
 * entry checks behind the checksum see arbitrary rows. An input starting "DOPPELNR" is
 * taken as a whole file.
 */
#include "index/hnsw.h"
#include "index/index.h"
#include "index/layout.h"
#include "index/near.h"

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
#define K    8

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct index *ix;
static unsigned char *golden;
static size_t golden_len;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    static float v[ROWS * DIM];
    static int64_t ids[ROWS];
    struct index_meta m = {"look", "fuzz", DIM, ROWS};
    struct hnsw_params p = {4, 16, 3, 1, NULL};
    char path[] = "/tmp/fuzz_near-XXXXXX";
    struct hnsw *g;
    struct near *nl;
    struct err e;
    int fd = mkstemp(path);

    (void)argc;
    (void)argv;
    fuzz_unit_rows(v, ROWS, DIM, 11);
    for (size_t r = 0; r < ROWS; r++)
        ids[r] = (int64_t)r * 7 + 2;
    if (fd < 0 || index_write(path, &m, v, ids, &e) != INDEX_OK ||
        index_open(path, "look", &ix, &e) != INDEX_OK || hnsw_build(ix, &p, &g, &e) != INDEX_OK) {
        fprintf(stderr, "fuzz_near: cannot set up: %s\n", e.msg);
        abort();
    }
    close(fd);
    unlink(path);
    index_attach_hnsw(ix, g);
    if (near_build(ix, K, 1, NULL, &nl, &e) != INDEX_OK) {
        fprintf(stderr, "fuzz_near: cannot set up: %s\n", e.msg);
        abort();
    }
    {
        const void *img = near_image(nl, &golden_len);

        golden = aligned_alloc(64, (golden_len + 63) / 64 * 64);
        memcpy(golden, img, golden_len);
    }
    near_free(nl);
    return 0;
}

/* The body checksum near.c keeps at header bytes 32..39. */
static void reseal(unsigned char *b, size_t n)
{
    uint64_t s = layout_sum64(b + 64, n - 64, 0);

    memcpy(b + 32, &s, 8);
}

static void exercise(const struct near *nl)
{
    struct index_hit h[NEAR_K_MAX];

    for (uint32_t r = 0; r <= ROWS; r++) {
        size_t n = near_get(nl, r, NEAR_K_MAX, h);

        if (n > near_k(nl) || (r == ROWS && n != 0))
            abort();
        for (size_t i = 0; i < n; i++)
            if (h[i].row >= ROWS || h[i].row == r || !isfinite(h[i].score))
                abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t n;
    int reseal_it;
    unsigned char *buf =
        fuzz_patch_image(data, size, "DOPPELNR", golden, golden_len, &n, &reseal_it);
    struct near *nl = NULL;
    struct err e;

    if (reseal_it && n >= 64)
        reseal(buf, n);
    if (near_open_mem(buf, n, ix, &nl, &e) == INDEX_OK)
        exercise(nl);
    near_free(nl);
    free(buf);
    return 0;
}
