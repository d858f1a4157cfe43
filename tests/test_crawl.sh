# doppel crawl against tests/fake_tmdb on 127.0.0.1: usage errors; a clean crawl
# compared with the catalogue tests/crawl_expect.py works out from the recorded
# responses; the same crawl through injected faults (every kind) ending in the same
# catalogue; a kill -9 loop ending in the same catalogue; the rate limiter's budget
# over every window, measured on the server's side under 8 connections; SIGINT; 401
# and 404 not retried; a v4 token; exports; discover; embedding the downloads.
. "$DOPPEL_ROOT/tests/lib.sh"
D="$DOPPEL_BIN"
FAKE="$(dirname "$D")/tests/fake_tmdb"
PY=/usr/bin/python3
tmp=$(mktemp -d)
fpid=""
cleanup() {
    [ -n "$fpid" ] && kill "$fpid" 2>/dev/null
    rm -rf "$tmp"
}
trap cleanup EXIT

t_expect "crawl_no_job" 2 "$D" crawl
t_expect "crawl_unknown_job" 2 "$D" crawl sideways
t_expect "crawl_help" 0 "$D" crawl --help
t_grep "crawl_help_attribution" 'not endorsed or certified by TMDB'
for j in popular credits discover exports images embed status; do
    t_expect "crawl_${j}_help" 0 "$D" crawl "$j" --help
    t_grep "crawl_${j}_help_usage" "^usage: doppel crawl $j"
done
t_expect "crawl_discover_no_years" 2 "$D" --data "$tmp/u" crawl discover
t_expect "crawl_bad_rate" 2 "$D" --data "$tmp/u" crawl popular --rate fast
t_expect "crawl_bad_pages" 2 "$D" --data "$tmp/u" crawl popular --pages 501
t_expect "crawl_exports_no_file" 2 "$D" --data "$tmp/u" crawl exports
t_expect "crawl_rate_over_tmdb" 2 env TMDB_API_KEY=k "$D" --data "$tmp/u" crawl popular --rate 50/1
t_grep "crawl_rate_over_tmdb_says" 'about 40 requests per second'
t_expect "crawl_no_key" 1 env -u TMDB_API_KEY "$D" --data "$tmp/u" crawl popular
t_grep "crawl_no_key_says" 'set TMDB_API_KEY'

TMDB="${DOPPEL_TESTDATA:-/nonexistent}/tmdb"
if [ ! -d "$TMDB" ] || [ ! -x "$FAKE" ] || ! command -v sqlite3 >/dev/null || [ ! -x "$PY" ]; then
    t_skipped "crawl_fake_server" "needs DOPPEL_TESTDATA/tmdb, $FAKE, sqlite3 and $PY"
    t_done crawl
    exit $?
fi
FACES="$DOPPEL_TESTDATA/faces"
PAGES=2
CAST=6
MISSING=11

