/*
 * layout: section arithmetic with every product and sum overflow-checked (a hostile
 * header can claim 2^63 rows), and the checksum. The checksum runs four independent
 * multiply-rotate lanes over 8-byte words, so it proceeds at several bytes per cycle
 * where SHA-256 manages well under one; the header's open-time check covers ~13 MB for
 * 406k x 1024 and must stay far below the 50 ms budget of index_open. Also the atomic
 * file write that the index, its graph and its near lists share.
 */
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

#define P1 0x9E3779B185EBCA87ull
#define P2 0xC2B2AE3D27D4EB4Full
#define P3 0x165667B19E3779F9ull

_Static_assert(sizeof(struct layout_header) == LAYOUT_HEADER_SIZE, "header is 256 bytes");
_Static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "index files are little-endian");

uint32_t layout_padded(uint32_t dim)
{
    return (dim + LAYOUT_ALIGN - 1) / LAYOUT_ALIGN * LAYOUT_ALIGN;
}

/* *out = a * b + c, rounded up to LAYOUT_ALIGN; -1 on overflow. */
static int mul_add_align(uint64_t a, uint64_t b, uint64_t c, uint64_t *out)
{
    uint64_t v;

    if (__builtin_mul_overflow(a, b, &v) || __builtin_add_overflow(v, c, &v) ||
        __builtin_add_overflow(v, LAYOUT_ALIGN - 1, &v))
        return -1;
    *out = v / LAYOUT_ALIGN * LAYOUT_ALIGN;
    return 0;
}

int layout_compute(uint32_t dim, uint32_t head, uint64_t count, struct layout *lay, struct err *e)
{
    uint64_t rows[LAYOUT_NSECT], width[LAYOUT_NSECT], pos = LAYOUT_HEADER_SIZE;

    memset(lay, 0, sizeof *lay);
    lay->dim = dim;
    lay->head = head;
    lay->count = count;
    lay->padded = layout_padded(dim);
    if (head % LAYOUT_ALIGN != 0 || head >= lay->padded) {
        err_set(e, "int8 head of %u dimensions is not 0 or a multiple of 64 below %u", head,
                lay->padded);
        return -1;
    }
    lay->tail = lay->padded - head;
    rows[LAYOUT_BASIS] = head;
    width[LAYOUT_BASIS] = (uint64_t)dim * sizeof(float);
    width[LAYOUT_SCALE] = sizeof(float);
    width[LAYOUT_TNORM] = sizeof(float);
    width[LAYOUT_IDS] = sizeof(int64_t);
    width[LAYOUT_BYID] = sizeof(uint32_t);
    width[LAYOUT_HEAD] = head;
    width[LAYOUT_TAIL] = lay->tail;
    width[LAYOUT_VEC] = (uint64_t)dim * sizeof(float);
    for (int s = 0; s < LAYOUT_NSECT; s++) {
        if (s != LAYOUT_BASIS)
            rows[s] = count;
        lay->off[s] = pos;
        if (__builtin_mul_overflow(rows[s], width[s], &lay->size[s]) ||
            mul_add_align(rows[s], width[s], pos, &pos) != 0) {
            err_set(e, "%llu rows of %u dimensions overflow 64-bit sizes",
                    (unsigned long long)count, dim);
            return -1;
        }
    }
    lay->file_size = pos;
    return 0;
}

float layout_quantise(const float *y, uint32_t dim, uint32_t padded, int8_t *out)
{
    float m = 0, inv;

    memset(out, 0, padded);
    for (uint32_t i = 0; i < dim; i++) {
        float a = y[i] < 0 ? -y[i] : y[i];

        m = a > m ? a : m;
    }
    if (!(m > 0) || !isfinite(m))
        return 0;
    inv = 127.0f / m;
    for (uint32_t i = 0; i < dim; i++) {
        float t = y[i] * inv; /* within [-127, 127] but for rounding; NaN becomes 0 */

        t = t > 127.0f ? 127.0f : t < -127.0f ? -127.0f : t == t ? t : 0.0f;
        out[i] = (int8_t)(int)(t + (t < 0 ? -0.5f : 0.5f));
    }
    return m / 127.0f;
}

static uint64_t rotl(uint64_t x, int r)
{
    return x << r | x >> (64 - r);
}

static uint64_t load64(const unsigned char *p)
{
    uint64_t w;

    memcpy(&w, p, 8);
    return w;
}

static uint64_t finish(uint64_t h)
{
    h ^= h >> 33;
    h *= 0xFF51AFD7ED558CCDull;
    h ^= h >> 33;
    h *= 0xC4CEB9FE1A85EC53ull;
    return h ^ h >> 33;
}

