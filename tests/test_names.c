/* Tests for names/normalize, names/ratio and names/names: normalisation cases, every
 * ratio against fuzzywuzzy (Debian's python3-fuzzywuzzy, skipped where missing), the
 * bit-parallel LCS against the plain table, end-to-end queries over the shared real names,
 * hostile queries, concurrent searches, and the precomputed lists (names/lists.h): the
 * same answers with them as without, and their file's checks. */
#include "check.h"

#include "index/layout.h"
#include "names/lists.h"
#include "names/names.h"
#include "names/normalize.h"
#include "names/ratio.h"
#include "util/buf.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define PYTHON "/usr/bin/python3"

static void test_normalize(void)
{
    static const struct {
        const char *in, *want;
    } cases[] = {
        {"Penélope Cruz", "penelope cruz"},
        {"  JOHN   o'brien ", "john o brien"},
        {"Zoë Saldaña", "zoe saldana"},
        {"Straße", "strasse"},
        {"\xef\xac\x81nn", "finn"},                      /* U+FB01 ligature fi */
        {"\xef\xbc\xa1\xef\xbc\xa2", "ab"},             /* full-width A B */
        {"Renée Zellweger-Smith", "renee zellweger smith"},
        {"渡辺 謙", "渡辺 謙"},
        {"Ólafur Darri Ólafsson", "olafur darri olafsson"},
        {"<script>alert(1)</script>", "script alert 1 script"},
        {"Robert Downey Jr.", "robert downey jr"},
        {"a\x01\x02" "b", "a b"},
        {"", ""},
        {"!!!", ""},
    };

    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct buf b;

        buf_init(&b, 0);
        CHECK_INT(norm_name(cases[i].in, strlen(cases[i].in), 0, &b), NORM_OK);
        CHECK_STR(buf_str(&b), cases[i].want);
        buf_release(&b);
    }
}

static void test_normalize_errors(void)
{
    static const char *const bad[] = {"\xff", "abc\xc3", "\xed\xa0\x80", "a\xc0\xaf"};
    struct buf b;
    char big[300];

    buf_init(&b, 0);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        CHECK_INT(norm_name(bad[i], strlen(bad[i]), 0, &b), NORM_ERR_UTF8);
    CHECK_INT(b.len, 0);
    memset(big, 'a', sizeof big);
    CHECK_INT(norm_name(big, sizeof big, 256, &b), NORM_ERR_TOO_LONG);
    buf_release(&b);
}

static struct ratio_str str_of(const char *s, uint32_t *buf)
{
    return (struct ratio_str){buf, norm_codepoints(s, strlen(s), buf, RATIO_MAX_LEN)};
}

static void test_lcs_bits_vs_table(void)
{
    unsigned seed = 12345;

    for (int t = 0; t < 2000; t++) {
        uint32_t a[150], b[150];
        size_t na = 1 + (seed = seed * 1103515245 + 12345) % 70, nb = 1 + (seed >> 8) % 140;
        size_t want, i, j;
        size_t *row;

        for (i = 0; i < na; i++)
            a[i] = (seed = seed * 1103515245 + 12345) >> 16 & 7 ? 'a' + ((seed >> 20) & 3) : 0x6E21;
        for (i = 0; i < nb; i++)
            b[i] = (seed = seed * 1103515245 + 12345) >> 16 & 7 ? 'a' + ((seed >> 20) & 3) : 0x6E21;
        row = calloc(nb + 1, sizeof *row);
        for (i = 1; i <= na; i++) {
            size_t diag = 0;

            for (j = 1; j <= nb; j++) {
                size_t up = row[j];

                row[j] = a[i - 1] == b[j - 1] ? diag + 1 : (up > row[j - 1] ? up : row[j - 1]);
                diag = up;
            }
        }
        want = row[nb];
        free(row);
        if (ratio_lcs((struct ratio_str){a, na}, (struct ratio_str){b, nb}) != want) {
            check_fail(__FILE__, __LINE__, "lcs case %d (%zu, %zu)", t, na, nb);
            break;
        }
    }
}

/* Pairs scored by both; the second element of each pair is a real-looking name. */
static const char *const pairs[][2] = {
    {"keanu reves", "keanu reeves"},       {"jessica chastian", "jessica chastain"},
    {"dicapprio", "leonardo dicaprio"},   {"chas", "jessica chastain"},
    {"hanks tom", "tom hanks"},           {"tom", "tom hanks"},
    {"penelope cruz", "penelope cruz"},   {"brad pit", "brad pitt"},
    {"pitt", "brad pitt"},                {"robert downey", "robert downey jr"},
    {"downey robert jr", "robert downey jr"}, {"scarlet johanson", "scarlett johansson"},
    {"al pacino", "alfredo james pacino"}, {"mark ruffalo", "mark rylance"},
    {"emma", "emma stone"},               {"emma watson", "emma stone"},
    {"the rock", "dwayne johnson"},       {"a", "tom hanks"},
    {"samuel l jackson", "samuel jackson"}, {"jackson samuel l", "samuel l jackson"},
    {"jon snow", "john snow"},            {"kate winslet", "kate winslet kate"},
    {"x", "x"},                           {"ab", "ba"},
    {"anne hathaway", "hathaway anne jacqueline"}, {"mr bean", "rowan atkinson mr bean"},
    {"zzz", "tom hanks"},                 {"hugh jackman", "hugh jackman hugh jackman"},
};

