/*
 * fs: the few file-system operations doppel needs, with size caps and error messages
 * that name the path.
 */
#ifndef DOPPEL_FS_H
#define DOPPEL_FS_H

#include "util/err.h"

#include <stddef.h>

enum fs_rc {
    FS_OK = 0,
    FS_ERR_OPEN,    /* missing, unreadable, or not a regular file */
    FS_ERR_READ,    /* I/O error while reading */
    FS_ERR_TOO_BIG, /* larger than the caller's cap */
    FS_ERR_MKDIR,   /* a directory could not be created */
};

/* Reads a whole regular file of at most max bytes into *data (NUL-terminated, so text
 * files can be used as strings) and its size into *len. Caller frees *data with free(). */
int fs_read_file(const char *path, size_t max, unsigned char **data, size_t *len, struct err *e);

/* Creates path and its missing parents (mode 0755); an existing directory is fine. */
int fs_mkdir_p(const char *path, struct err *e);

/* Returns 1 when path names a directory, else 0. */
int fs_is_dir(const char *path);

/* Returns 1 when path names a regular file, else 0. */
int fs_is_file(const char *path);

#endif