uint64_t layout_sum64(const void *data, size_t n, uint64_t seed)
{
    const unsigned char *p = data, *end = p + n;
    uint64_t a[4] = {seed + P1, seed ^ P2, seed + P3, seed - P1}, h;

    for (; end - p >= 32; p += 32) {
        for (int l = 0; l < 4; l++)
            a[l] = rotl(a[l] + load64(p + 8 * l) * P2, 31) * P1;
    }
    h = rotl(a[0], 1) + rotl(a[1], 7) + rotl(a[2], 12) + rotl(a[3], 18);
    for (; end - p >= 8; p += 8)
        h = rotl(h ^ load64(p) * P2, 27) * P1 + P3;
    for (; p < end; p++)
        h = rotl(h ^ *p * P3, 11) * P1;
    return finish(h ^ (uint64_t)n);
}

/* Checksum of sections [first, last] combined: each section's sum, seeded with its
 * number, then a sum of those sums seeded with extra (the header's own sum, or 0). */
static uint64_t sum_sections(const unsigned char *base, const struct layout *lay, int first,
                             int last, uint64_t extra)
{
    uint64_t sums[LAYOUT_NSECT + 1];
    int n = 0;

    sums[n++] = extra;
    for (int s = first; s <= last; s++)
        sums[n++] = layout_sum64(base + lay->off[s], lay->size[s], (uint64_t)s);
    return layout_sum64(sums, (size_t)n * sizeof sums[0], 0);
}

uint64_t layout_meta_sum(const unsigned char *base, const struct layout *lay)
{
    struct layout_header h;

    memcpy(&h, base, sizeof h);
    h.meta_sum = 0;
    h.data_sum = 0;
    return sum_sections(base, lay, LAYOUT_BASIS, LAYOUT_BYID, layout_sum64(&h, sizeof h, 99));
}

uint64_t layout_data_sum(const unsigned char *base, const struct layout *lay)
{
    return sum_sections(base, lay, LAYOUT_HEAD, LAYOUT_VEC, 0);
}

int layout_map_file(const char *path, void **map, size_t *len, int *fd, struct err *e)
{
    int f = open(path, O_RDONLY | O_CLOEXEC);
    struct stat st;

    *map = NULL;
    *len = 0;
    if (fd != NULL)
        *fd = -1;
    if (f < 0 || fstat(f, &st) != 0) {
        err_set(e, "%s", strerror(errno));
        if (f >= 0)
            close(f);
        return INDEX_ERR_IO;
    }
    if (!S_ISREG(st.st_mode)) {
        err_set(e, "not a regular file");
        close(f);
        return INDEX_ERR_IO;
    }
    if (st.st_size > 0) {
        *map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_SHARED, f, 0);
        if (*map == MAP_FAILED) {
            *map = NULL;
            err_set(e, "cannot map: %s", strerror(errno));
            close(f);
            return INDEX_ERR_IO;
        }
    }
    *len = (size_t)st.st_size;
    if (fd != NULL)
        *fd = f;
    else
        close(f);
    return INDEX_OK;
}

int layout_sync_dir(const char *path, struct err *e)
{
    const char *slash = strrchr(path, '/');
    char *dir =
        slash == NULL ? xstrdup(".") : xstrndup(path, slash == path ? 1 : (size_t)(slash - path));
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC), rc = INDEX_OK;

    if (fd < 0 || fsync(fd) != 0) {
        err_set(e, "cannot sync folder %s: %s", dir, strerror(errno));
        rc = INDEX_ERR_IO;
    }
    if (fd >= 0)
        close(fd);
    free(dir);
    return rc;
}

static int write_all(int fd, const unsigned char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);

        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

int layout_write_file(const char *path, const void *buf, size_t n, struct err *e)
{
    size_t tn = strlen(path) + 16;
    char *tmp = xmalloc(tn);
    int fd, rc = INDEX_OK;

    snprintf(tmp, tn, "%s.tmp-XXXXXX", path);
    fd = mkstemp(tmp);
    if (fd < 0) {
        err_set(e, "%s: cannot create %s: %s", path, tmp, strerror(errno));
        free(tmp);
        return INDEX_ERR_IO;
    }
    if (fchmod(fd, 0644) != 0 || write_all(fd, buf, n) != 0 || fsync(fd) != 0) {
        err_set(e, "%s: cannot write %s: %s", path, tmp, strerror(errno));
        rc = INDEX_ERR_IO;
    }
    if (close(fd) != 0 && rc == INDEX_OK) {
        err_set(e, "%s: cannot write %s: %s", path, tmp, strerror(errno));
        rc = INDEX_ERR_IO;
    }
    if (rc == INDEX_OK && rename(tmp, path) != 0) {
        err_set(e, "%s: cannot rename %s: %s", path, tmp, strerror(errno));
        rc = INDEX_ERR_IO;
    }
    if (rc != INDEX_OK)
        unlink(tmp);
    else
        rc = layout_sync_dir(path, e);
    free(tmp);
    return rc;
}
