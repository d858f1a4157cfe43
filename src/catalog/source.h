/*
 * source: what an import reads: a list of (person, photo) rows from a folder tree or a
 * manifest file, before any photo is opened.
 *
 * A folder tree has one sub-folder per person, named after them
 * (DIR/Keanu_Reeves/01.jpg); underscores become spaces, and lower-case names can be
 * title-cased ("keanu_reeves" -> "Keanu Reeves"). Photos are the files ending in .jpg,
 * .jpeg, .png or .webp (any case), ranked in file-name order, so a person's best photo is
 * the one named first. A manifest lists rows explicitly, as CSV with a header or as JSON
 * lines, with the keys name and photo (required), tmdb_id, known_for (titles separated
 * by ';'; in JSON also an array) and rank. A photo is a path, relative to the manifest's
 * folder unless absolute, or an http(s) URL, which is kept for the crawler to fetch.
 * Manifests are untrusted input: a malformed line is an error naming it.
 */
#ifndef DOPPEL_SOURCE_H
#define DOPPEL_SOURCE_H

#include "util/buf.h"
#include "util/err.h"

#include <stddef.h>
#include <stdint.h>

enum source_rc {
    SOURCE_OK = 0,
    SOURCE_ERR_IO,     /* a folder or file cannot be read */
    SOURCE_ERR_FORMAT, /* a malformed manifest line, or a row without name or photo */
    SOURCE_ERR_EMPTY,  /* nothing to import */
};

/* How folder names become display names. */
enum source_case {
    SOURCE_CASE_AUTO = 0, /* title-case names that have no upper-case letter */
    SOURCE_CASE_KEEP,     /* as written (underscores still become spaces) */
    SOURCE_CASE_TITLE,    /* every word capitalised, the rest lower-case */
};

enum source_format {
    SOURCE_CSV = 0,
    SOURCE_JSONL,
};

struct source_row {
    char *name;      /* display name, owned */
    int64_t tmdb_id; /* 0 = none */
    char *known_for; /* titles separated by ';', owned; NULL when none */
    char *photo;     /* a path, or NULL when url is set; owned */
    char *url;       /* an http(s) URL, or NULL; owned */
    int rank;        /* 1 = best; 0 = unranked */
    long line;       /* manifest line, 0 for folders */
};

/* A list of rows; rows of one person are adjacent for folders, in file order for
 * manifests. */
struct source {
    struct source_row *rows;
    size_t n;
    size_t cap;
    size_t ignored; /* files in a folder tree that are not photos */
};

/* Prepares an empty list. */
void source_init(struct source *s);

/* Frees every row; s may be NULL. */
void source_release(struct source *s);

/* Appends one row for each photo under dir's person folders (sorted by folder, then by
 * file name). Returns SOURCE_OK, SOURCE_ERR_IO or SOURCE_ERR_EMPTY with e set. */
int source_scan_dir(struct source *s, const char *dir, enum source_case nc, struct err *e);

/* Appends the rows of a manifest held in text (n bytes); relative photo paths are
 * resolved against base_dir (NULL: left as they are). */
int source_parse_manifest(struct source *s, const char *text, size_t n, enum source_format f,
                          const char *base_dir, struct err *e);

/* Reads a manifest file (.csv, or .jsonl / .ndjson / .json for JSON lines) and appends
 * its rows. */
int source_load_manifest(struct source *s, const char *path, struct err *e);

/* Appends to out the display name for a folder called folder: underscores to spaces,
 * blanks collapsed and trimmed, case as nc says. */
void source_folder_name(const char *folder, enum source_case nc, struct buf *out);

/* Returns 1 when the file name ends in a photo extension (.jpg, .jpeg, .png, .webp). */
int source_is_photo_name(const char *name);

#endif
