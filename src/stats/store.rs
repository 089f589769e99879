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

/// A range cut for the rollups: whole UTC days read from
/// `click_rollups_daily`, the hours before and after them from `click_rollups`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Split {
    /// Hourly rows before the first whole day.
    pub head: (OffsetDateTime, OffsetDateTime),
    /// Whole days `[start, end)`.
    pub days: (time::Date, time::Date),
    /// Hourly rows after the last whole day.
    pub tail: (OffsetDateTime, OffsetDateTime),
}

impl Split {
    /// Cuts `[from, to)` at the UTC midnights inside it.
    pub fn new((from, to): (OffsetDateTime, OffsetDateTime)) -> Split {
        let midnight = |t: OffsetDateTime| {
            t.to_offset(time::UtcOffset::UTC)
                .replace_time(time::Time::MIDNIGHT)
        };
        let first = if midnight(from) == from {
            from
        } else {
            midnight(from) + time::Duration::DAY
        };
        let last = midnight(to);
        if first < last {
            Split {
                head: (from, first),
                days: (first.date(), last.date()),
                tail: (last, to),
            }
        } else {
            Split {
                head: (from, to),
                days: (first.date(), first.date()),
                tail: (to, to),
            }
        }
    }
}

/// A statement with `{links}` replaced by the scope's condition on `$1`
/// (`link_id = any($1)`, or none for the workspace): a plan that reads
/// `$1 is null or …` could not use the link index once PostgreSQL switches
/// to a generic plan.
fn scoped(sql: &'static str, links: Option<&[i64]>) -> sqlx::AssertSqlSafe<String> {
    let condition = if links.is_some() {
        "link_id = any($1)"
    } else {
        "$1::int8[] is null"
    };
    sqlx::AssertSqlSafe(sql.replace("{links}", condition))
}

/// Every aggregate of the range from the rollups (humans of the channels
/// the filter keeps, and every other kind), summed over the range.
pub async fn rollup_aggregates(
    pool: &PgPool,
    links: Option<&[i64]>,
    range: (OffsetDateTime, OffsetDateTime),
    channels: Option<&Filter>,
) -> Result<Vec<Aggregate>, sqlx::Error> {
    let (include, exclude) = channel_lists(channels);
    let split = Split::new(range);
    sqlx::query_as(scoped(
        "select kind, channel, dimension, value, sum(events)::int8 as events, sum(visitors)::int8 as visitors \
         from (select kind, channel, dimension, value, events, visitors from click_rollups \
               where {links} \
                 and ((hour >= $2 and hour < $3) or (hour >= $4 and hour < $5)) \
               union all \
               select kind, channel, dimension, value, events, visitors from click_rollups_daily \
               where {links} and day >= $6 and day < $7) r \
         where (kind <> 'human' or ((cardinality($8::text[]) = 0 or channel = any($8)) and not channel = any($9))) \
         group by 1, 2, 3, 4",
        links,
    ))
    .bind(links)
    .bind(split.head.0)
    .bind(split.head.1)
    .bind(split.tail.0)
    .bind(split.tail.1)
    .bind(split.days.0)
    .bind(split.days.1)
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
        if let Some(links) = links {
            q.push("link_id = any(")
                .push_bind(links.to_vec())
                .push(") and ");
        }
        q.push("hour >= ").push_bind(range.0);
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
    range: (OffsetDateTime, OffsetDateTime),
    limit: i64,
) -> Result<Vec<(i64, String, i64, i64)>, sqlx::Error> {
    let split = Split::new(range);
    sqlx::query_as(scoped(
        "select r.link_id, l.slug, sum(r.events)::int8, sum(r.visitors)::int8 \
         from (select link_id, events, visitors from click_rollups \
               where {links} and kind = 'human' and dimension = 'all' \
                 and ((hour >= $2 and hour < $3) or (hour >= $4 and hour < $5)) \
               union all \
               select link_id, events, visitors from click_rollups_daily \
               where {links} and kind = 'human' and dimension = 'all' \
                 and day >= $6 and day < $7) r \
         join links l on l.id = r.link_id \
         group by 1, 2 order by 3 desc, 1 limit $8",
        links,
    ))
    .bind(links)
    .bind(split.head.0)
    .bind(split.head.1)
    .bind(split.tail.0)
    .bind(split.tail.1)
    .bind(split.days.0)
    .bind(split.days.1)
    .bind(limit)
    .fetch_all(pool)
    .await
}

pub(super) fn raw_conditions(
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

#[cfg(test)]
mod tests {
    use time::macros::{date, datetime};

    use super::*;

    #[test]
    fn a_range_is_cut_into_partial_days_by_the_hour_and_whole_days() {
        let s = Split::new((
            datetime!(2026-11-01 15:30 UTC),
            datetime!(2026-11-04 02:00 UTC),
        ));
        assert_eq!(
            s.head,
            (
                datetime!(2026-11-01 15:30 UTC),
                datetime!(2026-11-02 0:00 UTC)
            )
        );
        assert_eq!(s.days, (date!(2026 - 11 - 02), date!(2026 - 11 - 04)));
        assert_eq!(
            s.tail,
            (
                datetime!(2026-11-04 0:00 UTC),
                datetime!(2026-11-04 02:00 UTC)
            )
        );
        let whole = Split::new((
            datetime!(2026-11-01 0:00 UTC),
            datetime!(2026-11-03 0:00 UTC),
        ));
        assert_eq!(whole.days, (date!(2026 - 11 - 01), date!(2026 - 11 - 03)));
        assert_eq!(whole.head.0, whole.head.1, "no partial day before");
        let inside = Split::new((
            datetime!(2026-11-01 1:00 UTC),
            datetime!(2026-11-01 5:00 UTC),
        ));
        assert_eq!(
            inside.head,
            (
                datetime!(2026-11-01 1:00 UTC),
                datetime!(2026-11-01 5:00 UTC)
            )
        );
        assert_eq!(inside.days.0, inside.days.1, "no whole day");
        let paris = Split::new((datetime!(2026-11-01 0:00 +1), datetime!(2026-11-03 0:00 +1)));
        assert_eq!(
            paris.head,
            (
                datetime!(2026-10-31 23:00 UTC),
                datetime!(2026-11-01 0:00 UTC)
            )
        );
        assert_eq!(paris.days, (date!(2026 - 11 - 01), date!(2026 - 11 - 02)));
    }
}
