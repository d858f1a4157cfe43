/*
 * tfjs: the TensorFlow.js graph-model loader. Parses model.json with jansson, decodes its
 * weights manifest up front (weights.c: plain shard names beside model.json only, every
 * weight to float32 or int32 once, shared read-only), maps each node's op and attributes
 * to struct nn_node, and orders the graph topologically, refusing cycles.
 */
#include "nn/graph.h"
#include "nn/wino.h"

#include "util/fs.h"
#include "util/xalloc.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#define TFJS_MAX_JSON    ((size_t)64 << 20)
#define TFJS_MAX_NODES   100000

struct op_name {
    const char *name;
    enum nn_op op;
};

static const struct op_name op_names[] = {
    {"Const", NN_OP_CONST},
    {"Placeholder", NN_OP_PLACEHOLDER},
    {"Identity", NN_OP_IDENTITY},
    {"Conv2D", NN_OP_CONV2D},
    {"_FusedConv2D", NN_OP_CONV2D},
    {"DepthwiseConv2dNative", NN_OP_DEPTHWISE},
    {"FusedDepthwiseConv2dNative", NN_OP_DEPTHWISE},
    {"MatMul", NN_OP_MATMUL},
    {"_FusedMatMul", NN_OP_MATMUL},
    {"Add", NN_OP_ADD},
    {"AddV2", NN_OP_ADD},
    {"BiasAdd", NN_OP_ADD},
    {"Sub", NN_OP_SUB},
    {"Mul", NN_OP_MUL},
    {"RealDiv", NN_OP_DIV},
    {"Div", NN_OP_DIV},
    {"Maximum", NN_OP_MAXIMUM},
    {"Minimum", NN_OP_MINIMUM},
    {"Prelu", NN_OP_PRELU},
    {"Relu", NN_OP_RELU},
    {"Relu6", NN_OP_RELU6},
    {"Sigmoid", NN_OP_SIGMOID},
    {"Tanh", NN_OP_TANH},
    {"Rsqrt", NN_OP_RSQRT},
    {"Square", NN_OP_SQUARE},
    {"Abs", NN_OP_ABS},
    {"Mean", NN_OP_MEAN},
    {"Sum", NN_OP_SUM},
    {"Max", NN_OP_MAX},
    {"MaxPool", NN_OP_MAXPOOL},
    {"AvgPool", NN_OP_AVGPOOL},
    {"Pad", NN_OP_PAD},
    {"Reshape", NN_OP_RESHAPE},
    {"Squeeze", NN_OP_SQUEEZE},
    {"ExpandDims", NN_OP_EXPAND_DIMS},
    {"ConcatV2", NN_OP_CONCAT},
    {"Softmax", NN_OP_SOFTMAX},
};

/* ---- weights ---------------------------------------------------------------------- */

static int load_weights(struct nn_model *m, json_t *manifest, const char *dir, struct err *e)
{
    if (!json_is_array(manifest)) {
        err_set(e, "model.json has no weightsManifest array");
        return NN_ERR_FORMAT;
    }
    return nn_weights_decode(&m->weights, manifest, dir, e);
}

/* ---- attributes -------------------------------------------------------------------- */

static int b64_value(int c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    return c == '+' ? 62 : c == '/' ? 63 : -1;
}

/* Decodes base64 s into out (at most n - 1 bytes, NUL-terminated). */
static void b64_decode(const char *s, char *out, size_t n)
{
    unsigned acc = 0;
    int bits = 0;
    size_t k = 0;

    for (; *s != '\0' && *s != '=' && k + 1 < n; s++) {
        int v = b64_value((unsigned char)*s);

        if (v < 0)
            break;
        acc = (acc << 6) | (unsigned)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[k++] = (char)((acc >> bits) & 0xff);
        }
    }
    out[k] = '\0';
}

static json_t *attr(json_t *node, const char *key)
{
    return json_object_get(json_object_get(node, "attr"), key);
}

/* Reads attr key's list of ints (as strings or numbers) into out; returns the count. */
static int attr_ints(json_t *node, const char *key, int *out, int max)
{
    json_t *list = json_object_get(json_object_get(attr(node, key), "list"), "i"), *v;
    size_t i;
    int n = 0;

    json_array_foreach(list, i, v) {
        long x = json_is_string(v) ? strtol(json_string_value(v), NULL, 10)
                                   : (long)json_integer_value(v);

        if (n < max)
            out[n] = x < -1000000 ? -1000000 : x > 1000000 ? 1000000 : (int)x;
        n++;
    }
    return n;
}

static void attr_string(json_t *node, const char *key, char *out, size_t n)
{
    const char *s = json_string_value(json_object_get(attr(node, key), "s"));

    out[0] = '\0';
    if (s != NULL)
        b64_decode(s, out, n);
}

