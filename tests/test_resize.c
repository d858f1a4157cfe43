/* Tests for img/resize: bicubic against Debian's Pillow (the "within 1 grey level
 * on average"; skipped with a message where python3-pil is missing), bilinear, crops,
 * float conversion. */
#include "check.h"

#include "img/resize.h"

#include <stdio.h>
#include <stdlib.h>

#define PYTHON "/usr/bin/python3"

/* A deterministic test image: gradients plus a hashed texture, so every filter tap
 * matters. */
static void make_texture(struct image *im, int w, int h)
{
    img_alloc(im, w, h);
    for (int y = 0; y < h; y++) {
        for (int x = 0; x < w; x++) {
            unsigned hsh = (unsigned)x * 73856093u ^ (unsigned)y * 19349663u;
            unsigned char *p = im->px + ((size_t)y * w + x) * 3;

            p[0] = (unsigned char)(x * 255 / (w > 1 ? w - 1 : 1));
            p[1] = (unsigned char)(y * 255 / (h > 1 ? h - 1 : 1));
            p[2] = (unsigned char)(hsh >> 7);
        }
    }
}

static int have_pillow(void)
{
    return system(PYTHON " -c 'import PIL' >/dev/null 2>&1") == 0;
}

static int write_raw(const char *path, const struct image *im)
{
    FILE *f = fopen(path, "wb");
    size_t n = (size_t)im->w * im->h * 3;
    int ok = f != NULL && fwrite(im->px, 1, n, f) == n;

    if (f != NULL)
        fclose(f);
    return ok ? 0 : -1;
}

static int read_raw(const char *path, unsigned char *px, size_t n)
{
    FILE *f = fopen(path, "rb");
    int ok = f != NULL && fread(px, 1, n, f) == n;

    if (f != NULL)
        fclose(f);
    return ok ? 0 : -1;
}

/* Resizes src with Pillow into want (w x h); returns 0 on success. */
static int pillow_resize(const struct image *src, int w, int h, struct image *want)
{
    char in[512], out[512], cmd[2048];

    snprintf(in, sizeof in, "%s/src.raw", check_tmpdir());
    snprintf(out, sizeof out, "%s/out.raw", check_tmpdir());
    if (write_raw(in, src) != 0)
        return -1;
    snprintf(cmd, sizeof cmd, PYTHON " '%s/tests/pil_ref.py' resize '%s' %d %d '%s' %d %d",
             getenv("DOPPEL_ROOT") ? getenv("DOPPEL_ROOT") : ".", in, src->w, src->h, out, w,
             h);
    if (system(cmd) != 0)
        return -1;
    img_alloc(want, w, h);
    return read_raw(out, want->px, (size_t)w * h * 3);
}

/* Compares two images of the same size: mean and max absolute difference. */
static void image_diff(const struct image *a, const struct image *b, double *mean, int *max)
{
    size_t n = (size_t)a->w * a->h * 3;
    double sum = 0;

    *max = 0;
    for (size_t i = 0; i < n; i++) {
        int d = abs(a->px[i] - b->px[i]);

        sum += d;
        *max = d > *max ? d : *max;
    }
    *mean = sum / (double)n;
}

static void compare_with_pillow(const char *what, const struct image *src, int w, int h)
{
    struct image mine, want;
    double mean;
    int max;

    img_resize_bicubic(src, w, h, &mine);
    if (pillow_resize(src, w, h, &want) != 0) {
        check_fail(__FILE__, __LINE__, "%s: Pillow reference failed", what);
        img_release(&mine);
        return;
    }
    image_diff(&mine, &want, &mean, &max);
    printf("    %s %dx%d -> %dx%d: mean |diff| %.4f, max %d\n", what, src->w, src->h, w, h, mean,
           max);
    if (!(mean <= 1.0) || max > 2)
        check_fail(__FILE__, __LINE__, "%s: mean difference %.3f > 1 or max %d > 2", what,
                   mean, max);
    img_release(&mine);
    img_release(&want);
}

static void test_bicubic_vs_pillow_generated(void)
{
    static const struct {
        int sw, sh, w, h;
    } cases[] = {
        {112, 112, 150, 150}, {112, 112, 224, 224}, {160, 160, 112, 112}, {37, 53, 11, 7},
        {300, 200, 299, 200}, {64, 64, 64, 17},     {5, 5, 40, 40},       {640, 480, 224, 168},
    };

    if (!have_pillow())
        SKIP("Debian's python3-pil is not installed (" PYTHON ")");
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct image src;

        make_texture(&src, cases[i].sw, cases[i].sh);
        compare_with_pillow("texture", &src, cases[i].w, cases[i].h);
        img_release(&src);
    }
}