# fake_start NAME ARGS...: starts the fake server (log $tmp/NAME.log), sets PORT and API.
fake_start() {
    name=$1
    shift
    rm -f "$tmp/$name.port" "$tmp/$name.log"
    "$FAKE" --data "$TMDB" --images "$FACES" --port-file "$tmp/$name.port" \
        --log "$tmp/$name.log" --pages $PAGES --cast-max $CAST --missing-mod $MISSING "$@" &
    fpid=$!
    i=0
    while [ ! -s "$tmp/$name.port" ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
    PORT=$(cat "$tmp/$name.port")
    API="http://127.0.0.1:$PORT/3"
}

fake_stop() {
    kill "$fpid" 2>/dev/null
    wait "$fpid" 2>/dev/null
    fpid=""
}

# crawl DATA ARGS...: one crawl job against the running fake server, quick retries.
crawl() {
    data=$1
    shift
    "$D" --data "$data" --log-level warn crawl "$@" --api-base "$API" --rate 0 \
        --backoff-ms 20 --timeout 1
}

# crawl_exec DATA ARGS...: crawl, as a process of its own (for `crawl_exec ... &`, so
# that $! is doppel itself and a kill reaches it, not a subshell).
crawl_exec() {
    data=$1
    shift
    exec "$D" --data "$data" --log-level warn crawl "$@" --api-base "$API" --rate 0 \
        --backoff-ms 20 --timeout 1
}

# crawl_all DATA: the jobs crawl_expect.py expects; stops at the first failure.
crawl_all() {
    crawl "$1" popular --pages $PAGES >/dev/null &&
        crawl "$1" credits --movies --pages 1 >/dev/null &&
        crawl "$1" credits --tv --pages 1 >/dev/null &&
        crawl "$1" images >/dev/null
}

# crawl_dump DATA: the catalogue in crawl_expect.py's line format, sorted.
crawl_dump() {
    crawl_rows "$1" | LC_ALL=C sort
}

crawl_rows() {
    sqlite3 "$1/catalog.db" <<'EOF'
SELECT 'P', tmdb_id, name FROM people;
SELECT 'T', kind, tmdb_id, title, coalesce(year, '') FROM titles;
SELECT 'C', p.tmdb_id, t.kind, t.tmdb_id, coalesce(c.character, ''),
       coalesce(c.cast_order, ''), coalesce(c.episode_count, '')
  FROM credits c JOIN people p ON p.id = c.person_id JOIN titles t ON t.id = c.title_id;
SELECT 'Q', queue, key, state, status FROM crawl_queue;
SELECT 'E', key, data FROM crawl_queue WHERE queue = 'embed';
SELECT 'S', key, value FROM crawl_state WHERE key NOT LIKE 'run.%';
EOF
    (cd "$1/photos/tmdb" 2>/dev/null && find . -type f | sed 's|^\./|F\||')
}

# crawl_full DATA: crawl_dump plus every stored value and the photos' checksums.
crawl_full() {
    crawl_dump "$1"
    sqlite3 "$1/catalog.db" <<'EOF' | LC_ALL=C sort
SELECT 'PV', tmdb_id, popularity, gender, coalesce(department, '') FROM people;
SELECT 'TV', kind, tmdb_id, popularity FROM titles;
SELECT 'QD', queue, key, data FROM crawl_queue;
EOF
    (cd "$1/photos/tmdb" 2>/dev/null && find . -type f -exec cksum {} + | LC_ALL=C sort)
}

# ---- a clean crawl, against the expected catalogue ----
fake_start clean
"$PY" "$DOPPEL_ROOT/tests/crawl_expect.py" "$TMDB" $PAGES $CAST $MISSING >"$tmp/expect"
if crawl_all "$tmp/a"; then t_ok "clean_crawl_runs"; else t_bad "clean_crawl_runs" "exit $?"; fi
crawl_dump "$tmp/a" >"$tmp/a.dump"
crawl_full "$tmp/a" >"$tmp/a.full"
if cmp -s "$tmp/expect" "$tmp/a.dump"; then
    t_ok "clean_crawl_is_expected ($(wc -l <"$tmp/expect") rows)"
else
    t_bad "clean_crawl_is_expected" "$(diff "$tmp/expect" "$tmp/a.dump" | head -20)"
fi
n404=$(grep -c '^Q|images|[0-9]*|2|404$' "$tmp/a.dump")
[ "$n404" -gt 0 ] && t_ok "404_recorded ($n404 people)" || t_bad "404_recorded" "none"
# a 404 is final: one request per missing person
rep=$(grep -E ' 404 |/person/[0-9]+/images' "$tmp/clean.log" | awk '{print $4}' | sort | uniq -d | wc -l)
[ "$rep" -eq 0 ] && t_ok "no_url_fetched_twice" || t_bad "no_url_fetched_twice" "$rep repeated"
crawl "$tmp/a" images >/dev/null
crawl "$tmp/a" popular --pages $PAGES >/dev/null
crawl_full "$tmp/a" >"$tmp/a2.full"
cmp -s "$tmp/a.full" "$tmp/a2.full" && t_ok "recrawl_changes_nothing" ||
    t_bad "recrawl_changes_nothing" "$(diff "$tmp/a.full" "$tmp/a2.full" | head -5)"
t_expect "status_json" 0 "$D" --data "$tmp/a" crawl status --json
t_grep "status_queue_counts" '"failed": '"$n404"
t_expect "status_text" 0 "$D" --data "$tmp/a" crawl status
t_grep "status_eta" 'images ETA'
fake_stop

# ---- the same crawl through faults of every kind ----
fake_start faults --fault-rate 20 --slow-ms 1200
if crawl_all "$tmp/b"; then t_ok "faulty_crawl_runs"; else t_bad "faulty_crawl_runs" "exit $?"; fi
crawl_full "$tmp/b" >"$tmp/b.full"
cmp -s "$tmp/a.full" "$tmp/b.full" && t_ok "faulty_crawl_same_catalogue" ||
    t_bad "faulty_crawl_same_catalogue" "$(diff "$tmp/a.full" "$tmp/b.full" | head -10)"
for k in 429 500 502 503 504 slow reset truncate invalid ctype oversize redirect; do
    n=$(awk -v k="$k" '$3 == k' "$tmp/faults.log" | wc -l)
    [ "$n" -gt 0 ] && t_ok "fault_${k}_injected ($n)" || t_bad "fault_${k}_injected" "never"
done
fake_stop

# ---- kill -9 at random moments, then resume: the same catalogue ----
# Rounds of the four jobs into a fresh folder each, every job killed at random moments
# (at most 6 times, then left to finish); each round is then resumed and must equal
# the clean crawl.
fake_start kills --delay-ms 30
seed=${CRAWL_SEED:-$$}
kills=0
tries=0
round=0
same=0
while [ $kills -lt 20 ] && [ $round -lt 10 ]; do
    round=$((round + 1))
    jobs_done=0
    job_kills=0
    while [ $jobs_done -lt 4 ] && [ $tries -lt 400 ]; do
        tries=$((tries + 1))
        delay=$(awk -v s="$seed" -v t="$tries" 'BEGIN { srand(s * 1000 + t); printf "%.2f", 0.02 + rand() * 0.3 }')
        case $jobs_done in
        0) set -- popular --pages $PAGES ;;
        1) set -- credits --movies --pages 1 ;;
        2) set -- credits --tv --pages 1 ;;
        *) set -- images ;;
        esac
        (crawl_exec "$tmp/k$round" "$@" >/dev/null 2>&1) &
        cpid=$!
        if [ $job_kills -lt 6 ]; then
            sleep "$delay"
            kill -9 "$cpid" 2>/dev/null
        fi
        wait "$cpid"
        rc=$?
        if [ $rc -eq 137 ]; then
            kills=$((kills + 1))
            job_kills=$((job_kills + 1))
        elif [ $rc -eq 0 ]; then
            jobs_done=$((jobs_done + 1))
            job_kills=0
        else
            t_bad "killed_job_exit" "crawl $* exited $rc"
        fi
    done
    crawl_all "$tmp/k$round" || echo "  round $round: resuming failed" >&2
    crawl_full "$tmp/k$round" >"$tmp/k.full"
    if cmp -s "$tmp/a.full" "$tmp/k.full"; then
        same=$((same + 1))
    else
        t_bad "killed_crawl_same_catalogue" "seed $seed round $round: $(diff "$tmp/a.full" "$tmp/k.full" | head -10)"
    fi
