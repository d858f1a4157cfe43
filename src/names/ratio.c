/*
 * ratio: the LCS at the core of every score is computed bit-parallel (Allison-Dix /
 * Hyyro: one word operation per character of the text) when the shorter string fits in
 * 64 code points, which every real name does; longer ones fall back to the O(n m) table.
 * Partial ratios reuse one pattern table across all windows of the longer string.
 * Token operations work on small fixed arrays: names have a handful of words.
 */
#include "names/ratio.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static void pm_build(struct ratio_pm *pm, struct ratio_str p)
{
    memset(pm->ascii, 0, sizeof pm->ascii);
    pm->others = 0;
    for (size_t i = 0; i < p.n; i++) {
        uint32_t c = p.cp[i];
        int k;

        if (c < 128) {
            pm->ascii[c] |= (uint64_t)1 << i;
            continue;
        }
        for (k = 0; k < pm->others && pm->other_cp[k] != c; k++)
            ;
        if (k == pm->others) {
            pm->other_cp[k] = c;
            pm->other_mask[k] = 0;
            pm->others++;
        }
        pm->other_mask[k] |= (uint64_t)1 << i;
    }
}

static uint64_t pm_get(const struct ratio_pm *pm, uint32_t c)
{
    if (c < 128)
        return pm->ascii[c];
    for (int k = 0; k < pm->others; k++) {
        if (pm->other_cp[k] == c)
            return pm->other_mask[k];
    }
    return 0;
}

/* Set bits of x, inline: without -mpopcnt, __builtin_popcountll is a call into libgcc,
 * which showed in the name search's profile. */
static inline size_t bits64(uint64_t x)
{
    x = x - ((x >> 1) & 0x5555555555555555ull);
    x = (x & 0x3333333333333333ull) + ((x >> 2) & 0x3333333333333333ull);
    x = (x + (x >> 4)) & 0x0f0f0f0f0f0f0f0full;
    return (size_t)((x * 0x0101010101010101ull) >> 56);
}

/* LCS of a pattern of m <= 64 code points (its table pm) and text t. */
static size_t lcs_bits(const struct ratio_pm *pm, size_t m, struct ratio_str t)
{
    uint64_t s = ~(uint64_t)0, mask = m == 64 ? ~(uint64_t)0 : ((uint64_t)1 << m) - 1;

    for (size_t i = 0; i < t.n; i++) {
        uint64_t u = s & pm_get(pm, t.cp[i]);

        s = (s + u) | (s - u);
    }
    return bits64(~s & mask);
}

static size_t lcs_table(struct ratio_str a, struct ratio_str b)
{
    size_t *row = calloc(b.n + 1, sizeof *row), best;

    for (size_t i = 1; i <= a.n; i++) {
        size_t diag = 0;

        for (size_t j = 1; j <= b.n; j++) {
            size_t up = row[j];

            row[j] = a.cp[i - 1] == b.cp[j - 1] ? diag + 1 : (up > row[j - 1] ? up : row[j - 1]);
            diag = up;
        }
    }
    best = row[b.n];
    free(row);
    return best;
}

/* Orders a and b so that a is the shorter. */
static void shorter_first(struct ratio_str *a, struct ratio_str *b)
{
    if (a->n > b->n) {
        struct ratio_str t = *a;

        *a = *b;
        *b = t;
    }
}

size_t ratio_lcs(struct ratio_str a, struct ratio_str b)
{
    struct ratio_pm pm;

    shorter_first(&a, &b);
    if (a.n == 0)
        return 0;
    if (a.n > 64)
        return lcs_table(a, b);
    pm_build(&pm, a);
    return lcs_bits(&pm, a.n, b);
}

static struct ratio_str cut(struct ratio_str s)
{
    if (s.n > RATIO_MAX_LEN)
        s.n = RATIO_MAX_LEN;
    return s;
}

/* Python's int(round(x)): halves to even. */
static int intr(double x)
{
    return (int)rint(x);
}

int ratio_simple(struct ratio_str a, struct ratio_str b)
{
    a = cut(a);
    b = cut(b);
    if (a.n == 0 || b.n == 0)
        return 0;
    return intr(100.0 * ((double)(2 * ratio_lcs(a, b)) / (double)(a.n + b.n)));
}