static void test_bicubic_vs_pillow_photo(void)
{
    static const struct {
        int w, h;
    } sizes[] = {{224, 224}, {336, 224}, {150, 150}, {1000, 667}};
    const char *models = check_models();
    char path[1024], out[512], cmd[2048], line[64] = "";
    struct image mine, theirs;
    struct err e;
    double mean;
    int max, w = 0, h = 0;
    FILE *p;

    if (!have_pillow())
        SKIP("Debian's python3-pil is not installed (" PYTHON ")");
    if (models == NULL)
        SKIP("no models folder with the sample photos");
    snprintf(path, sizeof path, "%s/samples/face-api/sample1.jpg", models);
    REQUIRE(img_load_file(path, NULL, &mine, &e) == IMG_OK);
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++)
        compare_with_pillow("sample1.jpg", &mine, sizes[i].w, sizes[i].h);
    /* The decoders agree too (both are libjpeg-turbo, ISLOW DCT, fancy upsampling). */
    snprintf(out, sizeof out, "%s/decoded.raw", check_tmpdir());
    snprintf(cmd, sizeof cmd, PYTHON " '%s/tests/pil_ref.py' decode '%s' '%s'",
             getenv("DOPPEL_ROOT") ? getenv("DOPPEL_ROOT") : ".", path, out);
    p = popen(cmd, "r");
    REQUIRE(p != NULL);
    if (fgets(line, sizeof line, p) == NULL || sscanf(line, "%d %d", &w, &h) != 2)
        w = h = 0;
    pclose(p);
    REQUIRE(w == mine.w && h == mine.h);
    img_alloc(&theirs, w, h);
    REQUIRE(read_raw(out, theirs.px, (size_t)w * h * 3) == 0);
    image_diff(&mine, &theirs, &mean, &max);
    printf("    decode sample1.jpg vs Pillow: mean |diff| %.4f, max %d\n", mean, max);
    CHECK(mean <= 1.0);
    img_release(&theirs);
    img_release(&mine);
}

static void test_bicubic_basics(void)
{
    struct image src, out;

    img_alloc(&src, 20, 10);
    memset(src.px, 77, 20 * 10 * 3);
    img_resize_bicubic(&src, 7, 33, &out);
    CHECK(out.w == 7 && out.h == 33);
    for (int i = 0; i < 7 * 33 * 3; i++) {
        if (out.px[i] != 77) {
            check_fail(__FILE__, __LINE__, "constant image changed at %d: %d", i, out.px[i]);
            break;
        }
    }
    img_release(&out);
    img_resize_bicubic(&src, 20, 10, &out);
    CHECK(memcmp(out.px, src.px, 600) == 0);
    img_release(&out);
    img_release(&src);
}

static void test_bilinear(void)
{
    /* 2 x 1 image [0, 200] to 4 x 1: centres at -0.25, 0.25, 0.75, 1.25 of the source. */
    static const unsigned char want[4] = {0, 50, 150, 200};
    struct image src, out;

    img_alloc(&src, 2, 1);
    memset(src.px, 0, 3);
    memset(src.px + 3, 200, 3);
    img_resize_bilinear(&src, 4, 1, &out);
    for (int x = 0; x < 4; x++)
        CHECK_INT(out.px[x * 3], want[x]);
    img_release(&out);
    img_resize_bilinear(&src, 1, 1, &out);
    CHECK_INT(out.px[0], 100);
    img_release(&out);
    img_release(&src);
}

static void test_crops(void)
{
    static const struct {
        int sw, sh, w, h, x, y;
    } centre[] = {
        {10, 10, 4, 4, 3, 3}, {11, 10, 4, 4, 4, 3}, {13, 10, 4, 4, 4, 3}, {4, 4, 6, 6, -1, -1},
    };
    struct image src, out;

    for (size_t i = 0; i < sizeof centre / sizeof centre[0]; i++) {
        make_texture(&src, centre[i].sw, centre[i].sh);
        img_center_crop(&src, centre[i].w, centre[i].h, &out);
        if (centre[i].x >= 0) {
            CHECK(memcmp(out.px, src.px + ((size_t)centre[i].y * src.w + centre[i].x) * 3, 3) == 0);
        } else {
            CHECK(out.px[0] == 0 && out.px[1] == 0 && out.px[2] == 0);
            CHECK(memcmp(out.px + (1 * 6 + 1) * 3, src.px, 3) == 0);
        }
        img_release(&out);
        img_release(&src);
    }
}

static void test_fit_and_float(void)
{
    static const float mean[3] = {0.5f, 0.5f, 0.5f}, std[3] = {0.5f, 0.25f, 1.0f};
    float nhwc[12], nchw[12];
    struct image im;
    int w, h;

    img_fit_shorter(1920, 1280, 224, &w, &h);
    CHECK(w == 336 && h == 224);
    img_fit_shorter(1280, 1920, 224, &w, &h);
    CHECK(w == 224 && h == 336);
    img_fit_shorter(1366, 768, 224, &w, &h);
    CHECK(w == 398 && h == 224);
    img_alloc(&im, 2, 2);
    for (int i = 0; i < 12; i++)
        im.px[i] = (unsigned char)(i * 20);
    img_to_float(&im, 1.0f / 255, mean, std, IMG_LAYOUT_NHWC, nhwc);
    img_to_float(&im, 1.0f / 255, mean, std, IMG_LAYOUT_NCHW, nchw);
    CHECK_NEAR(nhwc[0], -1.0, 1e-6);
    CHECK_NEAR(nhwc[4], (80 / 255.0 - 0.5) / 0.25, 1e-5);
    CHECK_NEAR(nchw[1 * 4 + 1], nhwc[1 * 3 + 1], 1e-7);
    CHECK_NEAR(nchw[2 * 4 + 3], nhwc[3 * 3 + 2], 1e-7);
    img_release(&im);
}

int main(int argc, char **argv)
{
    static const struct check_case cases[] = {
        {"bicubic_vs_pillow_generated", test_bicubic_vs_pillow_generated},
        {"bicubic_vs_pillow_photo", test_bicubic_vs_pillow_photo},
        {"bicubic_basics", test_bicubic_basics},
        {"bilinear", test_bilinear},
        {"crops", test_crops},
        {"fit_and_float", test_fit_and_float},
    };

    return check_main("resize", cases, sizeof cases / sizeof cases[0], argc, argv);
}
