/*
 * dlib: the ResNet-29 of dlib's face recogniser in face-api's form, built node by node.
 *
 * A conv layer is a convolution with bias, then face-api's "scale" layer (x * weights +
 * biases, a folded batch norm), then optionally ReLU; the runtime folds all of it into
 * the convolution's output pass. A residual block is conv layer (3x3 SAME, ReLU), conv
 * layer (3x3 SAME), plus the block input, ReLU. A down block's first convolution is 3x3
 * stride 2 VALID and its shortcut is a 2x2 stride-2 average pool, with zero channels
 * appended when the width doubles; where the pool's output is larger than the
 * convolution's (8 -> 3 vs 4, 4 -> 1 vs 2), the convolution path gets zero rows and
 * columns at the bottom and right. Sizes are tracked here from the 150-pixel input, so
 * the graph holds only constant paddings:
 *
 *   150 -> conv 7x7/2 VALID 72x72x32 -> max pool 3x3/2 VALID 35 -> 3 blocks at 32
 *       -> down 17x17x64 -> 3 blocks -> down 8x8x128 -> 2 blocks -> down 4x4x256
 *       -> 2 blocks -> down 2x2x256 -> mean over H, W -> 256 x 128 product
 *
 * Every tensor the network reads is looked up by name and its shape checked first, so a
 * manifest that lacks one or has it in the wrong shape fails at load with its name.
 */
#include "nn/dlib.h"

#include "nn/build.h"
#include "nn/weights.h"

#include <stdio.h>
#include <string.h>

const float nn_dlib_mean[3] = {122.782f, 117.001f, 104.298f};

/* The residual blocks in order: weight prefix, output channels, down-sampling. */
static const struct block {
    const char *name;
    int cout, down;
} blocks[] = {
    {"conv32_1", 32, 0},    {"conv32_2", 32, 0},          {"conv32_3", 32, 0},
    {"conv64_down", 64, 1}, {"conv64_1", 64, 0},          {"conv64_2", 64, 0},
    {"conv64_3", 64, 0},    {"conv128_down", 128, 1},     {"conv128_1", 128, 0},
    {"conv128_2", 128, 0},  {"conv256_down", 256, 1},     {"conv256_1", 256, 0},
    {"conv256_2", 256, 0},  {"conv256_down_out", 256, 1},
};

struct net {
    struct nn_build *b;
    struct nn_weights *w;
    struct err error; /* the first missing or misshapen weight */
    int side;         /* height and width of the activation being built */
};

/* Writes shape (nd dims) as "[a, b, ...]" into out. */
static void shape_text(const int64_t *shape, int nd, char *out, size_t n)
{
    size_t k = 0;

    out[0] = '\0';
    for (int d = 0; d < nd && k < n; d++)
        k += (size_t)snprintf(out + k, n - k, "%s%lld", d ? ", " : "[", (long long)shape[d]);
    if (k < n)
        snprintf(out + k, n - k, "]");
}

/* The constant node of weight prefix/suffix (prefix alone when suffix is ""), checked to
 * be float32 of the given shape (nd dims); -1 with net->error set when it is not. */
static int weight(struct net *net, const char *prefix, const char *suffix, const int64_t *shape,
                  int nd)
{
    char name[256], want[128];
    const struct nn_tensor *t;
    int i, ok;

    if (net->error.msg[0] != '\0')
        return -1;
    snprintf(name, sizeof name, "%s%s%s", prefix, suffix[0] ? "/" : "", suffix);
    i = nn_weights_find(net->w, name);
    t = i >= 0 ? &net->w->t[i] : NULL;
    if (t == NULL || t->data == NULL) {
        err_set(&net->error, "weight %s is missing", name);
        return -1;
    }
    ok = t->nd == nd && t->dtype == NN_F32;
    for (int d = 0; ok && d < nd; d++)
        ok = t->shape[d] == shape[d];
    if (!ok) {
        shape_text(shape, nd, want, sizeof want);
        err_set(&net->error, "weight %s is not a float32 tensor of shape %s", name, want);
        return -1;
    }
    return nn_build_const(net->b, name, &net->w->t[i]);
}

/* Output size of a window of k, stride s over in (TensorFlow's rules). */
static int out_side(int in, int k, int s, enum nn_padding pad)
{
    return pad == NN_PAD_SAME ? (in + s - 1) / s : in < k ? 0 : (in - k) / s + 1;
}

/* Convolution k x k (cin -> cout) with bias, scale and optional ReLU; prefix names the
 * weights (prefix/conv/filters, /conv/bias, /scale/weights, /scale/biases). */
static int conv_layer(struct net *net, const char *prefix, int x, int cin, int cout, int k,
                      int stride, enum nn_padding pad, int relu)
{
    const int64_t fshape[4] = {k, k, cin, cout}, vshape[1] = {cout};
    char name[256];
    int w = weight(net, prefix, "conv/filters", fshape, 4);
    int bias = weight(net, prefix, "conv/bias", vshape, 1);
    int sw = weight(net, prefix, "scale/weights", vshape, 1);
    int sb = weight(net, prefix, "scale/biases", vshape, 1);
    int y;

    snprintf(name, sizeof name, "%s/conv", prefix);
    y = nn_build_conv2d(net->b, name, x, w, bias, stride, pad);
    snprintf(name, sizeof name, "%s/scale/mul", prefix);
    y = nn_build_mul(net->b, name, y, sw);
    snprintf(name, sizeof name, "%s/scale/add", prefix);
    y = nn_build_add(net->b, name, y, sb);
    snprintf(name, sizeof name, "%s/relu", prefix);
    net->side = out_side(net->side, k, stride, pad);
    return relu ? nn_build_relu(net->b, name, y) : y;
}

