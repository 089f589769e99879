//! Attribution in the pipeline: each request is classified when it is
//! stored — humans become clicks with their channel, source, evidence,
//! geography and visitor hash; previews become share events; bots and
//! prefetches are counted per link and day — and never twice.

use std::path::PathBuf;

use serde_json::{Value, json};

use crate::harness::{IPHONE_SAFARI, Options, TestApp};

/// Instagram's in-app browser on iOS (uap-core tests/test_ua.yaml family "Instagram").
const INSTAGRAM_IOS: &str = "Mozilla/5.0 (iPhone; CPU iPhone OS 16_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 Instagram 302.0.0.23.114 (iPhone14,5; iOS 16_6; fr_FR; fr; scale=3.00; 1170x2532; 523314183)";
/// WhatsApp's link-preview fetcher (crawler-user-agents, "WhatsApp").
const WHATSAPP_PREVIEW: &str = "WhatsApp/2.23.20.0 A";

fn geo_fixture() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/geo-test.mmdb")
}

async fn spawn() -> TestApp {
    TestApp::spawn_with(Options {
        tweak: Box::new(|s| {
            s.server.trusted_proxies = vec!["127.0.0.1/32".parse().unwrap()];
            s.attribution.geo_database = geo_fixture();
        }),
        ..Options::default()
    })
    .await
}

async fn get(app: &TestApp, slug: &str, headers: &[(&str, &str)]) -> u16 {
    let mut req = app.client.get(format!("{}/{slug}", app.address));
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    req.send().await.unwrap().status().as_u16()
}

type ClickRow = (
    Option<String>,
    Option<String>,
    Option<String>,
    Vec<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<Vec<u8>>,
    Option<String>,
);

async fn clicks(app: &TestApp, link: &Value) -> Vec<ClickRow> {
    sqlx::query_as(
        "select channel, source, inapp, evidence, device, country, referrer_host, visitor_hash, utm_campaign \
         from clicks where link_id = $1 order by occurred_at",
    )
    .bind(link["id"].as_i64())
    .fetch_all(&app.db)
    .await
    .unwrap()
}

#[tokio::test]
async fn an_in_app_click_without_referer_is_dark_social_with_its_evidence_and_country() {
    let app = spawn().await;
    let link = app
        .new_link(json!({"destination": "https://shop.example/", "utm": {"campaign": "summer"}}))
        .await;
    let slug = link["slug"].as_str().unwrap();
    let status = get(
        &app,
        slug,
        &[
            ("user-agent", INSTAGRAM_IOS),
            ("x-forwarded-for", "203.0.113.7"),
            ("sec-gpc", "1"),
        ],
    )
    .await;
    assert_eq!(status, 302);
    app.flush_clicks().await;
    let rows = clicks(&app, &link).await;
    assert_eq!(rows.len(), 1);
    let (channel, source, inapp, evidence, device, country, referrer, hash, campaign) =
        rows[0].clone();
    assert_eq!(channel.as_deref(), Some("dark_social"));
    assert_eq!(source.as_deref(), Some("instagram"));
    assert_eq!(inapp.as_deref(), Some("instagram"));
    assert_eq!(
        evidence.first().map(String::as_str),
        Some("inapp_ua:instagram"),
        "{evidence:?}"
    );
    assert_eq!(device.as_deref(), Some("mobile"));
    assert_eq!(
        country.as_deref(),
        Some("FR"),
        "geography from the trusted proxy's X-Forwarded-For"
    );
    assert_eq!(referrer, None);
    assert_eq!(hash, None, "Sec-GPC: no visitor hash");
    assert_eq!(campaign.as_deref(), Some("summer"), "UTM snapshot");
}

