/*
 * lists: the file is a 64-byte header, then count x k rows (uint32, LISTS_NONE after the
 * end of a short list), then count x k scores (uint8), padded to 8 bytes. Building runs
 * names_search for every name, split over threads by an atomic counter; each name's
 * answers land in their own slots, so the file is the same whatever the thread count.
 */
#include "names/lists.h"

#include "index/index.h"
#include "index/layout.h"
#include "util/progress.h"
#include "util/xalloc.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#define LISTS_MAGIC   "DOPPELNL"
#define LISTS_VERSION 1
#define LISTS_NONE    UINT32_MAX
#define LISTS_BATCH   64 /* names a build thread takes at a time */
#define LISTS_THREADS 64

struct lists_header {
    char magic[8];
    uint32_t version;
    uint32_t k;
    uint64_t count;
    uint64_t names_sum; /* names_index_digest of the names it was made from */
    uint64_t body_sum;  /* layout_sum64 of everything after the header */
    uint32_t cutoff;
    uint32_t reserved[5];
};

struct names_lists {
    uint32_t k;
    uint64_t count;
    const uint32_t *rows;
    const uint8_t *scores;
    unsigned char *base; /* the image */
    size_t len;
    int owned;  /* base is ours to free */
    int mapped; /* base is our mapping */
};

_Static_assert(sizeof(struct lists_header) == 64, "lists header is 64 bytes");

static size_t image_len(uint64_t count, uint32_t k)
{
    size_t n = (size_t)count * k;

    return sizeof(struct lists_header) + n * sizeof(uint32_t) + (n + 7) / 8 * 8;
}

static void point(struct names_lists *nl)
{
    nl->rows = (const uint32_t *)(nl->base + sizeof(struct lists_header));
    nl->scores = (const uint8_t *)(nl->rows + (size_t)nl->count * nl->k);
}

/* ---- building ------------------------------------------------------------------------ */

struct lists_job {
    const struct names_index *ix;
    uint32_t *rows;
    uint8_t *scores;
    uint32_t k;
    atomic_uint_fast64_t next;
    struct progress *progress;
};

static void *lists_worker(void *arg)
{
    struct lists_job *j = arg;
    uint64_t count = names_index_count(j->ix);
    struct names_hit *hits = xmalloc(sizeof *hits * j->k);

    for (;;) {
        uint64_t r0 = atomic_fetch_add(&j->next, LISTS_BATCH);

        if (r0 >= count)
            break;
        for (uint64_t r = r0; r < r0 + LISTS_BATCH && r < count; r++) {
            const char *name = names_index_name(j->ix, (uint32_t)r);
            size_t n = 0;
            struct err e;

            /* A name the search refuses (over NAMES_QUERY_MAX bytes) gets an empty list:
             * the same query is refused at search time too. */
            if (names_search(j->ix, name, strlen(name), (int)j->k, NAMES_CUTOFF, NAMES_MODE_FUZZY,
                             hits, &n, &e) != NAMES_OK)
                n = 0;
            for (size_t i = 0; i < j->k; i++) {
                j->rows[r * j->k + i] = i < n ? hits[i].row : LISTS_NONE;
                j->scores[r * j->k + i] = i < n ? (uint8_t)hits[i].score : 0;
            }
        }
        if (j->progress != NULL)
            progress_add(j->progress, r0 + LISTS_BATCH < count ? LISTS_BATCH : count - r0);
    }
    free(hits);
    return NULL;
}

int names_lists_build(const struct names_index *ix, uint32_t k, int threads,
                      struct progress *progress, struct names_lists **out, struct err *e)
{
    uint64_t count = names_index_count(ix);
    struct lists_job j = {.ix = ix, .k = k, .progress = progress};
    pthread_t tid[LISTS_THREADS];
    struct lists_header *h;
    struct names_lists *nl;
    int started = 0;

    *out = NULL;
    if (k < 1 || k > NAMES_LIST_K_MAX || count == 0) {
        err_set(e, count == 0 ? "name lists: no names" : "name lists: k must be from 1 to %d",
                NAMES_LIST_K_MAX);
        return NAMES_LISTS_ERR_INPUT;
    }
    threads = threads < 1 ? 1 : threads > LISTS_THREADS ? LISTS_THREADS : threads;
    nl = xcalloc(1, sizeof *nl);
    nl->k = k;
    nl->count = count;
    nl->len = image_len(count, k);
    nl->base = xcalloc(1, nl->len);
    nl->owned = 1;
    point(nl);
    j.rows = (uint32_t *)nl->rows;
    j.scores = (uint8_t *)nl->scores;
    atomic_init(&j.next, 0);
    for (int t = 1; t < threads; t++)
        started += pthread_create(&tid[started], NULL, lists_worker, &j) == 0;
    lists_worker(&j);
    for (int t = 0; t < started; t++)
        pthread_join(tid[t], NULL);
    h = (struct lists_header *)nl->base;
    memcpy(h->magic, LISTS_MAGIC, 8);
    h->version = LISTS_VERSION;
    h->k = k;
    h->count = count;
    h->cutoff = NAMES_CUTOFF;
    h->names_sum = names_index_digest(ix);
    h->body_sum = layout_sum64(nl->base + sizeof *h, nl->len - sizeof *h, 0);
    *out = nl;
    return NAMES_LISTS_OK;
}

