/*
 * run: the interpreter loop. Marks the nodes the requested outputs depend on, walks the
 * topological order computing only those, and frees each intermediate as soon as its
 * last consumer has run, so peak memory is the widest layer rather than the whole graph.
 * Everything a run allocates belongs to the run; the model is only read, so threads can
 * share it.
 */
#include "nn/graph.h"

#include "util/xalloc.h"

#include <stdlib.h>
#include <string.h>

/* Marks every node output depends on; returns the count marked. */
static void mark_needed(const struct nn_model *m, int out, char *needed, int *stack)
{
    int top = 0;

    stack[top++] = out;
    while (top > 0) {
        int u = stack[--top];

        if (needed[u])
            continue;
        needed[u] = 1;
        for (int k = 0; k < m->nodes[u].nin; k++) {
            if (!needed[m->nodes[u].in[k]])
                stack[top++] = m->nodes[u].in[k];
        }
    }
}

/* The node computing output name: a node folded into a convolution's epilogue (fuse.c)
 * stands for that convolution when it is the last step of the chain; any other part of a
 * fused chain no longer exists as a value of its own. */
static int resolve_output(const struct nn_model *m, const char *name, int *node, struct err *e)
{
    int u = nn_graph_find(m, name);
    const struct nn_node *nd = u >= 0 ? &m->nodes[u] : NULL;

    if (nd == NULL) {
        err_set(e, "no node named %s", name);
        return NN_ERR_GRAPH;
    }
    if (nd->op == NN_OP_FUSED && nd->fused_step == m->nodes[nd->in[0]].nepi) {
        *node = nd->in[0];
        return NN_OK;
    }
    if (nd->op == NN_OP_FUSED || nd->nepi > 0) {
        err_set(e, "node %s is computed inside a fused convolution; ask for the last "
                "element-wise node after it", name);
        return NN_ERR_GRAPH;
    }
    *node = u;
    return NN_OK;
}

static int check_input(const struct nn_model *m, const struct nn_tensor *input, struct err *e)
{
    if (input == NULL || input->dtype != NN_F32 || input->nd < 1) {
        err_set(e, "input %s: a float tensor is required", m->nodes[m->input].name);
        return NN_ERR_RUN;
    }
    return NN_OK;
}

int nn_model_run(const struct nn_model *m, const struct nn_tensor *input,
                 const char *const *outputs, int nout, struct nn_tensor *results, struct err *e)
{
    int n = m->nnodes, rc = check_input(m, input, e);
    char *needed = xcalloc((size_t)n, 1);
    int *want = xcalloc((size_t)nout + 1, sizeof(int)), *uses = xcalloc((size_t)n, sizeof(int));
    int *stack = xmalloc(sizeof(int) * ((size_t)n * NN_MAX_INPUTS + 1));
    struct nn_tensor *val = xcalloc((size_t)n, sizeof *val);

    for (int i = 0; i < nout && rc == NN_OK; i++) {
        rc = resolve_output(m, outputs[i], &want[i], e);
        if (rc == NN_OK) {
            mark_needed(m, want[i], needed, stack);
            uses[want[i]]++;
        }
    }
    for (int u = 0; u < n && rc == NN_OK; u++) {
        for (int k = 0; needed[u] && k < m->nodes[u].nin; k++)
            uses[m->nodes[u].in[k]]++;
    }
    for (int i = 0; i < n && rc == NN_OK; i++) {
        int u = m->order[i];
        const struct nn_node *nd = &m->nodes[u];
        const struct nn_tensor *in[NN_MAX_INPUTS];

        if (!needed[u])
            continue;
        if (nd->op == NN_OP_CONST) {
            nn_tensor_borrow(&val[u], &nd->value);
            continue;
        }
        if (nd->op == NN_OP_PLACEHOLDER) {
            nn_tensor_borrow(&val[u], input);
            continue;
        }
        for (int k = 0; k < nd->nin; k++)
            in[k] = &val[nd->in[k]];
        rc = nn_op_eval(nd, in, &val[u], e);
        for (int k = 0; k < nd->nin && rc == NN_OK; k++) {
            if (--uses[nd->in[k]] == 0)
                nn_tensor_release(&val[nd->in[k]]);
        }
    }
    for (int i = 0; i < nout; i++) {
        if (rc == NN_OK)
            nn_tensor_copy(&results[i], &val[want[i]]);
        else
            memset(&results[i], 0, sizeof results[i]);
    }
    for (int u = 0; u < n; u++)
        nn_tensor_release(&val[u]);
    free(val);
    free(stack);
    free(uses);
    free(want);
    free(needed);
    return rc;
}
