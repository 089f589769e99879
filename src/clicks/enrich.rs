//! Enrichment: the step between capture and storage, run by the writer task
//! (never on the redirect path). It classifies the request (attribution,
//! with the network of its IP when an ASN database is configured), looks its
//! IP up (geography), computes the visitor hash, snapshots the
//! link's UTM fields — and drops the IP, which goes no further than here.
//! The classifier reads the full `Referer`; what is stored (and spooled) is
//! the Referer without its query and fragment, unless
//! `attribution.keep_referrer_query` says otherwise: referrer queries carry
//! e-mail addresses, tokens and search terms.

use std::{
    collections::{HashMap, HashSet},
    sync::Arc,
    time::Duration,
};

use time::OffsetDateTime;
use uuid::Uuid;

use super::{
    CapturedHeaders, ClickEvent, ClickRecord, HeaderView, StoredAttribution, Text,
    burst::{self, Bursts},
    preview_notices::SeenPreview,
    visitor::Salts,
};
use crate::{
    asn::AsnDb,
    attribution::{
        self, Attribution, Classifier, Kind, LinkFacts, RecentPreview, Signals, memo::Memo,
    },
    geo::GeoDb,
    links::SlugKind,
};

/// Most previews remembered per link (the most recent win anyway).
const PREVIEWS_PER_LINK: usize = 8;

/// Distinct short texts (Accept-Language values, places) kept for sharing.
const TEXTS: usize = 4096;

/// Classifier, geography, salts, and the recent previews of each link.
pub struct Enricher {
    classifier: Arc<Classifier>,
    memo: Memo<Arc<Shape>>,
    texts: Texts,
    geo: Arc<GeoDb>,
    asn: Arc<AsnDb>,
    salts: Salts,
    window: Duration,
    // Store the Referer whole (query and fragment included).
    keep_referrer_query: bool,
    // Recent previews per link, oldest first: (app, when). Those seen by
    // this instance, and those stored by any instance (see `previews.rs`).
    recent: HashMap<i64, Vec<(String, OffsetDateTime)>>,
    // Recent human clicks per visitor and campaign (the burst rule).
    bursts: Bursts,
}

/// What every click of one request shape shares, built once per shape (see
/// [`Memo`]): the classification as stored, and the stored headers that are
/// part of the shape. A click clones the `Arc`s; it copies no text.
struct Shape {
    kind: Kind,
    attribution: StoredAttribution,
    headers: CapturedHeaders,
}

impl Shape {
    fn new(a: Attribution, view: &HeaderView<'_>, keep_referrer_query: bool) -> Shape {
        let captured = view.to_captured();
        let referer = match (&captured.referer, &view.referer) {
            (Some(_), Some(full)) if !keep_referrer_query => Some(Text::from(without_query(full))),
            _ => captured.referer,
        };
        Shape {
            kind: a.kind,
            attribution: StoredAttribution {
                kind: a.kind.as_str().into(),
                channel: a.channel.map(|c| c.as_str().into()),
                source: a.source.map(Text::from),
                inapp: a.inapp.map(Text::from),
                evidence: a
                    .evidence
                    .iter()
                    .map(|e| Text::from(e.to_string()))
                    .collect(),
                browser: a.browser.map(Text::from),
                os: a.os.map(Text::from),
                device: Some(a.device.as_str().into()),
                referrer_host: view
                    .referer
                    .as_deref()
                    .and_then(referrer_host)
                    .map(Text::from),
                ..StoredAttribution::default()
            },
            headers: CapturedHeaders {
                // Not part of the shape: set per click.
                accept_language: None,
                dnt: false,
                gpc: false,
                referer,
                ..captured
            },
        }
    }
}

/// A bounded set of recently seen short texts, so that clicks carrying the
/// same one share a copy. Emptied when full (the values come from visitors).
#[derive(Default)]
struct Texts(HashSet<Text, foldhash::fast::RandomState>);

impl Texts {
    fn get(&mut self, s: &str) -> Text {
        if let Some(t) = self.0.get(s) {
            return t.clone();
        }
        if self.0.len() >= TEXTS {
            self.0.clear();
        }
        let t = Text::from(s);
        self.0.insert(t.clone());
        t
    }
}

impl Enricher {
    /// An enricher over shared classifier, geography and salts.
    pub fn new(
        classifier: Arc<Classifier>,
        geo: Arc<GeoDb>,
        salts: Salts,
        window: Duration,
    ) -> Enricher {
        Enricher {
            classifier,
            memo: Memo::default(),
            texts: Texts::default(),
            geo,
            asn: Arc::new(AsnDb::open(None)),
            salts,
            window,
            keep_referrer_query: false,
            recent: HashMap::new(),
            bursts: Bursts::off(),
        }
    }

