#!/usr/bin/env bash
# Prints a PostgreSQL URL whose role may create databases, provisioning a
# server if needed (logs go to stderr, the URL alone to stdout):
#   1. $DATABASE_URL when set;
#   2. otherwise a server already answering on 127.0.0.1:5432 as `postgres`;
#   3. otherwise a throw-away cluster (initdb + pg_ctl, trust auth, 127.0.0.1)
#      under ${LANTERNE_PG_DIR:-/tmp/lanterne-pg}, installing Debian's
#      `postgresql` package first when its binaries are missing.
set -euo pipefail
log() { echo "ensure-postgres: $*" >&2; }

if [ -n "${DATABASE_URL:-}" ]; then
  echo "$DATABASE_URL"
  exit 0
fi

answers() { # host port
  if command -v pg_isready >/dev/null 2>&1; then
    pg_isready -q -h "$1" -p "$2" -U postgres -t 2
  else
    (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null
  fi
}

if answers 127.0.0.1 5432 && command -v psql >/dev/null 2>&1 \
   && psql -h 127.0.0.1 -U postgres -d postgres -tAc 'select 1' >/dev/null 2>&1; then
  echo "postgres://postgres@127.0.0.1:5432/postgres"
  exit 0
fi

pg_bin() {
  local d
  d=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
  [ -n "$d" ] && [ -x "$d/initdb" ] && echo "$d"
}

bin=$(pg_bin || true)
if [ -z "$bin" ]; then
  log "installing PostgreSQL from Debian packages"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2
  apt-get install -y -qq postgresql >&2
  bin=$(pg_bin)
fi

dir=${LANTERNE_PG_DIR:-/tmp/lanterne-pg}
# initdb refuses to run as root: run the cluster as the postgres user.
as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }

if [ -f "$dir/PG_VERSION" ] && as_pg "$bin/pg_ctl" -D "$dir" status >/dev/null 2>&1; then
  # Started by an earlier run: reuse it, on the port it listens on.
  port=$(sed -n 4p "$dir/postmaster.pid")
else
  port=${LANTERNE_PG_PORT:-5432}
  if answers 127.0.0.1 "$port"; then port=55432; fi
  if [ ! -f "$dir/PG_VERSION" ]; then
    log "creating a throw-away cluster in $dir"
    mkdir -p "$dir"
    if [ "$(id -u)" = 0 ]; then chown postgres:postgres "$dir"; fi
    as_pg "$bin/initdb" -D "$dir" -U postgres --auth=trust -E UTF8 >&2
  fi
  log "starting it on 127.0.0.1:$port"
  as_pg "$bin/pg_ctl" -D "$dir" -l "$dir/server.log" -w \
    -o "-p $port -c listen_addresses=127.0.0.1 -k /tmp -c max_connections=300" start >&2
fi
echo "postgres://postgres@127.0.0.1:$port/postgres"
