/*
 * bench_names: name search latency over a large name list. Reads the names (one per line,
 * "name<TAB>popularity") and the queries ("kind<TAB>query"; kind "prefix" runs the prefix
 * path, any other kind the fuzzy path), prints the index build time and p50/p99 latency
 * per path, and writes each fuzzy query's top 10 (cut-off 0) to OUT for the agreement
 * check against fuzzywuzzy in bench_names.sh. Then whole-name queries (the first
 * WHOLE names themselves, AUTO mode, k = 10: what an autocomplete pick sends) without and
 * with each name's precomputed fuzzy answers (names/lists.h): the lists' build time on
 * every core, p50/p99 each way, and how many answers differ (none should). Last, the
 * fuzzy queries in AUTO mode (what the web page sends) without and with the lists, which
 * fill a query one edit from some name from those names' lists: p50/p99 each way, how
 * many answers differ, and for the first SAMPLE queries how much of the true top 10
 * (WRatio of every name, the full scan) each way finds, and whether its best score is
 * the full scan's.
 *
 * Usage: bench_names NAMES QUERIES OUT
 */
#include "names/lists.h"
#include "names/names.h"
#include "names/normalize.h"
#include "names/ratio.h"
#include "util/buf.h"
#include "util/clock.h"
#include "util/fs.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define WHOLE  3000
#define SAMPLE 500

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return (x > y) - (x < y);
}

static void report(const char *what, double *t, size_t n)
{
    if (n == 0)
        return;
    qsort(t, n, sizeof t[0], cmp_double);
    printf("%-7s queries %5zu  p50 %8.3f ms  p99 %8.3f ms  max %8.3f ms\n", what, n,
           t[n / 2], t[(size_t)((double)n * 0.99)], t[n - 1]);
}

/* Times AUTO searches for the first WHOLE names (k 10) into t, their answers into hits. */
static size_t time_whole(const struct names_index *ix, double *t, struct names_hit *hits,
                         size_t *nhits)
{
    size_t n = names_index_count(ix) < WHOLE ? names_index_count(ix) : WHOLE;
    struct err e;

    for (size_t r = 0; r < n; r++) {
        const char *q = names_index_name(ix, (uint32_t)r);
        double t0 = clock_now();

        names_search(ix, q, strlen(q), 10, NAMES_CUTOFF, NAMES_MODE_AUTO, hits + 10 * r,
                     &nhits[r], &e);
        t[r] = (clock_now() - t0) * 1e3;
    }
    return n;
}

static void whole_names(struct names_index *ix, const struct names_lists *nl)
{
    static double t[WHOLE];
    static struct names_hit a[10 * WHOLE], b[10 * WHOLE];
    static size_t na[WHOLE], nb[WHOLE];
    size_t n, differ = 0;

    n = time_whole(ix, t, a, na);
    report("whole", t, n);
    names_index_use_lists(ix, nl);
    time_whole(ix, t, b, nb);
    report("listed", t, n);
    names_index_use_lists(ix, NULL);
    for (size_t r = 0; r < n; r++)
        differ += na[r] != nb[r] || memcmp(a + 10 * r, b + 10 * r, na[r] * sizeof a[0]) != 0;
    printf("whole-name answers with the lists: %zu of %zu differ from the fuzzy path's\n", differ,
           n);
}

/* The 10 best WRatio scores of query q against every name, into top (0 where fewer). */
static void full_scan(const struct names_index *ix, const char *q, int *top)
{
    uint32_t qcp[RATIO_MAX_LEN], cp[RATIO_MAX_LEN];
    struct ratio_query rq;
    struct ratio_str rs;
    struct buf b;

    memset(top, 0, 10 * sizeof top[0]);
    buf_init(&b, 4096);
    if (norm_name(q, strlen(q), NAMES_QUERY_MAX, &b) != NORM_OK || b.len == 0) {
        buf_release(&b);
        return;
    }
    rs = (struct ratio_str){qcp, norm_codepoints(b.data, b.len, qcp, RATIO_MAX_LEN)};
    ratio_query_init(&rq, rs);
    buf_release(&b);
    for (uint32_t r = 0; r < names_index_count(ix); r++) {
        int sc;

        rs = (struct ratio_str){cp, names_index_codepoints(ix, r, cp)};
        if (rs.n == 0 || ratio_wratio_bound(&rq, rs) <= top[9])
            continue;
        sc = ratio_wratio_query(&rq, rs);
        for (int i = 9; i >= 0 && sc > top[i]; i--) {
            if (i < 9)
                top[i + 1] = top[i];
            top[i] = sc;
        }
    }
}

/* The share of the full scan's top 10 (scores top, those at or above the cut-off; a name
 * tied at the tenth score counts) that hits h[0..n) hold. */
static double share(const int *top, const struct names_hit *h, size_t n)
{
    size_t want = 0, got = 0;
    int cut = top[9] > NAMES_CUTOFF ? top[9] : NAMES_CUTOFF;

    for (int i = 0; i < 10; i++)
        want += top[i] >= NAMES_CUTOFF;
    for (size_t i = 0; i < n; i++)
        got += h[i].score >= cut;
    return want == 0 ? 1.0 : (double)(got < want ? got : want) / (double)want;
}

