# doppel serve: a server started here on 127.0.0.1 and a free port, over a small
# catalogue (the shared photos, split so that look-alikes are known): every route, full
# page vs HTMX fragment, escaping of a hostile name, the security headers, every error
# status, the JSON API's keys, and reloading the indexes under load without one failed
# request.
. "$DOPPEL_ROOT/tests/lib.sh"
D="$DOPPEL_BIN"
tmp=$(mktemp -d)
pid=""
cleanup() {
    [ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
    rm -rf "$tmp"
}
trap cleanup EXIT

t_expect "serve_help" 0 "$D" serve --help
t_grep "serve_help_usage" '^usage: doppel serve'
t_expect "serve_bad_port" 2 "$D" serve --port 70000
t_expect "serve_extra_arg" 2 "$D" serve now
t_expect "serve_no_catalogue" 1 "$D" --data "$tmp/none" serve --port 0
t_expect "serve_bad_bind" 1 "$D" --data "$tmp/none" serve --bind nowhere --port 0

G="${DOPPEL_TESTDATA:-/nonexistent}/faces/glint"
SAMPLE="$DOPPEL_MODELS/samples/face-api/sample1.jpg"
if [ ! -d "$G/Keanu Reeves" ] || [ ! -f "$DOPPEL_MODELS/human-models/faceres.json" ] ||
    [ ! -f "$SAMPLE" ] || ! command -v curl >/dev/null 2>&1; then
    t_skipped "web_server" "needs DOPPEL_TESTDATA (shared photos), the models and curl"
    t_done web
    exit $?
fi

. "$DOPPEL_ROOT/tests/web_lib.sh"
web_make_data "$tmp" && t_ok "data_folder" || t_bad "data_folder" "import, index build or titles import failed: $(cat "$tmp/import.log")"
EVIL=$WEB_EVIL

# get NAME WANT_STATUS URL [curl args...]: body in $t_out, headers in $tmp/h.
get() {
    name=$1
    want=$2
    url=$3
    shift 3
    code=$(curl -s -o "$tmp/body" -D "$tmp/h" -w '%{http_code}' "$@" "$B$url")
    t_out=$(cat "$tmp/body")
    if [ "$code" = "$want" ]; then t_ok "$name"; else t_bad "$name" "$url: HTTP $code, want $want: $(head -c 300 "$tmp/body")"; fi
}
hdr() { grep -qi "^$2" "$tmp/h" && t_ok "$1" || t_bad "$1" "no header /$2/ in: $(cat "$tmp/h")"; }
no() { printf '%s\n' "$t_out" | grep -Fq -- "$2" && t_bad "$1" "found '$2'" || t_ok "$1"; }
HX="-H HX-Request:true"

start_server "$tmp/d" && t_ok "serve_starts" || { t_bad "serve_starts" "$(cat "$tmp/serve.err")"; t_done web; exit 1; }
case "$B" in http://127.0.0.1:*) t_ok "serve_binds_loopback" ;; *) t_bad "serve_binds_loopback" "$B" ;; esac

# Ids from the API.
get "api_search" 200 "/api/search?q=keanu%20a&k=1"
A=$(printf '%s\n' "$t_out" | grep -m1 '"id"' | grep -o '[0-9]*')
t_grep "api_search_name" '"name": "Keanu A"'
get "api_search_misspelled" 200 "/api/search?q=kenau%20b&k=3"
t_grep "api_search_fuzzy_finds" '"name": "Keanu B"'
BID=$(printf '%s\n' "$t_out" | grep -B1 '"name": "Keanu B"' | grep -o '"id": [0-9]*' | grep -o '[0-9]*')
get "api_search_evil" 200 "/api/search?q=bobby&k=1"
EID=$(printf '%s\n' "$t_out" | grep -m1 '"id"' | grep -o '[0-9]*')
[ -n "$A" ] && [ -n "$BID" ] && [ -n "$EID" ] && t_ok "ids" || t_bad "ids" "A=$A B=$BID evil=$EID"

# Pages: full, fragment, headers.
get "home" 200 "/"
t_grep "home_full" '^<!doctype html>'
t_grep "home_count" '8 people in the catalogue'
hdr "csp" "Content-Security-Policy: .*script-src 'self'"
hdr "csp_frames" "Content-Security-Policy: .*frame-ancestors 'none'"
hdr "nosniff" "X-Content-Type-Options: nosniff"
hdr "vary" "Vary: HX-Request"
get "home_fragment" 200 "/" $HX
no "home_fragment_no_head" "<!doctype"
no "home_fragment_no_header" '<header'
t_grep "home_fragment_title" '^<title>'
get "history_restore_full" 200 "/" $HX -H "HX-History-Restore-Request: true"
t_grep "history_restore_is_page" '^<!doctype html>'

get "actor" 200 "/actor/$A"
t_grep "actor_full" '<!doctype html>'
t_grep "actor_heading" 'Actors who look like <span class="who">Keanu A</span>'
first=$(printf '%s\n' "$t_out" | grep -o '<li class="card"><a class="pick" href="/actor/[0-9]*' | head -1 | grep -o '[0-9]*$')
[ "$first" = "$BID" ] && t_ok "actor_first_is_other_half" || t_bad "actor_first_is_other_half" "first card $first, want $BID"
t_grep "actor_score_pct" '[0-9]+% alike'
t_grep "actor_rank" 'closer than [0-9.]+%'
t_grep "actor_known_for" 'Known for <a href="/title/[0-9]*">The Matrix</a> \(1999\)'
t_grep "actor_toggle" 'href="/actor/[0-9]*\?space=identity"'
get "actor_fragment" 200 "/actor/$A" $HX
no "actor_fragment_no_head" "<!doctype"
t_grep "actor_fragment_cards" 'class="card"'
get "actor_identity" 200 "/actor/$A?space=identity&k=3"
t_grep "actor_identity_heading" 'have the same face as'
[ "$(printf '%s\n' "$t_out" | grep -o 'class="card"' | wc -l)" -eq 3 ] && t_ok "actor_k" || t_bad "actor_k" "not 3 cards"
get "actor_bad_space" 400 "/actor/$A?space=clop"
get "actor_no_clip_index" 503 "/actor/$A?space=clip"
get "actor_bad_k" 400 "/actor/$A?k=x"
get "actor_unknown" 404 "/actor/999999"
get "actor_not_id" 404 "/actor/abc"

get "search_page" 200 "/search?q=kenau"
t_grep "search_page_finds" 'href="/actor/[0-9]*" class="pick"'
get "suggest" 200 "/search?q=ke" $HX -H "HX-Target: suggest"
t_grep "suggest_list" '^<ul class="suggestions"'
t_grep "suggest_thumb" '<img src="/img/person/[0-9]*"'
no "suggest_no_title" "<title>"
get "suggest_one_char" 200 "/search?q=k" $HX -H "HX-Target: suggest"
[ -z "$t_out" ] && t_ok "suggest_from_second_char" || t_bad "suggest_from_second_char" "$t_out"
get "suggest_titles" 200 "/search?q=matr&tab=title" $HX -H "HX-Target: suggest"
t_grep "suggest_titles_list" 'href="/title/[0-9]*" role="option"><span class="name">The Matrix'
get "search_titles_page" 200 "/search?q=speed&tab=title"
TID=$(printf '%s\n' "$t_out" | grep -o 'href="/title/[0-9]*"' | head -1 | grep -o '[0-9]*')
get "search_too_long" 400 "/search?q=$(head -c 300 /dev/zero | tr '\0' a)"

get "title" 200 "/title/$TID"
t_grep "title_heading" '<h1>Speed <span class="year">\(1994\)</span>'
t_grep "title_cast" 'href="/actor/[0-9]*">.*Keanu B'
get "title_unknown" 404 "/title/99999999"
get "about" 200 "/about"
t_grep "about_tmdb" 'not endorsed or certified by TMDB'
t_grep "about_models" 'BlazeFace'
get "photo_form" 200 "/photo"
t_grep "photo_form_multipart" 'enctype="multipart/form-data"'
t_grep "photo_form_capture" 'capture="environment"'
get "person_photo" 200 "/img/person/$A"
hdr "person_photo_type" "Content-Type: image/png"
hdr "person_photo_cache" "Cache-Control: public, max-age="
get "person_photo_nth" 200 "/img/person/$A?n=2"
get "person_photo_bad_n" 400 "/img/person/$A?n=x"
get "person_photo_unknown" 404 "/img/person/999999"
get "not_found" 404 "/nowhere"
t_grep "not_found_page" 'HTTP 404'
get "method_not_allowed" 405 "/about" -X DELETE

# Static assets: content-hashed, cached for a year; an old hash is a 404.
get "home_again" 200 "/"
HTMX=$(printf '%s\n' "$t_out" | grep -o '/static/htmx-[0-9a-f]*\.min\.js')
CSS=$(printf '%s\n' "$t_out" | grep -o '/static/style-[0-9a-f]*\.css')
get "htmx" 200 "$HTMX"
hdr "htmx_cache" "Cache-Control: public, max-age=31536000, immutable"
hdr "htmx_type" "Content-Type: text/javascript"
got=$(sha256sum "$tmp/body" | cut -c1-12)
case "$HTMX" in *"-$got.min.js") t_ok "htmx_hash_is_content" ;; *) t_bad "htmx_hash_is_content" "$HTMX vs $got" ;; esac
get "css" 200 "$CSS"
get "static_old_hash" 404 "/static/htmx-000000000000.min.js"