static int attr_bool(json_t *node, const char *key)
{
    return json_is_true(json_object_get(attr(node, key), "b"));
}

/* Stride, dilation, kernel size and padding of convolutions and pools. */
static int parse_window(struct nn_node *nd, json_t *node, struct err *e)
{
    int v[8], n;
    char pad[32];

    nd->stride[0] = nd->stride[1] = nd->dilation[0] = nd->dilation[1] = 1;
    nd->ksize[0] = nd->ksize[1] = 1;
    if (attr_ints(node, "strides", v, 8) == 4)
        nd->stride[0] = v[1], nd->stride[1] = v[2];
    if (attr_ints(node, "dilations", v, 8) == 4)
        nd->dilation[0] = v[1], nd->dilation[1] = v[2];
    if (attr_ints(node, "ksize", v, 8) == 4)
        nd->ksize[0] = v[1], nd->ksize[1] = v[2];
    attr_string(node, "data_format", pad, sizeof pad);
    if (pad[0] != '\0' && strcmp(pad, "NHWC") != 0) {
        err_set(e, "node %s: data_format %s is not supported (NHWC only)", nd->name, pad);
        return NN_ERR_OP;
    }
    attr_string(node, "padding", pad, sizeof pad);
    nd->padding = strcmp(pad, "SAME") == 0 ? NN_PAD_SAME
                  : strcmp(pad, "EXPLICIT") == 0 ? NN_PAD_EXPLICIT : NN_PAD_VALID;
    n = attr_ints(node, "explicit_paddings", v, 8);
    if (nd->padding == NN_PAD_EXPLICIT && n != 8) {
        err_set(e, "node %s: EXPLICIT padding needs 8 explicit_paddings", nd->name);
        return NN_ERR_GRAPH;
    }
    if (nd->padding == NN_PAD_EXPLICIT)
        nd->pads[0] = v[2], nd->pads[1] = v[3], nd->pads[2] = v[4], nd->pads[3] = v[5];
    if (nd->stride[0] < 1 || nd->stride[1] < 1 || nd->dilation[0] < 1 || nd->dilation[1] < 1 ||
        nd->ksize[0] < 1 || nd->ksize[1] < 1 || nd->pads[0] < 0 || nd->pads[1] < 0 ||
        nd->pads[2] < 0 || nd->pads[3] < 0) {
        err_set(e, "node %s: invalid stride, dilation, kernel size or padding", nd->name);
        return NN_ERR_GRAPH;
    }
    return NN_OK;
}

/* The fused_ops list of _FusedConv2D, FusedDepthwiseConv2dNative and _FusedMatMul. */
static int parse_fused(struct nn_node *nd, json_t *node, struct err *e)
{
    json_t *list = json_object_get(json_object_get(attr(node, "fused_ops"), "list"), "s"), *v;
    size_t i;

    json_array_foreach(list, i, v) {
        char op[32];

        b64_decode(json_string_value(v) ? json_string_value(v) : "", op, sizeof op);
        if (i == 0 && strcmp(op, "BiasAdd") == 0)
            nd->fused |= NN_FUSED_BIAS;
        else if (i == 1 && strcmp(op, "Relu") == 0)
            nd->fused |= NN_FUSED_RELU;
        else if (i == 1 && strcmp(op, "Relu6") == 0)
            nd->fused |= NN_FUSED_RELU6;
        else if (i == 1 && strcmp(op, "Prelu") == 0)
            nd->fused |= NN_FUSED_PRELU;
        else {
            err_set(e, "node %s: fused op %s is not supported", nd->name, op);
            return NN_ERR_OP;
        }
    }
    return NN_OK;
}

/* ---- nodes ------------------------------------------------------------------------- */

static int lookup_op(const char *s, enum nn_op *op)
{
    for (size_t i = 0; i < sizeof op_names / sizeof op_names[0]; i++) {
        if (strcmp(op_names[i].name, s) == 0) {
            *op = op_names[i].op;
            return 0;
        }
    }
    return -1;
}

