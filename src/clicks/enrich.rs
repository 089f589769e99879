//! Enrichment: the step between capture and storage, run by the writer task
//! (never on the redirect path). It classifies the request (attribution),
//! looks its IP up (geography), computes the visitor hash, snapshots the
//! link's UTM fields — and drops the IP, which goes no further than here.

use std::{collections::HashMap, sync::Arc, time::Duration};

use time::OffsetDateTime;
use uuid::Uuid;

use super::{ClickEvent, ClickRecord, StoredAttribution, visitor::Salts};
use crate::{
    attribution::{self, Classifier, Kind, LinkFacts, RecentPreview, Signals, memo::Memo},
    geo::GeoDb,
    links::SlugKind,
};

/// Most previews remembered per link (the most recent win anyway).
const PREVIEWS_PER_LINK: usize = 8;

/// Classifier, geography, salts, and the recent previews of each link.
pub struct Enricher {
    classifier: Arc<Classifier>,
    memo: Memo,
    geo: Arc<GeoDb>,
    salts: Salts,
    window: Duration,
    // Previews seen by this instance, per link: (app, when). A preview seen
    // by another instance is not known here (documented limitation).
    recent: HashMap<i64, Vec<(String, OffsetDateTime)>>,
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
            geo,
            salts,
            window,
            recent: HashMap::new(),
        }
    }

    /// Turns a captured event into the record to store.
    pub fn enrich(&mut self, ev: ClickEvent) -> ClickRecord {
        let headers = ev.headers.to_captured();
        let transient = ev.headers.transient();
        let long_user_agent = ev.headers.long_user_agent();
        let link = &ev.link;
        let signals = Signals {
            method: ev.method,
            user_agent: long_user_agent.as_deref().or(headers.user_agent.as_deref()),
            referer: headers.referer.as_deref(),
            sec_fetch_site: headers.sec_fetch_site.as_deref(),
            sec_fetch_mode: headers.sec_fetch_mode.as_deref(),
            sec_fetch_dest: headers.sec_fetch_dest.as_deref(),
            sec_fetch_user: headers.sec_fetch_user.as_deref(),
            purpose: headers.purpose.as_deref(),
            sec_ch_ua: transient.sec_ch_ua.as_deref(),
            sec_ch_ua_mobile: transient.sec_ch_ua_mobile.as_deref(),
            sec_ch_ua_platform: transient.sec_ch_ua_platform.as_deref(),
            x_requested_with: transient.x_requested_with.as_deref(),
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
        let a = self
            .memo
            .classify(&self.classifier, &signals, &facts, &recent);
        if let (Kind::Preview, Some(app)) = (a.kind, &a.source) {
            self.remember_preview(link.id, app, ev.occurred_at);
        }
        let human = a.kind == Kind::Human;
        // Geography and the visitor hash are for clicks only.
        let geo = ev
            .ip
            .filter(|_| human)
            .map(|ip| self.geo.lookup(ip))
            .unwrap_or_default();
        let visitor_hash = ev.ip.filter(|_| human).and_then(|ip| {
            let ua = headers.user_agent.as_deref().unwrap_or("");
            self.salts
                .visitor_hash(ip, ua, link.id, headers.dnt || headers.gpc)
        });
        let referrer_host = headers.referer.as_deref().and_then(referrer_host);
        ClickRecord {
            // Assigned here, by the one writer task, rather than at capture:
            // UUIDv7 generation takes a process-wide lock.
            id: Uuid::now_v7(),
            occurred_at: ev.occurred_at,
            link_id: link.id,
            method: ev.method.to_owned(),
            attribution: StoredAttribution {
                kind: a.kind.as_str().to_owned(),
                channel: a.channel.map(|c| c.as_str().to_owned()),
                source: a.source,
                inapp: a.inapp,
                evidence: a.evidence.iter().map(ToString::to_string).collect(),
                browser: a.browser,
                os: a.os,
                device: Some(a.device.as_str().to_owned()),
                country: geo.country,
                region: geo.region,
                city: geo.city,
                referrer_host,
                visitor_hash,
                utm_source: link.utm_source.clone(),
                utm_medium: link.utm_medium.clone(),
                utm_campaign: link.utm_campaign.clone(),
            },
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
        seen.push((app.to_owned(), at));
        if seen.len() > PREVIEWS_PER_LINK {
            seen.remove(0);
        }
    }

    /// Forgets previews older than the window (called on the writer's tick).
    pub fn prune(&mut self, now: OffsetDateTime) {
        let window = self.window;
        self.recent.retain(|_, seen| {
            seen.retain(|(_, at)| now - *at <= window);
            !seen.is_empty()
        });
    }
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
}
