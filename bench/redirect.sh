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
# It also prints where the CPU went: microseconds of CPU per request spent by
# the server under test, by PostgreSQL (all its processes) and by wrk, read
# from /proc. On a machine where all three share the cores, the requests/s
# ratio is set by these sums, so they say what a change really saved; there it
# also prints the ceiling that PostgreSQL's CPU per click puts on the ratio of
# any server that stores every click, however cheap the server itself.
#
# With SPLIT=1, PostgreSQL is pinned to the last core and wrk and the servers
# to the others (taskset), as if the database ran on a host of its own; the
# affinity of PostgreSQL's processes is restored at exit.
#
# BENCH_BIN=path runs that binary instead of the one built here, to compare
# two commits on one machine: build each, copy its target/release/lanterne
# aside, run the script with each in turn. (Not LANTERNE_BIN: every
# LANTERNE_* variable is a setting, and an unknown one stops the server.)
#
# Usage: [SPLIT=1] [ROUNDS=n] [BENCH_BIN=path] bench/redirect.sh [duration=20s] [connections=64] [threads=1]
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

PIN=()
pg_mask=""
if [ "${SPLIT:-0}" = 1 ]; then
  last=$(($(nproc) - 1))
  [ "$last" -ge 1 ] || { echo "SPLIT=1 needs at least 2 cores" >&2; exit 2; }
  command -v taskset >/dev/null || { echo "SPLIT=1 needs taskset (util-linux)" >&2; exit 2; }
  postmaster=$(pgrep -xo postgres)
  pg_mask=$(taskset -p "$postmaster" | awk '{print $NF}')
  # New backends inherit the postmaster's affinity.
  for p in $(pgrep -x postgres); do taskset -p -c "$last" "$p" >/dev/null; done
  if [ "$last" -eq 1 ]; then PIN=(taskset -c 0); else PIN=(taskset -c "0-$((last - 1))"); fi
fi

