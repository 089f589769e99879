//! Evidence: the signals behind an attribution, as short stable strings
//! (`preview_ua:whatsapp`, `referer:search:google`). Never carries raw visitor input:
//! every value is an id from the rule tables or a sanitised bot token.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// One signal that contributed to an [`Attribution`](super::Attribution), strongest first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Evidence {
    /// `preview_ua:<app>`: the User-Agent is that app's link-preview fetcher.
    PreviewUa(String),
    /// `bot_ua:<name>`: the User-Agent matched a bot rule.
    BotUa(String),
    /// `ua_missing`: no or empty User-Agent.
    UaMissing,
    /// `ua_oversized`: a User-Agent longer than any browser sends.
    UaOversized,
    /// `purpose:prefetch` or `purpose:prerender`: a speculative browser load.
    Purpose(String),
    /// `method:head`: a HEAD request.
    MethodHead,
    /// `referer:internal`: the Referer is one of Lanterne's own hosts.
    RefererInternal,
    /// `referer:<channel>:<source>` (e.g. `referer:search:google`), or `referer:referral`.
    Referer(String),
    /// `referer_app:<app>`: an `android-app://` Referer, or a messaging app's web front-end.
    RefererApp(String),
    /// `referer_invalid`: a Referer that is not a URL; treated as absent.
    RefererInvalid,
    /// `inapp_ua:<app>`: the User-Agent is that app's in-app browser.
    InappUa(String),
    /// `x_requested_with:<app>`: an Android WebView embedded in that app.
    XRequestedWith(String),
    /// `declared_channel:<id>`: the link variant declares that channel.
    DeclaredChannel(String),
    /// `utm_medium:<id>`: the link's utm_medium names that channel.
    UtmMedium(String),
    /// `utm_source:<id>`: the link's utm_source names that channel.
    UtmSource(String),
    /// `recent_preview:<app>`: that app previewed the link within the preview window.
    RecentPreview(String),
    /// `sec_fetch_site_none+generated_slug`: the address came from outside the browser.
    SecFetchSiteNoneGeneratedSlug,
    /// `no_referer`: no Referer and no private-share signal (direct).
    NoReferer,
    /// `datacenter_asn:<network>`: from a security vendor's network, or a hosting network
    /// with no sign of a person (`data/networks.tsv`).
    DatacenterAsn(String),
    /// `request_shape:<shape>`: headers no browser of that User-Agent sends together.
    RequestShape(String),
    /// `referer_withheld`: direct, but `Sec-Fetch-Site` says the navigation came from
    /// another page (cross-site or same-site) that withheld its address
    /// (`referrerpolicy="no-referrer"`, `rel=noreferrer`).
    RefererWithheld,
}

impl fmt::Display for Evidence {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Evidence::PreviewUa(v) => write!(f, "preview_ua:{v}"),
            Evidence::BotUa(v) => write!(f, "bot_ua:{v}"),
            Evidence::UaMissing => f.write_str("ua_missing"),
            Evidence::UaOversized => f.write_str("ua_oversized"),
            Evidence::Purpose(v) => write!(f, "purpose:{v}"),
            Evidence::MethodHead => f.write_str("method:head"),
            Evidence::RefererInternal => f.write_str("referer:internal"),
            Evidence::Referer(v) => write!(f, "referer:{v}"),
            Evidence::RefererApp(v) => write!(f, "referer_app:{v}"),
            Evidence::RefererInvalid => f.write_str("referer_invalid"),
            Evidence::InappUa(v) => write!(f, "inapp_ua:{v}"),
            Evidence::XRequestedWith(v) => write!(f, "x_requested_with:{v}"),
            Evidence::DeclaredChannel(v) => write!(f, "declared_channel:{v}"),
            Evidence::UtmMedium(v) => write!(f, "utm_medium:{v}"),
            Evidence::UtmSource(v) => write!(f, "utm_source:{v}"),
            Evidence::RecentPreview(v) => write!(f, "recent_preview:{v}"),
            Evidence::SecFetchSiteNoneGeneratedSlug => {
                f.write_str("sec_fetch_site_none+generated_slug")
            }
            Evidence::NoReferer => f.write_str("no_referer"),
            Evidence::RefererWithheld => f.write_str("referer_withheld"),
            Evidence::DatacenterAsn(v) => write!(f, "datacenter_asn:{v}"),
            Evidence::RequestShape(v) => write!(f, "request_shape:{v}"),
        }
    }
}