static void test_ratios_vs_fuzzywuzzy(void)
{
    char in[512], out[512], cmd[2048];
    size_t n = sizeof pairs / sizeof pairs[0], exact_partial = 0;
    FILE *f;

    if (system(PYTHON " -c 'import fuzzywuzzy, Levenshtein' >/dev/null 2>&1") != 0)
        SKIP("Debian's python3-fuzzywuzzy and python3-levenshtein are not installed");
    snprintf(in, sizeof in, "%s/pairs.tsv", check_tmpdir());
    snprintf(out, sizeof out, "%s/scores.txt", check_tmpdir());
    f = fopen(in, "w");
    REQUIRE(f != NULL);
    for (size_t i = 0; i < n; i++)
        fprintf(f, "%s\t%s\n", pairs[i][0], pairs[i][1]);
    fclose(f);
    snprintf(cmd, sizeof cmd, PYTHON " '%s/tests/fw_ref.py' < '%s' > '%s'",
             getenv("DOPPEL_ROOT") ? getenv("DOPPEL_ROOT") : ".", in, out);
    REQUIRE(system(cmd) == 0);
    f = fopen(out, "r");
    REQUIRE(f != NULL);
    for (size_t i = 0; i < n; i++) {
        uint32_t ba[RATIO_MAX_LEN], bb[RATIO_MAX_LEN];
        struct ratio_str a = str_of(pairs[i][0], ba), b = str_of(pairs[i][1], bb);
        int r, p, ts, tset, w, longer = a.n > b.n ? a.n : b.n, shorter = a.n < b.n ? a.n : b.n;

        REQUIRE(fscanf(f, "%d %d %d %d %d", &r, &p, &ts, &tset, &w) == 5);
        CHECK_INT(ratio_simple(a, b), r);
        CHECK_INT(ratio_token_sort(a, b, 0), ts);
        CHECK_INT(ratio_token_set(a, b, 0), tset);
        /* Our partial ratio takes the best window; fuzzywuzzy's may miss it. */
        if (ratio_partial(a, b) < p)
            check_fail(__FILE__, __LINE__, "partial '%s' '%s': %d < fuzzywuzzy %d", pairs[i][0],
                       pairs[i][1], ratio_partial(a, b), p);
        exact_partial += ratio_partial(a, b) == p;
        if ((double)longer / shorter < 1.5)
            CHECK_INT(ratio_wratio(a, b), w);
        else if (ratio_wratio(a, b) < w)
            check_fail(__FILE__, __LINE__, "wratio '%s' '%s': %d < %d", pairs[i][0],
                       pairs[i][1], ratio_wratio(a, b), w);
    }
    fclose(f);
    printf("    partial_ratio equal to fuzzywuzzy's on %zu of %zu pairs\n", exact_partial, n);
    CHECK(exact_partial * 10 >= n * 8);
}

/* A random name-like string: words of letters from a small alphabet (so strings share
 * many), sometimes a non-ASCII letter, sometimes a repeated word. */
static size_t random_name(unsigned *seed, uint32_t *out)
{
    size_t n = 0, words = 1 + (*seed = *seed * 1103515245 + 12345) % 4;

    for (size_t w = 0; w < words; w++) {
        size_t len = 1 + ((*seed = *seed * 1103515245 + 12345) >> 16 & 7);

        if (w > 0)
            out[n++] = ' ';
        if (w > 0 && (*seed >> 8) % 9 == 0) { /* repeat the first word */
            for (size_t i = 0; out[i] != ' '; i++)
                out[n++] = out[i];
            continue;
        }
        for (size_t i = 0; i < len; i++) {
            unsigned r = (*seed = *seed * 1103515245 + 12345) >> 16;

            out[n++] = r % 23 == 0 ? 0xE9 + (r >> 8) % 3 : 'a' + (r >> 6) % 6;
        }
    }
    return n;
}

/* The prepared WRatio gives WRatio's numbers, its bound is never below them, and the
 * bound from a sketch never below that: random pairs, pairs with a shared word, with
 * lengths on both sides of WRatio's 1.5 and 8 length ratios; the fuzzy search skips
 * names on them, so a bound too low would drop hits. They must also be below 100 for
 * most pairs, or they would skip nothing. */
static void test_wratio_bound(void)
{
    unsigned seed = 777;
    size_t below = 0, tight = 0, sketch_below = 0, trials = 200000;

    for (size_t t = 0; t < trials; t++) {
        uint32_t a[64], b[80];
        struct ratio_str sa = {a, random_name(&seed, a)}, sb = {b, random_name(&seed, b)};
        struct ratio_query q;
        struct ratio_sketch sk;
        int w, u, us;

        if (t % 3 == 1) { /* b = a's first word + b */
            size_t k = 0;

            while (k < sa.n && a[k] != ' ')
                k++;
            memmove(b + k + 1, b, sb.n * sizeof b[0]);
            memcpy(b, a, k * sizeof b[0]);
            b[k] = ' ';
            sb.n += k + 1;
        }
        if (t % 5 == 2 && sa.n > 1 + t % 3) /* a short query: length ratios past 8 */
            sa.n = 1 + t % 3;
        ratio_query_init(&q, sa);
        w = ratio_wratio(sa, sb);
        u = ratio_wratio_bound(&q, sb);
        ratio_sketch_make(sb, &sk);
        us = ratio_wratio_sketch(&q, &sk);
        if (ratio_wratio_query(&q, sb) != w || (q.plain == 0 && ratio_wratio_query(&q, sa) != 100)) {
            check_fail(__FILE__, __LINE__, "prepared wratio %d, wratio %d (pair %zu)",
                       ratio_wratio_query(&q, sb), w, t);
            return;
        }
        if (u < w || us < u) {
            char sa8[256], sb8[256];

            for (size_t i = 0; i < sa.n; i++)
                sa8[i] = a[i] < 128 ? (char)a[i] : '?';
            for (size_t i = 0; i < sb.n; i++)
                sb8[i] = b[i] < 128 ? (char)b[i] : '?';
            check_fail(__FILE__, __LINE__, "sketch bound %d, bound %d, wratio %d for '%.*s' '%.*s'",
                       us, u, w, (int)sa.n, sa8, (int)sb.n, sb8);
            return;
        }
        below += u < 100;
        tight += u == w;
        sketch_below += us < 100;
    }
    printf("    bound below 100 for %zu of %zu pairs, equal to the score for %zu; sketch bound "
           "below 100 for %zu\n", below, trials, tight, sketch_below);
    CHECK(below * 2 > trials);
    CHECK(sketch_below * 2 > trials);
}

