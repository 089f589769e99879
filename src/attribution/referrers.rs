//! Referrer classification (`data/referrers.tsv`, `data/android_apps.tsv`): which channel
//! and source a `Referer` header names. Parses the header itself (host only, no URL crate):
//! never keeps the path or query, which may carry personal data.

use std::collections::HashMap;

use super::Channel;
use super::apps::{Apps, Group};
use super::inapp::InApp;
use super::rules::rows;

/// Longest host kept as the `source` of an unknown referral.
const MAX_HOST: usize = 253;

/// What a Referer says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Referer {
    /// One of Lanterne's own hosts.
    Internal,
    /// A known site or app: its channel and source id. `app` is true for app referrers
    /// (`android-app://…`) and messaging web front-ends, reported as `referer_app:`.
    Known {
        channel: Channel,
        source: &'static str,
        app: bool,
    },
    /// A site nobody listed: a referral, named by its host.
    Unknown { host: String },
    /// Not a URL: treated as absent.
    Invalid,
}

/// The compiled referrer tables.
pub(crate) struct Referrers {
    /// Channel overrides of `android_apps.tsv` (third column), by package.
    app_channels: HashMap<&'static str, Channel>,
    exact: HashMap<&'static str, (Channel, &'static str)>,
    any_tld: HashMap<&'static str, (Channel, &'static str)>,
    own_hosts: Vec<String>,
}

impl Referrers {
    /// Loads `data/referrers.tsv`; `own_hosts` are Lanterne's served domains.
    pub(crate) fn new(own_hosts: &[String]) -> Self {
        let mut exact = HashMap::new();
        let mut any_tld = HashMap::new();
        for row in rows(include_str!("data/referrers.tsv")) {
            let channel = channel_word(row[1]);
            match row[0].strip_suffix(".*") {
                Some(name) => any_tld.insert(name, (channel, row[2])),
                None => exact.insert(row[0], (channel, row[2])),
            };
        }
        let own_hosts = own_hosts
            .iter()
            .map(|h| h.trim().trim_end_matches('.').to_ascii_lowercase())
            .collect();
        let app_channels = rows(include_str!("data/android_apps.tsv"))
            .filter(|row| row.len() > 2)
            .map(|row| (row[0], channel_word(row[2])))
            .collect();
        Referrers {
            app_channels,
            exact,
            any_tld,
            own_hosts,
        }
    }

    /// Classifies a (capped, non-blank) Referer value.
    pub(crate) fn classify(&self, referer: &str, apps: &Apps, inapp: &InApp) -> Referer {
        let lower = referer.to_ascii_lowercase();
        if let Some(rest) = lower.strip_prefix("android-app://") {
            let package = rest.split(['/', '?', '#']).next().unwrap_or_default();
            return self.android_app(package, apps, inapp);
        }
        let Some(host) = host_of(&lower) else {
            return Referer::Invalid;
        };
        if self.own_hosts.iter().any(|own| is_within(host, own)) {
            return Referer::Internal;
        }
        match self.lookup(host) {
            Some((channel, source)) => Referer::Known {
                channel,
                source,
                app: channel == Channel::DarkSocial,
            },
            None => {
                let host = host.strip_prefix("www.").unwrap_or(host);
                Referer::Unknown {
                    host: host.chars().take(MAX_HOST).collect(),
                }
            }
        }
    }

    /// The most specific table entry for a host: exact suffixes first, then `name.*`.
    fn lookup(&self, host: &str) -> Option<(Channel, &'static str)> {
        let mut start = 0;
        loop {
            let suffix = &host[start..];
            if let Some(hit) = self.exact.get(suffix) {
                return Some(*hit);
            }
            if let Some(hit) = self.any_tld_hit(suffix) {
                return Some(hit);
            }
            start += suffix.find('.')? + 1;
        }
    }

