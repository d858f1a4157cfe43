/*
 * paths: where doppel reads and writes. The data folder (catalogue, photos, indexes)
 * comes from --data, else DOPPEL_DATA, else ./doppel-data; doppel writes nowhere else.
 * The models folder comes from --models, else DOPPEL_MODELS, else ./models when it
 * exists, else the installed share folder.
 */
#ifndef DOPPEL_PATHS_H
#define DOPPEL_PATHS_H

#include <stddef.h>

#define PATHS_DATA_DEFAULT "./doppel-data"

/* Returns the data folder chosen by flag (may be NULL) and the environment; borrowed
 * from flag, the environment or a static string. */
const char *paths_data_dir(const char *flag);

/* Returns the models folder chosen by flag (may be NULL) and the environment; borrowed
 * likewise. */
const char *paths_models_dir(const char *flag);

/* Returns the web assets folder: flag, else DOPPEL_WEB, else ./web when it holds
 * style.css, else the web folder of the source tree the running binary was built in
 * (build/<mode>/doppel), else the installed share folder. Borrowed or static. */
const char *paths_web_dir(const char *flag);

/* Joins dir and name with one '/' into out (n bytes). Returns 0, or -1 if truncated. */
int paths_join(char *out, size_t n, const char *dir, const char *name);

#endif
