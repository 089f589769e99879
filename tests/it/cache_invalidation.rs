//! Two instances on one database: a change made through one is seen by the
//! other within a second (PostgreSQL LISTEN/NOTIFY), and at once by itself.

use std::time::{Duration, Instant};

use serde_json::json;

use crate::harness::{Options, TestApp, location};

/// Polls `check` until it holds or a second has passed; returns the time taken.
async fn within_a_second(mut check: impl AsyncFnMut() -> bool) -> Duration {
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(1) {
        if check().await {
            return start.elapsed();
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    panic!("the other instance did not see the change within a second");
}

#[tokio::test]
async fn a_change_on_one_instance_reaches_the_other_within_a_second() {
    let a = TestApp::spawn().await;
    let b = TestApp::spawn_with(Options {
        database: Some(a.database.clone()),
        ..Options::default()
    })
    .await;

    // B learns a slug is unknown (negative cache), then A creates it.
    assert_eq!(b.visit("fresh").await.status(), 404);
    let link = a
        .new_link(json!({"destination": "https://one.example/", "slug": "fresh"}))
        .await;
    let id = link["id"].as_i64().unwrap();
    assert_eq!(
        location(&a.visit("fresh").await),
        "https://one.example/",
        "at once on A"
    );
    within_a_second(async || b.visit("fresh").await.status() == 302).await;

    // B now holds the link in memory; A changes the destination.
    assert_eq!(location(&b.visit("fresh").await), "https://one.example/");
    assert_eq!(
        a.update_link(id, json!({"destination": "https://two.example/"}))
            .await
            .status(),
        200
    );
    assert_eq!(
        location(&a.visit("fresh").await),
        "https://two.example/",
        "at once on A"
    );
    within_a_second(async || {
        let res = b.visit("fresh").await;
        res.status() == 302 && location(&res) == "https://two.example/"
    })
    .await;

    // A disables it, then deletes it.
    a.update_link(id, json!({"enabled": false})).await;
    assert_eq!(a.visit("fresh").await.status(), 410);
    within_a_second(async || b.visit("fresh").await.status() == 410).await;
    let del = a
        .client
        .delete(format!("{}/api/v1/links/{id}", a.address))
        .bearer_auth(&a.token)
        .send()
        .await
        .unwrap();
    assert_eq!(del.status(), 204);
    assert_eq!(a.visit("fresh").await.status(), 404);
    within_a_second(async || b.visit("fresh").await.status() == 404).await;
}

#[tokio::test]
async fn renaming_a_slug_frees_the_old_address_everywhere() {
    let a = TestApp::spawn().await;
    let b = TestApp::spawn_with(Options {
        database: Some(a.database.clone()),
        ..Options::default()
    })
    .await;
    let link = a
        .new_link(json!({"destination": "https://one.example/", "slug": "old-name"}))
        .await;
    within_a_second(async || b.visit("old-name").await.status() == 302).await;
    a.update_link(link["id"].as_i64().unwrap(), json!({"slug": "new-name"}))
        .await;
    assert_eq!(a.visit("old-name").await.status(), 404);
    within_a_second(async || b.visit("old-name").await.status() == 404).await;
    within_a_second(async || b.visit("new-name").await.status() == 302).await;
}
