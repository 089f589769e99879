//! Rollups: written with each batch, they equal a recount from the raw
//! tables — through an outage, the spool and its replay — and they outlive
//! the raw clicks that retention drops.

use std::time::Duration;

use serde_json::json;
use sqlx::PgPool;
use time::OffsetDateTime;

use crate::{
    chaos::{ChaosProxy, upstream},
    harness::{Options, TestApp, create_database},
    stats_api::send_mix,
};
use lanterne::clicks::store::{self, rollups};

type RollupRow = (
    i64,
    OffsetDateTime,
    String,
    String,
    String,
    String,
    i64,
    i64,
);

async fn snapshot(db: &PgPool) -> Vec<RollupRow> {
    sqlx::query_as(
        "select link_id, hour, kind, channel, dimension, value, events, visitors from click_rollups \
         order by link_id, hour, kind, channel, dimension, value",
    )
    .fetch_all(db)
    .await
    .unwrap()
}

/// Daily rows that differ from the hourly rows summed per UTC day (either way).
async fn daily_mismatches(db: &PgPool) -> i64 {
    sqlx::query_scalar(
        "with h as (select link_id, (hour at time zone 'UTC')::date as day, kind, channel, dimension, value, \
                    sum(events)::int8 as events, sum(visitors)::int8 as visitors from click_rollups group by 1, 2, 3, 4, 5, 6), \
              d as (select link_id, day, kind, channel, dimension, value, events, visitors from click_rollups_daily) \
         select (select count(*) from (select * from h except select * from d) a) \
              + (select count(*) from (select * from d except select * from h) b)",
    )
    .fetch_one(db)
    .await
    .unwrap()
}

/// `link_days` rows that differ from the human `all` daily rows summed per
/// link and UTC day (either way).
pub(crate) async fn link_day_mismatches(db: &PgPool) -> i64 {
    sqlx::query_scalar(
        "with d as (select link_id, day, sum(events)::int8 as clicks, sum(visitors)::int8 as visitors \
                    from click_rollups_daily where kind = 'human' and dimension = 'all' group by 1, 2), \
              l as (select link_id, day, clicks, visitors from link_days) \
         select (select count(*) from (select * from d except select * from l) a) \
              + (select count(*) from (select * from l except select * from d) b)",
    )
    .fetch_one(db)
    .await
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rollups_equal_a_recount_from_raw_clicks_after_an_outage_and_a_spool_replay() {
    let proxy = ChaosProxy::start(upstream()).await;
    let db = create_database().await;
    let tweak = |s: &mut lanterne::config::Settings| {
        s.clicks.batch_size = 4;
        s.clicks.memory_buffer = 6;
        s.server.shutdown_deadline = Duration::from_secs(1);
        s.server.trusted_proxies = vec!["127.0.0.1/32".parse().unwrap()];
    };
    let app = TestApp::spawn_with(Options {
        database_url: Some(proxy.url(&db)),
        database: Some(db.clone()),
        tweak: Box::new(tweak),
        ..Options::default()
    })
    .await;
    let link = app
        .new_link(json!({"destination": "https://shop.example/"}))
        .await;
    let slug = link["slug"].as_str().unwrap().to_owned();
    send_mix(&app, &slug, true).await;
    proxy.cut();
    for _ in 0..3 {
        crate::stats_api::hit(
            &app,
            &slug,
            false,
            crate::harness::IPHONE_SAFARI,
            None,
            "203.0.113.8",
        )
        .await;
        crate::stats_api::hit(
            &app,
            &slug,
            false,
            crate::stats_api::INSTAGRAM_IOS,
            None,
            "203.0.113.1",
        )
        .await;
    }
    let spool_dir = app.spool_dir.clone();
    let report = app.stop().await;
    assert!(report.spooled > 0, "the outage spooled clicks: {report:?}");
    proxy.restore();
    let app = TestApp::spawn_with(Options {
        database: Some(db),
        spool_dir: Some(spool_dir),
        tweak: Box::new(tweak),
        ..Options::default()
    })
    .await;
    app.flush_clicks().await;

    let written = snapshot(&app.db).await;
    let humans: i64 = sqlx::query_scalar("select count(*) from clicks")
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(humans, 16, "10 clicks of the mix and 6 during the outage");
    let rolled: i64 = written
        .iter()
        .filter(|r| r.2 == "human" && r.4 == "all")
        .map(|r| r.6)
        .sum();
    assert_eq!(rolled, humans, "every click rolled up once");
    let visitors: i64 = written
        .iter()
        .filter(|r| r.2 == "human" && r.4 == "all")
        .map(|r| r.7)
        .sum();
    assert_eq!(visitors, 7, "the 6 visitors of the mix and one new one");

    assert_eq!(
        daily_mismatches(&app.db).await,
        0,
        "daily rows are the hourly rows summed"
    );
    assert_eq!(
        link_day_mismatches(&app.db).await,
        0,
        "each link's days are its daily rows summed"
    );
    let rebuilt = rollups::rebuild(&app.db, OffsetDateTime::UNIX_EPOCH)
        .await
        .unwrap();
    assert!(rebuilt.rows > 0);
    assert_eq!(daily_mismatches(&app.db).await, 0, "and after a rebuild");
    assert_eq!(link_day_mismatches(&app.db).await, 0, "and after a rebuild");
    assert_eq!(
        snapshot(&app.db).await,
        written,
        "the writer's rollups equal a recount"
    );
}

#[tokio::test]
async fn aggregates_outlive_the_raw_clicks_that_retention_drops() {
    let app = crate::stats_api::spawn().await;
    let link = app
        .new_link(json!({"destination": "https://shop.example/"}))
        .await;
    send_mix(&app, link["slug"].as_str().unwrap(), true).await;
    let before = snapshot(&app.db).await;
    assert!(!before.is_empty());
    let dropped = store::drop_partitions_before(
        &app.db,
        OffsetDateTime::now_utc() + time::Duration::days(62),
    )
    .await
    .unwrap();
    assert!(!dropped.is_empty(), "this month's partition is gone");
    assert_eq!(app.clicks_of(link["id"].as_i64().unwrap()).await, 0);
    rollups::rebuild(&app.db, OffsetDateTime::UNIX_EPOCH)
        .await
        .unwrap();
    let after = snapshot(&app.db).await;
    let humans = |rows: &[RollupRow]| {
        rows.iter()
            .filter(|r| r.2 == "human")
            .cloned()
            .collect::<Vec<_>>()
    };
    assert_eq!(
        humans(&after),
        humans(&before),
        "human aggregates kept without raw clicks"
    );
    let res = app
        .api_get(&format!("/api/v1/stats?link_id={}", link["id"]))
        .await;
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(
        body["totals"]["clicks"], 10,
        "the dashboard still counts them"
    );
    let res = app.api_get("/api/v1/stats").await;
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(
        body["links"][0]["clicks"], 10,
        "and the workspace's top links: {}",
        body["links"]
    );
}
