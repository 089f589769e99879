#!/usr/bin/env bash
# The run command: provisions PostgreSQL when DATABASE_URL is unset, creates
# the `lanterne` database, builds and starts the server. On the first start
# it prints an admin API token. Extra arguments go to `lanterne serve`.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -z "${DATABASE_URL:-}" ]; then
  base=$(scripts/ensure-postgres.sh)
  if ! psql "$base" -tAc "select 1 from pg_database where datname = 'lanterne'" | grep -q 1; then
    psql "$base" -qc "create database lanterne" >&2
  fi
  export DATABASE_URL="${base%/*}/lanterne"
fi
cargo build --release --locked
exec target/release/lanterne serve "$@"
