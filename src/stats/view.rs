//! The stats view: the figures of one scope and range, as the stats API
//! answers them and the dashboard shows them. Built from aggregates (see
//! `store.rs`); the shape here is the API's contract.

use std::collections::BTreeMap;

use serde::Serialize;
use sqlx::PgPool;
use time::OffsetDateTime;

use super::{
    Dimension, Filter, Interval, StatsError, StatsQuery, figures, parse_kind,
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
    /// Whether breakdowns are left out: with a filter on one dimension
    /// (besides the channel), the totals, channels, series and that
    /// dimension's breakdown are exact, but crossing it with the other
    /// dimensions needs raw clicks, and over a busy scope that takes longer
    /// than the page may (`stats.raw_budget`).
    pub partial: bool,
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
    let plan = Plan::of(q);
    let previous = (from - (to - from), from);
    let range = (from, to);
    let ((now, partial), (before, _), series, top) = tokio::try_join!(
        aggregates(pool, links, range, q, (plan, true)),
        aggregates(pool, links, previous, q, (plan, false)),
        series_of(pool, links, range, (interval, &q.tz), q, plan),
        async { Ok(store::top_links(pool, links, range, figures::TOP as i64).await?) },
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
        partial,
    })
}

/// Where a view's human figures come from. A rollup row holds one
/// dimension, so filters on anything but the channel change the source.
#[derive(Debug, Clone, Copy)]
enum Plan<'a> {
    /// No such filter: the rollups.
    Rollups,
    /// One dimension filtered: its rollup rows give the totals, channels,
    /// series and its own breakdown exactly; the other breakdowns are
    /// counted from raw clicks within the budget, or left out.
    One(Dimension, &'a Filter),
    /// Several: raw clicks for every human figure, within the budget.
    Raw,
}

impl<'a> Plan<'a> {
    fn of(q: &'a StatsQuery) -> Plan<'a> {
        let mut others = q.filters.iter().filter(|(d, _)| *d != Dimension::Channel);
        match (others.next(), others.next()) {
            (None, _) => Plan::Rollups,
            (Some((d, f)), None) => Plan::One(*d, f),
            _ => Plan::Raw,
        }
    }
}

/// The aggregates of a range (`breakdowns`: all of them, or only what the
/// totals need), and whether breakdowns were left out (see [`Plan::One`]).
async fn aggregates(
    pool: &PgPool,
    links: Option<&[i64]>,
    range: (OffsetDateTime, OffsetDateTime),
    q: &StatsQuery,
    (plan, breakdowns): (Plan<'_>, bool),
) -> Result<(Vec<Aggregate>, bool), StatsError> {
    let channels = q.channel_filter();
    let not_human = |a: &Aggregate| parse_kind(&a.kind) != Some(Kind::Human);
    match plan {
        Plan::Rollups => Ok((
            store::rollup_aggregates(pool, links, range, channels).await?,
            false,
        )),
        Plan::One(dimension, values) => {
            let (mut rolled, kept, others) = tokio::try_join!(
                store::rollup_aggregates(pool, links, range, channels),
                store::dimension_aggregates(pool, links, range, channels, (dimension, values)),
                async {
                    if breakdowns {
                        let filters = (&q.filters[..], Some(dimension));
                        store::raw_aggregates(pool, links, range, filters, q.raw_budget).await
                    } else {
                        Ok(Some(Vec::new()))
                    }
                },
            )?;
            rolled.retain(not_human);
            // The `all` rows: the kept values summed per channel.
            let mut all: BTreeMap<&str, (i64, i64)> = BTreeMap::new();
            for a in &kept {
                let e = all.entry(&a.channel).or_default();
                e.0 += a.events;
                e.1 += a.visitors;
            }
            let all: Vec<Aggregate> = all
                .into_iter()
                .map(|(channel, (events, visitors))| Aggregate {
                    kind: Kind::Human.as_str().to_owned(),
                    channel: channel.to_owned(),
                    dimension: "all".to_owned(),
                    value: String::new(),
                    events,
                    visitors,
                })
                .collect();
            rolled.extend(all);
            rolled.extend(kept);
            let partial = others.is_none();
            rolled.extend(others.unwrap_or_default());
            Ok((rolled, partial))
        }
        Plan::Raw => {
            let (mut rolled, humans) = tokio::try_join!(
                store::rollup_aggregates(pool, links, range, channels),
                store::raw_aggregates(pool, links, range, (&q.filters, None), q.raw_budget),
            )?;
            rolled.retain(not_human);
            rolled.extend(humans.ok_or(StatsError::TooBroad)?);
            Ok((rolled, false))
        }
    }
}

/// Human clicks per bucket and channel, from where [`Plan`] says.
async fn series_of(
    pool: &PgPool,
    links: Option<&[i64]>,
    range: (OffsetDateTime, OffsetDateTime),
    (interval, tz): (Interval, &str),
    q: &StatsQuery,
    plan: Plan<'_>,
) -> Result<Vec<(OffsetDateTime, String, i64)>, StatsError> {
    let channels = q.channel_filter();
    Ok(match plan {
        Plan::Rollups => store::series(pool, links, range, (interval, tz), channels, None).await?,
        Plan::One(d, f) => {
            store::series(pool, links, range, (interval, tz), channels, Some((d, f))).await?
        }
        Plan::Raw => {
            store::raw_series(pool, links, range, (interval, tz), &q.filters, q.raw_budget)
                .await?
                .ok_or(StatsError::TooBroad)?
        }
    })
}

/// The breakdown a name means (`countries` → country), for the CSV exports.
pub fn breakdown(name: &str) -> Option<Dimension> {
    figures::breakdown(name)
}
