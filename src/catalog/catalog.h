/*
 * catalog: the catalogue, doppel's source of truth: the people, their photos, each
 * photo's embeddings in every space, the titles they are known for, and the crawler's
 * bookmarks. Indexes (src/index) are built from it and can always be rebuilt.
 *
 * The workload is write-once, read-many: imports and crawls add rows in long batches
 * from one writer thread; index builds read every embedding once; the web app reads
 * people and titles by id. The interface names no database, so a PostgreSQL backend can
 * sit beside the SQLite one (catalog_open picks by location); what every backend must do
 * is pinned down by tests/test_catalog.c.
 *
 * Ingest is idempotent: a person is the same person when the TMDB id matches, else when
 * the normalised name does (names/normalize.h); a photo is the same photo when its
 * SHA-256 matches; a photo has at most one embedding per (space, model). Running an
 * import twice changes nothing. Embedding vectors are float32; averages follow the seed
 * system: L2-normalise each photo's vector, take the mean of a person's best-ranked
 * photos (five by default), re-normalise.
 *
 * A handle is used by one thread at a time. Strings in the structs below are fixed
 * arrays, so every struct is caller-owned and nothing read from the catalogue needs
 * freeing.
 */
#ifndef DOPPEL_CATALOG_H
#define DOPPEL_CATALOG_H

#include "util/buf.h"
#include "util/err.h"

#include <stdint.h>

enum catalog_rc {
    CATALOG_OK = 0,
    CATALOG_DONE,        /* an iteration has no more rows (not an error) */
    CATALOG_NOT_FOUND,   /* no such person (not an error for lookups) */
    CATALOG_ERR_OPEN,    /* the catalogue cannot be opened or created */
    CATALOG_ERR_VERSION, /* the catalogue was written by a newer doppel */
    CATALOG_ERR_DB,      /* a query failed: disk full, locked too long, corrupt file */
    CATALOG_ERR_INPUT,   /* a value the catalogue refuses: empty name, bad UTF-8, bad dim */
    CATALOG_ERR_BACKEND, /* the location names a backend this build does not have */
};

/* The catalogue's file name inside the data folder. */
#define CATALOG_FILE "catalog.db"

#define CATALOG_NAME_MAX   512  /* bytes of a person's name or a title, NUL included */
#define CATALOG_SOURCE_MAX 4096 /* bytes of a photo's path or URL, NUL included */
#define CATALOG_REASON_MAX 256
#define CATALOG_TEXT_MAX   64 /* department, space, model, version, character */
#define CATALOG_AVG_PHOTOS 5  /* photos averaged per person by default */
#define CATALOG_DIM_MAX    4096
#define CATALOG_SPACES_MAX 8

enum catalog_open_flags {
    CATALOG_OPEN_CREATE = 1 << 0, /* create the catalogue (and its folder) when missing */
};

/* TMDB's gender codes. */
enum catalog_gender {
    CATALOG_GENDER_UNKNOWN = 0,
    CATALOG_GENDER_FEMALE = 1,
    CATALOG_GENDER_MALE = 2,
    CATALOG_GENDER_NONBINARY = 3,
};

struct catalog_person {
    int64_t id;                        /* set by the catalogue */
    char name[CATALOG_NAME_MAX];       /* as displayed, UTF-8 */
    int64_t tmdb_id;                   /* 0 = none */
    double popularity;                 /* TMDB's popularity, 0 = unknown */
    int gender;                        /* enum catalog_gender */
    int birth_year;                    /* 0 = unknown */
    char department[CATALOG_TEXT_MAX]; /* known-for department ("Acting"), "" = unknown */
};

enum catalog_photo_status {
    CATALOG_PHOTO_OK = 0,       /* a face was found and embedded */
    CATALOG_PHOTO_NO_FACE,      /* decoded, but no face was found */
    CATALOG_PHOTO_DECODE_ERROR, /* not a photo doppel decodes; reason says why */
};

