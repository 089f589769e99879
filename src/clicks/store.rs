//! ClickStore: the SQL of the clicks tables — the exactly-once batch write,
//! partition upkeep and retention. The rollups a batch adds are written in
//! its transaction (see [`rollups`]).

pub mod rollups;

use sqlx::{Connection, PgConnection, PgPool};
use time::OffsetDateTime;

use super::{
    Batch, ClickRecord,
    pgcopy::BinaryCopy,
    preview_notices::{self, SeenPreview},
};

/// Whether PostgreSQL refused the data itself (SQLSTATE class 22, data
/// exception, or 23, integrity violation) rather than being unreachable:
/// retrying such a batch would fail forever.
pub fn is_rejection(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::Database(db) => db
            .code()
            .is_some_and(|c| c.starts_with("22") || c.starts_with("23")),
        sqlx::Error::Encode(_) => true,
        _ => false,
    }
}

/// Separator of evidence items passed as one text per row (arrays of arrays
/// cannot go through UNNEST); a control character, absent from evidence ids.
const EVIDENCE_SEP: &str = "\u{1f}";

/// Rows per `COPY` statement. PostgreSQL 15 keeps one buffered slot per
/// row of a COPY (up to 1,000) and releases them with a linear search each,
/// so a COPY's cost grows with the square of its rows; a few hundred rows
/// amortise the statement without paying that.
const COPY_ROWS: usize = 250;

/// What writing a batch did.
#[derive(Debug)]
pub struct Written {
    /// Rows added (clicks, share events and bot/prefetch ledger rows).
    pub rows: u64,
    /// The batch had been stored before (a retry after a lost
    /// acknowledgement, or a spool segment replayed twice): nothing was added.
    pub duplicate: bool,
}

impl Written {
    const DUPLICATE: Written = Written {
        rows: 0,
        duplicate: true,
    };

    fn rows(rows: u64) -> Written {
        Written {
            rows,
            duplicate: false,
        }
    }
}

/// Writes a batch exactly once, in one transaction: its id goes to the
/// `click_batches` ledger (if it is there already, the batch was stored
/// before and nothing is written), human clicks go to `clicks` by `COPY`,
/// previews to `share_events`, bots and prefetches to their ledger and daily
/// counts.
///
/// If PostgreSQL refuses some events' data (SQLSTATE class 22 or 23), the
/// batch is written again in halves under savepoints, recursively, until each
/// refused event is alone; `set_aside` receives those before the commit, so
/// that a commit whose acknowledgement is lost cannot lose them.
#[tracing::instrument(skip_all, fields(batch.id = %batch.id, batch.rows = batch.records.len()))]
pub async fn write_batch(
    pool: &PgPool,
    batch: &Batch,
    set_aside: impl FnOnce(&[ClickRecord]) -> std::io::Result<()>,
) -> Result<Written, sqlx::Error> {
    let Some(mut tx) = begin(pool, batch).await? else {
        return Ok(Written::DUPLICATE);
    };
    // The common case: the whole batch in one go, no savepoint.
    match write_records(&mut tx, &batch.records).await {
        Ok(rows) => {
            tx.commit().await?;
            return Ok(Written::rows(rows));
        }
        Err(e) if is_rejection(&e) => tx.rollback().await?,
        Err(e) => return Err(e),
    }
    let Some(mut tx) = begin(pool, batch).await? else {
        return Ok(Written::DUPLICATE);
    };
    let (mut rows, mut refused) = (0, Vec::new());
    let mut parts = vec![&batch.records[..]];
    while let Some(part) = parts.pop() {
        let mut savepoint = tx.begin().await?;
        match write_records(&mut savepoint, part).await {
            Ok(n) => {
                savepoint.commit().await?;
                rows += n;
            }
            Err(e) if is_rejection(&e) => {
                savepoint.rollback().await?;
                if part.len() > 1 {
                    let (a, b) = part.split_at(part.len() / 2);
                    parts.push(b);
                    parts.push(a);
                } else {
                    refused.extend_from_slice(part);
                }
            }
            Err(e) => return Err(e),
        }
    }
    if !refused.is_empty() {
        set_aside(&refused)?;
    }
    tx.commit().await?;
    Ok(Written::rows(rows))
}

