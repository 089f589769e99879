//! Reads of raw `clicks`: the aggregates and the time series when a filter
//! names a dimension the rollups cannot combine (they hold one dimension
//! per row), and the rows of the clicks export.

use std::time::Duration;

use futures_util::Stream;
use sqlx::{PgPool, Postgres, QueryBuilder, postgres::PgRow};
use time::OffsetDateTime;

use super::Aggregate;
use crate::stats::{Dimension, Filter, Interval};

/// Runs a raw read within `budget` (`stats.raw_budget`: the dashboard's
/// pages must answer within 200 ms, and a raw read of a busy scope, a 1
/// M-click link over 90 days, takes seconds); `None` when it ran out of
/// time.
async fn within_budget<T>(
    pool: &PgPool,
    mut q: QueryBuilder<Postgres>,
    budget: Duration,
) -> Result<Option<Vec<T>>, sqlx::Error>
where
    T: for<'r> sqlx::FromRow<'r, PgRow> + Send + Unpin,
{
    let mut tx = pool.begin().await?;
    // Sorts of a few thousand rows stay in memory (4 MB spilled to disk).
    sqlx::query(
        "select set_config('statement_timeout', $1, true), set_config('work_mem', '32MB', true)",
    )
    .bind(format!("{}ms", budget.as_millis().max(1)))
    .execute(&mut *tx)
    .await?;
    match q.build_query_as().fetch_all(&mut *tx).await {
        Ok(rows) => {
            tx.commit().await?;
            Ok(Some(rows))
        }
        // query_canceled: the statement timeout (the transaction rolls back).
        Err(sqlx::Error::Database(e)) if e.code().as_deref() == Some("57014") => Ok(None),
        Err(e) => Err(e),
    }
}

/// The human aggregates of the range counted from raw `clicks`, for
/// filters on dimensions the rollups cannot combine, within
/// `budget` (`None` past it). Visitors are distinct (link, UTC day,
/// visitor) per value. With `except`, only the other dimensions are
/// counted (the view has `all` and that one from the rollups). One pass of
/// `grouping sets`, one per dimension: three times faster than a row per
/// dimension and click (22 against 67 ms for 7,500 clicks).
pub async fn raw_aggregates(
    pool: &PgPool,
    links: Option<&[i64]>,
    (from, to): (OffsetDateTime, OffsetDateTime),
    (filters, except): (&[(Dimension, Filter)], Option<Dimension>),
    budget: Duration,
) -> Result<Option<Vec<Aggregate>>, sqlx::Error> {
    // Names and columns of ours, never user input.
    let dims: Vec<Dimension> = Dimension::BREAKDOWNS
        .into_iter()
        .filter(|d| Some(*d) != except)
        .collect();
    let which = |pick: &dyn Fn(Dimension) -> String, otherwise: &str| {
        let arms: String = dims
            .iter()
            .map(|d| format!("when grouping({}) = 0 then {} ", d.column(), pick(*d)))
            .collect();
        format!("case {arms}else {otherwise} end")
    };
    let dimension = which(&|d| format!("'{}'", d.field()), "'all'");
    let value = which(&|d| d.column().to_owned(), "null");
    let mut sets: Vec<String> = dims
        .iter()
        .map(|d| format!("(channel, {})", d.column()))
        .collect();
    if except.is_none() {
        sets.push("(channel)".to_owned());
    }
    let mut q = QueryBuilder::<Postgres>::new(format!(
        "select 'human' as kind, coalesce(channel, '') as channel, {dimension} as dimension, \
         coalesce({value}, '') as value, count(*) as events, \
         count(distinct (link_id, (occurred_at at time zone 'UTC')::date, visitor_hash)) \
         filter (where visitor_hash is not null) as visitors from clicks where "
    ));
    raw_conditions(&mut q, links, (from, to), filters);
    q.push(format_args!(
        " group by grouping sets ({})",
        sets.join(", ")
    ));
    within_budget(pool, q, budget).await
}

/// Human clicks per bucket and channel from raw clicks (`date_trunc` in
/// the time zone), under every filter, within `budget`.
pub async fn raw_series(
    pool: &PgPool,
    links: Option<&[i64]>,
    range: (OffsetDateTime, OffsetDateTime),
    (interval, tz): (Interval, &str),
    filters: &[(Dimension, Filter)],
    budget: Duration,
) -> Result<Option<Vec<(OffsetDateTime, String, i64)>>, sqlx::Error> {
    let mut q = QueryBuilder::<Postgres>::new("select date_trunc(");
    q.push_bind(interval.as_str()).push(", ");
    q.push("occurred_at, ").push_bind(tz.to_owned());
    q.push("), coalesce(channel, ''), count(*) from clicks where ");
    raw_conditions(&mut q, links, range, filters);
    q.push(" group by 1, 2 order by 1, 2");
    within_budget(pool, q, budget).await
}

pub(in crate::stats) fn raw_conditions(
    q: &mut QueryBuilder<Postgres>,
    links: Option<&[i64]>,
    (from, to): (OffsetDateTime, OffsetDateTime),
    filters: &[(Dimension, Filter)],
) {
    q.push("occurred_at >= ").push_bind(from);
    q.push(" and occurred_at < ").push_bind(to);
    if let Some(links) = links {
        q.push(" and link_id = any(")
            .push_bind(links.to_vec())
            .push(")");
    }
    for (d, f) in filters {
        push_filter(q, d.column(), f);
    }
}

/// `and coalesce(col, '') = any(include) and not coalesce(col, '') = any(exclude)`;
/// `col` is one of [`Dimension::column`], never user input.
fn push_filter(q: &mut QueryBuilder<Postgres>, column: &'static str, f: &Filter) {
    if !f.include.is_empty() {
        q.push(format_args!(" and coalesce({column}, '') = any("));
        q.push_bind(f.include.clone()).push(")");
    }
    if !f.exclude.is_empty() {
        q.push(format_args!(" and not coalesce({column}, '') = any("));
        q.push_bind(f.exclude.clone()).push(")");
    }
}

/// A link's human clicks in the range, oldest first, every column as text
/// in the order of the clicks export (the visitor hash is never read).
pub fn click_rows(
    pool: &PgPool,
    link_id: i64,
    (from, to): (OffsetDateTime, OffsetDateTime),
) -> impl Stream<Item = Result<PgRow, sqlx::Error>> + Send + '_ {
    sqlx::query(
        "select id::text, to_char(occurred_at at time zone 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"'), \
         link_id::text, method, user_agent, referer, sec_fetch_site, sec_fetch_mode, sec_fetch_dest, \
         sec_fetch_user, purpose, accept_language, dnt::text, gpc::text, channel, source, inapp, \
         array_to_string(evidence, ' '), browser, os, device, country, region, city, referrer_host, \
         utm_source, utm_medium, utm_campaign \
         from clicks where link_id = $1 and occurred_at >= $2 and occurred_at < $3 order by occurred_at",
    )
    .bind(link_id)
    .bind(from)
    .bind(to)
    .fetch(pool)
}
