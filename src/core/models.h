/*
 * models: the third-party files doppel runs on (network weights, sample photos), as
 * pinned in scripts/models.lock, and the check that a models folder holds them intact.
 */
#ifndef DOPPEL_MODELS_H
#define DOPPEL_MODELS_H

#include <stddef.h>

struct models_file {
    const char *package; /* npm package@version it comes from */
    const char *source;  /* path inside the package */
    const char *path;    /* path under the models folder */
    const char *sha256;  /* pinned digest, lower-case hex */
};

enum models_state {
    MODELS_OK = 0,
    MODELS_MISSING,
    MODELS_ALTERED,
};

/* Returns the pinned files; *n receives their count. Borrowed, static. */
const struct models_file *models_files(size_t *n);

/* Checks one file under dir: MODELS_OK, MODELS_MISSING or MODELS_ALTERED; when got is
 * not NULL it receives the digest found (65 bytes, "" when missing). */
int models_check(const char *dir, const struct models_file *f, char *got);

#endif
