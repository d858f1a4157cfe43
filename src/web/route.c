/*
 * route: from a method and a path to a page, an API answer or an error. The table is
 * small and fixed; ids in paths are whole decimal numbers, anything else is a 404.
 */
#include "web/priv.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

const char *web_req_arg(const struct web_req *r, const char *name)
{
    return r->arg != NULL ? r->arg(r->ctx, name) : NULL;
}

int web_parse_id(const char *s, int64_t *out)
{
    char *end;
    long long v;

    if (s == NULL || *s < '0' || *s > '9' || strlen(s) > 18)
        return -1;
    errno = 0;
    v = strtoll(s, &end, 10);
    if (errno != 0 || *end != '\0' || v < 1)
        return -1;
    *out = v;
    return 0;
}

int web_parse_k(const struct web_req *r, int def, int max)
{
    const char *s = web_req_arg(r, "k");
    int64_t k;

    if (s == NULL || *s == '\0')
        return def;
    if (web_parse_id(s, &k) != 0)
        return -1;
    return k > max ? max : (int)k;
}

int web_status_of(int search_rc)
{
    switch (search_rc) {
    case SEARCH_OK:
        return 200;
    case SEARCH_NOT_FOUND:
        return 404;
    case SEARCH_ERR_INPUT:
        return 400;
    case SEARCH_ERR_INDEX:
    case SEARCH_ERR_MODEL:
        return 503;
    default:
        return 500;
    }
}

/* Matches path against prefix + an id + suffix ("/api/titles/" 42 "/cast"). */
static int match_id(const char *path, const char *prefix, const char *suffix, int64_t *id)
{
    size_t np = strlen(prefix), ns = strlen(suffix), n = strlen(path);
    char digits[24];

    if (n <= np + ns || strncmp(path, prefix, np) != 0 || strcmp(path + n - ns, suffix) != 0 ||
        n - np - ns >= sizeof digits)
        return 0;
    memcpy(digits, path + np, n - np - ns);
    digits[n - np - ns] = '\0';
    return web_parse_id(digits, id) == 0;
}

static int is(const struct web_req *r, const char *method)
{
    return strcmp(r->method, method) == 0 || (strcmp(method, "GET") == 0 &&
                                              strcmp(r->method, "HEAD") == 0);
}

static void not_allowed(struct web_req *r, struct web_resp *resp, int api)
{
    if (api)
        web_api_error(resp, 405, "method not allowed");
    else
        web_page_error(r, resp, 405, "method not allowed");
}

/* The JSON API under /api/. */
static void route_api(struct web_req *r, struct web_resp *resp)
{
    const char *p = r->path;
    int64_t id;

    if (strcmp(p, "/api/query") == 0) {
        if (!is(r, "POST"))
            return not_allowed(r, resp, 1);
        return web_api_query(r, resp);
    }
    if (!is(r, "GET"))
        return not_allowed(r, resp, 1);
    if (strcmp(p, "/api/search") == 0)
        return web_api_search(r, resp);
    if (strcmp(p, "/api/titles") == 0)
        return web_api_titles(r, resp);
    if (match_id(p, "/api/similar/", "", &id))
        return web_api_similar(r, resp, id);
    if (match_id(p, "/api/titles/", "/cast", &id))
        return web_api_cast(r, resp, id);
    if (match_id(p, "/api/people/", "", &id))
        return web_api_person(r, resp, id);
    web_api_error(resp, 404, "no such API route");
}

void web_route(struct web_req *r, struct web_resp *resp)
{
    const char *p = r->path;
    int64_t id;

    if (strncmp(p, "/api/", 5) == 0)
        return route_api(r, resp);
    if (strcmp(p, "/photo") == 0) {
        if (is(r, "POST"))
            return web_page_photo(r, resp);
        if (is(r, "GET"))
            return web_page_photo_form(r, resp);
        return not_allowed(r, resp, 0);
    }
    if (!is(r, "GET"))
        return not_allowed(r, resp, 0);
    if (strcmp(p, "/") == 0)
        return web_page_home(r, resp);
    if (strcmp(p, "/search") == 0)
        return web_page_search(r, resp);
    if (strcmp(p, "/about") == 0)
        return web_page_about(r, resp);
    if (match_id(p, "/actor/", "", &id))
        return web_page_actor(r, resp, id);
    if (match_id(p, "/title/", "", &id))
        return web_page_title(r, resp, id);
    if (match_id(p, "/img/person/", "", &id))
        return web_photo_serve(r, resp, id);
    web_page_error(r, resp, 404, "there is no page at this address");
}
