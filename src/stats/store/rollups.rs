//! Reads of the rollups. A link scope reads `click_rollups` (partial days,
//! by the hour) and `click_rollups_daily` (whole UTC days) of its links;
//! the workspace reads `workspace_rollups` and `workspace_rollups_daily`,
//! the same rows summed over every link, so that its cost follows the range
//! and not the number of links. Hourly reads name every dimension
//! (`dimension = any(…)`) so that the index bounds them by the hour.

use sqlx::PgPool;
use time::OffsetDateTime;

use super::{Aggregate, Split};
use crate::stats::{Dimension, Filter, Interval};

/// `all` and every rolled-up dimension: the second column of the hourly
/// keys, named so that an hour range bounds the index scan.
fn dimensions() -> Vec<&'static str> {
    std::iter::once("all")
        .chain(Dimension::BREAKDOWNS.iter().map(|d| d.field()))
        .collect()
}

/// A statement for the scope: `{links}` becomes `link_id = any($1)` (or a
/// condition on `$1` that is always true for the workspace, so that the
/// parameters keep their numbers), `{hourly}` and `{daily}` the tables.
/// The scope's condition is written in the statement rather than as
/// `$1 is null or …`, which a generic plan could not use the index for.
fn scoped(sql: &'static str, links: Option<&[i64]>) -> sqlx::AssertSqlSafe<String> {
    let (condition, hourly, daily) = if links.is_some() {
        ("link_id = any($1)", "click_rollups", "click_rollups_daily")
    } else {
        (
            "$1::int8[] is null",
            "workspace_rollups",
            "workspace_rollups_daily",
        )
    };
    sqlx::AssertSqlSafe(
        sql.replace("{links}", condition)
            .replace("{hourly}", hourly)
            .replace("{daily}", daily),
    )
}

