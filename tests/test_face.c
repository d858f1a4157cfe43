/* Tests for face/detect and face/embed on real photos: the number of faces in the sample
 * group photos (counted by eye and recorded here), detection on the shared face crops
 * (at least 98%), and look embeddings: unit length, deterministic, and the same person
 * closer than different people on average. */
#include "check.h"

#include "nn/blas.h"

#include "face/detect.h"
#include "face/embed.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>

static struct face_detector *det;
static struct embedder *emb;

static int load_models(void)
{
    struct err e;

    if (check_models() == NULL)
        return 0;
    if (det == NULL && face_detector_load(check_models(), &det, &e) != 0)
        return 0;
    if (emb == NULL && embedder_load(check_models(), &emb, &e) != 0)
        return 0;
    return 1;
}

static int count_faces(const char *path, struct face_box *faces, int max)
{
    struct image im;
    struct err e;
    int n = -1;

    if (img_load_file(path, NULL, &im, &e) != IMG_OK)
        return -1;
    if (face_detect(det, &im, NULL, faces, max, &n, &e) != 0)
        n = -1;
    img_release(&im);
    return n;
}

static void test_sample_group_photos(void)
{
    /* Faces clearly visible, counted by eye: sample1 three women; sample2..6 the people in
     * each; human's samples.jpg is a collage whose small faces are partly covered by
     * overlays, so only a floor is set. */
    static const struct {
        const char *file;
        int want, at_least;
    } cases[] = {
        {"samples/face-api/sample1.jpg", 3, 0}, {"samples/face-api/sample2.jpg", 3, 0},
        {"samples/face-api/sample3.jpg", 3, 0}, {"samples/face-api/sample4.jpg", 4, 0},
        {"samples/face-api/sample5.jpg", 5, 0}, {"samples/face-api/sample6.jpg", 4, 0},
        {"samples/human/samples.jpg", 0, 5},
    };

    if (!load_models())
        SKIP("no models folder (scripts/setup.sh)");
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char path[1024];
        struct face_box faces[64];
        int n;

        snprintf(path, sizeof path, "%s/%s", check_models(), cases[i].file);
        n = count_faces(path, faces, 64);
        if ((cases[i].want && n != cases[i].want) || n < cases[i].at_least)
            check_fail(__FILE__, __LINE__, "%s: %d faces, want %d", cases[i].file, n,
                       cases[i].want ? cases[i].want : cases[i].at_least);
        for (int k = 0; k < n; k++) {
            CHECK(faces[k].score >= 0.5f && faces[k].score <= 1.0f);
            CHECK(faces[k].x2 > faces[k].x1 && faces[k].y2 > faces[k].y1);
            /* eyes inside the box, the subject's right eye on the viewer's left */
            CHECK(faces[k].kp[FACE_KP_RIGHT_EYE][0] < faces[k].kp[FACE_KP_LEFT_EYE][0]);
        }
    }
}

static void test_rotated_photo(void)
{
    char path[1024];
    struct image im;
    struct face_box faces[16];
    struct err e;
    int n;

    if (!load_models())
        SKIP("no models folder (scripts/setup.sh)");
    snprintf(path, sizeof path, "%s/samples/face-api/sample1.jpg", check_models());
    REQUIRE(img_load_file(path, NULL, &im, &e) == IMG_OK);
    img_apply_orientation(&im, 6); /* the photo on its side, as a phone may store it */
    REQUIRE(face_detect(det, &im, NULL, faces, 16, &n, &e) == 0);
    printf("    sample1 turned 90 degrees: %d faces\n", n);
    img_apply_orientation(&im, 8); /* and back upright */
    REQUIRE(face_detect(det, &im, NULL, faces, 16, &n, &e) == 0);
    CHECK_INT(n, 3);
    img_release(&im);
}

/* Under AddressSanitizer the kernels run several times slower; there the test checks
 * every fourth photo (memory safety is what that build is for; the release build checks
 * them all). */
#if defined(__SANITIZE_ADDRESS__)
#define PHOTO_STRIDE 4
#else
#define PHOTO_STRIDE 1
#endif

/* Detects in every PHOTO_STRIDE-th photo of dir/<person>/; returns photos with at least
 * one face, *total counting the photos checked and *seen all photos. */
