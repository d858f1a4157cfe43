/*
 * sqlite: the SQLite catalogue backend, one file in the data folder.
 *
 * WAL mode, so readers (the web app, `doppel stats` during an import) never wait for
 * the importer, and a killed process leaves the file consistent, losing only its open
 * transaction; synchronous=NORMAL, which in WAL mode risks only the last transactions on
 * power loss, never corruption. Foreign keys are on; a second writer waits up to five
 * seconds (the busy timeout) before giving up with a clear error.
 *
 * The schema is a list of migrations applied in order, each once, inside one write
 * transaction that first re-reads PRAGMA user_version (the count applied), so two
 * processes opening a new file at once cannot both create it. A file from a newer doppel
 * is refused rather than guessed at.
 *
 * Every query is a prepared statement, prepared on first use and kept for the life of
 * the handle (reset and cleared after each use). Steps that need several statements
 * (find, then insert or update) run in the caller's transaction, or in one of their own
 * when the caller has none. Vectors are stored as float32 BLOBs in the machine's byte
 * order, which is little-endian on every platform doppel builds for (checked below).
 */
#include "catalog/backend.h"

#include "util/fs.h"
#include "util/xalloc.h"

#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#if __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "catalogue vectors are stored little-endian; add a byte swap for this platform"
#endif

#define BUSY_TIMEOUT_MS 5000

/* Migration n brings the schema from version n to n + 1. */
static const char *const migrations[] = {
    /* 1: the first schema. */
    "CREATE TABLE people (\n"
    "  id INTEGER PRIMARY KEY,\n"
    "  name TEXT NOT NULL CHECK (name <> ''),\n"
    "  norm_name TEXT NOT NULL CHECK (norm_name <> ''),\n"
    "  tmdb_id INTEGER UNIQUE,\n"
    "  popularity REAL NOT NULL DEFAULT 0,\n"
    "  gender INTEGER NOT NULL DEFAULT 0 CHECK (gender BETWEEN 0 AND 3),\n"
    "  birth_year INTEGER,\n"
    "  department TEXT\n"
    ");\n"
    "CREATE INDEX people_norm_name ON people (norm_name);\n"
    "CREATE TABLE photos (\n"
    "  id INTEGER PRIMARY KEY,\n"
    "  person_id INTEGER NOT NULL REFERENCES people (id) ON DELETE CASCADE,\n"
    "  source TEXT NOT NULL,\n"
    "  sha256 TEXT NOT NULL UNIQUE CHECK (length(sha256) = 64),\n"
    "  width INTEGER,\n"
    "  height INTEGER,\n"
    "  vote_rank INTEGER,\n"
    "  status TEXT NOT NULL CHECK (status IN ('ok', 'no_face', 'decode_error')),\n"
    "  reason TEXT,\n"
    "  faces INTEGER NOT NULL DEFAULT 0,\n"
    "  face_x1 REAL, face_y1 REAL, face_x2 REAL, face_y2 REAL, face_score REAL,\n"
    "  est_age REAL,\n"
    "  est_female REAL\n"
    ");\n"
    "CREATE INDEX photos_person ON photos (person_id, vote_rank);\n"
    "CREATE TABLE embeddings (\n"
    "  id INTEGER PRIMARY KEY,\n"
    "  photo_id INTEGER NOT NULL REFERENCES photos (id) ON DELETE CASCADE,\n"
    "  space TEXT NOT NULL,\n"
    "  model TEXT NOT NULL,\n"
    "  model_version TEXT NOT NULL,\n"
    "  dim INTEGER NOT NULL CHECK (dim > 0),\n"
    "  vec BLOB NOT NULL CHECK (length(vec) = 4 * dim),\n"
    "  UNIQUE (photo_id, space, model)\n"
    ");\n"
    "CREATE INDEX embeddings_space ON embeddings (space, model);\n"
    "CREATE TABLE titles (\n"
    "  id INTEGER PRIMARY KEY,\n"
    "  tmdb_id INTEGER,\n"
    "  kind TEXT NOT NULL DEFAULT '' CHECK (kind IN ('', 'movie', 'tv')),\n"
    "  title TEXT NOT NULL,\n"
    "  norm_title TEXT NOT NULL CHECK (norm_title <> ''),\n"
    "  year INTEGER,\n"
    "  popularity REAL NOT NULL DEFAULT 0,\n"
    "  UNIQUE (kind, tmdb_id)\n"
    ");\n"
    "CREATE INDEX titles_norm_title ON titles (norm_title);\n"
    "CREATE TABLE credits (\n"
    "  person_id INTEGER NOT NULL REFERENCES people (id) ON DELETE CASCADE,\n"
    "  title_id INTEGER NOT NULL REFERENCES titles (id) ON DELETE CASCADE,\n"
    "  character TEXT,\n"
    "  cast_order INTEGER,\n"
    "  episode_count INTEGER,\n"
    "  PRIMARY KEY (person_id, title_id)\n"
    ") WITHOUT ROWID;\n"
    "CREATE INDEX credits_title ON credits (title_id);\n"
    "CREATE TABLE crawl_state (\n"
    "  key TEXT PRIMARY KEY,\n"
    "  value TEXT NOT NULL,\n"
    "  updated_at INTEGER NOT NULL\n"
    ");\n",
    /* 2: the crawler's work queues (src/tmdb/crawl.h). */
    "CREATE TABLE crawl_queue (\n"
    "  queue TEXT NOT NULL,\n"
    "  key INTEGER NOT NULL,\n"
    "  state INTEGER NOT NULL DEFAULT 0 CHECK (state BETWEEN 0 AND 2),\n"
    "  status INTEGER NOT NULL DEFAULT 0,\n"
    "  data TEXT NOT NULL DEFAULT '',\n"
    "  updated_at INTEGER NOT NULL,\n"
    "  PRIMARY KEY (queue, key)\n"
    ") WITHOUT ROWID;\n"
    "CREATE INDEX crawl_queue_state ON crawl_queue (queue, state, key);\n",
};

#define SCHEMA_VERSION ((int)(sizeof migrations / sizeof migrations[0]))

#define TITLE_COLS "id, tmdb_id, kind, title, year, popularity"
#define PERSON_COLS "id, name, tmdb_id, popularity, gender, birth_year, department"

enum stmt_id {
    ST_BEGIN,
    ST_BEGIN_READ,
    ST_COMMIT,
    ST_ROLLBACK,
    ST_PERSON_BY_ID,
    ST_PERSON_BY_TMDB,
    ST_PERSON_BY_NAME,
    ST_PERSON_UNKEYED,
    ST_PERSON_INSERT,
    ST_PERSON_REPLACE,
    ST_PERSON_FILL,
    ST_PEOPLE_LIST,
    ST_PHOTO_INSERT,
    ST_PHOTO_FIND,
    ST_PHOTOS_KNOWN,
    ST_EMBEDDING_INSERT,
    ST_VEC_LIST,
    ST_VEC_GET,
    ST_TITLE_BY_TMDB,
    ST_TITLE_BY_NAME,
    ST_TITLE_INSERT,
    ST_TITLE_FILL,
    ST_CREDIT_FIND,
    ST_CREDIT_PUT,
    ST_PERSON_PHOTO,
    ST_BEST_PHOTOS,
    ST_KNOWN_FOR,
    ST_COUNTS,
    ST_COUNT_STATUS,
    ST_COUNT_SPACES,
    ST_STATE_GET,
    ST_STATE_SET,
    ST_TITLE_GET,
    ST_PERSON_PHOTOS,
    ST_TITLES_SEARCH,
    ST_TITLE_CAST,
    ST_QUEUE_ADD,
    ST_QUEUE_PENDING,
    ST_QUEUE_FINISH,
    ST_QUEUE_COUNT,
    ST_COUNT
};

