//! Header capture: the request headers attribution reads, copied on the
//! redirect's hot path into one buffer ([`RawHeaders`]), decoded off it
//! ([`HeaderView`]) and stored ([`CapturedHeaders`]), each capped in length.
//! A leaf of the crate: it knows nothing of links, the queue or the
//! database, and must never allocate more than one buffer per request.

use std::{borrow::Cow, sync::Arc};

use axum::http::HeaderMap;
use serde::{Deserialize, Serialize};

/// Shared, immutable text. The values of a stored click repeat from click to
/// click (classification, browser, UTM fields, often the User-Agent itself),
/// so the writer shares one copy among them instead of allocating each.
/// Serialised as a plain string.
pub type Text = Arc<str>;

/// Longest `User-Agent` kept (real ones are under 512 bytes; bots pad theirs).
pub const MAX_USER_AGENT: usize = 1024;
/// Longest `User-Agent` handed to the classifier (it calls anything over
/// 2 KiB a bot without scanning it; the header size limit bounds it anyway).
pub const MAX_CLASSIFIED_USER_AGENT: usize = 4096;
/// Longest `Referer` kept.
pub const MAX_REFERER: usize = 1024;
/// Longest value kept of the other captured headers.
pub const MAX_SHORT_HEADER: usize = 128;

/// Where each captured header sits in [`RawHeaders`].
#[derive(Clone, Copy)]
enum Slot {
    UserAgent,
    Referer,
    SecFetchSite,
    SecFetchMode,
    SecFetchDest,
    SecFetchUser,
    Purpose,
    AcceptLanguage,
    // Read by the classifier only; not stored.
    SecChUa,
    SecChUaMobile,
    SecChUaPlatform,
    XRequestedWith,
    // Fallbacks of `Purpose` (Sec-Purpose wins).
    LegacyPurpose,
    XPurpose,
}

const SLOTS: usize = Slot::XPurpose as usize + 1;

/// The request headers attribution reads, copied once into one buffer at
/// capture, each cut to the length that can be used. Copying the few hundred
/// bytes is cheaper than keeping the request's own: its header values share
/// the connection's read buffer, which then could not be reused while the
/// event waits in the queue (and a dozen reference counts would bounce
/// between the redirect's thread and the writer's).
#[derive(Debug, Clone, Default)]
pub struct RawHeaders {
    bytes: Vec<u8>,
    // (start, length) in `bytes`, per slot.
    spans: [Option<(u32, u32)>; SLOTS],
    dnt: bool,
    gpc: bool,
}

/// Bytes a first header value reserves: enough for a browser's usual set.
const CAPTURE_RESERVE: usize = 384;

impl RawHeaders {
    /// Takes the headers attribution needs from a request, in one pass over
    /// the headers (cheaper than a dozen hashed lookups). The first value of
    /// a repeated header wins.
    pub fn capture(h: &HeaderMap) -> RawHeaders {
        let mut r = RawHeaders::default();
        for (name, value) in h {
            let (slot, max) = match name.as_str() {
                "user-agent" => (Slot::UserAgent, MAX_CLASSIFIED_USER_AGENT),
                "referer" => (Slot::Referer, MAX_REFERER),
                "sec-fetch-site" => (Slot::SecFetchSite, MAX_SHORT_HEADER),
                "sec-fetch-mode" => (Slot::SecFetchMode, MAX_SHORT_HEADER),
                "sec-fetch-dest" => (Slot::SecFetchDest, MAX_SHORT_HEADER),
                "sec-fetch-user" => (Slot::SecFetchUser, MAX_SHORT_HEADER),
                "sec-purpose" => (Slot::Purpose, MAX_SHORT_HEADER),
                "purpose" => (Slot::LegacyPurpose, MAX_SHORT_HEADER),
                "x-purpose" => (Slot::XPurpose, MAX_SHORT_HEADER),
                "accept-language" => (Slot::AcceptLanguage, MAX_SHORT_HEADER),
                "sec-ch-ua" => (Slot::SecChUa, MAX_SHORT_HEADER),
                "sec-ch-ua-mobile" => (Slot::SecChUaMobile, MAX_SHORT_HEADER),
                "sec-ch-ua-platform" => (Slot::SecChUaPlatform, MAX_SHORT_HEADER),
                "x-requested-with" => (Slot::XRequestedWith, MAX_SHORT_HEADER),
                "dnt" => {
                    r.dnt |= value.as_bytes() == b"1";
                    continue;
                }
                "sec-gpc" => {
                    r.gpc |= value.as_bytes() == b"1";
                    continue;
                }
                _ => continue,
            };
            if r.spans[slot as usize].is_some() {
                continue;
            }
            let v = value.as_bytes();
            let v = &v[..v.len().min(max)];
            if r.bytes.capacity() == 0 {
                r.bytes.reserve(CAPTURE_RESERVE.max(v.len()));
            }
            // Bounded by the caps above: far under u32::MAX.
            r.spans[slot as usize] = Some((r.bytes.len() as u32, v.len() as u32));
            r.bytes.extend_from_slice(v);
        }
        // Sec-Purpose, else Purpose, else X-Purpose.
        let purpose = Slot::Purpose as usize;
        r.spans[purpose] = r.spans[purpose]
            .or(r.spans[Slot::LegacyPurpose as usize])
            .or(r.spans[Slot::XPurpose as usize]);
        r
    }

