#!/usr/bin/env bash
# Throwaway PostgreSQL for the store tests: `start` prints an export line for
# MLOPS_TEST_POSTGRES_URL; `stop` ends it. Installs postgresql when missing.
set -euo pipefail
DIR=${MLOPS_PG_DIR:-/tmp/mlops-pg}
PORT=${MLOPS_PG_PORT:-54329}
case "${1:-}" in
start)
    if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
        apt-get update >/dev/null && apt-get install -y postgresql >/dev/null
    fi
    BIN=$(dirname "$(ls /usr/lib/postgresql/*/bin/initdb | tail -1)")
    rm -rf "$DIR" && mkdir -p "$DIR" && chown postgres "$DIR"
    runuser -u postgres -- "$BIN/initdb" -D "$DIR/data" -A trust -U postgres >/dev/null
    runuser -u postgres -- "$BIN/pg_ctl" -D "$DIR/data" -o "-p $PORT -k /tmp -c listen_addresses=127.0.0.1" -l "$DIR/log" -w start >/dev/null
    echo "export MLOPS_TEST_POSTGRES_URL=postgres://postgres@127.0.0.1:$PORT/postgres"
    ;;
stop)
    BIN=$(dirname "$(ls /usr/lib/postgresql/*/bin/pg_ctl | tail -1)")
    runuser -u postgres -- "$BIN/pg_ctl" -D "$DIR/data" -m fast stop >/dev/null || true
    ;;
*) echo "usage: $0 start|stop" >&2; exit 2 ;;
esac
