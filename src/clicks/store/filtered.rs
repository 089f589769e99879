//! Bots and prefetches: their ledger rows, daily counts and rollups.

use sqlx::PgConnection;

use time::OffsetDateTime;
use uuid::Uuid;

use crate::clicks::ClickRecord;

/// Bots and prefetches: the ledger row, and the daily count of the rows the
/// ledger did not have yet (so a replay counts nothing twice).
pub async fn count_filtered(
    conn: &mut PgConnection,
    batch: &[&ClickRecord],
) -> Result<u64, sqlx::Error> {
    add_filtered(
        conn,
        &batch.iter().map(|r| r.id).collect::<Vec<_>>(),
        &batch.iter().map(|r| r.occurred_at).collect::<Vec<_>>(),
        &batch.iter().map(|r| r.link_id).collect::<Vec<_>>(),
        &batch
            .iter()
            .map(|r| &*r.attribution.kind)
            .collect::<Vec<_>>(),
        &batch
            .iter()
            .map(|r| r.attribution.source.as_deref())
            .collect::<Vec<_>>(),
    )
    .await
}

/// The rows of [`count_filtered`], column by column (also used by the burst
/// corrections, whose rows come from `clicks`).
pub async fn add_filtered(
    conn: &mut PgConnection,
    ids: &[Uuid],
    occurred_at: &[OffsetDateTime],
    link_ids: &[i64],
    kinds: &[&str],
    sources: &[Option<&str>],
) -> Result<u64, sqlx::Error> {
    let added: i64 = sqlx::query_scalar(
        "with added as ( \
           insert into filtered_requests (id, occurred_at, link_id, kind, source) \
           select * from unnest($1::uuid[], $2::timestamptz[], $3::int8[], $4::text[], $5::text[]) \
           on conflict do nothing returning link_id, occurred_at, kind, source), \
         rolled as ( \
           insert into click_rollups (link_id, hour, kind, channel, dimension, value, events) \
           select link_id, date_trunc('hour', occurred_at, 'UTC'), kind, '', d.dimension, coalesce(d.value, ''), count(*) \
           from added cross join lateral (values ('all', ''), ('source', source)) as d(dimension, value) \
           group by 1, 2, 3, 4, 5, 6 order by 1, 5, 2, 3, 4, 6 \
           on conflict (link_id, dimension, hour, kind, channel, value) do update set \
           events = click_rollups.events + excluded.events), \
         rolled_daily as ( \
           insert into click_rollups_daily (link_id, day, kind, channel, dimension, value, events) \
           select link_id, (occurred_at at time zone 'UTC')::date, kind, '', d.dimension, coalesce(d.value, ''), count(*) \
           from added cross join lateral (values ('all', ''), ('source', source)) as d(dimension, value) \
           group by 1, 2, 3, 4, 5, 6 order by 1, 5, 2, 3, 4, 6 \
           on conflict (link_id, dimension, day, kind, channel, value) do update set \
           events = click_rollups_daily.events + excluded.events), \
         workspace as ( \
           insert into workspace_rollups (hour, kind, channel, dimension, value, events) \
           select date_trunc('hour', occurred_at, 'UTC'), kind, '', d.dimension, coalesce(d.value, ''), count(*) \
           from added cross join lateral (values ('all', ''), ('source', source)) as d(dimension, value) \
           group by 1, 2, 3, 4, 5 order by 4, 1, 2, 3, 5 \
           on conflict (dimension, hour, kind, channel, value) do update set \
           events = workspace_rollups.events + excluded.events), \
         workspace_daily as ( \
           insert into workspace_rollups_daily (day, kind, channel, dimension, value, events) \
           select (occurred_at at time zone 'UTC')::date, kind, '', d.dimension, coalesce(d.value, ''), count(*) \
           from added cross join lateral (values ('all', ''), ('source', source)) as d(dimension, value) \
           group by 1, 2, 3, 4, 5 order by 4, 1, 2, 3, 5 \
           on conflict (dimension, day, kind, channel, value) do update set \
           events = workspace_rollups_daily.events + excluded.events), \
         counted as ( \
           insert into link_daily_counts (link_id, day, kind, requests) \
           select link_id, (occurred_at at time zone 'UTC')::date, kind, count(*) from added group by 1, 2, 3 \
           on conflict (link_id, day, kind) do update set requests = link_daily_counts.requests + excluded.requests) \
         select count(*) from added",
    )
    .bind(ids)
    .bind(occurred_at)
    .bind(link_ids)
    .bind(kinds)
    .bind(sources)
    .fetch_one(&mut *conn)
    .await?;
    Ok(added as u64)
}
