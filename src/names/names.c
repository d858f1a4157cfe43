/*
 * names: the index is flat arrays built once: the normalised names in one pool, the
 * word-start suffixes of every name sorted for prefix search (about three per name), the
 * distinct words of all names with the rows holding each, and the words' trigram
 * postings (2^18 hashed buckets; a collision only adds a candidate that WRatio then
 * scores low). A fuzzy query counts the trigrams it shares with each word (68,000 words
 * hold a 406,000-name catalogue's 830,000 word places, so this touches a tenth of what
 * counting per name would), carries the words that share enough to the names holding
 * them, estimates each name's WRatio from the shared count and the lengths, and scores
 * only the NAMES_CANDIDATES best estimates, so its cost follows the query, not the
 * catalogue size. Scratch arrays are pooled in the index so concurrent queries never
 * share one and never allocate in the steady state.
 */
#include "names/names.h"

#include "index/layout.h"
#include "names/lists.h"
#include "names/normalize.h"
#include "names/ratio.h"
#include "util/buf.h"
#include "util/fs.h"
#include "util/xalloc.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define GRAM_BITS    18
#define GRAM_BUCKETS ((uint32_t)1 << GRAM_BITS)
#define MAX_GRAMS    RATIO_MAX_LEN
#define MAX_K        1000
#define COUNT_MASK   0x7fff /* a name's shared trigrams in its scratch count */
#define WHOLE_WORD   0x8000 /* ... and whether it holds a whole word of the query */
#define PREFETCH_AHEAD 16 /* scattered rows asked for this many steps before use */
#define NAMES_NEAR_ENTRIES 8 /* names one edit from a query whose lists are scored */

struct names_key {
    const char *s; /* a word-start suffix of a normalised name */
    uint32_t row;
};

struct names_scratch {
    uint16_t *wcounts;  /* [nwords] trigrams each word shares with the query, zero between */
    uint32_t *wtouched; /* words whose count is non-zero */
    uint16_t *counts;   /* [n] trigrams shared through a name's kept words, zero between */
    uint32_t *touched;  /* rows whose count is non-zero */
    uint8_t *est;       /* [n] estimated score of touched[i] */
    uint32_t *sel;      /* [NAMES_CANDIDATES] the rows scored */
    struct names_scratch *next;
};

struct names_index {
    size_t n;
    char **display;
    char *norm;         /* pool of NUL-terminated normalised names */
    size_t *norm_off;   /* [n + 1]: row i's bytes, NUL included, end at norm_off[i + 1] */
    uint16_t *norm_len; /* [n] code points */
    uint16_t *shape;    /* [n] distinct trigrams | code points << 8, each at most 255 */
    struct ratio_sketch *sketch; /* [n] for the WRatio bound without the text */
    float *pop;
    struct names_key *keys;
    size_t nkeys;
    uint32_t *rank;     /* [n] position of each row in popularity order, 0 = best */
    uint32_t *seg;      /* segment tree over keys: the key of best rank per node */
    size_t seg_size;    /* leaves: the power of two >= nkeys */
    uint32_t nwords;       /* distinct words over all names */
    uint8_t *word_grams;   /* [nwords] distinct trigrams of each word (at most 255) */
    uint32_t *word_start;  /* [nwords + 1] */
    uint32_t *word_rows;   /* the rows holding each word, in popularity order */
    uint32_t *gram_start;  /* [GRAM_BUCKETS + 1] */
    uint32_t *gram_words;  /* the words holding each trigram bucket */
    uint64_t digest;       /* names_index_digest */
    const struct names_lists *lists; /* each name's fuzzy answers, or NULL */
    pthread_mutex_t lock; /* guards the scratch pool */
    struct names_scratch *pool;
};

static uint32_t gram_hash(uint32_t a, uint32_t b, uint32_t c)
{
    uint32_t h = a * 0x9E3779B1u ^ (b + 0x7F4A7C15u) * 0x85EBCA77u ^ (c + 0x165667B1u) * 0xC2B2AE3Du;

    h ^= h >> 15;
    h *= 0x2C1B3C6Du;
    h ^= h >> 12;
    return h >> (32 - GRAM_BITS);
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

    return (x > y) - (x < y);
}

/* The distinct trigram buckets of a normalised string: for every character, the
 * character with its neighbours in the same word (space at the word's ends). */
static size_t grams_of(const uint32_t *cp, size_t n, uint32_t *out)
{
    size_t count = 0, k = 0, i = 0;

    while (i < n) {
        size_t j = i;

        while (j < n && cp[j] != ' ')
            j++;
        for (size_t p = i; p < j && count < MAX_GRAMS; p++)
            out[count++] = gram_hash(p == i ? ' ' : cp[p - 1], cp[p], p + 1 == j ? ' ' : cp[p + 1]);
        i = j + 1;
    }
    qsort(out, count, sizeof out[0], cmp_u32);
    for (size_t m = 0; m < count; m++) {
        if (k == 0 || out[k - 1] != out[m])
            out[k++] = out[m];
    }
    return k;
}

static int key_cmp(const void *a, const void *b)
{
    const struct names_key *x = a, *y = b;
    int c = strcmp(x->s, y->s);

    return c != 0 ? c : (x->row > y->row) - (x->row < y->row);
}

