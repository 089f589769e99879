//! Reads of raw `clicks`: the aggregates and the time series when a filter
//! names a dimension the rollups cannot combine (they hold one dimension
//! per row), and the rows of the clicks export.

use futures_util::Stream;
use sqlx::{PgPool, Postgres, QueryBuilder, postgres::PgRow};
use time::OffsetDateTime;

use super::Aggregate;
use crate::stats::{Dimension, Filter, Interval};

/// The human aggregates of the range counted from raw `clicks`, for
/// filters on dimensions the rollups cannot combine. Visitors are distinct
/// (link, UTC day, visitor) per value.
pub async fn raw_aggregates(
    pool: &PgPool,
    links: Option<&[i64]>,
    (from, to): (OffsetDateTime, OffsetDateTime),
    filters: &[(Dimension, Filter)],
) -> Result<Vec<Aggregate>, sqlx::Error> {
    let mut q = QueryBuilder::<Postgres>::new(
        "select 'human' as kind, coalesce(channel, '') as channel, d.dimension, coalesce(d.value, '') as value, \
         count(*) as events, count(distinct (link_id, (occurred_at at time zone 'UTC')::date, visitor_hash)) \
         filter (where visitor_hash is not null) as visitors \
         from clicks cross join lateral (values ('all', null::text)",
    );
    for d in Dimension::BREAKDOWNS {
        q.push(format_args!(", ('{}', {})", d.field(), d.column()));
    }
    q.push(") as d(dimension, value) where ");
    raw_conditions(&mut q, links, (from, to), filters);
    q.push(" group by 1, 2, 3, 4");
    q.build_query_as().fetch_all(pool).await
}

/// Human clicks per bucket and channel from raw clicks (`date_trunc` in
/// the time zone), under every filter.
pub async fn raw_series(
    pool: &PgPool,
    links: Option<&[i64]>,
    range: (OffsetDateTime, OffsetDateTime),
    (interval, tz): (Interval, &str),
    filters: &[(Dimension, Filter)],
) -> Result<Vec<(OffsetDateTime, String, i64)>, sqlx::Error> {
    let mut q = QueryBuilder::<Postgres>::new("select date_trunc(");
    q.push_bind(interval.as_str()).push(", ");
    q.push("occurred_at, ").push_bind(tz.to_owned());
    q.push("), coalesce(channel, ''), count(*) from clicks where ");
    raw_conditions(&mut q, links, range, filters);
    q.push(" group by 1, 2 order by 1, 2");
    q.build_query_as().fetch_all(pool).await
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
