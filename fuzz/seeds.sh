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
# Import files: a parser byte (0 CSV, 1 CSV manifest, 2 JSON-lines manifest, 3 title
# list), then the file.
mkdir -p "$OUT/corpus-import"
printf '\000a,"b,""c""",d\r\n\n"x\ny";z\n' >"$OUT/corpus-import/csv"
printf '\001name,photo,tmdb_id,known_for,rank\nKeanu Reeves,k/1.jpg,6384,The Matrix; Speed,1\n"Cruz, Penélope",https://x/p.jpg,,,\n' \
    >"$OUT/corpus-import/manifest-csv"
printf '\002{"name": "Zoë Saldaña", "photo": "z.jpg", "tmdb_id": "8691", "known_for": ["Avatar", "Star Trek"]}\n\n{"name": "A", "photo": "https://x/a.jpg", "rank": 2}\n' \
    >"$OUT/corpus-import/manifest-jsonl"
printf '\003show_id,type,title,director,cast,country,date_added,release_year\ns1,Movie,The Matrix,L,"Keanu Reeves, Carrie-Anne Moss",US,x,1999\ns2,TV Show,Dark,,"Louis Hofmann | Oliver Masucci",DE,,2017\n' \
    >"$OUT/corpus-import/titles-streaming"
printf '\003index;movie_title;title_year;actor_1_name;actor_2_name;actor_3_name\r\n1;Avatar\302\240;2009;CCH Pounder;Joel David Moore;Wes Studi\r\n' \
    >"$OUT/corpus-import/titles-imdb"
# Index files: small valid indexes (no head, and a 64-wide head whose basis vectors are
# e_0 .. e_63) written by an independent implementation of the format of
# src/index/layout.h.
mkdir -p "$OUT/corpus-index"
/usr/bin/python3 - "$OUT/corpus-index" <<'PY'
import math, random, struct, sys
M = (1 << 64) - 1
P1, P2, P3 = 0x9E3779B185EBCA87, 0xC2B2AE3D27D4EB4F, 0x165667B19E3779F9
def rotl(x, r):
    return (x << r | x >> (64 - r)) & M
def sum64(b, seed):
    a = [(seed + P1) & M, seed ^ P2, (seed + P3) & M, (seed - P1) & M]
    p, n = 0, len(b)
    while n - p >= 32:
        for l in range(4):
            w = int.from_bytes(b[p + 8 * l:p + 8 * l + 8], "little")
            a[l] = rotl((a[l] + w * P2) & M, 31) * P1 & M
        p += 32
    h = (rotl(a[0], 1) + rotl(a[1], 7) + rotl(a[2], 12) + rotl(a[3], 18)) & M
    while n - p >= 8:
        w = int.from_bytes(b[p:p + 8], "little")
        h = (rotl(h ^ (w * P2 & M), 27) * P1 + P3) & M
        p += 8
    for c in b[p:]:
        h = rotl(h ^ (c * P3 & M), 11) * P1 & M
    h ^= n
    h ^= h >> 33; h = h * 0xFF51AFD7ED558CCD & M
    h ^= h >> 33; h = h * 0xC4CEB9FE1A85EC53 & M
    return h ^ h >> 33
def f32(xs):
    return struct.pack("<%df" % len(xs), *xs)
