# Decode + resize of a 1920 x 1280 JPEG (models/samples/face-api/sample1.jpg) to 224 x 224
# and 150 x 150: doppel vs Pillow (Debian's python3-pil, the library CLIP pipelines use)
# doing the same steps (decode, optionally with JPEG draft scaling; bicubic resize of the
# shorter side; centre crop), same machine, same run. Prints medians and ratios.
BUILD=${1:?usage: bench_image.sh BUILD_DIR}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
F="${DOPPEL_MODELS:-$ROOT/models}/samples/face-api/sample1.jpg"
RUNS=${BENCH_RUNS:-30}
[ -f "$F" ] || { echo "bench_image: $F missing (scripts/setup.sh)"; exit 1; }
mine=$("$BUILD/bench/bench_image" "$F" "$RUNS") || exit 1
if ! /usr/bin/python3 -c 'import PIL' 2>/dev/null; then
    echo "$mine"
    echo "bench_image: python3-pil not installed; no peer figures"
    exit 0
fi
theirs=$(/usr/bin/python3 - "$F" "$RUNS" <<'PY'
import io, sys, time
from PIL import Image
data = open(sys.argv[1], "rb").read()
runs = int(sys.argv[2])
def once(draft, side):
    t0 = time.perf_counter()
    im = Image.open(io.BytesIO(data))
    if draft:
        im.draft("RGB", (side, side))
    im = im.convert("RGB")
    w, h = im.size
    if w <= h:
        ow, oh = side, int(side * h / w)
    else:
        ow, oh = int(side * w / h), side
    im = im.resize((ow, oh), Image.BICUBIC)
    l, t = int(round((ow - side) / 2.0)), int(round((oh - side) / 2.0))
    im.crop((l, t, l + side, t + side)).load()
    return (time.perf_counter() - t0) * 1e3
for name, draft, side in (("decode_full+resize_224", False, 224), ("decode_scaled+resize_224", True, 224),
                          ("decode_full+resize_150", False, 150), ("decode_scaled+resize_150", True, 150)):
    once(draft, side)
    ts = sorted(once(draft, side) for _ in range(runs))
    print(name, "%.3f" % ts[runs // 2])
PY
) || exit 1
echo "case                          doppel_ms  pillow_ms  pillow/doppel"
echo "$mine" | while read -r name ms; do
    p=$(echo "$theirs" | awk -v n="$name" '$1 == n { print $2 }')
    awk -v n="$name" -v a="$ms" -v b="$p" 'BEGIN { printf "%-29s %9.2f  %9.2f  %12.2fx\n", n, a, b, b / a }'
done
