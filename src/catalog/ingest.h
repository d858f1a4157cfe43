/*
 * ingest: photos into the catalogue: hash, decode, find the face, align it, embed it in
 * every space, store the lot.
 *
 * The work is a few hundred to a few hundred thousand photos, each costing tens of
 * milliseconds of network time and a few of decoding, so it runs on a pool of worker
 * threads (one per core by default) sharing one read-only copy of each model. Writes
 * need one connection and one order, so the workers hand their results back through a
 * bounded queue to the calling thread, which alone writes, in transactions of
 * INGEST_BATCH photos or one second, whichever ends first: a crash or a kill loses at
 * most that. Every photo is hashed before it is decoded, and a photo whose SHA-256 is
 * already stored (with a status, and with a vector in every space when its status is ok)
 * is skipped, so a second run, or a run after an interruption, only does what is left.
 * A photo that does not decode or shows no face is stored with its reason and the run
 * goes on; a file that cannot be read at all is counted and left out (it has no hash).
 * The face embedded is the largest in the photo.
 *
 * Spaces: the `look` space (faceres) today; a space is an entry in ingest.c's table
 * (name, model, dimension, embedding function), so `identity` plugs in beside it.
 */
#ifndef DOPPEL_INGEST_H
#define DOPPEL_INGEST_H

#include "catalog/catalog.h"
#include "catalog/source.h"
#include "util/err.h"

#include <signal.h>

enum ingest_rc {
    INGEST_OK = 0,
    INGEST_ERR_MODELS,  /* a model could not be loaded */
    INGEST_ERR_CATALOG, /* the catalogue refused a write */
    INGEST_ERR_EMBED,   /* the network failed on a photo (not a photo problem) */
    INGEST_ERR_STOPPED, /* stopped early through opts->stop; run again to resume */
};

#define INGEST_BATCH 64

struct ingest_opts {
    const char *models_dir;
    int threads;                 /* workers; 0 = one per core */
    int batch;                   /* photos per transaction; 0 = INGEST_BATCH */
    int progress;                /* 1: a progress report on stderr */
    volatile sig_atomic_t *stop; /* set (by a signal handler) to stop early; may be NULL */
    const char *clip_weights;    /* CLIP's checkpoint: fills the clip space too; NULL: not */
};

struct ingest_stats {
    long rows;         /* rows of the source */
    long people;       /* distinct people the rows name */
    long people_new;   /* of those, people the catalogue did not have */
    long bad_names;    /* rows skipped: a name with no letter or digit, or bad UTF-8 */
    long urls;         /* rows skipped: photo URLs, which need the crawler */
    long photos;       /* photo files to look at */
    long ok;           /* stored with an embedded face */
    long no_face;      /* stored as decoded with no face */
    long decode_error; /* stored as not decodable */
    long known;        /* skipped: already in the catalogue */
    long duplicates;   /* skipped: the same bytes as another photo of this run */
    long unreadable;   /* skipped: could not be read, so not stored */
    long embeddings;   /* embeddings stored */
    int threads;       /* workers used */
    double seconds;    /* wall time of the run, models loading included */
};

/* Returns the embedding spaces an import fills, in order ("look"); *n receives their
 * count. Borrowed, static. */
const char *const *ingest_spaces(int *n);

/* Imports the rows of src into c: upserts their people (and known-for titles), then
 * processes every photo path as described above; st receives the counts (also on
 * error). Returns an ingest_rc with e set. */
int ingest_run(struct catalog *c, const struct source *src, const struct ingest_opts *opts,
               struct ingest_stats *st, struct err *e);

#endif