/* The partial ratio of s (at most 64 code points, its table pm) and the longer l. The best
 * window's ratio 2 L / (|s| + |w|) is kept as a fraction and compared by cross products:
 * no division in the loop. */
static int partial_pm(const struct ratio_pm *pm, struct ratio_str s, struct ratio_str l)
{
    size_t num = 0, den = 1;

    for (size_t start = 0; start < l.n; start++) {
        struct ratio_str w = {l.cp + start, l.n - start < s.n ? l.n - start : s.n};
        size_t wn, wd;

        /* A window whose first code point is not in s scores no higher than the next one:
         * dropping that code point keeps the LCS, and the next window's extra code point
         * can only add to it (or, at the end, the window is shorter). */
        if (pm_get(pm, l.cp[start]) == 0)
            continue;
        wn = 2 * lcs_bits(pm, s.n, w);
        wd = s.n + w.n;
        if (wn * den > num * wd) {
            num = wn;
            den = wd;
        }
        if (num == den)
            return 100;
    }
    return intr(100.0 * ((double)num / (double)den));
}

int ratio_partial(struct ratio_str a, struct ratio_str b)
{
    struct ratio_str s = cut(a), l = cut(b);
    struct ratio_pm pm;

    shorter_first(&s, &l);
    if (s.n == 0)
        return 0;
    if (s.n > 64)
        return ratio_simple(s, l);
    pm_build(&pm, s);
    return partial_pm(&pm, s, l);
}

/* Words of a normalised string: start offsets and lengths into s. */
struct ratio_tokens {
    struct ratio_str w[RATIO_MAX_TOKENS];
    int n;
};

static void tokenize(struct ratio_str s, struct ratio_tokens *t)
{
    size_t i = 0;

    t->n = 0;
    while (i < s.n && t->n < RATIO_MAX_TOKENS) {
        size_t j;

        while (i < s.n && s.cp[i] == ' ')
            i++;
        for (j = i; j < s.n && s.cp[j] != ' '; j++)
            ;
        if (j > i) {
            t->w[t->n].cp = s.cp + i;
            t->w[t->n].n = j - i;
            t->n++;
        }
        i = j;
    }
}

static int word_cmp(const void *pa, const void *pb)
{
    const struct ratio_str *a = pa, *b = pb;
    size_t n = a->n < b->n ? a->n : b->n;

    for (size_t i = 0; i < n; i++) {
        if (a->cp[i] != b->cp[i])
            return a->cp[i] < b->cp[i] ? -1 : 1;
    }
    return (a->n > b->n) - (a->n < b->n);
}

/* Sorts words in place: an insertion sort, as a name has a handful (qsort's calls through
 * a pointer cost more than the comparisons). */
static void sort_words(struct ratio_str *w, int n)
{
    for (int i = 1; i < n; i++) {
        struct ratio_str x = w[i];
        int j = i;

        for (; j > 0 && word_cmp(&w[j - 1], &x) > 0; j--)
            w[j] = w[j - 1];
        w[j] = x;
    }
}

/* Joins words with single spaces into out (capacity RATIO_MAX_LEN); returns it. */
static struct ratio_str join(const struct ratio_str *w, int n, uint32_t *out)
{
    size_t len = 0;

    for (int i = 0; i < n; i++) {
        if (i > 0 && len < RATIO_MAX_LEN)
            out[len++] = ' ';
        for (size_t k = 0; k < w[i].n && len < RATIO_MAX_LEN; k++)
            out[len++] = w[i].cp[k];
    }
    return (struct ratio_str){out, len};
}

static int score(struct ratio_str a, struct ratio_str b, int partial)
{
    return partial ? ratio_partial(a, b) : ratio_simple(a, b);
}

int ratio_token_sort(struct ratio_str a, struct ratio_str b, int partial)
{
    struct ratio_tokens ta, tb;
    uint32_t ja[RATIO_MAX_LEN], jb[RATIO_MAX_LEN];

    tokenize(cut(a), &ta);
    tokenize(cut(b), &tb);
    sort_words(ta.w, ta.n);
    sort_words(tb.w, tb.n);
    return score(join(ta.w, ta.n, ja), join(tb.w, tb.n, jb), partial);
}

