//! The burst rule through the real redirect, writer and PostgreSQL: one
//! "scanner" (one IP through a trusted proxy, one ordinary Chrome
//! User-Agent) opening four links of one campaign within a second ends as
//! four bots — the clicks stored as human before the burst showed are moved
//! to the bots, whether they were in an earlier batch or in the burst's own —
//! while a person opening links of the same campaign further apart stays
//! human; the rollups equal a recount from the raw tables.
//!
//! The behaviour, as documented publicly: Microsoft Defender for Office 365
//! Safe Links scans the URLs of incoming mail at delivery and at click time
//! (learn.microsoft.com, "Safe Links in Microsoft Defender for Office 365");
//! Proofpoint URL Defense rewrites and sandboxes the links of a mail
//! (proofpoint.com, TAP URL Defense); Mimecast URL Protect rewrites every link
//! and scans the destination (community.mimecast.com, "How Does Targeted
//! Threat Protection - URL Protect Work?"); Barracuda Link Protection rewrites
//! and checks the links (campus.barracuda.com, "Link Protection"). Senders see
//! it as every link of a mail "clicked" within 1–5 seconds of delivery
//! (support.arternal.com, "Smart Mail clickthroughs triggered by email
//! security scanners", naming Safe Links, URL Defense, Mimecast and Barracuda).

use std::time::Duration;

use serde_json::{Value, json};
use time::OffsetDateTime;

use crate::harness::{IPHONE_SAFARI, Options, TestApp};
use lanterne::clicks::store::rollups;

const CHROME: &str = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36";
const SCANNER: &str = "198.51.100.20";
const PERSON: &str = "203.0.113.50";

async fn open(app: &TestApp, slug: &str, ip: &str, ua: &str) {
    let status = app
        .client
        .get(format!("{}/{slug}", app.address))
        .header("x-forwarded-for", ip)
        .header("user-agent", ua)
        .header("accept-language", "en-US,en;q=0.9")
        .header("sec-fetch-site", "none")
        .header("sec-fetch-mode", "navigate")
        .send()
        .await
        .unwrap()
        .status();
    assert_eq!(status, 302, "the redirect does not change");
}

async fn scalar(app: &TestApp, sql: &'static str) -> i64 {
    sqlx::query_scalar(sql).fetch_one(&app.db).await.unwrap()
}

type Row = (
    i64,
    OffsetDateTime,
    String,
    String,
    String,
    String,
    i64,
    i64,
);

async fn rollup_rows(
    app: &TestApp,
) -> (
    Vec<Row>,
    Vec<(OffsetDateTime, String, String, String, String, i64, i64)>,
) {
    let links = sqlx::query_as(
        "select link_id, hour, kind, channel, dimension, value, events, visitors from click_rollups \
         order by link_id, hour, kind, channel, dimension, value",
    )
    .fetch_all(&app.db)
    .await
    .unwrap();
    let workspace = sqlx::query_as(
        "select hour, kind, channel, dimension, value, events, visitors from workspace_rollups \
         order by hour, kind, channel, dimension, value",
    )
    .fetch_all(&app.db)
    .await
    .unwrap();
    (links, workspace)
}