    /// A captured value, capped at `max` bytes and decoded.
    fn text(&self, slot: Slot, max: usize) -> Option<Cow<'_, str>> {
        let (start, len) = self.spans[slot as usize]?;
        let start = start as usize;
        Some(capped(&self.bytes[start..start + len as usize], max))
    }

    /// The headers capped and decoded, borrowed from the request (no copy)
    /// when they are valid UTF-8, as they nearly always are.
    pub fn view(&self) -> HeaderView<'_> {
        HeaderView {
            user_agent: self.text(Slot::UserAgent, MAX_USER_AGENT),
            // The classifier sees more of an oversized User-Agent than is
            // kept, so that it is still recognised as such.
            long_user_agent: self.spans[Slot::UserAgent as usize]
                .filter(|&(_, len)| len as usize > MAX_USER_AGENT)
                .and_then(|_| self.text(Slot::UserAgent, MAX_CLASSIFIED_USER_AGENT)),
            referer: self.text(Slot::Referer, MAX_REFERER),
            sec_fetch_site: self.text(Slot::SecFetchSite, MAX_SHORT_HEADER),
            sec_fetch_mode: self.text(Slot::SecFetchMode, MAX_SHORT_HEADER),
            sec_fetch_dest: self.text(Slot::SecFetchDest, MAX_SHORT_HEADER),
            sec_fetch_user: self.text(Slot::SecFetchUser, MAX_SHORT_HEADER),
            purpose: self.text(Slot::Purpose, MAX_SHORT_HEADER),
            accept_language: self.text(Slot::AcceptLanguage, MAX_SHORT_HEADER),
            sec_ch_ua: self.text(Slot::SecChUa, MAX_SHORT_HEADER),
            sec_ch_ua_mobile: self.text(Slot::SecChUaMobile, MAX_SHORT_HEADER),
            sec_ch_ua_platform: self.text(Slot::SecChUaPlatform, MAX_SHORT_HEADER),
            x_requested_with: self.text(Slot::XRequestedWith, MAX_SHORT_HEADER),
            dnt: self.dnt,
            gpc: self.gpc,
        }
    }
}

/// The captured headers, capped and decoded (see [`RawHeaders::view`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HeaderView<'a> {
    /// User-Agent, as stored.
    pub user_agent: Option<Cow<'a, str>>,
    /// User-Agent as the classifier should see it, when it is longer than
    /// the stored copy; `None` when the stored copy is the whole of it.
    pub long_user_agent: Option<Cow<'a, str>>,
    /// Referer.
    pub referer: Option<Cow<'a, str>>,
    /// Sec-Fetch-Site.
    pub sec_fetch_site: Option<Cow<'a, str>>,
    /// Sec-Fetch-Mode.
    pub sec_fetch_mode: Option<Cow<'a, str>>,
    /// Sec-Fetch-Dest.
    pub sec_fetch_dest: Option<Cow<'a, str>>,
    /// Sec-Fetch-User.
    pub sec_fetch_user: Option<Cow<'a, str>>,
    /// Sec-Purpose, else Purpose, else X-Purpose.
    pub purpose: Option<Cow<'a, str>>,
    /// Accept-Language.
    pub accept_language: Option<Cow<'a, str>>,
    // Client hints and the Android WebView app id: read by the classifier,
    // not stored.
    /// Sec-CH-UA.
    pub sec_ch_ua: Option<Cow<'a, str>>,
    /// Sec-CH-UA-Mobile.
    pub sec_ch_ua_mobile: Option<Cow<'a, str>>,
    /// Sec-CH-UA-Platform.
    pub sec_ch_ua_platform: Option<Cow<'a, str>>,
    /// X-Requested-With (the package id of an Android app's WebView).
    pub x_requested_with: Option<Cow<'a, str>>,
    /// DNT: 1.
    pub dnt: bool,
    /// Sec-GPC: 1.
    pub gpc: bool,
}

impl HeaderView<'_> {
    /// Owned copies of the stored headers.
    pub fn to_captured(&self) -> CapturedHeaders {
        let text = |v: &Option<Cow<'_, str>>| v.as_deref().map(Text::from);
        CapturedHeaders {
            user_agent: text(&self.user_agent),
            referer: text(&self.referer),
            sec_fetch_site: text(&self.sec_fetch_site),
            sec_fetch_mode: text(&self.sec_fetch_mode),
            sec_fetch_dest: text(&self.sec_fetch_dest),
            sec_fetch_user: text(&self.sec_fetch_user),
            purpose: text(&self.purpose),
            accept_language: text(&self.accept_language),
            dnt: self.dnt,
            gpc: self.gpc,
        }
    }
}

