#!/usr/bin/env bash
# Prints the fenced block that follows the README marker
# `<!-- block:NAME -->` (without the fences), e.g. the service example that
# tests/downstream/src/main.rs must equal.
set -euo pipefail
name=${1:?usage: readme-block.sh NAME}
cd "$(dirname "$0")/.."
out=$(awk -v m="<!-- block:$name -->" '
    $0 == m { found = 1; next }
    found && !inside && /^```/ { inside = 1; next }
    inside && /^```/ { exit }
    inside { print }
' README.md)
[ -n "$out" ] || { echo "README has no block:$name" >&2; exit 1; }
printf '%s\n' "$out"
