//! What the dashboard shows, ready for the template: headline cards, the
//! chart, tables with bars whose rows filter the page, the recent clicks.
//! Built from one `StatsView` — the stats API's answer — so that the page
//! and the API never disagree.

use super::{
    format::{Change, Num, percent, ratio},
    state::{Range, ViewState, selectable},
};
use crate::{
    i18n::Tr,
    stats::{Dimension, RecentClick, StatsView, view::Totals},
};

/// Rows shown per table (the CSV has up to 100).
const ROWS: usize = 10;

/// A headline figure.
#[derive(Debug, Clone)]
pub struct Card {
    /// CSS modifier (`dark-social`, `direct`, …).
    pub class: &'static str,
    /// Its name.
    pub label: &'static str,
    /// The figure.
    pub value: String,
    /// A second line (share of clicks), if any.
    pub note: Option<String>,
    /// Against the previous period.
    pub change: Change,
    /// The page filtered by it, if it is a channel.
    pub href: Option<String>,
}

/// One row of a table.
#[derive(Debug, Clone)]
pub struct TableRow {
    /// The value shown.
    pub label: String,
    /// The page filtered by this value, or the row's own page.
    pub href: Option<String>,
    /// Bar length, 0–100, against the table's largest row.
    pub bar: u32,
    /// The numeric cells.
    pub cells: Vec<String>,
    /// A badge after the label (evidence strength).
    pub badge: Option<(&'static str, &'static str)>,
}

/// A table with bars.
#[derive(Debug, Clone)]
pub struct Table {
    /// Element id (also the heading's).
    pub id: &'static str,
    /// Heading.
    pub title: &'static str,
    /// A sentence under the heading.
    pub note: Option<&'static str>,
    /// Column names: the value's, then the numbers'.
    pub head: Vec<&'static str>,
    /// Rows, largest first.
    pub rows: Vec<TableRow>,
    /// CSV download of the whole breakdown.
    pub csv: Option<String>,
    /// Bar colour class.
    pub tone: &'static str,
    /// Left out of a partial view (see `StatsView::partial`): the page says
    /// so instead of "nothing in this period".
    pub left_out: bool,
}

/// A time-range choice.
#[derive(Debug, Clone)]
pub struct Preset {
    /// Its name.
    pub label: &'static str,
    /// The page over it.
    pub href: String,
    /// Whether it is the current range.
    pub current: bool,
}

/// An applied filter, removable.
#[derive(Debug, Clone)]
pub struct Chip {
    /// `Country: FR`.
    pub label: String,
    /// The page without it.
    pub remove: String,
}

/// A recent click as the list shows it.
#[derive(Debug, Clone)]
pub struct RecentRow {
    /// Local time.
    pub time: String,
    /// Link slug and page (shown outside a link's own page).
    pub link: Option<(String, String)>,
    /// Channel name.
    pub channel: &'static str,
    /// Channel key (CSS class).
    pub channel_key: String,
    /// Source (visitor-sent or classifier text; escaped by the template).
    pub source: String,
    /// Evidence.
    pub evidence: String,
    /// Country.
    pub country: String,
    /// Device, OS and browser.
    pub device: String,
}

/// The page's parts around a view.
pub struct Parts<'a> {
    /// Strings.
    pub t: Tr,
    /// Path of the page (`/links/7`, `/campaigns/spring`, `/`).
    pub base: &'a str,
    /// The URL state.
    pub state: &'a ViewState,
    /// Whether the scope holds several links (top links are shown).
    pub many_links: bool,
    /// The CSV query of the view (its scope and resolved range).
    pub csv_query: &'a str,
}