static const char *const stmt_sql[ST_COUNT] = {
    [ST_BEGIN] = "BEGIN IMMEDIATE",
    [ST_BEGIN_READ] = "BEGIN DEFERRED",
    [ST_COMMIT] = "COMMIT",
    [ST_ROLLBACK] = "ROLLBACK",
    [ST_PERSON_BY_ID] = "SELECT " PERSON_COLS " FROM people WHERE id = ?1",
    [ST_PERSON_BY_TMDB] = "SELECT " PERSON_COLS " FROM people WHERE tmdb_id = ?1",
    [ST_PERSON_BY_NAME] = "SELECT " PERSON_COLS " FROM people WHERE norm_name = ?1 "
                          "ORDER BY popularity DESC, id LIMIT 1",
    [ST_PERSON_UNKEYED] = "SELECT " PERSON_COLS " FROM people WHERE norm_name = ?1 "
                          "AND tmdb_id IS NULL ORDER BY popularity DESC, id LIMIT 1",
    [ST_PERSON_INSERT] = "INSERT INTO people (name, norm_name, tmdb_id, popularity, gender, "
                         "birth_year, department) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    [ST_PERSON_REPLACE] = "UPDATE people SET name = ?2, norm_name = ?3, tmdb_id = ?4, "
                          "popularity = CASE WHEN ?5 > 0 THEN ?5 ELSE popularity END, "
                          "gender = CASE WHEN ?6 > 0 THEN ?6 ELSE gender END, "
                          "birth_year = coalesce(?7, birth_year), "
                          "department = coalesce(?8, department) WHERE id = ?1",
    [ST_PERSON_FILL] = "UPDATE people SET "
                       "popularity = CASE WHEN popularity = 0 THEN ?5 ELSE popularity END, "
                       "gender = CASE WHEN gender = 0 THEN ?6 ELSE gender END, "
                       "birth_year = coalesce(birth_year, ?7), "
                       "department = coalesce(department, ?8) WHERE id = ?1",
    [ST_PEOPLE_LIST] = "SELECT " PERSON_COLS " FROM people ORDER BY id",
    [ST_PHOTO_INSERT] = "INSERT INTO photos (person_id, source, sha256, width, height, "
                        "vote_rank, status, reason, faces, face_x1, face_y1, face_x2, "
                        "face_y2, face_score, est_age, est_female) VALUES (?1, ?2, ?3, ?4, "
                        "?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16) "
                        "ON CONFLICT (sha256) DO NOTHING",
    [ST_PHOTO_FIND] = "SELECT id FROM photos WHERE sha256 = ?1",
    [ST_PHOTOS_KNOWN] = "SELECT p.sha256, p.status, EXISTS (SELECT 1 FROM embeddings e "
                        "WHERE e.photo_id = p.id AND e.space = ?1) FROM photos p",
    [ST_EMBEDDING_INSERT] = "INSERT INTO embeddings (photo_id, space, model, model_version, "
                            "dim, vec) VALUES (?1, ?2, ?3, ?4, ?5, ?6) "
                            "ON CONFLICT (photo_id, space, model) DO NOTHING",
    /* The ranking reads no vectors, so its sort stays small; each vector is then one
     * indexed lookup. */
    [ST_VEC_LIST] = "SELECT person_id, id FROM (SELECT p.person_id, p.id, row_number() "
                    "OVER (PARTITION BY p.person_id ORDER BY p.vote_rank IS NULL, "
                    "p.vote_rank, p.id) AS k FROM photos p WHERE p.status = 'ok' "
                    "AND (?3 = 0 OR p.person_id = ?3) AND EXISTS (SELECT 1 FROM embeddings e "
                    "WHERE e.photo_id = p.id AND e.space = ?1 AND (?2 IS NULL OR "
                    "e.model = ?2))) WHERE ?4 = 0 OR k <= ?4 ORDER BY person_id, k",
    [ST_VEC_GET] = "SELECT dim, vec FROM embeddings WHERE photo_id = ?1 AND space = ?2 "
                   "AND (?3 IS NULL OR model = ?3) ORDER BY id LIMIT 1",
    [ST_TITLE_BY_TMDB] = "SELECT id FROM titles WHERE kind = ?1 AND tmdb_id = ?2",
    [ST_TITLE_BY_NAME] = "SELECT id FROM titles WHERE norm_title = ?1 "
                         "AND (?2 = '' OR kind = '' OR kind = ?2) "
                         "AND (?3 IS NULL OR year IS NULL OR year = ?3) "
                         "AND (?4 IS NULL OR tmdb_id IS NULL) "
                         "ORDER BY popularity DESC, id LIMIT 1",
    [ST_TITLE_INSERT] = "INSERT INTO titles (tmdb_id, kind, title, norm_title, year, "
                        "popularity) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    [ST_TITLE_FILL] = "UPDATE titles SET tmdb_id = coalesce(tmdb_id, ?2), "
                      "kind = CASE WHEN kind = '' THEN ?3 ELSE kind END, "
                      "year = coalesce(year, ?4), "
                      "popularity = CASE WHEN ?5 > 0 THEN ?5 ELSE popularity END WHERE id = ?1",
    [ST_CREDIT_FIND] = "SELECT 1 FROM credits WHERE person_id = ?1 AND title_id = ?2",
    [ST_CREDIT_PUT] = "INSERT INTO credits (person_id, title_id, character, cast_order, "
                      "episode_count) VALUES (?1, ?2, ?3, ?4, ?5) "
                      "ON CONFLICT (person_id, title_id) DO UPDATE SET "
                      "character = coalesce(character, excluded.character), "
                      "cast_order = coalesce(cast_order, excluded.cast_order), "
                      "episode_count = coalesce(excluded.episode_count, episode_count)",
    [ST_PERSON_PHOTO] = "SELECT source FROM photos WHERE person_id = ?1 AND status = 'ok' "
                        "ORDER BY coalesce(nullif(vote_rank, 0), 1 << 30), id LIMIT 1",
    /* The same photo for everyone at once: min() picks each person's row with the lowest
     * (rank, id), and SQLite takes the bare column source from that row. */
    [ST_BEST_PHOTOS] = "SELECT person_id, source, min(coalesce(nullif(vote_rank, 0), 1 << 30) "
                       "* 4294967296 + id) FROM photos WHERE status = 'ok' GROUP BY person_id "
                       "ORDER BY person_id",
    [ST_KNOWN_FOR] = "SELECT t.id, t.tmdb_id, t.kind, t.title, t.year, t.popularity, "
                     "c.character, c.cast_order, c.episode_count FROM credits c "
                     "JOIN titles t ON t.id = c.title_id WHERE c.person_id = ?1 "
                     "ORDER BY (c.cast_order IS NULL OR c.cast_order > 3), "
                     "t.popularity DESC, t.year IS NULL, t.year DESC, t.id LIMIT ?2",
    [ST_COUNTS] = "SELECT (SELECT count(*) FROM people), (SELECT count(*) FROM titles), "
                  "(SELECT count(*) FROM credits)",
    [ST_COUNT_STATUS] = "SELECT status, count(*) FROM photos GROUP BY status",
    [ST_COUNT_SPACES] = "SELECT e.space, e.model, count(*), count(DISTINCT p.person_id) "
                        "FROM embeddings e JOIN photos p ON p.id = e.photo_id "
                        "GROUP BY e.space, e.model ORDER BY e.space, e.model",
    [ST_STATE_GET] = "SELECT value FROM crawl_state WHERE key = ?1",
    [ST_STATE_SET] = "INSERT INTO crawl_state (key, value, updated_at) VALUES (?1, ?2, "
                     "CAST(strftime('%s', 'now') AS INTEGER)) ON CONFLICT (key) DO UPDATE "
                     "SET value = excluded.value, updated_at = excluded.updated_at",
    [ST_PERSON_PHOTOS] = "SELECT id, source, sha256, width, height, vote_rank, faces, face_x1, "
                          "face_y1, face_x2, face_y2, face_score FROM photos WHERE person_id = ?1 "
                          "AND status = 'ok' ORDER BY coalesce(nullif(vote_rank, 0), 1 << 30), "
                          "id LIMIT ?2",
    [ST_TITLE_GET] = "SELECT " TITLE_COLS " FROM titles WHERE id = ?1",
    /* A scan of the titles (tens of thousands): fast enough for a search box. */
    [ST_TITLES_SEARCH] = "SELECT " TITLE_COLS " FROM titles WHERE instr(norm_title, ?1) > 0 "
                         "ORDER BY instr(norm_title, ?1) <> 1, popularity DESC, "
                         "year IS NULL, year DESC, id LIMIT ?2",
    [ST_TITLE_CAST] = "SELECT p.id, p.name, p.tmdb_id, p.popularity, p.gender, p.birth_year, "
                      "p.department, c.character, c.cast_order, c.episode_count "
                      "FROM credits c JOIN people p ON p.id = c.person_id WHERE c.title_id = ?1 "
                      "ORDER BY c.cast_order IS NULL, c.cast_order, c.episode_count DESC, "
                      "p.popularity DESC, p.id LIMIT ?2",
    [ST_QUEUE_ADD] = "INSERT INTO crawl_queue (queue, key, data, updated_at) VALUES (?1, ?2, "
                     "?3, CAST(strftime('%s', 'now') AS INTEGER)) "
                     "ON CONFLICT (queue, key) DO NOTHING",
    [ST_QUEUE_PENDING] = "SELECT key, state, status, data FROM crawl_queue WHERE queue = ?1 "
                         "AND state = 0 AND key > ?2 ORDER BY key LIMIT ?3",
    [ST_QUEUE_FINISH] = "UPDATE crawl_queue SET state = ?3, status = ?4, "
                        "data = coalesce(?5, data), "
                        "updated_at = CAST(strftime('%s', 'now') AS INTEGER) "
                        "WHERE queue = ?1 AND key = ?2",
    [ST_QUEUE_COUNT] = "SELECT state, count(*) FROM crawl_queue WHERE queue = ?1 "
                       "GROUP BY state",
};