/* Sorts and de-duplicates words in place (a Python set, sorted). */
static void word_set(struct ratio_tokens *t)
{
    int k = 0;

    sort_words(t->w, t->n);
    for (int i = 0; i < t->n; i++) {
        if (k == 0 || word_cmp(&t->w[k - 1], &t->w[i]) != 0)
            t->w[k++] = t->w[i];
    }
    t->n = k;
}

/* Splits the sorted sets a and b into shared words and each side's remainder. */
static void set_split(const struct ratio_tokens *a, const struct ratio_tokens *b,
                      struct ratio_tokens *both, struct ratio_tokens *only_a,
                      struct ratio_tokens *only_b)
{
    int i = 0, j = 0;

    both->n = only_a->n = only_b->n = 0;
    while (i < a->n || j < b->n) {
        int c = i == a->n ? 1 : j == b->n ? -1 : word_cmp(&a->w[i], &b->w[j]);

        if (c == 0) {
            both->w[both->n++] = a->w[i++];
            j++;
        } else if (c < 0) {
            only_a->w[only_a->n++] = a->w[i++];
        } else {
            only_b->w[only_b->n++] = b->w[j++];
        }
    }
}

/* "shared" + " " + "rest", stripped, as fuzzywuzzy builds its combined strings. */
static struct ratio_str combine(const struct ratio_tokens *both, const struct ratio_tokens *rest,
                                uint32_t *out)
{
    struct ratio_str w[2 * RATIO_MAX_TOKENS];
    int n = 0;

    for (int i = 0; i < both->n; i++)
        w[n++] = both->w[i];
    for (int i = 0; i < rest->n; i++)
        w[n++] = rest->w[i];
    return join(w, n, out);
}

int ratio_token_set(struct ratio_str a, struct ratio_str b, int partial)
{
    struct ratio_tokens ta, tb, both, only_a, only_b;
    uint32_t js[RATIO_MAX_LEN], ja[RATIO_MAX_LEN], jb[RATIO_MAX_LEN];
    struct ratio_str sect, ca, cb;
    int r1, r2, r3;

    tokenize(cut(a), &ta);
    tokenize(cut(b), &tb);
    if (ta.n == 0 || tb.n == 0)
        return 0;
    word_set(&ta);
    word_set(&tb);
    set_split(&ta, &tb, &both, &only_a, &only_b);
    sect = join(both.w, both.n, js);
    ca = combine(&both, &only_a, ja);
    cb = combine(&both, &only_b, jb);
    r1 = score(sect, ca, partial);
    r2 = score(sect, cb, partial);
    r3 = score(ca, cb, partial);
    return r1 > r2 ? (r1 > r3 ? r1 : r3) : (r2 > r3 ? r2 : r3);
}

static double max2(double a, double b)
{
    return a > b ? a : b;
}

int ratio_wratio(struct ratio_str a, struct ratio_str b)
{
    double base, len_ratio, partial_scale = 0.90;
    const double unbase_scale = 0.95;

    a = cut(a);
    b = cut(b);
    if (a.n == 0 || b.n == 0)
        return 0;
    base = ratio_simple(a, b);
    len_ratio = (double)(a.n > b.n ? a.n : b.n) / (double)(a.n < b.n ? a.n : b.n);
    if (len_ratio < 1.5)
        return intr(max2(base, max2(ratio_token_sort(a, b, 0) * unbase_scale,
                                    ratio_token_set(a, b, 0) * unbase_scale)));
    if (len_ratio > 8)
        partial_scale = 0.6;
    return intr(max2(max2(base, ratio_partial(a, b) * partial_scale),
                     max2(ratio_token_sort(a, b, 1) * unbase_scale * partial_scale,
                          ratio_token_set(a, b, 1) * unbase_scale * partial_scale)));
}

/* ---- bound ------------------------------------------------------------------------- */

/*
 * Every part of WRatio is a ratio 2 L / (|x| + |y|) of an LCS L, and an LCS is at most
 * the size of the two strings' common multiset of code points (bag). The token scores
 * rearrange words, which keeps that multiset unless a word repeats (token_set drops
 * repeats), so strings with repeated words get no bound. Where the pieces differ:
 * token_set's "shared words" string is a prefix of both combined strings, so its ratio
 * with them is known from lengths alone (2 s / (s + |x|)), and 100 in partial form; a
 * partial ratio compares the shorter string (m) with windows of its length, so it is at
 * most 2 L / (m + L) with L <= min(bag, m).
 */

