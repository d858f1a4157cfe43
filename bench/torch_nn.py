"""PyTorch peer for bench/bench_nn.sh: runs a TensorFlow.js graph model on PyTorch.

Reads model.json and its weight shards, maps each graph op onto torch (NCHW inside,
TF's NHWC at the edges), traces the result, freezes it with torch.jit.freeze and
torch.jit.optimize_for_inference (oneDNN), and runs it on a raw float32 input. The
command line mirrors tools/tfjs/run.js, so both runtimes get the same model and input:

  /usr/bin/python3 bench/torch_nn.py --model M.json --input X.f32 --shape N,H,W,C
      --outputs name[,name...] --out DIR [--threads T] [--runs R] [--check REF_DIR]

Writes DIR/<i>.f32 (raw float32, TF's layout: NHWC for 4-D outputs) and prints
`gflop X` (2 x multiply-adds of the convolutions and matrix products at this batch).
With --runs R it times R runs after 3 warm-ups and prints `median_ms X`. With --check it
compares every output with REF_DIR/<i>.f32 (e.g. tools/tfjs/run.js --backend cpu) at
doppel's test tolerance |diff| <= 1e-4 + 1e-3 |ref|, and exits 1 on a mismatch.

Only the ops of the models doppel ships are mapped (see OPS); anything else is refused
by name. Run it with Debian's python3-torch (/usr/bin/python3), not a venv's python.
"""
import argparse
import base64
import json
import math
import os
import sys
import time
import warnings

import numpy as np
import torch_pin

torch_pin.pin_threads(sys.argv[1:])
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

DTYPES = {"float32": np.float32, "float16": np.float16, "int32": np.int32,
          "uint8": np.uint8, "uint16": np.uint16, "bool": np.bool_}


def parse_args(argv):
    p = argparse.ArgumentParser(description="run a TFJS graph model on PyTorch")
    for name in ("model", "input", "shape", "outputs", "out"):
        p.add_argument("--" + name, required=True)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--runs", type=int, default=0)
    p.add_argument("--check", help="folder of reference outputs <i>.f32 to compare with")
    return p.parse_args(argv)


def spec_array(spec, raw, off):
    """Decodes one weightsManifest entry at byte off of raw: (float or int array, size)."""
    q = spec.get("quantization")
    stored = DTYPES[q["dtype"] if q else spec["dtype"]]
    count = int(np.prod(spec["shape"], dtype=np.int64))
    size = count * np.dtype(stored).itemsize
    a = np.frombuffer(raw, dtype=stored, count=count, offset=off)
    if q and q["dtype"] in ("uint8", "uint16"):
        a = a.astype(np.float32) * np.float32(q["scale"]) + np.float32(q["min"])
    a = a.astype(DTYPES[spec["dtype"]]).reshape(spec["shape"])
    return a, size


def load_model(path):
    """model.json -> (graph nodes by name, weights by name as numpy arrays)."""
    with open(path) as f:
        doc = json.load(f)
    specs, chunks = [], []
    for group in doc["weightsManifest"]:
        specs.extend(group["weights"])
        for shard in group["paths"]:
            with open(os.path.join(os.path.dirname(path), shard), "rb") as f:
                chunks.append(f.read())
    raw = b"".join(chunks)
    weights, off = {}, 0
    for spec in specs:
        weights[spec["name"]], size = spec_array(spec, raw, off)
        off += size
    if off != len(raw):
        raise SystemExit("torch_nn: weights take %d bytes, shards hold %d" % (off, len(raw)))
    nodes = {n["name"]: n for n in doc["modelTopology"]["node"]}
    return nodes, weights


def attr_ints(node, key):
    return [int(v) for v in node.get("attr", {}).get(key, {}).get("list", {}).get("i", [])]


def attr_str(node, key, default=""):
    s = node.get("attr", {}).get(key, {}).get("s")
    return base64.b64decode(s).decode() if s else default


def attr_strs(node, key):
    return [base64.b64decode(s).decode()
            for s in node.get("attr", {}).get(key, {}).get("list", {}).get("s", [])]


def attr_bool(node, key):
    return bool(node.get("attr", {}).get(key, {}).get("b", False))


