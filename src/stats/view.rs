//! The stats view: the figures of one scope and range, as the stats API
//! answers them and the dashboard shows them. Built from aggregates (see
//! `store.rs`); the shape here is the API's contract.

use std::collections::{BTreeMap, HashMap};

use serde::Serialize;
use sqlx::PgPool;
use time::OffsetDateTime;

use super::{
    CHANNELS, Dimension, Interval, StatsError, StatsQuery, parse_channel, parse_kind,
    store::{self, Aggregate},
};
use crate::attribution::{Channel, Kind};

/// Rows kept per breakdown (the largest first).
const TOP: usize = 100;

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

/// The stats view of a query.
pub async fn view(pool: &PgPool, q: &StatsQuery) -> Result<StatsView, StatsError> {
    let (from, to) = store::resolve_range(pool, q.from, q.to, &q.tz).await?;
    let interval = q.interval.unwrap_or_else(|| Interval::for_range(to - from));
    let links = store::scope_links(pool, &q.scope).await?;
    let links = links.as_deref();
    // Filters on anything but the channel need raw clicks (one dimension per rollup row).
    let raw = q.filters.iter().any(|(d, _)| *d != Dimension::Channel);
    let previous = (from - (to - from), from);
    let channels = q.channel_filter();
    let mut now = store::rollup_aggregates(pool, links, (from, to), channels).await?;
    let mut before = store::rollup_aggregates(pool, links, previous, channels).await?;
    if raw {
        now.retain(|a| a.kind != "human");
        now.extend(store::raw_aggregates(pool, links, (from, to), &q.filters).await?);
        before.retain(|a| a.kind != "human");
        before.extend(store::raw_aggregates(pool, links, previous, &q.filters).await?);
    }
    let series = store::series(pool, links, (from, to), (interval, &q.tz), &q.filters, raw).await?;
    let top = store::top_links(pool, links, (from, to), TOP as i64).await?;
    Ok(StatsView {
        from,
        to,
        interval,
        tz: q.tz.clone(),
        totals: totals(&now),
        previous: totals(&before),
        timeseries: timeseries(series),
        channels: channel_rows(&now),
        dark_social_sources: dark_social_sources(&now),
        dark_social_evidence: dark_social_evidence(&now),
        share_events: share_rows(&now),
        breakdowns: breakdowns(&now),
        links: top
            .into_iter()
            .map(|(link_id, slug, clicks, visitors)| LinkRow {
                link_id,
                slug,
                clicks,
                visitors,
            })
            .collect(),
        kinds: kinds(&now),
    })
}

fn kind_of(a: &Aggregate) -> Option<Kind> {
    parse_kind(&a.kind)
}

fn is_human_all(a: &Aggregate) -> bool {
    kind_of(a) == Some(Kind::Human) && a.dimension == "all"
}

fn totals(aggs: &[Aggregate]) -> Totals {
    let mut t = Totals::default();
    for a in aggs.iter().filter(|a| a.dimension == "all") {
        match kind_of(a) {
            Some(Kind::Human) => {
                t.clicks += a.events;
                t.visitors += a.visitors;
                match parse_channel(&a.channel) {
                    Some(Channel::DarkSocial) => t.dark_social += a.events,
                    Some(Channel::Direct) => t.direct += a.events,
                    _ => {}
                }
            }
            Some(Kind::Preview) => t.share_events += a.events,
            Some(Kind::Bot) => t.bots += a.events,
            Some(Kind::Prefetch) => t.prefetches += a.events,
            None => {}
        }
    }
    t
}

fn channel_rows(aggs: &[Aggregate]) -> Vec<ChannelRow> {
    let mut by: HashMap<Channel, (i64, i64)> = HashMap::new();
    for a in aggs.iter().filter(|a| is_human_all(a)) {
        if let Some(c) = parse_channel(&a.channel) {
            let e = by.entry(c).or_default();
            e.0 += a.events;
            e.1 += a.visitors;
        }
    }
    let mut rows: Vec<ChannelRow> = CHANNELS
        .iter()
        .filter_map(|c| {
            by.get(c).map(|&(clicks, visitors)| ChannelRow {
                channel: *c,
                clicks,
                visitors,
            })
        })
        .collect();
    rows.sort_by_key(|r| std::cmp::Reverse(r.clicks));
    rows
}

/// Human clicks of a dimension per value, over the channels `keep` accepts.
fn by_value(
    aggs: &[Aggregate],
    dimension: Dimension,
    keep: impl Fn(Option<Channel>) -> bool,
) -> Vec<Row> {
    let mut by: HashMap<&str, (i64, i64)> = HashMap::new();
    for a in aggs {
        if kind_of(a) == Some(Kind::Human)
            && a.dimension == dimension.field()
            && keep(parse_channel(&a.channel))
        {
            let e = by.entry(&a.value).or_default();
            e.0 += a.events;
            e.1 += a.visitors;
        }
    }
    let mut rows: Vec<Row> = by
        .into_iter()
        .map(|(v, (clicks, visitors))| Row {
            value: if v.is_empty() {
                "unknown".to_owned()
            } else {
                v.to_owned()
            },
            clicks,
            visitors,
        })
        .collect();
    rows.sort_by(|a, b| b.clicks.cmp(&a.clicks).then_with(|| a.value.cmp(&b.value)));
    rows.truncate(TOP);
    rows
}