done
[ $kills -ge 20 ] && t_ok "killed_20_times (seed $seed, $kills kills in $round rounds)" ||
    t_bad "killed_20_times" "only $kills"
[ $same -eq $round ] && t_ok "killed_crawl_same_catalogue ($same rounds)"
left=$(find "$tmp" -path "$tmp/k*" -name '*.tmp' | wc -l)
[ "$left" -eq 0 ] && t_ok "no_partial_photos" || t_bad "no_partial_photos" "$left .tmp files"
fake_stop

# ---- SIGINT: the requests in flight finish and are committed, then it stops ----
fake_start sigint --delay-ms 150
crawl "$tmp/s" popular --pages $PAGES >/dev/null
"$D" --data "$tmp/s" crawl images --api-base "$API" --rate 0 --backoff-ms 20 >/dev/null 2>"$tmp/s.err" &
cpid=$!
sleep 2.5
kill -INT "$cpid"
t0=$(date +%s)
wait "$cpid"
rc=$?
t1=$(date +%s)
[ "$rc" -eq 1 ] && grep -q 'stopped after committing' "$tmp/s.err" && t_ok "sigint_stops" ||
    t_bad "sigint_stops" "exit $rc: $(cat "$tmp/s.err")"
[ $((t1 - t0)) -le 5 ] && t_ok "sigint_prompt ($((t1 - t0)) s)" || t_bad "sigint_prompt" "$((t1 - t0)) s"
done_n=$(sqlite3 "$tmp/s/catalog.db" "SELECT count(*) FROM crawl_queue WHERE queue = 'images' AND state > 0")
pend_n=$(sqlite3 "$tmp/s/catalog.db" "SELECT count(*) FROM crawl_queue WHERE queue = 'images' AND state = 0")
[ "$done_n" -gt 0 ] && [ "$pend_n" -gt 0 ] && t_ok "sigint_committed_in_flight ($done_n done, $pend_n left)" ||
    t_bad "sigint_committed_in_flight" "$done_n done, $pend_n pending"