/* Fills one node from its JSON, except inputs (resolved once all nodes exist). */
static int parse_node(struct nn_model *m, struct nn_node *nd, json_t *node, struct err *e)
{
    const char *op = json_string_value(json_object_get(node, "op"));
    int w, rc = NN_OK;

    if (op == NULL || lookup_op(op, &nd->op) != 0) {
        err_set(e, "node %s: unsupported op %s", nd->name, op ? op : "(none)");
        return NN_ERR_OP;
    }
    if (nd->op == NN_OP_CONST) {
        w = nn_weights_find(&m->weights, nd->name);
        if (w < 0) {
            err_set(e, "node %s: constant has no weights in the manifest", nd->name);
            return NN_ERR_FORMAT;
        }
        nn_tensor_borrow(&nd->value, &m->weights.t[w]);
    }
    if (nd->op == NN_OP_CONV2D || nd->op == NN_OP_DEPTHWISE || nd->op == NN_OP_MAXPOOL ||
        nd->op == NN_OP_AVGPOOL)
        rc = parse_window(nd, node, e);
    if (rc == NN_OK && (nd->op == NN_OP_CONV2D || nd->op == NN_OP_DEPTHWISE ||
                        nd->op == NN_OP_MATMUL))
        rc = parse_fused(nd, node, e);
    nd->naxes = attr_ints(node, "squeeze_dims", nd->axes, NN_MAX_DIMS);
    if (nd->naxes > NN_MAX_DIMS) {
        err_set(e, "node %s: too many squeeze_dims", nd->name);
        return NN_ERR_GRAPH;
    }
    nd->keep_dims = attr_bool(node, "keep_dims");
    nd->transpose_a = attr_bool(node, "transpose_a");
    nd->transpose_b = attr_bool(node, "transpose_b");
    return rc;
}

static int name_cmp(const void *a, const void *b)
{
    return strcmp((*(struct nn_node *const *)a)->name, (*(struct nn_node *const *)b)->name);
}

int nn_graph_find(const struct nn_model *m, const char *name)
{
    size_t len = strlen(name);

    if (len > 2 && strcmp(name + len - 2, ":0") == 0)
        len -= 2;
    for (int i = 0; i < m->nnodes; i++) {
        if (strncmp(m->nodes[i].name, name, len) == 0 && m->nodes[i].name[len] == '\0')
            return i;
    }
    return -1;
}

/* Resolves node input names to indices; checks arity and duplicates. */
static int resolve_inputs(struct nn_model *m, json_t *jnodes, struct err *e)
{
    struct nn_node **sorted = xmalloc(sizeof *sorted * (size_t)m->nnodes);
    int rc = NN_OK;

    for (int i = 0; i < m->nnodes; i++)
        sorted[i] = &m->nodes[i];
    qsort(sorted, (size_t)m->nnodes, sizeof *sorted, name_cmp);
    for (int i = 1; i < m->nnodes && rc == NN_OK; i++) {
        if (strcmp(sorted[i - 1]->name, sorted[i]->name) == 0) {
            err_set(e, "two nodes are named %s", sorted[i]->name);
            rc = NN_ERR_GRAPH;
        }
    }
    for (int i = 0; i < m->nnodes && rc == NN_OK; i++) {
        json_t *ins = json_object_get(json_array_get(jnodes, (size_t)i), "input"), *v;
        struct nn_node *nd = &m->nodes[i];
        size_t k;

        json_array_foreach(ins, k, v) {
            const char *s = json_string_value(v);
            struct nn_node key, *kp = &key, **hit;
            char name[1024];
            size_t len;

            if (s == NULL || s[0] == '^')
                continue;
            len = strcspn(s, ":");
            if (s[len] == ':' && strcmp(s + len, ":0") != 0) {
                err_set(e, "node %s: input %s uses an output other than the first", nd->name, s);
                rc = NN_ERR_OP;
                break;
            }
            snprintf(name, sizeof name, "%.*s", (int)len, s);
            key.name = name;
            hit = bsearch(&kp, sorted, (size_t)m->nnodes, sizeof *sorted, name_cmp);
            if (hit == NULL || nd->nin == NN_MAX_INPUTS) {
                err_set(e, "node %s: %s %s", nd->name, hit ? "too many inputs, at" : "no input node",
                        name);
                rc = NN_ERR_GRAPH;
                break;
            }
            nd->in[nd->nin++] = (int)(*hit - m->nodes);
        }
    }
    free(sorted);
    return rc;
}

/* Kahn's algorithm over a consumer list (compressed rows), O(nodes + edges); a node left
 * unordered sits on a cycle. */
static int order_graph(struct nn_model *m, struct err *e)
{
    int n = m->nnodes, *indeg = xcalloc((size_t)n, sizeof(int));
    int *start = xcalloc((size_t)n + 1, sizeof(int)), *fill, *users, head = 0, tail = 0;

    for (int v = 0; v < n; v++) {
        indeg[v] = m->nodes[v].nin;
        for (int k = 0; k < m->nodes[v].nin; k++)
            start[m->nodes[v].in[k] + 1]++;
    }
    for (int u = 0; u < n; u++)
        start[u + 1] += start[u];
    users = xmalloc(sizeof(int) * ((size_t)start[n] + 1));
    fill = xmalloc(sizeof(int) * (size_t)n);
    memcpy(fill, start, sizeof(int) * (size_t)n);
    for (int v = 0; v < n; v++) {
        for (int k = 0; k < m->nodes[v].nin; k++)
            users[fill[m->nodes[v].in[k]]++] = v;
    }
    for (int i = 0; i < n; i++) {
        if (indeg[i] == 0)
            m->order[tail++] = i;
    }
    while (head < tail) {
        int u = m->order[head++];

        for (int p = start[u]; p < start[u + 1]; p++) {
            if (--indeg[users[p]] == 0)
                m->order[tail++] = users[p];
        }
    }
    for (int i = 0; i < n && tail < n; i++) {
        if (indeg[i] > 0) {
            err_set(e, "the graph has a cycle through node %s", m->nodes[i].name);
            break;
        }
    }
    free(indeg);
    free(start);
    free(fill);
    free(users);
    return tail < n ? NN_ERR_GRAPH : NN_OK;
}