static struct names_index *real_index;

static struct names_index *load_real(void)
{
    char path[1024];
    struct err e;
    const char *data = check_testdata();

    if (real_index != NULL || data == NULL)
        return real_index;
    snprintf(path, sizeof path, "%s/names/real_person_names.txt", data);
    if (names_index_load_file(path, &real_index, &e) != NAMES_OK)
        check_fail(__FILE__, __LINE__, "%s", e.msg);
    return real_index;
}

static void test_real_queries(void)
{
    static const struct {
        const char *query, *want;
        int mode;
    } cases[] = {
        {"jessica chastian", "Jessica Chastain", NAMES_MODE_AUTO},
        {"dicapprio", "Leonardo DiCaprio", NAMES_MODE_AUTO},
        {"keanu reves", "Keanu Reeves", NAMES_MODE_AUTO},
        {"hanks tom", "Tom Hanks", NAMES_MODE_AUTO},
        {"scarlet johanson", "Scarlett Johansson", NAMES_MODE_AUTO},
        {"Penelope Cruz", "Penelope Cruz", NAMES_MODE_AUTO},
        {"penélope", "Penélope Cruz", NAMES_MODE_FUZZY},
        {"jessica chas", "Jessica Chastain", NAMES_MODE_PREFIX},
        {"MARK RUFFALO", "Mark Ruffalo", NAMES_MODE_AUTO},
    };
    struct names_index *ix = load_real();

    if (ix == NULL)
        SKIP("DOPPEL_TESTDATA not set");
    CHECK_INT(names_index_count(ix), 121936);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct names_hit hits[10];
        struct err e;
        size_t n = 0, found = 0;

        CHECK_INT(names_search(ix, cases[i].query, strlen(cases[i].query), 10, NAMES_CUTOFF,
                               cases[i].mode, hits, &n, &e),
                  NAMES_OK);
        for (size_t j = 0; j < n; j++)
            found += strcmp(names_index_name(ix, hits[j].row), cases[i].want) == 0 && j < 3;
        if (n == 0 || (cases[i].mode != NAMES_MODE_FUZZY &&
                       strcmp(names_index_name(ix, hits[0].row), cases[i].want) != 0 && !found))
            check_fail(__FILE__, __LINE__, "'%s': top is '%s', want '%s'", cases[i].query,
                       n ? names_index_name(ix, hits[0].row) : "(none)", cases[i].want);
        if (cases[i].mode == NAMES_MODE_FUZZY && !found)
            check_fail(__FILE__, __LINE__, "'%s': '%s' not in the top 3", cases[i].query,
                       cases[i].want);
    }
}

/* The fuzzy path scores only the names it estimates best: over misspelt real names, its
 * top 10 against scoring every name (names tied with the tenth best count as found). */
static void test_fuzzy_vs_full_scan(void)
{
    struct names_index *ix = load_real();
    size_t nrows, pool = 0, cap, queries = 0;
    uint32_t *cp;
    size_t *off;
    double found = 0;

    if (ix == NULL)
        SKIP("DOPPEL_TESTDATA not set");
    nrows = names_index_count(ix);
    cap = nrows * 16;
    cp = malloc(sizeof(uint32_t) * cap);
    off = malloc(sizeof(size_t) * (nrows + 1));
    REQUIRE(cp != NULL && off != NULL);
    for (size_t r = 0; r < nrows; r++) {
        const char *name = names_index_name(ix, (uint32_t)r);
        struct buf b;

        buf_init(&b, 4096);
        off[r] = pool;
        if (pool + RATIO_MAX_LEN > cap) {
            cap *= 2;
            cp = realloc(cp, sizeof(uint32_t) * cap);
            REQUIRE(cp != NULL);
        }
        if (norm_name(name, strlen(name), 0, &b) == NORM_OK && b.len > 0)
            pool += norm_codepoints(b.data, b.len, cp + pool, RATIO_MAX_LEN);
        buf_release(&b);
    }
    off[nrows] = pool;
    for (size_t r = 7; r < nrows && queries < 40; r += 1499) {
        char q[64];
        const char *name = names_index_name(ix, (uint32_t)r);
        size_t len = strlen(name), n, at_least = 0;
        struct names_hit hits[10];
        uint32_t qcp[64];
        struct ratio_str qs;
        struct ratio_query rq;
        int top[10] = {0}, cut;
        struct err e;

        if (len < 8 || len >= sizeof q || strchr(name, ' ') == NULL || off[r + 1] == off[r] ||
            !((name[len / 2] | 0x20) >= 'a' && (name[len / 2] | 0x20) <= 'z'))
            continue;
        memcpy(q, name, len + 1);
        q[len / 2] = q[len / 2] == 'x' ? 'q' : 'x'; /* one letter wrong */
        qs = (struct ratio_str){qcp, 0};
        {
            struct buf b;

            buf_init(&b, 4096);
            REQUIRE(norm_name(q, len, 0, &b) == NORM_OK);
            qs.n = norm_codepoints(b.data, b.len, qcp, 64);
            buf_release(&b);
        }
        ratio_query_init(&rq, qs);
        for (size_t row = 0; row < nrows; row++) { /* the ten best scores of all names */
            struct ratio_str rs = {cp + off[row], off[row + 1] - off[row]};
            int s;

            if (rs.n == 0 || ratio_wratio_bound(&rq, rs) <= top[9])
                continue;
            s = ratio_wratio_query(&rq, rs);
            for (int i = 9; i >= 0 && s > top[i]; i--) {
                if (i < 9)
                    top[i + 1] = top[i];
                top[i] = s;
            }
        }
        for (int i = 0; i < 10; i++)
            at_least += top[i] >= NAMES_CUTOFF;
        cut = top[9] > NAMES_CUTOFF ? top[9] : NAMES_CUTOFF;
        CHECK_INT(names_search(ix, q, len, 10, NAMES_CUTOFF, NAMES_MODE_FUZZY, hits, &n, &e),
                  NAMES_OK);
        if (at_least == 0)
            continue;
        for (size_t i = 0, good = 0; i < n; i++) {
            struct ratio_str rs = {cp + off[hits[i].row], off[hits[i].row + 1] - off[hits[i].row]};

            CHECK_INT(hits[i].score, ratio_wratio_query(&rq, rs));
            good += hits[i].score >= cut;
            if (i + 1 == n)
                found += (double)(good < at_least ? good : at_least) / (double)at_least;
        }
        queries++;
    }
    free(cp);
    free(off);
    printf("    top 10 found by the full scan: %.1f%% over %zu misspelt names\n",
           100.0 * found / (double)queries, queries);
    CHECK(queries >= 30);
    CHECK(found >= 0.7 * (double)queries);
}