int names_lists_write(const struct names_lists *nl, const char *path, struct err *e)
{
    return layout_write_file(path, nl->base, nl->len, e) == INDEX_OK ? NAMES_LISTS_OK
                                                                     : NAMES_LISTS_ERR_IO;
}

/* ---- opening ------------------------------------------------------------------------- */

/* Every entry a row of the names with a score from the cut-off to 100, a short list
 * padded to its end. */
static int check_entries(const struct names_lists *nl, struct err *e)
{
    for (uint64_t r = 0; r < nl->count; r++) {
        const uint32_t *l = nl->rows + r * nl->k;
        const uint8_t *s = nl->scores + r * nl->k;
        int ended = 0;

        for (uint32_t i = 0; i < nl->k; i++) {
            if (l[i] == LISTS_NONE) {
                ended = 1;
                continue;
            }
            if (ended || l[i] >= nl->count || s[i] < NAMES_CUTOFF || s[i] > 100) {
                err_set(e, "corrupt list of name %llu (entry %u)", (unsigned long long)r, i);
                return NAMES_LISTS_ERR_FORMAT;
            }
        }
    }
    return NAMES_LISTS_OK;
}

int names_lists_open_mem(const void *buf, size_t len, const struct names_index *ix,
                         struct names_lists **out, struct err *e)
{
    const struct lists_header *h = buf;
    struct names_lists *nl;
    int rc;

    *out = NULL;
    if ((uintptr_t)buf % 8 != 0) {
        err_set(e, "name lists image not 8-byte aligned");
        return NAMES_LISTS_ERR_INPUT;
    }
    if (len < sizeof *h || memcmp(h->magic, LISTS_MAGIC, 8) != 0) {
        err_set(e,
                len < sizeof *h ? "truncated: %zu bytes, less than the header"
                                : "not a doppel name-lists file (bad magic)",
                len);
        return NAMES_LISTS_ERR_FORMAT;
    }
    if (h->version != LISTS_VERSION) {
        err_set(e, "name-lists format version %u, this doppel reads %d", h->version,
                LISTS_VERSION);
        return NAMES_LISTS_ERR_FORMAT;
    }
    for (int i = 0; i < 5; i++)
        if (h->reserved[i] != 0) {
            err_set(e, "reserved header field %d is not zero", i);
            return NAMES_LISTS_ERR_FORMAT;
        }
    if (h->k < 1 || h->k > NAMES_LIST_K_MAX || h->count > UINT32_MAX ||
        len != image_len(h->count, h->k)) {
        err_set(e, "bad shape: k %u, %llu names in %zu bytes", h->k,
                (unsigned long long)h->count, len);
        return NAMES_LISTS_ERR_FORMAT;
    }
    if (layout_sum64((const unsigned char *)buf + sizeof *h, len - sizeof *h, 0) != h->body_sum) {
        err_set(e, "checksum mismatch (corrupt file)");
        return NAMES_LISTS_ERR_FORMAT;
    }
    if (h->count != names_index_count(ix) || h->names_sum != names_index_digest(ix) ||
        h->cutoff != NAMES_CUTOFF) {
        err_set(e, "made from other names (%llu; the catalogue has %zu)",
                (unsigned long long)h->count, names_index_count(ix));
        return NAMES_LISTS_ERR_MISMATCH;
    }
    nl = xcalloc(1, sizeof *nl);
    nl->k = h->k;
    nl->count = h->count;
    nl->base = (unsigned char *)buf;
    nl->len = len;
    point(nl);
    rc = check_entries(nl, e);
    if (rc != NAMES_LISTS_OK) {
        free(nl);
        return rc;
    }
    *out = nl;
    return NAMES_LISTS_OK;
}

int names_lists_open(const char *path, const struct names_index *ix, struct names_lists **out,
                     struct err *e)
{
    void *map;
    size_t len;
    int rc = layout_map_file(path, &map, &len, NULL, e) == INDEX_OK ? NAMES_LISTS_OK
                                                                    : NAMES_LISTS_ERR_IO;

    *out = NULL;
    if (rc == NAMES_LISTS_OK) /* an empty file maps to NULL: "truncated: 0 bytes" */
        rc = names_lists_open_mem(map, len, ix, out, e);
    if (rc == NAMES_LISTS_OK) {
        (*out)->mapped = 1;
    } else {
        if (map != NULL)
            munmap(map, len);
        err_prefix(e, "%s", path);
    }
    return rc;
}

void names_lists_free(struct names_lists *nl)
{
    if (nl == NULL)
        return;
    if (nl->mapped)
        munmap(nl->base, nl->len);
    else if (nl->owned)
        free(nl->base);
    free(nl);
}

const void *names_lists_image(const struct names_lists *nl, size_t *len)
{
    *len = nl->len;
    return nl->base;
}

uint32_t names_lists_k(const struct names_lists *nl)
{
    return nl->k;
}

size_t names_lists_get(const struct names_lists *nl, uint32_t row, const uint32_t **rows,
                       const uint8_t **scores)
{
    size_t n = 0;

    if (row >= nl->count)
        return 0;
    *rows = nl->rows + (size_t)row * nl->k;
    *scores = nl->scores + (size_t)row * nl->k;
    while (n < nl->k && (*rows)[n] != LISTS_NONE)
        n++;
    return n;
}
