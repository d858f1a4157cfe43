/*
 * index: writing and opening index files.
 *
 * Writing happens once per catalogue rebuild, so it favours safety over speed: every
 * vector and id is checked before a byte is written, the file is preallocated with
 * posix_fallocate (a full disk fails there, not with SIGBUS inside the mapping it is
 * then filled through), synced, and renamed over the old file, and the folder is synced
 * so the rename survives a crash. The int8 copy is computed in blocks of rows, rotated
 * with three matrix products per block.
 *
 * Opening maps the file and validates it in the order that makes every later read safe:
 * the header's own fields, then the layout they imply against the real size, then the
 * checksum of the header and the small sections. Nothing past the header is read before
 * the layout is known to fit, and the vectors are not read at all (index_verify does).
 */
#include "index/index.h"

#include "index/basis.h"
#include "index/hnsw.h"
#include "index/layout.h"
#include "util/xalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define WRITE_HEAD          64   /* int8 head width of written indexes */
#define WRITE_HEAD_MIN_ROWS 256  /* below this, no head: a full scan is as cheap */
#define WRITE_BLOCK         2048 /* rows rotated at once */
#define UNIT_TOLERANCE      1e-3

struct id_row {
    int64_t id;
    uint32_t row;
};

static int cmp_id_row(const void *a, const void *b)
{
    const struct id_row *x = a, *y = b;

    return (x->id > y->id) - (x->id < y->id);
}

static int check_meta(const struct index_meta *m, const float *vecs, const int64_t *ids,
                      struct err *e)
{
    if (memchr(m->space, 0, sizeof m->space) == NULL || m->space[0] == '\0') {
        err_set(e, "space name empty or longer than %d bytes", INDEX_SPACE_MAX - 1);
        return INDEX_ERR_INPUT;
    }
    if (memchr(m->model, 0, sizeof m->model) == NULL) {
        err_set(e, "model version longer than %d bytes", INDEX_MODEL_MAX - 1);
        return INDEX_ERR_INPUT;
    }
    if (m->dim < 1 || m->dim > INDEX_DIM_MAX) {
        err_set(e, "dimension %u out of range 1..%d", m->dim, INDEX_DIM_MAX);
        return INDEX_ERR_INPUT;
    }
    if (m->count > UINT32_MAX) {
        err_set(e, "%llu rows, more than %u", (unsigned long long)m->count, UINT32_MAX);
        return INDEX_ERR_INPUT;
    }
    if (m->count > 0 && (vecs == NULL || ids == NULL)) {
        err_set(e, "no vectors or ids given for %llu rows", (unsigned long long)m->count);
        return INDEX_ERR_INPUT;
    }
    return INDEX_OK;
}

/* Checks that every vector is finite and of unit length and every id is >= 0. */
static int check_rows(const struct index_meta *m, const float *vecs, const int64_t *ids,
                      struct err *e)
{
    for (uint64_t r = 0; r < m->count; r++) {
        const float *v = vecs + r * m->dim;
        double n = 0;

        for (uint32_t i = 0; i < m->dim; i++)
            n += (double)v[i] * v[i];
        n = sqrt(n);
        if (!(fabs(n - 1) <= UNIT_TOLERANCE)) {
            err_set(e, "row %llu: vector length %g, not 1 (not L2-normalised, or not finite)",
                    (unsigned long long)r, n);
            return INDEX_ERR_INPUT;
        }
        if (ids[r] < 0) {
            err_set(e, "row %llu: id %lld is negative", (unsigned long long)r, (long long)ids[r]);
            return INDEX_ERR_INPUT;
        }
    }
    return INDEX_OK;
}

