#!/bin/sh
# doppel's main job in one command: set up, build, fill the catalogue, build the index
# and serve the web page. With TMDB_API_KEY set the catalogue comes from TMDB; otherwise
# from DOPPEL_PHOTOS, a folder with one sub-folder of photos per person.
#
# Each step needs a doppel command; a step whose command this build does not have yet
# stops the script with the command's name rather than pretending to run.
set -eu
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
scripts/setup.sh
make
D="$ROOT/build/rel/doppel"

need() {
    "$D" help "$1" >/dev/null 2>&1 ||
        { echo "run: doppel $1 is not part of this build yet (see the open issues)" >&2; exit 1; }
}

if [ -n "${TMDB_API_KEY:-}" ]; then
    need crawl
    "$D" crawl popular
    "$D" crawl images --embed
else
    [ -n "${DOPPEL_PHOTOS:-}" ] ||
        { echo "run: set DOPPEL_PHOTOS=DIR (one sub-folder per person) or TMDB_API_KEY" >&2; exit 2; }
    need import
    "$D" import "$DOPPEL_PHOTOS"
fi
need index
"$D" index build
need serve
exec "$D" serve
