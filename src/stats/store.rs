//! The SQL of the stats read side: the range in the query's time zone, the
//! links of a scope, and the aggregates — from the rollups ([`rollups`]),
//! or from raw `clicks` when a filter needs them ([`raw`]). Reads only;
//! every statement is bounded by the scope's links and the time range.

mod raw;
mod rollups;

use sqlx::PgPool;
use time::OffsetDateTime;

pub(super) use raw::raw_conditions;
pub use raw::{click_rows, raw_aggregates, raw_series};
pub use rollups::{dimension_aggregates, rollup_aggregates, series, top_links};

use super::{Bound, Scope, StatsError};

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
