//! CPU per click of the capture pipeline, off the network: what the redirect
//! does (`capture`: read the headers into a `ClickEvent`, queue it), what
//! the writer does per event (`enrich`: classify, visitor hash, the record
//! to store) and per stored row (`encode`: the binary `COPY` stream).
//! `cargo bench --bench click_path`. These are the parts of Lanterne's cost
//! per redirect that the baseline of `bench/redirect.sh` does not pay.

use std::{hint::black_box, net::IpAddr, sync::Arc, time::Duration};

use axum::http::{HeaderMap, HeaderValue, Method, header};
use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use lanterne::{
    attribution::{Classifier, ClassifierConfig},
    clicks::{ClickEvent, ClickSender, enrich::Enricher, now_micros, store, visitor::Salts},
    geo::GeoDb,
    links::{SlugKind, cache::CachedLink},
};

const USER_AGENTS: &[&str] = &[
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Mobile Safari/537.36",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 Instagram 306.0.0.13.109 (iPhone15,3; iOS 17_1; en_US; en; scale=3.00; 1290x2796; 547497785)",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36",
];

fn link() -> Arc<CachedLink> {
    Arc::new(CachedLink {
        id: 42,
        target: "https://shop.example/p?id=7&utm_source=whatsapp&utm_medium=social".into(),
        location: None,
        enabled: true,
        expires_at: None,
        channel: Some("whatsapp".into()),
        utm_source: Some("whatsapp".into()),
        utm_medium: Some("social".into()),
        utm_campaign: Some("spring".into()),
        slug_kind: SlugKind::Generated,
        version: 0,
        card: None,
    })
}

fn headers(i: usize) -> HeaderMap {
    let mut h = HeaderMap::new();
    h.insert(header::HOST, HeaderValue::from_static("lnt.example"));
    h.insert(
        header::USER_AGENT,
        HeaderValue::from_static(USER_AGENTS[i % USER_AGENTS.len()]),
    );
    h.insert(
        header::ACCEPT,
        HeaderValue::from_static("text/html,application/xhtml+xml"),
    );
    h.insert(
        header::ACCEPT_LANGUAGE,
        HeaderValue::from_static("fr-FR,fr;q=0.9,en;q=0.8"),
    );
    h.insert("sec-fetch-site", HeaderValue::from_static("none"));
    h.insert("sec-fetch-mode", HeaderValue::from_static("navigate"));
    h.insert("sec-fetch-dest", HeaderValue::from_static("document"));
    h
}

fn event(link: &Arc<CachedLink>, h: &HeaderMap) -> ClickEvent {
    let ip: IpAddr = "203.0.113.7".parse().unwrap();
    ClickEvent::capture(link.clone(), now_micros(), &Method::GET, h, Some(ip))
}

fn enricher() -> Enricher {
    Enricher::new(
        Arc::new(Classifier::new(ClassifierConfig::default())),
        Arc::new(GeoDb::open(None)),
        Salts::local(),
        Duration::from_secs(300),
    )
}

fn bench(c: &mut Criterion) {
    let link = link();
    let maps: Vec<HeaderMap> = (0..USER_AGENTS.len()).map(headers).collect();

    let mut g = c.benchmark_group("click_path");
    g.throughput(Throughput::Elements(1));
    let (sender, receiver) = ClickSender::channel(1 << 20);
    let mut i = 0;
    g.bench_function("capture", |b| {
        b.iter(|| {
            i += 1;
            sender.send(black_box(event(&link, &maps[i % maps.len()])));
            if i % 4096 == 0 {
                let mut taken = Vec::new();
                receiver.queue.take_all(&mut taken);
            }
        })
    });

    let mut enricher = enricher();
    g.bench_function("enrich", |b| {
        b.iter_batched(
            || {
                event(
                    &link,
                    &maps[{
                        i += 1;
                        i
                    } % maps.len()],
                )
            },
            |ev| black_box(enricher.enrich(ev)),
            BatchSize::SmallInput,
        )
    });

    let records: Vec<_> = (0..250)
        .map(|i| enricher.enrich(event(&link, &maps[i % maps.len()])))
        .collect();
    let refs: Vec<_> = records.iter().collect();
    g.throughput(Throughput::Elements(refs.len() as u64));
    g.bench_function("encode (per 250 rows)", |b| {
        b.iter(|| black_box(store::copy_data(black_box(&refs))))
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
