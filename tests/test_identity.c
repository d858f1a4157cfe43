/* Tests for the identity space: dlib's ResNet on doppel's runtime against the same
 * network in TensorFlow.js (tools/tfjs/dlib.js) on face chips cut from real photos,
 * within 1e-4; batches and threads giving the same numbers; the chip geometry (keypoints
 * land on the template, with and without the antialiased shrink); and descriptors that
 * tell people apart on the shared photos. */
#include "check.h"

#include "nn/blas.h"

#include "face/detect.h"
#include "face/identity.h"
#include "util/buf.h"

#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

#define MAX_CHIPS 32

static struct face_detector *det;
static struct identity *idn;

static int load_models(void)
{
    struct err e;

    if (check_models() == NULL)
        return 0;
    if (det == NULL && face_detector_load(check_models(), &det, &e) != 0)
        return 0;
    if (idn == NULL && identity_load(check_models(), &idn, &e) != 0)
        return 0;
    return 1;
}

static const char *root(void)
{
    return getenv("DOPPEL_ROOT") ? getenv("DOPPEL_ROOT") : ".";
}

static int have_tfjs(void)
{
    char path[1024];
    struct stat st;

    snprintf(path, sizeof path, "%s/tools/tfjs/node_modules/@tensorflow/tfjs-core", root());
    return stat(path, &st) == 0 && system("node --version >/dev/null 2>&1") == 0;
}

/* Appends the chips of every face of the photo at path to chips (at most MAX_CHIPS). */
static int add_chips(const char *path, struct image *chips, int *n)
{
    struct face_box faces[16];
    struct image im;
    struct err e;
    int nf = 0;

    if (img_load_file(path, NULL, &im, &e) != IMG_OK)
        return -1;
    if (face_detect(det, &im, NULL, faces, 16, &nf, &e) != 0)
        nf = 0;
    for (int i = 0; i < nf && *n < MAX_CHIPS; i++)
        identity_align(&im, &faces[i], NULL, &chips[(*n)++]);
    img_release(&im);
    return nf;
}

/* Runs tools/tfjs/dlib.js on the n chips; returns its n x 128 descriptors (caller frees)
 * or NULL. */
static float *tfjs_descriptors(const struct image *chips, int n)
{
    char in[512], out[512], manifest[1024];
    struct buf cmd;
    FILE *f;
    float *d = malloc(sizeof(float) * IDENTITY_DIM * (size_t)n);
    int ok;

    snprintf(in, sizeof in, "%s/chips.rgb", check_tmpdir());
    snprintf(out, sizeof out, "%s/desc.f32", check_tmpdir());
    snprintf(manifest, sizeof manifest, "%s/face-api/face_recognition_model-weights_manifest.json",
             check_models());
    f = fopen(in, "wb");
    for (int i = 0; f != NULL && i < n; i++)
        fwrite(chips[i].px, 3, (size_t)IDENTITY_SIDE * IDENTITY_SIDE, f);
    if (f != NULL)
        fclose(f);
    buf_init(&cmd, 0);
    buf_printf(&cmd,
               "node '%s/tools/tfjs/dlib.js' --manifest '%s' --faces '%s' --count %d --out '%s' "
               ">/dev/null 2>&1",
               root(), manifest, in, n, out);
    ok = system(buf_str(&cmd)) == 0;
    buf_release(&cmd);
    f = ok ? fopen(out, "rb") : NULL;
    ok = f != NULL && fread(d, sizeof(float) * IDENTITY_DIM, (size_t)n, f) == (size_t)n;
    if (f != NULL)
        fclose(f);
    if (!ok) {
        free(d);
        d = NULL;
    }
    return d;
}

/* The faces of the six face-api sample photos and six shared photos (two crop styles):
 * doppel's descriptors within 1e-4 of TensorFlow.js's, each face run alone and all of
 * them as one batch over two threads giving the same numbers. */
