//! `GET /api/v1/stats` over a known mix of requests sent through the real
//! redirect: every total, channel and source is asserted exactly.

use serde_json::{Value, json};

use crate::harness::{IPHONE_SAFARI, Options, TestApp};

/// Instagram's in-app browser on iOS (uap-core tests/test_ua.yaml family "Instagram").
pub const INSTAGRAM_IOS: &str = "Mozilla/5.0 (iPhone; CPU iPhone OS 16_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 Instagram 302.0.0.23.114 (iPhone14,5; iOS 16_6; fr_FR; fr; scale=3.00; 1170x2532; 523314183)";
/// WhatsApp's link-preview fetcher (crawler-user-agents, "WhatsApp").
pub const WHATSAPP_PREVIEW: &str = "WhatsApp/2.23.20.0 A";
/// Googlebot (crawler-user-agents, "Googlebot\\/").
pub const GOOGLEBOT: &str =
    "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)";

/// An app that believes X-Forwarded-For from the test, so that each
/// simulated visitor has an IP of its own.
pub async fn spawn() -> TestApp {
    TestApp::spawn_with(Options {
        tweak: Box::new(|s| s.server.trusted_proxies = vec!["127.0.0.1/32".parse().unwrap()]),
        ..Options::default()
    })
    .await
}

/// One request to a slug: method, User-Agent, Referer, client IP.
pub async fn hit(app: &TestApp, slug: &str, head: bool, ua: &str, referer: Option<&str>, ip: &str) {
    let url = format!("{}/{slug}", app.address);
    let mut req = if head {
        app.client.head(url)
    } else {
        app.client.get(url)
    };
    req = req.header("user-agent", ua).header("x-forwarded-for", ip);
    if let Some(r) = referer {
        req = req.header("referer", r);
    }
    let status = req.send().await.unwrap().status().as_u16();
    assert!(status == 302 || status == 200, "{ua}: {status}");
}

/// The known mix, in three phases so that the preview is classified after
/// the direct clicks and before the clicks it explains (`flush` between):
/// 3 Instagram in-app clicks (2 visitors), 2 Google search clicks, 1
/// referral, 2 referrerless Safari clicks (direct), 2 Googlebot requests, 1
/// HEAD; then a WhatsApp preview; then 2 referrerless Safari clicks (dark
/// social from WhatsApp, by the recent preview).
pub async fn send_mix(app: &TestApp, slug: &str, flush: bool) {
    for ip in ["203.0.113.1", "203.0.113.1", "203.0.113.2"] {
        hit(app, slug, false, INSTAGRAM_IOS, None, ip).await;
    }
    for _ in 0..2 {
        hit(
            app,
            slug,
            false,
            IPHONE_SAFARI,
            Some("https://www.google.com/"),
            "203.0.113.3",
        )
        .await;
    }
    hit(
        app,
        slug,
        false,
        IPHONE_SAFARI,
        Some("https://blog.example.net/post?id=7"),
        "203.0.113.6",
    )
    .await;
    for _ in 0..2 {
        hit(app, slug, false, IPHONE_SAFARI, None, "203.0.113.4").await;
    }
    for _ in 0..2 {
        hit(app, slug, false, GOOGLEBOT, None, "66.249.66.1").await;
    }
    hit(app, slug, true, IPHONE_SAFARI, None, "203.0.113.7").await;
    if flush {
        app.flush_clicks().await;
    }
    hit(app, slug, false, WHATSAPP_PREVIEW, None, "157.240.0.1").await;
    if flush {
        app.flush_clicks().await;
    }
    for _ in 0..2 {
        hit(app, slug, false, IPHONE_SAFARI, None, "203.0.113.5").await;
    }
    app.flush_clicks().await;
}

async fn stats(app: &TestApp, query: &str) -> (u16, Value) {
    let res = app.api_get(&format!("/api/v1/stats?{query}")).await;
    let status = res.status().as_u16();
    (status, res.json().await.unwrap())
}

fn count(rows: &Value, key: &str, name: &str) -> i64 {
    rows.as_array()
        .unwrap()
        .iter()
        .find(|r| r[key] == name)
        .map(|r| r["clicks"].as_i64().unwrap())
        .unwrap_or(0)
}