/* Normalises every name into the pool; invalid ones get an empty normal form. */
static void build_norm(struct names_index *ix, const char *const *names)
{
    struct buf pool;

    buf_init(&pool, (size_t)-1 / 2);
    for (size_t i = 0; i < ix->n; i++) {
        uint32_t cp[RATIO_MAX_LEN];
        size_t start = pool.len;

        ix->display[i] = xstrdup(names[i]);
        if (norm_name(names[i], strlen(names[i]), 0, &pool) != NORM_OK)
            pool.len = start;
        buf_putc(&pool, '\0');
        ix->norm_off[i] = start;
        ix->norm_len[i] =
            (uint16_t)norm_codepoints(pool.data + start, pool.len - 1 - start, cp, RATIO_MAX_LEN);
        ratio_sketch_make((struct ratio_str){cp, ix->norm_len[i]}, &ix->sketch[i]);
    }
    ix->norm_off[ix->n] = pool.len; /* so row i's bytes end at norm_off[i + 1] - 1 */
    ix->norm = buf_detach(&pool, NULL);
}

static void build_keys(struct names_index *ix)
{
    size_t cap = ix->n * 3 + 16;

    ix->keys = xmalloc(cap * sizeof ix->keys[0]);
    for (size_t i = 0; i < ix->n; i++) {
        const char *s = ix->norm + ix->norm_off[i];

        for (size_t p = 0; s[p] != '\0'; p++) {
            if (p > 0 && s[p - 1] != ' ')
                continue;
            if (ix->nkeys == cap) {
                cap *= 2;
                ix->keys = xrealloc(ix->keys, cap * sizeof ix->keys[0]);
            }
            ix->keys[ix->nkeys].s = s + p;
            ix->keys[ix->nkeys++].row = (uint32_t)i;
        }
    }
    qsort(ix->keys, ix->nkeys, sizeof ix->keys[0], key_cmp);
}

static uint32_t word_hash(const char *s, size_t n)
{
    uint32_t h = 2166136261u;

    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)s[i]) * 16777619u;
    return h;
}

/* The words of every name: the distinct words, the rows holding each (in popularity
 * order, so that names tied on everything but popularity are met best first), and the
 * trigram postings of the words. A word is found by its first occurrence in the pool. */
static void build_words(struct names_index *ix)
{
    size_t cap = 1024, nrw = 0;
    uint32_t *slot, *first, *rw = xmalloc((ix->nkeys + 1) * sizeof(uint32_t)), *rw_start, *fill;
    uint32_t g[MAX_GRAMS], cp[RATIO_MAX_LEN], *by_rank;
    uint16_t *wlen;
    size_t wcap = 1024;

    while (cap < ix->nkeys * 2) /* a key per word place: at least as many as words */
        cap *= 2;
    slot = xmalloc(cap * sizeof(uint32_t));
    memset(slot, 0xff, cap * sizeof(uint32_t));
    first = xmalloc(wcap * sizeof(uint32_t));
    wlen = xmalloc(wcap * sizeof(uint16_t));
    rw_start = xmalloc((ix->n + 1) * sizeof(uint32_t));
    for (size_t row = 0; row < ix->n; row++) {
        const char *s = ix->norm + ix->norm_off[row];

        rw_start[row] = (uint32_t)nrw;
        for (size_t i = 0; s[i] != '\0';) {
            size_t j = i, h;
            uint32_t w;
            int dup = 0;

            while (s[j] != '\0' && s[j] != ' ')
                j++;
            for (h = word_hash(s + i, j - i) & (cap - 1); slot[h] != UINT32_MAX;
                 h = (h + 1) & (cap - 1)) {
                const char *t = ix->norm + first[slot[h]];

                if (wlen[slot[h]] == j - i && memcmp(t, s + i, j - i) == 0)
                    break;
            }
            if (slot[h] == UINT32_MAX) {
                if (ix->nwords == wcap) {
                    wcap *= 2;
                    first = xrealloc(first, wcap * sizeof(uint32_t));
                    wlen = xrealloc(wlen, wcap * sizeof(uint16_t));
                }
                first[ix->nwords] = (uint32_t)(ix->norm_off[row] + i);
                wlen[ix->nwords] = (uint16_t)(j - i);
                slot[h] = ix->nwords++;
            }
            w = slot[h];
            for (size_t k = rw_start[row]; k < nrw && !dup; k++)
                dup = rw[k] == w;
            if (!dup)
                rw[nrw++] = w; /* at most one per key */
            i = s[j] == ' ' ? j + 1 : j;
        }
    }
    rw_start[ix->n] = (uint32_t)nrw;
    free(slot);

    /* Rows of each word, best ranked first. */
    ix->word_start = xcalloc(ix->nwords + 1, sizeof(uint32_t));
    for (size_t k = 0; k < nrw; k++)
        ix->word_start[rw[k] + 1]++;
    for (uint32_t w = 0; w < ix->nwords; w++)
        ix->word_start[w + 1] += ix->word_start[w];
    ix->word_rows = xmalloc((nrw + 1) * sizeof(uint32_t));
    fill = xmalloc((ix->nwords + 1) * sizeof(uint32_t));
    memcpy(fill, ix->word_start, ix->nwords * sizeof(uint32_t));
    by_rank = xmalloc((ix->n + 1) * sizeof(uint32_t));
    for (size_t row = 0; row < ix->n; row++)
        by_rank[ix->rank[row]] = (uint32_t)row;
    for (size_t r = 0; r < ix->n; r++) {
        uint32_t row = by_rank[r];

        for (uint32_t k = rw_start[row]; k < rw_start[row + 1]; k++)
            ix->word_rows[fill[rw[k]]++] = row;
    }
    free(by_rank);

    /* Trigram postings of the words. */
    ix->word_grams = xmalloc(ix->nwords + 1);
    ix->gram_start = xcalloc(GRAM_BUCKETS + 1, sizeof(uint32_t));
    for (uint32_t w = 0; w < ix->nwords; w++) {
        size_t n = norm_codepoints(ix->norm + first[w], wlen[w], cp, RATIO_MAX_LEN);
        size_t k = grams_of(cp, n, g);

        ix->word_grams[w] = (uint8_t)(k > 255 ? 255 : k);
        for (size_t j = 0; j < k; j++)
            ix->gram_start[g[j] + 1]++;
    }
    for (uint32_t b = 0; b < GRAM_BUCKETS; b++)
        ix->gram_start[b + 1] += ix->gram_start[b];
    ix->gram_words = xmalloc(sizeof(uint32_t) * (ix->gram_start[GRAM_BUCKETS] + 1));
    fill = xrealloc(fill, sizeof(uint32_t) * GRAM_BUCKETS);
    memcpy(fill, ix->gram_start, sizeof(uint32_t) * GRAM_BUCKETS);
    for (uint32_t w = 0; w < ix->nwords; w++) {
        size_t n = norm_codepoints(ix->norm + first[w], wlen[w], cp, RATIO_MAX_LEN);
        size_t k = grams_of(cp, n, g);

        for (size_t j = 0; j < k; j++)
            ix->gram_words[fill[g[j]]++] = w;
    }
    free(fill);
    free(first);
    free(wlen);

    /* Each name's trigrams (its words', summed) and length, side by side. */
    ix->shape = xmalloc(sizeof(uint16_t) * (ix->n + 1));
    for (size_t row = 0; row < ix->n; row++) {
        size_t k = 0, len = ix->norm_len[row];

        for (uint32_t j = rw_start[row]; j < rw_start[row + 1]; j++)
            k += ix->word_grams[rw[j]];
        ix->shape[row] = (uint16_t)((k > 255 ? 255 : k) | (len > 255 ? 255 : len) << 8);
    }
    free(rw);
    free(rw_start);
}

