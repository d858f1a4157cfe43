/*
 * bench_image: decode + resize time of a 1920 x 1280 JPEG to network input sizes, the
 * work done for every imported or uploaded photo. Prints one "name median_ms" line per
 * case; bench/bench_image.sh runs Pillow on the same cases and reports ratios.
 *
 * Usage: bench_image FILE [RUNS]
 */
#include "img/image.h"
#include "img/resize.h"
#include "util/clock.h"
#include "util/fs.h"

#include <stdio.h>
#include <stdlib.h>

struct bench_case {
    const char *name;
    int min_side; /* decoder downscale target, 0 = full decode */
    int side;     /* output: shorter side resized to side, then centre-cropped square */
};

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return (x > y) - (x < y);
}

/* One run: decode, bicubic resize of the shorter side, centre crop. Returns ms. */
static double run_once(const unsigned char *data, size_t n, const struct bench_case *c)
{
    struct img_opts o = {.min_side = c->min_side};
    struct image im, rs, crop;
    struct err e;
    int w, h;
    double t0 = clock_now();

    if (img_decode(data, n, &o, &im, &e) != IMG_OK) {
        fprintf(stderr, "bench_image: %s\n", e.msg);
        exit(1);
    }
    img_fit_shorter(im.w, im.h, c->side, &w, &h);
    img_resize_bicubic(&im, w, h, &rs);
    img_center_crop(&rs, c->side, c->side, &crop);
    img_release(&crop);
    img_release(&rs);
    img_release(&im);
    return (clock_now() - t0) * 1e3;
}

int main(int argc, char **argv)
{
    static const struct bench_case cases[] = {
        {"decode_full+resize_224", 0, 224},
        {"decode_scaled+resize_224", 224, 224},
        {"decode_full+resize_150", 0, 150},
        {"decode_scaled+resize_150", 150, 150},
    };
    unsigned char *data;
    size_t n;
    struct err e;
    int runs = argc > 2 ? (int)strtol(argv[2], NULL, 10) : 30;
    double *t;

    if (argc < 2 || runs < 1) {
        fprintf(stderr, "usage: bench_image FILE [RUNS]\n");
        return 2;
    }
    if (fs_read_file(argv[1], IMG_MAX_BYTES_DEFAULT, &data, &n, &e) != FS_OK) {
        fprintf(stderr, "bench_image: %s\n", e.msg);
        return 1;
    }
    t = malloc(sizeof(double) * (size_t)runs);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        run_once(data, n, &cases[i]); /* warm-up */
        for (int r = 0; r < runs; r++)
            t[r] = run_once(data, n, &cases[i]);
        qsort(t, (size_t)runs, sizeof t[0], cmp_double);
        printf("%s %.3f\n", cases[i].name, t[runs / 2]);
    }
    free(t);
    free(data);
    return 0;
}
