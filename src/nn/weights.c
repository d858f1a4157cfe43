/*
 * weights: the manifest decoder shared by every model loader. A group's shards are read
 * into one buffer (capped at 1 GiB in all), then each weight spec is checked (name,
 * dtype, shape within 2^28 elements, bytes left in the shards) before its values are
 * decoded, so a hostile manifest can ask for nothing it does not supply. Dequantisation
 * is done in double and rounded once to float32, as TensorFlow.js does.
 */
#include "nn/weights.h"

#include "nn/model.h"
#include "util/fs.h"
#include "util/xalloc.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#define WEIGHTS_MAX_BYTES ((size_t)1 << 30)
#define WEIGHTS_MAX_ELEMS ((int64_t)1 << 28)
#define MANIFEST_MAX_JSON ((size_t)16 << 20)

/* Returns 1 when p is a plain file name: no directory part, not "." or "..". */
static int plain_name(const char *p)
{
    return p[0] != '\0' && strchr(p, '/') == NULL && strchr(p, '\\') == NULL &&
           strcmp(p, ".") != 0 && strcmp(p, "..") != 0;
}

/* Reads and concatenates a group's shards from dir. Caller frees *blob. */
static int read_shards(const char *dir, json_t *paths, unsigned char **blob, size_t *size,
                       struct err *e)
{
    size_t i;
    json_t *p;

    *blob = NULL;
    *size = 0;
    if (!json_is_array(paths)) {
        err_set(e, "weightsManifest: \"paths\" is not an array");
        return NN_ERR_FORMAT;
    }
    json_array_foreach(paths, i, p)
    {
        char path[4096];
        unsigned char *data;
        size_t n;
        const char *name = json_string_value(p);

        if (name == NULL || !plain_name(name)) {
            err_set(e, "weightsManifest: shard path %s is not a plain file name",
                    name ? name : "(not a string)");
            return NN_ERR_FORMAT;
        }
        snprintf(path, sizeof path, "%s/%s", dir, name);
        if (fs_read_file(path, WEIGHTS_MAX_BYTES - *size, &data, &n, e) != FS_OK)
            return NN_ERR_IO;
        *blob = xrealloc(*blob, *size + n + 1);
        memcpy(*blob + *size, data, n);
        *size += n;
        free(data);
    }
    return NN_OK;
}

/* Reads a shape array; returns the element count or -1. */
static int64_t read_shape(json_t *shape, struct nn_tensor *t)
{
    size_t i;
    json_t *d;
    int64_t n = 1;

    if (!json_is_array(shape) || json_array_size(shape) > NN_MAX_DIMS)
        return -1;
    t->nd = (int)json_array_size(shape);
    json_array_foreach(shape, i, d)
    {
        json_int_t v = json_integer_value(d);

        if (!json_is_integer(d) || v < 0 || v > WEIGHTS_MAX_ELEMS)
            return -1;
        t->shape[i] = v;
        n *= v;
        if (n > WEIGHTS_MAX_ELEMS)
            return -1;
    }
    return n;
}

/* Decodes n stored values at p into float32 out: quant is "uint8", "uint16", "float16"
 * or NULL (float32); min and scale dequantise the integer forms. */
static void decode_f32(const unsigned char *p, int64_t n, const char *quant, double min,
                       double scale, float *out)
{
    for (int64_t i = 0; i < n; i++) {
        if (quant == NULL) {
            memcpy(&out[i], p + 4 * i, 4);
        } else if (strcmp(quant, "uint8") == 0) {
            out[i] = (float)(p[i] * scale + min);
        } else {
            uint16_t v = (uint16_t)(p[2 * i] | p[2 * i + 1] << 8);

            out[i] = strcmp(quant, "float16") == 0 ? nn_f16_to_f32(v) : (float)(v * scale + min);
        }
    }
}

/* Returns 1 when dtype (and quant, when q is present) is a form doppel decodes. */
static int known_form(const char *dtype, json_t *q, const char *quant)
{
    if (strcmp(dtype, "int32") == 0)
        return q == NULL;
    if (strcmp(dtype, "float32") != 0)
        return 0;
    return q == NULL ||
           (quant != NULL && (strcmp(quant, "uint8") == 0 || strcmp(quant, "uint16") == 0 ||
                              strcmp(quant, "float16") == 0));
}

/* Decodes one weight spec at *offset of blob into t; advances *offset. */
static int decode_weight(json_t *spec, const unsigned char *blob, size_t size, size_t *offset,
                         struct nn_tensor *t, struct err *e)
{
    const char *name = json_string_value(json_object_get(spec, "name"));
    const char *dtype = json_string_value(json_object_get(spec, "dtype"));
    json_t *q = json_object_get(spec, "quantization");
    const char *quant = q ? json_string_value(json_object_get(q, "dtype")) : NULL;
    int64_t n = read_shape(json_object_get(spec, "shape"), t);
    size_t width;

