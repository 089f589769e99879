//! The stats query: the parameters of `GET /api/v1/stats` (and the exports
//! and pages that share them), parsed into a typed [`StatsQuery`] that names
//! the field at fault. No I/O: ranges given as dates are resolved in the
//! query's time zone by the store.

use std::collections::HashMap;

use time::{Date, OffsetDateTime, format_description::well_known::Rfc3339};

use super::{Dimension, StatsError};

/// Which links a query covers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    /// One link.
    Link(i64),
    /// The links whose `utm_campaign` is this.
    Campaign(String),
    /// The links that carry this tag.
    Tag(String),
    /// Every link of the workspace.
    Workspace,
}

/// One end of the range: a date (its midnight in the query's time zone) or
/// an instant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Bound {
    /// `YYYY-MM-DD`: for `from`, that day's start; for `to`, the next day's
    /// start (the day is included).
    Day(Date),
    /// An RFC 3339 timestamp.
    Instant(OffsetDateTime),
}

/// Width of a time-series bucket.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Interval {
    /// An hour.
    Hour,
    /// A day.
    Day,
    /// A week (starting on Monday).
    Week,
    /// A month.
    Month,
}

impl Interval {
    /// The `date_trunc` field.
    pub fn as_str(self) -> &'static str {
        match self {
            Interval::Hour => "hour",
            Interval::Day => "day",
            Interval::Week => "week",
            Interval::Month => "month",
        }
    }

    /// The default for a range: about 24 to 400 buckets.
    pub fn for_range(range: time::Duration) -> Interval {
        match range.whole_days() {
            ..=2 => Interval::Hour,
            3..=120 => Interval::Day,
            121..=730 => Interval::Week,
            _ => Interval::Month,
        }
    }
}

/// A filter on one dimension: the values kept, and those left out.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filter {
    /// Values kept (empty: any).
    pub include: Vec<String>,
    /// Values left out.
    pub exclude: Vec<String>,
}

/// `stats.raw_budget`'s default (`config/default.toml`).
pub const DEFAULT_RAW_BUDGET: std::time::Duration = std::time::Duration::from_millis(150);

/// A parsed stats query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatsQuery {
    /// The links covered.
    pub scope: Scope,
    /// Range start (default: 30 days before `to`).
    pub from: Option<Bound>,
    /// Range end, excluded (default: now).
    pub to: Option<Bound>,
    /// Bucket width (default: chosen from the range).
    pub interval: Option<Interval>,
    /// IANA time zone (validated by the database; default `UTC`).
    pub tz: String,
    /// Filters by dimension (channel included), in a stable order.
    pub filters: Vec<(Dimension, Filter)>,
    /// How long a count from raw clicks may run (`stats.raw_budget`; the
    /// handlers set it from the settings).
    pub raw_budget: std::time::Duration,
}

impl StatsQuery {
    /// Parses query-string parameters; an unknown parameter is refused so
    /// that a misspelt filter does not silently widen the answer.
    pub fn parse(params: &HashMap<String, String>) -> Result<StatsQuery, StatsError> {
        let mut scope = Scope::Workspace;
        let mut scopes = 0;
        let mut q = StatsQuery {
            scope: Scope::Workspace,
            from: None,
            to: None,
            interval: None,
            tz: "UTC".to_owned(),
            filters: Vec::new(),
            raw_budget: DEFAULT_RAW_BUDGET,
        };
        let mut keys: Vec<&String> = params.keys().collect();
        keys.sort();
        for key in keys {
            let value = params[key].trim();
            match key.as_str() {
                "link_id" => {
                    let id = value.parse().ok().filter(|&id: &i64| id > 0);
                    scope =
                        Scope::Link(id.ok_or(StatsError::invalid("link_id", "must be a link id"))?);
                    scopes += 1;
                }
                "campaign" => {
                    scope = Scope::Campaign(non_empty("campaign", value)?);
                    scopes += 1;
                }
                "tag" => {
                    scope = Scope::Tag(non_empty("tag", value)?);
                    scopes += 1;
                }
                "from" => q.from = Some(bound("from", value)?),
                "to" => q.to = Some(bound("to", value)?),
                "interval" => q.interval = Some(interval(value)?),
                "tz" => q.tz = tz(value)?,
                other => {
                    let dimension = Dimension::parse(other).ok_or(StatsError::invalid(
                        "query",
                        "unknown parameter (expected link_id, campaign, tag, from, to, interval, tz or a dimension)",
                    ))?;
                    q.filters.push((dimension, filter(dimension, value)?));
                }
            }
        }
        if scopes > 1 {
            return Err(StatsError::invalid(
                "link_id",
                "give at most one of link_id, campaign and tag",
            ));
        }
        q.scope = scope;
        Ok(q)
    }

    /// The filter on channels, if any.
    pub fn channel_filter(&self) -> Option<&Filter> {
        self.filters
            .iter()
            .find(|(d, _)| *d == Dimension::Channel)
            .map(|(_, f)| f)
    }
}