/* A row's ranking fields, sorted once to give every row its popularity rank. */
struct rank_item {
    float pop;
    uint16_t len;
    uint32_t row;
};

/* More popular first, then shorter, then earlier. */
static int rank_cmp(const void *a, const void *b)
{
    const struct rank_item *x = a, *y = b;

    if (x->pop != y->pop)
        return x->pop > y->pop ? -1 : 1;
    if (x->len != y->len)
        return x->len < y->len ? -1 : 1;
    return (x->row > y->row) - (x->row < y->row);
}

/* The key (of keys a and b) whose row ranks better; UINT32_MAX is "none". */
static uint32_t better_key(const struct names_index *ix, uint32_t a, uint32_t b)
{
    if (a == UINT32_MAX)
        return b;
    if (b == UINT32_MAX)
        return a;
    return ix->rank[ix->keys[b].row] < ix->rank[ix->keys[a].row] ? b : a;
}

static void build_rank(struct names_index *ix)
{
    struct rank_item *order = xmalloc(sizeof *order * (ix->n + 1));

    for (size_t i = 0; i < ix->n; i++)
        order[i] = (struct rank_item){ix->pop[i], ix->norm_len[i], (uint32_t)i};
    qsort(order, ix->n, sizeof order[0], rank_cmp);
    ix->rank = xmalloc(sizeof(uint32_t) * (ix->n + 1));
    for (size_t i = 0; i < ix->n; i++)
        ix->rank[order[i].row] = (uint32_t)i;
    free(order);
    for (ix->seg_size = 1; ix->seg_size < ix->nkeys; ix->seg_size *= 2)
        ;
    ix->seg = xmalloc(sizeof(uint32_t) * 2 * ix->seg_size);
    for (size_t i = 0; i < ix->seg_size; i++)
        ix->seg[ix->seg_size + i] = i < ix->nkeys ? (uint32_t)i : UINT32_MAX;
    for (size_t i = ix->seg_size - 1; i >= 1; i--)
        ix->seg[i] = better_key(ix, ix->seg[2 * i], ix->seg[2 * i + 1]);
}

/* The best-ranked key in [l, r), or UINT32_MAX when the range is empty. */
static uint32_t seg_best(const struct names_index *ix, size_t l, size_t r)
{
    uint32_t best = UINT32_MAX;

    for (l += ix->seg_size, r += ix->seg_size; l < r; l /= 2, r /= 2) {
        if (l & 1)
            best = better_key(ix, best, ix->seg[l++]);
        if (r & 1)
            best = better_key(ix, best, ix->seg[--r]);
    }
    return best;
}

