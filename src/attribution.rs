//! Click attribution: from a request's signals, the link's facts and its recent share
//! events to an [`Attribution`] (kind, channel, source, in-app browser, evidence, browser,
//! OS, device). Pure: no I/O, no clock, no axum/sqlx/tokio, so the redirect path, the
//! `lanterne classify` command, the benches and the table tests all call it directly.
//! Rule knowledge lives in the cited data files of `attribution/data/`, compiled in.

mod apps;
mod bots;
mod channel;
mod crawlerdetect;
mod device;
mod evidence;
mod inapp;
pub mod jsonl;
pub mod memo;
mod networks;
mod previews;
mod referrers;
mod rules;
mod signals;

use std::fmt;
use std::time::Duration;

use serde::{Deserialize, Serialize};

pub use evidence::{Evidence, UnknownEvidence};
pub use networks::{Network, NetworkClass};
pub use previews::preview_app;
pub use signals::{LinkFacts, RecentPreview, Signals, SlugKind};

use signals::{LowerUa, UA_MAX_HUMAN_BYTES, present};

/// What a request is. Only `Human` requests are clicks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// A person following the link.
    Human,
    /// A link-preview (unfurl) fetch by a messaging or social app: a share event.
    Preview,
    /// Crawler, monitor, script, headless browser or e-mail security scanner.
    Bot,
    /// Browser prefetch/prerender, or a HEAD request.
    Prefetch,
}

/// Where a human click came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    /// Private share: no Referer (or a messaging app's) and a private-share signal.
    DarkSocial,
    /// No Referer and no private-share signal.
    Direct,
    /// Referer of a social network.
    Social,
    /// Referer of a search engine.
    Search,
    /// Referer of a webmail or mail app.
    Email,
    /// Referer of any other site.
    Referral,
    /// The QR variant of the link.
    Qr,
    /// Referer on one of Lanterne's own hosts.
    Internal,
}

/// The visitor's form factor.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Device {
    /// Desktop or laptop.
    Desktop,
    /// Phone.
    Mobile,
    /// Tablet.
    Tablet,
    /// Bots and link previews.
    Bot,
    /// TVs, consoles, unknown.
    Other,
}

impl Kind {
    /// The snake_case product word (`human`).
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Human => "human",
            Kind::Preview => "preview",
            Kind::Bot => "bot",
            Kind::Prefetch => "prefetch",
        }
    }
}

impl Channel {
    /// The snake_case product word (`dark_social`).
    pub fn as_str(self) -> &'static str {
        match self {
            Channel::DarkSocial => "dark_social",
            Channel::Direct => "direct",
            Channel::Social => "social",
            Channel::Search => "search",
            Channel::Email => "email",
            Channel::Referral => "referral",
            Channel::Qr => "qr",
            Channel::Internal => "internal",
        }
    }
}