def src_name(ref):
    """'name:0' -> 'name'; control inputs ('^name') are dropped by the caller."""
    return ref.split(":")[0]


def needed_nodes(nodes, outputs):
    """Names of the nodes the outputs depend on, inputs before users."""
    order, state = [], {}
    for out in outputs:
        stack = [(out, False)]
        while stack:
            name, done = stack.pop()
            if done:
                if state.get(name) != 2:
                    state[name] = 2
                    order.append(name)
                continue
            if state.get(name):
                continue
            if name not in nodes:
                raise SystemExit("torch_nn: no node '%s' in the graph" % name)
            state[name] = 1
            stack.append((name, True))
            for ref in nodes[name].get("input", []):
                if not ref.startswith("^"):
                    stack.append((src_name(ref), False))
    return order


def same_pad(size, k, stride, dil):
    """TF 'SAME' padding of one spatial axis: (before, after)."""
    total = max((math.ceil(size / stride) - 1) * stride + (k - 1) * dil + 1 - size, 0)
    return total // 2, total - total // 2


class Value:
    """A tensor and whether it is a 4-D activation kept as NCHW (else TF's layout)."""

    def __init__(self, t, nchw=False):
        self.t, self.nchw = t, nchw

    def tf(self):
        return self.t.permute(0, 2, 3, 1) if self.nchw else self.t

    def as_nchw(self):
        if self.nchw:
            return self.t
        if self.t.dim() != 4:
            raise SystemExit("torch_nn: expected a 4-D tensor, got %d-D" % self.t.dim())
        return self.t.permute(0, 3, 1, 2)


NCHW_AXIS = [0, 2, 3, 1]  # TF NHWC axis -> NCHW axis


class Graph(torch.nn.Module):
    """Interprets the needed nodes in order; traced once, so Python runs at trace time."""

    def __init__(self, nodes, weights, outputs):
        super().__init__()
        self.nodes, self.outputs = nodes, outputs
        self.order = needed_nodes(nodes, outputs)
        self.ints, self.scalars, self.bufs = {}, {}, {}
        self.flops = 0
        for name in self.order:
            if nodes[name]["op"] not in OPS:
                raise SystemExit("torch_nn: op %s (node %s) is not supported"
                                 % (nodes[name]["op"], name))
        if [nodes[n]["op"] for n in self.order].count("Placeholder") != 1:
            raise SystemExit("torch_nn: the outputs must depend on exactly one input")
        for name in self.order:
            if nodes[name]["op"] == "Const":
                self.add_const(name, weights)

    def add_const(self, name, weights):
        """int32 constants (shapes, axes, paddings) stay Python lists; float ones become
        buffers, convolution filters in torch's layout, scalars also Python floats."""
        if name not in weights:
            raise SystemExit("torch_nn: constant %s has no weights" % name)
        w = weights[name]
        if w.dtype == np.int32:
            self.ints[name] = [int(v) for v in w.reshape(-1)]
            return
        users = [self.nodes[u] for u in self.order
                 if name in [src_name(r) for r in self.nodes[u].get("input", [])[1:2]]]
        t = torch.from_numpy(np.array(w, dtype=np.float32))
        if users and all(u["op"] in CONV_OPS for u in users):
            t = conv_weight(t, "Depthwise" in users[0]["op"])
        if t.dim() == 0:
            self.scalars[name] = float(t)
        key = "w%d" % len(self.bufs)
        self.register_buffer(key, t)
        self.bufs[name] = key

    def const(self, name):
        return getattr(self, self.bufs[name])

    def forward(self, x):
        """x: NHWC. Returns the outputs in TF's layout."""
        vals = {}
        for name in self.order:
            n = self.nodes[name]
            ins = [src_name(r) for r in n.get("input", []) if not r.startswith("^")]
            if n["op"] == "Placeholder":
                vals[name] = Value(x.permute(0, 3, 1, 2), True)
            elif n["op"] == "Const":
                if name in self.bufs:
                    vals[name] = Value(self.const(name))
            else:
                vals[name] = OPS[n["op"]](self, n, ins, vals)
        return tuple(vals[o].tf() for o in self.outputs)


