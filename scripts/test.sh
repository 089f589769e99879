#!/usr/bin/env bash
# The test command: provisions PostgreSQL when needed, then runs every test
# (unit tests, the `it` integration binary against real PostgreSQL, doc tests).
# Each integration test creates its own database (lanterne_test_*); they are
# dropped when the run ends, along with any left by an interrupted run.
set -euo pipefail
cd "$(dirname "$0")/.."
DATABASE_URL=$(scripts/ensure-postgres.sh)
scripts/ensure-browser.sh
export DATABASE_URL
echo "tests use $(echo "$DATABASE_URL" | sed -E 's#//[^@/]*@#//***@#')" >&2

drop_test_databases() {
  local db
  for db in $(psql "$DATABASE_URL" -tAc "select datname from pg_database where datname like 'lanterne\_test\_%'" 2>/dev/null); do
    # A database still in use (another run) refuses to go; leave it.
    psql "$DATABASE_URL" -qc "drop database if exists \"$db\"" >/dev/null 2>&1 || true
  done
}
drop_test_databases
trap drop_test_databases EXIT
cargo test --all-targets --locked "$@"
