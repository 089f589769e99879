//! The share kit: for each variant of a link, the ready-to-send address
//! that opens its app with the variant's short URL and a message, and a
//! copyable HTML snippet of share buttons for the marketer's own site or
//! newsletter. Owns the share URL form of each app; it never writes, and
//! its HTML comes only from the askama template (escaped, no script, no
//! tracking pixel).

use askama::Template;
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use serde::Serialize;

use super::{Link, LinkError, Links, Problem, fields::InvalidLink, variants::variant_channel};

/// Longest message text accepted (characters).
pub const MAX_TEXT_LENGTH: usize = 1000;

/// Everything but RFC 3986's unreserved characters is encoded. The url
/// crate's `form_urlencoded` writes a space as `+`, which `mailto:` and
/// `sms:` read as a plus sign (RFC 6068), so its sibling `percent-encoding`
/// (the crate the url crate encodes with) is used with this set.
const COMPONENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

fn enc(s: &str) -> percent_encoding::PercentEncode<'_> {
    utf8_percent_encode(s, COMPONENT)
}

/// One button of the kit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct ShareChannel {
    /// Declared channel of the variant.
    pub channel: String,
    /// How people call it ("X" for twitter).
    pub label: String,
    /// The variant's id.
    pub link_id: i64,
    /// The variant's short URL.
    pub short_url: String,
    /// The address that opens the app ready to send; `null` where the app
    /// has no share address (Signal, a QR code): share the short URL itself.
    pub share_url: Option<String>,
}

/// The share address of `channel` for `url` and the message `text`
/// (`None` for a channel without one). Forms, as each app documents them:
/// WhatsApp <https://faq.whatsapp.com/5913398998672934>, SMS RFC 5724 with
/// the `?&body=` form both iOS and Android read, e-mail RFC 6068, Telegram
/// <https://core.telegram.org/widgets/share>, Messenger's
/// `fb-messenger://share` link (its web Send dialog needs an app id),
/// LinkedIn's share-offsite, X's web intent
/// <https://developer.x.com/en/docs/x-for-websites/tweet-button/guides/web-intent>,
/// Facebook's sharer.
pub fn share_url(channel: &str, url: &str, text: &str) -> Option<String> {
    let message = if text.is_empty() {
        url.to_owned()
    } else {
        format!("{text} {url}")
    };
    Some(match channel {
        "whatsapp" => format!("https://wa.me/?text={}", enc(&message)),
        "sms" => format!("sms:?&body={}", enc(&message)),
        "email" => format!(
            "mailto:?subject={}&body={}",
            enc(text),
            enc(&format!("{text}\n\n{url}"))
        ),
        "telegram" => format!("https://t.me/share/url?url={}&text={}", enc(url), enc(text)),
        "messenger" => format!("fb-messenger://share/?link={}", enc(url)),
        "linkedin" => format!(
            "https://www.linkedin.com/sharing/share-offsite/?url={}",
            enc(url)
        ),
        "twitter" => format!(
            "https://twitter.com/intent/tweet?text={}&url={}",
            enc(text),
            enc(url)
        ),
        "facebook" => format!("https://www.facebook.com/sharer/sharer.php?u={}", enc(url)),
        _ => return None,
    })
}

/// Checks a message text given by the marketer: trimmed, bounded; line
/// breaks and tabs are allowed, other control characters are not.
pub fn parse_text(raw: Option<String>) -> Result<Option<String>, InvalidLink> {
    let Some(t) = raw.map(|t| t.trim().to_owned()).filter(|t| !t.is_empty()) else {
        return Ok(None);
    };
    if t.chars().count() > MAX_TEXT_LENGTH {
        return Err(InvalidLink::one("text", Problem::TooLong(MAX_TEXT_LENGTH)));
    }
    if t.chars()
        .any(|c| c.is_control() && !matches!(c, '\n' | '\t'))
    {
        return Err(InvalidLink::one("text", Problem::ControlCharacter));
    }
    Ok(Some(t))
}

/// The default message of a link: its title, else its destination.
pub fn default_text(link: &Link) -> String {
    link.title
        .clone()
        .unwrap_or_else(|| link.destination.clone())
}

/// The kit of `variants` with the message `text`.
pub fn kit(links: &Links, variants: &[Link], text: &str) -> Vec<ShareChannel> {
    variants
        .iter()
        .filter_map(|v| {
            let channel = v.channel.clone()?;
            let short_url = links.short_url(v);
            let label = variant_channel(&channel).map_or(channel.as_str(), |c| c.label);
            Some(ShareChannel {
                label: label.to_owned(),
                share_url: share_url(&channel, &short_url, text),
                link_id: v.id,
                short_url,
                channel,
            })
        })
        .collect()
}