#[tokio::test]
async fn a_scanner_opening_every_link_of_a_campaign_is_all_bots_and_a_person_stays_human() {
    let app = TestApp::spawn_with(Options {
        tweak: Box::new(|s| {
            s.server.trusted_proxies = vec!["127.0.0.1/32".parse().unwrap()];
            s.attribution.burst_window = Duration::from_secs(1);
            s.attribution.burst_links = 3;
        }),
        ..Options::default()
    })
    .await;
    let mut slugs = Vec::new();
    let mut ids = Vec::new();
    for i in 0..4 {
        let link = app
            .new_link(json!({
                "destination": format!("https://shop.example/{i}"),
                "utm": {"source": "newsletter", "medium": "email", "campaign": "spring"},
            }))
            .await;
        slugs.push(link["slug"].as_str().unwrap().to_owned());
        ids.push(link["id"].as_i64().unwrap());
    }

    // The scanner's first link is stored as a click (nothing shows yet)...
    open(&app, &slugs[0], SCANNER, CHROME).await;
    app.flush_clicks().await;
    assert_eq!(scalar(&app, "select count(*) from clicks").await, 1);
    // ...then three more within the second: the second is in the same batch
    // as the third, which completes the burst; the fourth continues it.
    for slug in &slugs[1..] {
        open(&app, slug, SCANNER, CHROME).await;
    }
    // The same scanner reopening a link is still part of its burst.
    open(&app, &slugs[0], SCANNER, CHROME).await;
    // A person: two links of the campaign at once (two are no burst), a third
    // later than the window.
    open(&app, &slugs[0], PERSON, IPHONE_SAFARI).await;
    open(&app, &slugs[1], PERSON, IPHONE_SAFARI).await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    open(&app, &slugs[2], PERSON, IPHONE_SAFARI).await;
    app.flush_clicks().await;

    let scanner_clicks =
        sqlx::query_scalar::<_, i64>("select count(*) from clicks where user_agent = $1")
            .bind(CHROME)
            .fetch_one(&app.db)
            .await
            .unwrap();
    assert_eq!(
        scanner_clicks, 0,
        "none of the scanner's requests is a click"
    );
    assert_eq!(
        scalar(&app, "select count(*) from clicks").await,
        3,
        "the person's"
    );
    let bots: Vec<(String, Option<String>)> =
        sqlx::query_as("select kind, source from filtered_requests order by occurred_at")
            .fetch_all(&app.db)
            .await
            .unwrap();
    assert_eq!(
        bots,
        vec![("bot".to_owned(), None); 5],
        "the scanner's five requests"
    );
    assert_eq!(
        scalar(&app, "select count(*) from visitor_days").await,
        3,
        "the scanner's visitors are forgotten, the person's kept"
    );

    let res = app.api_get("/api/v1/stats").await;
    assert_eq!(res.status().as_u16(), 200);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["totals"]["clicks"], 3, "{body}");
    assert_eq!(body["totals"]["visitors"], 3, "{body}");
    assert_eq!(body["totals"]["bots"], 5, "{body}");
    let res = app
        .api_get(&format!("/api/v1/stats?link_id={}", ids[0]))
        .await;
    let first: Value = res.json().await.unwrap();
    assert_eq!(first["totals"]["clicks"], 1, "{first}");
    assert_eq!(first["totals"]["bots"], 2, "{first}");

    // The rollups the writer and the corrections left equal a recount.
    let written = rollup_rows(&app).await;
    assert!(
        written.0.iter().all(|r| r.6 > 0),
        "no emptied rows are left behind"
    );
    assert_eq!(
        crate::rollups::link_day_mismatches(&app.db).await,
        0,
        "each link's days are its daily rows summed, corrections included"
    );
    assert_eq!(
        scalar(&app, "select count(*) from link_days where clicks <= 0").await,
        0,
        "no emptied link days are left behind"
    );
    rollups::rebuild(&app.db, OffsetDateTime::UNIX_EPOCH)
        .await
        .unwrap();
    assert_eq!(
        rollup_rows(&app).await,
        written,
        "the rollups equal a recount"
    );
    let daily_mismatches = scalar(
        &app,
        "with h as (select link_id, (hour at time zone 'UTC')::date as day, kind, channel, dimension, value, \
                    sum(events)::int8 as events, sum(visitors)::int8 as visitors from click_rollups group by 1, 2, 3, 4, 5, 6), \
              d as (select link_id, day, kind, channel, dimension, value, events, visitors from click_rollups_daily) \
         select (select count(*) from (select * from h except select * from d) a) \
              + (select count(*) from (select * from d except select * from h) b)",
    )
    .await;
    assert_eq!(daily_mismatches, 0, "daily rows are the hourly rows summed");
}