/* The rows sorted by id, into byid (count entries); fails on a repeated id. */
static int sort_ids(const int64_t *ids, uint64_t count, uint32_t *byid, struct err *e)
{
    struct id_row *p = xmalloc((count ? count : 1) * sizeof *p);
    int rc = INDEX_OK;

    for (uint64_t r = 0; r < count; r++)
        p[r] = (struct id_row){ids[r], (uint32_t)r};
    qsort(p, count, sizeof *p, cmp_id_row);
    for (uint64_t i = 0; i < count; i++) {
        if (i > 0 && p[i].id == p[i - 1].id) {
            err_set(e, "id %lld appears twice (rows %u and %u)", (long long)p[i].id,
                    p[i - 1].row < p[i].row ? p[i - 1].row : p[i].row,
                    p[i - 1].row < p[i].row ? p[i].row : p[i - 1].row);
            rc = INDEX_ERR_INPUT;
            break;
        }
        byid[i] = p[i].row;
    }
    free(p);
    return rc;
}

/* Fills SCALE, TNORM, HEAD and TAIL: each row rotated, quantised and split. */
static void fill_int8(unsigned char *base, const struct layout *lay, const float *vecs,
                      const float *hv)
{
    float *y = xmalloc((size_t)WRITE_BLOCK * lay->dim * sizeof(float));
    int8_t *q = xmalloc(lay->padded);
    float *scale = (float *)(base + lay->off[LAYOUT_SCALE]);
    float *tnorm = (float *)(base + lay->off[LAYOUT_TNORM]);

    for (uint64_t r0 = 0; r0 < lay->count; r0 += WRITE_BLOCK) {
        uint64_t n = lay->count - r0 < WRITE_BLOCK ? lay->count - r0 : WRITE_BLOCK;
        const float *x = vecs + r0 * lay->dim;

        basis_rotate_rows(hv, lay->head, lay->dim, x, n, y);
        for (uint64_t i = 0; i < n; i++) {
            uint64_t r = r0 + i;
            double t = 0;

            scale[r] = layout_quantise(y + i * lay->dim, lay->dim, lay->padded, q);
            for (uint32_t j = lay->head; j < lay->padded; j++)
                t += (double)q[j] * q[j];
            tnorm[r] = (float)sqrt(t);
            memcpy(base + lay->off[LAYOUT_HEAD] + r * lay->head, q, lay->head);
            memcpy(base + lay->off[LAYOUT_TAIL] + r * lay->tail, q + lay->head, lay->tail);
        }
    }
    free(q);
    free(y);
}

/* Fills the whole image: sections, then the header with both checksums. */
static void fill(unsigned char *base, const struct layout *lay, const struct index_meta *m,
                 const float *vecs, const int64_t *ids, const uint32_t *byid, const float *hv)
{
    struct layout_header h;

    memset(&h, 0, sizeof h);
    memcpy(h.magic, LAYOUT_MAGIC, sizeof h.magic);
    h.version = LAYOUT_VERSION;
    h.header_size = LAYOUT_HEADER_SIZE;
    memcpy(h.space, m->space, sizeof h.space);
    memcpy(h.model, m->model, sizeof h.model);
    h.dim = lay->dim;
    h.head = lay->head;
    h.count = lay->count;
    h.elem = LAYOUT_ELEM_F32_I8;
    h.file_size = lay->file_size;
    memcpy(h.off, lay->off, sizeof h.off);
    memcpy(base + lay->off[LAYOUT_BASIS], hv, lay->size[LAYOUT_BASIS]);
    if (lay->count > 0) {
        memcpy(base + lay->off[LAYOUT_IDS], ids, lay->size[LAYOUT_IDS]);
        memcpy(base + lay->off[LAYOUT_BYID], byid, lay->size[LAYOUT_BYID]);
        memcpy(base + lay->off[LAYOUT_VEC], vecs, lay->size[LAYOUT_VEC]);
        fill_int8(base, lay, vecs, hv);
    }
    memcpy(base, &h, sizeof h);
    h.meta_sum = layout_meta_sum(base, lay);
    h.data_sum = layout_data_sum(base, lay);
    memcpy(base, &h, sizeof h);
}

/* The int8 head width for a new index: none for small ones, where a full scan costs
 * nothing, or where the head would be all there is. */
static uint32_t write_head(const struct index_meta *m)
{
    if (m->count < WRITE_HEAD_MIN_ROWS || layout_padded(m->dim) <= WRITE_HEAD)
        return 0;
    return WRITE_HEAD;
}