fn channel_lists(f: Option<&Filter>) -> (Vec<String>, Vec<String>) {
    f.map(|f| (f.include.clone(), f.exclude.clone()))
        .unwrap_or_default()
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
         from (select kind, channel, dimension, value, events, visitors from {hourly} \
               where {links} and dimension = any($10) and hour >= $2 and hour < $3 \
               union all \
               select kind, channel, dimension, value, events, visitors from {hourly} \
               where {links} and dimension = any($10) and hour >= $4 and hour < $5 \
               union all \
               select kind, channel, dimension, value, events, visitors from {daily} \
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
    .bind(dimensions())
    .fetch_all(pool)
    .await
}

/// Human clicks per bucket and channel (`date_trunc` in the time zone),
/// every click (`all` rows), or with `values`, those whose value of one
/// dimension the filter keeps. See [`series_split`] for the rows read.
pub async fn series(
    pool: &PgPool,
    links: Option<&[i64]>,
    range: (OffsetDateTime, OffsetDateTime),
    (interval, tz): (Interval, &str),
    channels: Option<&Filter>,
    values: Option<(Dimension, &Filter)>,
) -> Result<Vec<(OffsetDateTime, String, i64)>, sqlx::Error> {
    let (include, exclude) = channel_lists(channels);
    let (dimension, kept, left) = match values {
        Some((d, f)) => (d.field(), f.include.clone(), f.exclude.clone()),
        None => ("all", Vec::new(), Vec::new()),
    };
    let split = series_split(range, interval, tz);
    sqlx::query_as(scoped(
        "select date_trunc($8, t, $9), channel, sum(events)::int8 \
         from (select hour as t, channel, value, events from {hourly} \
               where {links} and dimension = $12 and hour >= $2 and hour < $3 and kind = 'human' \
               union all \
               select hour, channel, value, events from {hourly} \
               where {links} and dimension = $12 and hour >= $4 and hour < $5 and kind = 'human' \
               union all \
               select day::timestamp at time zone 'UTC', channel, value, events from {daily} \
               where {links} and dimension = $12 and day >= $6 and day < $7 and kind = 'human') r \
         where (cardinality($10::text[]) = 0 or channel = any($10)) and not channel = any($11) \
         and (cardinality($13::text[]) = 0 or value = any($13)) and not value = any($14) \
         group by 1, 2 order by 1, 2",
        links,
    ))
    .bind(links)
    .bind(split.head.0)
    .bind(split.head.1)
    .bind(split.tail.0)
    .bind(split.tail.1)
    .bind(split.days.0)
    .bind(split.days.1)
    .bind(interval.as_str())
    .bind(tz)
    .bind(include)
    .bind(exclude)
    .bind(dimension)
    .bind(kept)
    .bind(left)
    .fetch_all(pool)
    .await
}

/// The cut of a series' range: in UTC, buckets of a day or more read whole
/// days from the daily rows; in other zones a bucket can start at any hour,
/// so hours are read.
fn series_split(range: (OffsetDateTime, OffsetDateTime), interval: Interval, tz: &str) -> Split {
    let utc = matches!(
        tz,
        "UTC" | "Etc/UTC" | "Etc/UCT" | "UCT" | "Zulu" | "Etc/Zulu"
    );
    if utc && interval != Interval::Hour {
        Split::new(range)
    } else {
        let day = range.1.to_offset(time::UtcOffset::UTC).date();
        Split {
            head: range,
            days: (day, day),
            tail: (range.1, range.1),
        }
    }
}

/// The top human links of the range: (id, slug, clicks, visitors). Whole
/// UTC days come from `link_days` (one row per link and day; for the
/// workspace by its `(day)` index), the partial days at the ends from the
/// hourly `all` rows.
pub async fn top_links(
    pool: &PgPool,
    links: Option<&[i64]>,
    range: (OffsetDateTime, OffsetDateTime),
    limit: i64,
) -> Result<Vec<(i64, String, i64, i64)>, sqlx::Error> {
    let split = Split::new(range);
    let condition = if links.is_some() {
        "link_id = any($1)"
    } else {
        "$1::int8[] is null"
    };
    let sql = "select r.link_id, l.slug, sum(r.events)::int8, sum(r.visitors)::int8 \
         from (select link_id, events, visitors from click_rollups \
               where {links} and dimension = 'all' and hour >= $2 and hour < $3 and kind = 'human' \
               union all \
               select link_id, events, visitors from click_rollups \
               where {links} and dimension = 'all' and hour >= $4 and hour < $5 and kind = 'human' \
               union all \
               select link_id, clicks, visitors from link_days \
               where {links} and day >= $6 and day < $7) r \
         join links l on l.id = r.link_id \
         group by 1, 2 order by 3 desc, 1 limit $8";
    sqlx::query_as(sqlx::AssertSqlSafe(sql.replace("{links}", condition)))
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

/// The human rows of one dimension whose value the filter keeps (and the
/// channels `channels` keeps), summed over the range: what a view filtered
/// on that dimension alone counts, exactly, from the rollups.
pub async fn dimension_aggregates(
    pool: &PgPool,
    links: Option<&[i64]>,
    range: (OffsetDateTime, OffsetDateTime),
    channels: Option<&Filter>,
    (dimension, values): (Dimension, &Filter),
) -> Result<Vec<Aggregate>, sqlx::Error> {
    let (include, exclude) = channel_lists(channels);
    let split = Split::new(range);
    sqlx::query_as(scoped(
        "select kind, channel, dimension, value, sum(events)::int8 as events, sum(visitors)::int8 as visitors \
         from (select kind, channel, dimension, value, events, visitors from {hourly} \
               where {links} and dimension = $10 and hour >= $2 and hour < $3 \
               union all \
               select kind, channel, dimension, value, events, visitors from {hourly} \
               where {links} and dimension = $10 and hour >= $4 and hour < $5 \
               union all \
               select kind, channel, dimension, value, events, visitors from {daily} \
               where {links} and dimension = $10 and day >= $6 and day < $7) r \
         where kind = 'human' and (cardinality($8::text[]) = 0 or channel = any($8)) and not channel = any($9) \
         and (cardinality($11::text[]) = 0 or value = any($11)) and not value = any($12) \
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
    .bind(dimension.field())
    .bind(&values.include)
    .bind(&values.exclude)
    .fetch_all(pool)
    .await
}