    /// `google.*` for `google.co.uk`, `mail.yahoo.*` for `mail.yahoo.co.uk`: the name, then a
    /// top-level domain of one or two short alphabetic labels.
    fn any_tld_hit(&self, suffix: &str) -> Option<(Channel, &'static str)> {
        let short =
            |l: &str| (2..=3).contains(&l.len()) && l.bytes().all(|b| b.is_ascii_lowercase());
        let mut end = suffix.len();
        for _ in 0..2 {
            let dot = suffix[..end].rfind('.')?;
            if !short(&suffix[dot + 1..end]) {
                return None;
            }
            if let Some(hit) = self.any_tld.get(&suffix[..dot]) {
                return Some(*hit);
            }
            end = dot;
        }
        None
    }

    /// An `android-app://<package>` referrer: the row's channel, else the app's group.
    fn android_app(&self, package: &str, apps: &Apps, inapp: &InApp) -> Referer {
        let valid = !package.is_empty()
            && package.len() <= MAX_HOST
            && package
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_'));
        if !valid {
            return Referer::Invalid;
        }
        let Some(app) = inapp.app_of_package(package).and_then(|id| apps.get(id)) else {
            return Referer::Unknown {
                host: package.to_owned(),
            };
        };
        let channel = self
            .app_channels
            .get(package)
            .copied()
            .unwrap_or(match app.group {
                Group::Messaging | Group::Sms => Channel::DarkSocial,
                Group::Social => Channel::Social,
                Group::Email => Channel::Email,
                Group::Search => Channel::Search,
                Group::Other => Channel::Referral,
            });
        Referer::Known {
            channel,
            source: app.id,
            app: true,
        }
    }
}

/// A channel word of the data files.
fn channel_word(word: &str) -> Channel {
    match word {
        "search" => Channel::Search,
        "social" => Channel::Social,
        "email" => Channel::Email,
        "dark_social" => Channel::DarkSocial,
        "referral" => Channel::Referral,
        other => panic!("unknown channel {other} in a referrer table"),
    }
}

/// The host of an absolute URL (`scheme://[user@]host[:port]/…`), validated.
fn host_of(url: &str) -> Option<&str> {
    let (scheme, rest) = url.split_once("://")?;
    if scheme.is_empty()
        || !scheme
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'-' | b'.'))
    {
        return None;
    }
    let authority = rest.split(['/', '?', '#', '\\']).next()?;
    let host_port = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let host = match host_port.strip_prefix('[') {
        Some(v6) => &host_port[..v6.find(']')? + 2],
        None => host_port.split(':').next()?,
    };
    let host = host.trim_end_matches('.');
    let ok = !host.is_empty()
        && host.len() <= MAX_HOST
        && host.bytes().all(|b| {
            b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_' | b'[' | b']' | b':')
        });
    ok.then_some(host)
}