static size_t bucket(uint32_t c)
{
    return c < 128 ? c : 128 + (c & 127);
}

/* The sketch's buckets: fewer, so a count of them merges more code points. */
static size_t bucket32(uint32_t c)
{
    if (c >= 'a' && c <= 'z')
        return c - 'a';
    if (c == ' ')
        return 26;
    if (c >= '0' && c <= '9')
        return 27;
    return c < 128 ? 28 : 29 + c % 3;
}

/* A word's 16-bit hash; equal words hash equal. */
static uint16_t word_hash16(struct ratio_str w)
{
    uint32_t h = 2166136261u;

    for (size_t i = 0; i < w.n; i++)
        h = (h ^ w.cp[i]) * 16777619u;
    return (uint16_t)(h ^ h >> 16);
}

static void tokenize_str(struct ratio_str s, struct ratio_str *w, int *n)
{
    struct ratio_tokens t;

    tokenize(s, &t);
    memcpy(w, t.w, sizeof t.w[0] * (size_t)t.n);
    *n = t.n;
}

/* Joined length of n words, and whether any word repeats. */
static size_t words_len(const struct ratio_str *w, int n, int *repeats)
{
    size_t len = n > 0 ? (size_t)n - 1 : 0;

    *repeats = 0;
    for (int i = 0; i < n; i++) {
        len += w[i].n;
        for (int j = 0; j < i && !*repeats; j++)
            *repeats = word_cmp(&w[i], &w[j]) == 0;
    }
    return len;
}

void ratio_query_init(struct ratio_query *q, struct ratio_str a)
{
    struct ratio_tokens t;
    int repeats;

    memset(q, 0, sizeof *q);
    q->s = cut(a);
    for (size_t i = 0; i < q->s.n; i++) {
        size_t k = bucket32(q->s.cp[i]);

        q->counts[bucket(q->s.cp[i])]++;
        q->counts32[k] += q->counts32[k] < 255;
    }
    tokenize_str(q->s, q->w, &q->nwords);
    for (int i = 0; i < q->nwords; i++)
        q->whash[i] = word_hash16(q->w[i]);
    q->wlen = words_len(q->w, q->nwords, &repeats);
    q->loose = q->s.n > 64 || q->nwords == RATIO_MAX_TOKENS || repeats;
    q->plain = q->s.n > 64;
    if (q->plain)
        return;
    tokenize(q->s, &t);
    sort_words(t.w, t.n);
    q->sorted = join(t.w, t.n, q->sorted_cp);
    word_set(&t);
    memcpy(q->set, t.w, sizeof t.w[0] * (size_t)t.n);
    q->nset = t.n;
    pm_build(&q->pm, q->s);
    pm_build(&q->sorted_pm, q->sorted);
}

/* v rounded up to an integer; a hair below one counts as it (the scores compute the
 * same quotients in another order). */
/* ceil(v), for a v >= 0 that floating error may have put a hair above an integer. */
static double up(double v)
{
    double t = v - 1e-9;
    int i = (int)t;

    return (double)(i + (t > i));
}

/* ceil(200 x / d): a part's score bound 100 x 2 x / d, in integers, exact; 0 when d is
 * (two strings of no words). */
static int up200(size_t x, size_t d)
{
    return d == 0 ? 0 : (int)((200 * x + d - 1) / d);
}

/* The largest partial ratio (x 100, rounded up) a shorter string of m code points with
 * at most l of them in common can reach. */
static int partial_cap(size_t l, size_t m)
{
    if (l > m)
        l = m;
    return l == 0 ? 0 : up200(l, m + l);
}

/* The bound for strings of la and lb code points, la's words joined wa long and lb's
 * wb, with at most bag code points in common, a common subsequence of at most lcs (which
 * bounds the plain and partial ratios; bag, at least lcs, bounds those of the sorted
 * words) and shared words joined that long. Each part is an integer score: its bound is
 * rounded up before it is weighted. Lengths compare by cross products (max / min < 1.5 as
 * 2 max < 3 min), so the bound has no division but the parts' own. */