impl Device {
    /// The snake_case product word (`mobile`).
    pub fn as_str(self) -> &'static str {
        match self {
            Device::Desktop => "desktop",
            Device::Mobile => "mobile",
            Device::Tablet => "tablet",
            Device::Bot => "bot",
            Device::Other => "other",
        }
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Display for Channel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Display for Device {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The classification of one request, stored with the click (or share event).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attribution {
    /// Human, preview, bot or prefetch.
    pub kind: Kind,
    /// The channel, for humans only.
    pub channel: Option<Channel>,
    /// The app or site: previewing app, referrer source, dark-social app.
    pub source: Option<String>,
    /// The app whose in-app browser made a human request.
    pub inapp: Option<String>,
    /// The signals behind the classification, strongest first.
    pub evidence: Vec<Evidence>,
    /// Browser family (humans and prefetches).
    pub browser: Option<String>,
    /// OS family (humans and prefetches).
    pub os: Option<String>,
    /// Form factor; `bot` for bots and previews.
    pub device: Device,
}

/// Settings of the classifier.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClassifierConfig {
    /// How long after a preview by a messaging app a Referer-less click counts as shared there.
    pub preview_window: Duration,
    /// Lanterne's served domains: a Referer on them (or a subdomain) is channel `internal`.
    pub own_hosts: Vec<String>,
}

impl Default for ClassifierConfig {
    fn default() -> Self {
        ClassifierConfig {
            preview_window: Duration::from_secs(300),
            own_hosts: Vec::new(),
        }
    }
}

/// The compiled rule tables. Build once at startup and share (it is `Send + Sync`).
pub struct Classifier {
    scanner: rules::Scanner,
    apps: apps::Apps,
    previews: previews::Previews,
    inapp: inapp::InApp,
    bots: bots::Bots,
    device: device::DeviceRules,
    referrers: referrers::Referrers,
    words: channel::ChannelWords,
    networks: networks::Networks,
    preview_window: Duration,
}

impl Classifier {
    /// Compiles the embedded rule data (tested, so a failure here is a build defect).
    pub fn new(config: ClassifierConfig) -> Classifier {
        let mut scanner = rules::ScannerBuilder::default();
        let previews = previews::Previews::new(&mut scanner);
        let inapp = inapp::InApp::new(&mut scanner);
        let bots = bots::Bots::new(&mut scanner);
        let device = device::DeviceRules::new(&mut scanner);
        Classifier {
            scanner: scanner.build(),
            apps: apps::Apps::new(),
            previews,
            inapp,
            bots,
            device,
            referrers: referrers::Referrers::new(&config.own_hosts),
            words: channel::ChannelWords::new(),
            networks: networks::Networks::new(),
            preview_window: config.preview_window,
        }
    }

    /// Classifies one request. Kind precedence: preview, bot, prefetch, human; channel
    /// (humans only): internal, referrer, qr, dark social, direct.
    pub fn classify(
        &self,
        signals: &Signals<'_>,
        link: &LinkFacts<'_>,
        recent_previews: &[RecentPreview],
    ) -> Attribution {
        let ua = signals
            .user_agent
            .map(str::trim)
            .filter(|ua| !ua.is_empty());
        let head = signals.method.trim().eq_ignore_ascii_case("HEAD");
        if ua.is_some_and(|ua| ua.len() > UA_MAX_HUMAN_BYTES) {
            // No browser sends this much; skip the scans (bounded work for hostile input).
            let mut evidence = vec![Evidence::UaOversized];
            evidence.extend(head.then_some(Evidence::MethodHead));
            return non_human(Kind::Bot, None, evidence, Device::Bot);
        }
        let mut lower = LowerUa::new(ua.unwrap_or_default());
        let scan = self.scanner.scan(lower.bytes());
        if let Some(app) = self.previews.app(&scan) {
            let mut evidence = vec![Evidence::PreviewUa(app.to_owned())];
            evidence.extend(head.then_some(Evidence::MethodHead));
            return non_human(Kind::Preview, Some(app.to_owned()), evidence, Device::Bot);
        }
        let inapp_ua = self.inapp.app_of_ua(&scan);
        if let Some(evidence) = self.bot_evidence(ua, &mut lower, &scan, inapp_ua.is_some()) {
            let mut evidence = vec![evidence];
            evidence.extend(head.then_some(Evidence::MethodHead));
            return non_human(Kind::Bot, None, evidence, Device::Bot);
        }
        let inapp_package =
            present(signals.x_requested_with).and_then(|p| self.inapp.app_of_package(p));
        let referer =
            present(signals.referer).map(|r| self.referrers.classify(r, &self.apps, &self.inapp));
        let inapp = inapp_ua.is_some() || inapp_package.is_some();
        if let Some(evidence) =
            self.machine_evidence(signals, lower.bytes(), referer.as_ref(), inapp)
        {
            // A scanner's network names it, as a preview's app does.
            let source = match &evidence {
                Evidence::DatacenterAsn(id) => Some(id.clone()),
                _ => None,
            };
            let mut evidence = vec![evidence];
            evidence.extend(head.then_some(Evidence::MethodHead));
            return non_human(Kind::Bot, source, evidence, Device::Bot);
        }
        let hint = |value: Option<&str>| {
            present(value).map(|v| self.scanner.scan(LowerUa::new(v).bytes()))
        };
        let (ch_ua, ch_platform) = (hint(signals.sec_ch_ua), hint(signals.sec_ch_ua_platform));
        let parsed = self.device.parse(
            &scan,
            lower.bytes(),
            ch_ua.as_ref(),
            ch_platform.as_ref(),
            signals.sec_ch_ua_mobile,
        );
        if let Some(evidence) = prefetch_evidence(signals.purpose, head) {
            let mut attribution = non_human(Kind::Prefetch, None, vec![evidence], parsed.device);
            attribution.browser = parsed.browser.map(str::to_owned);
            attribution.os = parsed.os.map(str::to_owned);
            return attribution;
        }
        let inputs = channel::Inputs {
            referer,
            inapp_ua,
            inapp_package,
            sec_fetch_site: signals.sec_fetch_site,
            link,
            recent_previews,
            preview_window: self.preview_window,
        };
        let decision = channel::decide(&inputs, &self.words, &self.apps);
        Attribution {
            kind: Kind::Human,
            channel: Some(decision.channel),
            source: decision.source,
            inapp: inapp_ua.or(inapp_package).map(str::to_owned),
            evidence: decision.evidence,
            browser: parsed.browser.map(str::to_owned),
            os: parsed.os.map(str::to_owned),
            device: parsed.device,
        }
    }

