/*
 * safetensors: header parsing with jansson, checks, and dtype decoding. The header is
 * the only part read at open (a few hundred KB for a CLIP checkpoint); tensor bytes are
 * touched when decoded, so loading the vision tower of a full CLIP file never pages in
 * its text tower.
 */
#include "nn/safetensors.h"

#include "nn/model.h"
#include "util/xalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

static const struct dtype_info {
    const char *name;
    size_t size;
} dtypes[] = {
    [NN_ST_BOOL] = {"BOOL", 1},       [NN_ST_U8] = {"U8", 1},   [NN_ST_I8] = {"I8", 1},
    [NN_ST_F8_E5M2] = {"F8_E5M2", 1}, [NN_ST_F8_E4M3] = {"F8_E4M3", 1},
    [NN_ST_I16] = {"I16", 2},         [NN_ST_U16] = {"U16", 2}, [NN_ST_F16] = {"F16", 2},
    [NN_ST_BF16] = {"BF16", 2},       [NN_ST_I32] = {"I32", 4}, [NN_ST_U32] = {"U32", 4},
    [NN_ST_F32] = {"F32", 4},         [NN_ST_F64] = {"F64", 8}, [NN_ST_I64] = {"I64", 8},
    [NN_ST_U64] = {"U64", 8},
};

#define NDTYPES ((int)(sizeof dtypes / sizeof dtypes[0]))

const char *nn_st_dtype_name(enum nn_st_dtype dt)
{
    return (int)dt >= 0 && (int)dt < NDTYPES ? dtypes[dt].name : "?";
}

/* Returns the dtype called s, or -1. */
static int dtype_parse(const char *s)
{
    for (int i = 0; i < NDTYPES; i++)
        if (strcmp(dtypes[i].name, s) == 0)
            return i;
    return -1;
}

/* Reads entry's shape into t; returns 0, or -1 with e set. */
static int parse_shape(json_t *shape, struct nn_st_tensor *t, struct err *e)
{
    size_t i;
    json_t *v;

    if (!json_is_array(shape) || json_array_size(shape) > NN_MAX_DIMS) {
        err_set(e, "tensor %s: shape is not an array of at most %d sizes", t->name,
                NN_MAX_DIMS);
        return -1;
    }
    t->nd = (int)json_array_size(shape);
    json_array_foreach(shape, i, v) {
        if (!json_is_integer(v) || json_integer_value(v) < 0 ||
            json_integer_value(v) > (json_int_t)1 << 40) {
            err_set(e, "tensor %s: shape holds a size that is not a count", t->name);
            return -1;
        }
        t->shape[i] = json_integer_value(v);
    }
    return 0;
}

/* Returns the element count of t, or -1 when it overflows 2^48. */
static int64_t numel(const struct nn_st_tensor *t)
{
    int64_t n = 1;

    for (int d = 0; d < t->nd; d++) {
        if (t->shape[d] != 0 && n > ((int64_t)1 << 48) / t->shape[d])
            return -1;
        n *= t->shape[d];
    }
    return n;
}

/* Fills t from its header entry; data lies in data[0..len). Returns 0, or -1 with e set. */
static int parse_entry(json_t *entry, const unsigned char *data, size_t len,
                       struct nn_st_tensor *t, struct err *e)
{
    json_t *dt = json_object_get(entry, "dtype"), *offs = json_object_get(entry, "data_offsets");
    json_int_t b, end;
    int64_t n;
    int k;

    if (!json_is_object(entry) || !json_is_string(dt) || (k = dtype_parse(json_string_value(dt))) < 0) {
        err_set(e, "tensor %s: missing or unknown dtype", t->name);
        return -1;
    }
    t->dtype = (enum nn_st_dtype)k;
    if (parse_shape(json_object_get(entry, "shape"), t, e) != 0)
        return -1;
    if (!json_is_array(offs) || json_array_size(offs) != 2 ||
        !json_is_integer(json_array_get(offs, 0)) || !json_is_integer(json_array_get(offs, 1))) {
        err_set(e, "tensor %s: data_offsets is not a pair of integers", t->name);
        return -1;
    }
    b = json_integer_value(json_array_get(offs, 0));
    end = json_integer_value(json_array_get(offs, 1));
    n = numel(t);
    if (b < 0 || end < b || (uint64_t)end > len) {
        err_set(e, "tensor %s: data_offsets [%lld, %lld] fall outside the %zu data bytes",
                t->name, (long long)b, (long long)end, len);
        return -1;
    }
    if (n < 0 || (uint64_t)(end - b) != (uint64_t)n * dtypes[k].size) {
        err_set(e, "tensor %s: %lld bytes do not hold its shape of %s", t->name,
                (long long)(end - b), dtypes[k].name);
        return -1;
    }
    t->data = data + b;
    t->size = (size_t)(end - b);
    return 0;
}