def conv_weight(t, depthwise):
    """TF HWIO (depthwise: H W C M) -> torch OIHW (depthwise: C*M 1 H W, groups C)."""
    if depthwise:
        h, w, c, m = t.shape
        return t.reshape(h, w, c * m).permute(2, 0, 1).unsqueeze(1).contiguous()
    return t.permute(3, 2, 0, 1).contiguous()


def conv(g, n, ins, vals):
    x = vals[ins[0]].as_nchw()
    w = g.const(ins[1])
    depthwise = "Depthwise" in n["op"]
    if attr_str(n, "data_format", "NHWC") != "NHWC":
        raise SystemExit("torch_nn: %s: only NHWC convolutions" % n["name"])
    strides = attr_ints(n, "strides") or [1, 1, 1, 1]
    dil = attr_ints(n, "dilations") or [1, 1, 1, 1]
    kh, kw = w.shape[2], w.shape[3]
    pads = spatial_pads(n, x, (kh, kw), strides, dil)
    groups = int(x.shape[1]) if depthwise else 1
    if pads[0] == pads[1] and pads[2] == pads[3]:
        padding = (pads[0], pads[2])
    else:
        x = F.pad(x, (pads[2], pads[3], pads[0], pads[1]))
        padding = (0, 0)
    bias = None
    fused = attr_strs(n, "fused_ops")
    if fused and fused[0] == "BiasAdd":
        bias = g.const(ins[2])
    elif fused:
        raise SystemExit("torch_nn: %s: fused op %s without BiasAdd" % (n["name"], fused[0]))
    y = F.conv2d(x, w, bias, (strides[1], strides[2]), padding, (dil[1], dil[2]), groups)
    g.flops += 2 * y.numel() * w.shape[1] * kh * kw
    return Value(activation(g, n, fused[1:], ins, y), True)


def spatial_pads(n, x, k, strides, dil):
    """(top, bottom, left, right) for x (NCHW) under the node's padding attribute."""
    mode = attr_str(n, "padding", "VALID")
    if mode == "VALID":
        return (0, 0, 0, 0)
    if mode == "EXPLICIT":
        e = attr_ints(n, "explicit_paddings")
        return (e[2], e[3], e[4], e[5])
    top = same_pad(int(x.shape[2]), k[0], strides[1], dil[1])
    left = same_pad(int(x.shape[3]), k[1], strides[2], dil[2])
    return top + left


def activation(g, n, fused, ins, y):
    for op in fused:
        if op == "Relu":
            y = F.relu(y)
        elif op == "Relu6":
            y = F.hardtanh(y, 0.0, 6.0)
        elif op == "Prelu":
            y = F.prelu(y, g.const(ins[3]).reshape(-1))
        elif op == "LeakyRelu":
            alpha = n.get("attr", {}).get("leakyrelu_alpha", {}).get("f", 0.2)
            y = F.leaky_relu(y, float(alpha))
        else:
            raise SystemExit("torch_nn: %s: fused op %s not supported" % (n["name"], op))
    return y


def matmul(g, n, ins, vals):
    a = vals[ins[0]].tf()
    w = g.const(ins[1])
    if attr_bool(n, "transpose_a") or a.dim() != 2:
        raise SystemExit("torch_nn: %s: only 2-D x @ W" % n["name"])
    w = w if attr_bool(n, "transpose_b") else w.t()
    fused = attr_strs(n, "fused_ops")
    bias = g.const(ins[2]) if fused and fused[0] == "BiasAdd" else None
    y = F.linear(a, w, bias)
    g.flops += 2 * y.numel() * w.shape[1]
    return Value(activation(g, n, fused[1:] if bias is not None else fused, ins, y))


def operand(g, name, v, nchw):
    """An operand of a broadcasting op: a Python float for scalar constants, else the
    tensor in the layout of the result (TF shapes right-aligned to NHWC, then NCHW)."""
    if name in g.scalars:
        return g.scalars[name]
    if not nchw or v.nchw:
        return v.t
    t = v.t
    if t.dim() > 4:
        raise SystemExit("torch_nn: cannot broadcast a %d-D tensor with NCHW" % t.dim())
    return t.reshape([1] * (4 - t.dim()) + list(t.shape)).permute(0, 3, 1, 2)


