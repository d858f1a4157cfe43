/*
 * image: `doppel image info FILE... [--json]`, a quick check of what doppel makes of a
 * photo: format, stored and displayed size, EXIF orientation, and whether it decodes.
 */
#include "cli/cli.h"

#include "img/image.h"
#include "util/clock.h"
#include "util/fs.h"

#include <getopt.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

/* Probes and decodes one file; returns a JSON object describing it (new reference). */
static json_t *image_describe(const char *path)
{
    struct img_info info;
    struct image im;
    struct err e = {{0}};
    unsigned char *data;
    size_t n;
    double t0;
    int rc = fs_read_file(path, IMG_MAX_BYTES_DEFAULT, &data, &n, &e);

    if (rc != FS_OK)
        return json_pack("{s:s, s:b, s:s, s:s}", "file", path, "ok", 0, "error",
                         rc == FS_ERR_TOO_BIG ? "too_big" : "io", "message", e.msg);
    rc = img_probe(data, n, NULL, &info, &e);
    if (rc != IMG_OK) {
        free(data);
        return json_pack("{s:s, s:b, s:s, s:s}", "file", path, "ok", 0, "error",
                         img_rc_name(rc), "message", e.msg);
    }
    t0 = clock_now();
    rc = img_decode(data, n, NULL, &im, &e);
    free(data);
    img_release(&im);
    return json_pack("{s:s, s:b, s:s, s:I, s:i, s:i, s:i, s:i, s:i, s:b, s:f, s:s?, s:s?}",
                     "file", path, "ok", rc == IMG_OK, "format", img_format_name(info.format),
                     "bytes", (json_int_t)n, "width", info.w, "height", info.h, "orientation",
                     info.orientation, "display_width", info.display_w, "display_height",
                     info.display_h, "alpha", info.has_alpha, "decode_ms",
                     (clock_now() - t0) * 1e3, "error", rc == IMG_OK ? NULL : img_rc_name(rc),
                     "message", rc == IMG_OK ? NULL : e.msg);
}

static void image_print(const json_t *o)
{
    const char *file = json_string_value(json_object_get(o, "file"));

    if (json_object_get(o, "format") == NULL) {
        printf("%s: error (%s): %s\n", file, json_string_value(json_object_get(o, "error")),
               json_string_value(json_object_get(o, "message")));
        return;
    }
    printf("%s: %s, %lld bytes, %lld x %lld, orientation %lld (shown %lld x %lld)%s, ", file,
           json_string_value(json_object_get(o, "format")),
           json_integer_value(json_object_get(o, "bytes")),
           json_integer_value(json_object_get(o, "width")),
           json_integer_value(json_object_get(o, "height")),
           json_integer_value(json_object_get(o, "orientation")),
           json_integer_value(json_object_get(o, "display_width")),
           json_integer_value(json_object_get(o, "display_height")),
           json_is_true(json_object_get(o, "alpha")) ? ", alpha" : "");
    if (json_is_true(json_object_get(o, "ok")))
        printf("decodes in %.1f ms\n", json_real_value(json_object_get(o, "decode_ms")));
    else
        printf("does not decode (%s): %s\n", json_string_value(json_object_get(o, "error")),
               json_string_value(json_object_get(o, "message")));
}

static int image_info(int argc, char **argv, int json)
{
    json_t *all = json_array();
    int failed = 0;

    for (int i = 0; i < argc; i++) {
        json_t *o = image_describe(argv[i]);

        failed += !json_is_true(json_object_get(o, "ok"));
        if (!json)
            image_print(o);
        json_array_append_new(all, o);
    }
    if (json)
        cli_print_json(all);
    else
        json_decref(all);
    return failed ? CLI_EXIT_FAIL : CLI_EXIT_OK;
}

static int image_run(struct cli *cli, const struct cli_command *self, int argc, char **argv)
{
    int json, rc = cli_parse_json_only(self, argc, argv, 1, &json);

    (void)cli;
    if (rc >= 0)
        return rc;
    if (optind >= argc)
        return cli_usage_error(self, "image needs an action");
    if (strcmp(argv[optind], "info") != 0)
        return cli_usage_error(self, "unknown action '%s'", argv[optind]);
    if (optind + 1 >= argc)
        return cli_usage_error(self, "image info needs at least one FILE");
    return image_info(argc - optind - 1, argv + optind + 1, json);
}

const struct cli_command cli_cmd_image = {
    .name = "image",
    .summary = "describe photos: format, size, orientation, whether they decode",
    .usage = "usage: doppel image info FILE... [--json]\n"
             "\n"
             "For each FILE: the format (sniffed from its bytes), the stored size, the\n"
             "EXIF orientation and the size once turned upright, and whether it decodes\n"
             "completely within doppel's limits (25 MB, 40 megapixels). Exit status 1 when\n"
             "any file does not decode.\n"
             "\n"
             "Options:\n"
             "  --json    machine-readable output (an array, one object per file)\n"
             "  -h, --help\n",
    .run = image_run,
};