/* Copies the "__metadata__" object's string pairs into st. */
static int parse_meta(struct nn_safetensors *st, json_t *meta, struct err *e)
{
    const char *key;
    json_t *v;

    if (!json_is_object(meta)) {
        err_set(e, "__metadata__ is not an object");
        return -1;
    }
    st->meta = xcalloc(2 * json_object_size(meta) + 1, sizeof *st->meta);
    json_object_foreach(meta, key, v) {
        if (!json_is_string(v)) {
            err_set(e, "__metadata__ value of %s is not a string", key);
            return -1;
        }
        st->meta[2 * st->nmeta] = xstrdup(key);
        st->meta[2 * st->nmeta + 1] = xstrdup(json_string_value(v));
        st->nmeta++;
    }
    return 0;
}

static int by_name(const void *a, const void *b)
{
    return strcmp(((const struct nn_st_tensor *)a)->name, ((const struct nn_st_tensor *)b)->name);
}

static int by_offset(const void *a, const void *b)
{
    const struct nn_st_tensor *x = *(const struct nn_st_tensor *const *)a;
    const struct nn_st_tensor *y = *(const struct nn_st_tensor *const *)b;

    return x->data < y->data ? -1 : x->data > y->data;
}

/* Checks that no two non-empty tensors share a byte; returns 0, or -1 with e set. */
static int check_overlap(const struct nn_safetensors *st, struct err *e)
{
    const struct nn_st_tensor **v = xmalloc(sizeof *v * (size_t)(st->n + 1));
    int rc = 0, k = 0;

    for (int i = 0; i < st->n; i++)
        if (st->t[i].size > 0)
            v[k++] = &st->t[i];
    qsort(v, (size_t)k, sizeof *v, by_offset);
    for (int i = 1; i < k && rc == 0; i++)
        if (v[i - 1]->data + v[i - 1]->size > v[i]->data) {
            err_set(e, "tensors %s and %s overlap", v[i - 1]->name, v[i]->name);
            rc = -1;
        }
    free(v);
    return rc;
}

/* Parses the header object hdr, whose tensors lie in data[0..len). */
static int parse_header(struct nn_safetensors *st, json_t *hdr, const unsigned char *data,
                        size_t len, struct err *e)
{
    const char *key;
    json_t *v;

    st->t = xcalloc(json_object_size(hdr) + 1, sizeof *st->t);
    json_object_foreach(hdr, key, v) {
        if (strcmp(key, "__metadata__") == 0) {
            if (parse_meta(st, v, e) != 0)
                return -1;
            continue;
        }
        st->t[st->n].name = xstrdup(key);
        if (parse_entry(v, data, len, &st->t[st->n++], e) != 0)
            return -1;
    }
    qsort(st->t, (size_t)st->n, sizeof *st->t, by_name);
    return check_overlap(st, e);
}

