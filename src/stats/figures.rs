//! From aggregates to the figures of the view: totals, channels, the
//! dark-social sources and evidence, share events, breakdowns, kinds and
//! the time series. Pure: the rows come from `store.rs`.

use std::collections::{BTreeMap, HashMap};

use time::OffsetDateTime;

use super::{
    CHANNELS, Dimension, parse_channel, parse_kind,
    store::Aggregate,
    view::{Bucket, ChannelRow, EvidenceRow, KindRow, Row, ShareRow, SourceRow, Totals},
};
use crate::attribution::{Channel, Kind};

/// Rows kept per breakdown (the largest first).
pub const TOP: usize = 100;

fn kind_of(a: &Aggregate) -> Option<Kind> {
    parse_kind(&a.kind)
}

fn is_human_all(a: &Aggregate) -> bool {
    kind_of(a) == Some(Kind::Human) && a.dimension == "all"
}

pub fn totals(aggs: &[Aggregate]) -> Totals {
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

pub fn channel_rows(aggs: &[Aggregate]) -> Vec<ChannelRow> {
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

pub fn dark_social_sources(aggs: &[Aggregate]) -> Vec<SourceRow> {
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

pub fn dark_social_evidence(aggs: &[Aggregate]) -> Vec<EvidenceRow> {
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

pub fn share_rows(aggs: &[Aggregate]) -> Vec<ShareRow> {
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

/// The breakdown a name means (`countries` → country).
pub fn breakdown(name: &str) -> Option<Dimension> {
    BREAKDOWN_NAMES
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, d)| *d)
}

pub fn breakdowns(aggs: &[Aggregate]) -> BTreeMap<&'static str, Vec<Row>> {
    BREAKDOWN_NAMES
        .iter()
        .map(|(name, d)| (*name, by_value(aggs, *d, |_| true)))
        .collect()
}

pub fn kinds(aggs: &[Aggregate]) -> Vec<KindRow> {
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

pub fn timeseries(series: Vec<(OffsetDateTime, String, i64)>) -> Vec<Bucket> {
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