def index(dim, head, count, seed):
    rnd = random.Random(seed)
    padded = (dim + 63) // 64 * 64
    vecs, scales, tnorms, heads, tails = [], [], [], b"", b""
    for r in range(count):
        v = [rnd.gauss(0, 1) for _ in range(dim)]
        n = math.sqrt(sum(x * x for x in v))
        v = [x / n for x in v]
        y = [-x for x in v[:head]] + v[head:]  # reflections by e_0 .. e_{head-1}
        m = max(abs(x) for x in y)
        q = [max(-127, min(127, round(x * 127 / m))) for x in y] + [0] * (padded - dim)
        vecs += v
        scales.append(m / 127)
        tnorms.append(math.sqrt(sum(x * x for x in q[head:])))
        heads += struct.pack("<%db" % head, *q[:head])
        tails += struct.pack("<%db" % (padded - head), *q[head:])
    ids = [1000 + 7 * ((r * 5) % count) for r in range(count)]
    basis = [1.0 if i == j else 0.0 for j in range(head) for i in range(dim)]
    byid = sorted(range(count), key=lambda r: ids[r])
    secs = [f32(basis), f32(scales), f32(tnorms), struct.pack("<%dq" % count, *ids),
            struct.pack("<%dI" % count, *byid), heads, tails, f32(vecs)]
    off, pos = [], 256
    for s in secs:
        off.append(pos)
        pos = (pos + len(s) + 63) // 64 * 64
    def header(meta_sum, data_sum):
        return (b"DOPPELIX" + struct.pack("<II", 1, 256) + b"look".ljust(16, b"\0") +
                b"fuzz-seed".ljust(64, b"\0") + struct.pack("<IIQIIQ", dim, head, count, 1, 0, pos) +
                struct.pack("<8Q", *off) + struct.pack("<QQ", meta_sum, data_sum) + bytes(48))
    def sections(first, last, extra):
        sums = [extra] + [sum64(secs[i], i) for i in range(first, last + 1)]
        return sum64(struct.pack("<%dQ" % len(sums), *sums), 0)
    meta = sections(0, 4, sum64(header(0, 0), 99))
    img = bytearray(header(meta, sections(5, 7, 0)).ljust(pos, b"\0"))
    for o, s in zip(off, secs):
        img[o:o + len(s)] = s
    return bytes(img)
for name, dim, head, count in (("d3", 3, 0, 5), ("d64", 64, 0, 4), ("d70h", 70, 64, 3),
                               ("d128h", 128, 64, 6), ("empty", 8, 0, 0)):
    open("%s/%s.idx" % (sys.argv[1], name), "wb").write(index(dim, head, count, len(name)))
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
# safetensors checkpoints (fuzz_safetensors): tiny CLIP vision towers in both naming
# schemes and three dtypes (where torch is installed), and a few bare headers.
mkdir -p "$OUT/corpus-safetensors"
if /usr/bin/python3 -c 'import torch' 2>/dev/null; then
    for v in "hf F32 quick_gelu" "openai F16 gelu" "hf BF16 quick_gelu"; do
        set -- $v
        /usr/bin/python3 "$ROOT/tests/clip_ref.py" make "$OUT/corpus-safetensors/tiny-$1-$2.st" \
            --config tiny --naming "$1" --dtype "$2" --act "$3"
    done
