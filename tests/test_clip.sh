# doppel embed --model clip: usage and load errors, then (where Debian's python3-torch
# is installed) doppel's CLIP vision transformer against tests/clip_ref.py, a ViT
# written in PyTorch and run in float64, on random weights saved as safetensors: tiny
# configurations in both naming schemes, float32/float16/bfloat16 and both GELUs, and
# the full ViT-B/32 shape on real photos. The embeddings must agree to 1e-4 (max abs).
. "$DOPPEL_ROOT/tests/lib.sh"
D="$DOPPEL_BIN"
PY=/usr/bin/python3
REF="$DOPPEL_ROOT/tests/clip_ref.py"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
S="$DOPPEL_MODELS/samples/face-api/sample1.jpg"

t_expect "clip_no_weights" 2 env -u DOPPEL_CLIP_WEIGHTS "$D" embed --model clip x.jpg
t_grep "clip_no_weights_says" 'models fetch clip'
t_expect "clip_bad_crop" 2 "$D" embed --model clip --crop top x.jpg
t_expect "clip_bad_model" 2 "$D" embed --model clap x.jpg
printf 'not a checkpoint' >"$tmp/bad.st"
t_expect "clip_not_safetensors" 1 "$D" embed --model clip --weights "$tmp/bad.st" "$S"
t_grep "clip_not_safetensors_says" 'bad.st: not a safetensors file'
t_expect "clip_missing_file" 1 "$D" embed --model clip --weights "$tmp/none.st" "$S"

if ! "$PY" -c 'import torch, PIL' 2>/dev/null || [ ! -f "$S" ]; then
    t_skipped "clip_vs_torch" "needs /usr/bin/python3 with torch and PIL, and the models"
    t_done clip
    exit $?
fi

# compare NAME REF.jsonl DOPPEL.json...: max abs difference of the embeddings <= 1e-4.
compare() {
    name=$1
    ref=$2
    shift 2
    t_out=$("$PY" - "$ref" "$@" <<'EOF'
import json, sys
refs = [json.loads(l) for l in open(sys.argv[1])]
worst = 0.0
for r, path in zip(refs, sys.argv[2:]):
    got = json.load(open(path))["embedding"]
    if len(got) != len(r["embedding"]):
        sys.exit("dimension %d, want %d" % (len(got), len(r["embedding"])))
    worst = max(worst, max(abs(a - b) for a, b in zip(got, r["embedding"])))
print("max abs error %.3g over %d images" % (worst, len(refs)))
sys.exit(0 if worst <= 1e-4 and len(refs) == len(sys.argv) - 2 else 1)
EOF
    ) && t_ok "$name ($t_out)" || t_bad "$name" "$t_out"
}

# check NAME WEIGHTS IMAGE...: doppel and the reference on each image.
check() {
    name=$1
    w=$2
    shift 2
    "$PY" "$REF" embed "$w" "$@" >"$tmp/ref.jsonl" || { t_bad "$name" "reference failed"; return; }
    outs=""
    i=0
    for im in "$@"; do
        i=$((i + 1))
        if ! "$D" -q embed --model clip --weights "$w" --json "$im" >"$tmp/out$i.json" 2>"$tmp/err"; then
            t_bad "$name" "doppel failed on $im: $(cat "$tmp/err")"
            return
        fi
        outs="$outs $tmp/out$i.json"
    done
    # shellcheck disable=SC2086
    compare "$name" "$tmp/ref.jsonl" $outs
}

P="${DOPPEL_TESTDATA:-/nonexistent}/faces/pins/keanu_reeves/keanu_reeves_1.jpg"
G="${DOPPEL_TESTDATA:-/nonexistent}/faces/glint/Keanu Reeves/001.png"
set -- "$S" "$DOPPEL_MODELS/samples/human/samples.jpg"
[ -f "$P" ] && set -- "$@" "$P"
[ -f "$G" ] && set -- "$@" "$G"

for v in "hf F32 quick_gelu" "openai F16 quick_gelu" "hf BF16 gelu" "openai F32 gelu"; do
    # shellcheck disable=SC2086
    set -- $v "$@"
    naming=$1 dtype=$2 act=$3
    shift 3
    "$PY" "$REF" make "$tmp/tiny.st" --config tiny --naming "$naming" --dtype "$dtype" --act "$act" --seed 7
    check "clip_tiny_${naming}_${dtype}_${act}" "$tmp/tiny.st" "$@"
done

# The clip space end to end: import with the weights, index, similar.
if [ -f "$P" ]; then
    mkdir -p "$tmp/people/Keanu Reeves" "$tmp/people/Other One"
    cp "$P" "$tmp/people/Keanu Reeves/"
    cp "$DOPPEL_MODELS/samples/face-api/sample2.jpg" "$tmp/people/Other One/"
    "$PY" "$REF" make "$tmp/tiny.st" --config tiny --seed 9
    t_expect "clip_import" 0 "$D" -q --data "$tmp/d" import --clip-weights "$tmp/tiny.st" --json "$tmp/people"
    t_grep "clip_import_embeddings" '"embeddings": 6'
    t_expect "clip_index" 0 "$D" -q --data "$tmp/d" index build --space clip --json
    t_grep "clip_index_people" '"people": 2'
    t_expect "clip_similar" 0 "$D" -q --data "$tmp/d" similar "Keanu Reeves" --space clip --json
    t_grep "clip_similar_other" '"name": "Other One"'
    t_expect "clip_import_again" 0 env -u DOPPEL_CLIP_WEIGHTS "$D" -q --data "$tmp/d" import --json "$tmp/people"
    t_grep "clip_import_again_known" '"known": 2'
    # The web page and API offer the clip space once its index exists.
    "$D" --data "$tmp/d" serve --port 0 >"$tmp/serve.out" 2>"$tmp/serve.err" &
    spid=$!
    B=""
    for _ in $(seq 1 100); do
        B=$(grep -o 'http://127.0.0.1:[0-9]*' "$tmp/serve.out" 2>/dev/null) && break
        sleep 0.1
    done
    if [ -n "$B" ] && command -v curl >/dev/null; then
        id=$("$D" -q --data "$tmp/d" similar "Other One" --space clip --json |
            "$PY" -c 'import json,sys; print(json.load(sys.stdin)["results"][0]["id"])')
        t_out=$(curl -s "$B/api/similar/$id?space=clip")
        t_grep "clip_web_api" '"name": ?"Other One"'
        t_out=$(curl -s "$B/actor/$id?space=clip")
        t_grep "clip_web_toggle" 'space=clip" aria-current="page">Looks like \(CLIP\)'
        t_out=$(curl -s "$B/actor/$id?space=clop")
        t_grep "clip_web_bad_space" 'look, identity or clip'
    else
        t_bad "clip_web" "the server did not start or curl is missing: $(cat "$tmp/serve.err")"
    fi
    kill "$spid" 2>/dev/null
    wait "$spid" 2>/dev/null
else
    t_skipped "clip_space" "needs DOPPEL_TESTDATA (shared photos)"
fi

"$PY" "$REF" make "$tmp/b32.st" --config b32 --naming hf --seed 3
check "clip_b32_hf_f32" "$tmp/b32.st" "$@"
t_expect "clip_b32_faces" 0 "$D" -q embed --model clip --weights "$tmp/b32.st" --crop face \
    --all-faces --json "$S"
t_grep "clip_b32_faces_dim" '"dim": 512'
t_grep "clip_b32_faces_crop" '"crop": "face"'
t_done clip