struct sqlite_catalog {
    struct catalog base; /* first: the public handle */
    sqlite3 *db;
    char *path;
    sqlite3_stmt *stmt[ST_COUNT];
    struct {
        const char *space; /* borrowed from the query, valid while iterating */
        const char *model;
        float v[CATALOG_DIM_MAX];
    } vec;
};

static struct sqlite_catalog *sq(struct catalog *c)
{
    return (struct sqlite_catalog *)c;
}

/* Fills e with the database's last error, prefixed by what was being done. */
static int db_fail(struct sqlite_catalog *s, const char *what, struct err *e)
{
    err_set(e, "catalogue %s: %s: %s", s->path, what, sqlite3_errmsg(s->db));
    return CATALOG_ERR_DB;
}

/* Returns the prepared statement id, preparing it on first use; NULL with e set. */
static sqlite3_stmt *stmt(struct sqlite_catalog *s, enum stmt_id id, struct err *e)
{
    if (s->stmt[id] == NULL &&
        sqlite3_prepare_v3(s->db, stmt_sql[id], -1, SQLITE_PREPARE_PERSISTENT, &s->stmt[id],
                           NULL) != SQLITE_OK) {
        db_fail(s, "preparing a query", e);
        return NULL;
    }
    return s->stmt[id];
}

/* Makes st ready for its next use. */
static void done(sqlite3_stmt *st)
{
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
}

/* Binds s, or NULL when s is empty. */
static void bind_text(sqlite3_stmt *st, int i, const char *s)
{
    if (s == NULL || *s == '\0')
        sqlite3_bind_null(st, i);
    else
        sqlite3_bind_text(st, i, s, -1, SQLITE_STATIC);
}

/* Binds v, or NULL when v is 0. */
static void bind_int(sqlite3_stmt *st, int i, int64_t v)
{
    if (v == 0)
        sqlite3_bind_null(st, i);
    else
        sqlite3_bind_int64(st, i, v);
}

/* Copies text column col into dst (n bytes), "" for NULL. */
static void col_text(sqlite3_stmt *st, int col, char *dst, size_t n)
{
    const unsigned char *t = sqlite3_column_text(st, col);

    snprintf(dst, n, "%s", t != NULL ? (const char *)t : "");
}

/* Runs st to completion (a write); resets it. */
static int run(struct sqlite_catalog *s, sqlite3_stmt *st, const char *what, struct err *e)
{
    int rc = sqlite3_step(st) == SQLITE_DONE ? CATALOG_OK : db_fail(s, what, e);

    done(st);
    return rc;
}

/* Steps st once: CATALOG_OK on a row (left for the caller to read and reset),
 * CATALOG_NOT_FOUND (reset) when none. */
static int row(struct sqlite_catalog *s, sqlite3_stmt *st, const char *what, struct err *e)
{
    int rc = sqlite3_step(st);

    if (rc == SQLITE_ROW)
        return CATALOG_OK;
    rc = rc == SQLITE_DONE ? CATALOG_NOT_FOUND : db_fail(s, what, e);
    done(st);
    return rc;
}

/* Runs a fixed statement by id (BEGIN, COMMIT, ROLLBACK). */
static int run_id(struct sqlite_catalog *s, enum stmt_id id, const char *what, struct err *e)
{
    sqlite3_stmt *st = stmt(s, id, e);

    return st != NULL ? run(s, st, what, e) : CATALOG_ERR_DB;
}

/* Starts a transaction of our own when the caller has none; *own says whether it did. */
static int tx_enter(struct sqlite_catalog *s, int *own, struct err *e)
{
    *own = sqlite3_get_autocommit(s->db);
    return *own ? run_id(s, ST_BEGIN, "starting a transaction", e) : CATALOG_OK;
}

/* Ends a transaction tx_enter started: commits when rc is ok, else rolls back. */
static int tx_leave(struct sqlite_catalog *s, int own, int rc, struct err *e)
{
    if (!own)
        return rc;
    if (rc == CATALOG_OK)
        return run_id(s, ST_COMMIT, "committing", e);
    if (!sqlite3_get_autocommit(s->db))
        run_id(s, ST_ROLLBACK, "rolling back", NULL);
    return rc;
}

static int sq_begin(struct catalog *c, struct err *e)
{
    return run_id(sq(c), ST_BEGIN, "starting a transaction", e);
}

static int sq_begin_read(struct catalog *c, struct err *e)
{
    return run_id(sq(c), ST_BEGIN_READ, "starting a read transaction", e);
}

static int sq_commit(struct catalog *c, struct err *e)
{
    return run_id(sq(c), ST_COMMIT, "committing", e);
}

static void sq_rollback(struct catalog *c)
{
    if (sq(c)->db != NULL && !sqlite3_get_autocommit(sq(c)->db))
        run_id(sq(c), ST_ROLLBACK, "rolling back", NULL);
}

