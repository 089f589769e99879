//! Rollups of a batch's human clicks: the rows of `click_rollups` a batch
//! adds to, folded in memory so that a batch of thousands of clicks upserts
//! a few hundred rows (one per link, UTC hour, channel, dimension and value).
//! Pure: the SQL is in `store/rollups.rs`; previews, bots and prefetches are
//! rolled up there from the rows their statements add.

use std::collections::HashMap;

use time::OffsetDateTime;

use super::{ClickRecord, StoredAttribution, Text};

/// The dimensions a human click is rolled up by, besides `all` (see
/// [`value`] for the value of each).
pub const DIMENSIONS: [&str; 12] = [
    "source",
    "evidence",
    "country",
    "region",
    "city",
    "device",
    "browser",
    "os",
    "referrer_host",
    "utm_source",
    "utm_medium",
    "utm_campaign",
];

/// The kind of the deciding (strongest, first) evidence item: its id before
/// the first `:` (`inapp_ua:instagram` → `inapp_ua`), the value rolled up as
/// `evidence` so that the dashboard can show how strong a claim is.
pub fn signal(evidence: &str) -> &str {
    evidence.split(':').next().unwrap_or(evidence)
}

/// One row of `click_rollups` for human clicks, with what a batch adds to it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct RollupRow {
    /// Link id.
    pub link_id: i64,
    /// Dimension name (`all` or one of [`DIMENSIONS`]).
    pub dimension: &'static str,
    /// Start of the UTC hour, in Unix seconds.
    pub hour: i64,
    /// Channel (`''` if none).
    pub channel: Text,
    /// The dimension's value (`''` if unknown, and for `all`).
    pub value: Text,
    /// Clicks.
    pub events: i64,
    /// Clicks that were their visitor's first of the day on this link.
    pub visitors: i64,
}

impl RollupRow {
    /// The start of the row's hour.
    pub fn hour_start(&self) -> OffsetDateTime {
        OffsetDateTime::from_unix_timestamp(self.hour).unwrap_or(OffsetDateTime::UNIX_EPOCH)
    }
}

type Key = (i64, &'static str, i64, Text, Text);

/// Folds human clicks into their rollup rows, sorted by key (so that
/// concurrent writers lock shared rows in the same order). `first_visit[i]`
/// says whether `clicks[i]` was its visitor's first of the day.
pub fn fold(clicks: &[&ClickRecord], first_visit: &[bool]) -> Vec<RollupRow> {
    let empty: Text = Text::from("");
    let mut rows: HashMap<Key, (i64, i64), foldhash::fast::RandomState> = HashMap::default();
    for (i, r) in clicks.iter().enumerate() {
        let a = &r.attribution;
        let hour = hour_of(r.occurred_at);
        let channel = a.channel.clone().unwrap_or_else(|| empty.clone());
        let visitor = i64::from(first_visit.get(i).copied().unwrap_or(false));
        let mut add = |dimension: &'static str, value: Text| {
            let counts = rows
                .entry((r.link_id, dimension, hour, channel.clone(), value))
                .or_default();
            counts.0 += 1;
            counts.1 += visitor;
        };
        add("all", empty.clone());
        for dimension in DIMENSIONS {
            let value = value(a, dimension)
                .filter(|v| !v.is_empty())
                .unwrap_or_else(|| empty.clone());
            add(dimension, value);
        }
    }
    let mut out: Vec<RollupRow> = rows
        .into_iter()
        .map(
            |((link_id, dimension, hour, channel, value), (events, visitors))| RollupRow {
                link_id,
                dimension,
                hour,
                channel,
                value,
                events,
                visitors,
            },
        )
        .collect();
    out.sort_unstable();
    out
}

/// A click's value of a dimension, shared with the click (a reference-count
/// increment), except the evidence, cut to its signal (a new, short text).
pub fn value(a: &StoredAttribution, dimension: &str) -> Option<Text> {
    match dimension {
        "source" => a.source.clone(),
        "evidence" => a.evidence.first().map(|e| Text::from(signal(e))),
        "country" => a.country.clone(),
        "region" => a.region.clone(),
        "city" => a.city.clone(),
        "device" => a.device.clone(),
        "browser" => a.browser.clone(),
        "os" => a.os.clone(),
        "referrer_host" => a.referrer_host.clone(),
        "utm_source" => a.utm_source.clone(),
        "utm_medium" => a.utm_medium.clone(),
        "utm_campaign" => a.utm_campaign.clone(),
        _ => None,
    }
}

/// The start of the UTC hour of `t`, in Unix seconds.
pub fn hour_of(t: OffsetDateTime) -> i64 {
    let s = t.unix_timestamp();
    s - s.rem_euclid(3600)
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::clicks::CapturedHeaders;

    fn click(minute: i64, channel: &str, source: Option<&str>, country: &str) -> ClickRecord {
        ClickRecord {
            id: uuid::Uuid::now_v7(),
            occurred_at: OffsetDateTime::from_unix_timestamp(1_800_000_000 + 1_200 + minute * 60)
                .unwrap(),
            link_id: 7,
            method: "GET".into(),
            headers: CapturedHeaders::default(),
            attribution: StoredAttribution {
                kind: "human".into(),
                channel: Some(channel.into()),
                source: source.map(Text::from),
                evidence: Arc::from([Text::from("inapp_ua:instagram")]),
                country: Some(country.into()),
                ..StoredAttribution::default()
            },
        }
    }

    fn row<'a>(
        rows: &'a [RollupRow],
        dimension: &str,
        channel: &str,
        value: &str,
    ) -> &'a RollupRow {
        rows.iter()
            .find(|r| r.dimension == dimension && &*r.channel == channel && &*r.value == value)
            .unwrap_or_else(|| panic!("no row {dimension} {channel} {value}"))
    }

    #[test]
    fn a_batch_folds_into_one_row_per_hour_channel_dimension_and_value() {
        // The clicks start 20 minutes into an hour: minute 40 starts the next.
        let clicks = [
            click(0, "dark_social", Some("instagram"), "FR"),
            click(5, "dark_social", Some("instagram"), "DE"),
            click(10, "direct", None, "FR"),
            click(45, "dark_social", Some("instagram"), "FR"),
        ];
        let refs: Vec<&ClickRecord> = clicks.iter().collect();
        let rows = fold(&refs, &[true, false, true, true]);
        let first_hour = hour_of(clicks[0].occurred_at);
        let in_first: Vec<RollupRow> = rows
            .iter()
            .filter(|r| r.hour == first_hour)
            .cloned()
            .collect();
        assert_eq!(row(&in_first, "all", "dark_social", "").events, 2);
        assert_eq!(row(&in_first, "all", "dark_social", "").visitors, 1);
        assert_eq!(row(&in_first, "all", "direct", "").events, 1);
        assert_eq!(row(&in_first, "country", "dark_social", "FR").events, 1);
        assert_eq!(
            row(&in_first, "source", "direct", "").events,
            1,
            "unknown is ''"
        );
        assert_eq!(
            row(&in_first, "evidence", "dark_social", "inapp_ua").events,
            2
        );
        let all: i64 = rows
            .iter()
            .filter(|r| r.dimension == "all")
            .map(|r| r.events)
            .sum();
        assert_eq!(all, 4, "every click once in `all`");
        for dimension in DIMENSIONS {
            let n: i64 = rows
                .iter()
                .filter(|r| r.dimension == dimension)
                .map(|r| r.events)
                .sum();
            assert_eq!(n, 4, "every click once in {dimension}");
        }
        assert!(rows.windows(2).all(|w| w[0] < w[1]), "sorted and unique");
    }
}
