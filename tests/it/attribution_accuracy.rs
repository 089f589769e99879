//! Accuracy against public corpora in tests/data (each file cites its source and licence).
//! Run `cargo test --test it attribution_accuracy -- --nocapture` to see the rates and the misses.
//!
//! Blind or not (docs/attribution.md "Measured accuracy"): NONE of these corpora is blind.
//! crawler-user-agents `crawlers.txt` is the instance list of the vendored pattern list;
//! CrawlerDetect's `crawlerdetect_crawlers.txt` is what its vendored patterns were written
//! for, and its `crawlerdetect_devices_sample.txt` false positives fed four masks and the
//! Android device-model mask; the uap-core and isbot fixtures fed `bot_masks.txt` and
//! `browser_shape.txt`; the Snowplow referrer fixture fed hosts of `referrers.tsv`;
//! `previews.tsv` was read while `data/previews.tsv` was widened. Only the issue's own
//! measurement (corpora the team does not see) is blind.

use lanterne::attribution::{Classifier, ClassifierConfig, Kind, LinkFacts, Signals};

fn lines(data: &str) -> impl Iterator<Item = &str> {
    data.lines()
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
}

fn kind(classifier: &Classifier, ua: &str) -> (Kind, Option<String>) {
    let signals = Signals {
        method: "GET",
        user_agent: Some(ua),
        ..Signals::default()
    };
    let a = classifier.classify(&signals, &LinkFacts::default(), &[]);
    (
        a.kind,
        a.inapp.or(a.evidence.first().map(|e| e.to_string())),
    )
}

/// Share of `uas` for which `ok` holds; prints up to 15 misses.
fn rate(name: &str, uas: &[&str], ok: impl Fn(&str) -> (bool, String)) -> f64 {
    let mut misses = Vec::new();
    for ua in uas {
        let (good, why) = ok(ua);
        if !good {
            misses.push(format!("    {why} <- {ua}"));
        }
    }
    let rate = 1.0 - misses.len() as f64 / uas.len() as f64;
    println!(
        "{name}: {:.2}% of {} ({} misses)",
        rate * 100.0,
        uas.len(),
        misses.len()
    );
    for miss in misses.iter().take(15) {
        println!("{miss}");
    }
    rate
}

#[test]
fn crawlers_are_flagged_bot_or_preview() {
    let classifier = Classifier::new(ClassifierConfig::default());
    for (name, data) in [
        (
            "crawler-user-agents instances",
            include_str!("../data/attribution/crawlers.txt"),
        ),
        (
            "uap-core test_device Spider",
            include_str!("../data/attribution/uap_spiders.txt"),
        ),
        (
            "CrawlerDetect 1.4.1 crawlers fixture",
            include_str!("../data/attribution/crawlerdetect_crawlers.txt"),
        ),
    ] {
        let uas: Vec<&str> = lines(data).collect();
        let r = rate(name, &uas, |ua| {
            let (k, why) = kind(&classifier, ua);
            (
                matches!(k, Kind::Bot | Kind::Preview),
                format!("{k:?} {why:?}"),
            )
        });
        assert!(r >= 0.99, "{name}: {r}");
    }
}

#[test]
fn real_browsers_are_human() {
    let classifier = Classifier::new(ClassifierConfig::default());
    for (name, data, max_false) in [
        (
            "npm user-agents browsers",
            include_str!("../data/attribution/browsers.txt"),
            0.003,
        ),
        (
            "uap-core test_device Mozilla non-spider",
            include_str!("../data/attribution/uap_browsers.txt"),
            0.01,
        ),
        (
            "CrawlerDetect 1.4.1 devices fixture (every 20th line)",
            include_str!("../data/attribution/crawlerdetect_devices_sample.txt"),
            0.003,
        ),
    ] {
        let uas: Vec<&str> = lines(data).collect();
        let r = rate(name, &uas, |ua| {
            let (k, why) = kind(&classifier, ua);
            (k == Kind::Human, format!("{k:?} {why:?}"))
        });
        assert!(1.0 - r <= max_false, "{name}: false positives {}", 1.0 - r);
    }
}

#[test]
fn in_app_browsers_are_named() {
    let classifier = Classifier::new(ClassifierConfig::default());
    let rows: Vec<(&str, &str)> = lines(include_str!("../data/attribution/inapp.tsv"))
        .map(|l| l.split_once('\t').expect("ua<TAB>app"))
        .collect();
    let uas: Vec<&str> = rows.iter().map(|(ua, _)| *ua).collect();
    let r = rate("uap-core in-app families", &uas, |ua| {
        let expected = rows.iter().find(|(u, _)| *u == ua).map(|(_, app)| *app);
        let signals = Signals {
            method: "GET",
            user_agent: Some(ua),
            ..Signals::default()
        };
        let a = classifier.classify(&signals, &LinkFacts::default(), &[]);
        (
            a.inapp.as_deref() == expected,
            format!("{:?} {:?} {:?}", a.kind, a.inapp, a.evidence),
        )
    });
    assert!(r >= 0.97, "in-app: {r}");
}

#[test]
fn referrers_get_the_right_channel_and_source() {
    let classifier = Classifier::new(ClassifierConfig::default());
    let rows: Vec<Vec<&str>> = lines(include_str!("../data/attribution/referrers.tsv"))
        .map(|l| l.split('\t').collect())
        .collect();
    let referers: Vec<&str> = rows.iter().map(|r| r[0]).collect();
    // npm user-agents 2.1 dist/user-agents.json (intoli, BSD-2-Clause)
    let ua = "Mozilla/5.0 (iPhone; CPU iPhone OS 18_7 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/26.6.1 Mobile/15E148 Safari/604.1";
    let r = rate(
        "referrers (Snowplow fixture + issue 3)",
        &referers,
        |referer| {
            let row = rows.iter().find(|r| r[0] == referer).expect("row");
            let signals = Signals {
                method: "GET",
                user_agent: Some(ua),
                referer: Some(referer),
                ..Signals::default()
            };
            let a = classifier.classify(&signals, &LinkFacts::default(), &[]);
            let got = (a.channel.map(|c| c.as_str()), a.source.clone());
            (
                got == (Some(row[1]), Some(row[2].to_owned())),
                format!("{got:?}"),
            )
        },
    );
    assert!(r >= 0.97, "referrers: {r}");
}

#[test]
fn preview_fetchers_are_named_as_their_app() {
    let classifier = Classifier::new(ClassifierConfig::default());
    let rows: Vec<(&str, &str)> = lines(include_str!("../data/attribution/previews.tsv"))
        .map(|l| l.split_once('\t').expect("ua<TAB>app"))
        .collect();
    let uas: Vec<&str> = rows.iter().map(|(ua, _)| *ua).collect();
    let r = rate(
        "preview fetchers (CrawlerDetect + crawler-user-agents)",
        &uas,
        |ua| {
            let expected = rows.iter().find(|(u, _)| *u == ua).map(|(_, app)| *app);
            let signals = Signals {
                method: "GET",
                user_agent: Some(ua),
                ..Signals::default()
            };
            let a = classifier.classify(&signals, &LinkFacts::default(), &[]);
            (
                a.kind == Kind::Preview && a.source.as_deref() == expected,
                format!("{:?} {:?} {:?}", a.kind, a.source, a.evidence),
            )
        },
    );
    assert!(r >= 0.90, "previews: {r}");
}
