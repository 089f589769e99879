//! ClickStore: the SQL of the clicks table — the idempotent batch insert,
//! partition upkeep and retention.

use std::fmt::Write as _;

use sqlx::{PgPool, postgres::PgPoolCopyExt};
use time::{OffsetDateTime, format_description::well_known::Rfc3339};

use super::ClickRecord;

/// Inserts a batch in one statement; events already stored (a replay, or a
/// retry after a lost acknowledgement) are skipped. Returns the rows added.
#[tracing::instrument(skip_all, fields(batch.rows = batch.len()))]
pub async fn insert_batch(pool: &PgPool, batch: &[ClickRecord]) -> Result<u64, sqlx::Error> {
    // One array per column and UNNEST: a single round trip and a single plan
    // for any batch size (COPY cannot skip duplicates).
    let n = batch.len();
    let mut ids = Vec::with_capacity(n);
    let mut at = Vec::with_capacity(n);
    let mut link = Vec::with_capacity(n);
    let mut method = Vec::with_capacity(n);
    let mut ua = Vec::with_capacity(n);
    let mut referer = Vec::with_capacity(n);
    let mut site = Vec::with_capacity(n);
    let mut mode = Vec::with_capacity(n);
    let mut dest = Vec::with_capacity(n);
    let mut user = Vec::with_capacity(n);
    let mut purpose = Vec::with_capacity(n);
    let mut lang = Vec::with_capacity(n);
    let mut dnt = Vec::with_capacity(n);
    let mut gpc = Vec::with_capacity(n);
    for r in batch {
        ids.push(r.id);
        at.push(r.occurred_at);
        link.push(r.link_id);
        method.push(r.method.as_str());
        let h = &r.headers;
        ua.push(h.user_agent.as_deref());
        referer.push(h.referer.as_deref());
        site.push(h.sec_fetch_site.as_deref());
        mode.push(h.sec_fetch_mode.as_deref());
        dest.push(h.sec_fetch_dest.as_deref());
        user.push(h.sec_fetch_user.as_deref());
        purpose.push(h.purpose.as_deref());
        lang.push(h.accept_language.as_deref());
        dnt.push(h.dnt);
        gpc.push(h.gpc);
    }
    let done = sqlx::query(
        "insert into clicks (id, occurred_at, link_id, method, user_agent, referer, sec_fetch_site, \
         sec_fetch_mode, sec_fetch_dest, sec_fetch_user, purpose, accept_language, dnt, gpc) \
         select * from unnest($1::uuid[], $2::timestamptz[], $3::int8[], $4::text[], $5::text[], \
         $6::text[], $7::text[], $8::text[], $9::text[], $10::text[], $11::text[], $12::text[], \
         $13::bool[], $14::bool[]) \
         on conflict do nothing",
    )
    .bind(ids)
    .bind(at)
    .bind(link)
    .bind(method)
    .bind(ua)
    .bind(referer)
    .bind(site)
    .bind(mode)
    .bind(dest)
    .bind(user)
    .bind(purpose)
    .bind(lang)
    .bind(dnt)
    .bind(gpc)
    .execute(pool)
    .await?;
    Ok(done.rows_affected())
}

/// Writes a batch of never-attempted events with `COPY`, PostgreSQL's
/// fastest bulk path. `COPY` cannot skip duplicates, so the writer uses it
/// only for events that have not been sent before; a retry, a replay or a
/// batch whose acknowledgement was lost goes through [`insert_batch`].
#[tracing::instrument(skip_all, fields(batch.rows = batch.len()))]
pub async fn copy_batch(pool: &PgPool, batch: &[ClickRecord]) -> Result<u64, sqlx::Error> {
    let mut data = String::with_capacity(batch.len() * 320);
    for r in batch {
        let h = &r.headers;
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
        ] {
            copy_text(&mut data, field);
            data.push('\t');
        }
        data.push_str(if h.dnt { "t\t" } else { "f\t" });
        data.push_str(if h.gpc { "t\n" } else { "f\n" });
    }
    let mut copy = pool
        .copy_in_raw(
            "copy clicks (id, occurred_at, link_id, method, user_agent, referer, sec_fetch_site, \
             sec_fetch_mode, sec_fetch_dest, sec_fetch_user, purpose, accept_language, dnt, gpc) from stdin",
        )
        .await?;
    copy.send(data.as_bytes()).await?;
    copy.finish().await
}

/// One field in COPY's text format: `\N` for null, backslash escapes for the
/// characters that delimit fields and rows.
fn copy_text(out: &mut String, value: Option<&str>) {
    let Some(v) = value else {
        out.push_str("\\N");
        return;
    };
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

/// Clicks stored for a link (tests and the CLI use it; dashboards use stats).
#[tracing::instrument(skip_all, fields(link.id = link_id))]
pub async fn count_for_link(pool: &PgPool, link_id: i64) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar("select count(*) from clicks where link_id = $1")
        .bind(link_id)
        .fetch_one(pool)
        .await
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
}