static void read_person(sqlite3_stmt *st, struct catalog_person *p)
{
    memset(p, 0, sizeof *p);
    p->id = sqlite3_column_int64(st, 0);
    col_text(st, 1, p->name, sizeof p->name);
    p->tmdb_id = sqlite3_column_int64(st, 2);
    p->popularity = sqlite3_column_double(st, 3);
    p->gender = sqlite3_column_int(st, 4);
    p->birth_year = sqlite3_column_int(st, 5);
    col_text(st, 6, p->department, sizeof p->department);
}

/* Finds one person with statement id bound to key (an integer, or text when norm is not
 * NULL); *id receives the person's id, 0 when none. */
static int person_find(struct sqlite_catalog *s, enum stmt_id id, int64_t key, const char *norm,
                       int64_t *found, struct err *e)
{
    sqlite3_stmt *st = stmt(s, id, e);
    int rc;

    *found = 0;
    if (st == NULL)
        return CATALOG_ERR_DB;
    if (norm != NULL)
        sqlite3_bind_text(st, 1, norm, -1, SQLITE_STATIC);
    else
        sqlite3_bind_int64(st, 1, key);
    rc = row(s, st, "finding a person", e);
    if (rc != CATALOG_OK)
        return rc == CATALOG_NOT_FOUND ? CATALOG_OK : rc;
    *found = sqlite3_column_int64(st, 0);
    done(st);
    return CATALOG_OK;
}

/* Binds a person's values to st: with_id puts the id at ?1 and the values after it (?2
 * name, ?3 normalised name, ?4 TMDB id, ?5 popularity, ?6 gender, ?7 birth year, ?8
 * department); without, the values start at ?1. */
static void bind_person(sqlite3_stmt *st, int with_id, int64_t id, const struct catalog_person *p,
                        const char *norm)
{
    int i = 1;

    if (with_id)
        sqlite3_bind_int64(st, i++, id);
    bind_text(st, i++, p->name);
    bind_text(st, i++, norm);
    bind_int(st, i++, p->tmdb_id);
    sqlite3_bind_double(st, i++, p->popularity);
    sqlite3_bind_int(st, i++, p->gender);
    bind_int(st, i++, p->birth_year);
    bind_text(st, i, p->department);
}

/* The row p is the same person as: by TMDB id (or a same-named person without one),
 * else by name; 0 when new. */
static int person_match(struct sqlite_catalog *s, const struct catalog_person *p, const char *norm,
                        int64_t *id, struct err *e)
{
    int rc;

    if (p->tmdb_id == 0)
        return person_find(s, ST_PERSON_BY_NAME, 0, norm, id, e);
    rc = person_find(s, ST_PERSON_BY_TMDB, p->tmdb_id, NULL, id, e);
    if (rc == CATALOG_OK && *id == 0)
        rc = person_find(s, ST_PERSON_UNKEYED, 0, norm, id, e);
    return rc;
}

static int sq_person_upsert(struct catalog *c, const struct catalog_person *p, const char *norm,
                            int64_t *id, int *created, struct err *e)
{
    struct sqlite_catalog *s = sq(c);
    sqlite3_stmt *st;
    int own, rc = tx_enter(s, &own, e);

    if (rc == CATALOG_OK)
        rc = person_match(s, p, norm, id, e);
    if (rc != CATALOG_OK)
        goto out;
    if (created != NULL)
        *created = *id == 0;
    st = stmt(s, *id == 0 ? ST_PERSON_INSERT : p->tmdb_id ? ST_PERSON_REPLACE : ST_PERSON_FILL, e);
    if (st == NULL) {
        rc = CATALOG_ERR_DB;
        goto out;
    }
    bind_person(st, *id != 0, *id, p, norm);
    rc = run(s, st, "storing a person", e);
    if (rc == CATALOG_OK && *id == 0)
        *id = sqlite3_last_insert_rowid(s->db);
out:
    return tx_leave(s, own, rc, e);
}

static int sq_person_get(struct catalog *c, int64_t id, int64_t tmdb_id, const char *norm,
                         struct catalog_person *out, struct err *e)
{
    struct sqlite_catalog *s = sq(c);
    enum stmt_id which = norm != NULL ? ST_PERSON_BY_NAME
                         : tmdb_id    ? ST_PERSON_BY_TMDB
                                      : ST_PERSON_BY_ID;
    sqlite3_stmt *st = stmt(s, which, e);
    int rc;

    if (st == NULL)
        return CATALOG_ERR_DB;
    if (norm != NULL)
        sqlite3_bind_text(st, 1, norm, -1, SQLITE_STATIC);
    else
        sqlite3_bind_int64(st, 1, tmdb_id ? tmdb_id : id);
    rc = row(s, st, "reading a person", e);
    if (rc != CATALOG_OK)
        return rc;
    read_person(st, out);
    done(st);
    return CATALOG_OK;
}

static int sq_people_list(struct catalog *c, int (*fn)(void *ctx, const struct catalog_person *p),
                          void *ctx, struct err *e)
{
    struct sqlite_catalog *s = sq(c);
    sqlite3_stmt *st = stmt(s, ST_PEOPLE_LIST, e);
    struct catalog_person *p = xmalloc(sizeof *p);
    int rc = CATALOG_OK, step = SQLITE_DONE;

    if (st == NULL) {
        free(p);
        return CATALOG_ERR_DB;
    }
    while (rc == CATALOG_OK && (step = sqlite3_step(st)) == SQLITE_ROW) {
        read_person(st, p);
        rc = fn(ctx, p);
    }
    if (rc == CATALOG_OK && step != SQLITE_DONE)
        rc = db_fail(s, "listing people", e);
    done(st);
    free(p);
    return rc;
}

/* Binds a float, or NULL when unknown (absent is below zero for female, zero for age). */
static void bind_real(sqlite3_stmt *st, int i, double v, int known)
{
    if (known)
        sqlite3_bind_double(st, i, v);
    else
        sqlite3_bind_null(st, i);
}

static void bind_photo(sqlite3_stmt *st, const struct catalog_photo *ph)
{
    int ok = ph->status == CATALOG_PHOTO_OK;

    sqlite3_bind_int64(st, 1, ph->person_id);
    sqlite3_bind_text(st, 2, ph->source, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, ph->sha256, -1, SQLITE_STATIC);
    bind_int(st, 4, ph->width);
    bind_int(st, 5, ph->height);
    bind_int(st, 6, ph->rank);
    sqlite3_bind_text(st, 7, catalog_status_name(ph->status), -1, SQLITE_STATIC);
    bind_text(st, 8, ph->reason);
    sqlite3_bind_int(st, 9, ph->faces);
    for (int k = 0; k < 4; k++)
        bind_real(st, 10 + k, ph->box[k], ok);
    bind_real(st, 14, ph->score, ok);
    bind_real(st, 15, ph->age, ph->age > 0);
    bind_real(st, 16, ph->female, ph->female >= 0);
}

static int sq_photo_add(struct catalog *c, const struct catalog_photo *ph, int64_t *id,
                        int *created, struct err *e)
{
    struct sqlite_catalog *s = sq(c);
    sqlite3_stmt *ins = stmt(s, ST_PHOTO_INSERT, e), *find = stmt(s, ST_PHOTO_FIND, e);
    int rc;

    if (ins == NULL || find == NULL)
        return CATALOG_ERR_DB;
    bind_photo(ins, ph);
    rc = run(s, ins, "storing a photo", e);
    if (rc != CATALOG_OK)
        return rc;
    if (created != NULL)
        *created = sqlite3_changes(s->db) > 0;
    sqlite3_bind_text(find, 1, ph->sha256, -1, SQLITE_STATIC);
    rc = row(s, find, "finding a photo", e);
    if (rc == CATALOG_NOT_FOUND)
        rc = db_fail(s, "a photo vanished while being stored", e);
    if (rc != CATALOG_OK)
        return rc;
    *id = sqlite3_column_int64(find, 0);
    done(find);
    return CATALOG_OK;
}