# Escaping: the hostile name and a hostile query never come back as markup.
get "escape_actor" 200 "/actor/$EID"
no "escape_actor_raw" '<script>alert'
t_grep "escape_actor_escaped" 'Bobby &quot;&lt;script&gt;alert\(1\)&quot; &amp; Co'
get "escape_search" 200 "/search?q=%3Cscript%3Ealert(2)%3C/script%3E%22"
no "escape_search_raw" '<script>alert(2)'
t_grep "escape_search_escaped" '&lt;script&gt;alert\(2\)&lt;/script&gt;&quot;'
get "escape_suggest" 200 "/search?q=bobby" $HX -H "HX-Target: suggest"
no "escape_suggest_raw" '<script>alert'
get "escape_similar_cards" 200 "/actor/$A?k=20"
no "escape_cards_raw" '<script>alert'
get "escape_json" 200 "/api/people/$EID"
t_grep "escape_json_string" '"name": "Bobby \\"<script>alert\(1\)\\" & Co"'
hdr "json_type" "Content-Type: application/json"

# The JSON API.
get "api_similar" 200 "/api/similar/$A?k=2"
for key in '"query"' '"space": "look"' '"results"' '"id"' '"name"' '"score"' '"rank_pct"' '"tmdb_id"' '"photo": "/img/person/'; do
    printf '%s\n' "$t_out" | grep -q "$key" && t_ok "api_similar_key_$key" || t_bad "api_similar_key_$key" "$t_out"