static void test_ranking_and_prefix(void)
{
    static const char *const names[] = {"Jessica Chastain", "Chastity Bono", "Jessica Alba",
                                        "Ray Chase", "Chase", "Tom Hanks"};
    static const double pop[] = {90, 10, 80, 5, 1, 99};
    struct names_index *ix;
    struct names_hit hits[10];
    struct err e;
    size_t n;

    REQUIRE(names_index_build(names, pop, 6, &ix, &e) == NAMES_OK);
    CHECK_INT(names_search(ix, "chas", 4, 10, 60, NAMES_MODE_PREFIX, hits, &n, &e), NAMES_OK);
    CHECK_INT(n, 4);
    CHECK_STR(names_index_name(ix, hits[0].row), "Jessica Chastain");
    CHECK_STR(names_index_name(ix, hits[1].row), "Chastity Bono");
    CHECK_STR(names_index_name(ix, hits[3].row), "Chase");
    CHECK(hits[0].prefix == 1);
    CHECK_INT(names_search(ix, "jesica", 6, 2, 60, NAMES_MODE_AUTO, hits, &n, &e), NAMES_OK);
    CHECK_INT(n, 2);
    CHECK_STR(names_index_name(ix, hits[0].row), "Jessica Chastain");
    CHECK_INT(names_search(ix, "qqqq", 4, 5, 60, NAMES_MODE_AUTO, hits, &n, &e), NAMES_OK);
    CHECK_INT(n, 0);
    names_index_free(ix);
}

static void test_hostile_queries(void)
{
    static const char *const names[] = {"Tom Hanks", "O'Brien", "Robert'); DROP TABLE"};
    static const struct {
        const char *q;
        size_t n;
        int rc;
    } cases[] = {
        {"", 0, NAMES_OK},
        {"   ", 3, NAMES_OK},
        {"\xff\xfe", 2, NAMES_ERR_QUERY},
        {"tom\x00hanks", 9, NAMES_OK},
        {"'; DROP TABLE people; --", 24, NAMES_OK},
        {"<img src=x onerror=alert(1)>", 28, NAMES_OK},
        {"%s%n%x", 6, NAMES_OK},
        {"\x1b[2J\x07", 5, NAMES_OK},
    };
    struct names_index *ix;
    struct names_hit hits[5];
    struct err e;
    size_t n;
    char *big = malloc(10240);

    REQUIRE(names_index_build(names, NULL, 3, &ix, &e) == NAMES_OK);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        CHECK_INT(names_search(ix, cases[i].q, cases[i].n, 5, 60, NAMES_MODE_AUTO, hits, &n, &e),
                  cases[i].rc);
    memset(big, 'a', 10240);
    CHECK_INT(names_search(ix, big, 10240, 5, 60, NAMES_MODE_AUTO, hits, &n, &e), NAMES_ERR_QUERY);
    CHECK(strstr(e.msg, "longer") != NULL);
    CHECK_INT(names_search(ix, "tom", 3, 0, 60, NAMES_MODE_AUTO, hits, &n, &e), NAMES_OK);
    CHECK_INT(n, 0);
    free(big);
    names_index_free(ix);
}

/* A catalogue where names share words, as real ones do: n names of a first word (100 of
 * them) and a last word (about 600), a few with a middle word, from two-letter syllables
 * picked by a fixed LCG, popularities from it too. */
static struct names_index *shared_words_index(size_t n)
{
    static const char *const syl[] = {"an", "jo", "ma", "ri", "ke", "ta", "lo", "su", "mi", "ne"};
    static const char *const end[] = {"s", "n", "", "th", "ra", "y"};
    char **names = calloc(n, sizeof(char *));
    double *pop = calloc(n, sizeof(double));
    uint32_t x = 12345;
    struct names_index *ix = NULL;
    struct err e;

    if (names == NULL || pop == NULL)
        check_fail(__FILE__, __LINE__, "out of memory");
    for (size_t i = 0; names != NULL && pop != NULL && i < n; i++) {
        char buf[64];
        int len;

        x = x * 1103515245u + 12345u;
        len = snprintf(buf, sizeof buf, "%s%s", syl[(x >> 4) % 10], syl[(x >> 8) % 10]);
        if (x >> 29 == 0)
            len += snprintf(buf + len, sizeof buf - (size_t)len, " %s%s", syl[(x >> 12) % 10],
                            end[(x >> 16) % 6]);
        x = x * 1103515245u + 12345u;
        snprintf(buf + len, sizeof buf - (size_t)len, " %s%s%s", syl[(x >> 4) % 10],
                 syl[(x >> 8) % 10], end[(x >> 12) % 6]);
        names[i] = strdup(buf);
        pop[i] = (double)(x % 1000);
    }
    if (names_index_build((const char *const *)names, pop, n, &ix, &e) != NAMES_OK)
        check_fail(__FILE__, __LINE__, "%s", e.msg);
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
    free(pop);
    return ix;
}