/// The captured request headers as stored, capped in length.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CapturedHeaders {
    /// User-Agent.
    pub user_agent: Option<Text>,
    /// Referer.
    pub referer: Option<Text>,
    /// Sec-Fetch-Site.
    pub sec_fetch_site: Option<Text>,
    /// Sec-Fetch-Mode.
    pub sec_fetch_mode: Option<Text>,
    /// Sec-Fetch-Dest.
    pub sec_fetch_dest: Option<Text>,
    /// Sec-Fetch-User.
    pub sec_fetch_user: Option<Text>,
    /// Sec-Purpose, else Purpose, else X-Purpose.
    pub purpose: Option<Text>,
    /// Accept-Language.
    pub accept_language: Option<Text>,
    /// DNT: 1.
    pub dnt: bool,
    /// Sec-GPC: 1.
    pub gpc: bool,
}

/// Lossy UTF-8 of at most `max` bytes, cut on a character boundary;
/// borrowed when the bytes are valid UTF-8.
fn capped(bytes: &[u8], max: usize) -> Cow<'_, str> {
    let cut = &bytes[..bytes.len().min(max)];
    // Header values are nearly always ASCII: validate once, copy nothing.
    if let Ok(s) = std::str::from_utf8(cut) {
        return Cow::Borrowed(s);
    }
    let mut s = String::from_utf8_lossy(cut).into_owned();
    // The cut may have split a character into U+FFFD; that is fine for analysis.
    if s.len() > max {
        let mut end = max;
        while !s.is_char_boundary(end) {
            end -= 1;
        }
        s.truncate(end);
    }
    Cow::Owned(s)
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::{HeaderName, HeaderValue, header};

    const PURPOSE: HeaderName = HeaderName::from_static("purpose");
    const SEC_GPC: HeaderName = HeaderName::from_static("sec-gpc");

    #[test]
    fn capture_caps_headers_and_reads_privacy_signals() {
        let mut h = HeaderMap::new();
        h.insert(
            header::USER_AGENT,
            HeaderValue::from_str(&"A".repeat(5000)).unwrap(),
        );
        h.insert(header::REFERER, HeaderValue::from_static("https://t.co/x"));
        h.insert(PURPOSE, HeaderValue::from_static("prefetch"));
        h.insert(header::DNT, HeaderValue::from_static("1"));
        h.insert(SEC_GPC, HeaderValue::from_static("0"));
        let c = RawHeaders::capture(&h).view().to_captured();
        assert_eq!(c.user_agent.as_deref().map(str::len), Some(MAX_USER_AGENT));
        assert_eq!(c.referer.as_deref(), Some("https://t.co/x"));
        assert_eq!(c.purpose.as_deref(), Some("prefetch"));
        assert!(c.dnt);
        assert!(!c.gpc);
        assert_eq!(c.sec_fetch_site, None);
    }

    #[test]
    fn capture_keeps_first_values_the_purpose_order_and_the_long_user_agent() {
        let mut h = HeaderMap::new();
        let long = "B".repeat(5000);
        h.insert(header::USER_AGENT, HeaderValue::from_str(&long).unwrap());
        h.append(
            header::REFERER,
            HeaderValue::from_static("https://first.example/"),
        );
        h.append(
            header::REFERER,
            HeaderValue::from_static("https://second.example/"),
        );
        h.insert("x-purpose", HeaderValue::from_static("preview"));
        h.insert(
            header::ACCEPT_LANGUAGE,
            HeaderValue::from_bytes(b"fr\xff-FR").unwrap(),
        );
        let raw = RawHeaders::capture(&h);
        let v = raw.view();
        assert_eq!(v.user_agent.as_deref().map(str::len), Some(MAX_USER_AGENT));
        assert_eq!(
            v.long_user_agent.as_deref().map(str::len),
            Some(MAX_CLASSIFIED_USER_AGENT),
            "the classifier sees more of an oversized User-Agent"
        );
        assert_eq!(v.referer.as_deref(), Some("https://first.example/"));
        assert_eq!(
            v.purpose.as_deref(),
            Some("preview"),
            "X-Purpose as a last resort"
        );
        assert_eq!(v.accept_language.as_deref(), Some("fr\u{fffd}-FR"));
        assert_eq!(v.sec_ch_ua, None);

        h.insert(PURPOSE, HeaderValue::from_static("prefetch"));
        h.insert(
            "sec-purpose",
            HeaderValue::from_static("prefetch;prerender"),
        );
        let v = RawHeaders::capture(&h).view().to_captured();
        assert_eq!(
            v.purpose.as_deref(),
            Some("prefetch;prerender"),
            "Sec-Purpose wins"
        );

        let mut short = HeaderMap::new();
        short.insert(header::USER_AGENT, HeaderValue::from_static("curl/8.5.0"));
        assert_eq!(RawHeaders::capture(&short).view().long_user_agent, None);
    }

    #[test]
    fn capped_cuts_on_a_character_boundary() {
        let s = capped("éééé".as_bytes(), 3);
        assert!(s.len() <= 3, "{s:?}");
        assert_eq!(capped(b"abc", 10), "abc");
        assert_eq!(capped(&[0xff, b'a'], 10), "\u{fffd}a");
    }
}
