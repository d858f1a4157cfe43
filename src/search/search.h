/*
 * search: the questions doppel answers, over the catalogue and its index files. "Who
 * looks like this person?" is a search of the person's own vector in a space's index;
 * "who is in this photo, and who do they look like?" detects every face and searches
 * each face's embeddings. Index files are built from the catalogue (one per space, the
 * average of each person's best photos) and memory-mapped; the CLI and the web server
 * share this module so they give the same answers.
 */
#ifndef DOPPEL_SEARCH_H
#define DOPPEL_SEARCH_H

#include "catalog/catalog.h"
#include "face/detect.h"
#include "img/image.h"
#include "util/err.h"

#include <stdint.h>

enum search_rc {
    SEARCH_OK = 0,
    SEARCH_NOT_FOUND, /* no such person, or the person has no vector in the space */
    SEARCH_ERR_INDEX, /* no index for the space, or one that does not open */
    SEARCH_ERR_CATALOG,
    SEARCH_ERR_MODEL, /* the models for photo queries do not load or run */
    SEARCH_ERR_INPUT, /* an empty catalogue for index build, a bad space name, ... */
};

#define SEARCH_K_MAX     1000
#define SEARCH_FACES_MAX 32

/* One person in a result list. */
struct search_hit {
    int64_t id;
    char name[CATALOG_NAME_MAX];
    int64_t tmdb_id;            /* 0 = none */
    float score;                /* cosine similarity, -1..1 */
    double rank_pct;            /* closer than this percent of the catalogue */
    char photo[CATALOG_SOURCE_MAX]; /* the person's best photo, "" when unknown */
};

/* One face of a query photo: where it is, who it is (the identity space: the closest
 * person, with the Euclidean distance to their best-matching photo), and who it looks
 * like in the look space. */
struct search_face {
    struct face_box box;
    int has_identity;       /* 0 when there is no identity index */
    struct search_hit identity;
    float distance;         /* to the identity's closest photo, raw descriptors */
    int same_person;        /* distance below IDENTITY_THRESHOLD */
    int nlooks;
    struct search_hit looks[SEARCH_K_MAX > 50 ? 50 : SEARCH_K_MAX];
};

struct search;
struct names_index;
struct people;

/* Opens the catalogue at data_dir and whichever index files exist there; models_dir is
 * needed for photo queries only (may be NULL). threads: for one photo's networks and
 * for splitting scans (0 = every core). Caller frees with search_close. */
int search_open(const char *data_dir, const char *models_dir, int threads, struct search **out,
                struct err *e);

/* Frees s; s may be NULL. */
void search_close(struct search *s);

/* Returns the catalogue (borrowed, valid until search_close). */
struct catalog *search_catalog(struct search *s);

/* Writes data_dir/index/<space>.idx from the catalogue (a temporary file renamed into
 * place): one row per person with a vector in space, the average of up to max_photos of
 * their best photos (0 = the default 5). *people receives the row count. */
int search_build_index(struct catalog *c, const char *data_dir, const char *space,
                       int max_photos, int64_t *people, struct err *e);

/* How index build makes a space's approximate-search graph (index/<space>.hnsw). */
struct search_build_opts {
    int max_photos;    /* 0 = the default 5 */
    int64_t graph_min; /* a graph for this many people or more; < 0: the default 50,000 */
    uint32_t m, efc;   /* graph parameters, 0 = defaults (index/hnsw.h) */
    uint64_t seed;     /* levels' seed; the same seed keeps an update incremental */
    int threads;       /* graph build threads, 0 = every core */
    int no_near;       /* 1: no near lists beside the graph (index/near.h) */
};

/* What index build did besides the index file. */
struct search_build_info {
    int64_t people;
    int graph;            /* 1 when a graph was written, 0 when the space is too small */
    int graph_full;       /* 1 when it was built whole, 0 when an old graph was updated */
    uint64_t kept, removed, inserted; /* people kept from the old graph, gone, inserted */
    double graph_seconds;
    uint32_t graph_ef;    /* the graph's tuned default ef (index/hnsw.h hnsw_ef) ... */
    double graph_recall;  /* ... the recall@10 it reached there (see hnsw_ef) */
    uint32_t graph_tune_rows; /* rows the tuning queries were drawn like */
    int near;             /* 1 when near lists were written */
    double near_seconds;
};

