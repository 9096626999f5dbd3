#!/usr/bin/env bash
# Prints the README quickstart command marked `<!-- quickstart:NAME -->`
# (the first `cargo` line of the fenced block after the marker).
set -euo pipefail
name=${1:?usage: readme-command.sh run|test}
cd "$(dirname "$0")/.."
cmd=$(awk -v m="<!-- quickstart:$name -->" '
    $0 == m { found = 1; next }
    found && /^cargo / { print; exit }
' README.md)
[ -n "$cmd" ] || { echo "README has no quickstart:$name command" >&2; exit 1; }
echo "$cmd"
