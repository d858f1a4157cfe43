/*
 * paths: resolution order is flag, environment, default, so scripts can pin folders
 * with variables and people can override them per command.
 */
#include "core/paths.h"

#include "util/fs.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifndef DOPPEL_SHAREDIR
#define DOPPEL_SHAREDIR "/usr/local/share/doppel"
#endif

static const char *nonempty(const char *s)
{
    return s != NULL && s[0] != '\0' ? s : NULL;
}

const char *paths_data_dir(const char *flag)
{
    if (nonempty(flag))
        return flag;
    if (nonempty(getenv("DOPPEL_DATA")))
        return getenv("DOPPEL_DATA");
    return PATHS_DATA_DEFAULT;
}

const char *paths_models_dir(const char *flag)
{
    if (nonempty(flag))
        return flag;
    if (nonempty(getenv("DOPPEL_MODELS")))
        return getenv("DOPPEL_MODELS");
    if (fs_is_dir("./models"))
        return "./models";
    return DOPPEL_SHAREDIR "/models";
}

int paths_join(char *out, size_t n, const char *dir, const char *name)
{
    int w;
    size_t dl = 0;

    while (dir[dl] != '\0')
        dl++;
    if (dl > 0 && dir[dl - 1] == '/')
        w = snprintf(out, n, "%s%s", dir, name);
    else
        w = snprintf(out, n, "%s/%s", dir, name);
    return w < 0 || (size_t)w >= n ? -1 : 0;
}

const char *paths_web_dir(const char *flag)
{
    static char built[4096];
    char exe[4000], css[4200];
    ssize_t n;
    char *slash;

    if (nonempty(flag))
        return flag;
    if (nonempty(getenv("DOPPEL_WEB")))
        return getenv("DOPPEL_WEB");
    if (fs_is_file("./web/style.css"))
        return "./web";
    n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    exe[n > 0 ? n : 0] = '\0';
    slash = strrchr(exe, '/');
    if (slash != NULL) {
        *slash = '\0';
        snprintf(built, sizeof built, "%s/../../web", exe);
        snprintf(css, sizeof css, "%s/style.css", built);
        if (fs_is_file(css))
            return built;
    }
    return DOPPEL_SHAREDIR "/web";
}
