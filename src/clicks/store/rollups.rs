//! The SQL of `click_rollups` and `visitor_days`: the human rows a batch adds
//! (inside the batch's transaction, so exactly-once with it), the daily
//! visitor ledger, its pruning, and the rebuild from raw tables. Previews,
//! bots and prefetches are rolled up by their own statements in `store.rs`.

use std::collections::HashMap;

use sqlx::{PgConnection, PgPool};
use time::{Date, OffsetDateTime};

use crate::clicks::{
    ClickRecord,
    rollup::{self, RollupRow},
    visitor,
};

/// The conflict clause of a rollup upsert: events and visitors add up.
/// `add_on_conflict!()` for `click_rollups`, `add_on_conflict!(daily)` for
/// `click_rollups_daily`, `(workspace)` and `(workspace_daily)` for the
/// workspace-wide tables.
macro_rules! add_on_conflict {
    () => {
        " on conflict (link_id, dimension, hour, kind, channel, value) do update set \
         events = click_rollups.events + excluded.events, \
         visitors = click_rollups.visitors + excluded.visitors"
    };
    (daily) => {
        " on conflict (link_id, dimension, day, kind, channel, value) do update set \
         events = click_rollups_daily.events + excluded.events, \
         visitors = click_rollups_daily.visitors + excluded.visitors"
    };
    (workspace) => {
        " on conflict (dimension, hour, kind, channel, value) do update set \
         events = workspace_rollups.events + excluded.events, \
         visitors = workspace_rollups.visitors + excluded.visitors"
    };
    (workspace_daily) => {
        " on conflict (dimension, day, kind, channel, value) do update set \
         events = workspace_rollups_daily.events + excluded.events, \
         visitors = workspace_rollups_daily.visitors + excluded.visitors"
    };
}
pub(crate) use add_on_conflict;

/// The CTE that adds the human `all` rows of `r` (link, h, ch, dim, val, ev,
/// vis) to `link_days`, one row per link and UTC day: written after the
/// rollups' CTEs, in the same statement.
macro_rules! add_link_days {
    () => {
        "), link_days as (insert into link_days (link_id, day, clicks, visitors) \
         select link, (h at time zone 'UTC')::date, sum(ev), sum(vis) from r where dim = 'all' \
         group by 1, 2 order by 1, 2 \
         on conflict (link_id, day) do update set clicks = link_days.clicks + excluded.clicks, \
         visitors = link_days.visitors + excluded.visitors"
    };
}
pub(crate) use add_link_days;

/// Rolls up a batch's human clicks: finds which are their visitor's first of
/// the UTC day on the link (the `visitor_days` ledger), folds them and adds
/// the rows. Returns the rollup rows touched.
pub async fn add_humans(
    conn: &mut PgConnection,
    clicks: &[&ClickRecord],
) -> Result<u64, sqlx::Error> {
    if clicks.is_empty() {
        return Ok(0);
    }
    let first_visit = first_visits(conn, clicks).await?;
    let rows = rollup::fold(clicks, &first_visit);
    upsert(conn, &rows).await?;
    Ok(rows.len() as u64)
}

type VisitorKey = (i64, Date, [u8; visitor::HASH_BYTES]);