int names_index_build(const char *const *names, const double *popularity, size_t n,
                      struct names_index **out, struct err *e)
{
    struct names_index *ix;

    if (n >= UINT32_MAX / 4) {
        err_set(e, "too many names (%zu)", n);
        return NAMES_ERR_INPUT;
    }
    ix = xcalloc(1, sizeof *ix);
    ix->n = n;
    ix->display = xcalloc(n + 1, sizeof(char *));
    ix->norm_off = xcalloc(n + 1, sizeof(size_t));
    ix->norm_len = xcalloc(n + 1, sizeof(uint16_t));
    ix->sketch = xaligned_alloc(64, (n + 1) * sizeof(struct ratio_sketch));
    ix->pop = xcalloc(n + 1, sizeof(float));
    for (size_t i = 0; i < n; i++)
        ix->pop[i] = popularity != NULL ? (float)popularity[i] : 0.0f;
    build_norm(ix, names);
    build_keys(ix);
    build_rank(ix);
    build_words(ix);
    ix->digest = layout_sum64(ix->norm, ix->norm_off[n], n);
    ix->digest = layout_sum64(ix->pop, n * sizeof ix->pop[0], ix->digest);
    pthread_mutex_init(&ix->lock, NULL);
    *out = ix;
    return NAMES_OK;
}

void names_index_free(struct names_index *ix)
{
    if (ix == NULL)
        return;
    while (ix->pool != NULL) {
        struct names_scratch *s = ix->pool;

        ix->pool = s->next;
        free(s->wcounts);
        free(s->wtouched);
        free(s->counts);
        free(s->touched);
        free(s->est);
        free(s->sel);
        free(s);
    }
    pthread_mutex_destroy(&ix->lock);
    for (size_t i = 0; i < ix->n; i++)
        free(ix->display[i]);
    free(ix->display);
    free(ix->norm);
    free(ix->norm_off);
    free(ix->norm_len);
    free(ix->sketch);
    free(ix->pop);
    free(ix->keys);
    free(ix->rank);
    free(ix->seg);
    free(ix->gram_start);
    free(ix->gram_words);
    free(ix->word_grams);
    free(ix->word_start);
    free(ix->word_rows);
    free(ix->shape);
    free(ix);
}

/* Parses "name" or "name<TAB>popularity" lines of text into names and pops. */
static size_t parse_lines(char *text, char ***names, double **pops)
{
    size_t n = 0, cap = 1024;

    *names = xmalloc(cap * sizeof(char *));
    *pops = xmalloc(cap * sizeof(double));
    for (char *line = text; *line != '\0';) {
        char *end = strchr(line, '\n'), *tab;

        if (end != NULL)
            *end = '\0';
        if (end != NULL && end > line && end[-1] == '\r')
            end[-1] = '\0';
        tab = strchr(line, '\t');
        if (tab != NULL)
            *tab = '\0';
        if (line[0] != '\0') {
            if (n == cap) {
                cap *= 2;
                *names = xrealloc(*names, cap * sizeof(char *));
                *pops = xrealloc(*pops, cap * sizeof(double));
            }
            (*names)[n] = line;
            (*pops)[n++] = tab != NULL ? strtod(tab + 1, NULL) : 0.0;
        }
        if (end == NULL)
            break;
        line = end + 1;
    }
    return n;
}

int names_index_load_file(const char *path, struct names_index **out, struct err *e)
{
    unsigned char *text;
    size_t len, n;
    char **names;
    double *pops;
    int rc;

    if (fs_read_file(path, (size_t)1 << 30, &text, &len, e) != FS_OK)
        return NAMES_ERR_INPUT;
    n = parse_lines((char *)text, &names, &pops);
    rc = names_index_build((const char *const *)names, pops, n, out, e);
    free(names);
    free(pops);
    free(text);
    return rc;
}

size_t names_index_count(const struct names_index *ix)
{
    return ix->n;
}

const char *names_index_name(const struct names_index *ix, uint32_t row)
{
    return row < ix->n ? ix->display[row] : "";
}

void names_index_prefetch(const struct names_index *ix, uint32_t row)
{
    if (row < ix->n)
        __builtin_prefetch(&ix->display[row]);
}

double names_index_popularity(const struct names_index *ix, uint32_t row)
{
    return row < ix->n ? ix->pop[row] : 0.0;
}

size_t names_index_codepoints(const struct names_index *ix, uint32_t row, uint32_t *buf)
{
    const char *s;

    if (row >= ix->n)
        return 0;
    s = ix->norm + ix->norm_off[row];
    return norm_codepoints(s, ix->norm_off[row + 1] - ix->norm_off[row] - 1, buf, RATIO_MAX_LEN);
}

uint64_t names_index_digest(const struct names_index *ix)
{
    return ix->digest;
}

void names_index_use_lists(struct names_index *ix, const struct names_lists *nl)
{
    ix->lists = nl;
}

static struct names_scratch *scratch_get(struct names_index *ix)
{
    struct names_scratch *s;