def binary(fn):
    def op(g, n, ins, vals):
        nchw = any(vals[i].nchw for i in ins)
        a, b = (operand(g, i, vals[i], nchw) for i in ins)
        return Value(fn(a, b), nchw)
    return op


def minimum(a, b):
    """Minimum/Maximum with a scalar constant become a clamp (oneDNN's eltwise clip
    when it follows a convolution); both bounds given, as optimize_for_inference
    asserts on a clamp with a missing bound."""
    if isinstance(b, float):
        return torch.clamp(a, -math.inf, b)
    return minimum(b, a) if isinstance(a, float) else torch.minimum(a, b)


def maximum(a, b):
    if isinstance(b, float):
        return torch.clamp(a, b, math.inf)
    return maximum(b, a) if isinstance(a, float) else torch.maximum(a, b)


def unary(fn):
    return lambda g, n, ins, vals: Value(fn(vals[ins[0]].t), vals[ins[0]].nchw)


def softmax(g, n, ins, vals):
    v = vals[ins[0]]
    return Value(torch.softmax(v.t, 1 if v.nchw else -1), v.nchw)


def mean(g, n, ins, vals):
    v = vals[ins[0]]
    rank = v.t.dim()
    axes = sorted(a % rank for a in g.ints[ins[1]])
    keep = attr_bool(n, "keep_dims")
    if v.nchw:
        mapped = [NCHW_AXIS[a] for a in axes]
        rest = [NCHW_AXIS[a] for a in range(4) if a not in axes]
        if keep or rest == sorted(rest):
            return Value(torch.mean(v.t, mapped, keep), keep)
    return Value(torch.mean(v.tf(), axes, keep))


def pool(g, n, ins, vals):
    x = vals[ins[0]].as_nchw()
    k, s = attr_ints(n, "ksize"), attr_ints(n, "strides")
    pads = spatial_pads(n, x, (k[1], k[2]), s, [1, 1, 1, 1])
    if n["op"] == "MaxPool":
        if any(pads):
            x = F.pad(x, (pads[2], pads[3], pads[0], pads[1]), value=-math.inf)
        y = F.max_pool2d(x, (k[1], k[2]), (s[1], s[2]))
    elif pads[0] == pads[1] and pads[2] == pads[3]:
        y = F.avg_pool2d(x, (k[1], k[2]), (s[1], s[2]), (pads[0], pads[2]),
                         count_include_pad=False)
    else:
        raise SystemExit("torch_nn: %s: asymmetric AvgPool padding" % n["name"])
    return Value(y, True)