    if (name == NULL || dtype == NULL || n < 0) {
        err_set(e, "weight %s: missing name, dtype or a valid shape", name ? name : "?");
        return NN_ERR_FORMAT;
    }
    if (!known_form(dtype, q, quant)) {
        err_set(e, "weight %s: unsupported dtype %s%s%s", name, dtype,
                quant ? " quantized as " : "", quant ? quant : "");
        return NN_ERR_FORMAT;
    }
    width = quant == NULL ? 4 : strcmp(quant, "uint8") == 0 ? 1 : 2;
    if ((size_t)n * width > size - *offset) {
        err_set(e, "weight %s: needs %zu bytes at offset %zu, the shards hold %zu (truncated?)",
                name, (size_t)n * width, *offset, size);
        return NN_ERR_FORMAT;
    }
    nn_tensor_alloc(t, strcmp(dtype, "int32") == 0 ? NN_I32 : NN_F32, t->nd, t->shape);
    if (n == 0)
        return NN_OK; /* an empty tensor: no bytes to read (and blob may be NULL) */
    if (t->dtype == NN_I32)
        memcpy(t->data, blob + *offset, (size_t)n * 4);
    else
        decode_f32(blob + *offset, n, quant, json_number_value(json_object_get(q, "min")),
                   json_number_value(json_object_get(q, "scale")), t->data);
    *offset += (size_t)n * width;
    return NN_OK;
}

void nn_weights_add(struct nn_weights *w, const char *name, struct nn_tensor *t)
{
    w->t = xrealloc(w->t, sizeof(struct nn_tensor) * (size_t)(w->n + 1));
    w->names = xrealloc(w->names, sizeof(char *) * (size_t)(w->n + 1));
    w->t[w->n] = *t;
    w->names[w->n++] = xstrdup(name);
    memset(t, 0, sizeof *t);
}

/* Decodes one group: its shards, then its weight specs in order. */
static int decode_group(struct nn_weights *w, json_t *group, const char *dir, struct err *e)
{
    unsigned char *blob;
    size_t size, offset = 0, i;
    json_t *spec, *specs = json_object_get(group, "weights");
    int rc = read_shards(dir, json_object_get(group, "paths"), &blob, &size, e);

    if (rc == NN_OK && !json_is_array(specs)) {
        err_set(e, "weightsManifest: \"weights\" is not an array");
        rc = NN_ERR_FORMAT;
    }
    json_array_foreach(specs, i, spec)
    {
        struct nn_tensor t = {0};

        if (rc != NN_OK)
            break;
        rc = decode_weight(spec, blob, size, &offset, &t, e);
        if (rc == NN_OK)
            nn_weights_add(w, json_string_value(json_object_get(spec, "name")), &t);
    }
    free(blob);
    return rc;
}

int nn_weights_decode(struct nn_weights *w, struct json_t *manifest, const char *dir, struct err *e)
{
    size_t g;
    json_t *group;
    int rc = NN_OK;

    if (!json_is_array(manifest)) {
        err_set(e, "the weights manifest is not an array of groups");
        return NN_ERR_FORMAT;
    }
    json_array_foreach(manifest, g, group)
    {
        rc = decode_group(w, group, dir, e);
        if (rc != NN_OK)
            break;
    }
    return rc;
}

int nn_weights_parse(struct nn_weights *w, const char *json, size_t n, const char *dir,
                     struct err *e)
{
    json_error_t jerr;
    json_t *root = json_loadb(json, n, 0, &jerr);
    int rc;

    memset(w, 0, sizeof *w);
    if (root == NULL) {
        err_set(e, "JSON error at line %d: %s", jerr.line, jerr.text);
        return NN_ERR_FORMAT;
    }
    rc = nn_weights_decode(w, root, dir, e);
    json_decref(root);
    return rc;
}

int nn_weights_load(struct nn_weights *w, const char *path, struct err *e)
{
    unsigned char *text = NULL;
    char *dir = xstrdup(path), *slash = strrchr(dir, '/');
    size_t len;
    int rc;

    memset(w, 0, sizeof *w);
    if (slash != NULL) {
        *slash = '\0';
    } else {
        free(dir);
        dir = xstrdup(".");
    }
    if (fs_read_file(path, MANIFEST_MAX_JSON, &text, &len, e) != FS_OK)
        rc = NN_ERR_IO;
    else
        rc = nn_weights_parse(w, (const char *)text, len, dir, e);
    if (rc != NN_OK && rc != NN_ERR_IO)
        err_prefix(e, "%s", path);
    free(text);
    free(dir);
    return rc;
}

int nn_weights_find(const struct nn_weights *w, const char *name)
{
    for (int i = 0; i < w->n; i++) {
        if (strcmp(w->names[i], name) == 0)
            return i;
    }
    return -1;
}

void nn_weights_release(struct nn_weights *w)
{
    if (w == NULL)
        return;
    for (int i = 0; i < w->n; i++) {
        nn_tensor_release(&w->t[i]);
        free(w->names[i]);
    }
    free(w->t);
    free(w->names);
    memset(w, 0, sizeof *w);
}
