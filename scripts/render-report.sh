#!/usr/bin/env bash
# Renders an mlops HTML report headless and saves a PNG screenshot, to check
# by eye that a report displays with no network access.
#
#   scripts/render-report.sh REPORT.html [OUT.png]
#
# Needs Chromium (Debian: `apt-get install -y chromium`); installs it when
# missing and apt-get is available. Not part of CI: the reports' structure is
# tested in mlops-core (report::) and mlops-cli/tests/report_cli.rs.
set -euo pipefail
html=${1:?usage: scripts/render-report.sh REPORT.html [OUT.png]}
png=${2:-${html%.html}.png}
if ! command -v chromium >/dev/null; then
    apt-get install -y chromium >/dev/null
fi
# --no-sandbox: containers usually lack the namespaces the sandbox needs.
chromium --headless --no-sandbox --disable-gpu \
    --window-size=1100,1600 --screenshot="$png" "file://$(realpath "$html")" 2>/dev/null
echo "wrote $png"