static int detect_tree(const char *dir, int *total, int *seen)
{
    DIR *d = opendir(dir);
    struct dirent *p;
    int found = 0;

    while (d != NULL && (p = readdir(d)) != NULL) {
        char sub[1024];
        DIR *d2;
        struct dirent *f;

        if (p->d_name[0] == '.' || strstr(p->d_name, ".json") != NULL)
            continue;
        snprintf(sub, sizeof sub, "%s/%s", dir, p->d_name);
        d2 = opendir(sub);
        while (d2 != NULL && (f = readdir(d2)) != NULL) {
            char path[2048];
            struct face_box faces[8];

            if (f->d_name[0] == '.' || (*seen)++ % PHOTO_STRIDE != 0)
                continue;
            snprintf(path, sizeof path, "%s/%s", sub, f->d_name);
            (*total)++;
            found += count_faces(path, faces, 8) > 0;
        }
        if (d2 != NULL)
            closedir(d2);
    }
    if (d != NULL)
        closedir(d);
    return found;
}

static void test_shared_face_crops(void)
{
    const char *data = check_testdata();
    char dir[1024];
    int total = 0, seen = 0, found;

    if (data == NULL)
        SKIP("DOPPEL_TESTDATA not set");
    if (!load_models())
        SKIP("no models folder (scripts/setup.sh)");
    snprintf(dir, sizeof dir, "%s/faces/glint", data);
    found = detect_tree(dir, &total, &seen);
    snprintf(dir, sizeof dir, "%s/faces/pins", data);
    found += detect_tree(dir, &total, &seen);
    printf("    faces found in %d of %d shared photos (%.1f%%)\n", found, total,
           100.0 * found / total);
    CHECK_INT(seen, 1027);
    CHECK(found * 100 >= total * 98);
}

static int embed_file(const char *path, struct embedding *em)
{
    struct image im;
    struct face_box faces[8];
    struct err e;
    int n = 0, rc = -1;

    if (img_load_file(path, NULL, &im, &e) != IMG_OK)
        return -1;
    if (face_detect(det, &im, NULL, faces, 8, &n, &e) == 0 && n > 0 &&
        embed_look(emb, &im, faces, 1, em, &e) == 0)
        rc = 0;
    img_release(&im);
    return rc;
}

static void test_look_embeddings(void)
{
    static const char *const people[] = {"Barack Obama", "Tom Hanks", "Keira Knightley",
                                         "Will Smith"};
    struct embedding em[4][3], again;
    const char *data = check_testdata();
    double same = 0, diff = 0;
    int ns = 0, nd = 0;

    if (data == NULL)
        SKIP("DOPPEL_TESTDATA not set");
    if (!load_models())
        SKIP("no models folder (scripts/setup.sh)");
    for (int p = 0; p < 4; p++) {
        for (int k = 0; k < 3; k++) {
            char path[1024];
            double norm = 0;

            snprintf(path, sizeof path, "%s/faces/glint/%s/%03d.png", data, people[p], k + 1);
            REQUIRE(embed_file(path, &em[p][k]) == 0);
            for (int i = 0; i < em[p][k].dim; i++)
                norm += (double)em[p][k].v[i] * em[p][k].v[i];
            CHECK_NEAR(norm, 1.0, 1e-4);
            CHECK(em[p][k].age > 5 && em[p][k].age < 95);
            if (p == 0 && k == 0) {
                REQUIRE(embed_file(path, &again) == 0);
                CHECK(memcmp(again.v, em[0][0].v, sizeof again.v) == 0);
            }
        }
    }
    for (int p = 0; p < 4; p++)
        for (int q = 0; q < 4; q++)
            for (int a = 0; a < 3; a++)
                for (int b = 0; b < 3; b++) {
                    if (p == q && a >= b)
                        continue;
                    if (p == q)
                        same += embed_cosine(&em[p][a], &em[q][b]), ns++;
                    else
                        diff += embed_cosine(&em[p][a], &em[q][b]), nd++;
                }
    printf("    look cosine: same person %.3f, different people %.3f (means)\n", same / ns,
           diff / nd);
    CHECK(same / ns > diff / nd + 0.05);
    CHECK(em[0][0].female < 0.5f && em[2][0].female > 0.5f);
}

int main(int argc, char **argv)
{
    static const struct check_case cases[] = {
        {"sample_group_photos", test_sample_group_photos},
        {"rotated_photo", test_rotated_photo},
        {"shared_face_crops", test_shared_face_crops},
        {"look_embeddings", test_look_embeddings},
    };
    int rc;

    nn_blas_set_threads(1);
    rc = check_main("face", cases, sizeof cases / sizeof cases[0], argc, argv);

    embedder_free(emb);
    face_detector_free(det);
    return rc;
}
