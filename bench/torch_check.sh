# Checks bench/torch_nn.py (the PyTorch peer of bench/bench_nn.sh) against the TFJS
# reference (tools/tfjs/run.js, CPU backend) on photos: blazeface on sample1 at 256 x 256
# scaled to [-1, 1] as doppel feeds it, faceres on sample1 and sample2 (batch 2) at
# 224 x 224 in [0, 255]. Every output must agree within doppel's test tolerance
# |diff| <= 1e-4 + 1e-3 |ref|; prints each output's max |diff|. Then dlib's ResNet
# (bench/torch_dlib.py against tools/tfjs/dlib.js) on face chips, within 1e-4.
# Usage: sh bench/torch_check.sh   (needs models/, tools/tfjs, node, python3-torch)
ROOT=$(cd "$(dirname "$0")/.." && pwd)
MODELS=${DOPPEL_MODELS:-$ROOT/models}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
# photos SIDE SCALE OFFSET OUT FILE...: resized (bilinear) RGB as float32 NHWC, px * SCALE + OFFSET.
photos() {
    /usr/bin/python3 - "$@" <<'PY'
import sys
import numpy as np
from PIL import Image
side, scale, offset, out = int(sys.argv[1]), float(sys.argv[2]), float(sys.argv[3]), sys.argv[4]
ims = [np.asarray(Image.open(f).convert("RGB").resize((side, side), Image.BILINEAR), np.float32)
       for f in sys.argv[5:]]
(np.stack(ims) * np.float32(scale) + np.float32(offset)).astype(np.float32).tofile(out)
PY
}
failed=0
check() { # name json side batch outputs
    node "$ROOT/tools/tfjs/run.js" --model "$MODELS/human-models/$2" --input "$T/in.f32" \
        --shape "$4,$3,$3,3" --outputs "$5" --out "$T/tfjs" --backend cpu >/dev/null 2>&1 ||
        { echo "torch_check: tfjs failed on $1"; failed=1; return; }
    echo "$1, batch $4:"
    /usr/bin/python3 "$ROOT/bench/torch_nn.py" --model "$MODELS/human-models/$2" --input "$T/in.f32" \
        --shape "$4,$3,$3,3" --outputs "$5" --out "$T/torch" --check "$T/tfjs" >"$T/log" 2>&1 ||
        failed=1
    grep -v '^gflop' "$T/log"
}
S=$MODELS/samples/face-api
photos 256 0.00784313725 -1 "$T/in.f32" "$S/sample1.jpg" &&
    check blazeface blazeface.json 256 1 Identity,Identity_1,Identity_2,Identity_3
photos 224 1 0 "$T/in.f32" "$S/sample1.jpg" "$S/sample2.jpg" &&
    check faceres faceres.json 224 2 global_pooling/Mean,gender_pred/Sigmoid,age_pred/Softmax
# dlib's ResNet (bench/torch_dlib.py vs tools/tfjs/dlib.js): the centre 150 x 150 of
# sample1's two faces' region and a noise chip, max |diff| within 1e-4.
/usr/bin/python3 - "$S/sample1.jpg" "$T/faces.rgb" <<'PY'
import sys
import numpy as np
from PIL import Image
im = np.asarray(Image.open(sys.argv[1]).convert("RGB"))
chips = [im[420:570, 440:590], im[480:630, 860:1010],
         np.random.default_rng(1).integers(0, 256, (150, 150, 3), dtype=np.uint8)]
np.stack(chips).astype(np.uint8).tofile(sys.argv[2])
PY
MANIFEST=$MODELS/face-api/face_recognition_model-weights_manifest.json
if node "$ROOT/tools/tfjs/dlib.js" --manifest "$MANIFEST" --faces "$T/faces.rgb" --count 3 \
    --out "$T/dlib_tfjs.f32" >/dev/null 2>&1; then
    echo "dlib ResNet, 3 chips:"
    /usr/bin/python3 "$ROOT/bench/torch_dlib.py" --manifest "$MANIFEST" --faces "$T/faces.rgb" \
        --count 3 --out "$T/dlib_torch.f32" --check "$T/dlib_tfjs.f32" | grep -v '^gflop' || failed=1
else
    echo "torch_check: tfjs failed on the dlib ResNet"
    failed=1
fi
[ "$failed" = 0 ] && echo "torch_check: torch agrees with tfjs" || echo "torch_check: MISMATCH"
[ "$failed" = 0 ]