static int status_code(const char *name)
{
    for (int i = 0; i < 3; i++) {
        if (strcmp(name, catalog_status_name(i)) == 0)
            return i;
    }
    return CATALOG_PHOTO_DECODE_ERROR;
}

static int sq_photos_known(struct catalog *c, const char *space,
                           int (*fn)(void *ctx, const char *sha256, int status, int embedded),
                           void *ctx, struct err *e)
{
    struct sqlite_catalog *s = sq(c);
    sqlite3_stmt *st = stmt(s, ST_PHOTOS_KNOWN, e);
    int rc = CATALOG_OK, step = SQLITE_DONE;

    if (st == NULL)
        return CATALOG_ERR_DB;
    sqlite3_bind_text(st, 1, space, -1, SQLITE_STATIC);
    while (rc == CATALOG_OK && (step = sqlite3_step(st)) == SQLITE_ROW)
        rc = fn(ctx, (const char *)sqlite3_column_text(st, 0),
                status_code((const char *)sqlite3_column_text(st, 1)), sqlite3_column_int(st, 2));
    if (rc == CATALOG_OK && step != SQLITE_DONE)
        rc = db_fail(s, "listing photos", e);
    done(st);
    return rc;
}

static int sq_embedding_put(struct catalog *c, const struct catalog_embedding *em, int *created,
                            struct err *e)
{
    struct sqlite_catalog *s = sq(c);
    sqlite3_stmt *st = stmt(s, ST_EMBEDDING_INSERT, e);
    int rc;

    if (st == NULL)
        return CATALOG_ERR_DB;
    sqlite3_bind_int64(st, 1, em->photo_id);
    sqlite3_bind_text(st, 2, em->space, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, em->model, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, em->version, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 5, em->dim);
    sqlite3_bind_blob(st, 6, em->v, em->dim * (int)sizeof(float), SQLITE_STATIC);
    rc = run(s, st, "storing an embedding", e);
    if (rc == CATALOG_OK && created != NULL)
        *created = sqlite3_changes(s->db) > 0;
    return rc;
}

static int sq_vec_open(struct catalog *c, const char *space, const char *model, int max,
                       int64_t person, struct err *e)
{
    struct sqlite_catalog *s = sq(c);
    sqlite3_stmt *st = stmt(s, ST_VEC_LIST, e);

    if (st == NULL || stmt(s, ST_VEC_GET, e) == NULL)
        return CATALOG_ERR_DB;
    s->vec.space = space;
    s->vec.model = model;
    sqlite3_bind_text(st, 1, space, -1, SQLITE_STATIC);
    bind_text(st, 2, model);
    sqlite3_bind_int64(st, 3, person);
    sqlite3_bind_int(st, 4, max);
    return CATALOG_OK;
}

/* Reads photo's vector into s->vec.v; *dim receives its size. */
static int vec_read(struct sqlite_catalog *s, int64_t photo, int *dim, struct err *e)
{
    sqlite3_stmt *st = s->stmt[ST_VEC_GET];
    int rc, bytes;

    sqlite3_bind_int64(st, 1, photo);
    sqlite3_bind_text(st, 2, s->vec.space, -1, SQLITE_STATIC);
    bind_text(st, 3, s->vec.model);
    rc = row(s, st, "reading a vector", e);
    if (rc == CATALOG_NOT_FOUND)
        rc = db_fail(s, "a vector vanished while being read", e);
    if (rc != CATALOG_OK)
        return rc;
    *dim = sqlite3_column_int(st, 0);
    bytes = sqlite3_column_bytes(st, 1);
    if (*dim < 1 || *dim > CATALOG_DIM_MAX || bytes != *dim * (int)sizeof(float)) {
        err_set(e, "catalogue %s: photo %lld: a malformed vector", s->path, (long long)photo);
        rc = CATALOG_ERR_DB;
    } else {
        memcpy(s->vec.v, sqlite3_column_blob(st, 1), (size_t)bytes);
    }
    done(st);
    return rc;
}

static int sq_vec_next(struct catalog *c, struct catalog_vec_row *r, struct err *e)
{
    struct sqlite_catalog *s = sq(c);
    sqlite3_stmt *st = s->stmt[ST_VEC_LIST];
    int step = sqlite3_step(st);

    if (step == SQLITE_DONE)
        return CATALOG_DONE;
    if (step != SQLITE_ROW)
        return db_fail(s, "listing vectors", e);
    r->person_id = sqlite3_column_int64(st, 0);
    r->photo_id = sqlite3_column_int64(st, 1);
    r->v = s->vec.v;
    return vec_read(s, r->photo_id, &r->dim, e);
}

static void sq_vec_close(struct catalog *c)
{
    struct sqlite_catalog *s = sq(c);

    done(s->stmt[ST_VEC_LIST]);
    s->vec.space = NULL;
    s->vec.model = NULL;
}

/* The title t is: by (kind, TMDB id), else by normalised title; *id 0 when new. */
static int title_match(struct sqlite_catalog *s, const struct catalog_title *t, const char *norm,
                       int64_t *id, struct err *e)
{
    sqlite3_stmt *st = stmt(s, ST_TITLE_BY_TMDB, e);
    int rc = CATALOG_NOT_FOUND;

    *id = 0;
    if (st == NULL)
        return CATALOG_ERR_DB;
    if (t->tmdb_id != 0) {
        sqlite3_bind_text(st, 1, catalog_kind_name(t->kind), -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 2, t->tmdb_id);
        rc = row(s, st, "finding a title", e);
    }
    if (rc == CATALOG_NOT_FOUND) {
        st = stmt(s, ST_TITLE_BY_NAME, e);
        if (st == NULL)
            return CATALOG_ERR_DB;
        sqlite3_bind_text(st, 1, norm, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, catalog_kind_name(t->kind), -1, SQLITE_STATIC);
        bind_int(st, 3, t->year);
        bind_int(st, 4, t->tmdb_id);
        rc = row(s, st, "finding a title", e);
    }
    if (rc != CATALOG_OK)
        return rc == CATALOG_NOT_FOUND ? CATALOG_OK : rc;
    *id = sqlite3_column_int64(st, 0);
    done(st);
    return CATALOG_OK;
}

static void bind_title(sqlite3_stmt *st, int64_t id, const struct catalog_title *t,
                       const char *norm)
{
    if (id != 0) {
        sqlite3_bind_int64(st, 1, id);
        bind_int(st, 2, t->tmdb_id);
        sqlite3_bind_text(st, 3, catalog_kind_name(t->kind), -1, SQLITE_STATIC);
        bind_int(st, 4, t->year);
        sqlite3_bind_double(st, 5, t->popularity);
        return;
    }
    bind_int(st, 1, t->tmdb_id);
    sqlite3_bind_text(st, 2, catalog_kind_name(t->kind), -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, t->title, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, norm, -1, SQLITE_STATIC);
    bind_int(st, 5, t->year);
    sqlite3_bind_double(st, 6, t->popularity);
}

