//! Previews: the share events a batch adds, their rollups, and the notices
//! that tell the other instances of them.

use sqlx::{PgConnection, PgPool};
use time::OffsetDateTime;

use super::{EVIDENCE_SEP, rollups};
use crate::clicks::{
    ClickRecord,
    preview_notices::{self, SeenPreview},
};

/// Previews: share events, skipping ones already stored. The other
/// instances are told of the new ones when the transaction commits (see
/// [`super::previews`]).
pub async fn insert_share_events(
    conn: &mut PgConnection,
    batch: &[&ClickRecord],
) -> Result<u64, sqlx::Error> {
    let added: Vec<(i64, String, OffsetDateTime)> = sqlx::query_as(concat!(
        "with added as ( \
           insert into share_events (id, occurred_at, link_id, app, evidence) \
           select id, at, link, app, string_to_array(evidence, E'\\x1f') \
           from unnest($1::uuid[], $2::timestamptz[], $3::int8[], $4::text[], $5::text[]) as t(id, at, link, app, evidence) \
           on conflict do nothing returning link_id, app, occurred_at), \
         rolled as ( \
           insert into click_rollups (link_id, hour, kind, channel, dimension, value, events) \
           select link_id, date_trunc('hour', occurred_at, 'UTC'), 'preview', '', d.dimension, d.value, count(*) \
           from added cross join lateral (values ('all', ''), ('source', app)) as d(dimension, value) \
           group by 1, 2, 3, 4, 5, 6 order by 1, 5, 2, 3, 4, 6",
        rollups::add_on_conflict!(),
        "), rolled_daily as ( \
           insert into click_rollups_daily (link_id, day, kind, channel, dimension, value, events) \
           select link_id, (occurred_at at time zone 'UTC')::date, 'preview', '', d.dimension, d.value, count(*) \
           from added cross join lateral (values ('all', ''), ('source', app)) as d(dimension, value) \
           group by 1, 2, 3, 4, 5, 6 order by 1, 5, 2, 3, 4, 6",
        rollups::add_on_conflict!(daily),
        "), workspace as ( \
           insert into workspace_rollups (hour, kind, channel, dimension, value, events) \
           select date_trunc('hour', occurred_at, 'UTC'), 'preview', '', d.dimension, d.value, count(*) \
           from added cross join lateral (values ('all', ''), ('source', app)) as d(dimension, value) \
           group by 1, 2, 3, 4, 5 order by 4, 1, 2, 3, 5",
        rollups::add_on_conflict!(workspace),
        "), workspace_daily as ( \
           insert into workspace_rollups_daily (day, kind, channel, dimension, value, events) \
           select (occurred_at at time zone 'UTC')::date, 'preview', '', d.dimension, d.value, count(*) \
           from added cross join lateral (values ('all', ''), ('source', app)) as d(dimension, value) \
           group by 1, 2, 3, 4, 5 order by 4, 1, 2, 3, 5",
        rollups::add_on_conflict!(workspace_daily),
        ") select link_id, app, occurred_at from added"
    ))
    .bind(batch.iter().map(|r| r.id).collect::<Vec<_>>())
    .bind(batch.iter().map(|r| r.occurred_at).collect::<Vec<_>>())
    .bind(batch.iter().map(|r| r.link_id).collect::<Vec<_>>())
    .bind(
        batch
            .iter()
            .map(|r| r.attribution.source.as_deref().unwrap_or("unknown"))
            .collect::<Vec<_>>(),
    )
    .bind(batch.iter().map(|r| r.attribution.evidence.join(EVIDENCE_SEP)).collect::<Vec<_>>())
    .fetch_all(&mut *conn)
    .await?;
    let seen: Vec<SeenPreview> = added
        .into_iter()
        .map(|(link_id, app, at)| SeenPreview { link_id, app, at })
        .collect();
    if !seen.is_empty() {
        sqlx::query("select pg_notify($1, p) from unnest($2::text[]) as p")
            .bind(preview_notices::CHANNEL)
            .bind(preview_notices::payloads(&seen))
            .execute(&mut *conn)
            .await?;
    }
    Ok(seen.len() as u64)
}

/// The previews stored since `since`, newest first (at most 100,000).
pub async fn recent_previews(
    pool: &PgPool,
    since: OffsetDateTime,
) -> Result<Vec<SeenPreview>, sqlx::Error> {
    let rows: Vec<(i64, String, OffsetDateTime)> = sqlx::query_as(
        "select link_id, app, occurred_at from share_events \
         where occurred_at >= $1 order by occurred_at desc limit 100000",
    )
    .bind(since)
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(link_id, app, at)| SeenPreview { link_id, app, at })
        .collect())
}
