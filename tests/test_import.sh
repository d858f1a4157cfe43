# doppel import, titles import and stats: usage errors, then (with the shared photos and
# the models) a small folder of real photos imported, imported again (nothing changes),
# and imported while being killed with SIGKILL, then resumed (the same catalogue).
. "$DOPPEL_ROOT/tests/lib.sh"
D="$DOPPEL_BIN"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# Prints `doppel stats --json` for data folder $1 without the catalogue's path.
stats_of() {
    "$D" --data "$1" stats --json 2>/dev/null | grep -v '"catalog"'
}

# Prints the number of ok photos in data folder $1 (0 while there is no catalogue).
ok_photos() {
    n=$(stats_of "$1" | grep -o '"ok": [0-9]*' | grep -o '[0-9]*$')
    echo "${n:-0}"
}

t_expect "import_no_args" 2 "$D" import
t_expect "import_both" 2 "$D" import "$tmp" --manifest "$tmp/m.csv"
t_expect "import_bad_case" 2 "$D" import --name-case upper "$tmp"
t_expect "import_bad_jobs" 2 "$D" import -j 0 "$tmp"
t_expect "import_help" 0 "$D" import --help
t_grep "import_help_usage" '^usage: doppel import DIR'
t_expect "import_missing_dir" 1 "$D" --data "$tmp/d0" import /nonexistent/people
t_grep "import_missing_dir_says" '/nonexistent/people'
t_expect "import_empty_dir" 1 "$D" --data "$tmp/d0" import "$tmp"
t_grep "import_empty_dir_says" 'no photos in person folders'
printf 'name,photo\nAnn,a.jpg\n,b.jpg\n' >"$tmp/bad.csv"
t_expect "manifest_bad_row" 1 "$D" --data "$tmp/d0" import --manifest "$tmp/bad.csv"
t_grep "manifest_bad_row_says" 'bad.csv: line 3: no name'
printf '{"name": "Ann", "photo": "https://example.org/a.jpg"}\n' >"$tmp/urls.jsonl"
t_expect "manifest_urls" 0 "$D" --data "$tmp/d0" --models /nonexistent import --manifest "$tmp/urls.jsonl"
t_grep "manifest_urls_skipped" '1 photo URLs \(fetching photos needs the crawler'
t_expect "stats_no_catalogue" 1 "$D" --data "$tmp/none" stats
t_grep "stats_no_catalogue_says" 'no catalogue at .*doppel import creates one'
t_expect "stats_help" 0 "$D" stats --help
t_expect "stats_extra_arg" 2 "$D" stats now
t_expect "titles_no_action" 2 "$D" titles
t_expect "titles_bad_action" 2 "$D" titles export x.csv
t_expect "titles_missing_file" 1 "$D" --data "$tmp/d0" titles import /nonexistent.csv
printf 'a,b\n1,2\n' >"$tmp/t.csv"
t_expect "titles_no_columns" 1 "$D" --data "$tmp/d0" titles import "$tmp/t.csv"
t_grep "titles_no_columns_says" 'no title column'

PINS="${DOPPEL_TESTDATA:-/nonexistent}/faces/pins"
TITLES="${DOPPEL_TESTDATA:-/nonexistent}/titles/streaming/netflix_titles.csv"
if [ ! -d "$PINS" ] || [ ! -f "$DOPPEL_MODELS/human-models/faceres.json" ]; then
    t_skipped "import_photos" "needs DOPPEL_TESTDATA (shared photos) and the models"
    t_done import
    exit $?
fi

