/*
 * lists: the file is a 64-byte header, then count x k rows (uint32, LISTS_NONE after the
 * end of a short list), then count x k scores (uint8), padded to 8 bytes; then the
 * deletion index: a directory of 2^bits + 1 offsets (uint32, padded to 8 bytes) into
 * entries of (fingerprint, row), two uint32 each, grouped by bucket. Building runs
 * names_search for every name, split over threads by an atomic counter; each name's
 * answers land in their own slots, and the entries of a bucket are in row order, so the
 * file is the same whatever the thread count.
 *
 * A name of n code points has n + 1 keys: its hash with each one code point left out,
 * and its hash whole. Two strings one edit apart share a key (a substitution leaves out
 * the same place in both; an insertion is the longer one less a place against the
 * shorter whole; two swapped neighbours leave out one each), so the names one edit from
 * a query are among the entries under the query's own keys, with a few more two edits
 * away (a code point moved a few places: "sumi asun", "sumi tasu"). A key's top bits
 * choose the bucket and the next 32 are kept to tell keys in a bucket apart; a name that
 * shares all of them by chance only adds a candidate, which is scored.
 */
#include "names/lists.h"

#include "index/index.h"
#include "index/layout.h"
#include "names/ratio.h"
#include "util/progress.h"
#include "util/xalloc.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#define LISTS_MAGIC   "DOPPELNL"
#define LISTS_VERSION 2
#define LISTS_NONE    UINT32_MAX
#define LISTS_BATCH   64 /* names a build thread takes at a time */
#define LISTS_THREADS 64
#define LISTS_DEL_BITS_MAX 30

struct lists_header {
    char magic[8];
    uint32_t version;
    uint32_t k;
    uint64_t count;
    uint64_t names_sum; /* names_index_digest of the names it was made from */
    uint64_t body_sum;  /* layout_sum64 of everything after the header */
    uint32_t cutoff;
    uint32_t del_bits;  /* the deletion index has 2^del_bits buckets */
    uint64_t del_count; /* and this many entries */
    uint64_t reserved;
};

struct del_entry {
    uint32_t fp; /* the key's 32 bits below the bucket's */
    uint32_t row;
};

struct names_lists {
    uint32_t k;
    uint64_t count;
    const uint32_t *rows;
    const uint8_t *scores;
    uint32_t del_bits;
    uint64_t del_count;
    const uint32_t *del_dir;     /* [2^del_bits + 1] */
    const struct del_entry *del; /* [del_count] */
    unsigned char *base; /* the image */
    size_t len;
    int owned;  /* base is ours to free */
    int mapped; /* base is our mapping */
};

_Static_assert(sizeof(struct lists_header) == 64, "lists header is 64 bytes");

static size_t lists_len(uint64_t count, uint32_t k)
{
    size_t n = (size_t)count * k;

    return sizeof(struct lists_header) + n * sizeof(uint32_t) + (n + 7) / 8 * 8;
}

static size_t dir_len(uint32_t bits)
{
    return ((((size_t)1 << bits) + 1) * sizeof(uint32_t) + 7) / 8 * 8;
}

static size_t image_len(uint64_t count, uint32_t k, uint32_t bits, uint64_t ndel)
{
    return lists_len(count, k) + dir_len(bits) + (size_t)ndel * sizeof(struct del_entry);
}

static void point(struct names_lists *nl)
{
    nl->rows = (const uint32_t *)(nl->base + sizeof(struct lists_header));
    nl->scores = (const uint8_t *)(nl->rows + (size_t)nl->count * nl->k);
    nl->del_dir = (const uint32_t *)(nl->base + lists_len(nl->count, nl->k));
    nl->del = (const struct del_entry *)((const unsigned char *)nl->del_dir +
                                          dir_len(nl->del_bits));
}

/* ---- keys ------------------------------------------------------------------------------ */

/* The key of cp[0..n) less the code point at skip (skip == n: whole), mixed so that its
 * top bits make a fair bucket. */
static uint64_t del_key(const uint32_t *cp, size_t n, size_t skip)
{
    uint64_t h = 0xcbf29ce484222325ull ^ (n - (skip < n));

    for (size_t i = 0; i < n; i++)
        if (i != skip)
            h = (h ^ cp[i]) * 0x100000001b3ull;
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdull;
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53ull;
    return h ^ h >> 33;
}

/* The keys of cp[0..n) into out (n + 1 at most): leaving out the second of two equal
 * neighbours gives the key leaving out the first, so it is not repeated. */