fn non_empty(field: &'static str, value: &str) -> Result<String, StatsError> {
    if value.is_empty() || value.len() > 256 {
        return Err(StatsError::invalid(field, "must be 1 to 256 characters"));
    }
    Ok(value.to_owned())
}

fn bound(field: &'static str, value: &str) -> Result<Bound, StatsError> {
    let date = time::macros::format_description!("[year]-[month]-[day]");
    if let Ok(d) = Date::parse(value, date) {
        return Ok(Bound::Day(d));
    }
    OffsetDateTime::parse(value, &Rfc3339)
        .map(Bound::Instant)
        .map_err(|_| {
            StatsError::invalid(
                field,
                "must be a date (2026-01-31) or an RFC 3339 timestamp",
            )
        })
}

fn interval(value: &str) -> Result<Interval, StatsError> {
    match value {
        "hour" => Ok(Interval::Hour),
        "day" => Ok(Interval::Day),
        "week" => Ok(Interval::Week),
        "month" => Ok(Interval::Month),
        _ => Err(StatsError::invalid(
            "interval",
            "must be hour, day, week or month",
        )),
    }
}

/// An IANA name's shape (`Europe/Paris`, `UTC`, `America/Argentina/Salta`);
/// whether the database knows it is checked when the range is resolved.
fn tz(value: &str) -> Result<String, StatsError> {
    let ok = !value.is_empty()
        && value.len() <= 64
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"/_-+".contains(&b));
    if ok {
        Ok(value.to_owned())
    } else {
        Err(StatsError::invalid(
            "tz",
            "must be an IANA time zone, e.g. Europe/Paris",
        ))
    }
}

/// `a,b,!c`: keep a and b, leave out c. Channels must be channel names.
fn filter(dimension: Dimension, value: &str) -> Result<Filter, StatsError> {
    let mut f = Filter::default();
    for v in value.split(',').map(str::trim).filter(|v| !v.is_empty()) {
        let (list, v) = match v.strip_prefix('!') {
            Some(v) => (&mut f.exclude, v),
            None => (&mut f.include, v),
        };
        if v.len() > 256 {
            return Err(StatsError::invalid(
                dimension.field(),
                "values are at most 256 characters",
            ));
        }
        if dimension == Dimension::Channel && super::parse_channel(v).is_none() {
            return Err(StatsError::invalid("channel", "unknown channel"));
        }
        list.push(v.to_owned());
    }
    if f.include.is_empty() && f.exclude.is_empty() {
        return Err(StatsError::invalid(
            dimension.field(),
            "give at least one value",
        ));
    }
    Ok(f)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(pairs: &[(&str, &str)]) -> Result<StatsQuery, StatsError> {
        let params = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        StatsQuery::parse(&params)
    }

    fn field(r: Result<StatsQuery, StatsError>) -> &'static str {
        match r {
            Err(StatsError::Invalid { field, .. }) => field,
            other => panic!("expected a field error, got {other:?}"),
        }
    }

    #[test]
    fn parameters_parse_into_scope_range_and_filters() {
        let q = parse(&[
            ("link_id", "42"),
            ("from", "2026-11-01"),
            ("to", "2026-11-30T12:00:00Z"),
            ("interval", "week"),
            ("tz", "Europe/Paris"),
            ("channel", "dark_social,direct"),
            ("country", "!FR,!DE"),
        ])
        .unwrap();
        assert_eq!(q.scope, Scope::Link(42));
        assert_eq!(
            q.from,
            Some(Bound::Day(time::macros::date!(2026 - 11 - 01)))
        );
        assert_eq!(
            q.to,
            Some(Bound::Instant(
                time::macros::datetime!(2026-11-30 12:00 UTC)
            ))
        );
        assert_eq!(q.interval, Some(Interval::Week));
        assert_eq!(q.tz, "Europe/Paris");
        assert_eq!(
            q.channel_filter().unwrap().include,
            ["dark_social", "direct"]
        );
        let country = &q
            .filters
            .iter()
            .find(|(d, _)| *d == Dimension::Country)
            .unwrap()
            .1;
        assert_eq!(country.exclude, ["FR", "DE"]);
        assert!(country.include.is_empty());
        assert_eq!(parse(&[]).unwrap().scope, Scope::Workspace);
    }

    #[test]
    fn bad_parameters_name_their_field() {
        for (pairs, expected) in [
            (&[("link_id", "x")][..], "link_id"),
            (&[("link_id", "1"), ("tag", "a")][..], "link_id"),
            (&[("from", "yesterday")][..], "from"),
            (&[("to", "2026-13-01")][..], "to"),
            (&[("interval", "fortnight")][..], "interval"),
            (&[("tz", "Europe/Paris; drop table")][..], "tz"),
            (&[("channel", "carrier_pigeon")][..], "channel"),
            (&[("country", ",")][..], "country"),
            (&[("colour", "red")][..], "query"),
        ] {
            assert_eq!(field(parse(pairs)), expected, "{pairs:?}");
        }
    }
}