static void test_dlib_vs_tfjs(void)
{
    static const char *const shared[] = {
        "faces/glint/Barack Obama/001.png",         "faces/glint/Keira Knightley/003.png",
        "faces/glint/Will Smith/002.png",           "faces/pins/keanu_reeves/keanu_reeves_1.jpg",
        "faces/pins/miley_cyrus/miley_cyrus_2.jpg", "faces/pins/adriana_lima/adriana_lima_1.jpg",
    };
    struct image chips[MAX_CHIPS];
    float *want, got[MAX_CHIPS][IDENTITY_DIM], batch[MAX_CHIPS][IDENTITY_DIM], maxerr = 0;
    struct nn_ctx *ctx = nn_ctx_new(2);
    char path[1024];
    struct err e;
    int n = 0;

    if (!load_models() || !have_tfjs())
        SKIP("needs models/ and tools/tfjs (scripts/setup.sh) and node");
    for (int i = 1; i <= 6; i++) {
        snprintf(path, sizeof path, "%s/samples/face-api/sample%d.jpg", check_models(), i);
        CHECK(add_chips(path, chips, &n) > 0);
    }
    for (size_t i = 0; check_testdata() != NULL && i < sizeof shared / sizeof shared[0]; i++) {
        snprintf(path, sizeof path, "%s/%s", check_testdata(), shared[i]);
        CHECK(add_chips(path, chips, &n) > 0);
    }
    want = tfjs_descriptors(chips, n);
    CHECK(want != NULL);
    for (int i = 0; i < n && want != NULL; i++) {
        REQUIRE(identity_embed_chips(idn, NULL, &chips[i], 1, got[i], &e) == 0);
        for (int k = 0; k < IDENTITY_DIM; k++)
            maxerr = fmaxf(maxerr, fabsf(got[i][k] - want[i * IDENTITY_DIM + k]));
    }
    printf("    %d faces: max |doppel - tfjs| %.3g over %d descriptor values\n", n, maxerr,
           n * IDENTITY_DIM);
    CHECK(maxerr <= 1e-4f);
    REQUIRE(identity_embed_chips(idn, ctx, chips, n, batch[0], &e) == 0);
    CHECK(want == NULL || memcmp(batch, got, sizeof(float) * IDENTITY_DIM * (size_t)n) == 0);
    for (int i = 0; i < n; i++)
        img_release(&chips[i]);
    free(want);
    nn_ctx_free(ctx);
}

/* identity_embed without flags is the network on identity_align's chip; with
 * IDENTITY_FLIP it is a different but nearby descriptor (the mean with the mirror's). */
static void test_embed_flags(void)
{
    struct face_box faces[16];
    struct image im, chip;
    float plain[IDENTITY_DIM], flip[IDENTITY_DIM], direct[IDENTITY_DIM];
    char path[1024];
    struct err e;
    int n = 0;

    if (!load_models())
        SKIP("no models folder (scripts/setup.sh)");
    snprintf(path, sizeof path, "%s/samples/face-api/sample2.jpg", check_models());
    REQUIRE(img_load_file(path, NULL, &im, &e) == IMG_OK);
    REQUIRE(face_detect(det, &im, NULL, faces, 16, &n, &e) == 0 && n > 0);
    REQUIRE(identity_embed(idn, NULL, &im, faces, 1, 0, plain, &e) == 0);
    REQUIRE(identity_embed(idn, NULL, &im, faces, 1, IDENTITY_FLIP, flip, &e) == 0);
    identity_align(&im, &faces[0], NULL, &chip);
    REQUIRE(identity_embed_chips(idn, NULL, &chip, 1, direct, &e) == 0);
    CHECK(memcmp(plain, direct, sizeof plain) == 0);
    printf("    distance of the flipped mean to the chip's own descriptor: %.3f\n",
           identity_distance(plain, flip));
    CHECK(identity_distance(plain, flip) > 0 && identity_distance(plain, flip) < 0.3f);
    img_release(&chip);
    img_release(&im);
}

/* Draws a square dot of colour rgb, 2 r + 1 pixels wide, centred at (x, y). */
static void dot(struct image *im, float x, float y, int r, const unsigned char rgb[3])
{
    for (int dy = -r; dy <= r; dy++)
        for (int dx = -r; dx <= r; dx++) {
            unsigned char *p = im->px + ((size_t)((int)y + dy) * im->w + (int)x + dx) * 3;

            memcpy(p, rgb, 3);
        }
}

/* A photo with four coloured dots placed as the template scaled by scale and turned by
 * 20 degrees: the chip must show each colour where the template puts its keypoint. At
 * scale 3 the chip goes through the antialiased shrink. */
