//! A real database outage during redirects: the TCP link to PostgreSQL is
//! cut, redirects go on from memory, and afterwards every click is stored
//! exactly once.

use std::time::Duration;

use futures_util::future::join_all;
use lanterne::clicks::FlushError;
use serde_json::json;

use crate::{
    chaos::{ChaosProxy, upstream},
    harness::{Options, TestApp, create_database},
};

async fn redirect_many(app: &TestApp, slug: &str, n: usize) {
    for chunk in (0..n).collect::<Vec<_>>().chunks(50) {
        let statuses = join_all(chunk.iter().map(|_| app.visit(slug))).await;
        for res in statuses {
            assert_eq!(res.status(), 302, "redirects never wait on the database");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clicks_made_while_the_database_is_down_are_all_stored_once_it_is_back() {
    let proxy = ChaosProxy::start(upstream()).await;
    let db = create_database().await;
    let app = TestApp::spawn_with(Options {
        database_url: Some(proxy.url(&db)),
        database: Some(db),
        ..Options::default()
    })
    .await;
    let link = app
        .new_link(json!({"destination": "https://shop.example/"}))
        .await;
    let slug = link["slug"].as_str().unwrap();

    redirect_many(&app, slug, 200).await;
    proxy.cut();
    redirect_many(&app, slug, 500).await;

    let flushed = tokio::time::timeout(Duration::from_secs(15), app.state.clicks.flush()).await;
    assert!(
        matches!(flushed, Ok(Err(FlushError::Unavailable(_)))),
        "the database really is unreachable: {flushed:?}"
    );
    let res = app.visit("never-created").await;
    assert_eq!(
        res.status(),
        503,
        "an unknown slug cannot be checked while the database is down"
    );
    assert_eq!(res.headers()["retry-after"], "5");

    proxy.restore();
    redirect_many(&app, slug, 100).await;
    app.flush_clicks_after_outage().await;

    let (rows, ids) = app.clicks_and_ids(link["id"].as_i64().unwrap()).await;
    assert_eq!(rows, 800, "every click of the 800 redirects is stored");
    assert_eq!(ids, 800, "and none twice");
}

/// Lines in the spool directory's segments (sealed or being written).
fn spooled_lines(dir: &std::path::Path) -> usize {
    std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|x| x == "open" || x == "jsonl"))
                .map(|p| {
                    std::fs::read_to_string(p)
                        .unwrap_or_default()
                        .lines()
                        .count()
                })
                .sum()
        })
        .unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn during_an_outage_clicks_reach_the_disk_within_the_bounded_window() {
    let proxy = ChaosProxy::start(upstream()).await;
    let db = create_database().await;
    let app = TestApp::spawn_with(Options {
        database_url: Some(proxy.url(&db)),
        database: Some(db),
        tweak: Box::new(|s| s.clicks.spool_after = Duration::from_millis(300)),
        ..Options::default()
    })
    .await;
    let link = app
        .new_link(json!({"destination": "https://shop.example/"}))
        .await;
    let slug = link["slug"].as_str().unwrap();
    proxy.cut();
    redirect_many(&app, slug, 300).await;
    // Far below clicks.memory_buffer: before, all of them stayed in memory.
    let mut on_disk = 0;
    for _ in 0..40 {
        on_disk = spooled_lines(&app.spool_dir);
        if on_disk >= 300 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(
        on_disk, 300,
        "every click answered is on disk within the window"
    );
    // New clicks of the outage go to disk too.
    redirect_many(&app, slug, 50).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(spooled_lines(&app.spool_dir), 350);

    proxy.restore();
    app.flush_clicks_after_outage().await;
    let (rows, ids) = app.clicks_and_ids(link["id"].as_i64().unwrap()).await;
    assert_eq!((rows, ids), (350, 350), "stored once each after the outage");
}