    /// The listed network (`data/networks.tsv`) of an autonomous system, by number or by a
    /// word of its organisation's name, for [`Signals::network`].
    pub fn network(&self, number: u32, organisation: Option<&str>) -> Option<Network> {
        self.networks.name(number, organisation)
    }

    /// Requests that no person makes, seen beyond the User-Agent: from a security vendor's
    /// network, from a hosting network with no sign of a person (a usable Referer, an
    /// in-app browser), or a Chromium User-Agent without the headers Chromium always sends.
    fn machine_evidence(
        &self,
        signals: &Signals<'_>,
        lower: &[u8],
        referer: Option<&referrers::Referer>,
        inapp: bool,
    ) -> Option<Evidence> {
        let usable_referer = referer.is_some_and(|r| *r != referrers::Referer::Invalid);
        if let Some(network) = signals.network {
            let person = usable_referer || inapp;
            if network.class == NetworkClass::Security || !person {
                return Some(Evidence::DatacenterAsn(network.id.to_owned()));
            }
        }
        // Chromium sends Accept-Language on every request, and Sec-Fetch-* on every one to
        // a trustworthy (HTTPS or localhost) URL: a script borrowing its User-Agent sends
        // neither. WebViews and in-app browsers are left alone.
        let bare = signals.complete
            && !inapp
            && !usable_referer
            && present(signals.accept_language).is_none()
            && present(signals.sec_fetch_site).is_none()
            && present(signals.sec_fetch_mode).is_none()
            && contains(lower, b"chrome/")
            && !contains(lower, b"; wv)");
        bare.then(|| Evidence::RequestShape("bare_chromium".to_owned()))
    }

    /// Missing or matching User-Agents are bots (oversized ones were caught earlier).
    fn bot_evidence(
        &self,
        ua: Option<&str>,
        lower: &mut LowerUa,
        scan: &rules::Scan,
        inapp: bool,
    ) -> Option<Evidence> {
        if ua.is_none() {
            return Some(Evidence::UaMissing);
        }
        self.bots
            .name(lower.bytes_mut(), scan, inapp)
            .map(Evidence::BotUa)
    }
}

/// Whether `needle` occurs in `hay`.
fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

/// `Sec-Purpose`/`Purpose: prefetch|prerender`, then HEAD.
fn prefetch_evidence(purpose: Option<&str>, head: bool) -> Option<Evidence> {
    let purpose = present(purpose)
        .map(str::to_ascii_lowercase)
        .unwrap_or_default();
    for word in ["prerender", "prefetch", "preview"] {
        if purpose.contains(word) {
            return Some(Evidence::Purpose(word.to_owned()));
        }
    }
    head.then_some(Evidence::MethodHead)
}

fn non_human(
    kind: Kind,
    source: Option<String>,
    evidence: Vec<Evidence>,
    device: Device,
) -> Attribution {
    Attribution {
        kind,
        channel: None,
        source,
        inapp: None,
        evidence,
        browser: None,
        os: None,
        device,
    }
}

#[cfg(test)]
mod scanner_cases;
#[cfg(test)]
mod tests;