    pthread_mutex_lock(&ix->lock);
    s = ix->pool;
    if (s != NULL)
        ix->pool = s->next;
    pthread_mutex_unlock(&ix->lock);
    if (s != NULL)
        return s;
    s = xcalloc(1, sizeof *s);
    s->wcounts = xcalloc(ix->nwords + 1, sizeof(uint16_t));
    s->wtouched = xmalloc((ix->nwords + 1) * sizeof(uint32_t));
    s->counts = xcalloc(ix->n + 1, sizeof(uint16_t));
    s->touched = xmalloc((ix->n + 1) * sizeof(uint32_t));
    s->est = xmalloc(ix->n + 1);
    s->sel = xmalloc(NAMES_CANDIDATES * sizeof(uint32_t));
    return s;
}

static void scratch_put(struct names_index *ix, struct names_scratch *s)
{
    pthread_mutex_lock(&ix->lock);
    s->next = ix->pool;
    ix->pool = s;
    pthread_mutex_unlock(&ix->lock);
}

/* Orders hits: prefix hits first, then higher score, popularity, shorter name, row. */
static int hit_before(const struct names_index *ix, const struct names_hit *a,
                      const struct names_hit *b)
{
    if (a->prefix != b->prefix)
        return a->prefix > b->prefix;
    if (a->score != b->score)
        return a->score > b->score;
    if (ix->pop[a->row] != ix->pop[b->row])
        return ix->pop[a->row] > ix->pop[b->row];
    if (ix->norm_len[a->row] != ix->norm_len[b->row])
        return ix->norm_len[a->row] < ix->norm_len[b->row];
    return a->row < b->row;
}

/* Inserts h into the sorted top-k list hits[0..*n). */
static void topk_insert(const struct names_index *ix, struct names_hit *hits, size_t *n, size_t k,
                        struct names_hit h)
{
    size_t i = *n;

    if (i == k && !hit_before(ix, &h, &hits[k - 1]))
        return;
    if (i == k)
        i--;
    else
        (*n)++;
    while (i > 0 && hit_before(ix, &h, &hits[i - 1])) {
        hits[i] = hits[i - 1];
        i--;
    }
    hits[i] = h;
}

/* Code points of row's normalised name. */
static struct ratio_str row_str(const struct names_index *ix, uint32_t row, uint32_t *buf)
{
    const char *s = ix->norm + ix->norm_off[row];
    size_t len = ix->norm_off[row + 1] - ix->norm_off[row] - 1;

    return (struct ratio_str){buf, norm_codepoints(s, len, buf, RATIO_MAX_LEN)};
}

/* A key range waiting in the prefix search's heap, keyed by its best key's rank. */
struct prefix_range {
    uint32_t best;
    size_t l, r;
};

static void range_push(const struct names_index *ix, struct prefix_range *heap, size_t *n,
                       size_t l, size_t r)
{
    uint32_t best = seg_best(ix, l, r);
    size_t i = (*n)++;

    if (best == UINT32_MAX) {
        (*n)--;
        return;
    }
    while (i > 0 && ix->rank[ix->keys[heap[(i - 1) / 2].best].row] >
                        ix->rank[ix->keys[best].row]) {
        heap[i] = heap[(i - 1) / 2];
        i = (i - 1) / 2;
    }
    heap[i] = (struct prefix_range){best, l, r};
}

static struct prefix_range range_pop(const struct names_index *ix, struct prefix_range *heap,
                                     size_t *n)
{
    struct prefix_range top = heap[0], last = heap[--(*n)];
    size_t i = 0;

    for (;;) {
        size_t c = 2 * i + 1;

        if (c >= *n)
            break;
        if (c + 1 < *n &&
            ix->rank[ix->keys[heap[c + 1].best].row] < ix->rank[ix->keys[heap[c].best].row])
            c++;
        if (ix->rank[ix->keys[heap[c].best].row] >= ix->rank[ix->keys[last.best].row])
            break;
        heap[i] = heap[c];
        i = c;
    }
    heap[i] = last;
    return top;
}

/* Prefix path: names with a word-start suffix beginning with q, the k best-ranked, found
 * by splitting the matching key range around its best key (a segment tree gives the best
 * of any range), so the cost is O(log n + k log k) however many names match. */
