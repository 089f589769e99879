//! End-to-end table tests of the classifier: one row per rule of the precedence ladders,
//! with real User-Agents (sources cited per constant) and property tests that no input panics.

use std::time::Duration;

use proptest::prelude::*;

use super::*;

// npm user-agents 2.1 dist/user-agents.json (intoli, BSD-2-Clause)
const IPHONE_SAFARI: &str = "Mozilla/5.0 (iPhone; CPU iPhone OS 18_7 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/26.6.1 Mobile/15E148 Safari/604.1";
// npm user-agents 2.1 dist/user-agents.json
const WINDOWS_CHROME: &str = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36";
// ua-parser/uap-core tests/test_ua.yaml, family "Instagram"
const INSTAGRAM_IOS: &str = "Mozilla/5.0 (iPhone; CPU iPhone OS 11_2_5 like Mac OS X) AppleWebKit/604.5.6 (KHTML, like Gecko) Mobile/15D60 Instagram 33.0.0.11.96 (iPhone9,3; iOS 11_2_5; en_AU; en-AU; scale=2.00; gamut=wide; 750x1334)";
// ua-parser/uap-core tests/test_ua.yaml, family "Facebook Messenger"
const MESSENGER_ANDROID: &str = "Mozilla/5.0 (Linux; Android 6.0.1; SM-A910F Build/MMB29M; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/58.0.3029.83 Mobile Safari/537.36 [FB_IAB/MESSENGER;FBAV/120.0.0.14.84;]";
// ua-parser/uap-core tests/test_ua.yaml, family "Chrome Mobile WebView"
const ANDROID_WEBVIEW: &str = "Mozilla/5.0 (Linux; Android 7.1.2; Nexus 5X Build/N2G47W; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/58.0.3029.83 Mobile Safari/537.36";
// crawler-user-agents.json "WhatsApp"
const WHATSAPP_PREVIEW: &str = "WhatsApp/2.19.330 A";
// crawler-user-agents.json "Googlebot\/"
const GOOGLEBOT: &str = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)";

fn classifier() -> Classifier {
    Classifier::new(ClassifierConfig {
        preview_window: Duration::from_secs(300),
        own_hosts: vec!["lant.ern".to_owned()],
    })
}

fn get(ua: &str) -> Signals<'_> {
    Signals {
        method: "GET",
        user_agent: Some(ua),
        ..Signals::default()
    }
}

fn preview(app: &str, seconds: u64) -> RecentPreview {
    RecentPreview {
        app: app.to_owned(),
        age: Duration::from_secs(seconds),
    }
}

fn strings(evidence: &[Evidence]) -> Vec<String> {
    evidence.iter().map(ToString::to_string).collect()
}

struct Case<'a> {
    name: &'a str,
    signals: Signals<'a>,
    link: LinkFacts<'a>,
    previews: Vec<RecentPreview>,
    kind: Kind,
    channel: Option<Channel>,
    source: Option<&'a str>,
    evidence: &'a [&'a str],
}

fn check(cases: Vec<Case<'_>>) {
    let classifier = classifier();
    for case in cases {
        let a = classifier.classify(&case.signals, &case.link, &case.previews);
        assert_eq!(a.kind, case.kind, "{}: {a:?}", case.name);
        assert_eq!(a.channel, case.channel, "{}: {a:?}", case.name);
        assert_eq!(a.source.as_deref(), case.source, "{}: {a:?}", case.name);
        assert_eq!(strings(&a.evidence), case.evidence, "{}: {a:?}", case.name);
    }
}

