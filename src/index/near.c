/*
 * near: the file is a 64-byte header and then count x k entries (row, score), row
 * NEAR_NONE after the end of a short list. Building runs index_query for every row, with
 * the row's own vector as the query and its person excluded, split over threads by an
 * atomic counter; each row's answers land in their own slots, so the file is the same
 * whatever the thread count.
 */
#include "index/near.h"

#include "index/layout.h"
#include "util/progress.h"
#include "util/xalloc.h"

#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#define NEAR_MAGIC   "DOPPELNR"
#define NEAR_VERSION 1
#define NEAR_NONE    UINT32_MAX
#define NEAR_BATCH   64 /* rows a build thread takes at a time */

struct near_header {
    char magic[8];
    uint32_t version;
    uint32_t k;
    uint64_t count;
    uint64_t ix_sum;   /* the index's data checksum */
    uint64_t body_sum; /* layout_sum64 of the entries */
    uint32_t reserved[6];
};

struct near_entry {
    uint32_t row;
    float score;
};

struct near {
    const struct index *ix;
    uint32_t k;
    uint64_t count;
    const struct near_entry *ent;
    unsigned char *base; /* the image */
    size_t len;
    int owned;  /* base is ours to free */
    int mapped; /* base is our mapping */
};

_Static_assert(sizeof(struct near_header) == 64, "near header is 64 bytes");
_Static_assert(sizeof(struct near_entry) == 8, "near entry is 8 bytes");

/* ---- building ------------------------------------------------------------------------ */

struct near_job {
    const struct index *ix;
    struct near_entry *ent;
    uint32_t k;
    atomic_uint_fast64_t next;
    struct progress *progress;
    pthread_mutex_t lock; /* guards rc and e */
    int rc;
    struct err *e;
};

static void *near_worker(void *arg)
{
    struct near_job *j = arg;
    uint64_t count = index_get_meta(j->ix)->count;
    struct index_hit *hits = xmalloc(sizeof *hits * j->k);
    struct index_query q = {0};
    float v[INDEX_DIM_MAX];

    q.k = j->k;
    q.threads = 1;
    for (;;) {
        uint64_t r0 = atomic_fetch_add(&j->next, NEAR_BATCH);

        if (r0 >= count || j->rc != INDEX_OK)
            break;
        for (uint64_t r = r0; r < r0 + NEAR_BATCH && r < count; r++) {
            struct near_entry *out = j->ent + r * j->k;
            size_t n = 0;
            struct err e;
            int rc;

            q.exclude = index_get_id(j->ix, (uint32_t)r);
            rc = index_query(j->ix, index_read_vector(j->ix, (uint32_t)r, v), &q, hits, &n, NULL,
                             &e);
            if (rc != INDEX_OK) {
                pthread_mutex_lock(&j->lock);
                if (j->rc == INDEX_OK) {
                    j->rc = rc;
                    err_set(j->e, "row %llu: %s", (unsigned long long)r, e.msg);
                }
                pthread_mutex_unlock(&j->lock);
                break;
            }
            for (size_t i = 0; i < j->k; i++)
                out[i] = i < n ? (struct near_entry){hits[i].row, hits[i].score}
                               : (struct near_entry){NEAR_NONE, 0};
        }
        if (j->progress != NULL)
            progress_add(j->progress, r0 + NEAR_BATCH < count ? NEAR_BATCH : count - r0);
    }
    free(hits);
    return NULL;
}

int near_build(const struct index *ix, uint32_t k, int threads, struct progress *progress,
               struct near **out, struct err *e)
{
    uint64_t count = index_get_meta(ix)->count;
    struct near_job j = {.ix = ix, .k = k, .progress = progress, .rc = INDEX_OK, .e = e};
    pthread_t tid[INDEX_THREADS_MAX];
    struct near_header *h;
    struct near *nl;
    int started = 0;

    *out = NULL;
    if (k < 1 || k > NEAR_K_MAX || count == 0 || ix->hnsw == NULL) {
        err_set(e,
                k < 1 || k > NEAR_K_MAX ? "near lists: k must be from 1 to %d"
                : count == 0            ? "near lists: the index is empty"
                                        : "near lists: the index has no graph",
                NEAR_K_MAX);
        return INDEX_ERR_INPUT;
    }
    threads = threads < 1 ? 1 : threads > INDEX_THREADS_MAX ? INDEX_THREADS_MAX : threads;
    nl = xcalloc(1, sizeof *nl);
    nl->len = sizeof *h + (size_t)count * k * sizeof(struct near_entry);
    nl->base = xcalloc(1, nl->len);
    nl->owned = 1;
    j.ent = (struct near_entry *)(nl->base + sizeof *h);
    atomic_init(&j.next, 0);
    pthread_mutex_init(&j.lock, NULL);
    for (int t = 1; t < threads; t++)
        started += pthread_create(&tid[started], NULL, near_worker, &j) == 0;
    near_worker(&j);
    for (int t = 0; t < started; t++)
        pthread_join(tid[t], NULL);
    pthread_mutex_destroy(&j.lock);
    if (j.rc != INDEX_OK) {
        near_free(nl);
        return j.rc;
    }
    h = (struct near_header *)nl->base;
    memcpy(h->magic, NEAR_MAGIC, 8);
    h->version = NEAR_VERSION;
    h->k = k;
    h->count = count;
    h->ix_sum = ix->data_sum;
    h->body_sum = layout_sum64(j.ent, nl->len - sizeof *h, 0);
    nl->ix = ix;
    nl->k = k;
    nl->count = count;
    nl->ent = j.ent;
    *out = nl;
    return INDEX_OK;
}

