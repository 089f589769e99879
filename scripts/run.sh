#!/usr/bin/env bash
# The run command: provisions PostgreSQL when DATABASE_URL is unset, creates
# the `lanterne` database, builds and starts the server. On the first start
# it prints an admin API token. Extra arguments go to `lanterne serve`.
# The binary is found where cargo puts it (CARGO_TARGET_DIR, or the
# target-dir of a cargo config, is honoured), and its path is printed so
# that the command-line tools (`lanterne user add`, ...) can be run from
# another shell.
set -euo pipefail
cd "$(dirname "$0")/.."
provisioned=
if [ -z "${DATABASE_URL:-}" ]; then
  base=$(scripts/ensure-postgres.sh)
  if ! psql "$base" -tAc "select 1 from pg_database where datname = 'lanterne'" | grep -q 1; then
    psql "$base" -qc "create database lanterne" >&2
  fi
  export DATABASE_URL="${base%/*}/lanterne"
  provisioned=1
fi
cargo build --release --locked --bin lanterne

# Ask cargo where its target directory is: one line of JSON, read with sed
# so that neither jq nor python is needed.
target_dir=$(cargo metadata --format-version 1 --no-deps --locked |
  sed -n 's/.*"target_directory":"\([^"]*\)".*/\1/p')
bin="${target_dir:-target}/release/lanterne"
if [ ! -x "$bin" ]; then
  echo "run.sh: the build succeeded but $bin is missing" >&2
  exit 1
fi

{
  echo "run.sh: the lanterne binary is $bin"
  echo "run.sh: command-line tools from another shell, e.g.:"
  if [ -n "$provisioned" ]; then
    # A local throw-away or trust-auth server: the URL holds no secret.
    echo "          DATABASE_URL=$DATABASE_URL $bin token create --email admin@localhost"
  else
    echo "          $bin token create --email admin@localhost   (with the same DATABASE_URL)"
  fi
  echo "run.sh: or put it on your PATH with: cargo install --locked --path ."
} >&2
exec "$bin" serve "$@"