    /// Stores the Referer whole, query and fragment included
    /// (`attribution.keep_referrer_query`); by default they are cut off.
    pub fn keep_referrer_query(mut self, keep: bool) -> Enricher {
        self.keep_referrer_query = keep;
        self
    }

    /// Looks each request's network up in `asn` (`attribution.asn_database`).
    pub fn with_asn(mut self, asn: Arc<AsnDb>) -> Enricher {
        self.asn = asn;
        self
    }

    /// Applies the burst rule (`attribution.burst_window`, `burst_links`).
    pub fn with_bursts(mut self, window: Duration, links: usize) -> Enricher {
        self.bursts = Bursts::new(window, links);
        self
    }

    /// Turns a captured event into the record to store.
    pub fn enrich(&mut self, ev: ClickEvent) -> ClickRecord {
        let view = ev.headers.view();
        let link = &ev.link;
        let signals = Signals {
            method: ev.method,
            user_agent: view
                .long_user_agent
                .as_deref()
                .or(view.user_agent.as_deref()),
            referer: view.referer.as_deref(),
            sec_fetch_site: view.sec_fetch_site.as_deref(),
            sec_fetch_mode: view.sec_fetch_mode.as_deref(),
            sec_fetch_dest: view.sec_fetch_dest.as_deref(),
            sec_fetch_user: view.sec_fetch_user.as_deref(),
            purpose: view.purpose.as_deref(),
            sec_ch_ua: view.sec_ch_ua.as_deref(),
            sec_ch_ua_mobile: view.sec_ch_ua_mobile.as_deref(),
            sec_ch_ua_platform: view.sec_ch_ua_platform.as_deref(),
            x_requested_with: view.x_requested_with.as_deref(),
            accept_language: view.accept_language.as_deref(),
            network: ev.ip.and_then(|ip| {
                let classifier = &self.classifier;
                self.asn
                    .with(ip, |number, org| classifier.network(number, org))
                    .flatten()
            }),
            complete: true,
        };
        let facts = LinkFacts {
            declared_channel: link.channel.as_deref(),
            utm_source: link.utm_source.as_deref(),
            utm_medium: link.utm_medium.as_deref(),
            slug_kind: match link.slug_kind {
                SlugKind::Generated => attribution::SlugKind::Generated,
                SlugKind::Custom => attribution::SlugKind::Custom,
            },
        };
        let recent = self.recent_previews(link.id, ev.occurred_at);
        let keep_query = self.keep_referrer_query;
        let shape = self
            .memo
            .classify(&self.classifier, &signals, &facts, &recent, |a| {
                Arc::new(Shape::new(a, &view, keep_query))
            });
        if let (Kind::Preview, Some(app)) = (shape.kind, &shape.attribution.source) {
            self.remember_preview(link.id, app, ev.occurred_at);
        }
        // Assigned here, by the one writer task, rather than at capture:
        // UUIDv7 generation takes a process-wide lock.
        let id = Uuid::now_v7();
        let burst = match (shape.kind, ev.ip, &link.utm_campaign) {
            (Kind::Human, Some(ip), Some(campaign)) => self.bursts.observe(
                ip,
                view.user_agent.as_deref().unwrap_or(""),
                campaign,
                link.id,
                id,
                ev.occurred_at,
            ),
            _ => None,
        };
        let human = shape.kind == Kind::Human && burst.is_none();
        // Geography and the visitor hash are for clicks only.
        let geo = ev
            .ip
            .filter(|_| human)
            .map(|ip| self.geo.lookup(ip))
            .unwrap_or_default();
        let visitor_hash = ev.ip.filter(|_| human).and_then(|ip| {
            let ua = view.user_agent.as_deref().unwrap_or("");
            self.salts
                .visitor_hash(ip, ua, link.id, view.dnt || view.gpc)
        });
        let mut headers = shape.headers.clone();
        headers.accept_language = view.accept_language.as_deref().map(|v| self.texts.get(v));
        headers.dnt = view.dnt;
        headers.gpc = view.gpc;
        let mut place = |v: Option<String>| v.map(|v| self.texts.get(&v));
        let attribution = match burst {
            Some(earlier) => burst_bot(&shape.attribution, earlier),
            None => StoredAttribution {
                country: place(geo.country),
                region: place(geo.region),
                city: place(geo.city),
                visitor_hash,
                utm_source: link.utm_source.clone(),
                utm_medium: link.utm_medium.clone(),
                utm_campaign: link.utm_campaign.clone(),
                ..shape.attribution.clone()
            },
        };
        ClickRecord {
            id,
            occurred_at: ev.occurred_at,
            link_id: link.id,
            method: self.texts.get(ev.method),
            attribution,
            headers,
        }
    }