int near_write(const struct near *nl, const char *path, struct err *e)
{
    return layout_write_file(path, nl->base, nl->len, e);
}

/* ---- opening ------------------------------------------------------------------------- */

/* Every entry a row of the index other than the list's own, scores finite, a short list
 * padded to its end. */
static int check_entries(const struct near *nl, struct err *e)
{
    for (uint64_t r = 0; r < nl->count; r++) {
        const struct near_entry *l = nl->ent + r * nl->k;
        int ended = 0;

        for (uint32_t i = 0; i < nl->k; i++) {
            if (l[i].row == NEAR_NONE) {
                ended = 1;
                continue;
            }
            if (ended || l[i].row >= nl->count || l[i].row == r || !isfinite(l[i].score)) {
                err_set(e, "corrupt list of row %llu (entry %u)", (unsigned long long)r, i);
                return INDEX_ERR_FORMAT;
            }
        }
    }
    return INDEX_OK;
}

int near_open_mem(const void *buf, size_t len, const struct index *ix, struct near **out,
                  struct err *e)
{
    const struct near_header *h = buf;
    struct near *nl;
    uint64_t count = index_get_meta(ix)->count;
    int rc;

    *out = NULL;
    if ((uintptr_t)buf % 8 != 0) {
        err_set(e, "near lists image not 8-byte aligned");
        return INDEX_ERR_INPUT;
    }
    if (len < sizeof *h || memcmp(h->magic, NEAR_MAGIC, 8) != 0) {
        err_set(e,
                len < sizeof *h ? "truncated: %zu bytes, less than the header"
                                : "not a doppel near-lists file (bad magic)",
                len);
        return INDEX_ERR_FORMAT;
    }
    if (h->version != NEAR_VERSION) {
        err_set(e, "near-lists format version %u, this doppel reads %d", h->version, NEAR_VERSION);
        return INDEX_ERR_FORMAT;
    }
    for (int i = 0; i < 6; i++)
        if (h->reserved[i] != 0) {
            err_set(e, "reserved header field %d is not zero", i);
            return INDEX_ERR_FORMAT;
        }
    if (h->k < 1 || h->k > NEAR_K_MAX || h->count > UINT32_MAX ||
        len != sizeof *h + h->count * h->k * sizeof(struct near_entry)) {
        err_set(e, "bad shape: k %u, %llu rows in %zu bytes", h->k, (unsigned long long)h->count,
                len);
        return INDEX_ERR_FORMAT;
    }
    if (layout_sum64((const unsigned char *)buf + sizeof *h, len - sizeof *h, 0) != h->body_sum) {
        err_set(e, "checksum mismatch (corrupt file)");
        return INDEX_ERR_FORMAT;
    }
    if (h->count != count || h->ix_sum != ix->data_sum) {
        err_set(e, "made for another index (%llu rows; the index has %llu)",
                (unsigned long long)h->count, (unsigned long long)count);
        return INDEX_ERR_MISMATCH;
    }
    nl = xcalloc(1, sizeof *nl);
    nl->ix = ix;
    nl->k = h->k;
    nl->count = h->count;
    nl->base = (unsigned char *)buf;
    nl->len = len;
    nl->ent = (const struct near_entry *)((const unsigned char *)buf + sizeof *h);
    rc = check_entries(nl, e);
    if (rc != INDEX_OK) {
        free(nl);
        return rc;
    }
    *out = nl;
    return INDEX_OK;
}

int near_open(const char *path, const struct index *ix, struct near **out, struct err *e)
{
    void *map;
    size_t len;
    int rc = layout_map_file(path, &map, &len, NULL, e);

    *out = NULL;
    if (rc == INDEX_OK && map == NULL) {
        err_set(e, "empty file");
        rc = INDEX_ERR_FORMAT;
    }
    if (rc == INDEX_OK)
        rc = near_open_mem(map, len, ix, out, e);
    if (rc == INDEX_OK) {
        (*out)->mapped = 1;
    } else {
        if (map != NULL)
            munmap(map, len);
        err_prefix(e, "%s", path);
    }
    return rc;
}

void near_free(struct near *nl)
{
    if (nl == NULL)
        return;
    if (nl->mapped)
        munmap(nl->base, nl->len);
    else if (nl->owned)
        free(nl->base);
    free(nl);
}

uint32_t near_k(const struct near *nl)
{
    return nl->k;
}

size_t near_get(const struct near *nl, uint32_t row, size_t k, struct index_hit *out)
{
    const struct near_entry *l;
    uint64_t allowed = nl->count - 1; /* every row but the list's own, as the search counts */
    size_t n = 0;

    if (row >= nl->count)
        return 0;
    l = nl->ent + (size_t)row * nl->k;
    for (; n < k && n < nl->k && l[n].row != NEAR_NONE; n++) {
        out[n].id = index_get_id(nl->ix, l[n].row);
        out[n].row = l[n].row;
        out[n].score = l[n].score;
        out[n].rank_pct =
            allowed > 1 ? 100.0 * (double)(allowed - 1 - n) / (double)(allowed - 1) : 100.0;
    }
    return n;
}

const void *near_image(const struct near *nl, size_t *len)
{
    *len = nl->len;
    return nl->base;
}
