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
async fn a_batch_written_twice_is_stored_once_whatever_its_kinds() {
    use lanterne::clicks::{Batch, ClickRecord, StoredAttribution, now_micros, store};
    let app = spawn().await;
    let link = app
        .new_link(json!({"destination": "https://shop.example/"}))
        .await;
    let link_id = link["id"].as_i64().unwrap();
    let record = |i: usize, kind: &str, source: Option<&str>| ClickRecord {
        id: uuid::Uuid::now_v7(),
        occurred_at: now_micros(),
        link_id,
        method: "GET".into(),
        headers: lanterne::clicks::CapturedHeaders {
            user_agent: Some(format!("Mozilla/5.0 tab\there \\ backslash {i}").into()),
            ..Default::default()
        },
        attribution: StoredAttribution {
            kind: kind.into(),
            source: source.map(Into::into),
            evidence: vec!["inapp_ua:instagram".into(), "odd \"quote\", comma".into()].into(),
            visitor_hash: Some([0, 1, 254, 255, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 128, 127]),
            ..Default::default()
        },
    };
    let mut records: Vec<ClickRecord> = (0..50).map(|i| record(i, "human", None)).collect();
    records.push(record(50, "preview", Some("whatsapp")));
    records.push(record(51, "bot", Some("python-requests")));
    records.push(record(52, "prefetch", None));
    let batch = Batch::new(records);
    let no_refusal = |_: &[ClickRecord]| -> std::io::Result<()> { panic!("nothing is refused") };

    let first = store::write_batch(&app.db, &batch, no_refusal)
        .await
        .unwrap();
    assert_eq!((first.rows, first.duplicate), (53, false));
    // The commit went through but its acknowledgement was lost: written again.
    let again = store::write_batch(&app.db, &batch, no_refusal)
        .await
        .unwrap();
    assert_eq!(
        (again.rows, again.duplicate),
        (0, true),
        "the retry adds nothing"
    );

    assert_eq!(app.clicks_of(link_id).await, 50);
    let shares: i64 = sqlx::query_scalar("select count(*) from share_events where link_id = $1")
        .bind(link_id)
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(shares, 1);
    let counts: Vec<(String, i64)> = sqlx::query_as(
        "select kind, requests from link_daily_counts where link_id = $1 order by kind",
    )
    .bind(link_id)
    .fetch_all(&app.db)
    .await
    .unwrap();
    assert_eq!(
        counts,
        vec![("bot".to_owned(), 1), ("prefetch".to_owned(), 1)]
    );
    let (ua, evidence, hash): (String, Vec<String>, Vec<u8>) =
        sqlx::query_as("select user_agent, evidence, visitor_hash from clicks where id = $1")
            .bind(batch.records[7].id)
            .fetch_one(&app.db)
            .await
            .unwrap();
    assert_eq!(
        ua, "Mozilla/5.0 tab\there \\ backslash 7",
        "COPY escaping round-trips"
    );
    assert_eq!(evidence, vec!["inapp_ua:instagram", "odd \"quote\", comma"]);
    assert_eq!(
        hash,
        [0, 1, 254, 255, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 128, 127]
    );
}

#[tokio::test]
async fn refused_events_are_set_aside_before_the_rest_of_their_batch_commits() {
    use lanterne::clicks::{Batch, ClickRecord, StoredAttribution, now_micros, store};
    let app = spawn().await;
    let link = app
        .new_link(json!({"destination": "https://shop.example/"}))
        .await;
    let link_id = link["id"].as_i64().unwrap();
    let record = |ua: String| ClickRecord {
        id: uuid::Uuid::now_v7(),
        occurred_at: now_micros(),
        link_id,
        method: "GET".into(),
        headers: lanterne::clicks::CapturedHeaders {
            user_agent: Some(ua.into()),
            ..Default::default()
        },
        attribution: StoredAttribution {
            kind: "human".into(),
            ..Default::default()
        },
    };
    // NUL bytes: PostgreSQL refuses them in text (SQLSTATE 22021).
    let records: Vec<ClickRecord> = (0..40)
        .map(|i| {
            if i == 3 || i == 31 {
                record(format!("bad\u{0}agent {i}"))
            } else {
                record(format!("Mozilla/5.0 good {i}"))
            }
        })
        .collect();
    let batch = Batch::new(records);
    let mut set_aside = Vec::new();
    let written = store::write_batch(&app.db, &batch, |r: &[ClickRecord]| {
        set_aside.extend(r.iter().map(|r| r.id));
        Ok(())
    })
    .await
    .unwrap();
    assert_eq!(written.rows, 38);
    assert_eq!(set_aside, vec![batch.records[3].id, batch.records[31].id]);
    assert_eq!(app.clicks_of(link_id).await, 38);
    let again = store::write_batch(&app.db, &batch, |_: &[ClickRecord]| Ok(()))
        .await
        .unwrap();
    assert!(again.duplicate, "the batch, refusals included, is done");
    assert_eq!(app.clicks_of(link_id).await, 38);
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

#[tokio::test]
async fn a_preview_on_one_instance_makes_a_click_on_another_dark_social_even_after_a_restart() {
    let a = spawn().await;
    let b = a.spawn_beside().await;
    // A custom slug and no other signal: without the preview, a direct click.
    let link = a
        .new_link(json!({"destination": "https://shop.example/", "slug": "Autumn"}))
        .await;
    let h = [("user-agent", IPHONE_SAFARI), ("sec-fetch-site", "none")];
    assert_eq!(get(&b, "autumn", &h).await, 302);
    b.flush_clicks().await;
    assert_eq!(clicks(&b, &link).await[0].0.as_deref(), Some("direct"));

    // WhatsApp previews the link through A; B is told once A has stored it.
    assert_eq!(
        get(&a, "autumn", &[("user-agent", WHATSAPP_PREVIEW)]).await,
        302
    );
    a.flush_clicks().await;
    let start = std::time::Instant::now();
    loop {
        assert_eq!(get(&b, "autumn", &h).await, 302);
        b.flush_clicks().await;
        let last = clicks(&b, &link).await.pop().unwrap();
        if last.0.as_deref() == Some("dark_social") {
            assert_eq!(last.1.as_deref(), Some("whatsapp"));
            assert!(last.3.contains(&"recent_preview:whatsapp".to_owned()));
            break;
        }
        assert_eq!(last.0.as_deref(), Some("direct"));
        assert!(
            start.elapsed() < std::time::Duration::from_secs(2),
            "B never heard of A's preview"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }

    // An instance started afterwards loads the window from share_events.
    let c = a.spawn_beside().await;
    let before = clicks(&c, &link).await.len();
    let start = std::time::Instant::now();
    loop {
        assert_eq!(get(&c, "autumn", &h).await, 302);
        c.flush_clicks().await;
        let rows = clicks(&c, &link).await;
        let last = rows.last().unwrap();
        if rows.len() > before && last.0.as_deref() == Some("dark_social") {
            assert_eq!(last.1.as_deref(), Some("whatsapp"));
            break;
        }
        assert!(
            start.elapsed() < std::time::Duration::from_secs(2),
            "a new instance did not load the recent preview"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}