static int sq_title_upsert(struct catalog *c, const struct catalog_title *t, const char *norm,
                           int64_t *id, int *created, struct err *e)
{
    struct sqlite_catalog *s = sq(c);
    sqlite3_stmt *st;
    int own, rc = tx_enter(s, &own, e);

    if (rc == CATALOG_OK)
        rc = title_match(s, t, norm, id, e);
    if (rc != CATALOG_OK)
        goto out;
    if (created != NULL)
        *created = *id == 0;
    st = stmt(s, *id == 0 ? ST_TITLE_INSERT : ST_TITLE_FILL, e);
    if (st == NULL) {
        rc = CATALOG_ERR_DB;
        goto out;
    }
    bind_title(st, *id, t, norm);
    rc = run(s, st, "storing a title", e);
    if (rc == CATALOG_OK && *id == 0)
        *id = sqlite3_last_insert_rowid(s->db);
out:
    return tx_leave(s, own, rc, e);
}

static int sq_credit_put(struct catalog *c, const struct catalog_credit *cr, int *created,
                         struct err *e)
{
    struct sqlite_catalog *s = sq(c);
    sqlite3_stmt *find = stmt(s, ST_CREDIT_FIND, e), *put = stmt(s, ST_CREDIT_PUT, e);
    int rc;

    if (find == NULL || put == NULL)
        return CATALOG_ERR_DB;
    sqlite3_bind_int64(find, 1, cr->person_id);
    sqlite3_bind_int64(find, 2, cr->title_id);
    rc = row(s, find, "finding a credit", e);
    if (rc == CATALOG_OK)
        done(find);
    else if (rc != CATALOG_NOT_FOUND)
        return rc;
    if (created != NULL)
        *created = rc == CATALOG_NOT_FOUND;
    sqlite3_bind_int64(put, 1, cr->person_id);
    sqlite3_bind_int64(put, 2, cr->title_id);
    bind_text(put, 3, cr->character);
    bind_int(put, 4, cr->order);
    bind_int(put, 5, cr->episodes);
    return run(s, put, "storing a credit", e);
}

static int kind_code(const char *name)
{
    for (int i = 0; i < 3; i++) {
        if (strcmp(name, catalog_kind_name(i)) == 0)
            return i;
    }
    return CATALOG_TITLE_UNKNOWN;
}

static void read_known(sqlite3_stmt *st, int64_t person_id, struct catalog_known *k)
{
    memset(k, 0, sizeof *k);
    k->title.id = sqlite3_column_int64(st, 0);
    k->title.tmdb_id = sqlite3_column_int64(st, 1);
    k->title.kind = kind_code((const char *)sqlite3_column_text(st, 2));
    col_text(st, 3, k->title.title, sizeof k->title.title);
    k->title.year = sqlite3_column_int(st, 4);
    k->title.popularity = sqlite3_column_double(st, 5);
    k->credit.person_id = person_id;
    k->credit.title_id = k->title.id;
    col_text(st, 6, k->credit.character, sizeof k->credit.character);
    k->credit.order = sqlite3_column_int(st, 7);
    k->credit.episodes = sqlite3_column_int(st, 8);
}

static int sq_person_photo(struct catalog *c, int64_t person_id, char *out, size_t n,
                           struct err *e)
{
    struct sqlite_catalog *s = sq(c);
    sqlite3_stmt *st = stmt(s, ST_PERSON_PHOTO, e);
    int rc;

    if (st == NULL)
        return CATALOG_ERR_DB;
    sqlite3_bind_int64(st, 1, person_id);
    rc = row(s, st, "reading a photo", e);
    if (rc == CATALOG_OK) {
        col_text(st, 0, out, n);
        done(st);
    }
    return rc;
}

static int sq_best_photos(struct catalog *c,
                          int (*fn)(void *ctx, int64_t person_id, const char *source), void *ctx,
                          struct err *e)
{
    struct sqlite_catalog *s = sq(c);
    sqlite3_stmt *st = stmt(s, ST_BEST_PHOTOS, e);
    int rc = CATALOG_OK, step = SQLITE_DONE;

    if (st == NULL)
        return CATALOG_ERR_DB;
    while (rc == CATALOG_OK && (step = sqlite3_step(st)) == SQLITE_ROW) {
        const unsigned char *src = sqlite3_column_text(st, 1);

        rc = fn(ctx, sqlite3_column_int64(st, 0), src != NULL ? (const char *)src : "");
    }
    if (rc == CATALOG_OK && step != SQLITE_DONE)
        rc = db_fail(s, "listing photos", e);
    done(st);
    return rc;
}

static int sq_known_for(struct catalog *c, int64_t person_id, struct catalog_known *out, int max,
                        int *n, struct err *e)
{
    struct sqlite_catalog *s = sq(c);
    sqlite3_stmt *st = stmt(s, ST_KNOWN_FOR, e);
    int step = SQLITE_DONE;

    if (st == NULL)
        return CATALOG_ERR_DB;
    sqlite3_bind_int64(st, 1, person_id);
    sqlite3_bind_int(st, 2, max);
    while (*n < max && (step = sqlite3_step(st)) == SQLITE_ROW)
        read_known(st, person_id, &out[(*n)++]);
    done(st);
    return step == SQLITE_ROW || step == SQLITE_DONE ? CATALOG_OK : db_fail(s, "reading titles", e);
}

static int sq_person_photos(struct catalog *c, int64_t person_id, struct catalog_photo *out,
                            int max, int *n, struct err *e)
{
    struct sqlite_catalog *s = sq(c);
    sqlite3_stmt *st = stmt(s, ST_PERSON_PHOTOS, e);
    int step = SQLITE_DONE;

    if (st == NULL)
        return CATALOG_ERR_DB;
    sqlite3_bind_int64(st, 1, person_id);
    sqlite3_bind_int(st, 2, max);
    while (*n < max && (step = sqlite3_step(st)) == SQLITE_ROW) {
        struct catalog_photo *p = &out[(*n)++];

        memset(p, 0, sizeof *p);
        p->id = sqlite3_column_int64(st, 0);
        p->person_id = person_id;
        col_text(st, 1, p->source, sizeof p->source);
        col_text(st, 2, p->sha256, sizeof p->sha256);
        p->width = sqlite3_column_int(st, 3);
        p->height = sqlite3_column_int(st, 4);
        p->rank = sqlite3_column_int(st, 5);
        p->faces = sqlite3_column_int(st, 6);
        for (int i = 0; i < 4; i++)
            p->box[i] = (float)sqlite3_column_double(st, 7 + i);
        p->score = (float)sqlite3_column_double(st, 11);
    }
    done(st);
    return step == SQLITE_ROW || step == SQLITE_DONE ? CATALOG_OK : db_fail(s, "reading photos", e);
}

static void read_title(sqlite3_stmt *st, struct catalog_title *t)
{
    memset(t, 0, sizeof *t);
    t->id = sqlite3_column_int64(st, 0);
    t->tmdb_id = sqlite3_column_int64(st, 1);
    t->kind = kind_code((const char *)sqlite3_column_text(st, 2));
    col_text(st, 3, t->title, sizeof t->title);
    t->year = sqlite3_column_int(st, 4);
    t->popularity = sqlite3_column_double(st, 5);
}

static int sq_title_get(struct catalog *c, int64_t id, struct catalog_title *out, struct err *e)
{
    struct sqlite_catalog *s = sq(c);
    sqlite3_stmt *st = stmt(s, ST_TITLE_GET, e);
    int rc;

    if (st == NULL)
        return CATALOG_ERR_DB;
    sqlite3_bind_int64(st, 1, id);
    rc = row(s, st, "reading a title", e);
    if (rc == CATALOG_OK) {
        read_title(st, out);
        done(st);
    }
    return rc;
}

