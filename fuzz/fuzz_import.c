/*
 * fuzz_import: libFuzzer target over the parsers of files people hand to `doppel import`
 * and `doppel titles import`: the CSV reader, photo manifests (CSV and JSON lines) and
 * title lists with a cast column. The first byte picks the parser; the rest is the file.
 */
#include "catalog/source.h"
#include "catalog/titles.h"
#include "util/csv.h"

#include <stddef.h>
#include <stdint.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Every row handed out must keep the parser's promises. */
static int check_title(void *ctx, const struct titles_row *r, struct err *e)
{
    (void)ctx;
    (void)e;
    if (r->ncast < 0 || r->ncast > TITLES_CAST_MAX || r->year < 0 || r->kind < 0 ||
        r->kind > CATALOG_TITLE_TV || strlen(r->title) > CSV_RECORD_MAX)
        __builtin_trap();
    for (int i = 0; i < r->ncast; i++) {
        if (r->cast[i][0] == '\0')
            __builtin_trap();
    }
    return 0;
}

static void fuzz_manifest(const char *text, size_t n, enum source_format f)
{
    struct source s;
    struct err e;

    source_init(&s);
    source_parse_manifest(&s, text, n, f, "/base", &e);
    for (size_t i = 0; i < s.n; i++) {
        if (s.rows[i].name[0] == '\0' || (s.rows[i].photo == NULL) == (s.rows[i].url == NULL))
            __builtin_trap();
    }
    source_release(&s);
}

static void fuzz_csv(const char *text, size_t n)
{
    struct csv c;
    struct err e;
    size_t bytes = 0;

    csv_init(&c, text, n, 0);
    while (csv_next(&c, &e) == CSV_OK) {
        if (csv_count(&c) < 1 || csv_count(&c) > CSV_FIELDS_MAX)
            __builtin_trap();
        for (size_t i = 0; i < csv_count(&c); i++)
            bytes += strlen(csv_field(&c, i));
        if (bytes > n)
            __builtin_trap();
        bytes = 0;
    }
    csv_release(&c);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct err e;

    if (size < 1)
        return 0;
    switch (data[0] & 3) {
    case 0:
        fuzz_csv((const char *)data + 1, size - 1);
        break;
    case 1:
        fuzz_manifest((const char *)data + 1, size - 1, SOURCE_CSV);
        break;
    case 2:
        fuzz_manifest((const char *)data + 1, size - 1, SOURCE_JSONL);
        break;
    default:
        titles_parse((const char *)data + 1, size - 1, check_title, NULL, &e);
        break;
    }
    return 0;
}
