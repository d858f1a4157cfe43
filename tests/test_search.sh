# doppel index build, similar and query: usage errors, then (with the shared photos and
# the models) a catalogue where one real person is split in two, "Keanu A" (five
# photos) and "Keanu B" (five others), beside six other people: each half must find the
# other first, far ahead of the rest, and a held-out photo must find the two halves.
. "$DOPPEL_ROOT/tests/lib.sh"
D="$DOPPEL_BIN"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

t_expect "index_no_action" 2 "$D" index
t_expect "index_bad_action" 2 "$D" index drop
t_expect "index_bad_space" 2 "$D" index build --space clap
t_expect "index_help" 0 "$D" index --help
t_expect "index_no_catalogue" 1 "$D" --data "$tmp/none" index build
t_expect "similar_no_name" 2 "$D" similar
t_expect "similar_bad_k" 2 "$D" similar -k 0 x
t_expect "similar_help" 0 "$D" similar --help
t_grep "similar_help_usage" '^usage: doppel similar NAME_OR_ID'
t_expect "query_no_photo" 2 "$D" query
t_expect "query_bad_k" 2 "$D" query -k 51 x.jpg
t_expect "similar_bad_ef" 2 "$D" similar --ef 0 x
t_expect "similar_bad_gender" 2 "$D" similar --gender robot x
t_grep "similar_bad_gender_says" 'female, male or nonbinary'
t_expect "query_bad_ef" 2 "$D" query --ef 5000 x.jpg
t_expect "index_bad_graph_m" 2 "$D" index build --graph-m 1
t_expect "query_not_photo" 1 "$D" --data "$tmp/none" query "$DOPPEL_ROOT/README.md"

G="${DOPPEL_TESTDATA:-/nonexistent}/faces/glint"
if [ ! -d "$G/Keanu Reeves" ] || [ ! -f "$DOPPEL_MODELS/human-models/faceres.json" ]; then
    t_skipped "search_photos" "needs DOPPEL_TESTDATA (shared photos) and the models"
    t_done search
    exit $?
fi
P="$tmp/people"
mkdir -p "$P/Keanu A" "$P/Keanu B"
for i in 001 002 003 004 005; do cp "$G/Keanu Reeves/$i.png" "$P/Keanu A/"; done
for i in 006 007 008 009 010; do cp "$G/Keanu Reeves/$i.png" "$P/Keanu B/"; done
for p in "Tom Hanks" "Will Smith" "Jennifer Aniston" "Leonardo DiCaprio" "Mark Ruffalo" "Hugh Jackman"; do
    mkdir -p "$P/$p"
    for i in 001 002 003; do cp "$G/$p/$i.png" "$P/$p/"; done
done
t_expect "import" 0 "$D" -q --data "$tmp/d" import "$P"
t_expect "similar_no_index" 1 "$D" --data "$tmp/d" similar "Keanu A"
t_grep "similar_no_index_says" 'doppel index build'
t_expect "index_build" 0 "$D" --data "$tmp/d" index build --json
t_grep "index_build_people" '"people": 8'
t_grep "index_build_identity" '"space": "identity"'
[ -f "$tmp/d/index/look.idx" ] && t_ok "index_file" || t_bad "index_file" "no $tmp/d/index/look.idx"
t_expect "similar_a" 0 "$D" --data "$tmp/d" similar "Keanu A" -k 3 --json
first=$(printf '%s\n' "$t_out" | grep '"name"' | sed -n 2p)
case "$first" in *'"Keanu B"'*) t_ok "similar_a_finds_b" ;; *) t_bad "similar_a_finds_b" "$t_out" ;; esac
for key in '"query"' '"results"' '"id"' '"score"' '"rank_pct"' '"tmdb_id"' '"photo"'; do
    printf '%s\n' "$t_out" | grep -q "$key" && t_ok "similar_key_$key" || t_bad "similar_key_$key" "$t_out"
done
printf '%s\n' "$t_out" | sed -n '/"results"/,$p' | grep -q '"Keanu A"' &&
    t_bad "similar_excludes_self" "$t_out" || t_ok "similar_excludes_self"
# The split person is far closer to itself than anyone else is: first score above 0.8,
# second below 0.75.
scores=$(printf '%s\n' "$t_out" | grep '"score"' | grep -o '[0-9.]*' | head -2 | tr '\n' ' ')
echo "$scores" | awk '{ exit !($1 > 0.8 && $2 < 0.75) }' && t_ok "similar_margin" ||
    t_bad "similar_margin" "scores $scores"
