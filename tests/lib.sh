# Shell test helpers, sourced by tests/test_*.sh. Each check prints one line; t_done
# prints the suite's summary line in the format tests/run.sh adds up.
t_pass=0
t_fail=0
t_skip=0

t_ok() { echo "  ok   $1"; t_pass=$((t_pass + 1)); }
t_bad() { echo "  FAIL $1: $2"; t_fail=$((t_fail + 1)); }
t_skipped() { echo "  skip $1: $2"; t_skip=$((t_skip + 1)); }

# t_expect NAME WANT_STATUS CMD...: runs CMD, checks its exit status; output in $t_out.
t_expect() {
    name=$1
    want=$2
    shift 2
    t_out=$("$@" 2>&1)
    got=$?
    if [ "$got" -eq "$want" ]; then t_ok "$name"; else t_bad "$name" "exit $got, want $want: $t_out"; fi
}

# t_grep NAME PATTERN: checks that the last $t_out matches PATTERN (grep -E).
t_grep() {
    if printf '%s\n' "$t_out" | grep -Eq -- "$2"; then t_ok "$1"; else t_bad "$1" "no /$2/ in: $t_out"; fi
}

t_done() {
    echo "$1: $((t_pass + t_fail + t_skip)) tests, $t_pass passed, $t_fail failed, $t_skip skipped"
    [ "$t_fail" -eq 0 ]
}
