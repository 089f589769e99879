//! The share kit on a link's page: its per-channel variants, each with its
//! short URL and a copy button. (The API's share URLs, QR codes and the
//! variant creation come from `links`; this file only shapes them.)

use crate::{
    i18n::Tr,
    links::{Link, Links},
};

use super::link_view::channel_name;

/// One variant of the share kit.
#[derive(Debug, Clone)]
pub struct ShareEntry {
    /// Channel, as shown.
    pub channel: String,
    /// Variant id.
    pub link_id: i64,
    /// Its short URL.
    pub short_url: String,
}

/// The share kit of a link.
#[derive(Debug, Clone, Default)]
pub struct ShareView {
    /// The variants, oldest first.
    pub entries: Vec<ShareEntry>,
}

impl ShareView {
    /// The kit of `link` from its `variants`.
    pub fn new(links: &Links, _link: &Link, variants: &[Link], _t: Tr) -> ShareView {
        ShareView {
            entries: variants
                .iter()
                .map(|v| ShareEntry {
                    channel: v.channel.as_deref().map(channel_name).unwrap_or_default(),
                    link_id: v.id,
                    short_url: links.short_url(v),
                })
                .collect(),
        }
    }
}