def pad(g, n, ins, vals):
    v = vals[ins[0]]
    p = g.ints[ins[1]]
    pairs = [(p[2 * i], p[2 * i + 1]) for i in range(len(p) // 2)]
    if v.nchw:
        pairs = [pairs[0], pairs[3], pairs[1], pairs[2]]
    flat = [q for pair in reversed(pairs) for q in pair]
    return Value(F.pad(v.t, flat), v.nchw)


def reshape(g, n, ins, vals):
    return Value(vals[ins[0]].tf().reshape(g.ints[ins[1]]))


def squeeze(g, n, ins, vals):
    t = vals[ins[0]].tf()
    dims = attr_ints(n, "squeeze_dims") or [i for i in range(t.dim()) if t.shape[i] == 1]
    for d in sorted((d % t.dim() for d in dims), reverse=True):
        t = t.squeeze(d)
    return Value(t)


def concat(g, n, ins, vals):
    parts = [vals[i] for i in ins[:-1]]
    axis = g.ints[ins[-1]][0]
    if all(p.nchw for p in parts):
        return Value(torch.cat([p.t for p in parts], NCHW_AXIS[axis % 4]), True)
    return Value(torch.cat([p.tf() for p in parts], axis))


CONV_OPS = ("Conv2D", "_FusedConv2D", "DepthwiseConv2dNative", "FusedDepthwiseConv2dNative")
OPS = {
    "Placeholder": None, "Const": None,
    "Conv2D": conv, "_FusedConv2D": conv,
    "DepthwiseConv2dNative": conv, "FusedDepthwiseConv2dNative": conv,
    "MatMul": matmul, "_FusedMatMul": matmul,
    "Add": binary(torch.add), "AddV2": binary(torch.add), "Sub": binary(torch.sub),
    "Mul": binary(torch.mul), "Maximum": binary(maximum), "Minimum": binary(minimum),
    "Relu": unary(F.relu), "Relu6": unary(lambda t: F.hardtanh(t, 0.0, 6.0)),
    "Sigmoid": unary(torch.sigmoid), "Identity": unary(lambda t: t),
    "Softmax": softmax, "Mean": mean, "MaxPool": pool, "AvgPool": pool, "Pad": pad,
    "Reshape": reshape, "Squeeze": squeeze, "ConcatV2": concat,
}


def read_input(path, shape_arg):
    """Raw float32 file -> NHWC tensor of the --shape given."""
    shape = [int(v) for v in shape_arg.split(",")]
    data = np.fromfile(path, dtype=np.float32)
    if data.size != np.prod(shape):
        raise SystemExit("torch_nn: %s holds %d floats, --shape wants %d"
                         % (path, data.size, np.prod(shape)))
    return torch.from_numpy(data.reshape(shape))


def freeze(model, x):
    """Traces model on x (shapes become constants), freezes and optimizes it for inference."""
    warnings.filterwarnings("ignore", category=torch.jit.TracerWarning)
    with torch.no_grad():
        traced = torch.jit.trace(model, x, check_trace=False)
    return torch.jit.optimize_for_inference(torch.jit.freeze(traced.eval()))


def run_main(args):
    torch.set_num_threads(args.threads)
    x = read_input(args.input, args.shape)
    outputs = [src_name(o) for o in args.outputs.split(",")]
    model = Graph(*load_model(args.model), outputs).eval()
    with torch.no_grad():
        model(x)  # eager once: counts the flops
    print("gflop %.3f" % (model.flops / 1e9))
    frozen = freeze(model, x)
    with torch.inference_mode():
        outs = frozen(x)
    write_outputs(args.out, outputs, outs)
    rc = check_outputs(args.check, outputs, outs) if args.check else 0
    if args.runs:
        print("median_ms %.3f threads %d" % (time_runs(frozen, x, args.runs), args.threads))
    return rc


def write_outputs(folder, names, outs):
    os.makedirs(folder, exist_ok=True)
    meta = []
    for i, t in enumerate(outs):
        t.contiguous().numpy().astype(np.float32).tofile(os.path.join(folder, "%d.f32" % i))
        meta.append({"name": names[i], "shape": list(t.shape)})
    with open(os.path.join(folder, "outputs.json"), "w") as f:
        json.dump(meta, f)


def check_outputs(ref_dir, names, outs):
    """Prints each output's max |diff| against ref_dir/<i>.f32; 1 if any is out of tolerance."""
    rc = 0
    for i, t in enumerate(outs):
        got = t.contiguous().numpy().reshape(-1)
        path = os.path.join(ref_dir, "%d.f32" % i)
        want = np.fromfile(path, dtype=np.float32) if os.path.exists(path) else None
        if want is None or want.size != got.size:
            print("check %s: %d values, reference %s has %s" %
                  (names[i], got.size, path, "none" if want is None else want.size))
            rc = 1
            continue
        diff = np.abs(got.astype(np.float64) - want)
        ratio = float(np.max(diff / (1e-4 + 1e-3 * np.abs(want))))
        print("check %s: %d values, max |diff| %.3g (%.2f of tolerance)"
              % (names[i], got.size, float(diff.max()), ratio))
        if not ratio <= 1.0:
            rc = 1
    return rc


def time_runs(frozen, x, runs):
    """Median milliseconds of runs calls, after 3 warm-ups (the JIT profiles first calls)."""
    times = []
    with torch.inference_mode():
        for _ in range(3):
            frozen(x)
        for _ in range(runs):
            t0 = time.perf_counter()
            frozen(x)
            times.append((time.perf_counter() - t0) * 1e3)
    times.sort()
    return times[len(times) // 2]


def main():
    return run_main(parse_args(sys.argv[1:]))


if __name__ == "__main__":
    sys.exit(main())
