//! Fuzz target: any bytes, split into header values, link facts and preview ages, must
//! classify without panicking, and through the JSON Lines engine too.
//! `cargo +nightly fuzz run classify`
#![no_main]

use std::sync::LazyLock;
use std::time::Duration;

use lanterne::attribution::{Classifier, ClassifierConfig, LinkFacts, RecentPreview, Signals, SlugKind, jsonl};
use libfuzzer_sys::fuzz_target;

static CLASSIFIER: LazyLock<Classifier> = LazyLock::new(|| {
    Classifier::new(ClassifierConfig { preview_window: Duration::from_secs(300), own_hosts: vec!["lant.ern".into()] })
});

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let parts: Vec<&str> = text.split('\u{1}').collect();
    let part = |i: usize| parts.get(i).copied().filter(|p| !p.starts_with('\u{2}'));
    let signals = Signals {
        method: part(0).unwrap_or("GET"),
        user_agent: part(1),
        referer: part(2),
        sec_fetch_site: part(3),
        sec_fetch_mode: part(4),
        sec_fetch_dest: part(5),
        sec_fetch_user: part(6),
        purpose: part(7),
        sec_ch_ua: part(8),
        sec_ch_ua_mobile: part(9),
        sec_ch_ua_platform: part(10),
        x_requested_with: part(11),
    };
    let link = LinkFacts {
        declared_channel: part(12),
        utm_source: part(13),
        utm_medium: part(14),
        slug_kind: if data.len() % 2 == 0 { SlugKind::Generated } else { SlugKind::Custom },
    };
    let previews: Vec<RecentPreview> = parts
        .iter()
        .skip(15)
        .take(4)
        .map(|app| RecentPreview { app: (*app).to_owned(), age: Duration::from_secs(app.len() as u64) })
        .collect();
    let a = CLASSIFIER.classify(&signals, &link, &previews);
    assert_eq!(a.channel.is_some(), a.kind == lanterne::attribution::Kind::Human);
    let mut out = Vec::new();
    jsonl::run(&CLASSIFIER, data, &mut out, &|_| None).expect("in-memory I/O cannot fail");
});