t_expect "similar_b_text" 0 "$D" --data "$tmp/d" similar "Keanu B" -k 1
t_grep "similar_b_finds_a" '1\. Keanu A'
t_expect "names_catalogue" 0 "$D" --data "$tmp/d" names "keanu bb" -k 1 --json
t_grep "names_catalogue_finds" '"name": "Keanu B"'
t_grep "names_catalogue_id" '"id": [0-9]+'
t_expect "similar_fuzzy_name" 0 "$D" --data "$tmp/d" similar "keanu bb" -k 1
t_grep "similar_fuzzy_says" "closest name: Keanu B"
id=$("$D" --data "$tmp/d" similar "Keanu A" -k 1 --json | grep -m1 '"id"' | grep -o '[0-9]*')
t_expect "similar_by_id" 0 "$D" --data "$tmp/d" similar "$id" -k 1
t_grep "similar_by_id_finds_b" 'Keanu B'
t_expect "similar_unknown_id" 1 "$D" --data "$tmp/d" similar 99999
t_expect "similar_identity" 0 "$D" --data "$tmp/d" similar "Keanu A" --space identity -k 1
t_grep "similar_identity_finds_b" '1\. Keanu B'
t_expect "query_held_out" 0 "$D" --data "$tmp/d" query "$G/Keanu Reeves/020.png" -k 2 --json
top=$(printf '%s\n' "$t_out" | grep '"name"' | head -2 | tr -d '\n')
case "$top" in *'Keanu A'*'Keanu B'* | *'Keanu B'*'Keanu A'*) t_ok "query_finds_both_halves" ;;
*) t_bad "query_finds_both_halves" "$t_out" ;; esac
t_grep "query_keys" '"lookalikes"'
# Who it is: the held-out photo is one of the halves, below the threshold; Tom Hanks's
# tenth photo is Tom Hanks; Tina Fey, who is not in the catalogue, matches no one.
printf '%s\n' "$t_out" | sed -n '/"identity"/,/}/p' >"$tmp/who"
grep -q '"name": "Keanu [AB]"' "$tmp/who" && grep -q '"same_person": true' "$tmp/who" &&
    t_ok "query_identity_held_out" || t_bad "query_identity_held_out" "$(cat "$tmp/who")"
