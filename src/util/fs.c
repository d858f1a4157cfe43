/*
 * fs: reads check the size from fstat before allocating, then read until EOF so a file
 * that grows or shrinks meanwhile is still handled without overrun.
 */
#include "util/fs.h"

#include "util/xalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Reads exactly up to cap bytes from fd into p; returns bytes read or -1. */
static ssize_t read_all(int fd, unsigned char *p, size_t cap)
{
    size_t got = 0;

    while (got < cap) {
        ssize_t n = read(fd, p + got, cap - got);

        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -1;
        if (n == 0)
            break;
        got += (size_t)n;
    }
    return (ssize_t)got;
}

int fs_read_file(const char *path, size_t max, unsigned char **data, size_t *len, struct err *e)
{
    struct stat st;
    unsigned char *p = NULL;
    ssize_t n;
    int rc = FS_OK, fd = open(path, O_RDONLY | O_CLOEXEC);

    *data = NULL;
    *len = 0;
    if (fd < 0) {
        err_set(e, "%s: %s", path, strerror(errno));
        return FS_ERR_OPEN;
    }
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        err_set(e, "%s: not a regular file", path);
        rc = FS_ERR_OPEN;
        goto out;
    }
    if ((unsigned long long)st.st_size > max) {
        err_set(e, "%s: %lld bytes, more than the limit of %zu", path, (long long)st.st_size,
                max);
        rc = FS_ERR_TOO_BIG;
        goto out;
    }
    p = xmalloc((size_t)st.st_size + 2);
    n = read_all(fd, p, (size_t)st.st_size + 1);
    if (n < 0) {
        err_set(e, "%s: %s", path, strerror(errno));
        rc = FS_ERR_READ;
        goto out;
    }
    if ((size_t)n > (size_t)st.st_size) {
        err_set(e, "%s: file grew while being read", path);
        rc = FS_ERR_TOO_BIG;
        goto out;
    }
    p[n] = '\0';
    *data = p;
    *len = (size_t)n;
    p = NULL;
out:
    free(p);
    close(fd);
    return rc;
}

int fs_mkdir_p(const char *path, struct err *e)
{
    char *tmp;
    int rc = FS_OK;

    if (path[0] == '\0') {
        err_set(e, "empty directory name");
        return FS_ERR_MKDIR;
    }
    tmp = xstrdup(path);
    for (char *s = tmp + 1; ; s++) {
        int end = *s == '\0';

        if (*s != '/' && !end)
            continue;
        *s = '\0';
        if (mkdir(tmp, 0755) != 0 && errno != EEXIST) {
            err_set(e, "cannot create %s: %s", tmp, strerror(errno));
            rc = FS_ERR_MKDIR;
            goto out;
        }
        if (end)
            break;
        *s = '/';
    }
    if (!fs_is_dir(path)) {
        err_set(e, "%s exists and is not a directory", path);
        rc = FS_ERR_MKDIR;
    }
out:
    free(tmp);
    return rc;
}

int fs_is_dir(const char *path)
{
    struct stat st;

    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

int fs_is_file(const char *path)
{
    struct stat st;

    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}