static int sq_titles_search(struct catalog *c, const char *norm, struct catalog_title *out,
                            int max, int *n, struct err *e)
{
    struct sqlite_catalog *s = sq(c);
    sqlite3_stmt *st = stmt(s, ST_TITLES_SEARCH, e);
    int step = SQLITE_DONE;

    if (st == NULL)
        return CATALOG_ERR_DB;
    sqlite3_bind_text(st, 1, norm, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 2, max);
    while (*n < max && (step = sqlite3_step(st)) == SQLITE_ROW)
        read_title(st, &out[(*n)++]);
    done(st);
    return step == SQLITE_ROW || step == SQLITE_DONE ? CATALOG_OK
                                                     : db_fail(s, "searching titles", e);
}

static int sq_title_cast(struct catalog *c, int64_t title_id, struct catalog_cast *out, int max,
                         int *n, struct err *e)
{
    struct sqlite_catalog *s = sq(c);
    sqlite3_stmt *st = stmt(s, ST_TITLE_CAST, e);
    int step = SQLITE_DONE;

    if (st == NULL)
        return CATALOG_ERR_DB;
    sqlite3_bind_int64(st, 1, title_id);
    sqlite3_bind_int(st, 2, max);
    while (*n < max && (step = sqlite3_step(st)) == SQLITE_ROW) {
        struct catalog_cast *k = &out[(*n)++];

        read_person(st, &k->person);
        memset(&k->credit, 0, sizeof k->credit);
        k->credit.person_id = k->person.id;
        k->credit.title_id = title_id;
        col_text(st, 7, k->credit.character, sizeof k->credit.character);
        k->credit.order = sqlite3_column_int(st, 8);
        k->credit.episodes = sqlite3_column_int(st, 9);
    }
    done(st);
    return step == SQLITE_ROW || step == SQLITE_DONE ? CATALOG_OK : db_fail(s, "reading a cast", e);
}

static int stats_counts(struct sqlite_catalog *s, struct catalog_stats *out, struct err *e)
{
    sqlite3_stmt *st = stmt(s, ST_COUNTS, e);
    int rc;

    if (st == NULL)
        return CATALOG_ERR_DB;
    rc = row(s, st, "counting", e);
    if (rc != CATALOG_OK)
        return rc == CATALOG_NOT_FOUND ? db_fail(s, "counting", e) : rc;
    out->people = sqlite3_column_int64(st, 0);
    out->titles = sqlite3_column_int64(st, 1);
    out->credits = sqlite3_column_int64(st, 2);
    done(st);
    return CATALOG_OK;
}

static int stats_photos(struct sqlite_catalog *s, struct catalog_stats *out, struct err *e)
{
    sqlite3_stmt *st = stmt(s, ST_COUNT_STATUS, e);
    int step;

    if (st == NULL)
        return CATALOG_ERR_DB;
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        int64_t n = sqlite3_column_int64(st, 1);

        out->photos_by_status[status_code((const char *)sqlite3_column_text(st, 0))] += n;
        out->photos += n;
    }
    done(st);
    return step == SQLITE_DONE ? CATALOG_OK : db_fail(s, "counting photos", e);
}

static int stats_spaces(struct sqlite_catalog *s, struct catalog_stats *out, struct err *e)
{
    sqlite3_stmt *st = stmt(s, ST_COUNT_SPACES, e);
    int step;

    if (st == NULL)
        return CATALOG_ERR_DB;
    while ((step = sqlite3_step(st)) == SQLITE_ROW && out->nspaces < CATALOG_SPACES_MAX) {
        struct catalog_space_stats *sp = &out->spaces[out->nspaces++];

        col_text(st, 0, sp->space, sizeof sp->space);
        col_text(st, 1, sp->model, sizeof sp->model);
        sp->embeddings = sqlite3_column_int64(st, 2);
        sp->people = sqlite3_column_int64(st, 3);
    }
    done(st);
    return step == SQLITE_DONE || step == SQLITE_ROW ? CATALOG_OK
                                                     : db_fail(s, "counting embeddings", e);
}

static int sq_stats(struct catalog *c, struct catalog_stats *out, struct err *e)
{
    struct sqlite_catalog *s = sq(c);
    int rc;

    out->schema = SCHEMA_VERSION;
    rc = stats_counts(s, out, e);
    if (rc == CATALOG_OK)
        rc = stats_photos(s, out, e);
    if (rc == CATALOG_OK)
        rc = stats_spaces(s, out, e);
    return rc;
}

static int sq_state_get(struct catalog *c, const char *key, struct buf *value, int *found,
                        struct err *e)
{
    struct sqlite_catalog *s = sq(c);
    sqlite3_stmt *st = stmt(s, ST_STATE_GET, e);
    int rc;

    if (st == NULL)
        return CATALOG_ERR_DB;
    sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
    rc = row(s, st, "reading crawl state", e);
    if (rc != CATALOG_OK)
        return rc == CATALOG_NOT_FOUND ? CATALOG_OK : rc;
    *found = 1;
    if (buf_append(value, sqlite3_column_text(st, 0), (size_t)sqlite3_column_bytes(st, 0)) !=
        BUF_OK) {
        err_set(e, "crawl state %s: the value is larger than the buffer's cap", key);
        rc = CATALOG_ERR_INPUT;
    }
    done(st);
    return rc;
}

static int sq_state_set(struct catalog *c, const char *key, const char *value, struct err *e)
{
    struct sqlite_catalog *s = sq(c);
    sqlite3_stmt *st = stmt(s, ST_STATE_SET, e);

    if (st == NULL)
        return CATALOG_ERR_DB;
    sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, value, -1, SQLITE_STATIC);
    return run(s, st, "storing crawl state", e);
}

static int sq_queue_add(struct catalog *c, const char *queue, int64_t key, const char *data,
                        int *created, struct err *e)
{
    struct sqlite_catalog *s = sq(c);
    sqlite3_stmt *st = stmt(s, ST_QUEUE_ADD, e);
    int rc;

    if (st == NULL)
        return CATALOG_ERR_DB;
    sqlite3_bind_text(st, 1, queue, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, key);
    sqlite3_bind_text(st, 3, data != NULL ? data : "", -1, SQLITE_STATIC);
    rc = run(s, st, "queueing crawl work", e);
    if (rc == CATALOG_OK && created != NULL)
        *created = sqlite3_changes(s->db) > 0;
    return rc;
}

static int sq_queue_pending(struct catalog *c, const char *queue, int64_t after,
                            struct catalog_queue_item *out, int max, int *n, struct err *e)
{
    struct sqlite_catalog *s = sq(c);
    sqlite3_stmt *st = stmt(s, ST_QUEUE_PENDING, e);
    int rc;

    if (st == NULL)
        return CATALOG_ERR_DB;
    sqlite3_bind_text(st, 1, queue, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, after);
    sqlite3_bind_int(st, 3, max);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW && *n < max) {
        struct catalog_queue_item *it = &out[(*n)++];

        it->key = sqlite3_column_int64(st, 0);
        it->state = sqlite3_column_int(st, 1);
        it->status = sqlite3_column_int(st, 2);
        col_text(st, 3, it->data, sizeof it->data);
    }
    rc = rc == SQLITE_DONE || rc == SQLITE_ROW ? CATALOG_OK
                                               : db_fail(s, "reading the crawl queue", e);
    done(st);
    return rc;
}