struct catalog_photo {
    int64_t id;
    int64_t person_id;
    char source[CATALOG_SOURCE_MAX]; /* the path or URL it came from */
    char sha256[65];                 /* of the file's bytes, lower-case hex */
    int width, height;               /* upright size, 0 when it did not decode */
    int rank;                        /* 1 = best (TMDB vote order, file order); 0 = unranked */
    int status;                      /* enum catalog_photo_status */
    char reason[CATALOG_REASON_MAX]; /* why not ok, "" when ok */
    int faces;                       /* faces found; the largest is the one embedded */
    float box[4];                    /* that face: x1, y1, x2, y2 in photo pixels */
    float score;                     /* its detection score */
    float age;                       /* estimated age, 0 = unknown */
    float female;                    /* estimated probability of female, -1 = unknown */
};

/* One photo's vector in one space. */
struct catalog_embedding {
    int64_t photo_id;
    const char *space;   /* "look", "identity", ...; borrowed */
    const char *model;   /* "faceres"; borrowed */
    const char *version; /* the model's package and version; borrowed */
    int dim;
    const float *v; /* dim floats; borrowed */
};

enum catalog_title_kind {
    CATALOG_TITLE_UNKNOWN = 0,
    CATALOG_TITLE_MOVIE,
    CATALOG_TITLE_TV,
};

struct catalog_title {
    int64_t id;
    int64_t tmdb_id; /* 0 = none; unique per kind (TMDB numbers movies and TV apart) */
    int kind;        /* enum catalog_title_kind */
    char title[CATALOG_NAME_MAX];
    int year; /* 0 = unknown */
    double popularity;
};

/* A person's part in a title. */
struct catalog_credit {
    int64_t person_id;
    int64_t title_id;
    char character[CATALOG_TEXT_MAX * 2]; /* "" = unknown */
    int order;                            /* billing, 1 = lead; 0 = unknown */
    int episodes;                         /* TV episode count, 0 = unknown */
};

/* A title a person is known for, with their part in it. */
struct catalog_known {
    struct catalog_title title;
    struct catalog_credit credit;
};

struct catalog_space_stats {
    char space[CATALOG_TEXT_MAX];
    char model[CATALOG_TEXT_MAX];
    int64_t embeddings;
    int64_t people; /* people with at least one embedding here */
};

struct catalog_stats {
    int schema; /* the schema version */
    int64_t people;
    int64_t photos;
    int64_t photos_by_status[3]; /* indexed by enum catalog_photo_status */
    int64_t titles;
    int64_t credits;
    int nspaces;
    struct catalog_space_stats spaces[CATALOG_SPACES_MAX];
};

/* What catalog_vecs_open iterates over. */
enum catalog_vec_mode {
    CATALOG_VEC_AVERAGE = 0, /* one vector per person: the average of their best photos */
    CATALOG_VEC_PHOTOS,      /* one vector per photo, as stored, by person then rank */
};

struct catalog_vec_query {
    const char *space; /* required; borrowed */
    const char *model; /* NULL = whichever the space holds (all must share one dim) */
    int mode;          /* enum catalog_vec_mode */
    int max_photos;    /* photos per person, best rank first; 0 = CATALOG_AVG_PHOTOS for
                          averages and all for photos; -1 = all */
    int64_t person_id; /* 0 = everyone */
};

struct catalog_vec {
    int64_t person_id;
    int64_t photo_id; /* 0 for an average */
    int photos;       /* vectors averaged (1 for a photo) */
    int dim;
    const float *v; /* borrowed until the next catalog_vecs_next or close */
};

struct catalog;
struct catalog_vecs;

/* Opens the catalogue at location: a file path (SQLite; "sqlite:" may prefix it). A
 * "postgres://" location is refused with CATALOG_ERR_BACKEND until that backend exists.
 * Brings the schema up to date. Caller closes with catalog_close. */
int catalog_open(const char *location, int flags, struct catalog **out, struct err *e);

/* Closes the catalogue, rolling back an open transaction; c may be NULL. */
void catalog_close(struct catalog *c);

/* Starts a write transaction (it waits up to the busy timeout for another writer). */
int catalog_begin(struct catalog *c, struct err *e);

