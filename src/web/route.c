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
    return strcmp(r->method, method) == 0 ||
           (strcmp(method, "GET") == 0 && strcmp(r->method, "HEAD") == 0);
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

    if (strcmp(p, "/api/query") == 0 && is(r, "POST"))
        web_api_query(r, resp);
    else if (strcmp(p, "/api/query") == 0 || !is(r, "GET"))
        not_allowed(r, resp, 1);
    else if (strcmp(p, "/api/search") == 0)
        web_api_search(r, resp);
    else if (strcmp(p, "/api/titles") == 0)
        web_api_titles(r, resp);
    else if (match_id(p, "/api/similar/", "", &id))
        web_api_similar(r, resp, id);
    else if (match_id(p, "/api/titles/", "/cast", &id))
        web_api_cast(r, resp, id);
    else if (match_id(p, "/api/people/", "", &id))
        web_api_person(r, resp, id);
    else
        web_api_error(resp, 404, "no such API route");
}

/* The pages; GET (and HEAD) only, but for POST /photo. */
static void route_page(struct web_req *r, struct web_resp *resp)
{
    const char *p = r->path;
    int64_t id;

    if (strcmp(p, "/") == 0)
        web_page_home(r, resp);
    else if (strcmp(p, "/search") == 0)
        web_page_search(r, resp);
    else if (strcmp(p, "/about") == 0)
        web_page_about(r, resp);
    else if (match_id(p, "/actor/", "", &id))
        web_page_actor(r, resp, id);
    else if (match_id(p, "/title/", "", &id))
        web_page_title(r, resp, id);
    else if (match_id(p, "/img/person/", "", &id))
        web_photo_serve(r, resp, id);
    else
        web_page_error(r, resp, 404, "there is no page at this address");
}

void web_route(struct web_req *r, struct web_resp *resp)
{
    int photo = strcmp(r->path, "/photo") == 0;

    if (strncmp(r->path, "/api/", 5) == 0)
        route_api(r, resp);
    else if (photo && is(r, "POST"))
        web_page_photo(r, resp);
    else if (photo && is(r, "GET"))
        web_page_photo_form(r, resp);
    else if (!is(r, "GET"))
        not_allowed(r, resp, 0);
    else
        route_page(r, resp);
}
