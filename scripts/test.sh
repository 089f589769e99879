#!/usr/bin/env bash
# The test command: provisions PostgreSQL when needed, then runs every test
# (unit tests, the `it` integration binary against real PostgreSQL, doc tests).
set -euo pipefail
cd "$(dirname "$0")/.."
DATABASE_URL=$(scripts/ensure-postgres.sh)
export DATABASE_URL
echo "tests use $(echo "$DATABASE_URL" | sed -E 's#//[^@/]*@#//***@#')" >&2
cargo test --all-targets --locked "$@"