/* With each name's list attached, a search for a whole name answers as without, for every
 * k, from both sides of the lists' length; and the answers do come from the lists. */
static void test_lists_same_answers(void)
{
    struct names_index *ix = shared_words_index(3000);
    struct names_lists *nl, *odd;
    static const int ks[] = {1, 3, 10, NAMES_LIST_K - 1, NAMES_LIST_K + 1};
    size_t checked = 0, len;
    struct err e;
    unsigned char *img;
    const uint32_t *rows;
    const uint8_t *scores;

    REQUIRE(ix != NULL);
    REQUIRE(names_lists_build(ix, NAMES_LIST_K, 2, NULL, &nl, &e) == NAMES_LISTS_OK);
    for (uint32_t r = 0; r < 3000; r += 7) {
        const char *q = names_index_name(ix, r);

        for (size_t i = 0; i < sizeof ks / sizeof ks[0]; i++) {
            struct names_hit a[NAMES_LIST_K + 1], b[NAMES_LIST_K + 1];
            size_t na = 0, nb = 0;

            names_index_use_lists(ix, NULL);
            CHECK_INT(names_search(ix, q, strlen(q), ks[i], NAMES_CUTOFF, NAMES_MODE_AUTO, a,
                                   &na, &e),
                      NAMES_OK);
            names_index_use_lists(ix, nl);
            CHECK_INT(names_search(ix, q, strlen(q), ks[i], NAMES_CUTOFF, NAMES_MODE_AUTO, b,
                                   &nb, &e),
                      NAMES_OK);
            if (na != nb || memcmp(a, b, na * sizeof a[0]) != 0)
                check_fail(__FILE__, __LINE__, "'%s', k %d: %zu hits without the lists, %zu with",
                           q, ks[i], na, nb);
            checked++;
        }
    }
    CHECK(checked > 2000);
    /* The same lists with one name's list reversed (and resealed): that name's fill comes
     * out reversed, so it is read from the list. */
    img = aligned_alloc(64, (names_lists_image(nl, &len), (len + 63) / 64 * 64));
    REQUIRE(img != NULL);
    memcpy(img, names_lists_image(nl, &len), len);
    {
        size_t n = names_lists_get(nl, 0, &rows, &scores), k = names_lists_k(nl);
        uint32_t *rw = (uint32_t *)(img + 64);
        uint64_t sum;
        struct names_hit h[10];
        size_t nh = 0, fuzzy = 0, same = 0;
        const char *q = names_index_name(ix, 0);

        REQUIRE(n >= 4);
        for (size_t i = 0; i < n; i++)
            rw[i] = rows[n - 1 - i];
        for (size_t i = 0; i < n; i++)
            img[64 + 4 * 3000 * k + i] = scores[n - 1 - i];
        sum = layout_sum64(img + 64, len - 64, 0);
        memcpy(img + 32, &sum, 8);
        REQUIRE(names_lists_open_mem(img, len, ix, &odd, &e) == NAMES_LISTS_OK);
        names_index_use_lists(ix, odd);
        REQUIRE(names_search(ix, q, strlen(q), 10, NAMES_CUTOFF, NAMES_MODE_AUTO, h, &nh, &e) ==
                NAMES_OK);
        /* the fill: the reversed list, less the prefix hits */
        for (size_t i = 0, j = n; i < nh; i++) {
            int dup = 1;

            if (h[i].prefix)
                continue;
            while (dup && j-- > 0) {
                dup = 0;
                for (size_t p = 0; p < nh && !dup; p++)
                    dup = h[p].prefix && h[p].row == rows[j];
            }
            fuzzy++;
            same += !dup && h[i].row == rows[j] && h[i].score == scores[j];
        }
        CHECK(fuzzy > 0 && same == fuzzy);
        names_index_use_lists(ix, NULL);
        names_lists_free(odd);
    }
    free(img);
    names_lists_free(nl);
    names_index_free(ix);
}

/* The file: the same image whatever the thread count, a round trip through disk, and
 * every kind of bad file refused with a message. */