int nn_safetensors_parse(struct nn_safetensors *st, const void *buf, size_t n, struct err *e)
{
    const unsigned char *p = buf;
    uint64_t hlen = 0;
    json_error_t jerr;
    json_t *hdr = NULL;
    int rc = NN_ERR_FORMAT;

    memset(st, 0, sizeof *st);
    if (n < 8) {
        err_set(e, "not a safetensors file: %zu bytes", n);
        return NN_ERR_FORMAT;
    }
    for (int i = 7; i >= 0; i--)
        hlen = hlen << 8 | p[i];
    if (hlen < 2 || hlen > NN_ST_HEADER_MAX || hlen > n - 8) {
        err_set(e, "not a safetensors file: header length %llu for %zu bytes",
                (unsigned long long)hlen, n);
        return NN_ERR_FORMAT;
    }
    hdr = json_loadb((const char *)p + 8, (size_t)hlen, JSON_REJECT_DUPLICATES, &jerr);
    if (!json_is_object(hdr)) {
        err_set(e, "header is not a JSON object: %s", hdr ? "another JSON value" : jerr.text);
        goto out;
    }
    if (parse_header(st, hdr, p + 8 + hlen, n - 8 - (size_t)hlen, e) == 0)
        rc = NN_OK;
out:
    json_decref(hdr);
    return rc;
}

int nn_safetensors_open(struct nn_safetensors *st, const char *path, struct err *e)
{
    struct stat sb;
    void *map;
    int fd = open(path, O_RDONLY | O_CLOEXEC), rc;

    memset(st, 0, sizeof *st);
    if (fd < 0 || fstat(fd, &sb) != 0) {
        err_set(e, "%s: %s", path, strerror(errno));
        if (fd >= 0)
            close(fd);
        return NN_ERR_IO;
    }
    if (!S_ISREG(sb.st_mode) || sb.st_size == 0) {
        err_set(e, "%s: not a regular non-empty file", path);
        close(fd);
        return NN_ERR_IO;
    }
    map = mmap(NULL, (size_t)sb.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
    close(fd);
    if (map == MAP_FAILED) {
        err_set(e, "%s: %s", path, strerror(errno));
        return NN_ERR_IO;
    }
    rc = nn_safetensors_parse(st, map, (size_t)sb.st_size, e);
    st->map = map;
    st->map_size = (size_t)sb.st_size;
    if (rc != NN_OK)
        err_prefix(e, "%s", path);
    return rc;
}

void nn_safetensors_release(struct nn_safetensors *st)
{
    if (st == NULL)
        return;
    for (int i = 0; i < st->n; i++)
        free(st->t[i].name);
    for (int i = 0; i < 2 * st->nmeta; i++)
        free(st->meta[i]);
    free(st->t);
    free(st->meta);
    if (st->map != NULL)
        munmap(st->map, st->map_size);
    memset(st, 0, sizeof *st);
}

const struct nn_st_tensor *nn_safetensors_find(const struct nn_safetensors *st, const char *name)
{
    struct nn_st_tensor key = {.name = (char *)name};

    if (st->n == 0)
        return NULL;
    return bsearch(&key, st->t, (size_t)st->n, sizeof *st->t, by_name);
}

const char *nn_safetensors_meta(const struct nn_safetensors *st, const char *key)
{
    for (int i = 0; i < st->nmeta; i++)
        if (strcmp(st->meta[2 * i], key) == 0)
            return st->meta[2 * i + 1];
    return NULL;
}

/* Returns the float32 of a bfloat16 (its top 16 bits). */
static float bf16_to_f32(uint16_t h)
{
    uint32_t u = (uint32_t)h << 16;
    float f;

    memcpy(&f, &u, sizeof f);
    return f;
}

int nn_safetensors_decode(const struct nn_st_tensor *t, struct nn_tensor *out, struct err *e)
{
    int64_t n = numel(t);
    float *y;

    memset(out, 0, sizeof *out);
    if (t->dtype != NN_ST_F32 && t->dtype != NN_ST_F16 && t->dtype != NN_ST_BF16) {
        err_set(e, "tensor %s is %s, not F32, F16 or BF16", t->name, nn_st_dtype_name(t->dtype));
        return NN_ERR_FORMAT;
    }
    nn_tensor_alloc(out, NN_F32, t->nd, t->shape);
    y = out->data;
    if (t->dtype == NN_ST_F32) {
        memcpy(y, t->data, (size_t)n * 4);
        return NN_OK;
    }
    for (int64_t i = 0; i < n; i++) {
        uint16_t h = (uint16_t)(t->data[2 * i] | t->data[2 * i + 1] << 8);

        y[i] = t->dtype == NN_ST_F16 ? nn_f16_to_f32(h) : bf16_to_f32(h);
    }
    return NN_OK;
}
