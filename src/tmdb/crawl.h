/*
 * tmdb/crawl: the crawler's jobs, from TMDB's API straight into the catalogue.
 *
 * A crawl runs for days, so every job is resumable and every unit of work commits with
 * its bookmark in one transaction: a page of a list (its people or titles, and the page
 * number reached under "<job>.page"), one title's cast (its credits, and the title's
 * item of the "credits.movie"/"credits.tv" queue marked done), one person's photos (the
 * files written first, then the "images" item marked done and an "embed" item queued).
 * A kill at any moment loses at most the units in flight, and redoing one changes
 * nothing, since every write is an upsert keyed by TMDB ids. SIGINT (the stop flag)
 * lets the requests in flight finish, commits what they completed, and stops.
 *
 * Jobs and their calls (all through tmdb/client.h):
 *   popular   /person/popular pages -> people (+ known_for titles), queued for images
 *   top_rated /movie/top_rated, /tv/top_rated pages -> titles, queued for credits
 *   discover  /discover/movie and /discover/tv per year (and per sort order with deep,
 *             to get past the 500-page cap) -> titles, queued for credits
 *   credits   the credits queues: /movie/{id}/credits, /tv/{id}/aggregate_credits ->
 *             people and credits (character, order, episodes), people queued for images
 *   exports   TMDB's daily person_ids export (gzip, a JSON object per line) -> people
 *   images    the images queue: /configuration once, /person/{id}/images, then the
 *             best-voted profiles (up to max_photos, at least min_width wide where TMDB
 *             has them) and a 185 px one for display, saved under photo_dir/<tmdb id>/
 */
#ifndef DOPPEL_TMDB_CRAWL_H
#define DOPPEL_TMDB_CRAWL_H

#include "catalog/catalog.h"
#include "tmdb/client.h"
#include "tmdb/parse.h"
#include "util/err.h"

#include <signal.h>

enum crawl_rc {
    CRAWL_OK = 0,
    CRAWL_ERR_NET,     /* the network kept failing; run again to resume */
    CRAWL_ERR_AUTH,    /* TMDB refused the key (401) */
    CRAWL_ERR_CATALOG, /* the catalogue refused a write */
    CRAWL_ERR_STOPPED, /* stopped through the stop flag; run again to resume */
    CRAWL_ERR_INPUT,   /* a bad argument or export file */
    CRAWL_ERR_IO,      /* a photo could not be written */
};

#define CRAWL_PAGES_MAX 500 /* TMDB serves no page past 500 */

/* Queue names in the catalogue. */
#define CRAWL_Q_IMAGES        "images"
#define CRAWL_Q_EMBED         "embed"
#define CRAWL_Q_CREDITS_MOVIE "credits.movie"
#define CRAWL_Q_CREDITS_TV    "credits.tv"

struct crawl_opts {
    struct tmdb_client_opts client;
    const char *image_base;      /* the image CDN's base URL; NULL = /configuration's */
    const char *photo_dir;       /* where photos go; required by the images job */
    int batch;                   /* units fetched together; 0 = client.connections (8) */
    int max_photos;              /* profiles per person; 0 = 5 */
    int min_width;               /* wanted photo width; 0 = 500 */
    long limit;                  /* units (pages, titles, people) per run; 0 = no limit */
    int progress;                /* 1: a progress report on stderr */
    volatile sig_atomic_t *stop; /* also handed to the client */
};

/* What a run did. */
struct crawl_stats {
    long units;  /* pages, titles or people committed */
    long people; /* people upserted (seen, not necessarily new) */
    long titles;
    long credits;
    long photos;  /* photos saved */
    long failed;  /* units recorded as failed (404 and the like) */
    long skipped; /* units left for a later run (the network kept failing) */
    struct tmdb_client_stats http;
    double seconds;
};

struct crawl;

/* Makes a crawler writing into c (borrowed; used by this thread only). opts copied, its
 * strings borrowed. Caller frees with crawl_free. */
int crawl_new(struct catalog *c, const struct crawl_opts *opts, struct crawl **out, struct err *e);

/* Frees cr; cr may be NULL. */
void crawl_free(struct crawl *cr);

/* Runs /person/popular up to page pages (0 = all TMDB serves). */
int crawl_popular(struct crawl *cr, int pages, struct err *e);

/* Runs the top-rated list of kind (enum tmdb_kind) up to page pages (0 = all). */
int crawl_top_rated(struct crawl *cr, int kind, int pages, struct err *e);

/* Runs /discover/<kind> for each year from y0 to y1, by popularity, and with deep by
 * several more sort orders; up to pages pages each (0 = all). */
int crawl_discover(struct crawl *cr, int kind, int y0, int y1, int deep, int pages, struct err *e);

/* Fetches the casts queued for kind. */
int crawl_credits(struct crawl *cr, int kind, struct err *e);

/* Reads a daily person_ids export (gzip or plain). */
int crawl_exports(struct crawl *cr, const char *path, struct err *e);

/* Fetches the photos of the people queued for images. */
int crawl_images(struct crawl *cr, struct err *e);

struct ingest_opts;
struct ingest_stats;

/* Embeds the photos the images job queued (the "embed" queue) through the import
 * pipeline (catalog/ingest.h), in chunks of a few hundred people, marking each chunk's
 * items done once its photos are stored; photo_dir is the images job's. Needs no
 * network. st receives the ingest counters summed over the chunks; *people the number
 * of queue items finished. Returns a crawl_rc. */
int crawl_embed_pending(struct catalog *c, const char *photo_dir, const struct ingest_opts *io,
                        struct ingest_stats *st, long *people, struct err *e);

/* Copies the counters of everything this crawler did into out. */
void crawl_get_stats(const struct crawl *cr, struct crawl_stats *out);

/* Picks up to max of n profiles: best vote average first (then vote count, then the
 * response's order), those at least min_width wide before the others; writes their
 * indexes to pick and returns how many. For tests. */
int crawl_pick_profiles(const struct tmdb_image *im, int n, int max, int min_width, int *pick);

/* Picks the smallest of the configuration's sizes that gives an image w x h at least
 * want pixels wide (or its full width when smaller); "original" when none does. */
const char *crawl_pick_size(const struct tmdb_config *cfg, int w, int h, int want);

/* Returns the job's name ("popular", "credits.movie", ...) for a kind. Static. */
const char *crawl_credits_queue(int kind);

#endif