static void test_lists_file(void)
{
    struct names_index *ix = shared_words_index(500), *other = shared_words_index(499);
    struct names_lists *a, *b, *c;
    char dir[] = "/tmp/test_names-XXXXXX", path[64];
    const unsigned char *ia, *ib;
    unsigned char *bad;
    size_t la, lb;
    struct err e;
    FILE *f;

    REQUIRE(ix != NULL && other != NULL && mkdtemp(dir) != NULL);
    snprintf(path, sizeof path, "%s/names.near", dir);
    REQUIRE(names_lists_build(ix, 8, 1, NULL, &a, &e) == NAMES_LISTS_OK);
    REQUIRE(names_lists_build(ix, 8, 3, NULL, &b, &e) == NAMES_LISTS_OK);
    ia = names_lists_image(a, &la);
    ib = names_lists_image(b, &lb);
    CHECK(la == lb && memcmp(ia, ib, la) == 0);
    names_lists_free(b);
    CHECK_INT(names_lists_write(a, path, &e), NAMES_LISTS_OK);
    REQUIRE(names_lists_open(path, ix, &b, &e) == NAMES_LISTS_OK);
    ib = names_lists_image(b, &lb);
    CHECK(la == lb && memcmp(ia, ib, la) == 0);
    names_lists_free(b);
    CHECK_INT(names_lists_open(path, other, &b, &e), NAMES_LISTS_ERR_MISMATCH);
    CHECK(strstr(e.msg, "other names") != NULL && strstr(e.msg, path) != NULL);
    bad = aligned_alloc(64, (la + 63) / 64 * 64);
    REQUIRE(bad != NULL);
    memcpy(bad, ia, la);
    bad[100] ^= 1;
    CHECK_INT(names_lists_open_mem(bad, la, ix, &c, &e), NAMES_LISTS_ERR_FORMAT);
    CHECK(strstr(e.msg, "checksum") != NULL);
    memcpy(bad, ia, la);
    CHECK_INT(names_lists_open_mem(bad, la - 8, ix, &c, &e), NAMES_LISTS_ERR_FORMAT);
    CHECK_INT(names_lists_open_mem(bad, 10, ix, &c, &e), NAMES_LISTS_ERR_FORMAT);
    bad[0] = 'X';
    CHECK_INT(names_lists_open_mem(bad, la, ix, &c, &e), NAMES_LISTS_ERR_FORMAT);
    CHECK(strstr(e.msg, "magic") != NULL);
    memcpy(bad, ia, la);
    {
        uint32_t big = 500; /* a row past the end, resealed so the checksum passes */
        uint64_t sum;

        memcpy(bad + 64, &big, 4);
        sum = layout_sum64(bad + 64, la - 64, 0);
        memcpy(bad + 32, &sum, 8);
        CHECK_INT(names_lists_open_mem(bad, la, ix, &c, &e), NAMES_LISTS_ERR_FORMAT);
        CHECK(strstr(e.msg, "corrupt list") != NULL);
    }
    {
        /* The deletion index after the lists: a directory not starting at 0, then a key's
         * row past the end (the last entry's), each resealed; a file of format 1 */
        size_t at = 64 + 500 * 8 * 4 + 500 * 8;
        uint32_t one = 1, big = 500, v1 = 1;
        uint64_t sum;

        memcpy(bad, ia, la);
        memcpy(bad + at, &one, 4);
        sum = layout_sum64(bad + 64, la - 64, 0);
        memcpy(bad + 32, &sum, 8);
        CHECK_INT(names_lists_open_mem(bad, la, ix, &c, &e), NAMES_LISTS_ERR_FORMAT);
        CHECK(strstr(e.msg, "deletion index") != NULL);
        memcpy(bad, ia, la);
        memcpy(bad + la - 4, &big, 4);
        sum = layout_sum64(bad + 64, la - 64, 0);
        memcpy(bad + 32, &sum, 8);
        CHECK_INT(names_lists_open_mem(bad, la, ix, &c, &e), NAMES_LISTS_ERR_FORMAT);
        CHECK(strstr(e.msg, "names row 500") != NULL);
        memcpy(bad, ia, la);
        memcpy(bad + 8, &v1, 4);
        CHECK_INT(names_lists_open_mem(bad, la, ix, &c, &e), NAMES_LISTS_ERR_FORMAT);
        CHECK(strstr(e.msg, "version 1") != NULL);
    }
    f = fopen(path, "w");
    REQUIRE(f != NULL);
    fclose(f);
    CHECK_INT(names_lists_open(path, ix, &c, &e), NAMES_LISTS_ERR_FORMAT);
    CHECK_INT(names_lists_build(ix, 0, 1, NULL, &c, &e), NAMES_LISTS_ERR_INPUT);
    remove(path);
    rmdir(dir);
    free(bad);
    names_lists_free(a);
    names_index_free(ix);
    names_index_free(other);
}

/* Whether a[0..n) and b[0..m) are at most one edit apart: a code point substituted,
 * inserted or left out, or two neighbours swapped. */
static int one_edit(const uint32_t *a, size_t n, const uint32_t *b, size_t m)
{
    size_t i = 0;

    if (n < m)
        return one_edit(b, m, a, n);
    while (i < m && a[i] == b[i])
        i++;
    if (i == m)
        return n - m <= 1;
    if (n == m + 1)
        return memcmp(a + i + 1, b + i, (m - i) * sizeof a[0]) == 0;
    if (n != m)
        return 0;
    if (memcmp(a + i + 1, b + i + 1, (m - i - 1) * sizeof a[0]) == 0)
        return 1;
    return i + 1 < m && a[i] == b[i + 1] && a[i + 1] == b[i] &&
           memcmp(a + i + 2, b + i + 2, (m - i - 2) * sizeof a[0]) == 0;
}

/* Whether a less its i-th code point equals b less its j-th for some i <= j, both n long. */
static int shifted_equal(const uint32_t *a, const uint32_t *b, size_t n)
{
    size_t p = 0, sfx = 0;

    while (p < n && a[p] == b[p])
        p++;
    while (sfx < n && a[n - 1 - sfx] == b[n - 1 - sfx])
        sfx++;
    for (size_t i = 0; i <= p && i < n; i++)
        for (size_t j = i + sfx + 1 >= n ? i : n - 1 - sfx; j < n; j++)
            if (memcmp(a + i + 1, b + i, (j - i) * sizeof a[0]) == 0)
                return 1;
    return 0;
}

/* Whether a and b, each less at most one code point, are equal: the names the deletion
 * index finds for a query (all those one edit away, and some two). */
static int shares_deletion(const uint32_t *a, size_t n, const uint32_t *b, size_t m)
{
    if (n != m)
        return one_edit(a, n, b, m);
    return shifted_equal(a, b, n) || shifted_equal(b, a, n);
}

/* The deletion index finds exactly the names that share a key with a query: every name
 * one edit from it (or equal) among them, for every kind of edit; checked against every
 * name. */