#[test]
#[rustfmt::skip]
fn kind_precedence_is_preview_then_bot_then_prefetch_then_human() {
    let none = LinkFacts::default();
    check(vec![
        Case { name: "preview fetcher", signals: get(WHATSAPP_PREVIEW), link: none, previews: vec![], kind: Kind::Preview, channel: None, source: Some("whatsapp"), evidence: &["preview_ua:whatsapp"] },
        Case { name: "preview fetcher using HEAD stays a preview", signals: Signals { method: "HEAD", ..get("TelegramBot (like TwitterBot)") }, link: none, previews: vec![], kind: Kind::Preview, channel: None, source: Some("telegram"), evidence: &["preview_ua:telegram", "method:head"] },
        Case { name: "crawler", signals: get(GOOGLEBOT), link: none, previews: vec![], kind: Kind::Bot, channel: None, source: None, evidence: &["bot_ua:googlebot"] },
        Case { name: "HEAD from curl is a bot", signals: Signals { method: "HEAD", ..get("curl/8.5.0") }, link: none, previews: vec![], kind: Kind::Bot, channel: None, source: None, evidence: &["bot_ua:curl", "method:head"] },
        Case { name: "missing user agent", signals: Signals { method: "GET", ..Signals::default() }, link: none, previews: vec![], kind: Kind::Bot, channel: None, source: None, evidence: &["ua_missing"] },
        Case { name: "blank user agent", signals: get("   "), link: none, previews: vec![], kind: Kind::Bot, channel: None, source: None, evidence: &["ua_missing"] },
        Case { name: "Sec-Purpose prefetch", signals: Signals { purpose: Some("prefetch;anonymous-client-ip"), ..get(WINDOWS_CHROME) }, link: none, previews: vec![], kind: Kind::Prefetch, channel: None, source: None, evidence: &["purpose:prefetch"] },
        Case { name: "Sec-Purpose prerender", signals: Signals { purpose: Some("prefetch;prerender"), ..get(WINDOWS_CHROME) }, link: none, previews: vec![], kind: Kind::Prefetch, channel: None, source: None, evidence: &["purpose:prerender"] },
        Case { name: "HEAD from a browser", signals: Signals { method: "head", ..get(IPHONE_SAFARI) }, link: none, previews: vec![], kind: Kind::Prefetch, channel: None, source: None, evidence: &["method:head"] },
        Case { name: "plain browser", signals: get(IPHONE_SAFARI), link: none, previews: vec![], kind: Kind::Human, channel: Some(Channel::Direct), source: None, evidence: &["no_referer"] },
    ]);
}

#[test]
fn a_huge_user_agent_is_a_bot() {
    let ua = format!("{IPHONE_SAFARI} {}", "x".repeat(8 * 1024));
    let a = classifier().classify(&get(&ua), &LinkFacts::default(), &[]);
    assert_eq!(
        (a.kind, strings(&a.evidence)),
        (Kind::Bot, vec!["ua_oversized".to_owned()])
    );
}

