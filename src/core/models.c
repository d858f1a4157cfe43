/*
 * models: the table is generated at build time from scripts/models.lock (the file the
 * set-up script fetches by), so the binary and the script can never disagree.
 */
#include "core/models.h"

#include "core/paths.h"
#include "util/sha256.h"

#include <string.h>

static const struct models_file models_table[] = {
#include "models_lock.inc"
};

const struct models_file *models_files(size_t *n)
{
    *n = sizeof models_table / sizeof models_table[0];
    return models_table;
}

int models_check(const char *dir, const struct models_file *f, char *got)
{
    char path[4096], hex[SHA256_HEX_LEN + 1];

    if (got != NULL)
        got[0] = '\0';
    if (paths_join(path, sizeof path, dir, f->path) != 0)
        return MODELS_MISSING;
    if (sha256_file_hex(path, hex) != 0)
        return MODELS_MISSING;
    if (got != NULL)
        memcpy(got, hex, sizeof hex);
    return strcmp(hex, f->sha256) == 0 ? MODELS_OK : MODELS_ALTERED;
}
