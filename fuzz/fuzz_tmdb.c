/*
 * fuzz_tmdb: libFuzzer target over the TMDB response parsers (src/tmdb/parse.h), the
 * crawler's only readers of network bytes, and the choices made from what they return
 * (profiles, image sizes). The first byte picks the parser; the rest is the body.
 */
#include "tmdb/crawl.h"
#include "tmdb/parse.h"

#include <stddef.h>
#include <stdint.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void pick(const struct tmdb_images *im)
{
    static const struct tmdb_config cfg = {"https://x/", 4, {"w45", "w185", "h632", "original"}};
    int p[8];
    int n = crawl_pick_profiles(im->profiles, im->n, 5, 500, p);

    for (int i = 0; i < n; i++)
        crawl_pick_size(&cfg, im->profiles[p[i]].width, im->profiles[p[i]].height, 500);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *text = (const char *)data + 1;
    struct tmdb_people_page pp;
    struct tmdb_title_page tp;
    struct tmdb_credits cr;
    struct tmdb_images im;
    struct tmdb_config cfg;
    struct tmdb_error te;
    struct tmdb_person p;
    struct err e;

    if (size < 1)
        return 0;
    size--;
    switch (data[0] % 8) {
    case 0:
        tmdb_parse_people_page(text, size, &pp, &e);
        tmdb_people_page_release(&pp);
        break;
    case 1:
    case 2:
        tmdb_parse_title_page(text, size, data[0] % 8 == 1 ? TMDB_KIND_MOVIE : TMDB_KIND_TV, &tp,
                              &e);
        tmdb_title_page_release(&tp);
        break;
    case 3:
    case 4:
        tmdb_parse_credits(text, size, data[0] % 8 == 3 ? TMDB_KIND_MOVIE : TMDB_KIND_TV, &cr, &e);
        tmdb_credits_release(&cr);
        break;
    case 5:
        if (tmdb_parse_images(text, size, &im, &e) == TMDB_PARSE_OK)
            pick(&im);
        tmdb_images_release(&im);
        break;
    case 6:
        if (tmdb_parse_config(text, size, &cfg, &e) == TMDB_PARSE_OK)
            crawl_pick_size(&cfg, 1000, 1500, 500);
        break;
    default:
        tmdb_parse_error(text, size, &te, &e);
        tmdb_parse_export_line(text, size, &p, &e);
        break;
    }
    return 0;
}