static int bound_of(size_t la, size_t lb, size_t wa, size_t wb, size_t bag, size_t lcs,
                    size_t shared)
{
    size_t m = la < lb ? la : lb, big = la < lb ? lb : la, mw = wa < wb ? wa : wb;
    int base = up200(lcs, la + lb), tok, set;
    double ps = 0.90, u;

    if (2 * big < 3 * m) {
        tok = up200(bag, wa + wb);
        set = shared > 0 ? up200(shared, shared + mw) : 0;
        u = max2(base, 0.95 * (tok > set ? tok : set));
    } else {
        if (big > 8 * m)
            ps = 0.6;
        tok = partial_cap(bag, mw);
        set = shared > 0 ? 100 : tok;
        u = max2(max2(base, ps * partial_cap(lcs, m)), 0.95 * ps * (tok > set ? tok : set));
    }
    return u >= 100 ? 100 : (int)up(u);
}

int ratio_wratio_bound(const struct ratio_query *q, struct ratio_str b)
{
    uint16_t left[256];
    struct ratio_str w[RATIO_MAX_TOKENS];
    size_t bag = 0, shared = 0, blen, la = q->s.n, lb;
    int nw, repeats, nshared = 0;

    b = cut(b);
    lb = b.n;
    if (la == 0 || lb == 0)
        return 0;
    if (q->loose || lb > 64)
        return 100;
    tokenize_str(b, w, &nw);
    blen = words_len(w, nw, &repeats);
    if (nw == RATIO_MAX_TOKENS || repeats)
        return 100;
    memcpy(left, q->counts, sizeof left);
    for (size_t i = 0; i < lb; i++) {
        size_t k = bucket(b.cp[i]);

        if (left[k] > 0) {
            left[k]--;
            bag++;
        }
    }
    for (int i = 0; i < q->nwords; i++)
        for (int j = 0; j < nw; j++)
            if (word_cmp(&q->w[i], &w[j]) == 0) {
                shared += q->w[i].n + (nshared++ > 0);
                break;
            }
    /* The exact LCS costs one pass over b and tightens the plain and partial ratios'
     * bounds (a window's LCS is at most the whole string's) where bag ignores order. */
    return bound_of(la, lb, q->wlen, blen, bag, lcs_bits(&q->pm, la, b), shared);
}

void ratio_sketch_make(struct ratio_str s, struct ratio_sketch *out)
{
    struct ratio_str w[RATIO_MAX_TOKENS];
    uint8_t counts[32] = {0};
    int nw, repeats, over = 0;

    memset(out, 0, sizeof *out);
    s = cut(s);
    if (s.n == 0 || s.n > 64)
        return;
    tokenize_str(s, w, &nw);
    words_len(w, nw, &repeats);
    if (nw > RATIO_SKETCH_WORDS || repeats)
        return;
    for (size_t i = 0; i < s.n; i++)
        over |= ++counts[bucket32(s.cp[i])] > 15;
    if (over)
        return;
    for (int i = 0; i < 16; i++)
        out->counts[i] = (uint8_t)(counts[2 * i] | counts[2 * i + 1] << 4);
    for (int i = 0; i < nw; i++) {
        out->whash[i] = word_hash16(w[i]);
        out->wlen[i] = (uint8_t)w[i].n;
    }
    out->len = (uint8_t)s.n;
    out->nwords = (uint8_t)nw;
}

/* As ratio_wratio_bound, with the common code points counted over the sketch's coarser
 * buckets and words taken as shared when their hashes and lengths match: both can only
 * count more. */
int ratio_wratio_sketch(const struct ratio_query *q, const struct ratio_sketch *b)
{
    size_t bag = 0, shared = 0, blen, la = q->s.n;
    int nshared = 0;

    if (la == 0)
        return 0;
    if (q->loose || b->nwords == 0)
        return 100;
    for (int i = 0; i < 16; i++) {
        unsigned lo = b->counts[i] & 15, hi = b->counts[i] >> 4;

        bag += lo < q->counts32[2 * i] ? lo : q->counts32[2 * i];
        bag += hi < q->counts32[2 * i + 1] ? hi : q->counts32[2 * i + 1];
    }
    blen = (size_t)b->nwords - 1;
    for (int j = 0; j < b->nwords; j++)
        blen += b->wlen[j];
    for (int i = 0; i < q->nwords; i++)
        for (int j = 0; j < b->nwords; j++)
            if (q->whash[i] == b->whash[j] && q->w[i].n == b->wlen[j]) {
                shared += q->w[i].n + (nshared++ > 0);
                break;
            }
    return bound_of(la, b->len, q->wlen, blen, bag, bag, shared);
}