fi
/usr/bin/python3 - "$OUT/corpus-safetensors" <<'PY'
import json, struct, sys
for name, h, n in (("empty", {}, 0),
                   ("one", {"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}}, 8),
                   ("meta", {"__metadata__": {"hidden_act": "gelu"},
                             "x": {"dtype": "BF16", "shape": [1, 2], "data_offsets": [0, 4]}}, 4)):
    b = json.dumps(h).encode()
    open("%s/%s.st" % (sys.argv[1], name), "wb").write(struct.pack("<Q", len(b)) + b + bytes(n))
PY
# Graph files: fuzz_hnsw patches its own valid graph; seeds are patch lists (the first
# byte's low bit reseals the checksum), and one whole-file header.
mkdir -p "$OUT/corpus-hnsw"
printf '\000' >"$OUT/corpus-hnsw/none"
printf '\001\000\001\000\000\377' >"$OUT/corpus-hnsw/link"
printf '\001\030\000\000\000\005' >"$OUT/corpus-hnsw/entry"
printf 'DOPPELHN\001\000\000\000\300\000\000\000' >"$OUT/corpus-hnsw/header"
# Near lists: fuzz_near patches its own valid lists the same way.
mkdir -p "$OUT/corpus-near"
printf '\000' >"$OUT/corpus-near/none"
printf '\001\100\000\000\000\377' >"$OUT/corpus-near/entry"
printf '\001\014\000\000\000\000' >"$OUT/corpus-near/k"
printf 'DOPPELNR\001\000\000\000\010\000\000\000' >"$OUT/corpus-near/header"
# Web requests: method byte, path, query line, upload.
mkdir -p "$OUT/corpus-web"
i=0
for req in '/\n' '/search\nq=keanu&tab=actor' '/search\nq=ma&tab=title' '/actor/1\nspace=identity&k=3' \
    '/actor/2\nk=x' '/title/1\n' '/about\n' '/api/search\nq=tom&k=2' '/api/similar/1\nk=2' \
    '/api/titles\nq=matrix' '/api/titles/1/cast\n' '/api/people/2\n' '/img/person/1\nn=2' \
    '/photo\n\n\377\330\377' '/api/query\nk=2\nGIF89a'; do
    i=$((i + 1))
    printf "\0$req" >"$OUT/corpus-web/r$i"
done
printf '\021/api/query\nk=1\n\211PNG\r\n' >"$OUT/corpus-web/upload1"
printf '\014/search\nq=ke' >"$OUT/corpus-web/suggest1"
# TMDB responses (fuzz_tmdb): a parser byte (0 people page, 1 movie page, 2 TV page,
# 3 movie cast, 4 TV cast, 5 images, 6 configuration, 7 error / export line), then the
# recorded bodies when DOPPEL_TESTDATA has them, and small hand-made ones.
mkdir -p "$OUT/corpus-tmdb"
T="${DOPPEL_TESTDATA:-$ROOT/../shared/data}/tmdb"
tmdb_seed() { { printf "\\$(printf '%03o' "$1")"; cat "$2"; } >"$OUT/corpus-tmdb/$3"; }
if [ -d "$T" ]; then
    tmdb_seed 0 "$T/recorded_2022/person__popular.json" popular
    tmdb_seed 1 "$T/recorded_2022/movie__top_rated.json" top_movie
    tmdb_seed 2 "$T/recorded_2022/tv__top_rated.json" top_tv
    tmdb_seed 1 "$T/recorded_2022/discover__movie.json" discover
    tmdb_seed 3 "$T/recorded_2022/movie__cast.json" cast
    tmdb_seed 4 "$T/responses/tv_series/aggregate_credits.json" agg
    tmdb_seed 5 "$T/responses/people/images.json" images
    tmdb_seed 6 "$T/recorded_2022/configuration__get.json" config
    tmdb_seed 7 "$T/curl_captures/invalid-api-key.json" err401
fi
printf '\007{"adult":false,"id":31,"name":"Tom Hanks","popularity":18.4}' >"$OUT/corpus-tmdb/export"
printf '\005{"id":1,"profiles":[{"file_path":"/a.jpg","width":600,"height":900,"vote_average":5.2,"vote_count":3}]}' >"$OUT/corpus-tmdb/images-small"

# Name lists: fuzz_names_lists patches its own valid lists the same way.
mkdir -p "$OUT/corpus-names-lists"
printf '\000' >"$OUT/corpus-names-lists/none"
printf '\001\100\000\000\000\377' >"$OUT/corpus-names-lists/entry"
printf '\001\014\000\000\000\000' >"$OUT/corpus-names-lists/k"
printf 'DOPPELNL\002\000\000\000\010\000\000\000' >"$OUT/corpus-names-lists/header"
# the deletion index's directory (300 names, lists of 8: it starts at byte 12,064)
printf '\001\044\057\000\000\377' >"$OUT/corpus-names-lists/deletions"

for d in jpeg png webp exif names names-lists model import index manifest hnsw near safetensors web tmdb; do
    echo "seeds: $(ls "$OUT/corpus-$d" | wc -l) files in $OUT/corpus-$d"
done