static size_t del_keys(const uint32_t *cp, size_t n, uint64_t *out)
{
    size_t m = 0;

    for (size_t i = 0; i <= n; i++)
        if (i == 0 || i == n || cp[i] != cp[i - 1])
            out[m++] = del_key(cp, n, i);
    return m;
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

/* Keys of row r's name (none when it is empty or longer than NAMES_NEAR_MAX_LEN). */
static size_t row_keys(const struct names_index *ix, uint32_t r, uint64_t *keys)
{
    uint32_t cp[RATIO_MAX_LEN];
    size_t n = names_index_codepoints(ix, r, cp);

    return n == 0 || n > NAMES_NEAR_MAX_LEN ? 0 : del_keys(cp, n, keys);
}

/* How many entries the deletion index of ix's names has. */
static uint64_t count_keys(const struct names_index *ix)
{
    uint64_t keys[NAMES_NEAR_MAX_LEN + 1], total = 0;

    for (size_t r = 0; r < names_index_count(ix); r++)
        total += row_keys(ix, (uint32_t)r, keys);
    return total;
}

/* Fills nl's directory and entries (sized by count_keys): a bucket's entries counted, then
 * placed in row order. */
static void build_deletions(const struct names_index *ix, struct names_lists *nl)
{
    uint32_t *dir = (uint32_t *)nl->del_dir, *fill;
    struct del_entry *del = (struct del_entry *)nl->del;
    size_t nb = (size_t)1 << nl->del_bits, shift = 64 - nl->del_bits;
    uint64_t keys[NAMES_NEAR_MAX_LEN + 1];

    for (size_t r = 0; r < nl->count; r++) {
        size_t m = row_keys(ix, (uint32_t)r, keys);

        for (size_t i = 0; i < m; i++)
            dir[(keys[i] >> shift) + 1]++;
    }
    for (size_t b = 0; b < nb; b++)
        dir[b + 1] += dir[b];
    fill = xmalloc(nb * sizeof *fill);
    memcpy(fill, dir, nb * sizeof *fill);
    for (size_t r = 0; r < nl->count; r++) {
        size_t m = row_keys(ix, (uint32_t)r, keys);

        for (size_t i = 0; i < m; i++)
            del[fill[keys[i] >> shift]++] = (struct del_entry){(uint32_t)keys[i], (uint32_t)r};
    }
    free(fill);
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
    nl->del_count = count_keys(ix);
    nl->del_bits = 4;
    while (nl->del_bits < LISTS_DEL_BITS_MAX && ((uint64_t)4 << nl->del_bits) < nl->del_count)
        nl->del_bits++;
    nl->len = image_len(count, k, nl->del_bits, nl->del_count);
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
    build_deletions(ix, nl);
    h = (struct lists_header *)nl->base;
    memcpy(h->magic, LISTS_MAGIC, 8);
    h->version = LISTS_VERSION;
    h->k = k;
    h->count = count;
    h->cutoff = NAMES_CUTOFF;
    h->del_bits = nl->del_bits;
    h->del_count = nl->del_count;
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

/* The directory rising from 0 to the entry count, every entry a row of the names. */
static int check_deletions(const struct names_lists *nl, struct err *e)
{
    size_t nb = (size_t)1 << nl->del_bits;

    if (nl->del_dir[0] != 0 || nl->del_dir[nb] != nl->del_count) {
        err_set(e, "corrupt deletion index (its directory does not span its %llu keys)",
                (unsigned long long)nl->del_count);
        return NAMES_LISTS_ERR_FORMAT;
    }
    for (size_t b = 0; b < nb; b++)
        if (nl->del_dir[b + 1] < nl->del_dir[b]) {
            err_set(e, "corrupt deletion index (bucket %zu ends before it starts)", b);
            return NAMES_LISTS_ERR_FORMAT;
        }
    for (uint64_t i = 0; i < nl->del_count; i++)
        if (nl->del[i].row >= nl->count) {
            err_set(e, "corrupt deletion index (key %llu names row %u)", (unsigned long long)i,
                    nl->del[i].row);
            return NAMES_LISTS_ERR_FORMAT;
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
    if (h->reserved != 0) {
        err_set(e, "reserved header field is not zero");
        return NAMES_LISTS_ERR_FORMAT;
    }
    if (h->k < 1 || h->k > NAMES_LIST_K_MAX || h->count > UINT32_MAX || h->del_bits < 4 ||
        h->del_bits > LISTS_DEL_BITS_MAX ||
        h->del_count > h->count * (NAMES_NEAR_MAX_LEN + 1) ||
        len != image_len(h->count, h->k, h->del_bits, h->del_count)) {
        err_set(e, "bad shape: k %u, %llu names, 2^%u buckets of %llu keys in %zu bytes", h->k,
                (unsigned long long)h->count, h->del_bits, (unsigned long long)h->del_count,
                len);
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
    nl->del_bits = h->del_bits;
    nl->del_count = h->del_count;
    nl->base = (unsigned char *)buf;
    nl->len = len;
    point(nl);
    rc = check_entries(nl, e);
    if (rc == NAMES_LISTS_OK)
        rc = check_deletions(nl, e);
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

size_t names_lists_near(const struct names_lists *nl, const uint32_t *cp, size_t n,
                        uint32_t *out, size_t cap)
{
    uint64_t keys[NAMES_NEAR_MAX_LEN + 1];
    size_t m, found = 0, shift = 64 - nl->del_bits;

    if (n == 0 || n > NAMES_NEAR_MAX_LEN)
        return 0;
    m = del_keys(cp, n, keys);
    for (size_t i = 0; i < m; i++) {
        uint64_t b = keys[i] >> shift;

        for (uint32_t p = nl->del_dir[b]; p < nl->del_dir[b + 1] && found < cap; p++) {
            uint32_t row = nl->del[p].row;
            int dup = 0;

            if (nl->del[p].fp != (uint32_t)keys[i])
                continue; /* another key in the bucket */
            for (size_t j = 0; j < found && !dup; j++)
                dup = out[j] == row;
            if (!dup)
                out[found++] = row;
        }
    }
    return found;
}