/* ---- prepared WRatio ---------------------------------------------------------------- */

/* ratio_simple(a, b) where a (at most 64 long) has the table pm. */
static int simple_pm(const struct ratio_pm *pm, struct ratio_str a, struct ratio_str b)
{
    if (a.n == 0 || b.n == 0)
        return 0;
    return intr(100.0 * ((double)(2 * lcs_bits(pm, a.n, b)) / (double)(a.n + b.n)));
}

/* ratio_partial(a, b) where a (at most 64 long) has the table pm. */
static int partial_query(const struct ratio_pm *pm, struct ratio_str a, struct ratio_str b)
{
    if (a.n == 0 || b.n == 0)
        return 0;
    return a.n <= b.n ? partial_pm(pm, a, b) : ratio_partial(a, b);
}

/* ratio_token_set(q->s, b, partial) given b's sorted words tb. The shared words' string
 * is a prefix of each combined string, so its ratios need no LCS. */
static int token_set_query(const struct ratio_query *q, struct ratio_tokens *tb, int partial)
{
    struct ratio_tokens ta, both, only_a, only_b;
    uint32_t js[RATIO_MAX_LEN], ja[RATIO_MAX_LEN], jb[RATIO_MAX_LEN];
    struct ratio_str sect, ca, cb;
    int r1, r2, r3;

    if (q->nset == 0 || tb->n == 0)
        return 0;
    memcpy(ta.w, q->set, sizeof ta.w[0] * (size_t)q->nset);
    ta.n = q->nset;
    word_set(tb);
    set_split(&ta, tb, &both, &only_a, &only_b);
    sect = join(both.w, both.n, js);
    ca = combine(&both, &only_a, ja);
    cb = combine(&both, &only_b, jb);
    if (partial) {
        r1 = sect.n > 0 && ca.n > 0 ? 100 : 0;
        r2 = sect.n > 0 && cb.n > 0 ? 100 : 0;
    } else {
        r1 = sect.n > 0 && ca.n > 0 ? intr(100.0 * ((double)(2 * sect.n) / (double)(sect.n + ca.n))) : 0;
        r2 = sect.n > 0 && cb.n > 0 ? intr(100.0 * ((double)(2 * sect.n) / (double)(sect.n + cb.n))) : 0;
    }
    r3 = score(ca, cb, partial);
    return r1 > r2 ? (r1 > r3 ? r1 : r3) : (r2 > r3 ? r2 : r3);
}

int ratio_wratio_query(const struct ratio_query *q, struct ratio_str b)
{
    const double unbase_scale = 0.95;
    struct ratio_str a = q->s, jb;
    struct ratio_tokens tb;
    uint32_t jbuf[RATIO_MAX_LEN];
    double base, len_ratio, ps = 0.90;
    int tsort, tset;

    b = cut(b);
    if (q->plain)
        return ratio_wratio(a, b);
    if (a.n == 0 || b.n == 0)
        return 0;
    base = simple_pm(&q->pm, a, b);
    len_ratio = (double)(a.n > b.n ? a.n : b.n) / (double)(a.n < b.n ? a.n : b.n);
    tokenize(b, &tb);
    sort_words(tb.w, tb.n);
    jb = join(tb.w, tb.n, jbuf);
    if (len_ratio < 1.5) {
        tsort = simple_pm(&q->sorted_pm, q->sorted, jb);
        tset = token_set_query(q, &tb, 0);
        return intr(max2(base, max2(tsort * unbase_scale, tset * unbase_scale)));
    }
    if (len_ratio > 8)
        ps = 0.6;
    tsort = partial_query(&q->sorted_pm, q->sorted, jb);
    tset = token_set_query(q, &tb, 1);
    return intr(max2(max2(base, partial_query(&q->pm, a, b) * ps),
                     max2(tsort * unbase_scale * ps, tset * unbase_scale * ps)));
}
