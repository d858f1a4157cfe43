# The web server under load, against nginx serving a static file of the same size in the
# same run (the machine's ceiling). Catalogue: 406,323 people, the 121,936 real names of
# $DOPPEL_TESTDATA/names/real_person_names.txt padded with generated names (a real first
# word and a real last word, fixed seed, as bench_names.sh does); their look vectors are
# synthetic (1024-d, a 32-d latent through a random map plus noise; bench/web_data.c).
# The index has its HNSW graph, look-alike lists and name lists, as `doppel index build`
# makes above 50,000 people.
#
#   wrk -t2 -c64 -d30s: /api/similar/ID (a random person per request), /api/search?q=
#   (random real, misspelled and prefix queries), nginx's static file; req/s, p50, p99,
#   errors. Then the median of 7 photo queries (/api/query, a 1920x1280 JPEG), and the
#   p99 of /api/search with 8 connections while 100 slow clients send one byte a second.
#
# Environment: BENCH_WEB_DIR (kept between runs; default /tmp/doppel-bench-web),
# BENCH_WEB_SECONDS (default 30), BENCH_WEB_CONNS (default 64), BENCH_WEB_WORKERS (doppel's
# request threads and nginx's workers; default: every core).
BUILD=${1:?usage: bench_web.sh BUILD_DIR}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
DATA=${DOPPEL_TESTDATA:-}
W=${BENCH_WEB_DIR:-/tmp/doppel-bench-web}
SECS=${BENCH_WEB_SECONDS:-30}
CONNS=${BENCH_WEB_CONNS:-64}
WORKERS=${BENCH_WEB_WORKERS:-$(nproc)}
MODELS=${DOPPEL_MODELS:-$ROOT/models}
PHOTO="$MODELS/samples/face-api/sample1.jpg"
for t in wrk nginx curl; do
    command -v $t >/dev/null 2>&1 || [ -x /usr/sbin/$t ] || { echo "bench_web: no $t (scripts/setup.sh); skipped"; exit 0; }
done
[ -f "$DATA/names/real_person_names.txt" ] || { echo "bench_web: DOPPEL_TESTDATA not set; skipped"; exit 0; }
NGINX=$(command -v nginx || echo /usr/sbin/nginx)
mkdir -p "$W"
dpid=""
npid=""
trap '[ -n "$dpid" ] && kill $dpid 2>/dev/null; [ -n "$npid" ] && kill $npid 2>/dev/null' EXIT

# Names (and queries) and the data folder, made once.
if [ ! -f "$W/d/index/names.near" ]; then
    /usr/bin/python3 - "$DATA/names/real_person_names.txt" "$W" <<'PY' || exit 1
import random, sys
random.seed(20261123)
real = [l.strip() for l in open(sys.argv[1], encoding="utf-8") if l.strip()]
seen = set(real); names = list(real)
firsts = [n.split()[0] for n in real if len(n.split()) >= 2]
lasts = [n.split()[-1] for n in real if len(n.split()) >= 2]
while len(names) < 406323:
    n = random.choice(firsts) + " " + random.choice(lasts)
    if n not in seen:
        seen.add(n); names.append(n)
with open(sys.argv[2] + "/names.txt", "w", encoding="utf-8") as f:
    for n in names:
        f.write("%s\t%.3f\n" % (n, 1000.0 / random.randint(1, 100000)))
def typo(s):
    s = list(s); i = random.randrange(len(s)); s[i] = random.choice("abcdefghijklmnopqrstuvwxyz"); return "".join(s)
with open(sys.argv[2] + "/queries.txt", "w", encoding="utf-8") as f:
    for _ in range(20000):
        n = random.choice(real); k = random.randrange(3)
        f.write((n if k == 0 else typo(n) if k == 1 else n[:random.randint(2, 8)]) + "\n")
PY
    rm -rf "$W/d"
    mkdir -p "$W/d"
    make -s "$BUILD/bench/web_data" >/dev/null || exit 1
    "$BUILD/bench/web_data" "$W/names.txt" "$W/d" || exit 1
fi

"$BUILD/doppel" -q --data "$W/d" --models "$MODELS" serve --port 0 --workers "$WORKERS" \
    --max-connections 1024 >"$W/serve.out" 2>"$W/serve.err" &
dpid=$!
B=""
for _ in $(seq 1 600); do
    B=$(grep -o 'http://127.0.0.1:[0-9]*' "$W/serve.out" 2>/dev/null) && [ -n "$B" ] && break
    sleep 0.2
done
[ -n "$B" ] || { echo "bench_web: doppel serve did not start: $(cat "$W/serve.err")"; exit 1; }
PEOPLE=$(curl -s "$B/about" | grep -o 'People</dt><dd>[0-9]*' | grep -o '[0-9]*$')

