#!/usr/bin/env bash
# Dashboard read benchmark: cost must follow the time range, not the clicks.
#
# Seeds links with 10 k, 1 M and 10 M requests over 90 days with
# `lanterne seed-clicks` (the writer's storage path, rollups included, so the
# seeding rate is the writer's clicks/s with rollups), then times
# GET /api/v1/stats for each link over 90 days and over 7 days, and the
# workspace overview (every link). Prints p50/p95 of ROUNDS requests each
# (curl's time_total on loopback: server time plus a few tens of µs).
# Targets (issue 11): the 10 M link over 90 days under 50 ms at p95, and at
# most 3× the 10 k link; the workspace overview under 100 ms.
# With WORKSPACE=1 it also seeds 100 links of 100 k each (10 M in all, in
# one seed-clicks run that interleaves the links in time, as real traffic
# arrives) and times the overview over them and the stats of one of them.
#
# Usage: [SIZES="10000 1000000 10000000"] [ROUNDS=40] [WORKSPACE=1] bench/dashboard.sh
set -euo pipefail
cd "$(dirname "$0")/.."
SIZES=${SIZES-"10000 1000000 10000000"}
ROUNDS=${ROUNDS:-40}
PORT=${PORT:-18093}

base=$(scripts/ensure-postgres.sh)
db="lanterne_dashboard_$$"
psql "$base" -qc "create database $db"
export DATABASE_URL="${base%/*}/$db?sslmode=disable"
export LANTERNE_SERVER__BIND="127.0.0.1:$PORT"
export LANTERNE_SERVER__PUBLIC_BASE_URL="http://127.0.0.1:$PORT"
export LANTERNE_CLICKS__SPOOL_DIR="$(mktemp -d)"
cargo build --release --locked --bin lanterne 2>&1 | tail -n 1
bin=$(cargo metadata --format-version 1 --no-deps | jq -r .target_directory)/release/lanterne

"$bin" migrate 2>/dev/null
"$bin" user add --email bench@example.com --role admin --password bench-password-1 2>/dev/null
token=$("$bin" token create --email bench@example.com)
"$bin" serve >"$LANTERNE_CLICKS__SPOOL_DIR/serve.log" 2>&1 &
server=$!
cleanup() {
  kill "$server" 2>/dev/null || true
  wait "$server" 2>/dev/null || true
  psql "$base" -qc "drop database if exists $db" || true
}
trap cleanup EXIT
api="http://127.0.0.1:$PORT/api/v1"
for _ in $(seq 100); do curl -fs "http://127.0.0.1:$PORT/readyz" >/dev/null && break; sleep 0.1; done

new_link() {
  curl -fs -H "authorization: Bearer $token" -H 'content-type: application/json' \
    -d "{\"destination\": \"https://shop.example/$1\", \"utm\": {\"campaign\": \"bench\"}}" "$api/links" | jq -r .id
}

seed() { # link[,link...] count -> prints the seeding line (requests/s)
  "$bin" seed-clicks --link-id "$1" --count "$2" --days 90 2>&1 | tail -n 1
}

# p50 and p95 in ms of ROUNDS requests to a URL (after one warm-up): an
# API URL with the token, a page (path starting with /links, /campaigns, /?)
# with the session cookie of a signed-in user.
jar="$LANTERNE_CLICKS__SPOOL_DIR/cookies"
curl -fs -o /dev/null -c "$jar" --data-urlencode email=bench@example.com \
  --data-urlencode password=bench-password-1 --data-urlencode next=/ "http://127.0.0.1:$PORT/login"
timed() {
  local auth=(-H "authorization: Bearer $token")
  case "$1" in "$api"*) ;; *) auth=(-b "$jar") ;; esac
  curl -fs -o /dev/null "${auth[@]}" "$1"
  for _ in $(seq "$ROUNDS"); do
    curl -fs -o /dev/null -w '%{time_total}\n' "${auth[@]}" "$1"
  done | sort -n | awk '{a[NR]=$1} END {printf "p50 %6.1f ms  p95 %6.1f ms", a[int(NR*0.5)]*1000, a[int(NR*0.95)]*1000}'
}
site="http://127.0.0.1:$PORT"

from90=$(date -u -d '-90 days' +%F)
from7=$(date -u -d '-7 days' +%F)
for n in $SIZES; do
  id=$(new_link "n$n")
  echo "link $id, $n requests: $(seed "$id" "$n")"
  # Fresh statistics for the planner, as autovacuum would give them (a link
  # the statistics have never seen is planned as one row: see docs/stats.md).
  psql "$DATABASE_URL" -qc analyze
  for range in 90 7; do
    from=$([ "$range" = 90 ] && echo "$from90" || echo "$from7")
    echo "  stats, $range days: $(timed "$api/stats?link_id=$id&from=$from")"
    echo "  page,  $range days: $(timed "$site/links/$id?from=$from")"
    # A filter on one dimension (exact from the rollups; other tables within
    # stats.raw_budget or left out): "partial" says which.
    partial=$(curl -fs -H "authorization: Bearer $token" "$api/stats?link_id=$id&from=$from&country=FR" | jq .partial)
    echo "  stats, $range days, country=FR: $(timed "$api/stats?link_id=$id&from=$from&country=FR") (partial: $partial)"
  done
done
if [ "${WORKSPACE:-0}" = 1 ]; then
  ids=$(for i in $(seq 100); do new_link "w$i"; done | paste -sd, -)
  echo "100 more links, 10000000 requests: $(seed "$ids" 10000000)"
  psql "$DATABASE_URL" -qc analyze
  one=${ids%%,*}
  echo "  one of them (100000 requests), 90 days: $(timed "$api/stats?link_id=$one&from=$from90")"
fi
echo "workspace overview, 90 days: $(timed "$api/stats?from=$from90")"
echo "  page /, 90 days:           $(timed "$site/?from=$from90")"
echo "workspace overview, 7 days:  $(timed "$api/stats?from=$from7")"
echo "  page /, 7 days:            $(timed "$site/?from=$from7")"
echo "(figures from a shared machine are noisy; compare runs on the same host)"
