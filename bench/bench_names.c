/*
 * bench_names: name search latency over a large name list. Reads the names (one per line,
 * "name<TAB>popularity") and the queries ("kind<TAB>query"; kind "prefix" runs the prefix
 * path, any other kind the fuzzy path), prints the index build time and p50/p99 latency
 * per path, and writes each fuzzy query's top 10 (cut-off 0) to OUT for the agreement
 * check against fuzzywuzzy in bench_names.sh. Then whole-name queries (the first
 * WHOLE names themselves, AUTO mode, k = 10: what an autocomplete pick sends) without and
 * with each name's precomputed fuzzy answers (names/lists.h): the lists' build time on
 * every core, p50/p99 each way, and how many answers differ (none should).
 *
 * Usage: bench_names NAMES QUERIES OUT
 */
#include "names/lists.h"
#include "names/names.h"
#include "util/clock.h"
#include "util/fs.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define WHOLE 3000

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

static void whole_names(struct names_index *ix)
{
    static double t[WHOLE];
    static struct names_hit a[10 * WHOLE], b[10 * WHOLE];
    static size_t na[WHOLE], nb[WHOLE];
    struct names_lists *nl;
    size_t n, differ = 0, bytes;
    struct err e;
    double t0 = clock_now();
    int threads = (int)sysconf(_SC_NPROCESSORS_ONLN);

    if (names_lists_build(ix, NAMES_LIST_K, threads, NULL, &nl, &e) != NAMES_LISTS_OK) {
        fprintf(stderr, "bench_names: %s\n", e.msg);
        return;
    }
    names_lists_image(nl, &bytes);
    printf("lists   %u answers per name built in %.1f s on %d threads, %.0f MB\n", NAMES_LIST_K,
           clock_now() - t0, threads, (double)bytes / 1e6);
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
    names_lists_free(nl);
}

int main(int argc, char **argv)
{
    struct names_index *ix;
    struct err e;
    unsigned char *text;
    size_t len, np = 0, nf = 0;
    double t0, *tp, *tf;
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
    whole_names(ix);
    fclose(out);
    free(tp);
    free(tf);
    free(text);
    names_index_free(ix);
    return 0;
}
