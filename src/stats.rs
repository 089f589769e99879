//! The read side of statistics: what the stats API, the exports and the
//! dashboard pages show, one function per view. It reads tables only —
//! `click_rollups` for everything it can (cost follows the time range, not
//! the clicks), raw `clicks` when a filter names a dimension other than the
//! channel (rollups hold one dimension per row) — and never imports the
//! click writer. Stored kinds and channels are parsed into the classifier's
//! typed enums, never compared as strings.

pub mod calendar;
pub mod export;
mod figures;
pub mod link_clicks;
pub mod query;
pub mod recent;
pub mod store;
pub mod view;

use serde::{
    Deserialize,
    de::{IntoDeserializer, value::StrDeserializer},
};

use crate::attribution::{Channel, Kind};
pub use query::{Bound, Filter, Interval, Scope, StatsQuery};
pub use recent::{RecentClick, recent_clicks};
pub use view::{StatsView, view};

/// Why a stats query failed.
#[derive(Debug, thiserror::Error)]
pub enum StatsError {
    /// A parameter is malformed (400, naming it).
    #[error("{field}: {message}")]
    Invalid {
        /// The parameter.
        field: &'static str,
        /// What is wrong.
        message: &'static str,
    },
    /// The scope names no link (404).
    #[error("link not found")]
    UnknownLink,
    /// Filters on several dimensions (besides the channel), or a breakdown
    /// crossed with a filter on another, over a scope and range too busy to
    /// count from raw clicks within the budget (422).
    #[error(
        "these filters over this range take too long to count from raw clicks: choose a shorter range or fewer filters (one, the channel aside, is counted from the rollups)"
    )]
    TooBroad,
    /// The database failed.
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

impl StatsError {
    /// A malformed parameter.
    pub fn invalid(field: &'static str, message: &'static str) -> StatsError {
        StatsError::Invalid { field, message }
    }
}

/// A dimension clicks are broken down and filtered by; the name is the
/// query parameter, the rollup dimension and the `clicks` column alike.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Dimension {
    /// The channel (in every rollup row).
    Channel,
    /// App or site.
    Source,
    /// The kind of the deciding evidence item.
    Evidence,
    /// ISO country code.
    Country,
    /// Region.
    Region,
    /// City.
    City,
    /// Device class.
    Device,
    /// Browser family.
    Browser,
    /// OS family.
    Os,
    /// Referrer host.
    ReferrerHost,
    /// The link's utm_source at click time.
    UtmSource,
    /// The link's utm_medium at click time.
    UtmMedium,
    /// The link's utm_campaign at click time.
    UtmCampaign,
}

impl Dimension {
    /// Every dimension but the channel, as rolled up.
    pub const BREAKDOWNS: [Dimension; 12] = [
        Dimension::Source,
        Dimension::Evidence,
        Dimension::Country,
        Dimension::Region,
        Dimension::City,
        Dimension::Device,
        Dimension::Browser,
        Dimension::Os,
        Dimension::ReferrerHost,
        Dimension::UtmSource,
        Dimension::UtmMedium,
        Dimension::UtmCampaign,
    ];

    /// The parameter, rollup dimension and column name.
    pub fn field(self) -> &'static str {
        match self {
            Dimension::Channel => "channel",
            Dimension::Source => "source",
            Dimension::Evidence => "evidence",
            Dimension::Country => "country",
            Dimension::Region => "region",
            Dimension::City => "city",
            Dimension::Device => "device",
            Dimension::Browser => "browser",
            Dimension::Os => "os",
            Dimension::ReferrerHost => "referrer_host",
            Dimension::UtmSource => "utm_source",
            Dimension::UtmMedium => "utm_medium",
            Dimension::UtmCampaign => "utm_campaign",
        }
    }

    /// The dimension a parameter or stored name means.
    pub fn parse(name: &str) -> Option<Dimension> {
        std::iter::once(Dimension::Channel)
            .chain(Dimension::BREAKDOWNS)
            .find(|d| d.field() == name)
    }

    /// The SQL expression of the dimension over a `clicks` row (the
    /// evidence is cut to its kind, as rolled up).
    pub fn column(self) -> &'static str {
        match self {
            Dimension::Evidence => "split_part(evidence[1], ':', 1)",
            d => d.field(),
        }
    }
}

/// A stored channel, typed; `None` for an unknown spelling.
pub fn parse_channel(s: &str) -> Option<Channel> {
    let de: StrDeserializer<'_, serde::de::value::Error> = s.into_deserializer();
    Channel::deserialize(de).ok()
}

/// A stored kind, typed; `None` for an unknown spelling.
pub fn parse_kind(s: &str) -> Option<Kind> {
    let de: StrDeserializer<'_, serde::de::value::Error> = s.into_deserializer();
    Kind::deserialize(de).ok()
}

/// Every channel, in the dashboard's order (dark social and direct first,
/// side by side).
pub const CHANNELS: [Channel; 8] = [
    Channel::DarkSocial,
    Channel::Direct,
    Channel::Social,
    Channel::Search,
    Channel::Email,
    Channel::Referral,
    Channel::Qr,
    Channel::Internal,
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_kinds_channels_and_dimensions_parse_into_their_types() {
        for c in CHANNELS {
            assert_eq!(parse_channel(c.as_str()), Some(c));
        }
        assert_eq!(parse_channel("Dark_Social"), None);
        assert_eq!(parse_kind("prefetch"), Some(Kind::Prefetch));
        assert_eq!(parse_kind("click"), None);
        for d in Dimension::BREAKDOWNS {
            assert_eq!(Dimension::parse(d.field()), Some(d));
        }
        assert_eq!(Dimension::parse("visitor_hash"), None);
    }
}