/* Creates the temporary file beside path with size bytes reserved and maps it. */
static int create_mapped(const char *path, uint64_t size, char **tmp, int *fd, unsigned char **map,
                         struct err *e)
{
    size_t n = strlen(path) + 16;
    int ferr;

    *tmp = xmalloc(n);
    snprintf(*tmp, n, "%s.tmp-XXXXXX", path);
    *fd = mkstemp(*tmp);
    if (*fd < 0) {
        err_set(e, "cannot create %s: %s", *tmp, strerror(errno));
        free(*tmp);
        *tmp = NULL;
        return INDEX_ERR_IO;
    }
    ferr = posix_fallocate(*fd, 0, (off_t)size);
    if (ferr != 0 || fchmod(*fd, 0644) != 0) {
        err_set(e, "cannot reserve %llu bytes for %s: %s", (unsigned long long)size, *tmp,
                strerror(ferr != 0 ? ferr : errno));
        return INDEX_ERR_IO;
    }
    *map = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, *fd, 0);
    if (*map == MAP_FAILED) {
        *map = NULL;
        err_set(e, "cannot map %s: %s", *tmp, strerror(errno));
        return INDEX_ERR_IO;
    }
    return INDEX_OK;
}

int index_write(const char *path, const struct index_meta *meta, const float *vecs,
                const int64_t *ids, struct err *e)
{
    struct layout lay;
    uint32_t *byid = NULL;
    float *hv = NULL;
    unsigned char *map = NULL;
    char *tmp = NULL;
    int fd = -1, rc;

    rc = check_meta(meta, vecs, ids, e);
    if (rc == INDEX_OK)
        rc = check_rows(meta, vecs, ids, e);
    if (rc != INDEX_OK)
        goto out;
    byid = xmalloc((meta->count ? meta->count : 1) * sizeof *byid);
    rc = sort_ids(ids, meta->count, byid, e);
    if (rc != INDEX_OK)
        goto out;
    if (layout_compute(meta->dim, write_head(meta), meta->count, &lay, e) != 0) {
        rc = INDEX_ERR_INPUT;
        goto out;
    }
    hv = xmalloc(((size_t)lay.head * meta->dim + 1) * sizeof(float));
    basis_compute(vecs, meta->count, meta->dim, lay.head, hv);
    rc = create_mapped(path, lay.file_size, &tmp, &fd, &map, e);
    if (rc != INDEX_OK)
        goto out;
    fill(map, &lay, meta, vecs, ids, byid, hv);
    munmap(map, lay.file_size);
    map = NULL;
    if (fsync(fd) != 0 || close(fd) != 0) {
        fd = -1;
        err_set(e, "cannot write %s: %s", tmp, strerror(errno));
        rc = INDEX_ERR_IO;
        goto out;
    }
    fd = -1;
    if (rename(tmp, path) != 0) {
        err_set(e, "cannot rename %s: %s", tmp, strerror(errno));
        rc = INDEX_ERR_IO;
        goto out;
    }
    free(tmp);
    tmp = NULL;
    rc = layout_sync_dir(path, e);
out:
    if (map != NULL)
        munmap(map, lay.file_size);
    if (fd >= 0)
        close(fd);
    if (tmp != NULL)
        unlink(tmp);
    free(tmp);
    free(hv);
    free(byid);
    if (rc != INDEX_OK)
        err_prefix(e, "%s", path);
    return rc;
}