#[test]
#[rustfmt::skip]
fn channel_precedence_is_internal_referrer_qr_dark_social_direct() {
    let generated = LinkFacts::default();
    let custom = LinkFacts {
        slug_kind: SlugKind::Custom,
        ..LinkFacts::default()
    };
    let whatsapp_link = LinkFacts {
        declared_channel: Some("whatsapp"),
        ..LinkFacts::default()
    };
    let qr_link = LinkFacts {
        declared_channel: Some("qr"),
        ..LinkFacts::default()
    };
    let sms_utm = LinkFacts {
        utm_medium: Some("SMS"),
        utm_source: Some("partner_site"),
        ..LinkFacts::default()
    };
    let qr_utm = LinkFacts {
        utm_medium: Some("qr_code"),
        ..LinkFacts::default()
    };
    let telegram_source = LinkFacts {
        utm_source: Some("telegram"),
        ..LinkFacts::default()
    };
    let facebook_source = LinkFacts {
        utm_source: Some("facebook"),
        ..LinkFacts::default()
    };
    let with_referer = |referer| Signals {
        referer: Some(referer),
        ..get(IPHONE_SAFARI)
    };
    let none_site = Signals {
        sec_fetch_site: Some("none"),
        ..get(WINDOWS_CHROME)
    };
    check(vec![
        Case { name: "own host", signals: with_referer("https://lant.ern/dashboard"), link: generated, previews: vec![], kind: Kind::Human, channel: Some(Channel::Internal), source: None, evidence: &["referer:internal"] },
        Case { name: "search referrer", signals: with_referer("https://www.google.fr/"), link: generated, previews: vec![], kind: Kind::Human, channel: Some(Channel::Search), source: Some("google"), evidence: &["referer:search:google"] },
        Case { name: "social shim", signals: with_referer("https://l.facebook.com/l.php?u=x"), link: generated, previews: vec![], kind: Kind::Human, channel: Some(Channel::Social), source: Some("facebook"), evidence: &["referer:social:facebook"] },
        Case { name: "webmail", signals: with_referer("https://mail.google.com/"), link: generated, previews: vec![], kind: Kind::Human, channel: Some(Channel::Email), source: Some("gmail"), evidence: &["referer:email:gmail"] },
        Case { name: "unknown site", signals: with_referer("https://blog.example.org/post"), link: generated, previews: vec![], kind: Kind::Human, channel: Some(Channel::Referral), source: Some("blog.example.org"), evidence: &["referer:referral"] },
        Case { name: "android app of a messenger", signals: with_referer("android-app://org.telegram.messenger/"), link: generated, previews: vec![], kind: Kind::Human, channel: Some(Channel::DarkSocial), source: Some("telegram"), evidence: &["referer_app:telegram"] },
        Case { name: "a referrer beats the QR variant", signals: with_referer("https://t.co/x"), link: qr_link, previews: vec![], kind: Kind::Human, channel: Some(Channel::Social), source: Some("twitter"), evidence: &["referer:social:twitter"] },
        Case { name: "referrer decides, private signals kept", signals: Signals { referer: Some("https://www.bing.com/"), ..get(INSTAGRAM_IOS) }, link: whatsapp_link, previews: vec![], kind: Kind::Human, channel: Some(Channel::Search), source: Some("bing"), evidence: &[ "referer:search:bing", "inapp_ua:instagram", "declared_channel:whatsapp", ] },
        Case { name: "QR variant", signals: get(IPHONE_SAFARI), link: qr_link, previews: vec![], kind: Kind::Human, channel: Some(Channel::Qr), source: None, evidence: &["declared_channel:qr"] },
        Case { name: "QR utm_medium", signals: get(IPHONE_SAFARI), link: qr_utm, previews: vec![], kind: Kind::Human, channel: Some(Channel::Qr), source: None, evidence: &["utm_medium:qr"] },
        Case { name: "in-app browser", signals: get(INSTAGRAM_IOS), link: custom, previews: vec![], kind: Kind::Human, channel: Some(Channel::DarkSocial), source: Some("instagram"), evidence: &["inapp_ua:instagram"] },
        Case { name: "X-Requested-With names the app", signals: Signals { x_requested_with: Some("com.facebook.orca"), ..get(ANDROID_WEBVIEW) }, link: custom, previews: vec![], kind: Kind::Human, channel: Some(Channel::DarkSocial), source: Some("messenger"), evidence: &["x_requested_with:messenger"] },
        Case { name: "declared channel", signals: get(IPHONE_SAFARI), link: whatsapp_link, previews: vec![], kind: Kind::Human, channel: Some(Channel::DarkSocial), source: Some("whatsapp"), evidence: &["declared_channel:whatsapp"] },
        Case { name: "utm_medium sms, utm_source not private", signals: get(IPHONE_SAFARI), link: sms_utm, previews: vec![], kind: Kind::Human, channel: Some(Channel::DarkSocial), source: Some("sms"), evidence: &["utm_medium:sms"] },
        Case { name: "utm_source telegram", signals: get(IPHONE_SAFARI), link: telegram_source, previews: vec![], kind: Kind::Human, channel: Some(Channel::DarkSocial), source: Some("telegram"), evidence: &["utm_source:telegram"] },
        Case { name: "utm_source facebook is not a private share", signals: get(IPHONE_SAFARI), link: LinkFacts { slug_kind: SlugKind::Custom, ..facebook_source}, previews: vec![], kind: Kind::Human, channel: Some(Channel::Direct), source: None, evidence: &["no_referer"] },
        Case { name: "recent preview", signals: get(IPHONE_SAFARI), link: custom, previews: vec![preview("telegram", 40)], kind: Kind::Human, channel: Some(Channel::DarkSocial), source: Some("telegram"), evidence: &["recent_preview:telegram"] },
        Case { name: "several previews: the most recent wins", signals: get(IPHONE_SAFARI), link: custom, previews: vec![ preview("whatsapp", 200), preview("slack", 20), preview("telegram", 90), ], kind: Kind::Human, channel: Some(Channel::DarkSocial), source: Some("slack"), evidence: &["recent_preview:slack"] },
        Case { name: "preview outside the window", signals: get(IPHONE_SAFARI), link: custom, previews: vec![preview("whatsapp", 301)], kind: Kind::Human, channel: Some(Channel::Direct), source: None, evidence: &["no_referer"] },
        Case { name: "public-network preview is not a private share", signals: get(IPHONE_SAFARI), link: custom, previews: vec![preview("twitter", 5)], kind: Kind::Human, channel: Some(Channel::Direct), source: None, evidence: &["no_referer"] },
        Case { name: "Sec-Fetch-Site none with a generated slug", signals: none_site, link: generated, previews: vec![], kind: Kind::Human, channel: Some(Channel::DarkSocial), source: None, evidence: &["sec_fetch_site_none+generated_slug"] },
        Case { name: "Sec-Fetch-Site none with a vanity slug is direct", signals: none_site, link: custom, previews: vec![], kind: Kind::Human, channel: Some(Channel::Direct), source: None, evidence: &["no_referer"] },
        Case { name: "stronger signal wins, the rest is kept in order", signals: Signals { sec_fetch_site: Some("none"), ..get(MESSENGER_ANDROID) }, link: whatsapp_link, previews: vec![preview("telegram", 10)], kind: Kind::Human, channel: Some(Channel::DarkSocial), source: Some("messenger"), evidence: &[ "inapp_ua:messenger", "declared_channel:whatsapp", "recent_preview:telegram", "sec_fetch_site_none+generated_slug", ] },
        Case { name: "an invalid referer counts as absent", signals: Signals { referer: Some("about:blank"), ..get(IPHONE_SAFARI) }, link: whatsapp_link, previews: vec![], kind: Kind::Human, channel: Some(Channel::DarkSocial), source: Some("whatsapp"), evidence: &["declared_channel:whatsapp", "referer_invalid"] },
        Case { name: "no signal at all", signals: get(WINDOWS_CHROME), link: custom, previews: vec![], kind: Kind::Human, channel: Some(Channel::Direct), source: None, evidence: &["no_referer"] },
        Case { name: "a cross-site page that withheld its Referer is direct, said so", signals: Signals { sec_fetch_site: Some("cross-site"), ..get(WINDOWS_CHROME) }, link: generated, previews: vec![], kind: Kind::Human, channel: Some(Channel::Direct), source: None, evidence: &["referer_withheld"] },
        Case { name: "a same-site page too", signals: Signals { sec_fetch_site: Some("Same-Site"), ..get(WINDOWS_CHROME) }, link: custom, previews: vec![], kind: Kind::Human, channel: Some(Channel::Direct), source: None, evidence: &["referer_withheld"] },
        Case { name: "a withheld Referer does not hide a private-share signal", signals: Signals { sec_fetch_site: Some("cross-site"), ..get(WINDOWS_CHROME) }, link: whatsapp_link, previews: vec![], kind: Kind::Human, channel: Some(Channel::DarkSocial), source: Some("whatsapp"), evidence: &["declared_channel:whatsapp"] },
    ]);
}