impl Parts<'_> {
    fn href(&self, s: &ViewState) -> String {
        format!("{}?{}", self.base, s.query_string())
    }

    /// The range presets.
    pub fn presets(&self) -> Vec<Preset> {
        Range::PRESETS
            .into_iter()
            .map(|r| Preset {
                label: self.t.get(&format!("dash.range_{}", r.as_str())),
                href: self.href(&self.state.with_range(r)),
                current: self.state.range == r,
            })
            .collect()
    }

    /// The applied filters.
    pub fn chips(&self) -> Vec<Chip> {
        self.state
            .filters
            .iter()
            .map(|(d, v)| Chip {
                label: format!(
                    "{}: {}",
                    self.t.get(&format!("dim.{}", d.field())),
                    v.split(',')
                        .map(|part| match part.strip_prefix('!') {
                            Some(not) =>
                                self.t.with("dash.not", "value", self.value_label(*d, not)),
                            None => self.value_label(*d, part),
                        })
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
                remove: self.href(&self.state.without_filter(*d)),
            })
            .collect()
    }

    /// How a dimension's value is shown: channels by name, others as stored.
    fn value_label(&self, d: Dimension, v: &str) -> String {
        let key = format!("channel.{v}");
        if d == Dimension::Channel && self.t.has(&key) {
            self.t.get(&key).to_owned()
        } else {
            v.to_owned()
        }
    }

    /// The headline cards.
    pub fn cards(&self, now: &Totals, before: &Totals) -> Vec<Card> {
        let t = self.t;
        let channel = |c: &str| Some(self.href(&self.state.with_filter(Dimension::Channel, c)));
        let filtered = (now.bots + now.prefetches, before.bots + before.prefetches);
        vec![
            Card {
                class: "humans",
                label: t.get("dash.clicks"),
                value: Num(now.clicks, t).to_string(),
                note: None,
                change: Change::new(t, now.clicks, before.clicks),
                href: None,
            },
            Card {
                class: "visitors",
                label: t.get("dash.visitors"),
                value: Num(now.visitors, t).to_string(),
                note: Some(t.get("dash.visitors_note").to_owned()),
                change: Change::new(t, now.visitors, before.visitors),
                href: None,
            },
            Card {
                class: "dark-social",
                label: t.get("channel.dark_social"),
                value: Num(now.dark_social, t).to_string(),
                note: Some(t.with(
                    "dash.of_clicks",
                    "pct",
                    percent(t, now.dark_social, now.clicks),
                )),
                change: Change::new(t, now.dark_social, before.dark_social),
                href: channel("dark_social"),
            },
            Card {
                class: "direct",
                label: t.get("channel.direct"),
                value: Num(now.direct, t).to_string(),
                note: Some(t.with("dash.of_clicks", "pct", percent(t, now.direct, now.clicks))),
                change: Change::new(t, now.direct, before.direct),
                href: channel("direct"),
            },
            Card {
                class: "shares",
                label: t.get("dash.share_events"),
                value: Num(now.share_events, t).to_string(),
                note: Some(t.get("dash.share_events_note").to_owned()),
                change: Change::new(t, now.share_events, before.share_events),
                href: None,
            },
            Card {
                class: "filtered",
                label: t.get("dash.filtered"),
                value: Num(filtered.0, t).to_string(),
                note: Some(t.with2(
                    "dash.filtered_note",
                    ("bots", Num(now.bots, t).to_string()),
                    ("prefetches", Num(now.prefetches, t).to_string()),
                )),
                change: Change::new(t, filtered.0, filtered.1),
                href: None,
            },
        ]
    }

    fn csv(&self, name: &str) -> Option<String> {
        Some(format!("/api/v1/stats/{name}.csv?{}", self.csv_query))
    }

    /// Rows of `(value, clicks, more cells)`, filtering on `dimension` when
    /// clicked (with `also` applied as well).
    fn rows(
        &self,
        items: Vec<(String, i64, Vec<String>)>,
        dimension: Option<Dimension>,
        also: Option<(Dimension, &str)>,
    ) -> Vec<TableRow> {
        let max = items.iter().map(|r| r.1).max().unwrap_or(0).max(1);
        items
            .into_iter()
            .take(ROWS)
            .map(|(value, clicks, more)| {
                let href = dimension.filter(|_| selectable(&value)).map(|d| {
                    let mut s = self.state.with_filter(d, &value);
                    if let Some((d2, v2)) = also {
                        s = s.with_filter(d2, v2);
                    }
                    self.href(&s)
                });
                let mut cells = vec![Num(clicks, self.t).to_string()];
                cells.extend(more);
                TableRow {
                    label: match dimension {
                        Some(d) => self.value_label(d, &value),
                        None => value,
                    },
                    href,
                    bar: (clicks.max(0) * 100 / max) as u32,
                    cells,
                    badge: None,
                }
            })
            .collect()
    }

    /// Every table of the view, in the page's order.
    pub fn tables(&self, v: &StatsView) -> Vec<Table> {
        let t = self.t;
        let mut out = Vec::new();
        let dark_total = v.totals.dark_social;
        // A partial view (see `StatsView::partial`) leaves out every
        // breakdown but the filtered dimension's (the channels and top links
        // come from the rollups).
        let left_out = |d: Dimension| v.partial && !self.state.filters.iter().any(|(f, _)| *f == d);
        out.push(Table {
            id: "dark-social-apps",
            title: t.get("dash.t_dark_social"),
            note: Some(t.get("dash.t_dark_social_note")),
            head: vec![t.get("dash.app"), t.get("dash.clicks"), t.get("dash.share")],
            rows: self.rows(
                v.dark_social_sources
                    .iter()
                    .map(|r| {
                        (
                            r.source.clone(),
                            r.clicks,
                            vec![percent(t, r.clicks, dark_total)],
                        )
                    })
                    .collect(),
                Some(Dimension::Source),
                Some((Dimension::Channel, "dark_social")),
            ),
            csv: None,
            tone: "dark-social",
            left_out: left_out(Dimension::Source),
        });
        let mut evidence = self.rows(
            v.dark_social_evidence
                .iter()
                .map(|r| {
                    (
                        t.get(&format!("evidence.{}", r.signal)).to_owned(),
                        r.clicks,
                        vec![percent(t, r.clicks, dark_total)],
                    )
                })
                .collect(),
            None,
            None,
        );
        for (row, e) in evidence.iter_mut().zip(&v.dark_social_evidence) {
            row.badge = Some((e.strength, t.get(&format!("strength.{}", e.strength))));
        }
        out.push(Table {
            id: "evidence",
            title: t.get("dash.t_evidence"),
            note: Some(t.get("dash.t_evidence_note")),
            head: vec![
                t.get("dash.signal"),
                t.get("dash.clicks"),
                t.get("dash.share"),
            ],
            rows: evidence,
            csv: None,
            tone: "dark-social",
            left_out: left_out(Dimension::Evidence),
        });
        let shares = v
            .share_events
            .iter()
            .map(|r| {
                (
                    r.app.clone(),
                    r.previews,
                    vec![Num(r.clicks, t).to_string(), ratio(t, r.clicks_per_share)],
                )
            })
            .collect();
        out.push(Table {
            id: "share-events",
            title: t.get("dash.t_shares"),
            note: Some(t.get("dash.t_shares_note")),
            head: vec![
                t.get("dash.app"),
                t.get("dash.previews"),
                t.get("dash.clicks"),
                t.get("dash.per_share"),
            ],
            rows: self.rows(shares, None, None),
            csv: None,
            tone: "shares",
            left_out: left_out(Dimension::Source),
        });
        out.push(Table {
            id: "channels",
            title: t.get("dash.t_channels"),
            note: None,
            head: vec![
                t.get("dash.channel"),
                t.get("dash.clicks"),
                t.get("dash.visitors"),
            ],
            rows: self.rows(
                v.channels
                    .iter()
                    .map(|r| {
                        (
                            r.channel.as_str().to_owned(),
                            r.clicks,
                            vec![Num(r.visitors, t).to_string()],
                        )
                    })
                    .collect(),
                Some(Dimension::Channel),
                None,
            ),
            csv: None,
            tone: "accent",
            left_out: false,
        });
        for (name, dimension, title) in [
            ("sources", Dimension::Source, "dash.t_sources"),
            ("referrers", Dimension::ReferrerHost, "dash.t_referrers"),
            ("countries", Dimension::Country, "dash.t_countries"),
            ("regions", Dimension::Region, "dash.t_regions"),
            ("cities", Dimension::City, "dash.t_cities"),
            ("devices", Dimension::Device, "dash.t_devices"),
            ("os", Dimension::Os, "dash.t_os"),
            ("browsers", Dimension::Browser, "dash.t_browsers"),
            (
                "utm_campaigns",
                Dimension::UtmCampaign,
                "dash.t_utm_campaigns",
            ),
            ("utm_sources", Dimension::UtmSource, "dash.t_utm_sources"),
            ("utm_mediums", Dimension::UtmMedium, "dash.t_utm_mediums"),
        ] {
            let rows = v
                .breakdowns
                .get(name)
                .map(Vec::as_slice)
                .unwrap_or_default();
            out.push(Table {
                id: name_id(name),
                title: t.get(title),
                note: None,
                head: vec![
                    t.get(&format!("dim.{}", dimension.field())),
                    t.get("dash.clicks"),
                    t.get("dash.visitors"),
                ],
                rows: self.rows(
                    rows.iter()
                        .map(|r| {
                            (
                                r.value.clone(),
                                r.clicks,
                                vec![Num(r.visitors, t).to_string()],
                            )
                        })
                        .collect(),
                    Some(dimension),
                    None,
                ),
                csv: (!left_out(dimension)).then(|| self.csv(name)).flatten(),
                tone: "accent",
                left_out: left_out(dimension),
            });
        }
        if self.many_links {
            let max = v.links.iter().map(|l| l.clicks).max().unwrap_or(0).max(1);
            out.push(Table {
                id: "top-links",
                title: t.get("dash.t_links"),
                note: None,
                head: vec![
                    t.get("dash.link"),
                    t.get("dash.clicks"),
                    t.get("dash.visitors"),
                ],
                rows: v
                    .links
                    .iter()
                    .take(ROWS)
                    .map(|l| TableRow {
                        label: format!("/{}", l.slug),
                        href: Some(format!(
                            "/links/{}?{}",
                            l.link_id,
                            self.state.query_string()
                        )),
                        bar: (l.clicks.max(0) * 100 / max) as u32,
                        cells: vec![Num(l.clicks, t).to_string(), Num(l.visitors, t).to_string()],
                        badge: None,
                    })
                    .collect(),
                csv: None,
                tone: "accent",
                left_out: false,
            });
        }
        out
    }

    /// The recent clicks.
    pub fn recent(&self, clicks: &[RecentClick]) -> Vec<RecentRow> {
        let t = self.t;
        clicks
            .iter()
            .map(|c| {
                let key = format!("channel.{}", c.channel);
                let parts: Vec<&str> = [c.device.as_str(), c.os.as_str(), c.browser.as_str()]
                    .into_iter()
                    .filter(|s| !s.is_empty())
                    .collect();
                RecentRow {
                    time: c.local_time.clone(),
                    link: self
                        .many_links
                        .then(|| (format!("/{}", c.slug), format!("/links/{}", c.link_id))),
                    channel: if t.has(&key) {
                        t.get(&key)
                    } else {
                        t.get("dash.unknown")
                    },
                    channel_key: c.channel.replace('_', "-"),
                    source: match (c.source.as_str(), c.referrer_host.as_str()) {
                        ("", "") => "—".to_owned(),
                        ("", host) => host.to_owned(),
                        (s, _) => s.to_owned(),
                    },
                    evidence: if c.evidence.is_empty() {
                        "—".to_owned()
                    } else {
                        c.evidence.clone()
                    },
                    country: if c.country.is_empty() {
                        "—".to_owned()
                    } else {
                        c.country.clone()
                    },
                    device: if parts.is_empty() {
                        "—".to_owned()
                    } else {
                        parts.join(" · ")
                    },
                }
            })
            .collect()
    }
}

fn name_id(name: &'static str) -> &'static str {
    match name {
        "utm_campaigns" => "utm-campaigns",
        "utm_sources" => "utm-sources",
        "utm_mediums" => "utm-mediums",
        other => other,
    }
}