/* Checks the header's own fields (before the layout they imply). */
static int check_header(const struct layout_header *h, struct err *e)
{
    if (memcmp(h->magic, LAYOUT_MAGIC, sizeof h->magic) != 0) {
        err_set(e, "not a doppel index (bad magic)");
        return INDEX_ERR_FORMAT;
    }
    if (h->version != LAYOUT_VERSION) {
        err_set(e, "index format version %u; this doppel reads version %d (rebuild the index)",
                h->version, LAYOUT_VERSION);
        return INDEX_ERR_FORMAT;
    }
    if (h->header_size != LAYOUT_HEADER_SIZE || h->elem != LAYOUT_ELEM_F32_I8 || h->flags != 0) {
        err_set(e, "corrupt header (header size %u, element type %u, flags %#x)", h->header_size,
                h->elem, h->flags);
        return INDEX_ERR_FORMAT;
    }
    if (memchr(h->space, 0, sizeof h->space) == NULL || h->space[0] == '\0' ||
        memchr(h->model, 0, sizeof h->model) == NULL) {
        err_set(e, "corrupt header (space or model name not terminated)");
        return INDEX_ERR_FORMAT;
    }
    for (size_t i = 0; i < sizeof h->reserved; i++) {
        if (h->reserved[i] != 0) {
            err_set(e, "corrupt header (reserved byte %zu set)", i);
            return INDEX_ERR_FORMAT;
        }
    }
    if (h->dim < 1 || h->dim > INDEX_DIM_MAX) {
        err_set(e, "dimension %u out of range 1..%d", h->dim, INDEX_DIM_MAX);
        return INDEX_ERR_FORMAT;
    }
    if (h->count > UINT32_MAX) {
        err_set(e, "%llu rows, more than %u", (unsigned long long)h->count, UINT32_MAX);
        return INDEX_ERR_FORMAT;
    }
    return INDEX_OK;
}

/* Checks that the sections the header describes are where the layout puts them and that
 * the image is exactly as long as they need. */
static int check_layout(const struct layout_header *h, size_t len, struct layout *lay,
                        struct err *e)
{
    if (layout_compute(h->dim, h->head, h->count, lay, e) != 0)
        return INDEX_ERR_FORMAT;
    for (int s = 0; s < LAYOUT_NSECT; s++) {
        if (h->off[s] != lay->off[s]) {
            err_set(e, "corrupt header (section %d at offset %llu, expected %llu)", s,
                    (unsigned long long)h->off[s], (unsigned long long)lay->off[s]);
            return INDEX_ERR_FORMAT;
        }
    }
    if (h->file_size != lay->file_size) {
        err_set(e, "corrupt header (file size field %llu, the layout needs %llu)",
                (unsigned long long)h->file_size, (unsigned long long)lay->file_size);
        return INDEX_ERR_FORMAT;
    }
    if (len != lay->file_size) {
        err_set(e, "%s: %zu bytes, the header describes %llu",
                len < lay->file_size ? "truncated" : "trailing bytes", len,
                (unsigned long long)lay->file_size);
        return INDEX_ERR_FORMAT;
    }
    return INDEX_OK;
}

static void set_views(struct index *ix)
{
    const unsigned char *b = ix->base;
    const uint64_t *off = ix->lay.off;

    ix->basis = (const float *)(b + off[LAYOUT_BASIS]);
    ix->scale = (const float *)(b + off[LAYOUT_SCALE]);
    ix->tnorm = (const float *)(b + off[LAYOUT_TNORM]);
    ix->ids = (const int64_t *)(b + off[LAYOUT_IDS]);
    ix->byid = (const uint32_t *)(b + off[LAYOUT_BYID]);
    ix->qhead = (const int8_t *)(b + off[LAYOUT_HEAD]);
    ix->qtail = (const int8_t *)(b + off[LAYOUT_TAIL]);
    ix->vec = (const float *)(b + off[LAYOUT_VEC]);
}

int index_open_mem(const void *buf, size_t len, const char *space, struct index **out,
                   struct err *e)
{
    struct layout_header h;
    struct layout lay;
    struct index *ix;
    int rc;

