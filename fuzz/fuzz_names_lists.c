/*
 * fuzz_names_lists: libFuzzer target over name-lists file validation
 * (names_lists_open_mem: header, shape, checksum, the names it was made from, then every
 * entry, the deletion index) and, for images that pass, whole and misspelled names'
 * searches that fill from the lists and the names near them.
 *
 * As in fuzz_near, most inputs are patches: at start the target builds a small name index
 * (300 names sharing words) and its lists; an input not starting "DOPPELNL" is a list of
 * (offset: 4 bytes, value: 1 byte) patches to that image, resealed with a fresh checksum
 * when the first byte's low bit is set, so the entry checks behind the checksum see
 * arbitrary rows and scores. An input starting "DOPPELNL" is taken as a whole file.
 */
#include "index/layout.h"
#include "names/lists.h"
#include "names/names.h"
#include "names/ratio.h"

#include "fixture.h"

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NAMES 300
#define K     8

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct names_index *ix;
static unsigned char *golden;
static size_t golden_len;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    static const char *const first[] = {"anna", "jo", "john", "maria", "kim", "tom"};
    static const char *const last[] = {"smith", "smyth", "lee", "hanks", "banks", "li", "king"};
    static char buf[NAMES][32];
    const char *names[NAMES];
    double pop[NAMES];
    struct names_lists *nl;
    struct err e;

    (void)argc;
    (void)argv;
    for (int i = 0; i < NAMES; i++) {
        snprintf(buf[i], sizeof buf[i], "%s %s%c", first[i % 6], last[(i / 6) % 7],
                 i % 5 == 0 ? 'a' + i % 26 : '\0');
        names[i] = buf[i];
        pop[i] = (double)((i * 37) % 101);
    }
    if (names_index_build(names, pop, NAMES, &ix, &e) != NAMES_OK ||
        names_lists_build(ix, K, 1, NULL, &nl, &e) != NAMES_LISTS_OK) {
        fprintf(stderr, "fuzz_names_lists: cannot set up: %s\n", e.msg);
        abort();
    }
    {
        const void *img = names_lists_image(nl, &golden_len);

        golden = aligned_alloc(64, (golden_len + 63) / 64 * 64);
        memcpy(golden, img, golden_len);
    }
    names_lists_free(nl);
    return 0;
}

/* The body checksum lists.c keeps at header bytes 32..39. */
static void reseal(unsigned char *b, size_t n)
{
    uint64_t s = layout_sum64(b + 64, n - 64, 0);

    memcpy(b + 32, &s, 8);
}

static void exercise(const struct names_lists *nl)
{
    for (uint32_t r = 0; r <= NAMES; r++) {
        const uint32_t *rows;
        const uint8_t *scores;
        size_t n = names_lists_get(nl, r, &rows, &scores);

        if (n > names_lists_k(nl) || (r == NAMES && n != 0))
            abort();
        for (size_t i = 0; i < n; i++)
            if (rows[i] >= NAMES || scores[i] < NAMES_CUTOFF || scores[i] > 100)
                abort();
    }
    names_index_use_lists(ix, nl);
    for (uint32_t r = 0; r < NAMES; r += 13) {
        char q[40];
        uint32_t cp[RATIO_MAX_LEN], near[16];
        size_t m = names_index_codepoints(ix, r, cp);

        /* the whole name, and a misspelling of it (answered from the names near it) */
        for (int typo = 0; typo < 2; typo++) {
            struct names_hit h[12];
            size_t n;
            struct err e;

            snprintf(q, sizeof q, "%s", names_index_name(ix, r));
            if (typo)
                q[r % strlen(q)] = 'x';
            if (names_search(ix, q, strlen(q), 12, NAMES_CUTOFF, NAMES_MODE_AUTO, h, &n, &e) !=
                    NAMES_OK ||
                n > 12)
                abort();
            for (size_t i = 0; i < n; i++)
                if (h[i].row >= NAMES)
                    abort();
        }
        m = names_lists_near(nl, cp, m, near, 16);
        for (size_t i = 0; i < m; i++)
            if (near[i] >= NAMES)
                abort();
    }
    names_index_use_lists(ix, NULL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t n;
    int reseal_it;
    unsigned char *buf =
        fuzz_patch_image(data, size, "DOPPELNL", golden, golden_len, &n, &reseal_it);
    struct names_lists *nl = NULL;
    struct err e;

    if (reseal_it && n >= 64)
        reseal(buf, n);
    if (names_lists_open_mem(buf, n, ix, &nl, &e) == NAMES_LISTS_OK)
        exercise(nl);
    names_lists_free(nl);
    free(buf);
    return 0;
}
