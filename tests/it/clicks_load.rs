//! Thousands of concurrent redirects: exactly one stored click for each.

use std::sync::Arc;

use serde_json::json;
use tokio::sync::Semaphore;

use crate::harness::{IPHONE_SAFARI, Options, TestApp};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_concurrent_redirect_is_stored_exactly_once() {
    // A small queue forces the overflow path as well as the normal one.
    let app = TestApp::spawn_with(Options {
        tweak: Box::new(|s| {
            s.clicks.queue_capacity = 64;
            s.clicks.batch_size = 200;
        }),
        ..Options::default()
    })
    .await;
    let link = app
        .new_link(json!({"destination": "https://shop.example/"}))
        .await;
    let url = format!("{}/{}", app.address, link["slug"].as_str().unwrap());
    const REDIRECTS: usize = 4000;
    let limit = Arc::new(Semaphore::new(200));
    let mut tasks = Vec::with_capacity(REDIRECTS);
    for _ in 0..REDIRECTS {
        let permit = limit.clone().acquire_owned().await.unwrap();
        let (client, url) = (app.client.clone(), url.clone());
        tasks.push(tokio::spawn(async move {
            let res = client
                .get(url)
                .header("user-agent", IPHONE_SAFARI)
                .send()
                .await
                .unwrap();
            drop(permit);
            res.status().as_u16()
        }));
    }
    let mut redirected = 0;
    for t in tasks {
        if t.await.unwrap() == 302 {
            redirected += 1;
        }
    }
    assert_eq!(redirected, REDIRECTS, "every request was redirected");
    app.flush_clicks().await;
    let (rows, ids) = app.clicks_and_ids(link["id"].as_i64().unwrap()).await;
    assert_eq!(rows, REDIRECTS as i64, "one click per redirect");
    assert_eq!(ids, rows, "every click has its own id");
}
