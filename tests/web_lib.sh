# Shared by the web tests (sourced): a small data folder and a server on a free port.

# web_make_data TMP: builds TMP/d from the shared photos: Keanu Reeves split in two
# ("Keanu A", "Keanu B"), five other people, a person with a hostile name ($WEB_EVIL),
# and two titles. Returns non-zero on failure (log in TMP/import.log).
WEB_EVIL='Bobby "<script>alert(1)" & Co'
web_make_data() {
    P="$1/people"
    mkdir -p "$P/Keanu A" "$P/Keanu B" "$P/$WEB_EVIL"
    for i in 001 002 003 004 005; do cp "$G/Keanu Reeves/$i.png" "$P/Keanu A/"; done
    for i in 006 007 008 009 010; do cp "$G/Keanu Reeves/$i.png" "$P/Keanu B/"; done
    for i in 001 002; do cp "$G/Tina Fey/$i.png" "$P/$WEB_EVIL/"; done
    for p in "Tom Hanks" "Will Smith" "Jennifer Aniston" "Leonardo DiCaprio" "Mark Ruffalo"; do
        mkdir -p "$P/$p"
        for i in 001 002 003; do cp "$G/$p/$i.png" "$P/$p/"; done
    done
    printf 'title,type,release_year,cast\nThe Matrix,Movie,1999,"Keanu A, Will Smith"\nSpeed,Movie,1994,Keanu B\n' >"$1/titles.csv"
    "$D" -q --data "$1/d" import "$P" >"$1/import.log" 2>&1 &&
        "$D" -q --data "$1/d" index build >>"$1/import.log" 2>&1 &&
        "$D" -q --data "$1/d" titles import "$1/titles.csv" >>"$1/import.log" 2>&1
}

# start_server DATA [OPTION...]: starts doppel serve on a free port with the options
# (output in $tmp/serve.*); sets $pid and $B (the base URL). Returns non-zero if it does
# not start.
start_server() {
    data=$1
    shift
    rm -f "$tmp/serve.out" # else the loop below may read a previous server's address
    "$D" --data "$data" serve --port 0 "$@" >"$tmp/serve.out" 2>"$tmp/serve.err" &
    pid=$!
    B=""
    for _ in $(seq 1 100); do
        B=$(grep -o 'http://127.0.0.1:[0-9]*' "$tmp/serve.out" 2>/dev/null)
        [ -n "$B" ] && return 0
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    return 1
}

# stop_server: SIGTERM, then waits; the exit status in $stopped.
stop_server() {
    kill "$pid" 2>/dev/null
    wait "$pid"
    stopped=$?
    pid=""
}
