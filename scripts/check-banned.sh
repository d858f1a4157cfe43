#!/bin/sh
# Fails when a banned C function appears in doppel's sources: functions that cannot
# bound their output or parse numbers without error reporting (curl's list, in short).
# Usage: scripts/check-banned.sh [DIR...]   (default: src tests fuzz bench)
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT" || exit 2
BANNED='sprintf|vsprintf|strcpy|strcat|strncpy|strncat|strtok|atoi|atol|atoll|atof|gets|tmpnam|mktemp'
hits=$(grep -nE "(^|[^A-Za-z0-9_.>])($BANNED)[[:space:]]*\(" \
    $(find "${@:-src tests fuzz bench}" -name '*.[ch]' 2>/dev/null) /dev/null)
if [ -n "$hits" ]; then
    printf 'banned function used:\n%s\n' "$hits" >&2
    exit 1
fi
exit 0