#[test]
fn humans_get_their_in_app_browser_and_device_even_when_a_referrer_decides() {
    let signals = Signals {
        referer: Some("https://t.co/abc"),
        ..get(INSTAGRAM_IOS)
    };
    let a = classifier().classify(&signals, &LinkFacts::default(), &[]);
    assert_eq!(a.inapp.as_deref(), Some("instagram"));
    assert_eq!(
        (a.browser.as_deref(), a.os.as_deref(), a.device),
        (Some("iOS WebView"), Some("iOS"), Device::Mobile)
    );
}

#[test]
fn bots_and_previews_have_device_bot_and_no_channel() {
    for ua in [GOOGLEBOT, WHATSAPP_PREVIEW] {
        let a = classifier().classify(&get(ua), &LinkFacts::default(), &[]);
        assert_eq!(
            (a.device, a.channel, a.inapp),
            (Device::Bot, None, None),
            "{ua}"
        );
    }
}

#[test]
fn enums_serialize_to_their_product_words() {
    assert_eq!(
        serde_json::to_string(&Channel::DarkSocial).unwrap(),
        "\"dark_social\""
    );
    assert_eq!(
        serde_json::to_string(&Kind::Prefetch).unwrap(),
        "\"prefetch\""
    );
    assert_eq!(
        serde_json::to_string(&SlugKind::Generated).unwrap(),
        "\"generated\""
    );
    assert_eq!(Channel::DarkSocial.as_str(), "dark_social");
    assert_eq!(Kind::Human.to_string(), "human");
    assert_eq!(Device::Tablet.to_string(), "tablet");
}

