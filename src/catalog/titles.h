/*
 * titles: "known for" labels without TMDB, from title lists with a cast column.
 *
 * A catalogue built from folders of photos knows names and nothing else; a list of
 * titles with their casts (a streaming catalogue export, an IMDb table) links those
 * names to what they were in. The file is CSV (comma, semicolon or tab, found from the
 * header) with a header naming its columns: a title (title, movie_title, primaryTitle),
 * optionally a year (year, release_year, title_year, startYear) and a type (type, kind,
 * titleType: "Movie", "TV Show", "tvSeries" ...), and the cast, either one column of
 * names separated by commas or bars (cast, actors, stars) or one column per actor
 * (actor_1_name, actor_2_name, actor_3_name). Cast names are matched to people by their
 * normalised form (names/normalize.h), so "Penelope Cruz" in a title list finds
 * "Penélope Cruz" in the catalogue; billing order becomes the credit's order. Every title
 * is stored, linked or not, so people added later can be linked by importing again;
 * importing a file twice adds nothing.
 */
#ifndef DOPPEL_TITLES_H
#define DOPPEL_TITLES_H

#include "catalog/catalog.h"
#include "util/err.h"

#include <stddef.h>

enum titles_rc {
    TITLES_OK = 0,
    TITLES_ERR_FORMAT,  /* no header, no title or cast column, or malformed CSV */
    TITLES_ERR_CATALOG, /* the catalogue refused a write */
};

#define TITLES_CAST_MAX 100 /* names kept per title; the rest are ignored */

/* One row of a title list; every pointer is borrowed for the callback only. */
struct titles_row {
    const char *title; /* trimmed; may be "" (the row is then best skipped) */
    int year;          /* 0 = unknown */
    int kind;          /* enum catalog_title_kind */
    const char *cast[TITLES_CAST_MAX];
    int ncast;
    long line;
};

struct titles_stats {
    long rows;        /* data rows read */
    long skipped;     /* rows without a usable title */
    long titles_new;  /* titles the catalogue did not have */
    long credits;     /* cast names that matched a person */
    long credits_new; /* of those, credits the catalogue did not have */
};

/* Calls fn for every data row of the title list in text (n bytes); fn returns 0 to go on
 * or a titles_rc to stop with (its e saying why). Returns TITLES_OK, TITLES_ERR_FORMAT or
 * fn's value. */
int titles_parse(const char *text, size_t n,
                 int (*fn)(void *ctx, const struct titles_row *row, struct err *e), void *ctx,
                 struct err *e);

/* Stores every title of the list in text and links its cast to people of c, in
 * transactions of a few thousand rows; st receives the counts. Returns a titles_rc. */
int titles_import(struct catalog *c, const char *text, size_t n, struct titles_stats *st,
                  struct err *e);

/* Links person_id to each title in list (separated by ';' or '|'), adding the titles
 * that are missing (kind and year unknown); names that are not titles (no letter or
 * digit, bad UTF-8) are skipped. Returns a catalog_rc. */
int titles_add_known_for(struct catalog *c, int64_t person_id, const char *list, struct err *e);

/* Returns the title kind a type column's value names: "Movie", "film", "tvMovie" ->
 * movie; "TV Show", "tvSeries", "tv" -> tv; anything else unknown. */
int titles_parse_kind(const char *s);

/* Returns the year at the start of s ("2009", "2009-05-01"), 0 when there is none. */
int titles_parse_year(const char *s);

#endif
