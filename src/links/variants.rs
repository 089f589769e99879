//! Per-channel variants: the child links a marketer shares on one channel
//! each (WhatsApp, SMS, e-mail…), so that a click says where the link was
//! shared. Owns the list of channels a variant can be made for and the UTM
//! preset of each; every other rule (slug, inheritance of destination,
//! domain, UTM and preview card) is the ordinary parse of a `LinkInput`
//! with `parent_id` set. It never renders anything and holds no SQL.

use super::{InvalidLink, Link, LinkError, Links, Problem, Utm, input::LinkInput, store};

/// A channel a variant can be made for, with its UTM preset.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VariantChannel {
    /// Declared channel (one of `DECLARED_CHANNELS`).
    pub channel: &'static str,
    /// How people call it (buttons, the share snippet).
    pub label: &'static str,
    /// utm_source preset.
    pub source: &'static str,
    /// utm_medium preset.
    pub medium: &'static str,
}

/// The channels of the share kit, in the order the page shows them.
///
/// Presets follow Google Analytics 4's default channel group rules
/// (<https://support.google.com/analytics/answer/9756891>): medium `sms`
/// makes channel "SMS", source and medium `email` make "Email", medium
/// `social` makes "Organic Social"; the source names the app (GA4's list of
/// social sources spells X `twitter`). A printed QR code has no GA4 group:
/// source `qr`, medium `print`, as Google's Campaign URL Builder suggests
/// for offline media.
pub const VARIANT_CHANNELS: &[VariantChannel] = &[
    preset("whatsapp", "WhatsApp", "whatsapp", "social"),
    preset("sms", "SMS", "sms", "sms"),
    preset("email", "E-mail", "email", "email"),
    preset("telegram", "Telegram", "telegram", "social"),
    preset("messenger", "Messenger", "messenger", "social"),
    preset("signal", "Signal", "signal", "social"),
    preset("linkedin", "LinkedIn", "linkedin", "social"),
    preset("twitter", "X", "twitter", "social"),
    preset("facebook", "Facebook", "facebook", "social"),
    preset("qr", "QR code", "qr", "print"),
];

const fn preset(
    channel: &'static str,
    label: &'static str,
    source: &'static str,
    medium: &'static str,
) -> VariantChannel {
    VariantChannel {
        channel,
        label,
        source,
        medium,
    }
}

/// The variant channel named `name` (case and spaces ignored; `x` is twitter).
pub fn variant_channel(name: &str) -> Option<&'static VariantChannel> {
    let name = name.trim().to_ascii_lowercase();
    let name = if name == "x" {
        "twitter"
    } else {
        name.as_str()
    };
    VARIANT_CHANNELS.iter().find(|c| c.channel == name)
}

/// Parses the requested channels: known ones, without duplicates, in the
/// order asked. Any unknown one refuses the whole request.
pub fn parse_channels(raw: &[String]) -> Result<Vec<&'static VariantChannel>, InvalidLink> {
    let mut out: Vec<&'static VariantChannel> = Vec::with_capacity(raw.len());
    for name in raw {
        let Some(c) = variant_channel(name) else {
            return Err(InvalidLink::one("channels", Problem::UnknownVariantChannel));
        };
        if !out.contains(&c) {
            out.push(c);
        }
    }
    Ok(out)
}

/// The input of one variant of `parent_id`: its channel and UTM preset; the
/// parse fills in the parent's destination, domain, other UTM fields and card.
pub fn variant_input(parent_id: i64, channel: &VariantChannel) -> LinkInput {
    LinkInput {
        parent_id: Some(parent_id),
        channel: Some(channel.channel.to_owned()),
        utm: Utm {
            source: Some(channel.source.to_owned()),
            medium: Some(channel.medium.to_owned()),
            ..Utm::default()
        },
        ..LinkInput::default()
    }
}

impl Links {
    /// Creates the variants of `parent_id` for the channels it lacks, and
    /// returns all its variants (oldest first). Calling it again creates
    /// nothing. Two concurrent calls may each create a channel the other
    /// is creating (no unique key on `(parent_id, channel)`: older links may
    /// already hold two variants of one channel).
    pub async fn create_variants(
        &self,
        parent_id: i64,
        channels: &[String],
        by: Option<i64>,
    ) -> Result<Vec<Link>, LinkError> {
        let wanted = parse_channels(channels)?;
        let parent = self.find(parent_id).await?;
        if parent.parent_id.is_some() {
            return Err(InvalidLink::one("parent_id", Problem::ParentIsVariant).into());
        }
        let mut variants = self.variants(parent_id).await?;
        for c in wanted {
            if variants
                .iter()
                .any(|v| v.channel.as_deref() == Some(c.channel))
            {
                continue;
            }
            variants.push(self.create(variant_input(parent_id, c), by).await?);
        }
        Ok(variants)
    }

    /// The live variants of a link, oldest first.
    pub async fn variants(&self, parent_id: i64) -> Result<Vec<Link>, LinkError> {
        Ok(store::variants(self.pool(), parent_id).await?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::links::DECLARED_CHANNELS;

    #[test]
    fn every_variant_channel_is_a_declared_channel_with_a_preset() {
        for c in VARIANT_CHANNELS {
            assert!(DECLARED_CHANNELS.contains(&c.channel), "{}", c.channel);
            assert!(!c.source.is_empty() && !c.medium.is_empty());
        }
        assert_eq!(VARIANT_CHANNELS.len(), 10);
    }

    #[test]
    fn channels_are_parsed_without_duplicates_and_an_unknown_one_is_refused() {
        let asked = ["WhatsApp", "sms", "whatsapp", "X"].map(String::from);
        let got: Vec<_> = parse_channels(&asked)
            .unwrap()
            .iter()
            .map(|c| c.channel)
            .collect();
        assert_eq!(got, ["whatsapp", "sms", "twitter"]);
        let err = parse_channels(&["sms".into(), "pigeon".into()]).unwrap_err();
        assert_eq!(err.of("channels"), Some(&Problem::UnknownVariantChannel));
    }

    #[test]
    fn a_variant_input_presets_channel_source_and_medium_only() {
        let input = variant_input(7, variant_channel("whatsapp").unwrap());
        assert_eq!(input.parent_id, Some(7));
        assert_eq!(input.channel.as_deref(), Some("whatsapp"));
        assert_eq!(input.utm.source.as_deref(), Some("whatsapp"));
        assert_eq!(input.utm.medium.as_deref(), Some("social"));
        assert_eq!(input.utm.campaign, None, "taken from the parent");
        assert_eq!(input.destination, None, "taken from the parent");
        assert_eq!(input.slug, None, "generated");
    }
}
