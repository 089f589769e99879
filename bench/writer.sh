#!/usr/bin/env bash
# Click writer throughput with rollups on: `lanterne seed-clicks` writes
# synthetic requests through `clicks::store::write_batch`, the writer's own
# storage path (ledger, binary COPY of the clicks, visitor_days, the four
# rollup tables, share events, the bot/prefetch ledger), so its rate is the
# writer's clicks/s with rollups. Each round seeds one link of COUNT requests
# over DAYS days into a fresh database; prints each round's rate, the median
# and the load average when the round started (the machine may be shared).
#
# Usage: [COUNTS="1000000 10000000"] [ROUNDS=3] [DAYS=90] bench/writer.sh
set -euo pipefail
cd "$(dirname "$0")/.."
COUNTS=${COUNTS:-"1000000 10000000"}
ROUNDS=${ROUNDS:-3}
DAYS=${DAYS:-90}

base=$(scripts/ensure-postgres.sh)
cargo build --release --locked --bin lanterne 2>&1 | tail -n 1
bin=$(cargo metadata --format-version 1 --no-deps | jq -r .target_directory)/release/lanterne
export LANTERNE_CLICKS__SPOOL_DIR="$(mktemp -d)"
db=""
cleanup() { [ -z "$db" ] || psql "$base" -qc "drop database if exists $db" || true; }
trap cleanup EXIT

for n in $COUNTS; do
  rates=()
  for round in $(seq "$ROUNDS"); do
    db="lanterne_writer_$$_$round"
    psql "$base" -qc "create database $db"
    export DATABASE_URL="${base%/*}/$db?sslmode=disable"
    "$bin" migrate 2>/dev/null
    id=$(psql "$DATABASE_URL" -Atqc "with d as (insert into domains (host) values ('bench.example') returning id) \
      insert into links (domain_id, slug, slug_kind, destination, utm_campaign) \
      select id, 'w$round', 'custom', 'https://shop.example/w', 'bench' from d returning id")
    load=$(cut -d' ' -f1-3 /proc/loadavg)
    line=$("$bin" seed-clicks --link-id "$id" --count "$n" --days "$DAYS" 2>&1 | tail -n 1)
    rate=$(sed -E 's/.*\(([0-9]+) requests\/s.*/\1/' <<<"$line")
    rates+=("$rate")
    echo "$n requests, round $round: $rate requests/s (load average at start $load)"
    psql "$base" -qc "drop database $db"
    db=""
  done
  median=$(printf '%s\n' "${rates[@]}" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
  echo "$n requests: median $median requests/s of $ROUNDS rounds"
done