static void test_near_names(void)
{
    struct names_index *ix = shared_words_index(3000);
    struct names_lists *nl;
    size_t queries = 0, found = 0, one = 0;
    struct err e;

    REQUIRE(ix != NULL);
    REQUIRE(names_lists_build(ix, 4, 2, NULL, &nl, &e) == NAMES_LISTS_OK);
    for (uint32_t r = 0; r < 3000; r += 23) {
        uint32_t cp[RATIO_MAX_LEN];
        size_t n = names_index_codepoints(ix, r, cp), p = r % (n - 1);

        for (int kind = 0; kind < 6; kind++) {
            uint32_t q[RATIO_MAX_LEN + 1], got[64], other[RATIO_MAX_LEN];
            size_t m = n, ngot, nwant = 0, hit = 0, own = 0;

            memcpy(q, cp, n * sizeof cp[0]);
            if (kind == 1) {
                q[p] = 'z';
            } else if (kind == 2) {
                memmove(q + p, q + p + 1, (n - p - 1) * sizeof q[0]);
                m--;
            } else if (kind == 3) {
                memmove(q + p + 1, q + p, (n - p) * sizeof q[0]);
                q[p] = 'q';
                m++;
            } else if (kind == 4) {
                q[p] = cp[p + 1];
                q[p + 1] = cp[p];
            } else if (kind == 5) {
                q[0] = 'x'; /* two edits from this name */
                q[n - 1] = 'x';
            }
            ngot = names_lists_near(nl, q, m, got, 64);
            for (uint32_t o = 0; o < 3000; o++) {
                size_t on = names_index_codepoints(ix, o, other), was = hit;

                if (!shares_deletion(q, m, other, on))
                    continue;
                nwant++;
                for (size_t i = 0; i < ngot; i++)
                    hit += got[i] == o;
                one += one_edit(q, m, other, on) && hit > was;
                own += o == r && hit > was;
            }
            if (nwant <= 64 && (ngot != nwant || hit != nwant))
                check_fail(__FILE__, __LINE__, "name %u, edit %d: %zu found, %zu sharing a key",
                           r, kind, ngot, nwant);
            if (kind < 5 && own == 0)
                check_fail(__FILE__, __LINE__, "name %u, edit %d: the name itself not found", r,
                           kind);
            queries++;
            found += ngot;
        }
    }
    CHECK(queries > 700 && found > queries && one > queries / 2 && one < found);
    printf("    %zu queries, %.2f names found each, %.2f of them one edit away\n", queries,
           (double)found / (double)queries, (double)one / (double)queries);
    CHECK_INT(names_lists_near(nl, (const uint32_t *)"", 0, NULL, 0), 0);
    names_lists_free(nl);
    names_index_free(ix);
}

/* Code points of s normalised. */
static struct ratio_str norm_str(const char *s, uint32_t *cp)
{
    struct buf b;
    struct ratio_str r = {cp, 0};

    buf_init(&b, 4096);
    if (norm_name(s, strlen(s), 0, &b) == NORM_OK)
        r.n = norm_codepoints(b.data, b.len, cp, RATIO_MAX_LEN);
    buf_release(&b);
    return r;
}

/* Whether row is among the names one edit from q or on the list of one of them or of a
 * hit: where a fill from the names near q may take its answers. */
static int near_candidate(const struct names_lists *nl, struct ratio_str q,
                          const struct names_hit *h, size_t nh, uint32_t row)
{
    uint32_t from[8 + 40];
    size_t n = names_lists_near(nl, q.cp, q.n, from, 8);

    for (size_t i = 0; i < nh && n < 48; i++)
        from[n++] = h[i].row;
    for (size_t i = 0; i < n; i++) {
        const uint32_t *rows;
        const uint8_t *scores;
        size_t len = names_lists_get(nl, from[i], &rows, &scores);

        if (from[i] == row)
            return 1;
        for (size_t j = 0; j < len; j++)
            if (rows[j] == row)
                return 1;
    }
    return 0;
}

/* A misspelled name (one letter changed) is answered from the names one edit from it and
 * their lists: every answer is such a name with its true score, best first; the best
 * score is never below the misspelled name's own; most of the true top 10 (every name
 * scored) is found. Queries too short, or with no name one edit away, answer as without
 * the lists; and where the lists are short and the fill falls short of k, so do they. */