fake_stop

# ---- 401 is final; keys as api_key and as a Bearer token ----
fake_start auth --key sekrit
t_expect "bad_key_fails" 1 env TMDB_API_KEY=wrong "$D" --data "$tmp/x" --log-level warn crawl popular --api-base "$API" --backoff-ms 20
t_grep "bad_key_says" 'refused the API key'
n=$(grep -c 'person/popular' "$tmp/auth.log")
[ "$n" -eq 1 ] && t_ok "401_not_retried" || t_bad "401_not_retried" "$n requests"
t_expect "v3_key" 0 env TMDB_API_KEY=sekrit "$D" --data "$tmp/x" --log-level warn crawl popular --pages 1 --api-base "$API"
fake_stop
jwt="eyJhbGciOiJIUzI1NiJ9.eyJhdWQiOiJ0ZXN0Iiwic3ViIjoiZG9wcGVsIiwic2NvcGVzIjpbImFwaV9yZWFkIl19.c2lnbmF0dXJl"
fake_start bearer --key "$jwt"
t_expect "v4_token" 0 env TMDB_API_KEY="$jwt" "$D" --data "$tmp/x2" --log-level warn crawl popular --pages 1 --api-base "$API"
grep -q 'api_key' "$tmp/bearer.log" && t_bad "v4_token_not_in_url" "api_key in URL" || t_ok "v4_token_not_in_url"
fake_stop

# ---- the rate limiter: 20 requests per 0.5 s, 8 connections, checked on every window ----
fake_start rate --delay-ms 40
crawl "$tmp/r" popular --pages $PAGES >/dev/null
: >"$tmp/rate.log"
t0=$(date +%s)
"$D" --data "$tmp/r" --log-level warn crawl images --limit 24 --api-base "$API" --rate 20/0.5 \
    --connections 8 >/dev/null
awk '{print $1, $2}' "$tmp/rate.log" | sed 's/open=//' >"$tmp/rate.times"
"$PY" - "$tmp/rate.times" 20 0.5 >"$tmp/rate.out" <<'EOF'
import sys
rows = [l.split() for l in open(sys.argv[1])]
t = sorted(float(r[0]) for r in rows)
budget, window = int(sys.argv[2]), float(sys.argv[3])
j, worst = 0, 0
for i in range(len(t)):
    while t[i] - t[j] >= window:
        j += 1
    worst = max(worst, i - j + 1)
print(len(t), worst, max(int(r[1]) for r in rows), round(t[-1] - t[0], 2))
EOF
read -r nreq worst maxopen span <"$tmp/rate.out"
[ "$worst" -le 20 ] && t_ok "rate_budget_kept ($nreq requests, at most $worst in any 0.5 s)" ||
    t_bad "rate_budget_kept" "$worst requests in one 0.5 s window"