/// `host` is `domain` or one of its subdomains.
fn is_within(host: &str, domain: &str) -> bool {
    !domain.is_empty()
        && (host == domain
            || host
                .strip_suffix(domain)
                .is_some_and(|prefix| prefix.ends_with('.')))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn classify(referer: &str) -> Referer {
        let referrers = Referrers::new(&["lant.ern".to_owned()]);
        referrers.classify(
            referer,
            &Apps::new(),
            &InApp::new(&mut super::super::rules::ScannerBuilder::default()),
        )
    }

    fn known(channel: Channel, source: &'static str, app: bool) -> Referer {
        Referer::Known {
            channel,
            source,
            app,
        }
    }

    /// Issue 14 classes: regional search engines and their subdomains, meta and privacy
    /// search, Google's redirectors, regional and legacy webmail; the source is the brand.
    /// Hosts from Matomo SearchEngines.yml (CC0-1.0) and the providers' own addresses.
    #[test]
    fn regional_meta_and_privacy_search_and_webmail_are_named_by_brand() {
        use Channel::*;
        for (referer, channel, source) in [
            // Korean
            ("https://search.zum.com/search.zum?query=x", Search, "zum"),
            (
                "https://m.search.naver.com/search.naver?query=x",
                Search,
                "naver",
            ),
            ("https://m.search.daum.net/search?q=x", Search, "daum"),
            (
                "https://search.nate.com/search/all.html?q=x",
                Search,
                "nate",
            ),
            // Japanese
            (
                "https://search.yahoo.co.jp/search?p=x",
                Search,
                "yahoojapan",
            ),
            ("https://search.goo.ne.jp/web.jsp?MT=x", Search, "goo"),
            ("https://sp-web.search.auone.jp/search?q=x", Search, "auone"),
            (
                "https://cgi.search.biglobe.ne.jp/cgi-bin/search-st?q=x",
                Search,
                "biglobe",
            ),
            // Russian
            ("https://yandex.ru/clck/jsredir?from=x", Search, "yandex"),
            ("https://yandex.com.tr/search/?text=x", Search, "yandex"),
            ("https://nova.rambler.ru/search?query=x", Search, "rambler"),
            ("https://go.mail.ru/search?q=x", Search, "mailru"),
            // Chinese
            ("https://so.360.cn/s?q=x", Search, "so360"),
            ("https://m.sm.cn/s?q=x", Search, "shenma"),
            (
                "https://m.sogou.com/web/searchList.jsp?keyword=x",
                Search,
                "sogou",
            ),
            ("https://m.baidu.com/s?word=x", Search, "baidu"),
            // Czech
            ("https://search.seznam.cz/?q=x", Search, "seznam"),
            ("https://search.centrum.cz/?q=x", Search, "centrum"),
            // meta-search and privacy search
            (
                "https://metager.de/meta/meta.ger3?eingabe=x",
                Search,
                "metager",
            ),
            ("https://www.dogpile.com/serp?q=x", Search, "dogpile"),
            (
                "https://search.disconnect.me/searchTerms/x",
                Search,
                "disconnect",
            ),
            ("https://swisscows.com/web?query=x", Search, "swisscows"),
            ("https://html.duckduckgo.com/html/", Search, "duckduckgo"),
            ("https://www.startpage.com/do/search", Search, "startpage"),
            // Google's redirectors and other Google hosts
            (
                "https://www.google.com/url?sa=t&url=https%3A%2F%2Fexample.org",
                Search,
                "google",
            ),
            ("https://www.google.co.jp/url?q=x", Search, "google"),
            ("https://news.google.com/articles/x", Search, "google"),
            (
                "https://example-org.cdn.ampproject.org/c/s/example.org/",
                Search,
                "google",
            ),
            // regional and legacy webmail
            ("https://mail.163.com/js6/main.jsp", Email, "netease"),
            ("https://mail.qq.com/cgi-bin/frame_html", Email, "qq"),
            ("https://mail.naver.com/", Email, "naver"),
            ("https://mail.rambler.ru/", Email, "rambler"),
            ("https://mail.yahoo.co.uk/", Email, "yahoo"),
            ("https://mail.yandex.com.tr/", Email, "yandex"),
            ("https://poczta.wp.pl/", Email, "wp"),
            ("https://webmail.bigpond.com/", Email, "telstra"),
            ("https://mail.libero.it/", Email, "libero"),
            ("https://mail.aol.com/webmail-std/en-us/suite", Email, "aol"),
        ] {
            assert_eq!(
                classify(referer),
                known(channel, source, false),
                "{referer}"
            );
        }
    }

    #[test]
    fn referrers_get_the_channel_and_source_of_their_site() {
        use Channel::*;
        let cases = [
            // search engines (Matomo SearchEngines.yml, CC0-1.0)
            ("https://www.google.com/", known(Search, "google", false)),
            (
                "https://www.google.co.uk/search?q=x",
                known(Search, "google", false),
            ),
            ("https://www.google.com.br/", known(Search, "google", false)),
            (
                "https://www.bing.com/search?q=lanterne",
                known(Search, "bing", false),
            ),
            (
                "https://duckduckgo.com/",
                known(Search, "duckduckgo", false),
            ),
            (
                "https://search.yahoo.com/search?p=x",
                known(Search, "yahoo", false),
            ),
            (
                "https://yandex.ru/search/?text=x",
                known(Search, "yandex", false),
            ),
            (
                "https://www.baidu.com/link?url=x",
                known(Search, "baidu", false),
            ),
            (
                "https://www.ecosia.org/search?q=x",
                known(Search, "ecosia", false),
            ),
            // social networks and link shims (Matomo Socials.yml, CC0-1.0; the sites themselves)
            ("https://l.facebook.com/", known(Social, "facebook", false)),
            (
                "https://lm.facebook.com/l.php?u=x",
                known(Social, "facebook", false),
            ),
            ("https://m.facebook.com/", known(Social, "facebook", false)),
            (
                "https://l.instagram.com/",
                known(Social, "instagram", false),
            ),
            ("https://t.co/AbCdEf", known(Social, "twitter", false)),
            ("https://x.com/", known(Social, "twitter", false)),
            (
                "https://www.linkedin.com/",
                known(Social, "linkedin", false),
            ),
            ("https://lnkd.in/abc", known(Social, "linkedin", false)),
            (
                "https://out.reddit.com/t3_x",
                known(Social, "reddit", false),
            ),
            ("https://www.youtube.com/", known(Social, "youtube", false)),
            (
                "https://www.pinterest.fr/",
                known(Social, "pinterest", false),
            ),
            (
                "https://bsky.app/profile/x",
                known(Social, "bluesky", false),
            ),
            // webmail
            ("https://mail.google.com/", known(Email, "gmail", false)),
            ("https://outlook.live.com/", known(Email, "outlook", false)),
            ("https://mail.yahoo.com/", known(Email, "yahoo", false)),
            (
                "android-app://com.yahoo.mobile.client.android.mail",
                known(Email, "yahoo", true),
            ),
            // messaging web front-ends
            (
                "https://l.messenger.com/l.php?u=x",
                known(DarkSocial, "messenger", true),
            ),
            (
                "https://web.whatsapp.com/",
                known(DarkSocial, "whatsapp", true),
            ),
            (
                "https://web.telegram.org/k/",
                known(DarkSocial, "telegram", true),
            ),
            // android-app referrers (Chrome EXTRA_REFERRER; Matomo Socials.yml lists the Telegram one)
            (
                "android-app://org.telegram.messenger",
                known(DarkSocial, "telegram", true),
            ),
            (
                "android-app://com.whatsapp/",
                known(DarkSocial, "whatsapp", true),
            ),
            ("android-app://com.slack", known(DarkSocial, "slack", true)),
            (
                "android-app://com.google.android.gm",
                known(Email, "gmail", true),
            ),
            (
                "android-app://com.google.android.googlequicksearchbox/https/www.google.com",
                known(Search, "google", true),
            ),
            (
                "android-app://com.linkedin.android",
                known(Social, "linkedin", true),
            ),
            (
                "android-app://com.example.app",
                Referer::Unknown {
                    host: "com.example.app".into(),
                },
            ),
            // everything else
            (
                "https://www.example.org/blog/post?id=1",
                Referer::Unknown {
                    host: "example.org".into(),
                },
            ),
            (
                "http://user:pw@news.example.com:8080/x",
                Referer::Unknown {
                    host: "news.example.com".into(),
                },
            ),
            ("https://go.lant.ern/other", Referer::Internal),
            ("not a url", Referer::Invalid),
            ("https:///nohost", Referer::Invalid),
        ];
        for (referer, expected) in cases {
            assert_eq!(classify(referer), expected, "{referer}");
        }
    }
}
