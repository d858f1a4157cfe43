/*
 * model: a pretrained network loaded from TensorFlow.js's graph-model format and run in
 * C, with no JavaScript or Python at run time.
 *
 * The format is a model.json (the graph: nodes with op, inputs and attributes, plus a
 * weights manifest) and binary shards holding the weights, as float32, float16, or
 * uint8/uint16 quantised with a per-tensor min and scale. Model files are untrusted
 * input: shard names must be plain file names beside the model.json, every size is
 * checked against the shards, and an unknown op, a missing input, a cycle, a truncated
 * shard or a wrong dtype is a load-time error naming the node or weight, never a crash.
 * A loaded model is immutable: several threads may run it at once.
 */
#ifndef DOPPEL_MODEL_H
#define DOPPEL_MODEL_H

#include "nn/tensor.h"
#include "util/err.h"

enum nn_rc {
    NN_OK = 0,
    NN_ERR_IO,     /* a file could not be read */
    NN_ERR_FORMAT, /* malformed model.json or weights */
    NN_ERR_OP,     /* an op doppel does not implement */
    NN_ERR_GRAPH,  /* missing node, cycle, bad attribute */
    NN_ERR_RUN,    /* shapes that do not fit at run time */
};

struct nn_model;

/* Loads a TFJS graph model from its model.json path. Caller frees with nn_model_free. */
int nn_model_load(const char *json_path, struct nn_model **out, struct err *e);

/* Loads a model from model.json text already in memory (n bytes); shards are read from
 * dir. For callers that hold the JSON themselves (the fuzzer, tests). */
int nn_model_parse(const char *json, size_t n, const char *dir, struct nn_model **out,
                   struct err *e);

/* Frees the model; m may be NULL. */
void nn_model_free(struct nn_model *m);

/* Returns the number of nodes, for reports. */
int nn_model_nodes(const struct nn_model *m);

/* A context runs models: the worker threads a forward pass splits its layers across and
 * the scratch memory kept from one run to the next. One thread uses a context at a time;
 * threads that share a model each use their own (with threads = 1 when they already run
 * one per core). */
struct nn_ctx;

/* Returns a context with threads threads (the caller's included; 0 means one per
 * online CPU). Free with nn_ctx_free. */
struct nn_ctx *nn_ctx_new(int threads);

/* Frees the context and stops its workers; ctx may be NULL. */
void nn_ctx_free(struct nn_ctx *ctx);

/* Returns the context's thread count. */
int nn_ctx_threads(const struct nn_ctx *ctx);

/* Calls fn(arg, task, thread) for every task in [0, ntasks) on ctx's threads (thread in
 * [0, nn_ctx_threads)) and returns when all are done: for the work around a run, such
 * as preparing a batch's inputs. ctx may be NULL: the calling thread runs every task. */
void nn_ctx_parallel(struct nn_ctx *ctx, int64_t ntasks,
                     void (*fn)(void *arg, int64_t task, int thread), void *arg);

/* Returns the floating-point operations (2 per multiply-add) of the convolutions and
 * matrix products of the context's last run, for GFLOP/s reports. */
double nn_ctx_flops(const struct nn_ctx *ctx);

/* Runs the graph on input (the model's one Placeholder) and computes the nodes named in
 * outputs ("name" or "name:0"); results[i] receives an owned tensor the caller releases
 * with nn_tensor_release. Only the nodes the outputs depend on are computed. ctx may be
 * NULL: the run then uses the calling thread only, as nn_model_run does. */
int nn_model_run_ctx(const struct nn_model *m, struct nn_ctx *ctx, const struct nn_tensor *input,
                     const char *const *outputs, int nout, struct nn_tensor *results,
                     struct err *e);

/* Runs a batch as its separate samples: sample i of input (its first axis) is run alone
 * and output i of each result is its output; the samples are spread over ctx's threads
 * (ctx may be NULL: the calling thread alone, as nn_model_run). Only for models whose samples do not mix
 * (every model doppel ships): each sample's activations then stay in cache, which makes
 * a batch of 32 faster per image than one batched pass. A result whose first axis is not
 * 1 per sample is an NN_ERR_RUN. */
int nn_model_run_batch(const struct nn_model *m, struct nn_ctx *ctx, const struct nn_tensor *input,
                       const char *const *outputs, int nout, struct nn_tensor *results,
                       struct err *e);

/* Sets how many samples nn_model_run_batch runs as one pass (default 1): more reads the
 * weights of late, small layers once per group instead of once per sample, at the cost
 * of larger activations (set at load, before any run; measured per model). */
void nn_model_set_batch_group(struct nn_model *m, int group);

/* nn_model_run_ctx on the calling thread's own one-thread context (made on first use,
 * freed when the thread exits). */
int nn_model_run(const struct nn_model *m, const struct nn_tensor *input,
                 const char *const *outputs, int nout, struct nn_tensor *results, struct err *e);

#endif