[ "$worst" -ge 15 ] && t_ok "rate_budget_used ($worst of 20)" || t_bad "rate_budget_used" "only $worst of 20"
[ "$maxopen" -eq 8 ] && t_ok "rate_8_connections" || t_bad "rate_8_connections" "$maxopen open at most"
nconn=$(awk '{print $5}' "$tmp/rate.log" | sort -u | wc -l)
[ "$nconn" -le 8 ] && t_ok "keep_alive ($nreq requests on $nconn connections)" ||
    t_bad "keep_alive" "$nreq requests on $nconn connections"
fake_stop

# ---- exports, discover ----
fake_start more
printf '%s\n' '{"adult":false,"id":31,"name":"Tom Hanks","popularity":18.4}' \
    '{"adult":true,"id":32,"name":"Someone","popularity":1}' '' \
    '{"adult":false,"id":33,"name":"Gary Sinise","popularity":9.5}' | gzip >"$tmp/person_ids.json.gz"
t_expect "exports" 0 "$D" --data "$tmp/e" --log-level warn crawl exports "$tmp/person_ids.json.gz"
n=$(sqlite3 "$tmp/e/catalog.db" "SELECT group_concat(tmdb_id) FROM (SELECT tmdb_id FROM people ORDER BY 1)")
[ "$n" = "31,33" ] && t_ok "exports_people (adult left out)" || t_bad "exports_people" "$n"
t_expect "exports_again" 0 "$D" --data "$tmp/e" --log-level warn crawl exports "$tmp/person_ids.json.gz"
printf '{"id":34,"name":"Ok"}\n{"id":"35"}\n' | gzip >"$tmp/bad_ids.json.gz"
t_expect "exports_bad_line" 1 "$D" --data "$tmp/e" crawl exports "$tmp/bad_ids.json.gz"
t_grep "exports_bad_line_says" 'line 2'
t_expect "discover" 0 "$D" --data "$tmp/e" --log-level warn crawl discover --years 2000-2001 --movies --pages 1 \
    --api-base "$API" --rate 0
n=$(sqlite3 "$tmp/e/catalog.db" "SELECT count(*) FROM titles WHERE year = 2001")
[ "$n" -eq 20 ] && t_ok "discover_by_year" || t_bad "discover_by_year" "$n titles of 2001"
n=$(sqlite3 "$tmp/e/catalog.db" "SELECT count(*) FROM crawl_queue WHERE queue = 'credits.movie' AND state = 1")
[ "$n" -eq 40 ] && t_ok "discover_casts" || t_bad "discover_casts" "$n casts"
: >"$tmp/more.log"
t_expect "image_base" 0 "$D" --data "$tmp/e" --log-level warn crawl images --limit 2 --api-base "$API" \
    --rate 0 --image-base "http://127.0.0.1:$PORT/cdn/"
n=$(grep -c ' /cdn/w500/' "$tmp/more.log")
[ "$n" -gt 0 ] && t_ok "image_base_used ($n photos)" || t_bad "image_base_used" "no /cdn/ request"

# ---- embedding the downloads (needs the models) ----
if [ -f "${DOPPEL_MODELS:-/nonexistent}/human-models/faceres.json" ]; then
    crawl "$tmp/m" popular --pages 1 >/dev/null
    crawl "$tmp/m" images --limit 2 >/dev/null
    t_expect "embed_pending" 0 "$D" --data "$tmp/m" --log-level warn embed --pending --json
    t_grep "embed_pending_photos" '"embeddings": [1-9]'
    n=$(sqlite3 "$tmp/m/catalog.db" "SELECT count(*) FROM crawl_queue WHERE queue = 'embed' AND state = 0")
    [ "$n" -eq 0 ] && t_ok "embed_queue_drained" || t_bad "embed_queue_drained" "$n left"
else
    t_skipped "embed_pending" "no models in DOPPEL_MODELS"
fi
fake_stop

t_done crawl