fn header() -> impl Strategy<Value = Option<String>> {
    prop_oneof![
        Just(None),
        any::<String>().prop_map(Some),
        proptest::collection::vec(any::<u8>(), 0..64)
            .prop_map(|b| Some(String::from_utf8_lossy(&b).into_owned())),
        "[a-zA-Z0-9 ;:/().,_+-]{0,300}".prop_map(Some),
        (0usize..20_000).prop_map(|n| Some("é".repeat(n / 2) + &"x".repeat(n % 7))),
        Just(Some("android-app://".to_owned())),
        Just(Some("http://[::1".to_owned())),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn no_input_makes_the_classifier_panic(
        method in any::<String>(),
        headers in proptest::collection::vec(header(), 12),
        link in proptest::collection::vec(header(), 3),
        custom in any::<bool>(),
        previews in proptest::collection::vec((any::<String>(), any::<u64>()), 0..4),
    ) {
        let classifier = &*CLASSIFIER;
        let h = |i: usize| headers[i].as_deref();
        let signals = Signals {
            method: &method, user_agent: h(0), referer: h(1), sec_fetch_site: h(2), sec_fetch_mode: h(3),
            sec_fetch_dest: h(4), sec_fetch_user: h(5), purpose: h(6), sec_ch_ua: h(7),
            sec_ch_ua_mobile: h(8), sec_ch_ua_platform: h(9), x_requested_with: h(10),
            accept_language: h(11), network: None, complete: custom,
        };
        let facts = LinkFacts {
            declared_channel: link[0].as_deref(), utm_source: link[1].as_deref(), utm_medium: link[2].as_deref(),
            slug_kind: if custom { SlugKind::Custom } else { SlugKind::Generated },
        };
        let previews: Vec<RecentPreview> =
            previews.into_iter().map(|(app, s)| RecentPreview { app, age: Duration::from_secs(s) }).collect();
        let a = classifier.classify(&signals, &facts, &previews);
        prop_assert_eq!(a.channel.is_some(), a.kind == Kind::Human);
        prop_assert!(!a.evidence.is_empty());
        for e in &a.evidence {
            prop_assert!(e.to_string().len() <= 300, "evidence stays short: {}", e);
        }
    }
}

/// Built once: compiling the rule tables for each of the 256 cases would dominate the run.
static CLASSIFIER: std::sync::LazyLock<Classifier> = std::sync::LazyLock::new(classifier);