#[tokio::test]
async fn a_search_click_keeps_its_referrer_and_a_daily_visitor_hash() {
    let app = spawn().await;
    let link = app
        .new_link(json!({"destination": "https://shop.example/"}))
        .await;
    let slug = link["slug"].as_str().unwrap();
    for _ in 0..2 {
        let h = [
            ("user-agent", IPHONE_SAFARI),
            ("referer", "https://www.google.com/"),
        ];
        assert_eq!(get(&app, slug, &h).await, 302);
    }
    app.flush_clicks().await;
    let rows = clicks(&app, &link).await;
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0].0.as_deref(), Some("search"));
    assert_eq!(rows[0].1.as_deref(), Some("google"));
    assert_eq!(rows[0].6.as_deref(), Some("www.google.com"));
    assert_eq!(rows[0].5, None, "127.0.0.1 has no country");
    let hash = rows[0].7.clone().expect("a visitor hash");
    assert_eq!(hash.len(), 16);
    assert_eq!(
        rows[1].7.as_ref(),
        Some(&hash),
        "same visitor, same day, same hash"
    );
    let salts: i64 = sqlx::query_scalar("select count(*) from visitor_salts")
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(salts, 1, "one salt, today's");
}

#[tokio::test]
async fn a_preview_is_a_share_event_and_makes_the_next_referrerless_click_dark_social() {
    let app = spawn().await;
    // A custom slug, so that Sec-Fetch-Site: none alone would not prove a share.
    let link = app
        .new_link(json!({"destination": "https://shop.example/", "slug": "Summer"}))
        .await;
    assert_eq!(
        get(&app, "Summer", &[("user-agent", WHATSAPP_PREVIEW)]).await,
        302
    );
    let h = [("user-agent", IPHONE_SAFARI), ("sec-fetch-site", "none")];
    assert_eq!(get(&app, "summer", &h).await, 302);
    app.flush_clicks().await;

    let shares: Vec<(String,)> = sqlx::query_as("select app from share_events where link_id = $1")
        .bind(link["id"].as_i64())
        .fetch_all(&app.db)
        .await
        .unwrap();
    assert_eq!(
        shares,
        vec![("whatsapp".to_owned(),)],
        "the preview is a share event"
    );
    let rows = clicks(&app, &link).await;
    assert_eq!(rows.len(), 1, "the preview is not a click");
    assert_eq!(rows[0].0.as_deref(), Some("dark_social"));
    assert_eq!(rows[0].1.as_deref(), Some("whatsapp"));
    assert!(
        rows[0].3.contains(&"recent_preview:whatsapp".to_owned()),
        "{:?}",
        rows[0].3
    );
}

#[tokio::test]
async fn bots_and_prefetches_are_counted_per_day_and_never_as_clicks() {
    let app = spawn().await;
    let link = app
        .new_link(json!({"destination": "https://shop.example/", "slug": "promo"}))
        .await;
    assert_eq!(
        get(&app, "promo", &[("user-agent", "curl/8.5.0")]).await,
        302
    );
    assert_eq!(get(&app, "promo", &[]).await, 302, "no User-Agent at all");
    let h = [
        ("user-agent", IPHONE_SAFARI),
        ("sec-purpose", "prefetch;prerender"),
    ];
    assert_eq!(get(&app, "promo", &h).await, 302);
    let head = app
        .client
        .head(format!("{}/promo", app.address))
        .header("user-agent", IPHONE_SAFARI)
        .send()
        .await
        .unwrap();
    assert_eq!(head.status(), 302);
    app.flush_clicks().await;

    assert!(clicks(&app, &link).await.is_empty(), "no click");
    let counts: Vec<(String, i64)> = sqlx::query_as(
        "select kind, requests from link_daily_counts where link_id = $1 order by kind",
    )
    .bind(link["id"].as_i64())
    .fetch_all(&app.db)
    .await
    .unwrap();
    assert_eq!(
        counts,
        vec![("bot".to_owned(), 2), ("prefetch".to_owned(), 2)]
    );
}

#[tokio::test]
async fn writing_the_same_batch_twice_counts_nothing_twice() {
    use lanterne::clicks::{ClickRecord, store};
    let app = spawn().await;
    let link = app
        .new_link(json!({"destination": "https://shop.example/"}))
        .await;
    let slug = link["slug"].as_str().unwrap();
    get(&app, slug, &[("user-agent", "python-requests/2.31.0")]).await;
    get(&app, slug, &[("user-agent", WHATSAPP_PREVIEW)]).await;
    get(&app, slug, &[("user-agent", IPHONE_SAFARI)]).await;
    app.flush_clicks().await;

    // Rebuild the stored records from the spool format and write them again.
    let records: Vec<ClickRecord> = spooled_copy(&app).await;
    assert_eq!(records.len(), 3);
    let added = store::write_batch(&app.db, &records, true).await.unwrap();
    assert_eq!(added, 0, "a replay adds nothing");
    let bots: i64 = sqlx::query_scalar("select requests from link_daily_counts where link_id = $1")
        .bind(link["id"].as_i64())
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(bots, 1);
}