    fn recent_previews(&self, link_id: i64, now: OffsetDateTime) -> Vec<RecentPreview> {
        let Some(seen) = self.recent.get(&link_id) else {
            return Vec::new();
        };
        seen.iter()
            .filter_map(|(app, at)| {
                let age = now - *at;
                (age >= time::Duration::ZERO && age <= self.window).then(|| RecentPreview {
                    app: app.clone(),
                    age: age.unsigned_abs(),
                })
            })
            .collect()
    }

    fn remember_preview(&mut self, link_id: i64, app: &str, at: OffsetDateTime) {
        let seen = self.recent.entry(link_id).or_default();
        // Told again: by the database after this instance stored it, or by
        // a reload of the window after a reconnect.
        if seen.iter().any(|(a, t)| *t == at && a == app) {
            return;
        }
        // They may come out of order (a reload is newest first): the oldest go.
        let at_or_after = seen.partition_point(|(_, t)| *t <= at);
        seen.insert(at_or_after, (app.to_owned(), at));
        if seen.len() > PREVIEWS_PER_LINK {
            seen.remove(0);
        }
    }

    /// Previews stored by any instance (this one included), as the preview
    /// listener hands them over; those already out of the window are dropped.
    pub fn remember_stored(&mut self, stored: Vec<SeenPreview>, now: OffsetDateTime) {
        for p in stored {
            if now - p.at <= self.window {
                self.remember_preview(p.link_id, &p.app, p.at);
            }
        }
    }

    /// Forgets previews older than the window (called on the writer's tick).
    pub fn prune(&mut self, now: OffsetDateTime) {
        self.bursts.prune(now);
        let window = self.window;
        self.recent.retain(|_, seen| {
            seen.retain(|(_, at)| now - *at <= window);
            !seen.is_empty()
        });
    }
}

/// A click that completes (or continues) a burst: a bot with no source,
/// judged by a rule, like the other bots; `earlier` are the burst's clicks
/// stored as human, for the store to correct.
fn burst_bot(shape: &StoredAttribution, earlier: Vec<uuid::Uuid>) -> StoredAttribution {
    StoredAttribution {
        kind: Kind::Bot.as_str().into(),
        evidence: Arc::from([Text::from(burst::EVIDENCE)]),
        device: Some("bot".into()),
        referrer_host: shape.referrer_host.clone(),
        corrects: earlier,
        ..StoredAttribution::default()
    }
}

/// A Referer without its query and fragment (what is stored by default):
/// everything before the first `?` or `#`.
pub fn without_query(referer: &str) -> &str {
    referer.split(['?', '#']).next().unwrap_or(referer)
}