/// Whether each click is its visitor's first of the day on its link: the
/// earliest of the batch whose (link, day, hash) the ledger did not have.
async fn first_visits(
    conn: &mut PgConnection,
    clicks: &[&ClickRecord],
) -> Result<Vec<bool>, sqlx::Error> {
    let mut earliest: HashMap<VisitorKey, usize, foldhash::fast::RandomState> = HashMap::default();
    for (i, r) in clicks.iter().enumerate() {
        let Some(hash) = r.attribution.visitor_hash else {
            continue;
        };
        let key = (r.link_id, r.occurred_at.date(), hash);
        earliest
            .entry(key)
            .and_modify(|j| {
                if clicks[*j].occurred_at > r.occurred_at {
                    *j = i;
                }
            })
            .or_insert(i);
    }
    let mut first = vec![false; clicks.len()];
    if earliest.is_empty() {
        return Ok(first);
    }
    // The hash covers the link and the day: its first 8 bytes are the key.
    let mut by_key: HashMap<i64, usize, foldhash::fast::RandomState> = HashMap::default();
    let mut keys = Vec::with_capacity(earliest.len());
    for (&(_, day, hash), &i) in &earliest {
        let key = ledger_key(&hash);
        if by_key.insert(key, i).is_none() {
            keys.push((day, key));
        }
    }
    // In key order: each insert lands just after the previous one in the
    // (day, visitor) index.
    keys.sort_unstable();
    let (days, visitors): (Vec<Date>, Vec<i64>) = keys.into_iter().unzip();
    let fresh: Vec<i64> = sqlx::query_scalar(
        "insert into visitor_days (day, visitor) select * from unnest($1::date[], $2::int8[]) \
         on conflict do nothing returning visitor",
    )
    .bind(days)
    .bind(visitors)
    .fetch_all(&mut *conn)
    .await?;
    for key in fresh {
        if let Some(&i) = by_key.get(&key) {
            first[i] = true;
        }
    }
    Ok(first)
}

/// The ledger key of a visitor hash: its first 8 bytes, big-endian.
pub fn ledger_key(hash: &[u8; visitor::HASH_BYTES]) -> i64 {
    let mut first = [0u8; 8];
    first.copy_from_slice(&hash[..8]);
    i64::from_be_bytes(first)
}