/// Opens the batch's transaction by recording its id; `None` if the batch
/// was stored before.
async fn begin<'c>(
    pool: &'c PgPool,
    batch: &Batch,
) -> Result<Option<sqlx::Transaction<'c, sqlx::Postgres>>, sqlx::Error> {
    let mut tx = pool.begin().await?;
    let fresh = sqlx::query(
        "insert into click_batches (id, events) values ($1, $2) on conflict (id) do nothing",
    )
    .bind(batch.id)
    .bind(i32::try_from(batch.records.len()).unwrap_or(i32::MAX))
    .execute(&mut *tx)
    .await?
    .rows_affected()
        == 1;
    Ok(fresh.then_some(tx))
}

/// Writes events inside the caller's transaction; returns the rows added.
async fn write_records(
    conn: &mut PgConnection,
    records: &[ClickRecord],
) -> Result<u64, sqlx::Error> {
    let mut humans = Vec::with_capacity(records.len());
    let mut previews = Vec::new();
    let mut filtered = Vec::new();
    for r in records {
        match &*r.attribution.kind {
            "preview" => previews.push(r),
            "bot" | "prefetch" => filtered.push(r),
            _ => humans.push(r),
        }
    }
    let mut rows = 0;
    for part in humans.chunks(COPY_ROWS) {
        rows += copy_clicks(&mut *conn, part).await?;
    }
    // Rollup rows are not counted as rows added: `rows` counts requests.
    rollups::add_humans(&mut *conn, &humans).await?;
    if !previews.is_empty() {
        rows += insert_share_events(&mut *conn, &previews).await?;
    }
    if !filtered.is_empty() {
        rows += count_filtered(&mut *conn, &filtered).await?;
    }
    Ok(rows)
}

/// Column list of `clicks`, in the order `copy_clicks` writes the fields.
macro_rules! click_columns {
    () => {
        "id, occurred_at, link_id, method, user_agent, referer, sec_fetch_site, \
         sec_fetch_mode, sec_fetch_dest, sec_fetch_user, purpose, accept_language, dnt, gpc, \
         channel, source, inapp, evidence, browser, os, device, country, region, city, referrer_host, \
         visitor_hash, utm_source, utm_medium, utm_campaign"
    };
}

/// Human clicks with `COPY`, PostgreSQL's fastest bulk path (duplicates are
/// ruled out by the batch ledger, so nothing needs skipping).
/// The binary `COPY` stream of human clicks, fields in the column-list order.
pub fn copy_data(batch: &[&ClickRecord]) -> Vec<u8> {
    let mut data = BinaryCopy::with_capacity(batch.len() * 400);
    for r in batch {
        let (h, a) = (&r.headers, &r.attribution);
        data.row(29);
        data.uuid(r.id);
        data.timestamptz(r.occurred_at);
        data.int8(r.link_id);
        data.text(Some(&r.method));
        for v in [
            &h.user_agent,
            &h.referer,
            &h.sec_fetch_site,
            &h.sec_fetch_mode,
            &h.sec_fetch_dest,
            &h.sec_fetch_user,
            &h.purpose,
            &h.accept_language,
        ] {
            data.text(v.as_deref());
        }
        data.bool(h.dnt);
        data.bool(h.gpc);
        for v in [&a.channel, &a.source, &a.inapp] {
            data.text(v.as_deref());
        }
        data.text_array(&a.evidence);
        for v in [
            &a.browser,
            &a.os,
            &a.device,
            &a.country,
            &a.region,
            &a.city,
            &a.referrer_host,
        ] {
            data.text(v.as_deref());
        }
        data.bytea(a.visitor_hash.as_ref().map(|h| &h[..]));
        for v in [&a.utm_source, &a.utm_medium, &a.utm_campaign] {
            data.text(v.as_deref());
        }
    }
    data.finish()
}

async fn copy_clicks(conn: &mut PgConnection, batch: &[&ClickRecord]) -> Result<u64, sqlx::Error> {
    let data = copy_data(batch);
    let statement = concat!(
        "copy clicks (",
        click_columns!(),
        ") from stdin with (format binary)"
    );
    let mut copy = conn.copy_in_raw(statement).await?;
    // Rows may straddle messages; 64 KiB messages spare PostgreSQL the
    // repeated buffer growth of one multi-megabyte message.
    for chunk in data.chunks(64 * 1024) {
        copy.send(chunk).await?;
    }
    copy.finish().await
}