static void test_chip_geometry(void)
{
    static const unsigned char colours[4][3] = {
        {255, 0, 0}, {0, 255, 0}, {0, 0, 255}, {255, 255, 0}};
    static const float scales[] = {1.0f, 3.0f};
    const struct identity_template *t = &identity_template_dlib;

    for (size_t s = 0; s < sizeof scales / sizeof scales[0]; s++) {
        struct image im, chip;
        struct face_box f = {0};
        float c = cosf(0.35f) * scales[s], sn = sinf(0.35f) * scales[s];
        int side = (int)(200 * scales[s]);

        img_alloc(&im, side, side);
        memset(im.px, 128, (size_t)side * side * 3);
        for (int k = 0; k < 4; k++) {
            float x = t->pt[k][0] - 75, y = t->pt[k][1] - 75;

            f.kp[k][0] = (float)side / 2 + c * x - sn * y;
            f.kp[k][1] = (float)side / 2 + sn * x + c * y;
            dot(&im, f.kp[k][0], f.kp[k][1], (int)(2 * scales[s]), colours[k]);
        }
        identity_align(&im, &f, NULL, &chip);
        CHECK_INT(chip.w, IDENTITY_SIDE);
        for (int k = 0; k < 4; k++) {
            const unsigned char *p =
                chip.px + ((size_t)lroundf(t->pt[k][1]) * IDENTITY_SIDE + lroundf(t->pt[k][0])) * 3;

            for (int ch = 0; ch < 3; ch++)
                if (abs(p[ch] - colours[k][ch]) > 60)
                    check_fail(__FILE__, __LINE__, "scale %g, keypoint %d: chip (%d, %d, %d)",
                               scales[s], k, p[0], p[1], p[2]);
        }
        img_release(&chip);
        img_release(&im);
    }
}

/* Distances on the shared photos: three photos of each of four people; every same-person
 * pair below dlib's 0.6 on average, different people above it. */
static void test_identity_distances(void)
{
    static const char *const people[] = {"Barack Obama", "Tom Hanks", "Keira Knightley",
                                         "Will Smith"};
    float d[4][3][IDENTITY_DIM];
    double same = 0, diff = 0;
    int ns = 0, nd = 0;

    if (check_testdata() == NULL)
        SKIP("DOPPEL_TESTDATA not set");
    if (!load_models())
        SKIP("no models folder (scripts/setup.sh)");
    for (int p = 0; p < 4; p++)
        for (int k = 0; k < 3; k++) {
            char path[1024];
            struct image chips[MAX_CHIPS];
            struct err e;
            int n = 0;

            snprintf(path, sizeof path, "%s/faces/glint/%s/%03d.png", check_testdata(), people[p],
                     k + 1);
            REQUIRE(add_chips(path, chips, &n) > 0);
            REQUIRE(identity_embed_chips(idn, NULL, chips, 1, d[p][k], &e) == 0);
            for (int i = 0; i < n; i++)
                img_release(&chips[i]);
        }
    for (int p = 0; p < 4; p++)
        for (int q = p; q < 4; q++)
            for (int a = 0; a < 3; a++)
                for (int b = p == q ? a + 1 : 0; b < 3; b++) {
                    float x = identity_distance(d[p][a], d[q][b]);

                    if (p == q)
                        same += x, ns++;
                    else
                        diff += x, nd++;
                }
    printf("    identity distance: same person %.3f, different people %.3f (means)\n", same / ns,
           diff / nd);
    CHECK(same / ns < 0.6 && diff / nd > 0.6);
    CHECK_NEAR(identity_distance(d[0][0], d[0][0]), 0, 0);
}

int main(int argc, char **argv)
{
    static const struct check_case cases[] = {
        {"dlib_vs_tfjs", test_dlib_vs_tfjs},
        {"embed_flags", test_embed_flags},
        {"chip_geometry", test_chip_geometry},
        {"identity_distances", test_identity_distances},
    };
    int rc;

    nn_blas_set_threads(1);
    rc = check_main("identity", cases, sizeof cases / sizeof cases[0], argc, argv);
    identity_free(idn);
    face_detector_free(det);
    return rc;
}
