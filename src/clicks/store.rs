//! ClickStore: the SQL of the clicks tables — the exactly-once batch write,
//! partition upkeep and retention.

use std::fmt::Write as _;

use sqlx::{Connection, PgConnection, PgPool};
use time::{OffsetDateTime, format_description::well_known::Rfc3339};

use super::{Batch, ClickRecord};

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

/// What writing a batch did.
#[derive(Debug, Default)]
pub struct Written {
    /// Rows added (clicks, share events and bot/prefetch ledger rows).
    pub rows: u64,
    /// Events PostgreSQL refused (bad data); set aside before the commit.
    pub refused: Vec<ClickRecord>,
    /// The batch had been stored before (a retry after a lost
    /// acknowledgement, or a spool segment replayed twice): nothing was added.
    pub duplicate: bool,
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
        return Ok(Written {
            duplicate: true,
            ..Written::default()
        });
    };
    // The common case: the whole batch in one go, no savepoint.
    match write_records(&mut tx, &batch.records).await {
        Ok(rows) => {
            tx.commit().await?;
            return Ok(Written {
                rows,
                ..Written::default()
            });
        }
        Err(e) if is_rejection(&e) => tx.rollback().await?,
        Err(e) => return Err(e),
    }
    let Some(mut tx) = begin(pool, batch).await? else {
        return Ok(Written {
            duplicate: true,
            ..Written::default()
        });
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
    Ok(Written {
        rows,
        refused,
        duplicate: false,
    })
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
        match r.attribution.kind.as_str() {
            "preview" => previews.push(r),
            "bot" | "prefetch" => filtered.push(r),
            _ => humans.push(r),
        }
    }
    let mut rows = 0;
    if !humans.is_empty() {
        rows += copy_clicks(&mut *conn, &humans).await?;
    }
    if !previews.is_empty() {
        rows += insert_share_events(&mut *conn, &previews).await?;
    }
    if !filtered.is_empty() {
        rows += count_filtered(&mut *conn, &filtered).await?;
    }
    Ok(rows)
}

/// Column list of `clicks`, in the order both writers use (one definition,
/// so that COPY and the insert can never disagree).
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
async fn copy_clicks(conn: &mut PgConnection, batch: &[&ClickRecord]) -> Result<u64, sqlx::Error> {
    let mut data = String::with_capacity(batch.len() * 400);
    for r in batch {
        let (h, a) = (&r.headers, &r.attribution);
        let at = r
            .occurred_at
            .format(&Rfc3339)
            .map_err(|e| sqlx::Error::Encode(Box::new(e)))?;
        let _ = write!(data, "{}\t{}\t{}\t", r.id, at, r.link_id);
        for field in [
            Some(r.method.as_str()),
            h.user_agent.as_deref(),
            h.referer.as_deref(),
            h.sec_fetch_site.as_deref(),
            h.sec_fetch_mode.as_deref(),
            h.sec_fetch_dest.as_deref(),
            h.sec_fetch_user.as_deref(),
            h.purpose.as_deref(),
            h.accept_language.as_deref(),
            Some(if h.dnt { "t" } else { "f" }),
            Some(if h.gpc { "t" } else { "f" }),
            a.channel.as_deref(),
            a.source.as_deref(),
            a.inapp.as_deref(),
            Some(&array_literal(&a.evidence)),
            a.browser.as_deref(),
            a.os.as_deref(),
            a.device.as_deref(),
            a.country.as_deref(),
            a.region.as_deref(),
            a.city.as_deref(),
            a.referrer_host.as_deref(),
            a.visitor_hash.as_deref().map(bytea_literal).as_deref(),
            a.utm_source.as_deref(),
            a.utm_medium.as_deref(),
        ] {
            copy_text(&mut data, field);
            data.push('\t');
        }
        copy_text(&mut data, a.utm_campaign.as_deref());
        data.push('\n');
    }
    let statement = concat!("copy clicks (", click_columns!(), ") from stdin");
    let mut copy = conn.copy_in_raw(statement).await?;
    // Rows may straddle messages; 64 KiB messages spare PostgreSQL the
    // repeated buffer growth of one multi-megabyte message.
    for chunk in data.as_bytes().chunks(64 * 1024) {
        copy.send(chunk).await?;
    }
    copy.finish().await
}

