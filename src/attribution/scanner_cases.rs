//! The cited scanner request shapes of `tests/data/attribution/scanners.tsv`, each
//! classified as the click writer does (every header known, the network named by
//! [`Classifier::network`]) with a generated slug and no previews.

use super::*;

const CASES: &str = include_str!("../../tests/data/attribution/scanners.tsv");

#[test]
fn scanner_request_shapes_are_bots_and_the_people_beside_them_are_not() {
    let classifier = Classifier::new(ClassifierConfig::default());
    let mut rows = 0;
    for line in CASES
        .lines()
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
    {
        let c: Vec<&str> = line.split('\t').collect();
        assert_eq!(c.len(), 9, "nine columns: {line}");
        let (name, method, ua, headers, asn, org, kind, evidence, source) =
            (c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7], c[8]);
        assert!(
            CASES.contains(&format!("#   {source}")),
            "{name}: cited source {source}"
        );
        let headers: Vec<(&str, &str)> = if headers == "-" {
            Vec::new()
        } else {
            headers
                .split(" ; ")
                .map(|h| h.split_once('=').expect("name=value"))
                .collect()
        };
        let header = |n: &str| headers.iter().find(|(k, _)| *k == n).map(|(_, v)| *v);
        let network = (asn != "-").then(|| {
            classifier.network(
                asn.parse().expect("an AS number"),
                (org != "-").then_some(org),
            )
        });
        let signals = Signals {
            method,
            user_agent: Some(ua),
            referer: header("referer"),
            sec_fetch_site: header("sec-fetch-site"),
            sec_fetch_mode: header("sec-fetch-mode"),
            sec_fetch_user: header("sec-fetch-user"),
            x_requested_with: header("x-requested-with"),
            accept_language: header("accept-language"),
            network: network.flatten(),
            complete: true,
            ..Signals::default()
        };
        let a = classifier.classify(&signals, &LinkFacts::default(), &[]);
        assert_eq!(a.kind.as_str(), kind, "{name}: {a:?}");
        assert_eq!(
            a.evidence.first().map(ToString::to_string).as_deref(),
            Some(evidence),
            "{name}: {a:?}"
        );
        rows += 1;
    }
    assert!(rows >= 20, "{rows} cases");
}

#[test]
fn without_complete_headers_no_shape_rule_runs() {
    // User-Agent corpora and `lanterne classify` lines carry no Accept-Language.
    let classifier = Classifier::new(ClassifierConfig::default());
    let ua = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36";
    let signals = Signals {
        method: "GET",
        user_agent: Some(ua),
        ..Signals::default()
    };
    let a = classifier.classify(&signals, &LinkFacts::default(), &[]);
    assert_eq!(a.kind, Kind::Human);
    let complete = Signals {
        complete: true,
        ..signals
    };
    let a = classifier.classify(&complete, &LinkFacts::default(), &[]);
    assert_eq!(a.kind, Kind::Bot);
    assert_eq!(a.device, Device::Bot);
}