t_expect "query_identity_other" 0 "$D" --data "$tmp/d" query "$G/Tom Hanks/010.png" -k 1
t_grep "query_identity_other_is" 'is Tom Hanks \(distance'
t_expect "query_identity_stranger" 0 "$D" --data "$tmp/d" query "$G/Tina Fey/001.png" -k 1
t_grep "query_identity_stranger_not" 'is probably not'
# The graph: forced on this small catalogue, it answers like the scan; a second build
# updates it (everyone kept); a corrupt graph is refused with a warning and the scan
# answers.
[ -f "$tmp/d/index/look.hnsw" ] && t_bad "graph_not_below_min" "a graph for 8 people" || t_ok "graph_not_below_min"
t_expect "index_build_graph" 0 "$D" --data "$tmp/d" index build --graph-min 1 --json
t_grep "index_build_graph_json" '"graph": true'
t_grep "index_build_graph_ef_json" '"graph_ef": 384'
t_grep "index_build_names_json" '"lists": true'
[ -f "$tmp/d/index/look.hnsw" ] && t_ok "graph_file" || t_bad "graph_file" "no $tmp/d/index/look.hnsw"
# With the graph come the look-alike lists: "similar" reads them, and answers as the
# search does (--ef, even at its default, makes it search).
t_grep "index_build_near_json" '"near": true'
[ -f "$tmp/d/index/look.near" ] && t_ok "near_file" || t_bad "near_file" "no $tmp/d/index/look.near"
# Built whole, the index also gets each name's fuzzy matches: a search for a whole name
# answers from them as it does without them; a corrupt file is refused with a warning.
[ -f "$tmp/d/index/names.near" ] && t_ok "names_file" || t_bad "names_file" "no $tmp/d/index/names.near"
t_expect "names_lists" 0 "$D" --data "$tmp/d" names "Keanu A" -k 5 --json
lists_out=$(printf '%s\n' "$t_out" | grep -v '_ms"')
mv "$tmp/d/index/names.near" "$tmp/names.keep"
t_expect "names_no_lists" 0 "$D" --data "$tmp/d" names "Keanu A" -k 5 --json
[ "$lists_out" = "$(printf '%s\n' "$t_out" | grep -v '_ms"')" ] && t_ok "names_lists_equal_search" ||
    t_bad "names_lists_equal_search" "$(printf '%s\n--- without:\n%s' "$lists_out" "$t_out")"
cp "$tmp/names.keep" "$tmp/d/index/names.near"
printf 'XXXX' | dd of="$tmp/d/index/names.near" bs=1 seek=100 conv=notrunc 2>/dev/null
t_expect "names_corrupt_lists" 0 "$D" --data "$tmp/d" names "Keanu A" -k 2
t_grep "names_corrupt_lists_warns" 'names.near: checksum mismatch'
t_grep "names_corrupt_lists_answers" 'Keanu A'
mv "$tmp/names.keep" "$tmp/d/index/names.near"
t_expect "similar_near" 0 "$D" --data "$tmp/d" similar "Keanu A" -k 7 --json
near_out=$t_out
t_expect "similar_searched" 0 "$D" --data "$tmp/d" similar "Keanu A" -k 7 --ef 384 --json
[ "$near_out" = "$t_out" ] && t_ok "similar_near_equals_search" ||
    t_bad "similar_near_equals_search" "$(printf '%s\n--- searched:\n%s' "$near_out" "$t_out")"
cp "$tmp/d/index/look.near" "$tmp/near.keep"
printf 'XXXX' | dd of="$tmp/d/index/look.near" bs=1 seek=100 conv=notrunc 2>/dev/null
t_expect "similar_corrupt_near" 0 "$D" --data "$tmp/d" similar "Keanu A" -k 1
t_grep "similar_corrupt_near_warns" 'look.near: checksum mismatch'
t_grep "similar_corrupt_near_answers" '1\. Keanu B'
mv "$tmp/near.keep" "$tmp/d/index/look.near"
t_expect "similar_graph" 0 "$D" --data "$tmp/d" similar "Keanu A" -k 1
t_grep "similar_graph_finds_b" '1\. Keanu B'
t_expect "similar_graph_exact" 0 "$D" --data "$tmp/d" similar "Keanu A" -k 1 --exact --ef 10
t_grep "similar_graph_exact_finds_b" '1\. Keanu B'
t_expect "similar_gender_filter" 0 "$D" --data "$tmp/d" similar "Keanu A" -k 3 --gender female --json
printf '%s\n' "$t_out" | grep -q '"name": "Keanu B"' && t_bad "similar_gender_filter_keeps_out" "$t_out" ||
    t_ok "similar_gender_filter_keeps_out"
t_expect "index_rebuild_graph" 0 "$D" --data "$tmp/d" index build --space look --graph-min 1
t_grep "index_rebuild_graph_updates" 'graph updated: 8 people kept, 0 removed, 0 inserted'
t_grep "index_rebuild_graph_near" 'look: 32 look-alikes of each person'
t_grep "index_rebuild_graph_ef" 'look: default ef 384 \(too few people to tune\)'
t_expect "index_build_no_near" 0 "$D" --data "$tmp/d" index build --space look --graph-min 1 --no-near
[ -f "$tmp/d/index/look.near" ] && t_bad "no_near_removes" "stale lists kept" || t_ok "no_near_removes"
t_expect "index_build_near_again" 0 "$D" --data "$tmp/d" index build --space look --graph-min 1
printf 'XXXX' | dd of="$tmp/d/index/look.hnsw" bs=1 seek=300 conv=notrunc 2>/dev/null
t_expect "similar_corrupt_graph" 0 "$D" --data "$tmp/d" similar "Keanu A" -k 1
t_grep "similar_corrupt_graph_warns" 'look.hnsw: graph file checksum mismatch'
t_grep "similar_corrupt_graph_answers" '1\. Keanu B'
t_expect "index_build_small_removes_graph" 0 "$D" --data "$tmp/d" index build --space look
[ -f "$tmp/d/index/look.hnsw" ] && t_bad "graph_removed" "stale graph kept" || t_ok "graph_removed"
[ -f "$tmp/d/index/look.near" ] && t_bad "near_removed" "stale lists kept" || t_ok "near_removed"
: >"$tmp/d/index/look.idx"
t_expect "similar_corrupt_index" 1 "$D" --data "$tmp/d" similar "Keanu A"
t_grep "similar_corrupt_index_says" 'index build'
t_done search