done
printf '%s\n' "$t_out" | sed -n '/"results"/,$p' | grep -m1 '"name"' | grep -q '"Keanu B"' &&
    t_ok "api_similar_finds_b" || t_bad "api_similar_finds_b" "$t_out"
get "api_similar_identity" 200 "/api/similar/$A?space=identity&k=1"
get "api_similar_bad_space" 400 "/api/similar/$A?space=x"
get "api_similar_bad_k" 400 "/api/similar/$A?k=-1"
get "api_similar_unknown" 404 "/api/similar/999999"
t_grep "api_error_shape" '"error": \{'
get "api_search_no_q" 400 "/api/search"
get "api_titles" 200 "/api/titles?q=matrix"
t_grep "api_titles_result" '"title": "The Matrix"'
get "api_cast" 200 "/api/titles/$TID/cast"
t_grep "api_cast_person" '"name": "Keanu B"'
get "api_cast_unknown" 404 "/api/titles/99999999/cast"
get "api_person" 200 "/api/people/$A"
t_grep "api_person_known" '"known_for"'
t_grep "api_person_photos" '"/img/person/[0-9]*\?n=5"'
get "api_person_unknown" 404 "/api/people/999999"
# Hits are described from the snapshot's people (search/people.h): the names, TMDB ids and
# photos the catalogue gives person by person.
t_out=$(/usr/bin/python3 - "$B" "$A" <<'PY'
import json, sys, urllib.request
base, a = sys.argv[1], sys.argv[2]
get = lambda p: json.load(urllib.request.urlopen(base + p))
r = get("/api/similar/%s?k=8" % a)
bad = []
for h in r["results"] + [r["query"]]:
    p = get("/api/people/%d" % h["id"])
    for key in [k for k in ("name", "tmdb_id", "photo") if k in h]:
        if h[key] != p[key]:
            bad.append("%d %s: %r vs %r" % (h["id"], key, h[key], p[key]))
print("%d hits; %s" % (len(r["results"]), "; ".join(bad) or "same"))
PY
)
t_grep "api_similar_cards_match" '^[1-9] hits; same$'
get "api_unknown_route" 404 "/api/nothing"
get "api_method" 405 "/api/similar/$A" -X POST
get "api_query_get" 405 "/api/query"

