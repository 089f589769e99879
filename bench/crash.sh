#!/usr/bin/env bash
# Crash loss benchmark: for each `clicks.durability` setting, runs wrk
# against the release binary, kill -9s the server in the middle of the load,
# restarts it on the same spool directory, waits for the replay, and prints
# the 3xx answered (wrk's count) against the clicks stored, and the loss
# window: lost / rate, in ms of load.
#
# Usage: [SETTINGS="batch spool"] [SPLIT=1] bench/crash.sh [seconds-before-kill=5] [connections=64] [threads=1]
set -euo pipefail
cd "$(dirname "$0")/.."
BEFORE=${1:-5}
CONNS=${2:-64}
THREADS=${3:-1}
SETTINGS=${SETTINGS:-batch spool}
UA='Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1'

command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk; }
base=$(scripts/ensure-postgres.sh)
cargo build --release --locked --bin lanterne 2>&1 | tail -n 1

PIN=()
if [ "${SPLIT:-0}" = 1 ]; then
  last=$(($(nproc) - 1))
  if [ "$last" -eq 1 ]; then PIN=(taskset -c 0); else PIN=(taskset -c "0-$((last - 1))"); fi
fi

work=$(mktemp -d)
db=""
cleanup() {
  kill -9 "${LPID:-}" 2>/dev/null || true
  wait 2>/dev/null || true
  [ -n "$db" ] && psql "$base" -qc "drop database if exists $db" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

serve() { # durability
  LANTERNE_SERVER__PUBLIC_BASE_URL=http://127.0.0.1:8182 LANTERNE_CLICKS__SPOOL_DIR="$work/spool" \
    LANTERNE_CLICKS__DURABILITY="$1" LANTERNE_LOG__LEVEL=warn \
    "${PIN[@]}" target/release/lanterne serve --bind 127.0.0.1:8182 >>"$work/out" 2>>"$work/err" & LPID=$!
  for _ in $(seq 100); do curl -sf http://127.0.0.1:8182/healthz >/dev/null && return; sleep 0.1; done
  echo "lanterne did not start" >&2; cat "$work/err" >&2; exit 1
}

echo "wrk -t$THREADS -c$CONNS, kill -9 after ${BEFORE}s; load average: $(cut -d' ' -f1-3 /proc/loadavg)"
for setting in $SETTINGS; do
  [ -n "$db" ] && psql "$base" -qc "drop database if exists $db" >/dev/null
  db="lanterne_crash_$$_$setting"
  psql "$base" -qc "create database $db"
  export DATABASE_URL="${base%/*}/$db?sslmode=disable"
  rm -rf "$work/spool"; : >"$work/out"
  serve "$setting"
  token=$(grep -o 'lnt_[A-Za-z0-9_-]*' "$work/out" | head -n 1)
  slug=$(curl -sf -X POST http://127.0.0.1:8182/api/v1/links -H "Authorization: Bearer $token" \
    -H 'Content-Type: application/json' -d '{"destination":"https://shop.example/"}' |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["slug"])')
  "${PIN[@]}" wrk -t"$THREADS" -c"$CONNS" -d"$((BEFORE + 2))s" -H "User-Agent: $UA" \
    "http://127.0.0.1:8182/$slug" >"$work/wrk.txt" 2>&1 & wpid=$!
  sleep "$BEFORE"
  kill -9 "$LPID"; wait "$LPID" 2>/dev/null || true
  wait "$wpid" || true
  answered=$(awk '/requests in/ {print $1}' "$work/wrk.txt")
  bad=$(awk '/Non-2xx or 3xx/ {print $NF}' "$work/wrk.txt"); bad=${bad:-0}
  answered=$((answered - bad))
  serve "$setting"
  stored=-1
  for _ in $(seq 300); do
    now=$(psql "$DATABASE_URL" -tAc 'select count(*) from clicks')
    left=$(find "$work/spool" -maxdepth 1 -name '*.jsonl' | wc -l)
    [ "$now" = "$stored" ] && [ "$left" = 0 ] && break
    stored=$now
    sleep 0.5
  done
  kill "$LPID"; wait "$LPID" 2>/dev/null || true
  dups=$(psql "$DATABASE_URL" -tAc 'select count(*) - count(distinct id) from clicks')
  awk -v s="$setting" -v a="$answered" -v st="$stored" -v t="$BEFORE" -v d="$dups" 'BEGIN {
    rate = a / t; lost = a - st
    printf "%-6s answered %d, stored %d, lost %d (%.0f req/s): loss window %.1f ms; stored twice: %d\n",
      s, a, st, lost, rate, 1000 * lost / rate, d }'
done