static void test_near_fill(void)
{
    struct names_index *ix = shared_words_index(3000);
    struct names_lists *nl, *short_nl;
    size_t queries = 0, differ = 0, same_short = 0, short_queries = 0, fell_back = 0;
    double share_near = 0, share_engine = 0;
    struct err e;

    REQUIRE(ix != NULL);
    REQUIRE(names_lists_build(ix, NAMES_LIST_K, 2, NULL, &nl, &e) == NAMES_LISTS_OK);
    REQUIRE(names_lists_build(ix, 9, 2, NULL, &short_nl, &e) == NAMES_LISTS_OK);
    for (uint32_t r = 0; r < 3000; r += 11) {
        char q[64];
        uint32_t qcp[RATIO_MAX_LEN], cp[RATIO_MAX_LEN], near[8];
        struct names_hit a[10], b[10], c[10];
        size_t na, nb, nc, p, len;
        struct ratio_str qs;
        int top[10] = {0}, own;

        snprintf(q, sizeof q, "%s", names_index_name(ix, r));
        len = strlen(q);
        p = (r * 7) % len;
        q[p] = q[p] == ' ' || q[p] == 'w' ? 'k' : 'w';
        if (r % 5 == 0) /* too short for the names near it to stand for it */
            q[NAMES_NEAR_MIN - 1 < len ? NAMES_NEAR_MIN - 1 : len] = '\0';
        qs = norm_str(q, qcp);
        names_index_use_lists(ix, NULL);
        CHECK_INT(names_search(ix, q, strlen(q), 10, NAMES_CUTOFF, NAMES_MODE_AUTO, a, &na, &e),
                  NAMES_OK);
        names_index_use_lists(ix, nl);
        CHECK_INT(names_search(ix, q, strlen(q), 10, NAMES_CUTOFF, NAMES_MODE_AUTO, b, &nb, &e),
                  NAMES_OK);
        names_index_use_lists(ix, short_nl);
        CHECK_INT(names_search(ix, q, strlen(q), 10, NAMES_CUTOFF, NAMES_MODE_AUTO, c, &nc, &e),
                  NAMES_OK);
        if (r % 5 == 0) {
            short_queries++;
            same_short += na == nb && memcmp(a, b, na * sizeof a[0]) == 0;
            continue;
        }
        queries++;
        differ += na != nb || memcmp(a, b, na * sizeof a[0]) != 0;
        /* short lists: filled to k from them, or the fuzzy path's answer */
        if (nc == na && memcmp(a, c, na * sizeof a[0]) == 0)
            fell_back++;
        else if (nc != 10)
            check_fail(__FILE__, __LINE__, "'%s' with lists of 9: %zu hits", q, nc);
        for (size_t i = 0; i < nb; i++) {
            int want = ratio_wratio(qs, norm_str(names_index_name(ix, b[i].row), cp));

            if (b[i].score != want || b[i].score < NAMES_CUTOFF ||
                (i > 0 && !b[i].prefix && !b[i - 1].prefix && b[i].score > b[i - 1].score) ||
                (!b[i].prefix && !near_candidate(nl, qs, b, nb, b[i].row)))
                check_fail(__FILE__, __LINE__, "'%s': hit %zu '%s' score %d (true %d)", q, i,
                           names_index_name(ix, b[i].row), b[i].score, want);
        }
        own = ratio_wratio(qs, norm_str(names_index_name(ix, r), cp));
        if (names_lists_near(nl, qs.cp, qs.n, near, 8) < 8 && (nb == 0 || b[0].score < own))
            check_fail(__FILE__, __LINE__, "'%s': best %d below its own name's %d", q,
                       nb ? b[0].score : 0, own);
        for (uint32_t o = 0; o < 3000; o++) {
            int sc = ratio_wratio(qs, (struct ratio_str){cp, names_index_codepoints(ix, o, cp)});

            for (int i = 9; i >= 0 && sc > top[i]; i--) {
                if (i < 9)
                    top[i + 1] = top[i];
                top[i] = sc;
            }
        }
        {
            int cut = top[9] > NAMES_CUTOFF ? top[9] : NAMES_CUTOFF;
            size_t want = 0, got_a = 0, got_b = 0;

            for (int i = 0; i < 10; i++)
                want += top[i] >= NAMES_CUTOFF;
            for (size_t i = 0; i < na; i++)
                got_a += a[i].score >= cut;
            for (size_t i = 0; i < nb; i++)
                got_b += b[i].score >= cut;
            share_engine += want ? (double)(got_a < want ? got_a : want) / (double)want : 1;
            share_near += want ? (double)(got_b < want ? got_b : want) / (double)want : 1;
        }
    }
    printf("    %zu misspelled names: %zu answered otherwise with the lists; share of the true "
           "top 10: %.1f%% with, %.1f%% without; with lists of 9, %zu as without\n",
           queries, differ, 100 * share_near / (double)queries,
           100 * share_engine / (double)queries, fell_back);
    CHECK(differ > queries / 10);
    CHECK(share_near > 0.7 * (double)queries);
    CHECK(fell_back > 0 && fell_back < queries);
    CHECK_INT(same_short, short_queries);
    names_index_use_lists(ix, NULL);
    names_lists_free(short_nl);
    names_lists_free(nl);
    names_index_free(ix);
}

struct worker {
    struct names_index *ix;
    int ok;
};

static void *search_worker(void *arg)
{
    static const char *const queries[] = {"keanu reves", "tom", "jesica", "chastain", "zzz"};
    struct worker *w = arg;

    w->ok = 1;
    for (int r = 0; r < 200; r++) {
        struct names_hit hits[5], again[5];
        struct err e;
        size_t n, m;
        const char *q = queries[r % 5];

        names_search(w->ix, q, strlen(q), 5, 60, NAMES_MODE_AUTO, hits, &n, &e);
        names_search(w->ix, q, strlen(q), 5, 60, NAMES_MODE_AUTO, again, &m, &e);
        if (n != m || memcmp(hits, again, n * sizeof hits[0]) != 0)
            w->ok = 0;
    }
    return NULL;
}

static void test_concurrent(void)
{
    static const char *const names[] = {"Keanu Reeves", "Tom Hanks", "Jessica Chastain",
                                        "Jessica Alba", "Tom Hardy", "Keanu Pires"};
    struct names_index *ix;
    struct worker w[4];
    pthread_t t[4];
    struct err e;

    REQUIRE(names_index_build(names, NULL, 6, &ix, &e) == NAMES_OK);
    for (int i = 0; i < 4; i++) {
        w[i].ix = ix;
        pthread_create(&t[i], NULL, search_worker, &w[i]);
    }
    for (int i = 0; i < 4; i++) {
        pthread_join(t[i], NULL);
        CHECK(w[i].ok);
    }
    names_index_free(ix);
}

int main(int argc, char **argv)
{
    static const struct check_case cases[] = {
        {"normalize", test_normalize},
        {"normalize_errors", test_normalize_errors},
        {"lcs_bits_vs_table", test_lcs_bits_vs_table},
        {"ratios_vs_fuzzywuzzy", test_ratios_vs_fuzzywuzzy},
        {"wratio_bound", test_wratio_bound},
        {"real_queries", test_real_queries},
        {"fuzzy_vs_full_scan", test_fuzzy_vs_full_scan},
        {"ranking_and_prefix", test_ranking_and_prefix},
        {"hostile_queries", test_hostile_queries},
        {"concurrent", test_concurrent},
        {"lists_same_answers", test_lists_same_answers},
        {"lists_file", test_lists_file},
        {"near_names", test_near_names},
        {"near_fill", test_near_fill},
    };
    int rc = check_main("names", cases, sizeof cases / sizeof cases[0], argc, argv);

    names_index_free(real_index);
    return rc;
}