work=$(mktemp -d)
cleanup() {
  if [ -n "$pg_mask" ]; then
    for p in $(pgrep -x postgres); do taskset -p "$pg_mask" "$p" >/dev/null 2>&1 || true; done
  fi
  kill "${LPID:-}" "${BPID:-}" 2>/dev/null || true
  wait 2>/dev/null || true
  psql "$base" -qc "drop database if exists $db" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

"${PIN[@]}" target/release/examples/baseline_redirect 127.0.0.1:8180 & BPID=$!
LANTERNE_SERVER__PUBLIC_BASE_URL=http://127.0.0.1:8181 LANTERNE_CLICKS__SPOOL_DIR="$work/spool" \
  LANTERNE_LOG__LEVEL=warn "${PIN[@]}" "${BENCH_BIN:-target/release/lanterne}" serve --bind 127.0.0.1:8181 >"$work/out" & LPID=$!
for _ in $(seq 100); do grep -q 'API token: lnt_' "$work/out" 2>/dev/null && break; sleep 0.1; done
token=$(grep -o 'lnt_[A-Za-z0-9_-]*' "$work/out" | head -n 1)
for _ in $(seq 100); do curl -fs http://127.0.0.1:8181/readyz >/dev/null 2>&1 && break; sleep 0.1; done
slug=$(curl -sf -X POST http://127.0.0.1:8181/api/v1/links -H "Authorization: Bearer $token" \
  -H 'Content-Type: application/json' \
  -d '{"destination":"https://shop.example/p?id=7","utm":{"source":"whatsapp","medium":"social"}}' |
  python3 -c 'import json,sys; print(json.load(sys.stdin)["slug"])')

ticks() { # pid... -> CPU ticks (user + system) of those still alive
  local t=0 p
  for p in "$@"; do
    [ -r "/proc/$p/stat" ] && t=$((t + $(awk '{print $14 + $15}' "/proc/$p/stat" 2>/dev/null || echo 0)))
  done
  echo "$t"
}

run() { # name url server-pid
  local pg_before pg_pids srv0 srv1 wrk0 wrk1 pg0 pg1 wpid hz
  hz=$(getconf CLK_TCK)
  pg_before=$(pgrep -x postgres | tr '\n' ' ')
  pg0=$(ticks $pg_before); srv0=$(ticks "$3")
  "${PIN[@]}" wrk -t"$THREADS" -c"$CONNS" -d"$DURATION" --latency -H "User-Agent: $UA" "$2" >"$work/$1.txt" &
  wpid=$!; wrk0=0; wrk1=0
  # Sampled while it runs (bash reaps it as soon as it exits); keep the last reading.
  local t
  while kill -0 "$wpid" 2>/dev/null; do
    t=$(ticks "$wpid"); [ "$t" -gt "$wrk1" ] && wrk1=$t
    sleep 0.1
  done
  wait "$wpid"
  sleep 2 # the click writer finishes its last batches
  # Backends that started during the run count from zero.
  pg_pids=$(pgrep -x postgres | tr '\n' ' ')
  pg1=$(ticks $pg_pids); srv1=$(ticks "$3")
  local rps p50 p99 total bad
  rps=$(awk '/^Requests\/sec/ {print $2}' "$work/$1.txt")
  p50=$(awk '$1 == "50%" {print $2}' "$work/$1.txt")
  p99=$(awk '$1 == "99%" {print $2}' "$work/$1.txt")
  total=$(awk '/requests in/ {print $1}' "$work/$1.txt")
  bad=$(awk '/Non-2xx or 3xx/ {print $NF}' "$work/$1.txt"); bad=${bad:-0}
  printf '%-9s %10s req/s   p50 %8s   p99 %8s   responses %s (non-2xx/3xx: %s)\n' "$1" "$rps" "$p50" "$p99" "$total" "$bad"
  local cpu
  cpu=$(awk -v n="$total" -v hz="$hz" -v s=$((srv1 - srv0)) -v p=$((pg1 - pg0)) -v w=$((wrk1 - wrk0)) 'BEGIN {
    printf "%.2f %.2f %.2f", s / hz / n * 1e6, p / hz / n * 1e6, w / hz / n * 1e6 }')
  set -- "$1" $cpu
  printf '          CPU per request: server %s us, postgres %s us, wrk %s us\n' "$2" "$3" "$4"
  eval "${1}_rps=$rps; ${1}_total=$total; ${1}_bad=$bad; ${1}_srv=$2; ${1}_pg=$3; ${1}_wrk=$4"
}

if [ "${#PIN[@]}" -gt 0 ]; then
  echo "wrk -t$THREADS -c$CONNS -d$DURATION; wrk and the servers on cores ${PIN[2]}, PostgreSQL alone on core $last"
else
  echo "wrk -t$THREADS -c$CONNS -d$DURATION, $(nproc) cores shared by wrk, the servers and PostgreSQL"
fi
# ROUNDS=n alternates the two servers n times and reports the medians: the
# ratio of one run moves by several points on a busy or virtual machine.
ROUNDS=${ROUNDS:-1}
b_all=(); l_all=(); l_wrk_3xx=0
for round in $(seq "$ROUNDS"); do
  [ "$ROUNDS" -gt 1 ] && echo "round $round/$ROUNDS"
  run baseline "http://127.0.0.1:8180/$slug" "$BPID"
  run lanterne "http://127.0.0.1:8181/$slug" "$LPID"
  awk -v l="$lanterne_rps" -v b="$baseline_rps" 'BEGIN { printf "ratio     %.1f %% of the baseline (target: >= 80 %%)\n", 100 * l / b }'
  if [ "${#PIN[@]}" -eq 0 ]; then
    # All three share the cores, so req/s follows the CPU spent per request.
    # Storing a click costs PostgreSQL CPU the baseline never spends: even a
    # server as cheap as the baseline would be held to this ratio.
    awk -v bs="$baseline_srv" -v bw="$baseline_wrk" -v p="$lanterne_pg" 'BEGIN {
      printf "ceiling   %.1f %%: a server as cheap as the baseline, once PostgreSQL spends %.2f us per click on the same cores\n", 100 * (bs + bw) / (bs + bw + p), p }'
  fi
  b_all+=("$baseline_rps"); l_all+=("$lanterne_rps")
  l_wrk_3xx=$((l_wrk_3xx + lanterne_total - lanterne_bad))
done
if [ "$ROUNDS" -gt 1 ]; then
  median() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
  bm=$(median "${b_all[@]}"); lm=$(median "${l_all[@]}")
  awk -v l="$lm" -v b="$bm" -v n="$ROUNDS" 'BEGIN { printf "median    baseline %.0f req/s, lanterne %.0f req/s over %d rounds: %.1f %% of the baseline\n", b, l, n, 100 * l / b }'
fi

# Let the writer finish, then compare stored clicks with redirects answered.
served=0
for _ in $(seq 100); do
  served=$(curl -sf http://127.0.0.1:8181/metrics | awk -F' ' '/^lanterne_redirects_total\{status="302"\}/ {print $2}')
  stored=$(psql "$DATABASE_URL" -tAc 'select count(*) from clicks')
  [ "$stored" = "${served:-0}" ] && break
  sleep 0.2
done
echo "clicks    stored $stored, redirects answered $served, 3xx seen by wrk $l_wrk_3xx"
if [ "$stored" = "$served" ]; then echo "lost      0 clicks"; else echo "MISMATCH: $((served - stored)) clicks missing"; exit 1; fi
