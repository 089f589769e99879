//! `LinkView`: a link as the pages show it (short URL, destination after
//! the UTM merge, tags, state), built once per link from the stored row.

use time::{OffsetDateTime, macros::format_description};

use crate::{
    i18n::Tr,
    links::{Link, Links, cache::CachedLink},
};

/// A link, ready for a template.
#[derive(Debug, Clone)]
pub struct LinkView {
    /// Id.
    pub id: i64,
    /// Public short URL.
    pub short_url: String,
    /// Title, if any.
    pub title: Option<String>,
    /// Destination as entered.
    pub destination: String,
    /// Where the redirect goes (UTM merged).
    pub redirect_url: String,
    /// Tags.
    pub tags: Vec<String>,
    /// utm_source, utm_medium, utm_campaign, utm_term, utm_content (set ones).
    pub utm: Vec<(&'static str, String)>,
    /// utm_campaign.
    pub campaign: Option<String>,
    /// Declared channel, as shown (`WhatsApp`).
    pub channel: Option<String>,
    /// Enabled flag.
    pub enabled: bool,
    /// Expiry, formatted (UTC).
    pub expires: Option<String>,
    /// Whether it has expired.
    pub expired: bool,
    /// Creation date, formatted.
    pub created: String,
    /// Slug.
    pub slug: String,
    /// Domain.
    pub domain: String,
    /// Human clicks of the last 30 days, when known.
    pub clicks_30d: Option<i64>,
}

impl LinkView {
    /// The view of `link`.
    pub fn new(links: &Links, link: &Link, _t: Tr) -> LinkView {
        let when = format_description!("[year]-[month]-[day] [hour]:[minute] UTC");
        let day = format_description!("[year]-[month]-[day]");
        let utm = link.utm();
        let pairs = [
            ("utm_source", utm.source.clone()),
            ("utm_medium", utm.medium.clone()),
            ("utm_campaign", utm.campaign.clone()),
            ("utm_term", utm.term),
            ("utm_content", utm.content),
        ];
        LinkView {
            id: link.id,
            short_url: links.short_url(link),
            title: link.title.clone(),
            destination: link.destination.clone(),
            redirect_url: CachedLink::from_link(link).target,
            tags: link.tags.clone(),
            utm: pairs
                .into_iter()
                .filter_map(|(k, v)| v.map(|v| (k, v)))
                .collect(),
            campaign: utm.campaign,
            channel: link.channel.as_deref().map(channel_name),
            enabled: link.enabled,
            expires: link.expires_at.and_then(|e| e.format(when).ok()),
            expired: link
                .expires_at
                .is_some_and(|e| e <= OffsetDateTime::now_utc()),
            created: link.created_at.format(day).unwrap_or_default(),
            slug: link.slug.clone(),
            domain: link.domain.clone(),
            clicks_30d: None,
        }
    }

    /// The title, else the short URL without its scheme.
    pub fn label(&self) -> String {
        self.title.clone().unwrap_or_else(|| {
            self.short_url
                .split_once("://")
                .map_or(self.short_url.clone(), |(_, rest)| rest.to_owned())
        })
    }
}

/// How a declared channel is named on screen.
pub fn channel_name(channel: &str) -> String {
    match channel {
        "whatsapp" => "WhatsApp".into(),
        "sms" => "SMS".into(),
        "email" => "E-mail".into(),
        "twitter" => "X".into(),
        "linkedin" => "LinkedIn".into(),
        "qr" => "QR".into(),
        "imessage" => "iMessage".into(),
        "kakaotalk" => "KakaoTalk".into(),
        "tiktok" => "TikTok".into(),
        "wechat" => "WeChat".into(),
        other => {
            let mut c = other.chars();
            c.next()
                .map(|f| f.to_uppercase().collect::<String>() + c.as_str())
                .unwrap_or_default()
        }
    }
}