/* Commits the open transaction. */
int catalog_commit(struct catalog *c, struct err *e);

/* Rolls back the open transaction, if any. */
void catalog_rollback(struct catalog *c);

/* Starts a read transaction, ended by catalog_rollback (or catalog_commit): the reads
 * until then see one snapshot and take the database's lock once, where each read alone
 * would take and drop it (a page of look-alikes makes dozens of lookups). Writers are not
 * blocked (WAL); a checkpoint waits for it, so keep it short. */
int catalog_begin_read(struct catalog *c, struct err *e);

/* Adds a person or finds the one already there: by tmdb_id when given (adopting a
 * same-named person who has none yet), else by normalised name (the most popular when
 * several share it). Known values replace unknown ones; a TMDB-keyed upsert replaces
 * every value it gives. *id receives the person's id, *created 1 when new (may be NULL). */
int catalog_person_upsert(struct catalog *c, const struct catalog_person *p, int64_t *id,
                          int *created, struct err *e);

/* Reads the person with this id into out; CATALOG_NOT_FOUND when none. */
int catalog_person_get(struct catalog *c, int64_t id, struct catalog_person *out, struct err *e);

/* Reads the person with this TMDB id; CATALOG_NOT_FOUND when none. */
int catalog_person_find_tmdb(struct catalog *c, int64_t tmdb_id, struct catalog_person *out,
                             struct err *e);

/* Reads the person whose normalised name equals name's (the most popular of several);
 * CATALOG_NOT_FOUND when none, CATALOG_ERR_INPUT when name is not valid UTF-8. */
int catalog_person_find_name(struct catalog *c, const char *name, struct catalog_person *out,
                             struct err *e);

/* Calls fn for every person in id order until fn returns non-zero (then returns that
 * value); p is borrowed for the call. */
int catalog_people_list(struct catalog *c, int (*fn)(void *ctx, const struct catalog_person *p),
                        void *ctx, struct err *e);

/* Adds a photo unless one with the same sha256 is there; *id receives the photo's id
 * either way, *created 1 when new (may be NULL). */
int catalog_photo_add(struct catalog *c, const struct catalog_photo *ph, int64_t *id, int *created,
                      struct err *e);

/* Calls fn for every stored photo: its sha256, its status and whether it has an
 * embedding in space; stops when fn returns non-zero. For resuming imports. */
int catalog_photos_known(struct catalog *c, const char *space,
                         int (*fn)(void *ctx, const char *sha256, int status, int embedded),
                         void *ctx, struct err *e);

/* Stores an embedding unless the photo has one for (space, model); *created may be NULL. */
int catalog_embedding_put(struct catalog *c, const struct catalog_embedding *em, int *created,
                          struct err *e);

/* Starts iterating vectors as q asks (copied). One iteration per handle at a time. Caller
 * closes with catalog_vecs_close. */
int catalog_vecs_open(struct catalog *c, const struct catalog_vec_query *q,
                      struct catalog_vecs **out, struct err *e);

/* Reads the next vector into out: CATALOG_OK, CATALOG_DONE at the end, or an error. */
int catalog_vecs_next(struct catalog_vecs *it, struct catalog_vec *out, struct err *e);

/* Ends the iteration; it may be NULL. */
void catalog_vecs_close(struct catalog_vecs *it);

/* Adds a title or finds it: by (kind, tmdb_id) when given, else by normalised title,
 * where an unknown kind or year matches any; known values fill unknown ones. */
int catalog_title_upsert(struct catalog *c, const struct catalog_title *t, int64_t *id,
                         int *created, struct err *e);

/* Adds a credit or fills the unknown values of the one there; *created may be NULL. */
int catalog_credit_put(struct catalog *c, const struct catalog_credit *cr, int *created,
                       struct err *e);

/* Writes the source (path or URL) of person_id's best ok photo (lowest vote rank) into
 * out (n bytes). Returns CATALOG_OK, or CATALOG_NOT_FOUND with out "" when there is none. */
int catalog_person_photo(struct catalog *c, int64_t person_id, char *out, size_t n,
                         struct err *e);

