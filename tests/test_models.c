/* Tests for core/models: the table generated from scripts/models.lock, and the check of a
 * models folder (the real one when set up, and a tampered copy). */
#include "check.h"

#include "core/models.h"
#include "core/paths.h"
#include "util/fs.h"

#include <stdio.h>
#include <stdlib.h>

static void test_table(void)
{
    size_t n;
    const struct models_file *f = models_files(&n);
    int blazeface = 0, faceres = 0, dlib = 0;

    CHECK(n >= 20);
    for (size_t i = 0; i < n; i++) {
        CHECK_INT(strlen(f[i].sha256), 64);
        CHECK(strchr(f[i].package, '@') != NULL);
        blazeface += strcmp(f[i].path, "human-models/blazeface.json") == 0;
        faceres += strcmp(f[i].path, "human-models/faceres.bin") == 0;
        dlib += strcmp(f[i].path, "face-api/face_recognition_model.bin") == 0;
    }
    CHECK(blazeface == 1 && faceres == 1 && dlib == 1);
}

static void test_real_folder(void)
{
    const char *dir = check_models();
    size_t n;
    const struct models_file *f = models_files(&n);

    if (dir == NULL)
        SKIP("no models folder; run scripts/setup.sh --models");
    for (size_t i = 0; i < n; i++) {
        char got[65];
        int st = models_check(dir, &f[i], got);

        if (st != MODELS_OK)
            check_fail(__FILE__, __LINE__, "%s/%s: state %d, sha %s", dir, f[i].path, st, got);
    }
}

static void test_tampered(void)
{
    const struct models_file file = {"pkg@1", "x", "sub/weights.bin",
                                     "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"};
    char dir[512], path[600], got[65];
    struct err e;
    FILE *f;

    snprintf(dir, sizeof dir, "%s/models", check_tmpdir());
    CHECK_INT(models_check(dir, &file, got), MODELS_MISSING);
    CHECK_STR(got, "");
    snprintf(path, sizeof path, "%s/sub", dir);
    REQUIRE(fs_mkdir_p(path, &e) == FS_OK);
    snprintf(path, sizeof path, "%s/sub/weights.bin", dir);
    f = fopen(path, "wb");
    REQUIRE(f != NULL);
    fputs("abc", f);
    fclose(f);
    CHECK_INT(models_check(dir, &file, got), MODELS_OK);
    f = fopen(path, "wb");
    REQUIRE(f != NULL);
    fputs("abd", f);
    fclose(f);
    CHECK_INT(models_check(dir, &file, got), MODELS_ALTERED);
    CHECK(strcmp(got, file.sha256) != 0 && strlen(got) == 64);
}

int main(int argc, char **argv)
{
    static const struct check_case cases[] = {
        {"table", test_table},
        {"real_folder", test_real_folder},
        {"tampered", test_tampered},
    };

    return check_main("models", cases, sizeof cases / sizeof cases[0], argc, argv);
}