/// Previews: share events, skipping ones already stored. The other
/// instances are told of the new ones when the transaction commits (see
/// [`super::previews`]).
async fn insert_share_events(
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

/// Bots and prefetches: the ledger row, and the daily count of the rows the
/// ledger did not have yet (so a replay counts nothing twice).
async fn count_filtered(
    conn: &mut PgConnection,
    batch: &[&ClickRecord],
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
         counted as ( \
           insert into link_daily_counts (link_id, day, kind, requests) \
           select link_id, (occurred_at at time zone 'UTC')::date, kind, count(*) from added group by 1, 2, 3 \
           on conflict (link_id, day, kind) do update set requests = link_daily_counts.requests + excluded.requests) \
         select count(*) from added",
    )
    .bind(batch.iter().map(|r| r.id).collect::<Vec<_>>())
    .bind(batch.iter().map(|r| r.occurred_at).collect::<Vec<_>>())
    .bind(batch.iter().map(|r| r.link_id).collect::<Vec<_>>())
    .bind(batch.iter().map(|r| &*r.attribution.kind).collect::<Vec<_>>())
    .bind(batch.iter().map(|r| r.attribution.source.as_deref()).collect::<Vec<_>>())
    .fetch_one(&mut *conn)
    .await?;
    Ok(added as u64)
}

/// Makes sure the monthly partitions exist from last month to `ahead` months on.
#[tracing::instrument(skip_all)]
pub async fn ensure_partitions(pool: &PgPool, ahead: u32) -> Result<(), sqlx::Error> {
    sqlx::query("select lanterne_ensure_click_partitions((now() - interval '1 month')::date, $1)")
        .bind(ahead as i32 + 2)
        .execute(pool)
        .await?;
    Ok(())
}

/// Makes sure the monthly partitions exist from `days` days ago on (for
/// traffic written with past times, as `lanterne seed-clicks` does).
#[tracing::instrument(skip_all)]
pub async fn ensure_partitions_from(pool: &PgPool, days: u32) -> Result<(), sqlx::Error> {
    sqlx::query(
        "select lanterne_ensure_click_partitions((now() - make_interval(days => $1))::date, \
         ($1 / 28 + 3)::int)",
    )
    .bind(days as i32)
    .execute(pool)
    .await?;
    Ok(())
}

/// Drops the monthly partitions that end before `cutoff`; returns their names.
#[tracing::instrument(skip_all)]
pub async fn drop_partitions_before(
    pool: &PgPool,
    cutoff: OffsetDateTime,
) -> Result<Vec<String>, sqlx::Error> {
    // Partition bounds are read from the catalog rather than parsed from names.
    let old: Vec<(String,)> = sqlx::query_as(
        "select c.relname::text from pg_inherits i \
         join pg_class c on c.oid = i.inhrelid \
         join pg_class p on p.oid = i.inhparent \
         where p.relname = 'clicks' and c.relname ~ '^clicks_y[0-9]{4}m[0-9]{2}$' \
         and to_date(substr(c.relname, 9, 4) || substr(c.relname, 14, 2), 'YYYYMM') + interval '1 month' <= $1",
    )
    .bind(cutoff)
    .fetch_all(pool)
    .await?;
    for (name,) in &old {
        // The name comes from the catalog and matched the pattern above.
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "drop table if exists \"{name}\""
        )))
        .execute(pool)
        .await?;
    }
    Ok(old.into_iter().map(|(n,)| n).collect())
}

/// Forgets the ids of batches written before `cutoff`.
#[tracing::instrument(skip_all)]
pub async fn prune_batches(pool: &PgPool, cutoff: OffsetDateTime) -> Result<u64, sqlx::Error> {
    let done = sqlx::query("delete from click_batches where written_at < $1")
        .bind(cutoff)
        .execute(pool)
        .await?;
    Ok(done.rows_affected())
}

/// Deletes ledger rows of bots and prefetches older than `cutoff` (their
/// daily counts stay).
#[tracing::instrument(skip_all)]
pub async fn prune_filtered(pool: &PgPool, cutoff: OffsetDateTime) -> Result<u64, sqlx::Error> {
    let done = sqlx::query("delete from filtered_requests where occurred_at < $1")
        .bind(cutoff)
        .execute(pool)
        .await?;
    Ok(done.rows_affected())
}
