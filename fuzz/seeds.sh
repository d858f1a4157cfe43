#!/bin/sh
# Builds the seed corpora of the image fuzzer in build/fuzz/corpus-{jpeg,png,webp}: small
# variants of the sample photos (baseline, progressive, grey, CMYK, EXIF-rotated JPEG;
# RGB, RGBA, grey, grey+alpha, palette, 16-bit PNG; lossy, lossless, alpha WebP) made
# with Debian's Pillow. Nothing here is committed; the sample photo comes from models/.
set -eu
ROOT=$(cd "$(dirname "$0")/.." && pwd)
OUT="$ROOT/build/fuzz"
SRC="${DOPPEL_MODELS:-$ROOT/models}/samples/face-api/sample1.jpg"
[ -f "$SRC" ] || { echo "seeds: $SRC missing; run scripts/setup.sh" >&2; exit 1; }
mkdir -p "$OUT/corpus-jpeg" "$OUT/corpus-png" "$OUT/corpus-webp" "$OUT/corpus-exif"
/usr/bin/python3 - "$SRC" "$OUT" <<'PY'
import io, sys
from PIL import Image
src, out = sys.argv[1], sys.argv[2]
base = Image.open(src).convert("RGB")
face = base.crop((760, 180, 1080, 500)).resize((48, 48), Image.BICUBIC)
wide = base.resize((64, 40), Image.BICUBIC)
def save(im, fmt, name, **kw):
    b = io.BytesIO(); im.save(b, fmt, **kw)
    open("%s/corpus-%s/%s" % (out, fmt.lower(), name), "wb").write(b.getvalue())
    return b.getvalue()
for i, im in enumerate((face, wide)):
    save(im, "JPEG", "baseline%d.jpg" % i, quality=80)
    save(im, "JPEG", "progressive%d.jpg" % i, quality=70, progressive=True)
    save(im.convert("L"), "JPEG", "grey%d.jpg" % i)
    save(im.convert("CMYK"), "JPEG", "cmyk%d.jpg" % i)
    save(im, "JPEG", "444_%d.jpg" % i, subsampling=0)
    ex = Image.Exif(); ex[0x112] = 6 + i
    j = save(im, "JPEG", "exif%d.jpg" % i, exif=ex.tobytes())
    open("%s/corpus-exif/tiff%d" % (out, i), "wb").write(ex.tobytes()[6:] if ex.tobytes().startswith(b"Exif") else ex.tobytes())
    save(im, "PNG", "rgb%d.png" % i)
    save(im.convert("RGBA"), "PNG", "rgba%d.png" % i)
    save(im.convert("L"), "PNG", "grey%d.png" % i)
    save(im.convert("P"), "PNG", "palette%d.png" % i)
    save(im.convert("LA"), "PNG", "greyalpha%d.png" % i)
    save(im.convert("I").point(lambda v: v * 256), "PNG", "grey16_%d.png" % i)
    save(im, "WEBP", "lossy%d.webp" % i, quality=75)
    save(im, "WEBP", "lossless%d.webp" % i, lossless=True)
    a = im.convert("RGBA"); a.putalpha(128)
    save(a, "WEBP", "alpha%d.webp" % i, quality=80)
PY
# Name-search queries: a mode/k byte, then a query.
mkdir -p "$OUT/corpus-names"
i=0
for q in "keanu reves" "jessica chas" "Penélope" "渡辺" "o'brien" "DOWNEY jr." "zz" "a" "Straße"; do
    i=$((i + 1))
    printf '\052%s' "$q" >"$OUT/corpus-names/q$i"
    printf '\225%s' "$q" >"$OUT/corpus-names/r$i"
done
# Model files: the real BlazeFace model.json and tiny graphs of each op family over the
# fuzzer's 4 KB shard w.bin.
mkdir -p "$OUT/corpus-model"
cp "${DOPPEL_MODELS:-$ROOT/models}/human-models/blazeface.json" "$OUT/corpus-model/"
/usr/bin/python3 - "$OUT/corpus-model" <<'PY'
import json, sys
def node(n, op, inputs, attr=None):
    d = {"name": n, "op": op, "input": inputs}
    if attr:
        d["attr"] = attr
    return d
win = {"ksize": {"list": {"i": ["1", "2", "2", "1"]}}, "strides": {"list": {"i": ["1", "1", "1", "1"]}},
       "padding": {"s": "U0FNRQ=="}}
graphs = [[node("input", "Placeholder", []), node("out", op, ["input"], win if "Pool" in op else None)]
          for op in ("Relu", "Sigmoid", "Softmax", "MaxPool", "AvgPool", "Tanh", "Abs")]
graphs.append([node("input", "Placeholder", []), node("w", "Const", []), node("b", "Const", []),
               node("out", "_FusedConv2D", ["input", "w", "b"],
                    {"strides": {"list": {"i": ["1", "1", "1", "1"]}}, "padding": {"s": "U0FNRQ=="},
                     "fused_ops": {"list": {"s": ["Qmlhc0FkZA==", "UmVsdQ=="]}}})])
graphs.append([node("input", "Placeholder", []), node("w", "Const", []),
               node("out", "DepthwiseConv2dNative", ["input", "w"],
                    {"strides": {"list": {"i": ["1", "2", "2", "1"]}}, "padding": {"s": "VkFMSUQ="}})])
graphs.append([node("input", "Placeholder", []), node("w", "Const", []), node("out", "AddV2", ["input", "w"])])
shapes = {"DepthwiseConv2dNative": [3, 3, 3, 1], "AddV2": [3]}
for i, g in enumerate(graphs):
    w = {"name": "w", "shape": shapes.get(g[-1]["op"], [1, 1, 3, 2]), "dtype": "float32"}
    b = {"name": "b", "shape": [2], "dtype": "float32",
         "quantization": {"dtype": "uint8", "min": -1, "scale": 0.01}}
    m = {"modelTopology": {"node": g}, "weightsManifest": [{"paths": ["w.bin"], "weights": [w, b]}]}
    open("%s/seed%d.json" % (sys.argv[1], i), "w").write(json.dumps(m))
PY
# face-api manifests (fuzz_manifest): the real dlib one, and small ones over w.bin in
# each stored form.
mkdir -p "$OUT/corpus-manifest"
cp "${DOPPEL_MODELS:-$ROOT/models}/face-api/face_recognition_model-weights_manifest.json" \
    "$OUT/corpus-manifest/dlib.json"
/usr/bin/python3 - "$OUT/corpus-manifest" <<'PY'
import json, sys
forms = [("float32", None), ("float32", {"dtype": "uint8", "min": -0.5, "scale": 0.01}),
         ("float32", {"dtype": "uint16", "min": -1, "scale": 0.001}),
         ("float32", {"dtype": "float16"}), ("int32", None)]
for i, (dtype, q) in enumerate(forms):
    w = {"name": "conv32_down/conv/filters", "shape": [7, 7, 3, 32] if i == 1 else [2, 3],
         "dtype": dtype}
    if q:
        w["quantization"] = q
    bias = {"name": "conv32_down/conv/bias", "shape": [32], "dtype": "float32"}
    m = [{"paths": ["w.bin"], "weights": [w, bias]}]
    open("%s/small%d.json" % (sys.argv[1], i), "w").write(json.dumps(m))
PY
for d in jpeg png webp exif names model manifest; do
    echo "seeds: $(ls "$OUT/corpus-$d" | wc -l) files in $OUT/corpus-$d"
done