fn dark_social_sources(aggs: &[Aggregate]) -> Vec<SourceRow> {
    by_value(aggs, Dimension::Source, |c| c == Some(Channel::DarkSocial))
        .into_iter()
        .map(|r| SourceRow {
            source: r.value,
            clicks: r.clicks,
        })
        .collect()
}

/// The deciding signal of a stored evidence kind, and the strength of its claim.
fn signal(kind: &str) -> (&'static str, &'static str) {
    match kind {
        "inapp_ua" | "x_requested_with" => ("in_app_browser", "strong"),
        "referer_app" => ("app_referrer", "strong"),
        "declared_channel" => ("declared_channel", "good"),
        "utm_medium" | "utm_source" => ("utm", "good"),
        "recent_preview" => ("recent_preview", "likely"),
        "sec_fetch_site_none+generated_slug" => ("outside_browser", "likely"),
        _ => ("other", "likely"),
    }
}

fn dark_social_evidence(aggs: &[Aggregate]) -> Vec<EvidenceRow> {
    let mut by: BTreeMap<(&'static str, &'static str), i64> = BTreeMap::new();
    for r in by_value(aggs, Dimension::Evidence, |c| {
        c == Some(Channel::DarkSocial)
    }) {
        *by.entry(signal(&r.value)).or_default() += r.clicks;
    }
    let mut rows: Vec<EvidenceRow> = by
        .into_iter()
        .map(|((signal, strength), clicks)| EvidenceRow {
            signal,
            strength,
            clicks,
        })
        .collect();
    rows.sort_by_key(|r| std::cmp::Reverse(r.clicks));
    rows
}

fn share_rows(aggs: &[Aggregate]) -> Vec<ShareRow> {
    let clicks: HashMap<String, i64> =
        by_value(aggs, Dimension::Source, |c| c == Some(Channel::DarkSocial))
            .into_iter()
            .map(|r| (r.value, r.clicks))
            .collect();
    let mut previews: HashMap<&str, i64> = HashMap::new();
    for a in aggs
        .iter()
        .filter(|a| kind_of(a) == Some(Kind::Preview) && a.dimension == "source")
    {
        *previews.entry(&a.value).or_default() += a.events;
    }
    let mut rows: Vec<ShareRow> = previews
        .into_iter()
        .map(|(app, previews)| {
            let clicks = clicks.get(app).copied().unwrap_or(0);
            ShareRow {
                app: app.to_owned(),
                previews,
                clicks,
                clicks_per_share: if previews > 0 {
                    clicks as f64 / previews as f64
                } else {
                    0.0
                },
            }
        })
        .collect();
    rows.sort_by(|a, b| b.previews.cmp(&a.previews).then_with(|| a.app.cmp(&b.app)));
    rows
}

/// The breakdowns' names in the answer.
const BREAKDOWN_NAMES: [(&str, Dimension); 11] = [
    ("sources", Dimension::Source),
    ("referrers", Dimension::ReferrerHost),
    ("countries", Dimension::Country),
    ("regions", Dimension::Region),
    ("cities", Dimension::City),
    ("devices", Dimension::Device),
    ("browsers", Dimension::Browser),
    ("os", Dimension::Os),
    ("utm_sources", Dimension::UtmSource),
    ("utm_mediums", Dimension::UtmMedium),
    ("utm_campaigns", Dimension::UtmCampaign),
];

/// The breakdown a name means (`countries` → country), for the CSV exports.
pub fn breakdown(name: &str) -> Option<Dimension> {
    BREAKDOWN_NAMES
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, d)| *d)
}

fn breakdowns(aggs: &[Aggregate]) -> BTreeMap<&'static str, Vec<Row>> {
    BREAKDOWN_NAMES
        .iter()
        .map(|(name, d)| (*name, by_value(aggs, *d, |_| true)))
        .collect()
}

fn kinds(aggs: &[Aggregate]) -> Vec<KindRow> {
    let t = totals(aggs);
    [
        (Kind::Human, t.clicks),
        (Kind::Preview, t.share_events),
        (Kind::Bot, t.bots),
        (Kind::Prefetch, t.prefetches),
    ]
    .into_iter()
    .map(|(kind, requests)| KindRow { kind, requests })
    .collect()
}

fn timeseries(series: Vec<(OffsetDateTime, String, i64)>) -> Vec<Bucket> {
    let mut out: Vec<Bucket> = Vec::new();
    for (start, channel, clicks) in series {
        if out.last().is_none_or(|b| b.start != start) {
            out.push(Bucket {
                start,
                clicks: 0,
                channels: CHANNELS.iter().map(|c| (c.as_str(), 0)).collect(),
            });
        }
        let bucket = out.last_mut().expect("pushed above");
        bucket.clicks += clicks;
        if let Some(c) = parse_channel(&channel) {
            *bucket.channels.entry(c.as_str()).or_default() += clicks;
        }
    }
    out
}
