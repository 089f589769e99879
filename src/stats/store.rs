//! The SQL of the stats read side: the range in the query's time zone, the
//! links of a scope, and the aggregates — from `click_rollups`, or from raw
//! `clicks` when a filter needs them. Reads only; every statement is bounded
//! by the scope's links and the time range.

use futures_util::Stream;
use sqlx::{PgPool, Postgres, QueryBuilder, postgres::PgRow};
use time::OffsetDateTime;

use super::{Bound, Dimension, Filter, Interval, Scope, StatsError};

/// One aggregate: requests of a kind and channel with a dimension's value.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Aggregate {
    /// Stored kind.
    pub kind: String,
    /// Stored channel (`''` for none).
    pub channel: String,
    /// `all` or a dimension's name.
    pub dimension: String,
    /// The value (`''` when unknown, and for `all`).
    pub value: String,
    /// Requests.
    pub events: i64,
    /// Daily visitors.
    pub visitors: i64,
}

/// Resolves the range: dates are midnights in `tz` (a `to` date includes
/// its day); the default end is now and the default start 30 days before.
/// An unknown time zone is a 400 naming `tz`.
pub async fn resolve_range(
    pool: &PgPool,
    from: Option<Bound>,
    to: Option<Bound>,
    tz: &str,
) -> Result<(OffsetDateTime, OffsetDateTime), StatsError> {
    let ((from_day, from_at), (to_day, to_at)) = (split(from), split(to));
    // The last column checks the time zone even when no date needs it.
    let row: Result<(OffsetDateTime, OffsetDateTime, time::PrimitiveDateTime), sqlx::Error> = sqlx::query_as(
        "with t as (select coalesce($3::timestamptz, ($4::date + 1)::timestamp at time zone $5, now()) as to_at) \
         select coalesce($1::timestamptz, $2::date::timestamp at time zone $5, to_at - interval '30 days'), to_at, \
         now() at time zone $5 from t",
    )
    .bind(from_at)
    .bind(from_day)
    .bind(to_at)
    .bind(to_day)
    .bind(tz)
    .fetch_one(pool)
    .await;
    match row {
        Ok((from, to, _)) if from < to => Ok((from, to)),
        Ok(_) => Err(StatsError::invalid("from", "must be before to")),
        Err(sqlx::Error::Database(e)) if e.code().as_deref() == Some("22023") => {
            Err(StatsError::invalid("tz", "unknown time zone"))
        }
        Err(e) => Err(e.into()),
    }
}

fn split(b: Option<Bound>) -> (Option<time::Date>, Option<OffsetDateTime>) {
    match b {
        Some(Bound::Day(d)) => (Some(d), None),
        Some(Bound::Instant(t)) => (None, Some(t)),
        None => (None, None),
    }
}

/// The link ids of a scope; `None` for the whole workspace. A link scope
/// must name a link (deleted ones keep their statistics).
pub async fn scope_links(pool: &PgPool, scope: &Scope) -> Result<Option<Vec<i64>>, StatsError> {
    let ids: Vec<i64> = match scope {
        Scope::Workspace => return Ok(None),
        Scope::Link(id) => {
            let found: Option<i64> = sqlx::query_scalar("select id from links where id = $1")
                .bind(id)
                .fetch_optional(pool)
                .await?;
            return found
                .map(|id| Some(vec![id]))
                .ok_or(StatsError::UnknownLink);
        }
        Scope::Campaign(c) => {
            sqlx::query_scalar("select id from links where utm_campaign = $1")
                .bind(c)
                .fetch_all(pool)
                .await?
        }
        Scope::Tag(t) => {
            sqlx::query_scalar("select id from links where tags @> array[$1]")
                .bind(t)
                .fetch_all(pool)
                .await?
        }
    };
    Ok(Some(ids))
}

/// Every aggregate of the range from the rollups (humans of the channels
/// the filter keeps, and every other kind), summed over hours.
pub async fn rollup_aggregates(
    pool: &PgPool,
    links: Option<&[i64]>,
    (from, to): (OffsetDateTime, OffsetDateTime),
    channels: Option<&Filter>,
) -> Result<Vec<Aggregate>, sqlx::Error> {
    let (include, exclude) = channel_lists(channels);
    sqlx::query_as(
        "select kind, channel, dimension, value, sum(events)::int8 as events, sum(visitors)::int8 as visitors \
         from click_rollups \
         where ($1::int8[] is null or link_id = any($1)) and hour >= $2 and hour < $3 \
           and (kind <> 'human' or ((cardinality($4::text[]) = 0 or channel = any($4)) and not channel = any($5))) \
         group by 1, 2, 3, 4",
    )
    .bind(links)
    .bind(from)
    .bind(to)
    .bind(include)
    .bind(exclude)
    .fetch_all(pool)
    .await
}

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

/// Human clicks per bucket and channel (`date_trunc` in the time zone).
pub async fn series(
    pool: &PgPool,
    links: Option<&[i64]>,
    range: (OffsetDateTime, OffsetDateTime),
    (interval, tz): (Interval, &str),
    filters: &[(Dimension, Filter)],
    raw: bool,
) -> Result<Vec<(OffsetDateTime, String, i64)>, sqlx::Error> {
    let mut q = QueryBuilder::<Postgres>::new("select date_trunc(");
    q.push_bind(interval.as_str()).push(", ");
    if raw {
        q.push("occurred_at, ").push_bind(tz.to_owned());
        q.push("), coalesce(channel, ''), count(*) from clicks where ");
        raw_conditions(&mut q, links, range, filters);
    } else {
        q.push("hour, ").push_bind(tz.to_owned());
        q.push("), channel, sum(events)::int8 from click_rollups where kind = 'human' and dimension = 'all' and ");
        q.push("(")
            .push_bind(links.map(<[i64]>::to_vec))
            .push("::int8[] is null or link_id = any(");
        q.push_bind(links.map(<[i64]>::to_vec))
            .push(")) and hour >= ")
            .push_bind(range.0);
        q.push(" and hour < ").push_bind(range.1);
        if let Some(f) = filters.iter().find(|(d, _)| *d == Dimension::Channel) {
            push_filter(&mut q, "channel", &f.1);
        }
    }
    q.push(" group by 1, 2 order by 1, 2");
    q.build_query_as().fetch_all(pool).await
}

/// The top human links of the range: (id, slug, clicks, visitors).
pub async fn top_links(
    pool: &PgPool,
    links: Option<&[i64]>,
    (from, to): (OffsetDateTime, OffsetDateTime),
    limit: i64,
) -> Result<Vec<(i64, String, i64, i64)>, sqlx::Error> {
    sqlx::query_as(
        "select r.link_id, l.slug, sum(r.events)::int8, sum(r.visitors)::int8 from click_rollups r \
         join links l on l.id = r.link_id \
         where ($1::int8[] is null or r.link_id = any($1)) and r.hour >= $2 and r.hour < $3 \
           and r.kind = 'human' and r.dimension = 'all' \
         group by 1, 2 order by 3 desc, 1 limit $4",
    )
    .bind(links)
    .bind(from)
    .bind(to)
    .bind(limit)
    .fetch_all(pool)
    .await
}

fn raw_conditions(
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

fn channel_lists(f: Option<&Filter>) -> (Vec<String>, Vec<String>) {
    f.map(|f| (f.include.clone(), f.exclude.clone()))
        .unwrap_or_default()
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
