//! Burst corrections: clicks stored as human that a later click showed to be
//! an e-mail scanner's burst (see `clicks/burst.rs`) move to the bots. Run in
//! the transaction of the batch whose click completed the burst, after that
//! batch's own clicks are in (so a burst inside one batch is corrected too),
//! hence exactly once with the batch (`click_batches`); and keyed by click id
//! on its own: a click that is no longer in `clicks` moves nothing, so a
//! correction replayed cannot move anything twice.

use sqlx::PgConnection;
use time::OffsetDateTime;
use uuid::Uuid;

use super::{
    filtered::add_filtered,
    rollups::{add_link_days, add_on_conflict, human_dimensions},
};

/// Moves the clicks `ids` (each stored at most an hour from the time paired
/// with it: the window is seconds long) from `clicks` to `filtered_requests`
/// as bots with no source, and their counts in every rollup from the human
/// rows (each dimension of the click, and its visitor when it was the
/// visitor's first click of the day, which then passes to the visitor's next
/// click, or out of `visitor_days` if there is none) to the bot rows.
/// Returns the clicks moved.
pub async fn move_to_bots(
    conn: &mut PgConnection,
    ids: &[Uuid],
    near: &[OffsetDateTime],
) -> Result<u64, sqlx::Error> {
    if ids.is_empty() {
        return Ok(0);
    }
    // Every sub-statement sees the rows as they were before the delete, so
    // `ranked` still ranks the removed clicks among their visitor's clicks.
    let gone: Vec<(Uuid, OffsetDateTime, i64)> = sqlx::query_as(concat!(
        "with ids as (select * from unnest($1::uuid[], $2::timestamptz[]) as t(id, near)), \
         gone as (delete from clicks c using ids where c.id = ids.id \
           and c.occurred_at between ids.near - interval '1 hour' and ids.near + interval '1 hour' \
           returning c.*), \
         keys as (select distinct link_id, (occurred_at at time zone 'UTC')::date as day, visitor_hash \
           from gone where visitor_hash is not null), \
         ranked as (select c.*, k.day, row_number() over ( \
             partition by c.link_id, k.day, c.visitor_hash order by c.occurred_at, c.id) as rn, \
             c.id in (select id from gone) as removed \
           from keys k join clicks c on c.link_id = k.link_id and c.visitor_hash = k.visitor_hash \
           and c.occurred_at >= (k.day::timestamp at time zone 'UTC') \
           and c.occurred_at < ((k.day + 1)::timestamp at time zone 'UTC')), \
         firsts as (select * from ranked where rn = 1 and removed), \
         successors as (select distinct on (r.link_id, r.day, r.visitor_hash) r.* \
           from ranked r join firsts f using (link_id, day, visitor_hash) where not r.removed \
           order by r.link_id, r.day, r.visitor_hash, r.rn), \
         delta as ( \
           select link_id, occurred_at, channel, source, evidence, country, region, city, device, \
             browser, os, referrer_host, utm_source, utm_medium, utm_campaign, -1::int8 as ev, \
             case when id in (select id from firsts) then -1 else 0 end::int8 as vis from gone \
           union all \
           select link_id, occurred_at, channel, source, evidence, country, region, city, device, \
             browser, os, referrer_host, utm_source, utm_medium, utm_campaign, 0::int8, 1::int8 \
           from successors), \
         r as (select link_id as link, date_trunc('hour', occurred_at, 'UTC') as h, \
             coalesce(channel, '') as ch, d.dimension as dim, coalesce(d.value, '') as val, \
             sum(ev)::int8 as ev, sum(vis)::int8 as vis from delta ",
        human_dimensions!(),
        "group by 1, 2, 3, 4, 5), \
         hourly as (insert into click_rollups (link_id, hour, kind, channel, dimension, value, events, visitors) \
           select link, h, 'human', ch, dim, val, ev, vis from r order by link, dim, h, ch, val",
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
        "), forgot as (delete from visitor_days v using firsts f \
           where v.day = f.day \
           and v.visitor = ('x' || encode(substring(f.visitor_hash from 1 for 8), 'hex'))::bit(64)::int8 \
           and not exists (select 1 from successors s where (s.link_id, s.day, s.visitor_hash) \
             = (f.link_id, f.day, f.visitor_hash))) \
         select id, occurred_at, link_id from gone order by occurred_at, id"
    ))
    .bind(ids)
    .bind(near)
    .fetch_all(&mut *conn)
    .await?;
    if gone.is_empty() {
        return Ok(0);
    }
    // Rows whose clicks all moved: a recount from `clicks` would not have them.
    let since = gone.iter().map(|g| g.1).min().unwrap_or(near[0]);
    let links: Vec<i64> = gone.iter().map(|g| g.2).collect();
    for statement in [
        "delete from click_rollups where kind = 'human' and events = 0 and link_id = any($1) \
         and hour >= date_trunc('hour', $2::timestamptz, 'UTC')",
        "delete from click_rollups_daily where kind = 'human' and events = 0 and link_id = any($1) \
         and day >= ($2::timestamptz at time zone 'UTC')::date",
        "delete from workspace_rollups where kind = 'human' and events = 0 and cardinality($1::int8[]) > 0 \
         and hour >= date_trunc('hour', $2::timestamptz, 'UTC')",
        "delete from workspace_rollups_daily where kind = 'human' and events = 0 \
         and cardinality($1::int8[]) > 0 and day >= ($2::timestamptz at time zone 'UTC')::date",
        "delete from link_days where clicks = 0 and link_id = any($1) \
         and day >= ($2::timestamptz at time zone 'UTC')::date",
    ] {
        sqlx::query(statement)
            .bind(&links)
            .bind(since)
            .execute(&mut *conn)
            .await?;
    }
    let n = gone.len();
    add_filtered(
        conn,
        &gone.iter().map(|g| g.0).collect::<Vec<_>>(),
        &gone.iter().map(|g| g.1).collect::<Vec<_>>(),
        &links,
        &vec!["bot"; n],
        &vec![None; n],
    )
    .await?;
    Ok(n as u64)
}
