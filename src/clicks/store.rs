//! ClickStore: the SQL of the clicks tables — the exactly-once batch write,
//! partition upkeep and retention. The rollups a batch adds are written in
//! its transaction (see [`rollups`]).

mod copy;
pub mod corrections;
mod filtered;
mod partitions;
pub mod rollups;
mod share_events;

pub use copy::copy_data;
pub use partitions::{
    drop_partitions_before, ensure_partitions, ensure_partitions_from, prune_batches,
    prune_filtered,
};
pub use share_events::recent_previews;

use sqlx::{Connection, PgConnection, PgPool};

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
pub(crate) const EVIDENCE_SEP: &str = "\u{1f}";

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
    for part in humans.chunks(copy::COPY_ROWS) {
        rows += copy::copy_clicks(&mut *conn, part).await?;
    }
    // Rollup rows are not counted as rows added: `rows` counts requests.
    rollups::add_humans(&mut *conn, &humans).await?;
    if !previews.is_empty() {
        rows += share_events::insert_share_events(&mut *conn, &previews).await?;
    }
    if !filtered.is_empty() {
        rows += filtered::count_filtered(&mut *conn, &filtered).await?;
    }
    // Last: a burst's earlier clicks may be in this very batch. Moved rows
    // are not rows added.
    let (ids, near): (Vec<_>, Vec<_>) = records
        .iter()
        .flat_map(|r| r.attribution.corrects.iter().map(|id| (*id, r.occurred_at)))
        .unzip();
    corrections::move_to_bots(&mut *conn, &ids, &near).await?;
    Ok(rows)
}