/// Adds folded rows (already unique and sorted by key).
async fn upsert(conn: &mut PgConnection, rows: &[RollupRow]) -> Result<(), sqlx::Error> {
    // The hourly rows, the same summed per UTC day, both summed over the
    // workspace, and each link's day.
    sqlx::query(concat!(
        "with r as (select * from unnest($1::int8[], $2::timestamptz[], $3::text[], $4::text[], \
         $5::text[], $6::int8[], $7::int8[]) as t(link, h, ch, dim, val, ev, vis)), \
         hourly as (insert into click_rollups (link_id, hour, kind, channel, dimension, value, events, visitors) \
         select link, h, 'human', ch, dim, val, ev, vis from r",
        add_on_conflict!(),
        "), daily as (insert into click_rollups_daily (link_id, day, kind, channel, dimension, value, events, visitors) \
         select link, (h at time zone 'UTC')::date, 'human', ch, dim, val, sum(ev), sum(vis) from r \
         group by 1, 2, 3, 4, 5, 6 order by 1, 5, 2, 3, 4, 6",
        add_on_conflict!(daily),
        "), workspace as (insert into workspace_rollups (hour, kind, channel, dimension, value, events, visitors) \
         select h, 'human', ch, dim, val, sum(ev), sum(vis) from r group by 1, 2, 3, 4, 5 order by 4, 1, 2, 3, 5",
        add_on_conflict!(workspace),
        "), workspace_daily as (insert into workspace_rollups_daily (day, kind, channel, dimension, value, events, visitors) \
         select (h at time zone 'UTC')::date, 'human', ch, dim, val, sum(ev), sum(vis) from r \
         group by 1, 2, 3, 4, 5 order by 4, 1, 2, 3, 5",
        add_on_conflict!(workspace_daily),
        add_link_days!(),
        ") select 1"
    ))
    .bind(rows.iter().map(|r| r.link_id).collect::<Vec<_>>())
    .bind(rows.iter().map(RollupRow::hour_start).collect::<Vec<_>>())
    .bind(rows.iter().map(|r| &*r.channel).collect::<Vec<_>>())
    .bind(rows.iter().map(|r| r.dimension).collect::<Vec<_>>())
    .bind(rows.iter().map(|r| &*r.value).collect::<Vec<_>>())
    .bind(rows.iter().map(|r| r.events).collect::<Vec<_>>())
    .bind(rows.iter().map(|r| r.visitors).collect::<Vec<_>>())
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Forgets the visitors of days before `before` (their salt is gone: no
/// later click can match them).
#[tracing::instrument(skip_all)]
pub async fn prune_visitor_days(pool: &PgPool, before: Date) -> Result<u64, sqlx::Error> {
    let done = sqlx::query("delete from visitor_days where day < $1")
        .bind(before)
        .execute(pool)
        .await?;
    Ok(done.rows_affected())
}

/// What a rebuild did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rebuilt {
    /// The UTC day it recomputed from (the later of `--from` and the oldest
    /// raw row of each table; older aggregates are kept as they were).
    pub from: OffsetDateTime,
    /// Rollup rows written.
    pub rows: u64,
}

/// Recomputes the rollups from the raw tables (`clicks`, `share_events`,
/// `filtered_requests`) from the UTC day of `from` on, in one transaction.
/// Each kind is recomputed only where its raw rows still exist, so that
/// aggregates which outlived them (retention) are kept.
#[tracing::instrument(skip_all)]
pub async fn rebuild(pool: &PgPool, from: OffsetDateTime) -> Result<Rebuilt, sqlx::Error> {
    let from = from.replace_time(time::Time::MIDNIGHT);
    let mut tx = pool.begin().await?;
    // Rollups are written by batch writers meanwhile: hold them off.
    sqlx::query(
        "lock table click_rollups, click_rollups_daily, workspace_rollups, workspace_rollups_daily, \
         link_days in exclusive mode",
    )
    .execute(&mut *tx)
    .await?;
    let mut rows = 0;
    for (kinds, source, time_col) in [
        ("{human}", "clicks", "occurred_at"),
        ("{preview}", "share_events", "occurred_at"),
        ("{bot,prefetch}", "filtered_requests", "occurred_at"),
    ] {
        let since: Option<OffsetDateTime> = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
            "select case when min({time_col}) is not null \
             then greatest($1, date_trunc('day', min({time_col}), 'UTC')) end from {source}"
        )))
        .bind(from)
        .fetch_one(&mut *tx)
        .await?;
        let Some(since) = since else { continue };
        sqlx::query("delete from click_rollups where kind = any($1::text[]) and hour >= $2")
            .bind(kinds)
            .bind(since)
            .execute(&mut *tx)
            .await?;
        let statement = match source {
            "clicks" => REBUILD_HUMANS,
            "share_events" => REBUILD_PREVIEWS,
            _ => REBUILD_FILTERED,
        };
        rows += sqlx::query(statement)
            .bind(since)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        // `since` is a UTC midnight: its days are whole.
        sqlx::query("delete from click_rollups_daily where kind = any($1::text[]) and day >= ($2 at time zone 'UTC')::date")
            .bind(kinds)
            .bind(since)
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "insert into click_rollups_daily (link_id, day, kind, channel, dimension, value, events, visitors) \
             select link_id, (hour at time zone 'UTC')::date, kind, channel, dimension, value, sum(events), sum(visitors) \
             from click_rollups where kind = any($1::text[]) and hour >= $2 group by 1, 2, 3, 4, 5, 6",
        )
        .bind(kinds)
        .bind(since)
        .execute(&mut *tx)
        .await?;
        if source == "clicks" {
            for statement in REBUILD_LINK_DAYS {
                sqlx::query(statement).bind(since).execute(&mut *tx).await?;
            }
        }
        // The workspace rows: the per-link rows summed.
        for statement in REBUILD_WORKSPACE {
            sqlx::query(statement)
                .bind(kinds)
                .bind(since)
                .execute(&mut *tx)
                .await?;
        }
    }
    tx.commit().await?;
    Ok(Rebuilt { from, rows })
}

