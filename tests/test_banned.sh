# The banned-function check over the tree, and proof that it catches a use.
. "$DOPPEL_ROOT/tests/lib.sh"
t_expect "tree_clean" 0 "$DOPPEL_ROOT/scripts/check-banned.sh"
d=$(mktemp -d)
printf 'void f(char *d, const char *s) { strcpy(d, s); }\n' >"$d/bad.c"
printf 'int g(const char *s) { return atoi(s); }\n' >"$d/bad2.c"
printf 'int h(void) { return snprintf(0, 0, "x") + my_atoi_safe(1); }\n' >"$d/good.c"
t_expect "catches_strcpy" 1 "$DOPPEL_ROOT/scripts/check-banned.sh" "$d/bad.c"
t_expect "catches_atoi" 1 "$DOPPEL_ROOT/scripts/check-banned.sh" "$d/bad2.c"
t_expect "allows_snprintf" 0 "$DOPPEL_ROOT/scripts/check-banned.sh" "$d/good.c"
rm -rf "$d"
t_done banned
