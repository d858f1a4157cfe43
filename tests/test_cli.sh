# The doppel command line: version, help, usage errors (exit 2), models.
. "$DOPPEL_ROOT/tests/lib.sh"
D="$DOPPEL_BIN"

t_expect "version_flag" 0 "$D" --version
t_grep "version_text" '^doppel [0-9]+\.[0-9]+\.[0-9]+$'
t_expect "version_cmd" 0 "$D" version
t_expect "help" 0 "$D" help
t_grep "help_lists_models" 'models +list and verify'
t_expect "help_flag" 0 "$D" --help
t_expect "help_cmd" 0 "$D" help models
t_grep "help_cmd_usage" '^usage: doppel models'
t_expect "cmd_help_flag" 0 "$D" models --help
t_expect "no_command" 2 "$D"
t_grep "no_command_usage" 'usage: doppel'
t_expect "unknown_command" 2 "$D" frobnicate
t_grep "unknown_command_named" "no such command 'frobnicate'"
t_expect "unknown_global_flag" 2 "$D" --bogus help
t_expect "unknown_cmd_flag" 2 "$D" models --bogus
t_grep "unknown_cmd_flag_usage" 'usage: doppel models'
t_expect "unknown_action" 2 "$D" models frob
t_expect "help_unknown" 2 "$D" help frobnicate
t_expect "bad_log_level" 2 "$D" --log-level loud help
t_expect "bad_threads" 2 "$D" --threads 0 help
t_grep "bad_threads_says" 'threads takes a number'

d=$(mktemp -d)
t_expect "models_verify_empty" 1 "$D" --models "$d" models verify
t_grep "models_verify_names_file" 'missing or altered'
t_expect "models_json_empty" 0 "$D" --models "$d" models --json
t_grep "models_json_state" '"state": "missing"'
t_expect "models_dir_env" 0 env DOPPEL_MODELS="$d" "$D" models dir
t_grep "models_dir_env_value" "^$d\$"
rm -rf "$d"
if [ -d "$DOPPEL_MODELS" ]; then
    t_expect "models_verify_real" 0 "$D" --models "$DOPPEL_MODELS" models verify
else
    t_skipped "models_verify_real" "no models folder"
fi

# doppel image info
t_expect "image_no_action" 2 "$D" image
t_expect "image_no_file" 2 "$D" image info
t_expect "image_not_image" 1 "$D" image info "$DOPPEL_ROOT/README.md"
t_grep "image_not_image_says" 'not a JPEG, PNG or WebP'
t_expect "image_missing" 1 "$D" image info /nonexistent.jpg
S="$DOPPEL_MODELS/samples/face-api/sample1.jpg"
if [ -f "$S" ]; then
    t_expect "image_info" 0 "$D" image info "$S"
    t_grep "image_info_text" 'jpeg, [0-9]+ bytes, 1920 x 1280, orientation 1'
    t_expect "image_info_json" 0 "$D" image info --json "$S"
    t_grep "image_info_json_keys" '"display_height": 1280'
    t_expect "detect" 0 "$D" detect "$S"
    t_grep "detect_count" 'sample1.jpg: 3 faces'
    t_expect "detect_one_thread" 0 "$D" --threads 1 detect "$S"
    t_grep "detect_one_thread_count" 'sample1.jpg: 3 faces'
    t_expect "detect_json" 0 "$D" detect --json "$S"
    t_grep "detect_json_keys" '"right_eye"'
    t_expect "embed_json" 0 "$D" embed --json "$S"
    t_grep "embed_json_dim" '"dim": 1024'
    t_expect "embed_bad_model" 2 "$D" embed --model clip "$S"
    t_expect "embed_identity_json" 0 "$D" embed --model identity --json "$S"
    t_grep "embed_identity_dim" '"dim": 128'
    t_grep "embed_identity_model" '"model": "identity"'
    t_expect "embed_identity_all" 0 "$D" --threads 1 embed --model identity --all-faces "$S"
    t_grep "embed_identity_all_faces" '^face 3: box .* identity\[128\]'
    t_expect "verify_itself" 0 "$D" verify "$S" "$S"
    t_grep "verify_itself_same" '^same person: distance 0\.000 < threshold'
    t_expect "verify_json" 0 "$D" verify --json --threshold 0.3 "$S" "$S"
    t_grep "verify_json_threshold" '"threshold": 0\.(3|29+)'
    t_expect "verify_not_image" 1 "$D" verify "$S" "$DOPPEL_ROOT/README.md"
    blank=$(mktemp --suffix=.png)
    if /usr/bin/python3 -c "from PIL import Image; Image.new('RGB', (64, 64), (128, 128, 128)).save('$blank')" 2>/dev/null; then
        t_expect "verify_no_face" 1 "$D" verify "$S" "$blank"
        t_grep "verify_no_face_says" 'no face found'
    else
        t_skipped "verify_no_face" "no Pillow to draw a blank photo"
    fi
    rm -f "$blank"
    t_expect "detect_not_image" 1 "$D" detect "$DOPPEL_ROOT/README.md"
    t_expect "detect_no_models" 1 "$D" --models /nonexistent detect "$S"
    t_grep "detect_no_models_says" 'setup.sh'
else
    t_skipped "image_info" "no sample photos; run scripts/setup.sh"
fi

# doppel verify on two people of the shared photos
G="${DOPPEL_TESTDATA:-/nonexistent}/faces/glint"
if [ -d "$G/Barack Obama" ] && [ -d "$DOPPEL_MODELS" ]; then
    t_expect "verify_same" 0 "$D" verify "$G/Barack Obama/001.png" "$G/Barack Obama/002.png"
    t_grep "verify_same_says" '^same person'
    t_expect "verify_different" 0 "$D" verify --json "$G/Barack Obama/001.png" "$G/Tom Hanks/002.png"
    t_grep "verify_different_says" '"same_person": false'
else
    t_skipped "verify_same" "DOPPEL_TESTDATA not set"
fi
t_expect "verify_one_photo" 2 "$D" verify a.jpg
t_expect "verify_bad_threshold" 2 "$D" verify --threshold -1 a.jpg b.jpg
t_grep "verify_bad_threshold_says" 'threshold takes a distance'

# doppel names
t_expect "names_no_source" 1 "$D" --data /nonexistent/data names tom
t_grep "names_no_source_says" 'no catalogue at /nonexistent/data'
t_expect "names_no_query" 2 "$D" names
t_expect "names_bad_k" 2 "$D" names -k 0 tom --names /dev/null
t_expect "names_bad_mode" 2 "$D" names --mode magic tom --names /dev/null
t_expect "names_missing_file" 1 "$D" names tom --names /nonexistent.txt
nf=$(mktemp)
printf 'Keanu Reeves\t50\nKeanu Pires\t1\nTom Hanks\t80\nPenélope Cruz\n' >"$nf"
t_expect "names_fuzzy" 0 "$D" names "keanu reves" --names "$nf"
t_grep "names_fuzzy_top" '^ *[0-9]+  fuzzy   Keanu Reeves'
t_expect "names_accent" 0 "$D" names penelope --names "$nf" --json
t_grep "names_accent_json" '"name": "Penélope Cruz"'
t_expect "names_bad_utf8" 1 "$D" names "$(printf '\377')" --names "$nf"
t_grep "names_bad_utf8_says" 'not valid UTF-8'
rm -f "$nf"
t_done cli
