//! Upkeep of the clicks tables: monthly partitions, retention (dropping
//! whole partitions), and pruning of the batch and bot/prefetch ledgers.

use sqlx::PgPool;
use time::OffsetDateTime;

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
