#!/usr/bin/env bash
# Start a throwaway PostgreSQL server for the tests and print the line that points them at it:
#   eval "$(scripts/postgres.sh)"   # sets SVDUTY_TEST_DATABASE_URL
# Installs Debian's postgresql when it is missing (as root), keeps the cluster in
# $SVDUTY_PG_DIR (default /tmp/svduty-pg-<uid>), listens on 127.0.0.1:$SVDUTY_PG_PORT (54329) with
# trust authentication (loopback only: for tests, never for real data) and reuses a running server.
# Messages go to stderr; only the export line goes to stdout.
set -euo pipefail
PORT="${SVDUTY_PG_PORT:-54329}"
DIR="${SVDUTY_PG_DIR:-/tmp/svduty-pg-$(id -u)}"
DB=svduty_test
URL="postgresql+psycopg://postgres@127.0.0.1:${PORT}/${DB}"
say() { echo "postgres.sh: $*" >&2; }

find_bin() {
  if command -v initdb >/dev/null 2>&1 && command -v pg_ctl >/dev/null 2>&1; then
    dirname "$(readlink -f "$(command -v pg_ctl)")"
    return
  fi
  local d
  d="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)"
  [ -n "$d" ] && [ -x "$d/initdb" ] && echo "$d"
}

BIN="$(find_bin || true)"
if [ -z "$BIN" ]; then
  if [ "$(id -u)" = 0 ]; then
    say "installing postgresql with apt-get..."
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
    BIN="$(find_bin || true)"
  fi
  if [ -z "$BIN" ]; then
    say "PostgreSQL is not installed (install Debian's postgresql); the postgres tests will skip"
    exit 3
  fi
fi

# The server refuses to run as root: run it as the postgres user then.
if [ "$(id -u)" = 0 ]; then
  id postgres >/dev/null 2>&1 || useradd --system --home-dir /var/lib/postgresql postgres
  as_owner() { runuser -u postgres -- "$@"; }
  OWNER=postgres
else
  as_owner() { "$@"; }
  OWNER="$(id -un)"
fi

if ! "$BIN/pg_isready" -q -h 127.0.0.1 -p "$PORT"; then
  mkdir -p "$DIR"
  chown "$OWNER" "$DIR"
  chmod 700 "$DIR"
  if [ ! -f "$DIR/PG_VERSION" ]; then
    say "initialising a throwaway cluster in $DIR"
    as_owner "$BIN/initdb" -D "$DIR" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 \
      >/dev/null
  fi
  say "starting PostgreSQL on 127.0.0.1:$PORT"
  as_owner "$BIN/pg_ctl" -D "$DIR" -l "$DIR/server.log" -w -t 60 \
    -o "-h 127.0.0.1 -p $PORT -k $DIR -c fsync=off -c synchronous_commit=off -c max_connections=200" \
    start >/dev/null
fi

PSQL=("$BIN/psql" -h 127.0.0.1 -p "$PORT" -U postgres -d postgres -v ON_ERROR_STOP=1 -qtA)
if [ "$("${PSQL[@]}" -c "SELECT 1 FROM pg_database WHERE datname = '$DB'")" != 1 ]; then
  "${PSQL[@]}" -c "CREATE DATABASE $DB" >/dev/null
fi
say "PostgreSQL ready: $URL"
echo "export SVDUTY_TEST_DATABASE_URL=$URL"