# Photo queries: the group photo, as JSON and as a page.
get "api_query" 200 "/api/query?k=2" -F "photo=@$SAMPLE"
t_grep "api_query_size" '"width": 1920'
t_grep "api_query_faces" '"lookalikes"'
t_grep "api_query_identity" '"same_person"'
nf=$(printf '%s\n' "$t_out" | grep -c '"box"')
[ "$nf" -ge 2 ] && t_ok "api_query_group" || t_bad "api_query_group" "$nf faces"
get "photo_page" 200 "/photo" -F "photo=@$SAMPLE"
t_grep "photo_page_svg" '<svg viewBox="0 0 1920 1280"'
t_grep "photo_page_thumb" 'href="data:image/jpeg;base64,'
t_grep "photo_page_second_face" 'data-face="1"'
t_grep "photo_page_panel_hidden" 'id="face-1" data-panel="1" hidden'
t_grep "photo_page_verdict" 'This is probably|No confident match'
get "photo_page_fragment" 200 "/photo" $HX -F "photo=@$SAMPLE"
no "photo_page_fragment_no_head" "<!doctype"

# Every error status of an upload.
head -c 27000000 /dev/zero >"$tmp/big.bin"
printf 'just text' >"$tmp/t.txt"
/usr/bin/python3 - "$tmp/bomb.png" <<'PY' || printf 'x' >"$tmp/bomb.png"
import struct, sys, zlib
def chunk(t, d): return struct.pack('>I', len(d)) + t + d + struct.pack('>I', zlib.crc32(t + d) & 0xffffffff)
ihdr = struct.pack('>IIBBBBB', 100000, 100000, 8, 2, 0, 0, 0)
open(sys.argv[1], 'wb').write(b'\x89PNG\r\n\x1a\n' + chunk(b'IHDR', ihdr) + chunk(b'IDAT', zlib.compress(b'\0' * 1000)) + chunk(b'IEND', b''))
PY
get "upload_too_big" 413 "/api/query" -F "photo=@$tmp/big.bin"
t_grep "upload_too_big_says" 'over 25 MB'
# Chunked: no length to check first, so the cap hits while streaming; the server reads
# and drops the rest, then answers.
t_out=$(/usr/bin/python3 - "${B#http://}" <<'PY'
import socket, sys
host, port = sys.argv[1].split(":")
s = socket.create_connection((host, int(port)), timeout=60)
head = (b"--XyZ\r\nContent-Disposition: form-data; name=\"photo\"; filename=\"a.jpg\"\r\n"
        b"Content-Type: image/jpeg\r\n\r\n")
s.sendall(b"POST /api/query HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
          b"Content-Type: multipart/form-data; boundary=XyZ\r\n\r\n")
s.sendall(b"%x\r\n%s\r\n" % (len(head), head))
block = b"\0" * 65536
try:
    for _ in range((25 << 20) // 65536 + 4):
        s.sendall(b"%x\r\n%s\r\n" % (len(block), block))
    s.sendall(b"9\r\n\r\n--XyZ--\r\n0\r\n\r\n")
except OSError:
    pass  # the server answered and closed; the answer is waiting
resp = b""
try:
    while True:
        d = s.recv(65536)
        if not d:
            break
        resp += d
except OSError:
    pass
print(resp.decode("latin-1"))
PY
)
t_grep "upload_too_big_chunked" '^HTTP/1.1 413'
t_grep "upload_too_big_chunked_json" '"status": 413'
get "upload_too_big_page" 413 "/photo" -F "photo=@$tmp/big.bin"
t_grep "upload_too_big_page_html" 'Photo too large'
get "upload_not_image" 415 "/api/query" -F "photo=@$tmp/t.txt"
get "upload_not_image_page" 415 "/photo" -F "photo=@$tmp/t.txt"
get "upload_pixel_bomb" 400 "/api/query" -F "photo=@$tmp/bomb.png"
t_grep "upload_pixel_bomb_says" 'megapixels'
head -c 5000 "$SAMPLE" >"$tmp/trunc.jpg"
get "upload_truncated" 400 "/api/query" -F "photo=@$tmp/trunc.jpg"
get "upload_no_field" 400 "/api/query" -F "other=@$tmp/t.txt"
get "upload_empty" 400 "/api/query" -F "photo=@/dev/null"
get "header_too_large" 431 "/" -H "X-Big: $(head -c 70000 /dev/zero | tr '\0' a)"

# Reload under load: requests keep coming while the indexes are rebuilt and SIGHUP is sent;
# every one must succeed, and the data generation must move on.
(
    fails=0
    for _ in $(seq 1 150); do
        c=$(curl -s -o /dev/null -w '%{http_code}' "$B/api/similar/$A?k=3")
        [ "$c" = 200 ] || fails=$((fails + 1))
    done
    echo "$fails" >"$tmp/fails"
) &
loader=$!
for _ in 1 2 3; do
    "$D" -q --data "$tmp/d" index build >/dev/null 2>&1
    kill -HUP "$pid"
    sleep 0.3
done
wait "$loader"
[ "$(cat "$tmp/fails")" = 0 ] && t_ok "reload_no_failed_request" || t_bad "reload_no_failed_request" "$(cat "$tmp/fails") of 150 failed"
get "reload_generation" 200 "/about"
gen=$(printf '%s\n' "$t_out" | grep -o 'Data generation</dt><dd>[0-9]*' | grep -o '[0-9]*$')
[ "${gen:-0}" -ge 4 ] && t_ok "reload_generations" || t_bad "reload_generations" "generation $gen after 3 builds and 3 SIGHUPs"
kill -0 "$pid" 2>/dev/null && t_ok "reload_alive" || t_bad "reload_alive" "$(cat "$tmp/serve.err")"
# The photo models the queries above loaded moved to each new snapshot, and serve from there.
grep -q "reloaded the data folder.*; photo models kept" "$tmp/serve.err" && t_ok "reload_keeps_models" ||
    t_bad "reload_keeps_models" "$(cat "$tmp/serve.err")"
get "reload_photo_query" 200 "/api/query?k=2" -F "photo=@$SAMPLE"
t_grep "reload_photo_query_faces" '"lookalikes"'
# The graph and the look-alike lists are written after the index: each one replaced is
# noticed too, so a server never stays on the index without them.
"$D" -q --data "$tmp/d" index build --space look --graph-min 1 >/dev/null 2>&1
sleep 2.5
get "reload_graph_generation" 200 "/about"
gen1=$(printf '%s\n' "$t_out" | grep -o 'Data generation</dt><dd>[0-9]*' | grep -o '[0-9]*$')
touch "$tmp/d/index/look.near"
sleep 2.5
get "reload_near_generation" 200 "/about"
gen2=$(printf '%s\n' "$t_out" | grep -o 'Data generation</dt><dd>[0-9]*' | grep -o '[0-9]*$')
[ "${gen2:-0}" -gt "${gen1:-0}" ] && t_ok "reload_on_near_file" ||
    t_bad "reload_on_near_file" "generation $gen1 then $gen2 after the lists changed"
get "reload_near_similar" 200 "/api/similar/$A?k=3"
t_grep "reload_near_similar_finds" '"name": "Keanu B"'
# Names shown are the snapshot's: a rename behind the server's back shows after SIGHUP.
rename() {
    /usr/bin/python3 -c 'import sqlite3, sys
c = sqlite3.connect(sys.argv[1]); c.execute("UPDATE people SET name = ? WHERE id = ?", (sys.argv[3], int(sys.argv[2]))); c.commit()' \
        "$tmp/d/catalog.db" "$BID" "$1"
}
rename "Keanu Renamed"
get "snapshot_rename" 200 "/api/similar/$A?k=1"
t_grep "snapshot_rename_not_yet" '"name": "Keanu B"'
kill -HUP "$pid"
for _ in $(seq 1 50); do
    curl -s "$B/api/similar/$A?k=1" | grep -q '"name": "Keanu Renamed"' && break
    sleep 0.2
done
get "snapshot_rename_reloaded" 200 "/api/similar/$A?k=1"
t_grep "snapshot_rename_after_sighup" '"name": "Keanu Renamed"'
rename "Keanu B"
kill -HUP "$pid"
stop_server
[ "$stopped" = 0 ] && t_ok "serve_stops_on_term" || t_bad "serve_stops_on_term" "exit $stopped"

# Limits: a server with room for 4 connections and a 2 s idle timeout. Slow clients
# (one byte a second) do not stop others from being answered; past the connection limit
# a client is turned away; an idle connection is closed after the timeout.
rm -f "$tmp/serve.out"
"$D" --data "$tmp/d" serve --port 0 --max-connections 4 --timeout 2 >"$tmp/serve.out" 2>"$tmp/serve.err" &
pid=$!
B=""
for _ in $(seq 1 100); do
    B=$(grep -o 'http://127.0.0.1:[0-9]*' "$tmp/serve.out" 2>/dev/null) && [ -n "$B" ] && break
    sleep 0.1
done
t_out=$(/usr/bin/python3 - "${B#http://}" <<'PY'
import socket, sys, time, urllib.request
host, port = sys.argv[1].split(":")
url = "http://%s:%s/api/search?q=keanu" % (host, port)
def get(timeout=5):
    try:
        return urllib.request.urlopen(url, timeout=timeout).status
    except Exception as e:
        return type(e).__name__
# Two slow clients, one byte each 0.5 s (never idle for the 2 s timeout).
slow = [socket.create_connection((host, int(port))) for _ in range(2)]
for _ in range(3):
    for c in slow:
        c.send(b"G")
    time.sleep(0.5)
print("with_slow_clients", get())
# Two more connections fill the four places: a fifth client waits unanswered (in the
# kernel's backlog) until one of them goes.
for c in slow:
    c.send(b"E")
idle = [socket.create_connection((host, int(port))) for _ in range(2)]
print("over_limit", get(0.5))
for c in slow:
    c.close()
# The idle ones are closed by the server after the 2 s timeout.
time.sleep(3.5)
closed = 0
for c in idle:
    c.settimeout(2)
    try:
        closed += c.recv(1) == b""
    except OSError:
        closed += 1
print("idle_closed", closed)
print("after", get())
PY
)
t_grep "limit_slow_clients_do_not_block" 'with_slow_clients 200'
t_grep "limit_connections" 'over_limit (URLError|RemoteDisconnected|ConnectionResetError|timeout|TimeoutError|BadStatusLine)'
t_grep "limit_idle_timeout" 'idle_closed 2'
t_grep "limit_recovers" 'after 200'
stop_server

# Without an index: pages say how to build one (503), the rest works.
mkdir -p "$tmp/noindex"
cp "$tmp/d/catalog.db" "$tmp/noindex/"
if start_server "$tmp/noindex"; then
    get "noindex_actor" 503 "/actor/$A"
    t_grep "noindex_says" 'doppel index build'
    get "noindex_api" 503 "/api/similar/$A"
    get "noindex_home" 200 "/"
    stop_server
else
    t_bad "noindex_start" "$(cat "$tmp/serve.err")"
fi

# --hotlink: photos the TMDB crawler saved (DATA/photos/tmdb/<id>/<rank>_<name>) and
# photos whose source is on TMDB's image CDN are shown from the CDN, in pages and
# answers, and their /img/person URLs redirect there; without the flag this server's URL
# is shown. Person A's photos get the crawler's paths, B's the CDN's addresses.
mkdir -p "$tmp/hot"
cp "$tmp/d/catalog.db" "$tmp/hot/" && cp -r "$tmp/d/index" "$tmp/hot/"
/usr/bin/python3 - "$tmp/hot/catalog.db" "$A" "$BID" <<'PY'
import sqlite3, sys
c = sqlite3.connect(sys.argv[1])
c.execute("UPDATE photos SET source = '/srv/d/photos/tmdb/31/' || (id % 5 + 1) || '_hot' || id || '.jpg' "
          "WHERE person_id = ?", (int(sys.argv[2]),))
c.execute("UPDATE photos SET source = 'https://image.tmdb.org/t/p/h632/cdn' || id || '.jpg' "
          "WHERE person_id = ?", (int(sys.argv[3]),))
c.commit()
PY
if start_server "$tmp/hot" --hotlink; then
    get "hotlink_api" 200 "/api/people/$A"
    t_grep "hotlink_api_photo" '"photo": "https://image.tmdb.org/t/p/w185/hot[0-9]+\.jpg"'
    get "hotlink_page" 200 "/actor/$A"
    t_grep "hotlink_page_img" '<img src="https://image.tmdb.org/t/p/w185/hot[0-9]+\.jpg"'
    get "hotlink_similar" 200 "/api/similar/$A?k=8"
    t_grep "hotlink_similar_cdn" '"photo": "https://image.tmdb.org/t/p/h632/cdn[0-9]+\.jpg"'
    get "hotlink_redirect" 302 "/img/person/$A"
    hdr "hotlink_redirect_location" 'Location: https://image.tmdb.org/t/p/w185/hot'
    get "hotlink_redirect_cdn" 302 "/img/person/$BID?n=2"
    hdr "hotlink_redirect_cdn_location" 'Location: https://image.tmdb.org/t/p/h632/cdn'
    stop_server
else
    t_bad "hotlink_start" "$(cat "$tmp/serve.err")"
fi
if start_server "$tmp/hot"; then
    get "no_hotlink_api" 200 "/api/people/$A"
    t_grep "no_hotlink_api_photo" '"photo": "/img/person/[0-9]+"'
    get "no_hotlink_img" 404 "/img/person/$A"
    get "no_hotlink_cdn_img" 404 "/img/person/$BID"
    t_grep "no_hotlink_cdn_says" 'serve with --hotlink'
    stop_server
else
    t_bad "no_hotlink_start" "$(cat "$tmp/serve.err")"
fi
t_done web
