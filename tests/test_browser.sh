# The web app in a real browser (Debian's chromium, driven by playwright-core from
# tools/browser): a misspelled name picked from the autocomplete, results, a click, the
# back button, a group photo and its second face. Screenshots of every step go to
# $DOPPEL_SCREENSHOTS (default build/screenshots). Skipped without chromium, node,
# playwright-core (scripts/setup.sh installs them), the shared photos or the models.
. "$DOPPEL_ROOT/tests/lib.sh"
D="$DOPPEL_BIN"
G="${DOPPEL_TESTDATA:-/nonexistent}/faces/glint"
SAMPLE="$DOPPEL_MODELS/samples/face-api/sample1.jpg"
CHROMIUM="${CHROMIUM:-/usr/bin/chromium}"
TOOLS="$DOPPEL_ROOT/tools/browser"
SHOTS="${DOPPEL_SCREENSHOTS:-$DOPPEL_ROOT/build/screenshots}"

if [ ! -x "$CHROMIUM" ] || ! command -v node >/dev/null 2>&1 ||
    [ ! -d "$TOOLS/node_modules/playwright-core" ]; then
    t_skipped "browser" "needs chromium, node and tools/browser (scripts/setup.sh)"
    t_done browser
    exit $?
fi
if [ ! -d "$G/Keanu Reeves" ] || [ ! -f "$SAMPLE" ]; then
    t_skipped "browser" "needs DOPPEL_TESTDATA (shared photos) and the models"
    t_done browser
    exit $?
fi
tmp=$(mktemp -d)
pid=""
trap '[ -n "$pid" ] && kill "$pid" 2>/dev/null; rm -rf "$tmp"' EXIT
. "$DOPPEL_ROOT/tests/web_lib.sh"
if ! web_make_data "$tmp" || ! start_server "$tmp/d"; then
    t_bad "browser_server" "$(cat "$tmp/import.log" "$tmp/serve.err" 2>/dev/null)"
    t_done browser
    exit 1
fi
mkdir -p "$SHOTS"
echo "  screenshots in $SHOTS"
CHROMIUM="$CHROMIUM" node "$TOOLS/run.js" "$B" "$SHOTS" "$SAMPLE"
