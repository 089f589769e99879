//! Classification speed: a realistic mix, all-distinct User-Agents from the test corpora,
//! worst-case long User-Agents (just under the 2 KiB limit: the first 1 KiB is scanned) and
//! an 8 KiB one (rejected as `ua_oversized` without scanning). `cargo bench --bench classify`.

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use lanterne::attribution::{
    Classifier, ClassifierConfig, LinkFacts, RecentPreview, Signals, SlugKind,
};

/// (user agent, referer, sec-fetch-site): mostly mobile and in-app browsers, some previews
/// and bots, with and without referrers. Sources: tests/data and the table tests.
const MIX: &[(&str, Option<&str>, Option<&str>)] = &[
    (
        "Mozilla/5.0 (iPhone; CPU iPhone OS 18_7 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/26.6.1 Mobile/15E148 Safari/604.1",
        None,
        Some("none"),
    ),
    (
        "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Mobile Safari/537.36",
        None,
        Some("none"),
    ),
    (
        "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Mobile Safari/537.36",
        Some("https://www.google.com/"),
        Some("cross-site"),
    ),
    (
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 Instagram 306.0.0.13.109 (iPhone15,3; iOS 17_1; en_US; en; scale=3.00; 1290x2796; 547497785)",
        None,
        None,
    ),
    (
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 [FBAN/FBIOS;FBAV/435.0.0.35.110;FBBV/540129418;FBDV/iPhone14,5;FBMD/iPhone;FBSN/iOS;FBSV/17.0;FBSS/3;FBID/phone;FBLC/en_US;FBOP/5;FBRV/541999432]",
        None,
        None,
    ),
    (
        "Mozilla/5.0 (Linux; Android 13; SM-S911B Build/TP1A.220624.014; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/119.0.6045.163 Mobile Safari/537.36 [FB_IAB/FB4A;FBAV/441.0.0.23.105;]",
        Some("https://l.facebook.com/"),
        None,
    ),
    (
        "Mozilla/5.0 (iPhone; CPU iPhone OS 16_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 MicroMessenger/8.0.40(0x18002831) NetType/WIFI Language/zh_CN",
        None,
        None,
    ),
    (
        "Mozilla/5.0 (Linux; Android 14; Pixel 8 Build/UQ1A.240105.004; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/120.0.6099.230 Mobile Safari/537.36 Telegram-Android/10.6.2 (Google Pixel 8; Android 14; SDK 34; HIGH)",
        None,
        None,
    ),
    (
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36",
        Some("https://t.co/abc"),
        Some("cross-site"),
    ),
    (
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Safari/605.1.15",
        Some("https://mail.google.com/"),
        Some("cross-site"),
    ),
    (
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1_2 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) CriOS/120.0.6099.119 Mobile/15E148 Safari/604.1",
        None,
        Some("none"),
    ),
    (
        "Mozilla/5.0 (Linux; Android 13; SM-A536B) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/23.0 Chrome/115.0.0.0 Mobile Safari/537.36",
        Some("android-app://org.telegram.messenger/"),
        None,
    ),
    ("WhatsApp/2.23.20.0 A", None, None),
    ("TelegramBot (like TwitterBot)", None, None),
    (
        "facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)",
        None,
        None,
    ),
    (
        "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
        None,
        None,
    ),
    (
        "Mozilla/5.0 (Linux; Android 6.0.1; Nexus 5X Build/MMB29P) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.6099.216 Mobile Safari/537.36 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
        None,
        None,
    ),
    ("curl/8.5.0", None, None),
    (
        "Mozilla/5.0 (iPhone; CPU iPhone OS 18_7 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/26.6.1 Mobile/15E148 Safari/604.1",
        Some("https://www.example.org/blog/post"),
        Some("cross-site"),
    ),
    (
        "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Mobile Safari/537.36",
        None,
        None,
    ),
];

fn classifier() -> Classifier {
    Classifier::new(ClassifierConfig {
        preview_window: Duration::from_secs(300),
        own_hosts: vec!["lant.ern".into()],
    })
}

fn signals<'a>(ua: &'a str, referer: Option<&'a str>, site: Option<&'a str>) -> Signals<'a> {
    Signals {
        method: "GET",
        user_agent: Some(ua),
        referer,
        sec_fetch_site: site,
        ..Signals::default()
    }
}

fn bench(c: &mut Criterion) {
    let classifier = classifier();
    let link = LinkFacts {
        utm_medium: Some("social"),
        slug_kind: SlugKind::Generated,
        ..LinkFacts::default()
    };
    let previews = vec![RecentPreview {
        app: "whatsapp".into(),
        age: Duration::from_secs(42),
    }];

    let mut i = 0;
    c.bench_function("classify/typical_mix", |b| {
        b.iter(|| {
            let (ua, referer, site) = MIX[i % MIX.len()];
            i += 1;
            black_box(classifier.classify(&signals(ua, referer, site), &link, &previews))
        })
    });

    let distinct: Vec<&str> = [
        include_str!("../tests/data/attribution/browsers.txt"),
        include_str!("../tests/data/attribution/uap_browsers.txt"),
        include_str!("../tests/data/attribution/crawlers.txt"),
    ]
    .iter()
    .flat_map(|data| data.lines())
    .filter(|l| !l.is_empty() && !l.starts_with('#'))
    .collect();
    let mut j = 0;
    c.bench_function("classify/all_distinct_corpus_uas", |b| {
        b.iter(|| {
            let ua = distinct[j % distinct.len()];
            j += 1;
            black_box(classifier.classify(&signals(ua, None, None), &link, &previews))
        })
    });

    let base = MIX[0].0;
    let near_limit = format!("{base} {}", "abcdefgh ".repeat(2040 / 9 - base.len() / 9));
    let huge = format!("{base} {}", "abcdefgh ".repeat(8192 / 9));
    c.bench_function("classify/ua_2000B_words_scanned", |b| {
        b.iter(|| {
            black_box(classifier.classify(&signals(&near_limit, None, None), &link, &previews))
        })
    });
    c.bench_function("classify/ua_8KiB_rejected_unscanned", |b| {
        b.iter(|| black_box(classifier.classify(&signals(&huge, None, None), &link, &previews)))
    });
    let binary: String = (0..8192u32)
        .map(|k| char::from(b'!' + (k * 7919 % 90) as u8))
        .collect();
    c.bench_function("classify/ua_2000B_no_spaces_scanned", |b| {
        b.iter(|| {
            black_box(classifier.classify(&signals(&binary[..2000], None, None), &link, &previews))
        })
    });

    let mut group = c.benchmark_group("build");
    group.sample_size(10);
    group.bench_function("Classifier::new", |b| {
        b.iter(|| black_box(classifier_new()))
    });
    group.finish();
}

fn classifier_new() -> Classifier {
    classifier()
}

criterion_group!(benches, bench);
criterion_main!(benches);