impl Links {
    /// The share kit of link `id`'s variants, with `text` (checked) or the
    /// link's default message; and the message used.
    pub async fn share_kit(
        &self,
        id: i64,
        text: Option<String>,
    ) -> Result<(Vec<ShareChannel>, String), LinkError> {
        let text = parse_text(text)?;
        let link = self.find(id).await?;
        let variants = self.variants(id).await?;
        let text = text.unwrap_or_else(|| default_text(&link));
        Ok((kit(self, &variants, &text), text))
    }
}

/// The snippet's template: links styled as buttons, nothing else.
#[derive(Template)]
#[template(path = "share_snippet.html")]
struct Snippet<'a> {
    text: &'a str,
    buttons: Vec<(&'a str, &'a str, &'a str)>,
}

/// A copyable HTML snippet of share buttons (every value escaped; no
/// script, no image, no tracking pixel): one link per channel that has a
/// share address.
pub fn snippet(kit: &[ShareChannel], text: &str) -> String {
    let buttons = kit
        .iter()
        .filter_map(|c| {
            let url = c.share_url.as_deref()?;
            Some((c.channel.as_str(), c.label.as_str(), url))
        })
        .collect();
    // Rendering strings into a String cannot fail (askama errors come from
    // a value's Display, and these are all `&str`).
    Snippet { text, buttons }.render().unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    const URL: &str = "https://lnt.example/Ab3dE7k";

    #[test]
    fn each_app_gets_its_documented_share_address_percent_encoded() {
        let text = "Soldes d'été & 50%";
        let cases = [
            (
                "whatsapp",
                "https://wa.me/?text=Soldes%20d%27%C3%A9t%C3%A9%20%26%2050%25%20https%3A%2F%2Flnt.example%2FAb3dE7k",
            ),
            (
                "sms",
                "sms:?&body=Soldes%20d%27%C3%A9t%C3%A9%20%26%2050%25%20https%3A%2F%2Flnt.example%2FAb3dE7k",
            ),
            (
                "email",
                "mailto:?subject=Soldes%20d%27%C3%A9t%C3%A9%20%26%2050%25&body=Soldes%20d%27%C3%A9t%C3%A9%20%26%2050%25%0A%0Ahttps%3A%2F%2Flnt.example%2FAb3dE7k",
            ),
            (
                "telegram",
                "https://t.me/share/url?url=https%3A%2F%2Flnt.example%2FAb3dE7k&text=Soldes%20d%27%C3%A9t%C3%A9%20%26%2050%25",
            ),
            (
                "messenger",
                "fb-messenger://share/?link=https%3A%2F%2Flnt.example%2FAb3dE7k",
            ),
            (
                "linkedin",
                "https://www.linkedin.com/sharing/share-offsite/?url=https%3A%2F%2Flnt.example%2FAb3dE7k",
            ),
            (
                "twitter",
                "https://twitter.com/intent/tweet?text=Soldes%20d%27%C3%A9t%C3%A9%20%26%2050%25&url=https%3A%2F%2Flnt.example%2FAb3dE7k",
            ),
            (
                "facebook",
                "https://www.facebook.com/sharer/sharer.php?u=https%3A%2F%2Flnt.example%2FAb3dE7k",
            ),
        ];
        for (channel, want) in cases {
            assert_eq!(
                share_url(channel, URL, text).as_deref(),
                Some(want),
                "{channel}"
            );
        }
        assert_eq!(share_url("signal", URL, text), None);
        assert_eq!(share_url("qr", URL, text), None);
    }

    #[test]
    fn a_message_text_is_bounded_and_refuses_control_characters_but_not_line_breaks() {
        assert_eq!(parse_text(Some("  ".into())).unwrap(), None);
        assert_eq!(
            parse_text(Some("a\nb".into())).unwrap().as_deref(),
            Some("a\nb")
        );
        assert!(parse_text(Some("a\u{7}b".into())).is_err());
        assert!(parse_text(Some("x".repeat(MAX_TEXT_LENGTH + 1))).is_err());
    }

    #[test]
    fn the_snippet_escapes_the_text_and_holds_no_script_or_image() {
        let kit = vec![
            ShareChannel {
                channel: "whatsapp".into(),
                label: "WhatsApp".into(),
                link_id: 1,
                short_url: URL.into(),
                share_url: share_url("whatsapp", URL, "<script>alert(1)</script> & co"),
            },
            ShareChannel {
                channel: "signal".into(),
                label: "Signal".into(),
                link_id: 2,
                short_url: URL.into(),
                share_url: None,
            },
        ];
        let html = snippet(&kit, "<script>alert(1)</script> & co");
        assert!(!html.contains("<script"), "{html}");
        assert!(
            html.contains("&#60;script&#62;alert(1)&#60;/script&#62; &#38; co"),
            "{html}"
        );
        assert!(!html.contains("<img"), "{html}");
        assert!(html.contains("https://wa.me/?text=%3Cscript%3E"), "{html}");
        assert!(
            !html.contains("Signal"),
            "no button without a share address: {html}"
        );
    }
}
