# doppel models fetch clip against a local server (tests/http_files.py, 127.0.0.1):
# a whole download checked against the server's X-Linked-Etag and loaded as a CLIP;
# a download cut off half-way that the next run resumes with a Range request; a wrong
# --sha256 and a wrong server digest refused with nothing left behind; a redirect
# followed; a 404 and an unreachable server reported.
. "$DOPPEL_ROOT/tests/lib.sh"
D="$DOPPEL_BIN"
PY=/usr/bin/python3
tmp=$(mktemp -d)
pid=""
trap 'kill $pid 2>/dev/null; rm -rf "$tmp"' EXIT

t_expect "fetch_no_model" 2 "$D" models fetch
t_expect "fetch_bad_model" 2 "$D" models fetch clap
t_expect "fetch_help" 0 "$D" models fetch --help
if ! "$PY" -c 'import torch' 2>/dev/null; then
    t_skipped "fetch_clip" "needs /usr/bin/python3 with torch (to write a checkpoint)"
    t_done fetch
    exit $?
fi
"$PY" "$DOPPEL_ROOT/tests/clip_ref.py" make "$tmp/w.safetensors" --config tiny --seed 4
sum=$(sha256sum "$tmp/w.safetensors" | cut -d' ' -f1)

# serve ARGS...: (re)starts the server; $url is its file's URL.
serve() {
    [ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
    rm -f "$tmp/port" "$tmp/port.log"
    "$PY" "$DOPPEL_ROOT/tests/http_files.py" "$tmp/w.safetensors" "$tmp/port" "$@" &
    pid=$!
    for _ in $(seq 50); do [ -s "$tmp/port" ] && break; sleep 0.1; done
    base="http://127.0.0.1:$(cat "$tmp/port")"
    url="$base/model.safetensors"
}

serve
t_expect "fetch_whole" 0 "$D" -q models fetch clip --url "$url" --out "$tmp/a.st" --json
t_grep "fetch_whole_sha" "\"sha256\": \"$sum\""
t_grep "fetch_whole_loaded" '"dim": 32'
cmp -s "$tmp/a.st" "$tmp/w.safetensors" && t_ok "fetch_whole_bytes" || t_bad "fetch_whole_bytes" "differ"
[ ! -e "$tmp/a.st.part" ] && t_ok "fetch_whole_no_part" || t_bad "fetch_whole_no_part" "part left"

serve --drop-after 100000
t_expect "fetch_cut" 1 "$D" -q models fetch clip --url "$url" --out "$tmp/b.st"
[ -s "$tmp/b.st.part" ] && [ ! -e "$tmp/b.st" ] && t_ok "fetch_cut_keeps_part" ||
    t_bad "fetch_cut_keeps_part" "$(ls -l "$tmp")"
t_expect "fetch_resume" 0 "$D" -q models fetch clip --url "$url" --out "$tmp/b.st" --sha256 "$sum"
t_out=$(cat "$tmp/port.log")
t_grep "fetch_resume_range" '^bytes=100000-'
cmp -s "$tmp/b.st" "$tmp/w.safetensors" && t_ok "fetch_resume_bytes" || t_bad "fetch_resume_bytes" "differ"

serve
t_expect "fetch_wrong_sum" 1 "$D" -q models fetch clip --url "$url" --out "$tmp/c.st" \
    --sha256 0000000000000000000000000000000000000000000000000000000000000000
t_grep "fetch_wrong_sum_says" 'expected 0000'
[ ! -e "$tmp/c.st" ] && [ ! -e "$tmp/c.st.part" ] && t_ok "fetch_wrong_sum_nothing_left" ||
    t_bad "fetch_wrong_sum_nothing_left" "$(ls "$tmp")"

serve --linked-etag 1111111111111111111111111111111111111111111111111111111111111111
t_expect "fetch_wrong_etag" 1 "$D" -q models fetch clip --url "$base/redirect" --out "$tmp/d.st"
t_grep "fetch_wrong_etag_says" 'expected 1111'

serve
t_expect "fetch_redirect" 0 "$D" -q models fetch clip --url "$base/redirect" --out "$tmp/e.st"
t_expect "fetch_404" 1 "$D" -q models fetch clip --url "$base/nothing" --out "$tmp/f.st"
t_grep "fetch_404_says" 'HTTP 404'
kill "$pid" 2>/dev/null
wait "$pid" 2>/dev/null
t_expect "fetch_unreachable" 1 "$D" -q models fetch clip --url "$url" --out "$tmp/g.st"
t_done fetch