static int load_nodes(struct nn_model *m, json_t *jnodes, struct err *e)
{
    size_t i;
    json_t *node;
    int rc = NN_OK;

    if (!json_is_array(jnodes) || json_array_size(jnodes) == 0 ||
        json_array_size(jnodes) > TFJS_MAX_NODES) {
        err_set(e, "modelTopology.node is missing, empty or too large");
        return NN_ERR_FORMAT;
    }
    m->nnodes = (int)json_array_size(jnodes);
    m->nodes = xcalloc((size_t)m->nnodes, sizeof *m->nodes);
    m->order = xcalloc((size_t)m->nnodes, sizeof(int));
    m->input = -1;
    json_array_foreach(jnodes, i, node) {
        const char *name = json_string_value(json_object_get(node, "name"));

        m->nodes[i].name = xstrdup(name ? name : "");
        if (name == NULL || name[0] == '\0') {
            err_set(e, "node %zu has no name", i);
            return NN_ERR_FORMAT;
        }
        rc = parse_node(m, &m->nodes[i], node, e);
        if (rc != NN_OK)
            return rc;
        if (m->nodes[i].op == NN_OP_PLACEHOLDER && m->input >= 0) {
            err_set(e, "the graph has more than one input (%s)", name);
            return NN_ERR_GRAPH;
        }
        if (m->nodes[i].op == NN_OP_PLACEHOLDER)
            m->input = (int)i;
    }
    if (m->input < 0) {
        err_set(e, "the graph has no Placeholder input");
        return NN_ERR_GRAPH;
    }
    rc = resolve_inputs(m, jnodes, e);
    if (rc == NN_OK)
        rc = order_graph(m, e);
    if (rc == NN_OK) {
        nn_graph_fuse(m);
        nn_graph_pack(m);
    }
    return rc;
}

/* ---- model ------------------------------------------------------------------------- */

int nn_model_parse(const char *json, size_t n, const char *dir, struct nn_model **out,
                   struct err *e)
{
    struct nn_model *m = xcalloc(1, sizeof *m);
    json_error_t jerr;
    json_t *root = json_loadb(json, n, 0, &jerr);
    int rc;

    *out = NULL;
    m->id = nn_model_new_id();
    if (root == NULL) {
        err_set(e, "JSON error at line %d: %s", jerr.line, jerr.text);
        rc = NN_ERR_FORMAT;
    } else if (!json_is_object(root)) {
        err_set(e, "model.json is not a JSON object");
        rc = NN_ERR_FORMAT;
    } else {
        rc = load_weights(m, json_object_get(root, "weightsManifest"), dir, e);
        if (rc == NN_OK)
            rc = load_nodes(m, json_object_get(json_object_get(root, "modelTopology"), "node"),
                            e);
    }
    json_decref(root);
    if (rc != NN_OK)
        nn_model_free(m);
    else
        *out = m;
    return rc;
}

int nn_model_load(const char *json_path, struct nn_model **out, struct err *e)
{
    unsigned char *text = NULL;
    char *dir = xstrdup(json_path), *slash = strrchr(dir, '/');
    size_t len;
    int rc;

    *out = NULL;
    if (slash != NULL) {
        *slash = '\0';
    } else {
        free(dir);
        dir = xstrdup(".");
    }
    if (fs_read_file(json_path, TFJS_MAX_JSON, &text, &len, e) != FS_OK)
        rc = NN_ERR_IO;
    else
        rc = nn_model_parse((const char *)text, len, dir, out, e);
    if (rc != NN_OK && rc != NN_ERR_IO)
        err_prefix(e, "%s", json_path);
    free(text);
    free(dir);
    return rc;
}

void nn_model_free(struct nn_model *m)
{
    if (m == NULL)
        return;
    for (int i = 0; i < m->nnodes; i++) {
        free(m->nodes[i].name);
        nn_packed_free(&m->nodes[i].packed);
        nn_wino_free(m->nodes[i].wino);
        free(m->nodes[i].post_buf);
    }
    nn_weights_release(&m->weights);
    free(m->nodes);
    free(m->order);
    free(m);
}

int nn_model_nodes(const struct nn_model *m)
{
    return m->nnodes;
}