/// The stored events, as the spool would hold them.
async fn spooled_copy(app: &TestApp) -> Vec<lanterne::clicks::ClickRecord> {
    let rows: Vec<(
        uuid::Uuid,
        time::OffsetDateTime,
        i64,
        String,
        Option<String>,
    )> = sqlx::query_as(
        "select id, occurred_at, link_id, 'human', null::text from clicks \
         union all select id, occurred_at, link_id, 'preview', app from share_events \
         union all select id, occurred_at, link_id, kind, source from filtered_requests",
    )
    .fetch_all(&app.db)
    .await
    .unwrap();
    rows.into_iter()
        .map(
            |(id, occurred_at, link_id, kind, source)| lanterne::clicks::ClickRecord {
                id,
                occurred_at,
                link_id,
                method: "GET".into(),
                headers: Default::default(),
                attribution: lanterne::clicks::StoredAttribution {
                    kind,
                    source,
                    ..Default::default()
                },
            },
        )
        .collect()
}

#[tokio::test]
async fn a_batch_sent_by_copy_and_again_after_a_lost_acknowledgement_is_stored_once() {
    use lanterne::clicks::{ClickRecord, StoredAttribution, now_micros, store};
    let app = spawn().await;
    let link = app
        .new_link(json!({"destination": "https://shop.example/"}))
        .await;
    let batch: Vec<ClickRecord> = (0..50)
        .map(|i| ClickRecord {
            id: uuid::Uuid::now_v7(),
            occurred_at: now_micros(),
            link_id: link["id"].as_i64().unwrap(),
            method: "GET".into(),
            headers: lanterne::clicks::CapturedHeaders {
                user_agent: Some(format!("Mozilla/5.0 tab\there \\ backslash {i}")),
                ..Default::default()
            },
            attribution: StoredAttribution {
                kind: "human".into(),
                evidence: vec!["inapp_ua:instagram".into(), "odd \"quote\", comma".into()],
                visitor_hash: Some(vec![0, 1, 254, 255]),
                ..Default::default()
            },
        })
        .collect();
    assert_eq!(
        store::write_batch(&app.db, &batch, false).await.unwrap(),
        50,
        "COPY path"
    );
    assert_eq!(
        store::write_batch(&app.db, &batch, true).await.unwrap(),
        0,
        "the careful retry adds nothing"
    );
    let (ua, evidence, hash): (String, Vec<String>, Vec<u8>) =
        sqlx::query_as("select user_agent, evidence, visitor_hash from clicks where id = $1")
            .bind(batch[7].id)
            .fetch_one(&app.db)
            .await
            .unwrap();
    assert_eq!(
        ua, "Mozilla/5.0 tab\there \\ backslash 7",
        "COPY escaping round-trips"
    );
    assert_eq!(evidence, vec!["inapp_ua:instagram", "odd \"quote\", comma"]);
    assert_eq!(hash, vec![0, 1, 254, 255]);
}

#[tokio::test]
async fn an_oversized_user_agent_is_a_bot_even_though_only_1_kib_is_stored() {
    let app = spawn().await;
    let link = app
        .new_link(json!({"destination": "https://shop.example/", "slug": "big"}))
        .await;
    let padded = format!("{IPHONE_SAFARI} {}", "x".repeat(3000));
    assert_eq!(get(&app, "big", &[("user-agent", &padded)]).await, 302);
    app.flush_clicks().await;
    assert!(clicks(&app, &link).await.is_empty());
    let bots: i64 = sqlx::query_scalar(
        "select requests from link_daily_counts where link_id = $1 and kind = 'bot'",
    )
    .bind(link["id"].as_i64())
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert_eq!(bots, 1);
}