    *out = NULL;
    if ((uintptr_t)buf % LAYOUT_ALIGN != 0) {
        err_set(e, "index image not 64-byte aligned");
        return INDEX_ERR_INPUT;
    }
    if (len < LAYOUT_HEADER_SIZE) {
        err_set(e, len == 0 ? "empty file" : "truncated: %zu bytes, less than the header", len);
        return INDEX_ERR_FORMAT;
    }
    memcpy(&h, buf, sizeof h);
    rc = check_header(&h, e);
    if (rc == INDEX_OK)
        rc = check_layout(&h, len, &lay, e);
    if (rc != INDEX_OK)
        return rc;
    if (layout_meta_sum(buf, &lay) != h.meta_sum) {
        err_set(e, "checksum mismatch in the header, basis or id map (corrupt file)");
        return INDEX_ERR_FORMAT;
    }
    if (space != NULL && strcmp(space, h.space) != 0) {
        err_set(e, "index of space '%s', expected '%s'", h.space, space);
        return INDEX_ERR_MISMATCH;
    }
    ix = xcalloc(1, sizeof *ix);
    ix->fd = -1;
    memcpy(ix->meta.space, h.space, sizeof h.space);
    memcpy(ix->meta.model, h.model, sizeof h.model);
    ix->meta.dim = h.dim;
    ix->meta.count = h.count;
    ix->lay = lay;
    ix->base = buf;
    ix->len = len;
    ix->data_sum = h.data_sum;
    set_views(ix);
    *out = ix;
    return INDEX_OK;
}

/* Tells the kernel that the tails and the vectors (the end of the file) are read a few
 * rows at a time, so a cold page cache does not read ahead around each one. */
static void advise_random(const struct index *ix)
{
    size_t page = (size_t)sysconf(_SC_PAGESIZE), start = ix->lay.off[LAYOUT_TAIL] / page * page;

    if (start < ix->len)
        madvise((void *)(ix->base + start), ix->len - start, MADV_RANDOM);
}

int index_open(const char *path, const char *space, struct index **out, struct err *e)
{
    void *map;
    size_t len;
    int fd, rc = layout_map_file(path, &map, &len, &fd, e);

    *out = NULL;
    if (rc == INDEX_OK)
        rc = index_open_mem(map, len, space, out, e);
    if (rc == INDEX_OK) {
        (*out)->mapped = 1;
        (*out)->fd = fd;
        (*out)->name = xstrdup(path);
        advise_random(*out);
    } else {
        if (map != NULL)
            munmap(map, len);
        if (fd >= 0)
            close(fd);
        err_prefix(e, "%s", path);
    }
    return rc;
}

int index_verify(const struct index *ix, struct err *e)
{
    if (layout_data_sum(ix->base, &ix->lay) != ix->data_sum) {
        err_set(e, "%s: checksum mismatch in the vectors (corrupt file)",
                ix->name != NULL ? ix->name : "index");
        return INDEX_ERR_FORMAT;
    }
    return INDEX_OK;
}

void index_close(struct index *ix)
{
    if (ix == NULL)
        return;
    if (ix->mapped)
        munmap((void *)ix->base, ix->len);
    if (ix->fd >= 0)
        close(ix->fd);
    hnsw_free(ix->hnsw);
    free(ix->name);
    free(ix);
}

const struct index_meta *index_get_meta(const struct index *ix)
{
    return &ix->meta;
}

const float *index_get_vector(const struct index *ix, uint32_t row)
{
    return row < ix->meta.count ? ix->vec + (size_t)row * ix->meta.dim : NULL;
}

const float *index_read_vector(const struct index *ix, uint32_t row, float *buf)
{
    const float *v = index_get_vector(ix, row);
    size_t n = (size_t)ix->meta.dim * sizeof(float);
    off_t at;

    if (v == NULL || ix->fd < 0)
        return v;
    at = (off_t)((const unsigned char *)v - ix->base);
    return pread(ix->fd, buf, n, at) == (ssize_t)n ? buf : v;
}

int64_t index_get_id(const struct index *ix, uint32_t row)
{
    return ix->ids[row];
}

int index_find_id(const struct index *ix, int64_t id, uint32_t *row)
{
    size_t lo = 0, hi = ix->meta.count;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        uint32_t r = ix->byid[mid];

        if (r >= ix->meta.count)
            return 0;
        if (ix->ids[r] == id) {
            *row = r;
            return 1;
        }
        if (ix->ids[r] < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    return 0;
}