#[tokio::test]
async fn the_stats_of_a_known_mix_of_requests_are_exact_for_every_total_channel_and_source() {
    let app = spawn().await;
    let link = app
        .new_link(json!({"destination": "https://shop.example/"}))
        .await;
    let other = app
        .new_link(json!({"destination": "https://shop.example/b"}))
        .await;
    send_mix(&app, link["slug"].as_str().unwrap(), true).await;
    hit(
        &app,
        other["slug"].as_str().unwrap(),
        false,
        INSTAGRAM_IOS,
        None,
        "203.0.113.9",
    )
    .await;
    app.flush_clicks().await;

    let (status, body) = stats(&app, &format!("link_id={}", link["id"])).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body["totals"],
        json!({"clicks": 10, "visitors": 6, "dark_social": 5, "direct": 2,
               "share_events": 1, "bots": 2, "prefetches": 1}),
        "{body}"
    );
    let channels = &body["channels"];
    assert_eq!(count(channels, "channel", "dark_social"), 5);
    assert_eq!(count(channels, "channel", "direct"), 2);
    assert_eq!(count(channels, "channel", "search"), 2);
    assert_eq!(count(channels, "channel", "referral"), 1);
    assert_eq!(channels.as_array().unwrap().len(), 4, "{channels}");
    let sources = &body["dark_social_sources"];
    assert_eq!(count(sources, "source", "instagram"), 3, "{sources}");
    assert_eq!(count(sources, "source", "whatsapp"), 2, "{sources}");
    assert_eq!(sources.as_array().unwrap().len(), 2);
    let evidence = &body["dark_social_evidence"];
    assert_eq!(count(evidence, "signal", "in_app_browser"), 3, "{evidence}");
    assert_eq!(count(evidence, "signal", "recent_preview"), 2, "{evidence}");
    let shares = &body["share_events"][0];
    assert_eq!(
        (
            shares["app"].as_str(),
            shares["previews"].as_i64(),
            shares["clicks"].as_i64()
        ),
        (Some("whatsapp"), Some(1), Some(2))
    );
    assert_eq!(body["previous"]["clicks"], 0);
    let series_total: i64 = body["timeseries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["channels"]["dark_social"].as_i64().unwrap())
        .sum();
    assert_eq!(series_total, 5, "dark social is its own series");
    assert_eq!(count(&body["sources"], "value", "google"), 2);

    let (_, workspace) = stats(&app, "").await;
    assert_eq!(
        workspace["totals"]["clicks"], 11,
        "every link of the workspace"
    );
    assert_eq!(workspace["links"][0]["link_id"], link["id"]);

    let (_, only_dark) = stats(
        &app,
        &format!("link_id={}&channel=dark_social,direct", link["id"]),
    )
    .await;
    assert_eq!(only_dark["totals"]["clicks"], 7);
    assert_eq!(only_dark["totals"]["bots"], 2, "filters apply to clicks");
    let (_, raw) = stats(&app, &format!("link_id={}&source=!instagram", link["id"])).await;
    assert_eq!(
        raw["totals"]["clicks"], 7,
        "a source exclusion counts from raw clicks: {raw}"
    );
    assert_eq!(raw["totals"]["dark_social"], 2);
}

#[tokio::test]
async fn bad_stats_parameters_get_a_400_naming_the_field_and_viewers_may_read() {
    let app = spawn().await;
    for (query, field) in [
        ("link_id=abc", "link_id"),
        ("from=yesterday", "from"),
        ("interval=fortnight", "interval"),
        ("tz=Mars/Olympus_Mons", "tz"),
        ("channel=pigeon", "channel"),
        ("from=2026-02-01&to=2026-01-01", "from"),
    ] {
        let (status, body) = stats(&app, query).await;
        assert_eq!(status, 400, "{query}: {body}");
        assert_eq!(body["error"]["field"], field, "{query}");
    }
    let (status, _) = stats(&app, "link_id=999999").await;
    assert_eq!(status, 404);
    let viewer = app.token(lanterne::users::Role::Viewer).await;
    let res = app
        .client
        .get(format!(
            "{}/api/v1/stats?from=2026-01-01&to=2026-01-31&tz=Europe/Paris",
            app.address
        ))
        .bearer_auth(viewer)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let body: Value = res.json().await.unwrap();
    assert_eq!(
        body["from"], "2025-12-31T23:00:00Z",
        "a date starts at midnight in the time zone"
    );
    assert_eq!(
        body["to"], "2026-01-31T23:00:00Z",
        "the to date is included"
    );
    let res = app
        .client
        .get(format!("{}/api/v1/stats", app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);
}
