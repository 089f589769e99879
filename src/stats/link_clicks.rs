//! Human clicks per link over the last 30 days, for the link list's column
//! and its sort: read from the daily rollups (`click_rollups_daily`, the
//! `'all'` rows of kind `human`), one statement for a whole page of links.
//! The window is whole UTC days — today and the 29 before — so the figure
//! is the same on every page that shows it and reads no raw clicks.

use std::collections::HashMap;

use sqlx::PgPool;
use time::{Date, Duration, OffsetDateTime};

/// Days counted, today (UTC) included.
pub const WINDOW_DAYS: i64 = 30;

/// The first UTC day of the window that ends on `now`'s day.
pub fn window_start(now: OffsetDateTime) -> Date {
    now.date() - Duration::days(WINDOW_DAYS - 1)
}

/// Human clicks since `since` (a UTC day) of each of `link_ids`; a link
/// without any is absent from the map (it has 0).
pub async fn human_clicks(
    pool: &PgPool,
    link_ids: &[i64],
    since: Date,
) -> Result<HashMap<i64, i64>, sqlx::Error> {
    if link_ids.is_empty() {
        return Ok(HashMap::new());
    }
    let rows: Vec<(i64, i64)> = sqlx::query_as(
        "select link_id, sum(events)::bigint from click_rollups_daily \
         where link_id = any($1) and dimension = 'all' and kind = 'human' and day >= $2 \
         group by link_id",
    )
    .bind(link_ids)
    .bind(since)
    .fetch_all(pool)
    .await?;
    Ok(rows.into_iter().collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_window_is_today_and_the_29_days_before() {
        let now = time::macros::datetime!(2026-03-31 23:59 UTC);
        assert_eq!(window_start(now), time::macros::date!(2026 - 03 - 02));
    }
}
