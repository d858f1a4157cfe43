/* Tests for util/fs and core/paths: capped reads, directory creation, folder choice. */
#include "check.h"

#include "core/paths.h"
#include "util/fs.h"

#include <stdio.h>
#include <stdlib.h>

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "wb");

    if (f == NULL)
        return;
    fputs(text, f);
    fclose(f);
}

static void test_read(void)
{
    static const struct {
        const char *content;
        size_t max;
        int want;
    } cases[] = {
        {"hello", 100, FS_OK}, {"hello", 5, FS_OK}, {"hello", 4, FS_ERR_TOO_BIG}, {"", 0, FS_OK},
    };
    char path[512];

    snprintf(path, sizeof path, "%s/f.txt", check_tmpdir());
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        unsigned char *data;
        size_t len;
        struct err e;

        write_file(path, cases[i].content);
        CHECK_INT(fs_read_file(path, cases[i].max, &data, &len, &e), cases[i].want);
        if (cases[i].want == FS_OK) {
            CHECK_INT(len, strlen(cases[i].content));
            CHECK_STR((char *)data, cases[i].content);
        } else {
            CHECK(data == NULL);
            CHECK(strstr(e.msg, "limit") != NULL);
        }
        free(data);
    }
}

static void test_read_errors(void)
{
    unsigned char *data;
    size_t len;
    struct err e;

    CHECK_INT(fs_read_file("/nonexistent/x", 10, &data, &len, &e), FS_ERR_OPEN);
    CHECK(strstr(e.msg, "/nonexistent/x") != NULL);
    CHECK_INT(fs_read_file(check_tmpdir(), 10, &data, &len, &e), FS_ERR_OPEN);
    CHECK(strstr(e.msg, "not a regular file") != NULL);
}

static void test_mkdir_p(void)
{
    char path[512], file[512];
    struct err e;

    snprintf(path, sizeof path, "%s/a/b/c", check_tmpdir());
    CHECK_INT(fs_mkdir_p(path, &e), FS_OK);
    CHECK(fs_is_dir(path));
    CHECK_INT(fs_mkdir_p(path, &e), FS_OK);
    snprintf(file, sizeof file, "%s/a/file", check_tmpdir());
    write_file(file, "x");
    CHECK(fs_is_file(file));
    CHECK_INT(fs_mkdir_p(file, &e), FS_ERR_MKDIR);
    CHECK_INT(fs_mkdir_p("", &e), FS_ERR_MKDIR);
}

static void test_paths(void)
{
    char out[16];

    setenv("DOPPEL_DATA", "/srv/doppel", 1);
    CHECK_STR(paths_data_dir(NULL), "/srv/doppel");
    CHECK_STR(paths_data_dir("mine"), "mine");
    setenv("DOPPEL_DATA", "", 1);
    CHECK_STR(paths_data_dir(NULL), PATHS_DATA_DEFAULT);
    unsetenv("DOPPEL_DATA");
    CHECK_STR(paths_data_dir(""), PATHS_DATA_DEFAULT);
    setenv("DOPPEL_MODELS", "/opt/m", 1);
    CHECK_STR(paths_models_dir(NULL), "/opt/m");
    CHECK_INT(paths_join(out, sizeof out, "a", "b"), 0);
    CHECK_STR(out, "a/b");
    CHECK_INT(paths_join(out, sizeof out, "a/", "b"), 0);
    CHECK_STR(out, "a/b");
    CHECK_INT(paths_join(out, sizeof out, "a-long-folder", "name"), -1);
}

int main(int argc, char **argv)
{
    static const struct check_case cases[] = {
        {"read", test_read},
        {"read_errors", test_read_errors},
        {"mkdir_p", test_mkdir_p},
        {"paths", test_paths},
    };

    return check_main("fs", cases, sizeof cases / sizeof cases[0], argc, argv);
}
