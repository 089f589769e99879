//! Calendar questions in an IANA time zone, answered by PostgreSQL (whose
//! time-zone database the stats queries already use, so that the page and
//! the figures never disagree on where a day starts): today's date, and the
//! buckets of a time series, gaps included.

use sqlx::PgPool;
use time::{Date, OffsetDateTime, PrimitiveDateTime};

use super::{Interval, StatsError};

/// Today's date in `tz`; an unknown zone is a 400 naming `tz`.
pub async fn today(pool: &PgPool, tz: &str) -> Result<Date, StatsError> {
    sqlx::query_scalar("select (now() at time zone $1)::date")
        .bind(tz)
        .fetch_one(pool)
        .await
        .map_err(|e| match e {
            sqlx::Error::Database(d) if d.code().as_deref() == Some("22023") => {
                StatsError::invalid("tz", "unknown time zone")
            }
            e => e.into(),
        })
}

/// Every bucket start of `[from, to)` at `interval` in `tz` (the same
/// `date_trunc` the series uses), as instants and as local times.
pub async fn buckets(
    pool: &PgPool,
    (from, to): (OffsetDateTime, OffsetDateTime),
    interval: Interval,
    tz: &str,
) -> Result<Vec<(OffsetDateTime, PrimitiveDateTime)>, StatsError> {
    // Local timestamps step by the calendar (a day is a day across a DST
    // change), then each turns back into an instant in the zone.
    Ok(sqlx::query_as(
        "select g at time zone $4, g from generate_series( \
             date_trunc($1, $2::timestamptz at time zone $4), \
             $3::timestamptz at time zone $4, ('1 ' || $1)::interval) g \
         where g at time zone $4 < $3 limit 2000",
    )
    .bind(interval.as_str())
    .bind(from)
    .bind(to)
    .bind(tz)
    .fetch_all(pool)
    .await?)
}