static void search_prefix(const struct names_index *ix, const char *q,
                          const struct ratio_query *rq, size_t k, struct names_hit *hits,
                          size_t *n)
{
    size_t lo = 0, hi = ix->nkeys, end, qlen = strlen(q), nheap = 0, steps = 0;
    struct prefix_range *heap = xmalloc(sizeof *heap * (4 * k + 4));

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;

        if (strcmp(ix->keys[mid].s, q) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    for (hi = ix->nkeys, end = lo; end < hi;) {
        size_t mid = end + (hi - end) / 2;

        if (strncmp(ix->keys[mid].s, q, qlen) == 0)
            end = mid + 1;
        else
            hi = mid;
    }
    range_push(ix, heap, &nheap, lo, end);
    /* Each step pops one range and pushes at most two, so 4k steps fit the heap; a row
     * found again through another word of its name is skipped. */
    while (nheap > 0 && *n < k && steps++ < 4 * k) {
        struct prefix_range t = range_pop(ix, heap, &nheap);
        uint32_t row = ix->keys[t.best].row;
        int dup = 0;

        for (size_t j = 0; j < *n && !dup; j++)
            dup = hits[j].row == row;
        if (!dup)
            hits[(*n)++] = (struct names_hit){row, 0, 1};
        range_push(ix, heap, &nheap, t.l, t.best);
        range_push(ix, heap, &nheap, t.best + 1, t.r);
    }
    free(heap);
    for (size_t i = 0; i < *n; i++) {
        uint32_t buf[RATIO_MAX_LEN];

        hits[i].score = ratio_wratio_query(rq, row_str(ix, hits[i].row, buf));
    }
}

/* Adds word w's count c to the names holding it, marking those for which it is whole
 * (all of its trigrams in the query: most often one of the query's words). */
static size_t spread(const struct names_index *ix, struct names_scratch *sc, uint32_t w,
                     unsigned c, size_t nt)
{
    unsigned whole = c >= ix->word_grams[w] ? WHOLE_WORD : 0;

    for (uint32_t p = ix->word_start[w]; p < ix->word_start[w + 1]; p++) {
        uint32_t row = ix->word_rows[p];
        unsigned v = sc->counts[row], sum = (v & COUNT_MASK) + c;

        if (v == 0)
            sc->touched[nt++] = row;
        sum = sum > COUNT_MASK ? COUNT_MASK : sum;
        sc->counts[row] = (uint16_t)(sum | (v & WHOLE_WORD) | whole);
    }
    return nt;
}

/* Counts the trigrams each word shares with the query and spreads the counts of the words
 * sharing at least two fifths of theirs (a typo in a five-letter word leaves two of its
 * five) to the names holding them. While that reaches fewer than NAMES_CANDIDATES names
 * (a small catalogue, or a query garbled beyond that), the words sharing two trigrams,
 * then one, are spread too. g: the query's ng distinct trigrams. Returns how many names
 * were reached, into sc->touched. */
static size_t count_grams(const struct names_index *ix, const uint32_t *g, size_t ng,
                          struct names_scratch *sc)
{
    size_t nw = 0, nt = 0;

    for (size_t i = 0; i < ng; i++) {
        for (uint32_t p = ix->gram_start[g[i]]; p < ix->gram_start[g[i] + 1]; p++) {
            uint32_t w = ix->gram_words[p];

            if (sc->wcounts[w]++ == 0)
                sc->wtouched[nw++] = w;
        }
    }
    for (size_t i = 0; i < nw; i++) {
        uint32_t w = sc->wtouched[i];

        if (5 * sc->wcounts[w] >= 2 * (unsigned)ix->word_grams[w])
            nt = spread(ix, sc, w, sc->wcounts[w], nt);
    }
    for (unsigned least = 2; least >= 1 && nt < NAMES_CANDIDATES; least--) {
        for (size_t i = 0; i < nw && nt < NAMES_CANDIDATES; i++) {
            uint32_t w = sc->wtouched[i];
            unsigned c = sc->wcounts[w];

            if (5 * c < 2 * (unsigned)ix->word_grams[w] && (least == 2 ? c >= 2 : c == 1))
                nt = spread(ix, sc, w, c, nt);
        }
    }
    for (size_t i = 0; i < nw; i++)
        sc->wcounts[sc->wtouched[i]] = 0;
    return nt;
}

/* An estimate of WRatio for a query of nq trigrams and qn code points against a name of
 * nn and ln sharing count's trigrams: the share of the larger trigram set (as ratio
 * does), or of the smaller one, weighted as WRatio weighs its token-set and partial
 * scores; a name holding a whole word of a query at least half as long again as itself
 * (or the reverse) gets at least the 86 that WRatio's partial token-set score gives it. */
static unsigned estimate(unsigned count, unsigned nq, unsigned qn, unsigned nn, unsigned ln)
{
    unsigned lo = nq < nn ? nq : nn, hi = nq < nn ? nn : nq, c = count & COUNT_MASK;
    unsigned slo = qn < ln ? qn : ln, shi = qn < ln ? ln : qn, partial = 2 * shi >= 3 * slo;
    unsigned full, part;

    if (lo == 0)
        return 0;
    c = c > lo ? lo : c;
    full = 100 * c / hi;
    part = (partial ? 90 : 95) * c / lo;
    if ((count & WHOLE_WORD) && partial && part < 86)
        part = 86;
    return full > part ? full : part;
}

/* The candidates: the NAMES_CANDIDATES names of best estimate (ties: first reached
 * first), best first, into sel. Returns how many. Clears the counts. */
static size_t select_candidates(const struct names_index *ix, struct names_scratch *sc, size_t nt,
                                unsigned nq, unsigned qn, uint32_t *sel)
{
    size_t hist[101] = {0}, start[101], above = 0, at = 0, n = 0, room;
    unsigned floor = 100;

    for (size_t i = 0; i < nt; i++) {
        uint32_t row = sc->touched[i];
        unsigned shape = ix->shape[row];
        unsigned e = estimate(sc->counts[row], nq, qn, shape & 0xff, shape >> 8);

        sc->counts[row] = 0;
        sc->est[i] = (uint8_t)e;
        hist[e]++;
    }
    while (floor > 0 && above + hist[floor] <= NAMES_CANDIDATES)
        above += hist[floor--];
    room = NAMES_CANDIDATES - above; /* names at the floor estimate, first reached first */
    for (unsigned v = 101; v-- > floor;) { /* counting sort, best estimate first */
        start[v] = at;
        at += hist[v];
    }
    for (size_t i = 0; i < nt; i++) {
        unsigned v = sc->est[i];

        if (v < floor || (v == floor && room == 0))
            continue;
        room -= v == floor;
        sel[start[v]++] = sc->touched[i];
        n++;
    }
    return n;
}

/* Scores candidates sel[0..nsel) (at most NAMES_CANDIDATES, each once) into the top k:
 * bounds their WRatio from the sketches, takes them in order of that bound, best first,
 * and stops at the first that cannot reach the top k; the rest are skipped on a closer
 * bound from the text when that cannot either. The hits are exactly those of scoring
 * every candidate, with fewer scored: the floor rises before the weaker ones come. */
static void score_candidates(const struct names_index *ix, const struct ratio_query *rq,
                             int cutoff, const uint32_t *sel, size_t nsel, size_t k,
                             struct names_hit *hits, size_t *n)
{
    uint32_t order[NAMES_CANDIDATES];
    uint8_t bound[NAMES_CANDIDATES];
    size_t hist[101] = {0}, at = 0;

    /* Candidates are scattered over the index: their sketches are fetched ahead, so the
     * misses overlap. */
    for (size_t i = 0; i < nsel && i < PREFETCH_AHEAD; i++)
        __builtin_prefetch(&ix->sketch[sel[i]]);
    for (size_t i = 0; i < nsel; i++) {
        if (i + PREFETCH_AHEAD < nsel)
            __builtin_prefetch(&ix->sketch[sel[i + PREFETCH_AHEAD]]);
        bound[i] = (uint8_t)ratio_wratio_sketch(rq, &ix->sketch[sel[i]]);
        hist[bound[i]]++;
    }
    for (unsigned v = 101; v-- > 0;) { /* counting sort, best bound first, stable */
        size_t c = hist[v];

        hist[v] = at;
        at += c;
    }
    for (size_t i = 0; i < nsel; i++)
        order[hist[bound[i]]++] = (uint32_t)i;
    for (size_t o = 0; o < nsel; o++) {
        uint32_t row = sel[order[o]], buf[RATIO_MAX_LEN];
        struct names_hit h = {row, bound[order[o]], 0};
        struct ratio_str rs;
        int floor = cutoff, dup = 0;

        if (*n == k) {
            if (hits[k - 1].prefix)
                break; /* prefix hits fill the list: no fuzzy hit ranks above them */
            floor = hits[k - 1].score > cutoff ? hits[k - 1].score : cutoff;
        }
        if (h.score < floor)
            break; /* nor can any later one: their bounds are no higher */
        if (*n == k && !hit_before(ix, &h, &hits[k - 1]))
            continue; /* at the floor, less popular than the k-th hit */
        for (size_t j = 0; j < *n && !dup; j++)
            dup = hits[j].row == row;
        if (dup)
            continue;
        rs = row_str(ix, row, buf);
        h.score = ratio_wratio_bound(rq, rs);
        if (h.score < floor || (*n == k && !hit_before(ix, &h, &hits[k - 1])))
            continue; /* its closer bound, from the text, would not rank it either */
        h.score = ratio_wratio_query(rq, rs);
        if (h.score >= cutoff)
            topk_insert(ix, hits, n, k, h);
    }
}

/* Fuzzy path: the NAMES_CANDIDATES names sharing the most trigrams with the query,
 * scored. */
static void search_fuzzy(const struct names_index *ix, const struct ratio_query *rq, int cutoff,
                         struct names_scratch *sc, size_t k, struct names_hit *hits, size_t *n)
{
    uint32_t g[MAX_GRAMS];
    size_t nq = grams_of(rq->s.cp, rq->s.n, g), nsel;

    nsel = count_grams(ix, g, nq, sc);
    nsel = select_candidates(ix, sc, nsel, (unsigned)nq, (unsigned)rq->s.n, sc->sel);
    score_candidates(ix, rq, cutoff, sc->sel, nsel, k, hits, n);
}

/* Takes row and the rows of its list into sel[0..*nsel), each once: sc->counts (zero
 * between searches) marks those taken. Sets *cut when the list is full (it may have been
 * cut) or sel is. */
static void take_list(const struct names_index *ix, struct names_scratch *sc, uint32_t row,
                      uint32_t *sel, size_t *nsel, int *cut)
{
    const uint32_t *rows;
    const uint8_t *scores;
    size_t len = names_lists_get(ix->lists, row, &rows, &scores);

    *cut |= len == names_lists_k(ix->lists);
    for (size_t j = 0; j <= len; j++) {
        uint32_t r = j == 0 ? row : rows[j - 1];

        if (*nsel == NAMES_CANDIDATES) {
            *cut = 1; /* long lists (a file may hold 256 a name) */
            break;
        }
        if (sc->counts[r] == 0) {
            sc->counts[r] = 1;
            sel[(*nsel)++] = r;
        }
    }
}

/* AUTO's fuzzy fill for a query one edit from some names (a misspelled name): the fuzzy
 * answers for such a query are mostly those names and the names close to them, so only
 * those are scored: the names (names_lists_near) and their lists, a few dozen candidates
 * against the fuzzy path's NAMES_CANDIDATES. Returns 0, leaving the hits as they were, when
 * the query is shorter than NAMES_NEAR_MIN code points (one edit is too large a part of
 * it for its neighbours to be its names' neighbours), no name is one edit away, or the
 * candidates fall short of k while a list was cut (the fuzzy path would find more). */
static int fill_from_near(const struct names_index *ix, const struct ratio_query *rq,
                          struct names_scratch *sc, size_t k, struct names_hit *hits, size_t *n)
{
    uint32_t near[NAMES_NEAR_ENTRIES];
    size_t nnear, nsel = 0, nprefix = *n;
    int cut = 0;

    if (rq->s.n < NAMES_NEAR_MIN)
        return 0;
    nnear = names_lists_near(ix->lists, rq->s.cp, rq->s.n, near, NAMES_NEAR_ENTRIES);
    if (nnear == 0)
        return 0;
    for (size_t i = 0; i < nnear; i++)
        take_list(ix, sc, near[i], sc->sel, &nsel, &cut);
    for (size_t i = 0; i < nsel; i++)
        sc->counts[sc->sel[i]] = 0;
    score_candidates(ix, rq, NAMES_CUTOFF, sc->sel, nsel, k, hits, n);
    if (*n < k && cut) {
        *n = nprefix;
        return 0;
    }
    return 1;
}

/* AUTO's fuzzy fill for a query q that is some prefix hit's whole (normalised) name: that
 * name's list, the fuzzy path's own answer for the same string, less the prefix hits.
 * Every name q is a prefix of is among the hits (the fill only runs when there are fewer
 * than k), so if q is a name, it is found there. Returns 1 when filled; otherwise leaves
 * the hits as they were and returns 0 when q is no name, -1 when its list was cut before
 * it could fill the k (the fuzzy path then answers). */
static int fill_from_list(const struct names_index *ix, const char *q, size_t k,
                          struct names_hit *hits, size_t *n)
{
    const uint32_t *rows;
    const uint8_t *scores;
    size_t nprefix = *n, j = 0, len, i;

    while (j < nprefix && strcmp(ix->norm + ix->norm_off[hits[j].row], q) != 0)
        j++;
    if (j == nprefix)
        return 0;
    len = names_lists_get(ix->lists, hits[j].row, &rows, &scores);
    for (i = 0; i < len && *n < k; i++) {
        int dup = 0;

        for (size_t p = 0; p < nprefix && !dup; p++)
            dup = hits[p].row == rows[i];
        if (!dup)
            hits[(*n)++] = (struct names_hit){rows[i], scores[i], 0};
    }
    if (*n < k && len == names_lists_k(ix->lists)) {
        *n = nprefix; /* the list may have been cut short of what the search would find */
        return -1;
    }
    return 1;
}

int names_search(const struct names_index *ix, const char *query, size_t qlen, int k, int cutoff,
                 enum names_mode mode, struct names_hit *hits, size_t *nhits, struct err *e)
{
    struct names_index *mix = (struct names_index *)ix; /* only the scratch pool changes */
    struct names_scratch *sc;
    uint32_t qcp[RATIO_MAX_LEN];
    struct ratio_str qs;
    struct ratio_query rq;
    struct buf q;
    size_t kk = k < 1 ? 1 : k > MAX_K ? MAX_K : (size_t)k, nprefix = 0;
    int rc;

    *nhits = 0;
    buf_init(&q, NAMES_QUERY_MAX * 4);
    rc = norm_name(query, qlen, NAMES_QUERY_MAX, &q);
    if (rc != NORM_OK) {
        err_set(e, rc == NORM_ERR_UTF8 ? "query is not valid UTF-8"
                                       : "query is longer than %d bytes", NAMES_QUERY_MAX);
        buf_release(&q);
        return NAMES_ERR_QUERY;
    }
    if (q.len == 0 || k < 1) {
        buf_release(&q);
        return NAMES_OK;
    }
    qs.cp = qcp;
    qs.n = norm_codepoints(q.data, q.len, qcp, RATIO_MAX_LEN);
    ratio_query_init(&rq, qs);
    sc = scratch_get(mix);
    if (mode != NAMES_MODE_FUZZY)
        search_prefix(ix, q.data, &rq, kk, hits, nhits);
    nprefix = *nhits;
    if (mode == NAMES_MODE_AUTO && nprefix < kk && ix->lists != NULL && cutoff == NAMES_CUTOFF) {
        int whole = fill_from_list(ix, q.data, kk, hits, nhits);

        if (whole > 0 || (whole == 0 && fill_from_near(ix, &rq, sc, kk, hits, nhits)))
            mode = NAMES_MODE_PREFIX; /* filled */
    }
    if (mode == NAMES_MODE_FUZZY || (mode == NAMES_MODE_AUTO && nprefix < kk))
        search_fuzzy(ix, &rq, cutoff, sc, kk, hits, nhits);
    scratch_put(mix, sc);
    buf_release(&q);
    return NAMES_OK;
}