/// The dimension rows of a human click (columns of `clicks`), as SQL: the
/// same dimensions as [`rollup::DIMENSIONS`], for the rebuild and the burst
/// corrections.
macro_rules! human_dimensions {
    () => {
        "cross join lateral (values ('all', ''), ('source', source), \
         ('evidence', split_part(evidence[1], ':', 1)), ('country', country), ('region', region), \
         ('city', city), ('device', device), ('browser', browser), ('os', os), \
         ('referrer_host', referrer_host), ('utm_source', utm_source), ('utm_medium', utm_medium), \
         ('utm_campaign', utm_campaign)) as d(dimension, value) "
    };
}
pub(crate) use human_dimensions;

/// Human clicks since $1 (a UTC midnight): the same rows the writer adds,
/// visitors on their first click of the UTC day.
const REBUILD_HUMANS: &str = concat!(
    "insert into click_rollups (link_id, hour, kind, channel, dimension, value, events, visitors) \
     select link_id, date_trunc('hour', occurred_at, 'UTC'), 'human', coalesce(channel, ''), \
       d.dimension, coalesce(d.value, ''), count(*), count(*) filter (where first_visit) \
     from (select c.*, visitor_hash is not null and row_number() over ( \
          partition by link_id, (occurred_at at time zone 'UTC')::date, visitor_hash \
          order by occurred_at, id) = 1 as first_visit \
      from clicks c where occurred_at >= $1) c ",
    human_dimensions!(),
    "group by 1, 2, 3, 4, 5, 6"
);

/// Previews since $1, by app.
const REBUILD_PREVIEWS: &str = "\
insert into click_rollups (link_id, hour, kind, channel, dimension, value, events) \
select link_id, date_trunc('hour', occurred_at, 'UTC'), 'preview', '', d.dimension, d.value, count(*) \
from share_events cross join lateral (values ('all', ''), ('source', app)) as d(dimension, value) \
where occurred_at >= $1 group by 1, 2, 3, 4, 5, 6";

/// Bots and prefetches since $1, by source.
const REBUILD_FILTERED: &str = "\
insert into click_rollups (link_id, hour, kind, channel, dimension, value, events) \
select link_id, date_trunc('hour', occurred_at, 'UTC'), kind, '', d.dimension, coalesce(d.value, ''), count(*) \
from filtered_requests cross join lateral (values ('all', ''), ('source', source)) as d(dimension, value) \
where occurred_at >= $1 group by 1, 2, 3, 4, 5, 6";

/// Each link's human days since $1 (a UTC midnight), from its daily `all`
/// rows.
const REBUILD_LINK_DAYS: [&str; 2] = [
    "delete from link_days where day >= ($1 at time zone 'UTC')::date",
    "insert into link_days (link_id, day, clicks, visitors) \
     select link_id, day, sum(events), sum(visitors) from click_rollups_daily \
     where kind = 'human' and dimension = 'all' and day >= ($1 at time zone 'UTC')::date group by 1, 2",
];

/// The workspace rows of kinds $1 since $2 (a UTC midnight), from the
/// per-link rows.
const REBUILD_WORKSPACE: [&str; 4] = [
    "delete from workspace_rollups where kind = any($1::text[]) and hour >= $2",
    "insert into workspace_rollups (hour, kind, channel, dimension, value, events, visitors) \
     select hour, kind, channel, dimension, value, sum(events), sum(visitors) from click_rollups \
     where kind = any($1::text[]) and hour >= $2 group by 1, 2, 3, 4, 5",
    "delete from workspace_rollups_daily where kind = any($1::text[]) \
     and day >= ($2 at time zone 'UTC')::date",
    "insert into workspace_rollups_daily (day, kind, channel, dimension, value, events, visitors) \
     select day, kind, channel, dimension, value, sum(events), sum(visitors) from click_rollups_daily \
     where kind = any($1::text[]) and day >= ($2 at time zone 'UTC')::date group by 1, 2, 3, 4, 5",
];
