//! CPU of one redirect inside the server, off the network: the front
//! service (`src/http/front.rs`), the redirect handler (domain, cache lookup, UTM'd `Location`, click
//! capture and queueing, metrics) and the response, for a link in memory.
//! `cargo bench --bench redirect_handler`. The socket work and the click
//! writer are not in it: `bench/redirect.sh` measures the whole server, and
//! `benches/click_path.rs` the writer's share per click.
//!
//! The database pool is never connected: a link in memory needs none.

use std::{
    future::Future,
    hint::black_box,
    net::SocketAddr,
    pin::pin,
    task::{Context, Poll, Waker},
    time::{Duration, Instant},
};

use axum::{
    body::Body,
    http::{HeaderValue, Request, StatusCode, header},
};
use criterion::{Criterion, criterion_group, criterion_main};
use lanterne::{
    clicks::{ClickEvent, ClickSender},
    config,
    domains::{Domain, Domains},
    http::{self, front::Front},
    links::{Link, cache::LinkCache},
    state::{AppState, Inner},
    telemetry::{self, RedirectMetrics},
};
use sqlx::postgres::PgPoolOptions;
use tower::Service;

// The server's allocator (src/main.rs), so that the figures are the server's.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

const UA: &str = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1";

fn link() -> Link {
    let now = time::OffsetDateTime::now_utc();
    Link {
        id: 42,
        domain_id: 1,
        domain: "lnt.example".into(),
        slug: "Y3nsu8t".into(),
        slug_kind: "generated".into(),
        destination: "https://shop.example/p?id=7".into(),
        utm_source: Some("whatsapp".into()),
        utm_medium: Some("social".into()),
        utm_campaign: None,
        utm_term: None,
        utm_content: None,
        tags: vec![],
        title: None,
        channel: None,
        parent_id: None,
        preview_title: None,
        preview_description: None,
        preview_image_url: None,
        expires_at: None,
        enabled: true,
        created_by: None,
        created_at: now,
        updated_at: now,
    }
}

/// What a phone's browser sends when a shared link is tapped.
fn request() -> Request<Body> {
    Request::get("/Y3nsu8t")
        .header(header::HOST, "lnt.example")
        .header(header::USER_AGENT, UA)
        .header(header::ACCEPT, "text/html,application/xhtml+xml")
        .header(header::ACCEPT_LANGUAGE, "fr-FR,fr;q=0.9")
        .header("sec-fetch-site", "none")
        .header("sec-fetch-mode", "navigate")
        .header("sec-fetch-dest", "document")
        .body(Body::empty())
        .unwrap()
}

/// Polls a future that must be ready at once: a redirect to a link in
/// memory never waits.
fn ready<F: Future>(f: F) -> F::Output {
    let mut f = pin!(f);
    match f.as_mut().poll(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(out) => out,
        Poll::Pending => panic!("a redirect from memory waited"),
    }
}

fn bench(c: &mut Criterion) {
    // The pool's background task needs a runtime to belong to.
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let _runtime = rt.enter();
    let mut settings = config::load_from(&[]).expect("default settings");
    settings.server.public_base_url = "http://lnt.example".parse().unwrap();
    let pool = PgPoolOptions::new()
        .connect_lazy("postgres://bench@127.0.0.1:1/never")
        .unwrap();
    let cache = std::sync::Arc::new(LinkCache::new(&settings.cache));
    cache.put(&link());
    let domains = Domains::new(
        settings.server.public_base_url.clone(),
        vec![Domain {
            id: 1,
            host: "lnt.example".into(),
        }],
    );
    let (clicks, receiver) = ClickSender::channel(settings.clicks.queue_capacity);
    let links = lanterne::links::Links::new(
        pool.clone(),
        cache.clone(),
        domains.clone(),
        settings.slugs.clone(),
    );
    let state = AppState::new(Inner {
        links,
        redirect_cache_control: HeaderValue::from_static("no-store"),
        redirect_status: StatusCode::FOUND,
        redirect_metrics: RedirectMetrics::register(),
        accounts: lanterne::users::identity::Accounts::new(&settings),
        db_health: lanterne::db_health::DbHealth::new(),
        served_hosts: domains.hosts(),
        metrics: telemetry::metrics_handle(),
        cache,
        pool,
        settings,
        domains,
        clicks,
    });
    let peer: SocketAddr = "203.0.113.7:50123".parse().unwrap();
    // What a connection of the server talks to (src/http/front.rs).
    let mut router = Front::new(http::router(state.clone()), state, peer);
    let res = ready(router.call(request())).unwrap();
    assert_eq!(
        res.status(),
        StatusCode::FOUND,
        "the link is served from memory"
    );

    let mut taken: Vec<ClickEvent> = Vec::new();
    // The yardstick of bench/redirect.sh: axum answering a constant 302.
    let mut baseline = axum::Router::new().route(
        "/{slug}",
        axum::routing::get(|| async {
            (
                StatusCode::FOUND,
                [(header::LOCATION, "https://shop.example/p?id=7")],
            )
        }),
    );
    c.bench_function("redirect_handler/baseline_constant_302", |b| {
        b.iter_custom(|iters| timed(iters, |req| drop(black_box(ready(baseline.call(req))))))
    });
    c.bench_function("redirect_handler/hit", |b| {
        b.iter_custom(|iters| {
            let mut queued = 0;
            timed(iters, |req| {
                drop(black_box(ready(router.call(req))));
                // The writer's share is measured elsewhere: an amortised
                // emptying of the queue stands for its drain.
                queued += 1;
                if queued == 1024 {
                    receiver.queue.take_all(&mut taken);
                    taken.clear();
                    queued = 0;
                }
            })
        })
    });
}

/// Time of `iters` calls of `serve`, each on a new request built outside
/// the timing.
fn timed(iters: u64, mut serve: impl FnMut(Request<Body>)) -> Duration {
    let mut spent = Duration::ZERO;
    let mut left = iters;
    while left > 0 {
        let n = left.min(1024);
        let reqs: Vec<_> = (0..n).map(|_| request()).collect();
        let start = Instant::now();
        for req in reqs {
            serve(req);
        }
        spent += start.elapsed();
        left -= n;
    }
    spent
}

criterion_group!(benches, bench);
criterion_main!(benches);