/* The shortcut of a down block: average pool 2x2/2, zero channels up to cout. */
static int shortcut(struct net *net, const struct block *bk, int x, int cin)
{
    const int64_t pads[8] = {0, 0, 0, 0, 0, 0, 0, bk->cout - cin};
    char name[256];
    int y;

    snprintf(name, sizeof name, "%s/pool", bk->name);
    y = nn_build_avgpool(net->b, name, x, 2, 2, NN_PAD_VALID);
    snprintf(name, sizeof name, "%s/pad_channels", bk->name);
    return bk->cout > cin ? nn_build_pad(net->b, name, y, pads, 4) : y;
}

/* One residual block on x (cin channels, side net->side); returns its output. */
static int residual(struct net *net, const struct block *bk, int x, int cin)
{
    char p1[128], p2[128], name[256];
    int in_side = net->side, skip = x, pool_side, y;

    snprintf(p1, sizeof p1, "%s/conv1", bk->name);
    snprintf(p2, sizeof p2, "%s/conv2", bk->name);
    if (bk->down) /* made first, so conv2 can add it in its own output pass */
        skip = shortcut(net, bk, x, cin);
    y = conv_layer(net, p1, x, cin, bk->cout, 3, bk->down ? 2 : 1,
                   bk->down ? NN_PAD_VALID : NN_PAD_SAME, 1);
    y = conv_layer(net, p2, y, bk->cout, bk->cout, 3, 1, NN_PAD_SAME, 0);
    if (bk->down) {
        pool_side = out_side(in_side, 2, 2, NN_PAD_VALID);
        if (pool_side > net->side) {
            int64_t d = pool_side - net->side, pads[8] = {0, 0, 0, d, 0, d, 0, 0};

            snprintf(name, sizeof name, "%s/pad_spatial", bk->name);
            y = nn_build_pad(net->b, name, y, pads, 4);
            net->side = pool_side;
        }
    }
    snprintf(name, sizeof name, "%s/add", bk->name);
    y = nn_build_residual(net->b, name, y, skip);
    snprintf(name, sizeof name, "%s/relu", bk->name);
    return nn_build_relu(net->b, name, y);
}

/* The whole network into net->b; returns the output node. */
static int network(struct net *net)
{
    const int64_t fc_shape[2] = {256, NN_DLIB_DIM};
    const int axes[2] = {1, 2};
    int x = nn_build_input(net->b, NN_DLIB_INPUT), cin = 32;

    net->side = NN_DLIB_SIDE;
    x = conv_layer(net, "conv32_down", x, 3, 32, 7, 2, NN_PAD_VALID, 1);
    x = nn_build_maxpool(net->b, "max_pool", x, 3, 2, NN_PAD_VALID);
    net->side = out_side(net->side, 3, 2, NN_PAD_VALID);
    for (size_t i = 0; i < sizeof blocks / sizeof blocks[0]; i++) {
        x = residual(net, &blocks[i], x, cin);
        cin = blocks[i].cout;
    }
    x = nn_build_mean(net->b, "mean", x, axes, 2, 0);
    return nn_build_matmul(net->b, NN_DLIB_OUTPUT, x, weight(net, "fc", "", fc_shape, 2));
}

/* Builds the network from decoded weights w (moved into the model). */
static int build(struct nn_weights *w, struct nn_model **out, struct err *e)
{
    struct net net = {.b = nn_build_new(), .w = w};
    int rc;

    network(&net);
    if (net.error.msg[0] != '\0') {
        err_set(e, "%s", net.error.msg);
        rc = NN_ERR_FORMAT;
    } else {
        rc = nn_build_finish(net.b, out, e);
    }
    if (rc == NN_OK) /* batches of faces: the 4 x 4 and 2 x 2 layers read their weights */
        nn_model_set_batch_group(*out, NN_DLIB_BATCH_GROUP); /* once per group */
    nn_build_free(net.b);
    return rc;
}

int nn_dlib_parse(const char *json, size_t n, const char *dir, struct nn_model **out, struct err *e)
{
    struct nn_weights w;
    int rc = nn_weights_parse(&w, json, n, dir, e);

    *out = NULL;
    if (rc == NN_OK)
        rc = build(&w, out, e);
    nn_weights_release(&w);
    return rc;
}

int nn_dlib_load(const char *manifest_path, struct nn_model **out, struct err *e)
{
    struct nn_weights w;
    int rc = nn_weights_load(&w, manifest_path, e);

    *out = NULL;
    if (rc == NN_OK) {
        rc = build(&w, out, e);
        if (rc != NN_OK)
            err_prefix(e, "%s", manifest_path);
    }
    nn_weights_release(&w);
    return rc;
}