static int sq_queue_finish(struct catalog *c, const char *queue, int64_t key, int state,
                           int status, const char *data, struct err *e)
{
    struct sqlite_catalog *s = sq(c);
    sqlite3_stmt *st = stmt(s, ST_QUEUE_FINISH, e);

    if (st == NULL)
        return CATALOG_ERR_DB;
    sqlite3_bind_text(st, 1, queue, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, key);
    sqlite3_bind_int(st, 3, state);
    sqlite3_bind_int(st, 4, status);
    if (data != NULL)
        sqlite3_bind_text(st, 5, data, -1, SQLITE_STATIC);
    return run(s, st, "updating the crawl queue", e);
}

static int sq_queue_count(struct catalog *c, const char *queue, int64_t counts[3],
                          struct err *e)
{
    struct sqlite_catalog *s = sq(c);
    sqlite3_stmt *st = stmt(s, ST_QUEUE_COUNT, e);
    int rc;

    if (st == NULL)
        return CATALOG_ERR_DB;
    sqlite3_bind_text(st, 1, queue, -1, SQLITE_STATIC);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        int state = sqlite3_column_int(st, 0);

        if (state >= 0 && state < 3)
            counts[state] = sqlite3_column_int64(st, 1);
    }
    rc = rc == SQLITE_DONE ? CATALOG_OK : db_fail(s, "counting the crawl queue", e);
    done(st);
    return rc;
}

static void sq_close(struct catalog *c)
{
    struct sqlite_catalog *s = sq(c);

    sq_rollback(c);
    for (int i = 0; i < ST_COUNT; i++)
        sqlite3_finalize(s->stmt[i]);
    sqlite3_close(s->db);
    free(s->path);
    free(s);
}

static const struct catalog_ops sqlite_ops = {
    .close = sq_close,
    .begin = sq_begin,
    .commit = sq_commit,
    .rollback = sq_rollback,
    .begin_read = sq_begin_read,
    .person_upsert = sq_person_upsert,
    .person_get = sq_person_get,
    .people_list = sq_people_list,
    .photo_add = sq_photo_add,
    .photos_known = sq_photos_known,
    .embedding_put = sq_embedding_put,
    .vec_open = sq_vec_open,
    .vec_next = sq_vec_next,
    .vec_close = sq_vec_close,
    .title_upsert = sq_title_upsert,
    .credit_put = sq_credit_put,
    .person_photo = sq_person_photo,
    .best_photos = sq_best_photos,
    .known_for = sq_known_for,
    .stats = sq_stats,
    .state_get = sq_state_get,
    .state_set = sq_state_set,
    .person_photos = sq_person_photos,
    .title_get = sq_title_get,
    .titles_search = sq_titles_search,
    .title_cast = sq_title_cast,
    .queue_add = sq_queue_add,
    .queue_pending = sq_queue_pending,
    .queue_finish = sq_queue_finish,
    .queue_count = sq_queue_count,
};

/* Reads PRAGMA user_version into *v. */
static int schema_version(struct sqlite_catalog *s, int *v, struct err *e)
{
    sqlite3_stmt *st = NULL;
    int rc = CATALOG_OK;

    if (sqlite3_prepare_v2(s->db, "PRAGMA user_version", -1, &st, NULL) != SQLITE_OK ||
        sqlite3_step(st) != SQLITE_ROW)
        rc = db_fail(s, "reading the schema version", e);
    else
        *v = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    return rc;
}

/* Runs a script of statements (schema changes; no values are bound). */
static int exec(struct sqlite_catalog *s, const char *sql, const char *what, struct err *e)
{
    return sqlite3_exec(s->db, sql, NULL, NULL, NULL) == SQLITE_OK ? CATALOG_OK
                                                                   : db_fail(s, what, e);
}

/* Applies the migrations the file lacks, all in one transaction. */
static int migrate_locked(struct sqlite_catalog *s, struct err *e)
{
    char sql[64];
    int v = 0, rc = schema_version(s, &v, e);

    if (rc != CATALOG_OK)
        return rc;
    if (v > SCHEMA_VERSION) {
        err_set(e,
                "catalogue %s has schema version %d; this doppel knows up to %d (upgrade "
                "doppel)",
                s->path, v, SCHEMA_VERSION);
        return CATALOG_ERR_VERSION;
    }
    for (; v < SCHEMA_VERSION && rc == CATALOG_OK; v++)
        rc = exec(s, migrations[v], "migrating the schema", e);
    snprintf(sql, sizeof sql, "PRAGMA user_version = %d", v);
    return rc == CATALOG_OK ? exec(s, sql, "setting the schema version", e) : rc;
}

static int migrate(struct sqlite_catalog *s, struct err *e)
{
    int v = 0, rc = schema_version(s, &v, e);

    if (rc != CATALOG_OK || v == SCHEMA_VERSION)
        return rc;
    rc = exec(s, "BEGIN IMMEDIATE", "starting the migration", e);
    if (rc != CATALOG_OK)
        return rc;
    rc = migrate_locked(s, e);
    if (rc == CATALOG_OK)
        return exec(s, "COMMIT", "committing the migration", e);
    sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
    return rc;
}

/* Creates the folder that will hold path. */
static int make_parent(const char *path, struct err *e)
{
    const char *slash = strrchr(path, '/');
    char *dir;
    int rc;

    if (slash == NULL || slash == path)
        return CATALOG_OK;
    dir = xstrndup(path, (size_t)(slash - path));
    rc = fs_mkdir_p(dir, e) == FS_OK ? CATALOG_OK : CATALOG_ERR_OPEN;
    free(dir);
    return rc;
}

/* Pages read through a mapping of the file rather than a pread each (a web page's lookups
 * made thousands of those a second). */
#define MMAP_SIZE "268435456"

/* Connection settings: WAL, foreign keys, busy timeout, mapped reads. */
static int configure(struct sqlite_catalog *s, struct err *e)
{
    sqlite3_extended_result_codes(s->db, 1);
    sqlite3_busy_timeout(s->db, BUSY_TIMEOUT_MS);
    return exec(s,
                "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; "
                "PRAGMA foreign_keys = ON; PRAGMA mmap_size = " MMAP_SIZE,
                "configuring", e);
}

/* SQLite's memory statistics take one process-wide mutex on every allocation, which
 * the web server's threads, each with its own handle, would fight over on every lookup.
 * doppel never reads them. Set once, before SQLite initialises. */
static void sqlite_setup(void)
{
    sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
}

int catalog_sqlite_open(const char *path, int flags, struct catalog **out, struct err *e)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    struct sqlite_catalog *s;
    int rc, mode = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX;

    *out = NULL;
    pthread_once(&once, sqlite_setup);
    if (!(flags & CATALOG_OPEN_CREATE) && !fs_is_file(path)) {
        err_set(e, "no catalogue at %s (doppel import creates one)", path);
        return CATALOG_ERR_OPEN;
    }
    if ((flags & CATALOG_OPEN_CREATE) && make_parent(path, e) != CATALOG_OK)
        return CATALOG_ERR_OPEN;
    s = xcalloc(1, sizeof *s);
    s->base.ops = &sqlite_ops;
    s->path = xstrdup(path);
    if (sqlite3_open_v2(path, &s->db, mode | (flags & CATALOG_OPEN_CREATE ? SQLITE_OPEN_CREATE : 0),
                        NULL) != SQLITE_OK) {
        db_fail(s, "opening", e);
        rc = CATALOG_ERR_OPEN;
        goto out;
    }
    rc = configure(s, e);
    if (rc == CATALOG_OK)
        rc = migrate(s, e);
    if (rc == CATALOG_ERR_DB && sqlite3_errcode(s->db) == SQLITE_NOTADB)
        rc = CATALOG_ERR_OPEN;
out:
    if (rc != CATALOG_OK) {
        sq_close(&s->base);
        return rc;
    }
    *out = &s->base;
    return CATALOG_OK;
}