# Six people, three photos each; a file that is not a photo; a photo with no face (a
# 16 x 16 PNG of one colour); the same photo twice.
people="$tmp/people"
for p in keanu_reeves tom_cruise chris_evans emma_stone morgan_freeman zendaya; do
    mkdir -p "$people/$p"
    cp "$PINS/$p"/*.jpg "$people/$p/"
done
cp "$DOPPEL_ROOT/README.md" "$people/zendaya/broken.jpg"
printf '\211\120\116\107\015\012\032\012\000\000\000\015\111\110\104\122\000\000\000\020\000\000\000\020\010\002\000\000\000\220\221\150\066\000\000\000\026\111\104\101\124\170\332\143\250\130\160\202\044\304\060\252\141\124\303\360\325\000\000\336\022\340\020\135\235\360\103\000\000\000\000\111\105\116\104\256\102\140\202' >"$people/zendaya/wall.png"
cp "$PINS/keanu_reeves/keanu_reeves_1.jpg" "$people/tom_cruise/zz_same_as_keanu.jpg"

t_expect "import_folder" 0 "$D" --data "$tmp/a" import -j 2 "$people"
t_grep "import_folder_summary" '21 photos of 6 people \(6 new\)'
t_grep "import_folder_stored" 'stored: +18 ok, 1 no face, 1 decode errors; 36 embeddings'
t_grep "import_folder_dup" '1 duplicates'
t_grep "import_folder_progress" 'import: 21 done'
stats_of "$tmp/a" >"$tmp/a.json"
t_out=$(cat "$tmp/a.json")
t_grep "stats_people" '"people": 6'
t_grep "stats_decode_error" '"decode_error": 1'
t_grep "stats_no_face" '"no_face": 1'
t_grep "stats_look" '"space": "look"'
t_expect "stats_text" 0 "$D" --data "$tmp/a" stats
t_grep "stats_text_photos" 'photos +20 \(18 ok, 1 no face, 1 decode errors\)'
t_grep "stats_text_names" 'embeddings +look \(faceres\): 18, of 6 people'
t_grep "stats_text_identity" 'embeddings +identity \(dlib-resnet\): 18, of 6 people'

t_expect "import_again" 0 "$D" --data "$tmp/a" import --json "$people"
t_grep "import_again_known" '"known": 21'
t_grep "import_again_nothing_new" '"embeddings": 0'
if stats_of "$tmp/a" | cmp -s - "$tmp/a.json"; then t_ok "import_again_same_stats"; else
    t_bad "import_again_same_stats" "stats changed: $(stats_of "$tmp/a")"; fi

# Killed mid-import (after its first commit), then run again: the same catalogue.
"$D" --data "$tmp/k" import -j 1 --batch 1 "$people" >"$tmp/k1.log" 2>&1 &
pid=$!
i=0
while [ "$(ok_photos "$tmp/k")" -lt 1 ] && [ $i -lt 600 ] && kill -0 $pid 2>/dev/null; do
    sleep 0.1
    i=$((i + 1))
done
if kill -9 $pid 2>/dev/null; then t_ok "kill_mid_import"; else
    t_skipped "kill_mid_import" "the import ended before it could be killed"; fi
wait $pid 2>/dev/null
before=$(ok_photos "$tmp/k")
t_expect "import_after_kill" 0 "$D" --data "$tmp/k" import -j 2 "$people"
t_grep "import_after_kill_resumes" "skipped: $before already in the catalogue"
if stats_of "$tmp/k" | cmp -s - "$tmp/a.json"; then t_ok "kill_resume_same_stats"; else
    t_bad "kill_resume_same_stats" "after kill and resume: $(stats_of "$tmp/k")"; fi

# A manifest naming the same photos: nothing new; known_for adds titles and credits.
printf 'name,photo,tmdb_id,known_for\nKeanu Reeves,people/keanu_reeves/keanu_reeves_2.jpg,6384,The Matrix; John Wick\n' >"$tmp/m.csv"
t_expect "manifest_known" 0 "$D" --data "$tmp/a" import --manifest "$tmp/m.csv"
t_grep "manifest_known_skipped" '1 already in the catalogue'
t_out=$(stats_of "$tmp/a")
t_grep "manifest_known_people" '"people": 6'
t_grep "manifest_known_titles" '"titles": 2'

if [ -f "$TITLES" ]; then
    t_expect "titles_import" 0 "$D" --data "$tmp/a" titles import "$TITLES"
    t_grep "titles_import_summary" '[0-9]+ titles \([0-9]+ new, [0-9]+ rows skipped\), [1-9][0-9]* cast names matched people'
    t_expect "titles_import_again" 0 "$D" --data "$tmp/a" titles import --json "$TITLES"
    t_grep "titles_import_again_nothing" '"titles_new": 0'
    t_grep "titles_import_again_no_credit" '"credits_new": 0'
else
    t_skipped "titles_import" "no $TITLES"
fi
t_done import
