#!/usr/bin/env bash
# Redirect load benchmark (wrk, from Debian's `wrk` package).
#
# Builds Lanterne and a baseline axum server that answers a constant 302
# (examples/baseline_redirect.rs), runs the same wrk load against both, and
# prints requests/s, latency and the ratio. Then it checks the click
# pipeline lost nothing: the clicks stored in PostgreSQL must equal the 3xx
# answers Lanterne sent (its lanterne_redirects_total counter); wrk's own
# 3xx count is printed too (it misses the few answers in flight when it stops).
#
# Usage: bench/redirect.sh [duration=20s] [connections=64] [threads=1]
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION=${1:-20s}
CONNS=${2:-64}
THREADS=${3:-1}
UA='Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1'

command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk; }
base=$(scripts/ensure-postgres.sh)
db="lanterne_bench_$$"
psql "$base" -qc "create database $db"
export DATABASE_URL="${base%/*}/$db?sslmode=disable"  # loopback: no TLS
cargo build --release --locked --bin lanterne --example baseline_redirect 2>&1 | tail -n 1

work=$(mktemp -d)
cleanup() {
  kill "${LPID:-}" "${BPID:-}" 2>/dev/null || true
  wait 2>/dev/null || true
  psql "$base" -qc "drop database if exists $db" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

target/release/examples/baseline_redirect 127.0.0.1:8180 & BPID=$!
LANTERNE_SERVER__PUBLIC_BASE_URL=http://127.0.0.1:8181 LANTERNE_CLICKS__SPOOL_DIR="$work/spool" \
  LANTERNE_LOG__LEVEL=warn target/release/lanterne serve --bind 127.0.0.1:8181 >"$work/out" & LPID=$!
for _ in $(seq 100); do grep -q '^lnt_' "$work/out" 2>/dev/null && break; sleep 0.1; done
token=$(grep '^lnt_' "$work/out")
slug=$(curl -sf -X POST http://127.0.0.1:8181/api/v1/links -H "Authorization: Bearer $token" \
  -H 'Content-Type: application/json' \
  -d '{"destination":"https://shop.example/p?id=7","utm":{"source":"whatsapp","medium":"social"}}' |
  python3 -c 'import json,sys; print(json.load(sys.stdin)["slug"])')

run() { # name url
  wrk -t"$THREADS" -c"$CONNS" -d"$DURATION" --latency -H "User-Agent: $UA" "$2" >"$work/$1.txt"
  local rps p50 p99 total bad
  rps=$(awk '/^Requests\/sec/ {print $2}' "$work/$1.txt")
  p50=$(awk '$1 == "50%" {print $2}' "$work/$1.txt")
  p99=$(awk '$1 == "99%" {print $2}' "$work/$1.txt")
  total=$(awk '/requests in/ {print $1}' "$work/$1.txt")
  bad=$(awk '/Non-2xx or 3xx/ {print $NF}' "$work/$1.txt"); bad=${bad:-0}
  printf '%-9s %10s req/s   p50 %8s   p99 %8s   responses %s (non-2xx/3xx: %s)\n' "$1" "$rps" "$p50" "$p99" "$total" "$bad"
  eval "${1}_rps=$rps; ${1}_total=$total; ${1}_bad=$bad"
}

echo "wrk -t$THREADS -c$CONNS -d$DURATION, $(nproc) cores shared by wrk and the server"
run baseline "http://127.0.0.1:8180/$slug"
run lanterne "http://127.0.0.1:8181/$slug"
awk -v l="$lanterne_rps" -v b="$baseline_rps" 'BEGIN { printf "ratio     %.1f %% of the baseline (target: >= 80 %%)\n", 100 * l / b }'

# Let the writer finish, then compare stored clicks with redirects answered.
served=0
for _ in $(seq 100); do
  served=$(curl -sf http://127.0.0.1:8181/metrics | awk -F' ' '/^lanterne_redirects_total\{status="302"\}/ {print $2}')
  stored=$(psql "$DATABASE_URL" -tAc 'select count(*) from clicks')
  [ "$stored" = "${served:-0}" ] && break
  sleep 0.2
done
wrk_3xx=$((lanterne_total - lanterne_bad))
echo "clicks    stored $stored, redirects answered $served, 3xx seen by wrk $wrk_3xx"
if [ "$stored" = "$served" ]; then echo "lost      0 clicks"; else echo "MISMATCH: $((served - stored)) clicks missing"; exit 1; fi