/// The text was not an evidence string this version writes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownEvidence(pub String);

impl fmt::Display for UnknownEvidence {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "unknown evidence {:?}", self.0)
    }
}

impl std::error::Error for UnknownEvidence {}

impl FromStr for Evidence {
    type Err = UnknownEvidence;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let unit = match s {
            "ua_missing" => Some(Evidence::UaMissing),
            "ua_oversized" => Some(Evidence::UaOversized),
            "method:head" => Some(Evidence::MethodHead),
            "referer:internal" => Some(Evidence::RefererInternal),
            "referer_invalid" => Some(Evidence::RefererInvalid),
            "sec_fetch_site_none+generated_slug" => Some(Evidence::SecFetchSiteNoneGeneratedSlug),
            "no_referer" => Some(Evidence::NoReferer),
            "referer_withheld" => Some(Evidence::RefererWithheld),
            _ => None,
        };
        if let Some(evidence) = unit {
            return Ok(evidence);
        }
        let (tag, value) = s
            .split_once(':')
            .ok_or_else(|| UnknownEvidence(s.to_owned()))?;
        let value = value.to_owned();
        Ok(match tag {
            "preview_ua" => Evidence::PreviewUa(value),
            "bot_ua" => Evidence::BotUa(value),
            "purpose" => Evidence::Purpose(value),
            "referer" => Evidence::Referer(value),
            "referer_app" => Evidence::RefererApp(value),
            "inapp_ua" => Evidence::InappUa(value),
            "x_requested_with" => Evidence::XRequestedWith(value),
            "declared_channel" => Evidence::DeclaredChannel(value),
            "utm_medium" => Evidence::UtmMedium(value),
            "utm_source" => Evidence::UtmSource(value),
            "recent_preview" => Evidence::RecentPreview(value),
            "datacenter_asn" => Evidence::DatacenterAsn(value),
            "request_shape" => Evidence::RequestShape(value),
            _ => return Err(UnknownEvidence(s.to_owned())),
        })
    }
}

impl Serialize for Evidence {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Evidence {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn evidence_round_trips_through_its_string_form() {
        let all = [
            Evidence::PreviewUa("whatsapp".into()),
            Evidence::BotUa("googlebot".into()),
            Evidence::UaMissing,
            Evidence::UaOversized,
            Evidence::Purpose("prefetch".into()),
            Evidence::MethodHead,
            Evidence::RefererInternal,
            Evidence::Referer("search:google".into()),
            Evidence::RefererApp("telegram".into()),
            Evidence::RefererInvalid,
            Evidence::InappUa("instagram".into()),
            Evidence::XRequestedWith("facebook".into()),
            Evidence::DeclaredChannel("whatsapp".into()),
            Evidence::UtmMedium("sms".into()),
            Evidence::UtmSource("telegram".into()),
            Evidence::RecentPreview("telegram".into()),
            Evidence::SecFetchSiteNoneGeneratedSlug,
            Evidence::NoReferer,
            Evidence::RefererWithheld,
            Evidence::DatacenterAsn("proofpoint".into()),
            Evidence::RequestShape("bare_chromium".into()),
        ];
        for evidence in all {
            let json = serde_json::to_string(&evidence).unwrap();
            assert_eq!(
                serde_json::from_str::<Evidence>(&json).unwrap(),
                evidence,
                "{json}"
            );
        }
        assert!("nonsense".parse::<Evidence>().is_err());
    }
}