/// The lowercase host of a Referer, if it is a URL with one.
fn referrer_host(referer: &str) -> Option<String> {
    let url = url::Url::parse(referer).ok()?;
    let host = url.host_str()?.trim_end_matches('.').to_ascii_lowercase();
    (!host.is_empty() && host.len() <= 253).then_some(host)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn referrer_hosts_are_lowercase_hosts_or_nothing() {
        assert_eq!(
            referrer_host("https://L.Facebook.com./l.php?u=x").as_deref(),
            Some("l.facebook.com")
        );
        assert_eq!(
            referrer_host("android-app://org.telegram.messenger/").as_deref(),
            Some("org.telegram.messenger")
        );
        assert_eq!(referrer_host("not a url"), None);
        assert_eq!(referrer_host(""), None);
    }

    #[test]
    fn referers_lose_their_query_and_fragment_and_nothing_else() {
        for (referer, stored) in [
            (
                "https://example.org/private/page?email=jane@example.org",
                "https://example.org/private/page",
            ),
            (
                "https://www.google.com/search?q=lanterne#top",
                "https://www.google.com/search",
            ),
            ("https://t.co/abc#x?y", "https://t.co/abc"),
            ("https://example.org/", "https://example.org/"),
            (
                "android-app://org.telegram.messenger/",
                "android-app://org.telegram.messenger/",
            ),
            ("?only=query", ""),
        ] {
            assert_eq!(without_query(referer), stored, "{referer}");
        }
    }

    use crate::{
        attribution::ClassifierConfig,
        clicks::{now_micros, visitor::Salts},
        links::cache::CachedLink,
    };
    use axum::http::{HeaderMap, HeaderValue, Method, header};

    #[test]
    fn stored_previews_are_kept_once_newest_last_and_only_within_the_window() {
        let mut e = enricher(&Salts::local());
        let now = now_micros();
        let at = |secs: i64| now - time::Duration::seconds(secs);
        let seen = |link_id, app: &str, secs| SeenPreview {
            link_id,
            app: app.into(),
            at: at(secs),
        };
        // A reload comes newest first, and repeats what was told before.
        e.remember_preview(7, "telegram", at(30));
        let mut reload: Vec<_> = (1..=10).map(|i| seen(7, "whatsapp", 100 + i)).collect();
        reload.push(seen(7, "telegram", 30));
        reload.push(seen(7, "slack", 301));
        e.remember_stored(reload, now);
        let kept: Vec<_> = e.recent[&7]
            .iter()
            .map(|(app, t)| (app.as_str(), *t))
            .collect();
        assert_eq!(kept.len(), PREVIEWS_PER_LINK);
        assert_eq!(
            kept.last(),
            Some(&("telegram", at(30))),
            "once, newest last"
        );
        assert!(kept.windows(2).all(|w| w[0].1 <= w[1].1), "oldest first");
        assert_eq!(kept[0], ("whatsapp", at(107)), "the oldest went");
        assert!(
            kept.iter().all(|(app, _)| *app != "slack"),
            "out of the window"
        );
    }

    fn enricher(salts: &Salts) -> Enricher {
        Enricher::new(
            Arc::new(Classifier::new(ClassifierConfig::default())),
            Arc::new(GeoDb::open(None)),
            salts.clone(),
            Duration::from_secs(300),
        )
    }

    fn event(link: &Arc<CachedLink>, language: &str, dnt: bool) -> ClickEvent {
        let mut h = HeaderMap::new();
        h.insert(
            header::USER_AGENT,
            HeaderValue::from_static("Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1"),
        );
        h.insert(
            header::REFERER,
            HeaderValue::from_static("https://l.instagram.com/?u=x"),
        );
        h.insert("sec-fetch-site", HeaderValue::from_static("cross-site"));
        h.insert(
            header::ACCEPT_LANGUAGE,
            HeaderValue::from_str(language).unwrap(),
        );
        if dnt {
            h.insert(header::DNT, HeaderValue::from_static("1"));
        }
        let ip = "203.0.113.7".parse().ok();
        ClickEvent::capture(link.clone(), now_micros(), &Method::GET, &h, ip)
    }

    /// A record built from the memo (shared strings) equals one built from
    /// scratch, and what is not part of the request shape is each click's own.
    #[test]
    fn remembered_shapes_give_the_same_records_and_keep_per_click_fields() {
        let link = Arc::new(CachedLink {
            id: 7,
            target: "https://shop.example/".into(),
            location: None,
            enabled: true,
            expires_at: None,
            channel: None,
            utm_source: Some("newsletter".into()),
            utm_medium: None,
            utm_campaign: Some("spring".into()),
            slug_kind: SlugKind::Generated,
            version: 0,
            card: None,
        });
        let salts = Salts::local();
        let mut warm = enricher(&salts);
        let first = warm.enrich(event(&link, "fr-FR", false));
        let again = warm.enrich(event(&link, "de-DE", true));
        let fresh = enricher(&salts).enrich(event(&link, "de-DE", true));

        let same = |mut r: ClickRecord| {
            // The id and the time are each event's own.
            r.id = Uuid::nil();
            r.occurred_at = OffsetDateTime::UNIX_EPOCH;
            r
        };
        assert_eq!(
            same(again.clone()),
            same(fresh),
            "memo hit == fresh classification"
        );
        assert_eq!(first.attribution.kind, again.attribution.kind);
        assert!(
            Arc::ptr_eq(&first.attribution.evidence, &again.attribution.evidence),
            "the shape's fields are shared, not copied"
        );
        assert_eq!(first.headers.accept_language.as_deref(), Some("fr-FR"));
        assert_eq!(again.headers.accept_language.as_deref(), Some("de-DE"));
        assert!(!first.headers.dnt && again.headers.dnt);
        assert!(first.attribution.visitor_hash.is_some());
        assert_eq!(again.attribution.visitor_hash, None, "DNT: no visitor hash");
        assert_eq!(
            first.attribution.referrer_host.as_deref(),
            Some("l.instagram.com")
        );
        assert_eq!(again.attribution.utm_campaign.as_deref(), Some("spring"));
        assert_eq!(
            first.headers.referer.as_deref(),
            Some("https://l.instagram.com/"),
            "the Referer is stored without its query"
        );
        let kept = enricher(&salts)
            .keep_referrer_query(true)
            .enrich(event(&link, "de-DE", true));
        assert_eq!(
            kept.headers.referer.as_deref(),
            Some("https://l.instagram.com/?u=x")
        );
        assert_eq!(
            same(ClickRecord {
                headers: again.headers.clone(),
                ..kept
            }),
            same(again),
            "keeping the query changes nothing else"
        );
    }
}
