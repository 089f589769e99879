//! The share kit on a link's page: the per-channel variants with their
//! ready-to-send buttons (`links::share::kit`), the form that makes the
//! missing variants in one action (`Links::create_variants`), the copyable
//! HTML snippet, and the QR code of the `qr` variant (for print, so that
//! scans count as channel `qr`). This file only shapes what `links` owns.

use axum::{
    extract::{Path, State},
    response::Response,
};

use super::{EditorPage, PageForm, flash};
use crate::{
    http::error::page::PageError,
    links::{
        Link, LinkError, Links,
        share::{self, ShareChannel},
        variants::VARIANT_CHANNELS,
    },
};

/// A channel the marketer may still add.
#[derive(Debug, Clone)]
pub struct MissingChannel {
    /// Declared channel.
    pub channel: &'static str,
    /// How it is called.
    pub label: &'static str,
}

/// The share kit of a link, ready for the template.
#[derive(Debug, Clone)]
pub struct ShareView {
    /// One button per variant, oldest first.
    pub entries: Vec<ShareChannel>,
    /// The message the buttons carry.
    pub text: String,
    /// The HTML snippet of share buttons.
    pub snippet: String,
    /// Channels without a variant yet.
    pub missing: Vec<MissingChannel>,
    /// Id of the link whose QR code is shown (the `qr` variant, else the link).
    pub qr_link: i64,
    /// Whether that is the `qr` variant.
    pub qr_is_variant: bool,
}

impl ShareView {
    /// The kit of `link` from its `variants`, with `text` or the link's default message.
    pub fn new(links: &Links, link: &Link, variants: &[Link], text: Option<String>) -> ShareView {
        let text = text.unwrap_or_else(|| share::default_text(link));
        let entries = share::kit(links, variants, &text);
        let has = |c: &str| variants.iter().any(|v| v.channel.as_deref() == Some(c));
        let qr = variants.iter().find(|v| v.channel.as_deref() == Some("qr"));
        ShareView {
            snippet: share::snippet(&entries, &text),
            missing: VARIANT_CHANNELS
                .iter()
                .filter(|c| !has(c.channel))
                .map(|c| MissingChannel {
                    channel: c.channel,
                    label: c.label,
                })
                .collect(),
            qr_link: qr.map_or(link.id, |v| v.id),
            qr_is_variant: qr.is_some(),
            entries,
            text,
        }
    }
}

/// `POST /links/{id}/variants`: makes the missing variants of the ticked channels.
pub async fn create_variants(
    State(links): State<Links>,
    EditorPage(page): EditorPage,
    Path(id): Path<String>,
    // The ticked `channel` boxes: one pair each (serde_urlencoded reads
    // repeated keys as a list of pairs, not as a Vec field).
    PageForm(pairs): PageForm<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let id = super::links::parse_id(&id)?;
    let back = format!("/links/{id}#share-title");
    let channels: Vec<String> = pairs
        .into_iter()
        .filter(|(k, _)| k == "channel")
        .map(|(_, v)| v)
        .collect();
    if channels.is_empty() {
        return Ok(flash::redirect(&back, "flash.error_no_channel", ""));
    }
    match links
        .create_variants(id, &channels, Some(page.user.id))
        .await
    {
        Ok(all) => Ok(flash::redirect(
            &back,
            "flash.variants_created",
            &all.len().to_string(),
        )),
        Err(LinkError::Invalid(_)) => Ok(flash::redirect(&back, "flash.error_variants", "")),
        Err(e) => Err(e.into()),
    }
}