# nginx on a free port, a static file the size of a /api/similar answer.
size=$(curl -s "$B/api/similar/1?k=10" | wc -c)
mkdir -p "$W/static" "$W/nginx"
head -c "$size" /dev/zero | tr '\0' x >"$W/static/similar.json"
nport=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
cat >"$W/nginx/nginx.conf" <<EOF2
worker_processes $WORKERS;
daemon off;
pid $W/nginx/nginx.pid;
error_log $W/nginx/error.log;
events { worker_connections 1024; }
http {
    access_log off;
    client_body_temp_path $W/nginx; proxy_temp_path $W/nginx; fastcgi_temp_path $W/nginx;
    uwsgi_temp_path $W/nginx; scgi_temp_path $W/nginx;
    server { listen 127.0.0.1:$nport; root $W/static; }
}
EOF2
"$NGINX" -c "$W/nginx/nginx.conf" &
npid=$!
sleep 1

# run_wrk NAME URL [SCRIPT]: one row of the table.
run_wrk() {
    if [ -n "${3:-}" ]; then
        WEB_PEOPLE=$PEOPLE WEB_QUERIES="$W/queries.txt" wrk -t2 -c"$CONNS" -d"${SECS}s" --timeout 30s --latency -s "$3" "$2" >"$W/wrk.out" 2>&1
    else
        wrk -t2 -c"$CONNS" -d"${SECS}s" --timeout 30s --latency "$2" >"$W/wrk.out" 2>&1
    fi
    rps=$(awk '/^Requests\/sec/ { print $2 }' "$W/wrk.out")
    p50=$(awk '$1 == "50%" { print $2 }' "$W/wrk.out")
    p99=$(awk '$1 == "99%" { print $2 }' "$W/wrk.out")
    non2xx=$(awk '/Non-2xx/ { print $5 }' "$W/wrk.out")
    sock=$(grep -o 'Socket errors:.*' "$W/wrk.out" || true)
    printf '%-34s %10s req/s  p50 %-9s p99 %-9s errors: %s %s\n' "$1" "$rps" "$p50" "$p99" "${non2xx:-0} non-2xx" "$sock"
    eval "rps_$4=$rps"
}
echo "machine: $(nproc) cores, load $(uptime | sed 's/.*average: //'); doppel workers $WORKERS, nginx workers $WORKERS"
echo "catalogue: $PEOPLE people (real names padded; synthetic 1024-d look vectors), HNSW index and look-alike lists"
echo "wrk -t2 -c$CONNS -d${SECS}s, response ~$size bytes"
run_wrk "nginx static file ($size B)" "http://127.0.0.1:$nport/similar.json" "" static
run_wrk "doppel /api/search?q=" "$B" "$ROOT/bench/web/search.lua" search
run_wrk "doppel /api/similar/ID" "$B" "$ROOT/bench/web/similar.lua" similar
awk -v a="$rps_search" -v b="$rps_similar" -v s="$rps_static" 'BEGIN {
    printf "ratio to nginx: /api/search %.1f%%, /api/similar %.2f%% (target >= 30%%)\n", 100 * a / s, 100 * b / s }'

# Photo queries: the median of 7 (the first loads the models and is left out).
if [ -f "$PHOTO" ]; then
    curl -s -o /dev/null -F "photo=@$PHOTO" "$B/api/query"
    for _ in 1 2 3 4 5 6 7; do
        curl -s -o /dev/null -w '%{time_total}\n' -F "photo=@$PHOTO" "$B/api/query"
    done | sort -n | awk '{ t[NR] = $1 } END { printf "photo query (1920x1280 JPEG, %s faces): median %.0f ms (min %.0f, max %.0f; target < 300)\n", "'"$(curl -s -F "photo=@$PHOTO" "$B/api/query" | grep -c '"box"')"'", t[4] * 1000, t[1] * 1000, t[7] * 1000 }'
fi

# Slow clients: p99 of /api/search with 8 connections, without and with 100 clients
# sending one byte per second.
CONNS=8
SECS=10
run_wrk "search, 8 conns" "$B" "$ROOT/bench/web/search.lua" quiet
/usr/bin/python3 "$ROOT/bench/web/slow_client.py" 127.0.0.1 "${B##*:}" 100 14 >"$W/slow.out" &
slow=$!
sleep 2
run_wrk "search, 8 conns + 100 slow clients" "$B" "$ROOT/bench/web/search.lua" slow
wait $slow
cat "$W/slow.out"
kill -0 $dpid 2>/dev/null && echo "doppel serve still up" || echo "bench_web: doppel serve died"
