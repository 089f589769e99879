//! The dashboard's state, carried whole by the page's URL so that a view can
//! be bookmarked and shared: the range (a preset or custom dates), the time
//! zone, the interval and the filters. It turns into the stats API's own
//! parameters (`StatsQuery::parse` validates them, so the page and the API
//! refuse the same things) and builds the links that change one part of it.

use std::collections::HashMap;

use time::Date;

use crate::stats::Dimension;

/// Time-range presets, and a custom range of dates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Range {
    /// The last 24 hours, hour by hour.
    Day,
    /// Today and the 6 days before.
    Week,
    /// Today and the 29 days before (the default).
    Month,
    /// Today and the 89 days before.
    Quarter,
    /// The current month and the 11 before.
    Year,
    /// `from` and `to` dates (both included).
    Custom,
}

impl Range {
    /// Every preset, in the order the page lists them.
    pub const PRESETS: [Range; 5] = [
        Range::Day,
        Range::Week,
        Range::Month,
        Range::Quarter,
        Range::Year,
    ];

    /// The value in the URL.
    pub fn as_str(self) -> &'static str {
        match self {
            Range::Day => "24h",
            Range::Week => "7d",
            Range::Month => "30d",
            Range::Quarter => "90d",
            Range::Year => "12m",
            Range::Custom => "custom",
        }
    }

    fn parse(s: &str) -> Option<Range> {
        Range::PRESETS
            .into_iter()
            .chain([Range::Custom])
            .find(|r| r.as_str() == s)
    }

    /// The first day of a date preset ending on `today` (`None` for the
    /// 24-hour and custom ranges).
    pub fn first_day(self, today: Date) -> Option<Date> {
        let back = |days: i64| today.checked_sub(time::Duration::days(days));
        match self {
            Range::Week => back(6),
            Range::Month => back(29),
            Range::Quarter => back(89),
            Range::Year => {
                let months = i32::from(u8::from(today.month())) - 1 + today.year() * 12 - 11;
                let month = time::Month::try_from((months.rem_euclid(12) + 1) as u8).ok()?;
                Date::from_calendar_date(months.div_euclid(12), month, 1).ok()
            }
            Range::Day | Range::Custom => None,
        }
    }
}

/// The whole state of a dashboard view.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ViewState {
    /// The range.
    pub range: Range,
    /// First day of a custom range, as typed (checked by the stats query).
    pub from: String,
    /// Last day of a custom range, as typed.
    pub to: String,
    /// IANA time zone.
    pub tz: String,
    /// `hour`, `day`, `week`, `month`, or empty for the range's default.
    pub interval: String,
    /// Filters in the stats API's syntax (`FR,BE`, `!whatsapp`), in
    /// dimension order.
    pub filters: Vec<(Dimension, String)>,
}

impl ViewState {
    /// The state of a page's query string; `default_tz` when it names none.
    /// Parameters the dashboard does not know (another section's, like the
    /// share kit's message) are left alone.
    pub fn from_query(params: &HashMap<String, String>, default_tz: &str) -> ViewState {
        let get = |k: &str| {
            params
                .get(k)
                .map(|v| v.trim().to_owned())
                .unwrap_or_default()
        };
        let (from, to) = (get("from"), get("to"));
        let range = match params.get("range").and_then(|r| Range::parse(r)) {
            Some(r) => r,
            None if !from.is_empty() || !to.is_empty() => Range::Custom,
            None => Range::Month,
        };
        let tz = match get("tz") {
            tz if tz.is_empty() => default_tz.to_owned(),
            tz => tz,
        };
        let mut filters: Vec<(Dimension, String)> = params
            .iter()
            .filter_map(|(k, v)| Some((Dimension::parse(k)?, v.trim().to_owned())))
            .filter(|(_, v)| !v.is_empty())
            .collect();
        filters.sort();
        ViewState {
            range,
            from: if range == Range::Custom {
                from
            } else {
                String::new()
            },
            to: if range == Range::Custom {
                to
            } else {
                String::new()
            },
            tz,
            interval: get("interval"),
            filters,
        }
    }

    /// The stats API's parameters of this view: `scope` (`("link_id", "7")`,
    /// or none for the workspace), and the range resolved against `today`
    /// (in the view's time zone) or `now` (RFC 3339) for the last 24 hours.
    pub fn api_params(
        &self,
        scope: Option<(&str, &str)>,
        today: Date,
        now: &str,
        day_ago: &str,
    ) -> HashMap<String, String> {
        let mut p = HashMap::new();
        if let Some((k, v)) = scope {
            p.insert(k.to_owned(), v.to_owned());
        }
        match self.range {
            Range::Day => {
                p.insert("from".into(), day_ago.to_owned());
                p.insert("to".into(), now.to_owned());
            }
            Range::Custom => {
                if !self.from.is_empty() {
                    p.insert("from".into(), self.from.clone());
                }
                if !self.to.is_empty() {
                    p.insert("to".into(), self.to.clone());
                }
            }
            preset => {
                if let Some(first) = preset.first_day(today) {
                    p.insert("from".into(), first.to_string());
                }
                p.insert("to".into(), today.to_string());
            }
        }
        p.insert("tz".into(), self.tz.clone());
        if !self.interval.is_empty() {
            p.insert("interval".into(), self.interval.clone());
        }
        for (d, v) in &self.filters {
            p.insert(d.field().to_owned(), v.clone());
        }
        p
    }