/// Previews: share events, skipping ones already stored.
async fn insert_share_events(
    conn: &mut PgConnection,
    batch: &[&ClickRecord],
) -> Result<u64, sqlx::Error> {
    let done = sqlx::query(
        "insert into share_events (id, occurred_at, link_id, app, evidence) \
         select id, at, link, app, string_to_array(evidence, E'\\x1f') \
         from unnest($1::uuid[], $2::timestamptz[], $3::int8[], $4::text[], $5::text[]) as t(id, at, link, app, evidence) \
         on conflict do nothing",
    )
    .bind(batch.iter().map(|r| r.id).collect::<Vec<_>>())
    .bind(batch.iter().map(|r| r.occurred_at).collect::<Vec<_>>())
    .bind(batch.iter().map(|r| r.link_id).collect::<Vec<_>>())
    .bind(
        batch
            .iter()
            .map(|r| r.attribution.source.clone().unwrap_or_else(|| "unknown".into()))
            .collect::<Vec<_>>(),
    )
    .bind(batch.iter().map(|r| r.attribution.evidence.join(EVIDENCE_SEP)).collect::<Vec<_>>())
    .execute(&mut *conn)
    .await?;
    Ok(done.rows_affected())
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
           on conflict do nothing returning link_id, occurred_at, kind), \
         counted as ( \
           insert into link_daily_counts (link_id, day, kind, requests) \
           select link_id, (occurred_at at time zone 'UTC')::date, kind, count(*) from added group by 1, 2, 3 \
           on conflict (link_id, day, kind) do update set requests = link_daily_counts.requests + excluded.requests) \
         select count(*) from added",
    )
    .bind(batch.iter().map(|r| r.id).collect::<Vec<_>>())
    .bind(batch.iter().map(|r| r.occurred_at).collect::<Vec<_>>())
    .bind(batch.iter().map(|r| r.link_id).collect::<Vec<_>>())
    .bind(batch.iter().map(|r| r.attribution.kind.as_str()).collect::<Vec<_>>())
    .bind(batch.iter().map(|r| r.attribution.source.as_deref()).collect::<Vec<_>>())
    .fetch_one(&mut *conn)
    .await?;
    Ok(added as u64)
}

/// One field in COPY's text format: `\\N` for null, backslash escapes for the
/// characters that delimit fields and rows.
fn copy_text(out: &mut String, value: Option<&str>) {
    let Some(v) = value else {
        out.push_str("\\N");
        return;
    };
    // Nearly every value has nothing to escape: copy it whole.
    if !v
        .bytes()
        .any(|b| matches!(b, b'\\' | b'\n' | b'\r' | b'\t'))
    {
        out.push_str(v);
        return;
    }
    for c in v.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c => out.push(c),
        }
    }
}

/// A PostgreSQL array literal of text, every element quoted.
fn array_literal(items: &[String]) -> String {
    let mut out = String::from("{");
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push('"');
        for c in item.chars() {
            if c == '"' || c == '\\' {
                out.push('\\');
            }
            out.push(c);
        }
        out.push('"');
    }
    out.push('}');
    out
}

/// bytea in hex input form.
fn bytea_literal(bytes: &[u8]) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(2 + bytes.len() * 2);
    out.push_str("\\x");
    for b in bytes {
        out.push(HEX[usize::from(b >> 4)] as char);
        out.push(HEX[usize::from(b & 15)] as char);
    }
    out
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copy_text_escapes_delimiters_and_marks_nulls() {
        let mut out = String::new();
        copy_text(&mut out, Some("a\tb\\c\nd\re"));
        out.push('|');
        copy_text(&mut out, None);
        assert_eq!(out, "a\\tb\\\\c\\nd\\re|\\N");
    }

    #[test]
    fn array_and_bytea_literals_quote_their_content() {
        assert_eq!(array_literal(&[]), "{}");
        assert_eq!(
            array_literal(&["a:b".into(), "q\"x\\".into()]),
            "{\"a:b\",\"q\\\"x\\\\\"}"
        );
        assert_eq!(bytea_literal(&[0, 255, 16]), "\\x00ff10");
    }
}
