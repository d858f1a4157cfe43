/*
 * tmdb/parse: TMDB API v3 responses into plain structs, for the crawler.
 *
 * Every byte here comes from the network, so nothing is trusted: the text is parsed by
 * jansson (which rejects invalid UTF-8 and NUL escapes), every field the crawler uses is
 * checked for its type and range, strings are cut (on a UTF-8 boundary) to the size the
 * catalogue stores, arrays are read up to a fixed cap, and image file paths must look
 * like TMDB's ("/" then letters, digits, '.', '_' or '-', ending .jpg or .png), since
 * they become file names and URLs. A wrong type or a value out of range in a field the
 * crawler needs (an id) rejects the entry; in a field it can do without (popularity,
 * a date) it reads as unknown. A response whose top level is wrong is an error.
 *
 * Results are caller-owned structs; the arrays in them are freed by the matching
 * tmdb_*_release, which accepts a zeroed struct.
 */
#ifndef DOPPEL_TMDB_PARSE_H
#define DOPPEL_TMDB_PARSE_H

#include "util/err.h"

#include <stddef.h>
#include <stdint.h>

enum tmdb_parse_rc {
    TMDB_PARSE_OK = 0,
    TMDB_PARSE_ERR_JSON,  /* not JSON, or JSON of the wrong shape */
    TMDB_PARSE_ERR_RANGE, /* a required value out of range */
};

#define TMDB_NAME_MAX   512 /* bytes of a name or a title, NUL included */
#define TMDB_TEXT_MAX   128 /* bytes of a character or a department */
#define TMDB_PATH_MAX   128 /* bytes of an image file path */
#define TMDB_URL_MAX    512 /* bytes of an image base URL */
#define TMDB_ID_MAX     2000000000LL
#define TMDB_PAGE_MAX   1000000 /* total_pages accepted (the API serves at most 500) */
#define TMDB_LIST_MAX   1000    /* entries read from a page of results */
#define TMDB_CAST_MAX   10000   /* cast entries read from one title's credits */
#define TMDB_KNOWN_MAX  10      /* known_for entries read per person */
#define TMDB_IMAGES_MAX 500     /* profiles read per person */
#define TMDB_SIZES_MAX  16      /* image sizes read from /configuration */

enum tmdb_kind {
    TMDB_KIND_UNKNOWN = 0,
    TMDB_KIND_MOVIE,
    TMDB_KIND_TV,
};

/* A title as lists and known_for give it. */
struct tmdb_title {
    int64_t id;
    int kind; /* enum tmdb_kind */
    char title[TMDB_NAME_MAX];
    int year; /* 0 = unknown */
    double popularity;
};

/* A person as /person/popular, the credits and the daily export give them. */
struct tmdb_person {
    int64_t id;
    char name[TMDB_NAME_MAX];
    double popularity;
    int gender;                     /* 0..3, 0 = unknown */
    int adult;                      /* 1 when flagged adult */
    char department[TMDB_TEXT_MAX]; /* known_for_department, "" = unknown */
    char character[TMDB_TEXT_MAX];  /* in credits: the part played, "" = unknown */
    int order;                      /* in credits: billing from 0, -1 = unknown */
    int episodes;                   /* in TV credits: episodes, 0 = unknown */
    int nknown;
    struct tmdb_title known[TMDB_KNOWN_MAX];
};

/* A page of /person/popular. */
struct tmdb_people_page {
    int page, total_pages;
    int n;
    struct tmdb_person *people; /* n entries, owned */
};

/* A page of /movie/top_rated, /tv/top_rated or /discover/{movie,tv}. */
struct tmdb_title_page {
    int page, total_pages;
    int n;
    struct tmdb_title *titles; /* n entries, owned */
};

/* The cast of /movie/{id}/credits or /tv/{id}/aggregate_credits. */
struct tmdb_credits {
    int64_t id; /* the title's */
    int n;
    struct tmdb_person *cast; /* n entries, owned */
};

struct tmdb_image {
    char file_path[TMDB_PATH_MAX];
    int width, height;
    double vote_average;
    int vote_count;
};

/* The profiles of /person/{id}/images, in the response's order. */
struct tmdb_images {
    int64_t id;
    int n;
    struct tmdb_image *profiles; /* n entries, owned */
};

/* The image part of /configuration. */
struct tmdb_config {
    char base_url[TMDB_URL_MAX]; /* images.secure_base_url, ending in '/' */
    int nsizes;
    char sizes[TMDB_SIZES_MAX][16]; /* profile_sizes, then poster_sizes not among them:
                                       "w45", "h632", "w500", "original" */
};

/* TMDB's error body: {"status_code": 34, "status_message": "..."}. */
struct tmdb_error {
    int code; /* 0 = none given */
    char message[256];
};

/* Each parser reads the JSON text (n bytes) into out; returns an enum tmdb_parse_rc with
 * e set on error. kind is the list's enum tmdb_kind where a response does not say. */
int tmdb_parse_people_page(const char *text, size_t n, struct tmdb_people_page *out, struct err *e);
int tmdb_parse_title_page(const char *text, size_t n, int kind, struct tmdb_title_page *out,
                          struct err *e);
int tmdb_parse_credits(const char *text, size_t n, int kind, struct tmdb_credits *out,
                       struct err *e);
int tmdb_parse_images(const char *text, size_t n, struct tmdb_images *out, struct err *e);
int tmdb_parse_config(const char *text, size_t n, struct tmdb_config *out, struct err *e);
int tmdb_parse_error(const char *text, size_t n, struct tmdb_error *out, struct err *e);

/* Reads one line of the daily person_ids export ({"id":..,"name":..,"popularity":..,
 * "adult":..}) into out. */
int tmdb_parse_export_line(const char *text, size_t n, struct tmdb_person *out, struct err *e);

/* Returns 1 when path is a file path TMDB's image CDN serves (see above), else 0. */
int tmdb_path_ok(const char *path);

/* Free the arrays of each result; p may be NULL or zeroed. */
void tmdb_people_page_release(struct tmdb_people_page *p);
void tmdb_title_page_release(struct tmdb_title_page *p);
void tmdb_credits_release(struct tmdb_credits *c);
void tmdb_images_release(struct tmdb_images *im);

#endif
