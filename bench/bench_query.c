/*
 * bench_query: a photo query's time, stage by stage, in one process with the models
 * loaded once (what `doppel serve` pays per POST /api/query, without HTTP). Each run
 * reads nothing from disk: the photo's bytes are decoded as the server decodes an
 * upload, then search_photo runs; the first run (model loading) is not counted.
 * Prints one "stage median_ms" line per stage, medians of RUNS runs.
 *
 * Usage: bench_query DATA_DIR MODELS_DIR PHOTO [RUNS [THREADS]]   (THREADS 0 = every core)
 */
#include "img/image.h"
#include "search/search.h"
#include "util/clock.h"
#include "util/fs.h"
#include "util/xalloc.h"

#include <stdio.h>
#include <stdlib.h>

#define NSTAGES 6

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return (x > y) - (x < y);
}

/* One query: decode then search_photo. Fills t[] in milliseconds; returns the face count,
 * or -1 with the error printed. */
static int run_once(struct search *s, const unsigned char *data, size_t n, double t[NSTAGES])
{
    struct search_face *faces = xcalloc(SEARCH_FACES_MAX, sizeof *faces);
    struct search_photo_times st;
    struct image im = {0};
    struct err e;
    int nf = -1;
    double t0 = clock_now(), t1;

    if (img_decode(data, n, NULL, &im, &e) != IMG_OK) {
        fprintf(stderr, "bench_query: %s\n", e.msg);
        goto out;
    }
    t1 = clock_now();
    if (search_photo(s, &im, 10, faces, &nf, &e) != SEARCH_OK) {
        fprintf(stderr, "bench_query: %s\n", e.msg);
        nf = -1;
        goto out;
    }
    search_photo_times(s, &st);
    t[0] = (t1 - t0) * 1e3;
    t[1] = st.detect * 1e3;
    t[2] = st.look * 1e3;
    t[3] = st.identity * 1e3;
    t[4] = st.search * 1e3;
    t[5] = (clock_now() - t0) * 1e3;
out:
    img_release(&im);
    free(faces);
    return nf;
}

int main(int argc, char **argv)
{
    static const char *const names[NSTAGES] = {"decode",   "detect", "look",
                                               "identity", "search", "total"};
    struct search *s = NULL;
    unsigned char *data = NULL;
    size_t n = 0;
    struct err e;
    int runs = argc > 4 ? (int)strtol(argv[4], NULL, 10) : 10, faces = 0;
    int threads = argc > 5 ? (int)strtol(argv[5], NULL, 10) : 0;
    double one[NSTAGES], *t;

    if (argc < 4) {
        fprintf(stderr, "usage: bench_query DATA_DIR MODELS_DIR PHOTO [RUNS [THREADS]]\n");
        return 2;
    }
    runs = runs < 1 ? 1 : runs;
    if (fs_read_file(argv[3], IMG_MAX_BYTES_DEFAULT, &data, &n, &e) != FS_OK ||
        search_open(argv[1], argv[2], threads, &s, &e) != SEARCH_OK) {
        fprintf(stderr, "bench_query: %s\n", e.msg);
        free(data);
        return 1;
    }
    t = xcalloc((size_t)runs * NSTAGES, sizeof *t);
    faces = run_once(s, data, n, one); /* loads the models */
    for (int r = 0; r < runs && faces >= 0; r++)
        if (run_once(s, data, n, one) == faces)
            for (int k = 0; k < NSTAGES; k++)
                t[k * runs + r] = one[k];
        else
            faces = -1;
    for (int k = 0; k < NSTAGES && faces >= 0; k++) {
        qsort(t + k * runs, (size_t)runs, sizeof *t, cmp_double);
        printf("%s %.2f\n", names[k], t[k * runs + runs / 2]);
    }
    if (faces >= 0)
        printf("faces %d\n", faces);
    free(t);
    free(data);
    search_close(s);
    return faces >= 0 ? 0 : 1;
}