/* search_build_index with graph options, then (when the space has o->graph_min people or
 * more) the graph, updated from the old graph file when there is one: see index/hnsw.h,
 * and each person's look-alikes found through it (index/near.h) unless o->no_near. A
 * space below the threshold gets neither, and stale files are removed. */
int search_build_index_ex(struct catalog *c, const char *data_dir, const char *space,
                          const struct search_build_opts *o, struct search_build_info *info,
                          struct err *e);

/* Each name's fuzzy answers for name search (names/lists.h), into index/names.near, when
 * the catalogue has o->graph_min people or more (else, or with o->no_near, a stale file is
 * removed); info->near says whether the file was written, info->people how many names. */
int search_build_names(struct catalog *c, const char *data_dir, const struct search_build_opts *o,
                       struct search_build_info *info, struct err *e);

/* Makes later searches scan exactly (exact = 1) even where a graph exists, and sets the
 * graph's ef (0 = the default). */
void search_set_mode(struct search *s, int exact, uint32_t ef);

/* Restricts later look-alike searches to people of that gender (enum catalog_gender; 0 =
 * no filter). The filter is built from the catalogue on first use. */
void search_set_gender(struct search *s, int gender);

/* Finds a person from what a user typed: a catalogue id ("42"), a TMDB id ("tmdb:6384"),
 * a name (exact after normalisation, else the closest name by fuzzy match, with
 * *guessed set). */
int search_find_person(struct search *s, const char *query, struct catalog_person *out,
                       int *guessed, struct err *e);

/* Returns the name index over the catalogue's people (built on first use; borrowed,
 * valid until search_close) and, in *ids, each row's person id; NULL on error. */
const struct names_index *search_names(struct search *s, const int64_t **ids, struct err *e);

/* Describes hits from p (search/people.h; borrowed, must outlive s's use of it) instead
 * of the catalogue: people as they were when p was loaded, with no lookup a hit. NULL
 * goes back to the catalogue. For the web server's snapshots. */
void search_use_people(struct search *s, const struct people *p);

/* Person id as a hit (score and rank 0): name, TMDB id, photo, from the people
 * search_use_people gave, else the catalogue; SEARCH_NOT_FOUND when there is no such
 * person. */
int search_describe(struct search *s, int64_t id, struct search_hit *out, struct err *e);

/* Writes person id's best photo source into out (n bytes; "" and SEARCH_NOT_FOUND when
 * none), from the people search_use_people gave, else from the catalogue. */
int search_person_photo(struct search *s, int64_t id, char *out, size_t n, struct err *e);

/* Asks the cache for person id's entry in the people search_use_people gave (nothing
 * without them), ahead of search_person_photo. */
void search_person_prefetch(const struct search *s, int64_t id);

/* 1 when s has an index file for space ("look", "identity", "clip"). */
int search_has_index(const struct search *s, const char *space);

/* The k people closest to person id in space (the person excluded), best first, into
 * out[0..*n). */
int search_similar(struct search *s, const char *space, int64_t id, int k, struct search_hit *out,
                   int *n, struct err *e);

/* Every face of im (at most SEARCH_FACES_MAX, largest first) with its k look-alikes
 * (k <= 50) and, when the identity index exists, who it is, into faces[0..*n). */
int search_photo(struct search *s, const struct image *im, int k, struct search_face *faces,
                 int *n, struct err *e);

/* Moves the photo models from has loaded (detector, look embedder, identity network and
 * their run context, with its arena plans) to a handle on newer data that has none, so
 * its first photo query neither loads them nor plans its memory again; from loads them
 * again if it is used afterwards. Both handles must be for the same models folder and
 * thread count, and neither may be in use. Returns 1 when they moved, 0 when not. */
int search_adopt_models(struct search *to, struct search *from);

/* Where the last search_photo's time went, in seconds (zero before the first one; the
 * models' loading on the first call is not counted). */
struct search_photo_times {
    double detect;   /* face detection, every look */
    double look;     /* look-space embeddings of every face */
    double identity; /* identity descriptors of every face */
    double search;   /* index searches and the catalogue's details */
    double total;    /* the whole call after the models are loaded */
};

/* Copies the last search_photo's timings into *out. */
void search_photo_times(const struct search *s, struct search_photo_times *out);

#endif