/* AUTO queries qs[0..n) at k 10 without and with the lists. */
static void misspelled(struct names_index *ix, const struct names_lists *nl, char **qs, size_t n)
{
    double *ta = malloc(sizeof(double) * (n + 1)), *tb = malloc(sizeof(double) * (n + 1));
    double sa = 0, sb = 0;
    size_t differ = 0, sampled = 0, top1a = 0, top1b = 0, differ_sampled = 0;
    struct err e;

    for (size_t i = 0; i < n; i++) {
        struct names_hit a[10], b[10];
        size_t na = 0, nb = 0;
        double t0 = clock_now();

        names_index_use_lists(ix, NULL);
        names_search(ix, qs[i], strlen(qs[i]), 10, NAMES_CUTOFF, NAMES_MODE_AUTO, a, &na, &e);
        ta[i] = (clock_now() - t0) * 1e3;
        names_index_use_lists(ix, nl);
        t0 = clock_now();
        names_search(ix, qs[i], strlen(qs[i]), 10, NAMES_CUTOFF, NAMES_MODE_AUTO, b, &nb, &e);
        tb[i] = (clock_now() - t0) * 1e3;
        differ += na != nb || memcmp(a, b, na * sizeof a[0]) != 0;
        if (sampled < SAMPLE) {
            int top[10];

            full_scan(ix, qs[i], top);
            sa += share(top, a, na);
            sb += share(top, b, nb);
            top1a += top[0] == 0 || (na > 0 && a[0].score == top[0]);
            top1b += top[0] == 0 || (nb > 0 && b[0].score == top[0]);
            differ_sampled += na != nb || memcmp(a, b, na * sizeof a[0]) != 0;
            sampled++;
        }
    }
    names_index_use_lists(ix, NULL);
    report("auto", ta, n);
    report("auto+l", tb, n);
    printf("fuzzy queries in AUTO mode, answers with the lists: %zu of %zu differ\n", differ, n);
    printf("first %zu (%zu differ): share of the full scan's top 10 %.1f%% without the lists, "
           "%.1f%% with; best score the full scan's: %zu and %zu\n",
           sampled, differ_sampled, 100 * sa / (double)sampled, 100 * sb / (double)sampled, top1a,
           top1b);
    free(ta);
    free(tb);
}

int main(int argc, char **argv)
{
    struct names_index *ix;
    struct err e;
    unsigned char *text;
    size_t len, np = 0, nf = 0, bytes;
    double t0, *tp, *tf;
    char **fq;
    struct names_lists *nl;
    int threads = (int)sysconf(_SC_NPROCESSORS_ONLN);
    FILE *out;

    if (argc != 4) {
        fprintf(stderr, "usage: bench_names NAMES QUERIES OUT\n");
        return 2;
    }
    t0 = clock_now();
    if (names_index_load_file(argv[1], &ix, &e) != NAMES_OK ||
        fs_read_file(argv[2], (size_t)1 << 26, &text, &len, &e) != FS_OK) {
        fprintf(stderr, "bench_names: %s\n", e.msg);
        return 1;
    }
    printf("index   %zu names built in %.0f ms\n", names_index_count(ix), (clock_now() - t0) * 1e3);
    out = fopen(argv[3], "w");
    tp = malloc(sizeof(double) * (len / 2 + 1));
    tf = malloc(sizeof(double) * (len / 2 + 1));
    fq = malloc(sizeof(char *) * (len / 2 + 1));
    for (char *line = (char *)text; line != NULL && *line != '\0';) {
        char *end = strchr(line, '\n'), *q = strchr(line, '\t');
        struct names_hit hits[10];
        size_t n;
        int prefix;
        double t;

        if (end != NULL)
            *end = '\0';
        if (q == NULL)
            break;
        *q++ = '\0';
        prefix = strcmp(line, "prefix") == 0;
        t = clock_now();
        names_search(ix, q, strlen(q), 10, prefix ? NAMES_CUTOFF : 0,
                     prefix ? NAMES_MODE_PREFIX : NAMES_MODE_FUZZY, hits, &n, &e);
        t = (clock_now() - t) * 1e3;
        if (prefix) {
            tp[np++] = t;
        } else {
            fq[nf] = q;
            tf[nf++] = t;
            fprintf(out, "%s", q);
            for (size_t i = 0; i < n; i++)
                fprintf(out, "\t%s\t%d", names_index_name(ix, hits[i].row), hits[i].score);
            fputs("\n", out);
        }
        line = end != NULL ? end + 1 : NULL;
    }
    report("prefix", tp, np);
    report("fuzzy", tf, nf);
    t0 = clock_now();
    if (names_lists_build(ix, NAMES_LIST_K, threads, NULL, &nl, &e) != NAMES_LISTS_OK) {
        fprintf(stderr, "bench_names: %s\n", e.msg);
        return 1;
    }
    names_lists_image(nl, &bytes);
    printf("lists   %u answers per name built in %.1f s on %d threads, %.0f MB\n", NAMES_LIST_K,
           clock_now() - t0, threads, (double)bytes / 1e6);
    whole_names(ix, nl);
    misspelled(ix, nl, fq, nf);
    names_lists_free(nl);
    fclose(out);
    free(fq);
    free(tp);
    free(tf);
    free(text);
    names_index_free(ix);
    return 0;
}