/* Calls fn with every person's best ok photo (the one catalog_person_photo writes), in
 * person id order, skipping people without one, until fn returns non-zero (then returns
 * that value); source is borrowed for the call. One pass, for loading them all. */
int catalog_best_photos(struct catalog *c,
                        int (*fn)(void *ctx, int64_t person_id, const char *source), void *ctx,
                        struct err *e);

/* Reads up to max titles person_id is known for into out (leading parts first, then the
 * most popular and most recent); *n receives the count. */
int catalog_known_for(struct catalog *c, int64_t person_id, struct catalog_known *out, int max,
                      int *n, struct err *e);

/* A person in a title's cast, with their part. */
struct catalog_cast {
    struct catalog_person person;
    struct catalog_credit credit;
};

/* Reads up to max of person_id's ok photos, best vote rank first (the ones averaged),
 * into out; *n receives the count. */
int catalog_person_photos(struct catalog *c, int64_t person_id, struct catalog_photo *out,
                          int max, int *n, struct err *e);

/* Reads the title with this id into out; CATALOG_NOT_FOUND when none. */
int catalog_title_get(struct catalog *c, int64_t id, struct catalog_title *out, struct err *e);

/* Reads up to max titles whose normalised title contains query's normalised form into out
 * (titles starting with it first, then by popularity); *n receives the count. A query
 * with no letter or digit finds nothing. Read-only, for the web app's title search. */
int catalog_titles_search(struct catalog *c, const char *query, struct catalog_title *out,
                          int max, int *n, struct err *e);

/* Reads up to max people credited in title_id into out, by billing order (unknown last),
 * then episode count; *n receives the count. */
int catalog_title_cast(struct catalog *c, int64_t title_id, struct catalog_cast *out, int max,
                       int *n, struct err *e);

/* Counts people, photos by status, embeddings per space and model, titles, credits. */
int catalog_stats(struct catalog *c, struct catalog_stats *out, struct err *e);

/* Reads the crawl-state value of key into value (appended); *found 0 when absent. */
int catalog_state_get(struct catalog *c, const char *key, struct buf *value, int *found,
                      struct err *e);

/* Sets the crawl-state value of key. */
int catalog_state_set(struct catalog *c, const char *key, const char *value, struct err *e);

/* The crawler's work queues (src/tmdb/crawl.h): items named by (queue, key), each
 * pending, done or failed, with the HTTP status of its last attempt and a short data
 * string. They live beside the data a crawl writes, so both commit together. */
enum catalog_queue_state {
    CATALOG_QUEUE_PENDING = 0,
    CATALOG_QUEUE_DONE,
    CATALOG_QUEUE_FAILED,
};

#define CATALOG_QUEUE_DATA_MAX 2048

struct catalog_queue_item {
    int64_t key;
    int state;  /* enum catalog_queue_state */
    int status; /* HTTP status of the last attempt, 0 = none */
    char data[CATALOG_QUEUE_DATA_MAX];
};

/* Adds a pending item unless (queue, key) is there in any state; data may be NULL ("").
 * *created may be NULL. */
int catalog_queue_add(struct catalog *c, const char *queue, int64_t key, const char *data,
                      int *created, struct err *e);

/* Reads up to max pending items of queue with key > after, in key order, into out; *n
 * receives the count (0 when the queue has no more). */
int catalog_queue_pending(struct catalog *c, const char *queue, int64_t after,
                          struct catalog_queue_item *out, int max, int *n, struct err *e);

/* Sets an item's state (enum catalog_queue_state), status and, when data is not NULL,
 * its data. */
int catalog_queue_finish(struct catalog *c, const char *queue, int64_t key, int state,
                         int status, const char *data, struct err *e);

/* Counts queue's items by state into counts[enum catalog_queue_state]. */
int catalog_queue_count(struct catalog *c, const char *queue, int64_t counts[3],
                        struct err *e);

/* Returns "ok", "no_face" or "decode_error". Static string. */
const char *catalog_status_name(int status);

/* Returns "movie", "tv" or "". Static string. */
const char *catalog_kind_name(int kind);

#endif
