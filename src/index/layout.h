/*
 * layout: the on-disk format of an index file, shared by the writer, the reader and the
 * search (internal to src/index; callers use index/index.h).
 *
 * A 256-byte header, then eight sections, each starting on a 64-byte boundary so the
 * mapped arrays are used in place by the SIMD kernels; the file ends on a 64-byte
 * boundary. Integers and floats are little-endian (x86-64 and arm64 alike):
 *
 *   BASIS  head x dim float32  Householder vectors v_j: the int8 copy holds the
 *                              coordinates H_{head-1} ... H_0 x, H_j = I - 2 v_j v_j^T
 *   SCALE  count float32       per-row scale of the int8 copy
 *   TNORM  count float32       per-row L2 norm of the int8 tail (the pruning bound)
 *   IDS    count int64         row -> person id
 *   BYID   count uint32        rows sorted by id (binary search for index_find_id)
 *   HEAD   count x head int8   the first `head` coordinates of each rotated row
 *   TAIL   count x tail int8   the other `tail` = padded - head coordinates
 *   VEC    count x dim float32 the vectors as given, the truth re-ranking reads
 *
 * padded is dim rounded up to a multiple of 64 (the int8 rows are zero-padded so kernels
 * need no tail loop); head is 0 or a multiple of 64 below padded. The header's offsets
 * must equal the layout computed from (dim, head, count), so a file whose sizes do not
 * add up is refused before any section is read. meta_sum covers the header and the
 * small sections (BASIS to BYID) and is checked at open; data_sum covers HEAD, TAIL and VEC
 * and is checked only by index_verify, so opening costs no pass over the vectors.
 */
#ifndef DOPPEL_INDEX_LAYOUT_H
#define DOPPEL_INDEX_LAYOUT_H

#include "index/index.h"

#include <stddef.h>
#include <stdint.h>

#define LAYOUT_MAGIC       "DOPPELIX"
#define LAYOUT_VERSION     1
#define LAYOUT_HEADER_SIZE 256
#define LAYOUT_ALIGN       64
#define LAYOUT_ELEM_F32_I8 1 /* float32 vectors with an int8 per-row-scaled copy */

enum layout_section {
    LAYOUT_BASIS = 0,
    LAYOUT_SCALE,
    LAYOUT_TNORM,
    LAYOUT_IDS,
    LAYOUT_BYID,
    LAYOUT_HEAD,
    LAYOUT_TAIL,
    LAYOUT_VEC,
    LAYOUT_NSECT,
};

/* The header exactly as stored (every field naturally aligned, no padding). */
struct layout_header {
    char magic[8];               /* LAYOUT_MAGIC, no NUL */
    uint32_t version;            /* LAYOUT_VERSION */
    uint32_t header_size;        /* LAYOUT_HEADER_SIZE */
    char space[INDEX_SPACE_MAX]; /* NUL-terminated, NUL-padded */
    char model[INDEX_MODEL_MAX]; /* NUL-terminated, NUL-padded */
    uint32_t dim;
    uint32_t head;
    uint64_t count;
    uint32_t elem;  /* LAYOUT_ELEM_F32_I8 */
    uint32_t flags; /* 0 */
    uint64_t file_size;
    uint64_t off[LAYOUT_NSECT];
    uint64_t meta_sum;
    uint64_t data_sum;
    unsigned char reserved[48]; /* zero */
};

/* Section offsets and sizes of one (dim, head, count). */
struct layout {
    uint32_t dim, head, tail, padded;
    uint64_t count;
    uint64_t off[LAYOUT_NSECT];
    uint64_t size[LAYOUT_NSECT];
    uint64_t file_size;
};

/* The in-memory view of an index: the header's facts and pointers into the image. */
struct index {
    struct index_meta meta;
    struct layout lay;
    const unsigned char *base; /* the image: mmap'd file or the caller's buffer */
    size_t len;
    int mapped; /* 1 when base is our mapping, unmapped by index_close */
    int fd;     /* the file, kept open to read float rows with pread; -1 for an image */
    const float *basis, *scale, *tnorm, *vec;
    const int64_t *ids;
    const uint32_t *byid;
    const int8_t *qhead, *qtail;
    uint64_t data_sum;
    char *name; /* the path, for messages; NULL for an image in memory */
    struct hnsw *hnsw; /* attached approximate-search graph, owned; NULL for none */
};

/* Returns padded (dim rounded up to 64). */
uint32_t layout_padded(uint32_t dim);

/* Fills *lay for the given shape. Returns 0, or -1 with the reason in e when head is not
 * 0 or a multiple of 64 below padded, or when a size overflows 64 bits. */
int layout_compute(uint32_t dim, uint32_t head, uint64_t count, struct layout *lay, struct err *e);

/* Quantises y (dim floats) to int8 in out (padded bytes, zeros past dim) with one scale,
 * max |y| / 127, rounding halves away from zero, so values lie in [-127, 127]; returns
 * the scale (0, with all zeros, for a zero or non-finite y). */
float layout_quantise(const float *y, uint32_t dim, uint32_t padded, int8_t *out);

/* Maps the regular file at path read-only into *map (NULL for an empty file), its size
 * in *len; with fd non-NULL the file stays open there (else it is closed). INDEX_OK, or
 * INDEX_ERR_IO with the reason in e (not prefixed with the path). */
int layout_map_file(const char *path, void **map, size_t *len, int *fd, struct err *e);

/* Syncs the folder holding path, so a rename in it is durable. INDEX_OK or INDEX_ERR_IO. */
int layout_sync_dir(const char *path, struct err *e);

/* Writes n bytes to path atomically: a temporary file beside it, fsync, rename, folder
 * sync. INDEX_OK or INDEX_ERR_IO with a message starting with path. */
int layout_write_file(const char *path, const void *buf, size_t n, struct err *e);

/* A 64-bit checksum of n bytes (four multiply-rotate lanes over 32-byte blocks, then a
 * finaliser): several GB/s, so the open-time check of a 406k-row index takes ~1 ms. It
 * finds accidental corruption; it is not a cryptographic digest. */
uint64_t layout_sum64(const void *p, size_t n, uint64_t seed);

/* The two checksums of an image whose layout is lay: meta (the header with both sum
 * fields read as zero, then sections BASIS..BYID) and data (HEAD, TAIL, VEC). */
uint64_t layout_meta_sum(const unsigned char *base, const struct layout *lay);
uint64_t layout_data_sum(const unsigned char *base, const struct layout *lay);

#endif
