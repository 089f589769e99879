//! Two instances on one database: a change made through one is seen by the
//! other within a second (PostgreSQL LISTEN/NOTIFY), and at once by itself;
//! one cut off from the database serves from memory, then catches up.

use std::{
    sync::Arc,
    time::{Duration, Instant},
};

use lanterne::links::cache::{self, Lookup};
use serde_json::json;

use crate::{
    chaos::{ChaosProxy, upstream},
    harness::{Options, TestApp, location},
};

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
    let b = a.spawn_beside().await;

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
    let b = a.spawn_beside().await;
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

/// An instance cut off from the database misses the notifications sent
/// meanwhile. While cut off it goes on serving the links it holds; once
/// back, it catches up: links changed or deleted meanwhile are dropped, slugs
/// it knew as unknown are forgotten, and the links nobody touched stay in
/// memory (no reload, no burst of database reads, no error page).
#[tokio::test]
async fn an_instance_cut_off_serves_from_memory_then_catches_up() {
    let a = TestApp::spawn().await;
    let proxy = ChaosProxy::start(upstream()).await;
    let b = TestApp::spawn_with(Options {
        database: Some(a.database.clone()),
        database_url: Some(proxy.url(&a.database)),
        ..Options::default()
    })
    .await;
    let mut ids = Vec::new();
    for slug in ["kept", "changed", "deleted"] {
        let link = a
            .new_link(json!({"destination": format!("https://{slug}.example/"), "slug": slug}))
            .await;
        ids.push(link["id"].as_i64().unwrap());
    }
    let domain_id: i32 = sqlx::query_scalar("select domain_id from links where id = $1")
        .bind(ids[0])
        .fetch_one(&a.db)
        .await
        .unwrap();
    let held = |slug: &str| match b.state.cache.get(&cache::key(domain_id, slug)) {
        Lookup::Hit(link) => Some(link),
        _ => None,
    };
    // B holds the three links in memory (a read that raced a notification
    // is not kept: visit until it is) and knows "later" is unknown.
    for slug in ["kept", "changed", "deleted"] {
        within_a_second(async || b.visit(slug).await.status() == 302 && held(slug).is_some()).await;
    }
    assert_eq!(b.visit("later").await.status(), 404);
    let kept = held("kept").expect("B holds the link");

    proxy.cut();
    a.update_link(
        ids[1],
        json!({"destination": "https://changed-again.example/"}),
    )
    .await;
    let del = a
        .client
        .delete(format!("{}/api/v1/links/{}", a.address, ids[2]))
        .bearer_auth(&a.token)
        .send()
        .await
        .unwrap();
    assert_eq!(del.status(), 204);
    a.new_link(json!({"destination": "https://later.example/", "slug": "later"}))
        .await;

    // Cut off: what B holds is all it has, and it serves it.
    assert_eq!(location(&b.visit("kept").await), "https://kept.example/");
    assert_eq!(
        location(&b.visit("changed").await),
        "https://changed.example/"
    );
    assert_eq!(b.visit("deleted").await.status(), 302);
    // A resync the database cannot answer changes nothing.
    assert!(b.state.cache.resync(&b.state.pool).await.is_err());
    assert!(held("changed").is_some() && held("deleted").is_some());

    proxy.restore();
    let start = Instant::now();
    loop {
        let changed = b.visit("changed").await;
        if changed.status() == 302
            && location(&changed) == "https://changed-again.example/"
            && b.visit("deleted").await.status() == 404
            && b.visit("later").await.status() == 302
        {
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(15),
            "B did not catch up after the database came back"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let still = held("kept").expect("an untouched link stays in memory");
    assert!(
        Arc::ptr_eq(&kept, &still),
        "the untouched link was kept, not read again"
    );
    assert_eq!(location(&b.visit("kept").await), "https://kept.example/");
}

#[tokio::test]
async fn concurrent_misses_of_one_slug_share_one_database_read() {
    let a = TestApp::spawn().await;
    let b = a.spawn_beside().await;
    // Created through A after B warmed its cache: B has never read it. The
    // marker's change is notified after it: once B sees it, B is done with
    // notifications (each one starts a new generation of reads).
    let marker = a
        .new_link(json!({"destination": "https://one.example/", "slug": "marker"}))
        .await;
    a.new_link(json!({"destination": "https://viral.example/", "slug": "viral"}))
        .await;
    a.update_link(
        marker["id"].as_i64().unwrap(),
        json!({"destination": "https://two.example/"}),
    )
    .await;
    within_a_second(async || {
        let res = b.visit("marker").await;
        res.status() == 302 && location(&res) == "https://two.example/"
    })
    .await;
    let before = b.state.cache.loads();

    // The database holds every read of `links` until the lock goes, so all
    // the requests below miss while the first read is still waiting.
    let mut lock = a.db.begin().await.unwrap();
    sqlx::query("lock table links in access exclusive mode")
        .execute(&mut *lock)
        .await
        .unwrap();
    let visits: Vec<_> = (0..40)
        .map(|i| {
            let slug = if i % 2 == 0 { "viral" } else { "nowhere" };
            let (client, url) = (b.client.clone(), format!("{}/{slug}", b.address));
            tokio::spawn(async move { client.get(url).send().await.unwrap().status() })
        })
        .collect();
    // Every request is in: waiting on one read per slug.
    let waiting = async || {
        sqlx::query_scalar::<_, i64>(
            "select count(*) from pg_stat_activity where datname = current_database() \
             and wait_event_type = 'Lock' and query like '%slug_key%'",
        )
        .fetch_one(&b.db)
        .await
        .unwrap()
    };
    let start = Instant::now();
    while waiting().await < 2 {
        assert!(
            start.elapsed() < Duration::from_secs(5),
            "the reads never started"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(waiting().await, 2, "one read per slug, not one per request");
    lock.rollback().await.unwrap();

    for (i, visit) in visits.into_iter().enumerate() {
        let want = if i % 2 == 0 { 302 } else { 404 };
        assert_eq!(visit.await.unwrap(), want);
    }
    assert_eq!(b.state.cache.loads() - before, 2);
    // Both answers are now in memory.
    assert_eq!(b.visit("viral").await.status(), 302);
    assert_eq!(b.visit("nowhere").await.status(), 404);
    assert_eq!(b.state.cache.loads() - before, 2);
}

#[tokio::test]
async fn a_stalled_database_answers_a_miss_with_503_within_the_miss_timeout() {
    let a = TestApp::spawn().await;
    let proxy = ChaosProxy::start(upstream()).await;
    let b = TestApp::spawn_with(Options {
        database: Some(a.database.clone()),
        database_url: Some(proxy.url(&a.database)),
        tweak: Box::new(|s| {
            s.cache.miss_timeout = Duration::from_millis(500);
            // Only the miss timeout bounds the wait (not the pool's).
            s.database.acquire_timeout = Duration::from_secs(60);
        }),
        ..Options::default()
    })
    .await;
    a.new_link(json!({"destination": "https://later.example/", "slug": "later"}))
        .await;

    // Connections stay open and nothing goes through: without a bound, the
    // read (and every request waiting on it) would hang for minutes.
    proxy.stall();
    let start = Instant::now();
    let visits: Vec<_> = (0..5)
        .map(|_| {
            let (client, url) = (b.client.clone(), format!("{}/later", b.address));
            tokio::spawn(async move { client.get(url).send().await.unwrap() })
        })
        .collect();
    for visit in visits {
        let res = tokio::time::timeout(Duration::from_secs(5), visit)
            .await
            .expect("a redirect on a stalled database is answered")
            .unwrap();
        assert_eq!(res.status(), 503);
        assert_eq!(res.headers()["retry-after"], "5");
    }
    let took = start.elapsed();
    assert!(
        took >= Duration::from_millis(500) && took < Duration::from_secs(3),
        "answered after the miss timeout, not before and not much later: {took:?}"
    );
    // Nothing was remembered: once the database is back, the link is found.
    proxy.cut();
    proxy.restore();
    let start = Instant::now();
    while b.visit("later").await.status() != 302 {
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "the link was never found"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(location(&b.visit("later").await), "https://later.example/");
}