    /// The query string of this state (without `?`), in a stable order.
    pub fn query_string(&self) -> String {
        let mut s = url::form_urlencoded::Serializer::new(String::new());
        s.append_pair("range", self.range.as_str());
        if self.range == Range::Custom {
            s.append_pair("from", &self.from);
            s.append_pair("to", &self.to);
        }
        s.append_pair("tz", &self.tz);
        if !self.interval.is_empty() {
            s.append_pair("interval", &self.interval);
        }
        for (d, v) in &self.filters {
            s.append_pair(d.field(), v);
        }
        s.finish()
    }

    /// The same view over another range preset.
    pub fn with_range(&self, range: Range) -> ViewState {
        ViewState {
            range,
            from: String::new(),
            to: String::new(),
            ..self.clone()
        }
    }

    /// The same view filtered on `value` of `dimension` (replacing any filter
    /// on that dimension).
    pub fn with_filter(&self, dimension: Dimension, value: &str) -> ViewState {
        let mut next = self.without_filter(dimension);
        // Commas and `!` are the filter syntax: a value holding one cannot
        // be selected from a row.
        next.filters.push((dimension, value.to_owned()));
        next.filters.sort();
        next
    }

    /// The same view without the filter on `dimension`.
    pub fn without_filter(&self, dimension: Dimension) -> ViewState {
        let mut next = self.clone();
        next.filters.retain(|(d, _)| *d != dimension);
        next
    }

    /// The parameters an API or CSV address of this view adds to its scope
    /// (the range as resolved, so that a download matches the page).
    pub fn resolved_query(params: &HashMap<String, String>) -> String {
        let mut keys: Vec<&String> = params.keys().collect();
        keys.sort();
        let mut s = url::form_urlencoded::Serializer::new(String::new());
        for k in keys {
            s.append_pair(k, &params[k]);
        }
        s.finish()
    }
}

/// Whether a row's value can become a filter (the filter syntax uses `,`
/// and a leading `!`; unknown values have no value to filter on).
pub fn selectable(value: &str) -> bool {
    !value.is_empty() && value != "unknown" && !value.contains(',') && !value.starts_with('!')
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    fn params(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn defaults_to_thirty_days_in_the_default_zone() {
        let s = ViewState::from_query(&params(&[("text", "hello")]), "Europe/Paris");
        assert_eq!(s.range, Range::Month);
        assert_eq!(s.tz, "Europe/Paris");
        assert!(s.filters.is_empty());
        assert_eq!(s.query_string(), "range=30d&tz=Europe%2FParis");
    }

    #[test]
    fn presets_end_today_in_the_zone() {
        let s = ViewState::from_query(&params(&[("range", "7d")]), "UTC");
        let p = s.api_params(Some(("link_id", "3")), date!(2026 - 12 - 02), "n", "d");
        assert_eq!(p["from"], "2026-11-26");
        assert_eq!(p["to"], "2026-12-02");
        assert_eq!(p["link_id"], "3");
        assert_eq!(
            Range::Year.first_day(date!(2026 - 03 - 15)),
            Some(date!(2025 - 04 - 01))
        );
        assert_eq!(
            Range::Year.first_day(date!(2026 - 12 - 02)),
            Some(date!(2026 - 01 - 01))
        );
        let day = ViewState::from_query(&params(&[("range", "24h")]), "UTC");
        let p = day.api_params(None, date!(2026 - 12 - 02), "NOW", "DAY_AGO");
        assert_eq!((p["from"].as_str(), p["to"].as_str()), ("DAY_AGO", "NOW"));
    }

    #[test]
    fn dates_without_a_range_are_a_custom_range() {
        let s = ViewState::from_query(
            &params(&[("from", "2026-01-01"), ("to", "2026-01-31")]),
            "UTC",
        );
        assert_eq!(s.range, Range::Custom);
        assert_eq!(
            s.query_string(),
            "range=custom&from=2026-01-01&to=2026-01-31&tz=UTC"
        );
        // A preset drops custom dates.
        assert_eq!(s.with_range(Range::Week).query_string(), "range=7d&tz=UTC");
    }

    #[test]
    fn filters_combine_replace_and_come_off() {
        let s = ViewState::from_query(&params(&[("country", "FR"), ("bogus", "x")]), "UTC");
        let s = s.with_filter(Dimension::Channel, "dark_social");
        assert_eq!(
            s.query_string(),
            "range=30d&tz=UTC&channel=dark_social&country=FR"
        );
        let s = s.with_filter(Dimension::Country, "BE");
        assert_eq!(s.filters.len(), 2);
        assert!(s.query_string().ends_with("country=BE"));
        let s = s.without_filter(Dimension::Channel);
        assert_eq!(s.query_string(), "range=30d&tz=UTC&country=BE");
        assert!(selectable("whatsapp"));
        assert!(!selectable("unknown"));
        assert!(!selectable("a,b"));
    }
}
