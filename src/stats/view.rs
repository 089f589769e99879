//! The stats view: the figures of one scope and range, as the stats API
//! answers them and the dashboard shows them. Built from aggregates (see
//! `store.rs`); the shape here is the API's contract.

use std::collections::BTreeMap;

use serde::Serialize;
use sqlx::PgPool;
use time::OffsetDateTime;

use super::{
    Dimension, Interval, StatsError, StatsQuery, figures, parse_kind,
    store::{self, Aggregate},
};
use crate::attribution::{Channel, Kind};

/// Headline figures of a period.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Totals {
    /// Human clicks.
    pub clicks: i64,
    /// Daily visitors (unique per link and day, summed over days).
    pub visitors: i64,
    /// Human clicks on the dark-social channel.
    pub dark_social: i64,
    /// Human clicks on the direct channel.
    pub direct: i64,
    /// Link previews by messaging and social apps.
    pub share_events: i64,
    /// Requests by bots.
    pub bots: i64,
    /// Prefetches and HEAD requests.
    pub prefetches: i64,
}

/// One time-series bucket: clicks in all and per channel (every channel
/// present, dark social and direct as their own series).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Bucket {
    /// Bucket start.
    #[serde(with = "time::serde::rfc3339")]
    pub start: OffsetDateTime,
    /// Human clicks.
    pub clicks: i64,
    /// Human clicks per channel.
    pub channels: BTreeMap<&'static str, i64>,
}

/// Clicks and visitors of a channel.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct ChannelRow {
    /// The channel.
    pub channel: Channel,
    /// Human clicks.
    pub clicks: i64,
    /// Daily visitors.
    pub visitors: i64,
}

/// Dark-social clicks of an app.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct SourceRow {
    /// The app.
    pub source: String,
    /// Clicks.
    pub clicks: i64,
}

/// Dark-social clicks by the signal that decided them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct EvidenceRow {
    /// `in_app_browser`, `declared_channel`, `utm`, `recent_preview`,
    /// `outside_browser`, `app_referrer` or `other`.
    pub signal: &'static str,
    /// How strong the claim is: `strong` (the app says so), `good` (the
    /// marketer declared it) or `likely` (timing or heuristics).
    pub strength: &'static str,
    /// Clicks.
    pub clicks: i64,
}

/// Previews by an app, and the dark-social clicks attributed to that app.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct ShareRow {
    /// The app.
    pub app: String,
    /// Previews (share events).
    pub previews: i64,
    /// Dark-social clicks from that app.
    pub clicks: i64,
    /// Clicks per share.
    pub clicks_per_share: f64,
}

/// One value of a breakdown (`unknown` when not known).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Row {
    /// The value.
    pub value: String,
    /// Human clicks.
    pub clicks: i64,
    /// Daily visitors.
    pub visitors: i64,
}

/// A top link.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct LinkRow {
    /// Link id.
    pub link_id: i64,
    /// Its slug.
    pub slug: String,
    /// Human clicks.
    pub clicks: i64,
    /// Daily visitors.
    pub visitors: i64,
}

/// Requests of a kind.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct KindRow {
    /// human, preview, bot or prefetch.
    pub kind: Kind,
    /// Requests.
    pub requests: i64,
}

/// Everything the dashboard shows for a scope and range.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StatsView {
    /// Range start (included).
    #[serde(with = "time::serde::rfc3339")]
    pub from: OffsetDateTime,
    /// Range end (excluded).
    #[serde(with = "time::serde::rfc3339")]
    pub to: OffsetDateTime,
    /// Bucket width of `timeseries`.
    pub interval: Interval,
    /// Time zone of the buckets.
    pub tz: String,
    /// Headline figures.
    pub totals: Totals,
    /// The same for the previous period of equal length.
    pub previous: Totals,
    /// Clicks per bucket and channel.
    pub timeseries: Vec<Bucket>,
    /// Clicks per channel.
    pub channels: Vec<ChannelRow>,
    /// Dark-social clicks per app.
    pub dark_social_sources: Vec<SourceRow>,
    /// Dark-social clicks per deciding signal.
    pub dark_social_evidence: Vec<EvidenceRow>,
    /// Previews per app with the clicks that followed.
    pub share_events: Vec<ShareRow>,
    /// Breakdowns of human clicks by dimension (`sources`, `countries`, …).
    #[serde(flatten)]
    pub breakdowns: BTreeMap<&'static str, Vec<Row>>,
    /// Top links.
    pub links: Vec<LinkRow>,
    /// Requests per kind.
    pub kinds: Vec<KindRow>,
}

/// The stats view of a query. The range and the scope are resolved first;
/// then the aggregates of the range and of the previous period, the time
/// series and the top links are read at the same time, each on its own
/// pool connection.
pub async fn view(pool: &PgPool, q: &StatsQuery) -> Result<StatsView, StatsError> {
    let ((from, to), links) = tokio::try_join!(
        store::resolve_range(pool, q.from, q.to, &q.tz),
        store::scope_links(pool, &q.scope),
    )?;
    let interval = q.interval.unwrap_or_else(|| Interval::for_range(to - from));
    let links = links.as_deref();
    // Filters on anything but the channel need raw clicks (one dimension per rollup row).
    let raw = q.filters.iter().any(|(d, _)| *d != Dimension::Channel);
    let previous = (from - (to - from), from);
    let channels = q.channel_filter();
    let range = (from, to);
    let (now, before, series, top) = tokio::try_join!(
        aggregates(pool, links, range, q, raw),
        aggregates(pool, links, previous, q, raw),
        async {
            if raw {
                store::raw_series(pool, links, range, (interval, &q.tz), &q.filters).await
            } else {
                store::series(pool, links, range, (interval, &q.tz), channels).await
            }
        },
        store::top_links(pool, links, range, figures::TOP as i64),
    )?;
    Ok(StatsView {
        from,
        to,
        interval,
        tz: q.tz.clone(),
        totals: figures::totals(&now),
        previous: figures::totals(&before),
        timeseries: figures::timeseries(series),
        channels: figures::channel_rows(&now),
        dark_social_sources: figures::dark_social_sources(&now),
        dark_social_evidence: figures::dark_social_evidence(&now),
        share_events: figures::share_rows(&now),
        breakdowns: figures::breakdowns(&now),
        links: top
            .into_iter()
            .map(|(link_id, slug, clicks, visitors)| LinkRow {
                link_id,
                slug,
                clicks,
                visitors,
            })
            .collect(),
        kinds: figures::kinds(&now),
    })
}

/// The aggregates of a range: from the rollups, with the human ones
/// counted from raw clicks instead when a filter needs them (`raw`).
async fn aggregates(
    pool: &PgPool,
    links: Option<&[i64]>,
    range: (OffsetDateTime, OffsetDateTime),
    q: &StatsQuery,
    raw: bool,
) -> Result<Vec<Aggregate>, sqlx::Error> {
    if !raw {
        return store::rollup_aggregates(pool, links, range, q.channel_filter()).await;
    }
    let (mut rolled, humans) = tokio::try_join!(
        store::rollup_aggregates(pool, links, range, q.channel_filter()),
        store::raw_aggregates(pool, links, range, &q.filters),
    )?;
    rolled.retain(|a| parse_kind(&a.kind) != Some(Kind::Human));
    rolled.extend(humans);
    Ok(rolled)
}

/// The breakdown a name means (`countries` → country), for the CSV exports.
pub fn breakdown(name: &str) -> Option<Dimension> {
    figures::breakdown(name)
}
