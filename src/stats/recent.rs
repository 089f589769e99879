//! The most recent human clicks of a scope, for the dashboard's "recent
//! clicks" list: an analyst checks single clicks against the figures. Never
//! an IP (none is stored) nor the visitor hash.
//!
//! Read newest first in widening windows (the last hour, day, week, then
//! the whole range), each link's newest clicks by the `(link_id,
//! occurred_at)` index and the scope's newest of those, so that a busy scope
//! is answered from its latest clicks instead of sorting the range. The
//! whole workspace is read link by link too: the BRIN index on `occurred_at`
//! cannot give rows in order, and a block range it has not summarised yet
//! (every range written since the last vacuum) is read whole — 147 ms for
//! the last hour after a 300,000-click day was written, where the per-link
//! reads take a few milliseconds whatever the rate.

use sqlx::{PgPool, Postgres, QueryBuilder};
use time::{Duration, OffsetDateTime};

use super::{StatsError, StatsQuery, store};

/// Clicks the list shows.
pub const LIMIT: usize = 50;

/// One stored human click, as the list shows it.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct RecentClick {
    /// When it happened.
    pub occurred_at: OffsetDateTime,
    /// The same in the query's time zone (`2026-12-02 14:05:09`).
    pub local_time: String,
    /// Its link.
    pub link_id: i64,
    /// The link's slug.
    pub slug: String,
    /// Stored channel (`''` for none).
    pub channel: String,
    /// App, engine or site (`''` for none).
    pub source: String,
    /// The evidence, space separated (`inapp_ua:instagram recent_preview`).
    pub evidence: String,
    /// ISO country code (`''` when unknown).
    pub country: String,
    /// Device class.
    pub device: String,
    /// Browser family.
    pub browser: String,
    /// Operating system.
    pub os: String,
    /// Referrer host (`''` for none).
    pub referrer_host: String,
}

/// The newest [`LIMIT`] human clicks of the query's scope and filters in
/// `range`, newest first.
pub async fn recent_clicks(
    pool: &PgPool,
    q: &StatsQuery,
    (from, to): (OffsetDateTime, OffsetDateTime),
) -> Result<Vec<RecentClick>, StatsError> {
    let links = match store::scope_links(pool, &q.scope).await? {
        Some(links) => links,
        // Links are never hard-deleted: these are every link clicked.
        None => {
            sqlx::query_scalar("select id from links")
                .fetch_all(pool)
                .await?
        }
    };
    if links.is_empty() {
        return Ok(Vec::new());
    }
    for window in [Duration::hours(1), Duration::days(1), Duration::days(7)] {
        let start = (to - window).max(from);
        let rows = window_clicks(pool, q, &links, (start, to)).await?;
        if rows.len() >= LIMIT || start == from {
            return Ok(rows);
        }
    }
    Ok(window_clicks(pool, q, &links, (from, to)).await?)
}

async fn window_clicks(
    pool: &PgPool,
    q: &StatsQuery,
    links: &[i64],
    range: (OffsetDateTime, OffsetDateTime),
) -> Result<Vec<RecentClick>, sqlx::Error> {
    let mut b =
        QueryBuilder::<Postgres>::new("select c.occurred_at, to_char(c.occurred_at at time zone ");
    b.push_bind(q.tz.clone());
    b.push(
        ", 'YYYY-MM-DD HH24:MI:SS') as local_time, c.link_id, coalesce(l.slug, '') as slug, \
         coalesce(c.channel, '') as channel, coalesce(c.source, '') as source, \
         coalesce(array_to_string(c.evidence, ' '), '') as evidence, \
         coalesce(c.country, '') as country, coalesce(c.device, '') as device, \
         coalesce(c.browser, '') as browser, coalesce(c.os, '') as os, \
         coalesce(c.referrer_host, '') as referrer_host \
         from unnest(",
    );
    b.push_bind(links.to_vec());
    b.push(
        "::int8[]) as s(link) join links l on l.id = s.link \
         cross join lateral (select * from clicks where link_id = s.link and ",
    );
    store::raw_conditions(&mut b, None, range, &q.filters);
    b.push(" order by occurred_at desc limit ")
        .push_bind(LIMIT as i64)
        .push(") c order by c.occurred_at desc limit ")
        .push_bind(LIMIT as i64);
    b.build_query_as().fetch_all(pool).await
}
