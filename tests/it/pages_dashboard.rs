//! The dashboard in a real browser: the figures of `/links/{id}`, `/` and
//! `/campaigns/{name}` are those of the stats API for the same view; a row
//! or card filters the whole page and shows as a removable chip carried by
//! the URL; range presets; visitor-sent and marketer-typed text is shown as
//! text; axe-core finds no serious violation; desktop and phone screenshots.

use fantoccini::Locator;
use lanterne::users::Role;
use serde_json::{Value, json};

use crate::{
    browser::Browser,
    harness::{IPHONE_SAFARI, TestApp},
    stats_api::{hit, send_mix, spawn},
};

const PASSWORD: &str = "correct horse battery";
const XSS: &str = "<script>window.pwned=1</script>";

/// The text of the first element matching `css`.
async fn text_of(b: &Browser, css: &str) -> String {
    b.text_of(css).await
}

/// A figure as the page writes it (`1,234`) read back as a number.
fn number(s: &str) -> i64 {
    s.chars()
        .filter(char::is_ascii_digit)
        .collect::<String>()
        .parse()
        .unwrap_or_else(|_| panic!("a number: {s:?}"))
}

async fn card(b: &Browser, class: &str) -> i64 {
    number(&text_of(b, &format!(".stat.{class} .stat-value")).await)
}

async fn api_stats(app: &TestApp, query: &str) -> Value {
    let res = app.api_get(&format!("/api/v1/stats?{query}")).await;
    assert_eq!(res.status(), 200);
    res.json().await.unwrap()
}

#[tokio::test]
async fn the_link_dashboard_shows_the_apis_figures_and_filters_by_what_is_clicked() {
    let app = spawn().await;
    let link = app
        .new_link(json!({
            "destination": "https://shop.example/",
            "tags": ["spring"],
            "utm": {"campaign": XSS},
        }))
        .await;
    let id = link["id"].as_i64().unwrap();
    send_mix(&app, link["slug"].as_str().unwrap(), true).await;
    // A visitor-sent Referer and User-Agent with markup in them.
    hit(
        &app,
        link["slug"].as_str().unwrap(),
        false,
        "<script>window.pwned=2</script> Mozilla/5.0",
        Some("https://news.example.org/<script>window.pwned=3</script>"),
        "203.0.113.20",
    )
    .await;
    hit(
        &app,
        link["slug"].as_str().unwrap(),
        false,
        IPHONE_SAFARI,
        None,
        "203.0.113.21",
    )
    .await;
    app.flush_clicks().await;
    let api = api_stats(&app, &format!("link_id={id}&tz=UTC")).await;
    let totals = &api["totals"];
    assert!(totals["dark_social"].as_i64().unwrap() > 0, "{api}");
    assert!(totals["direct"].as_i64().unwrap() > 0, "{api}");

    let viewer = app.user(Role::Viewer, Some(PASSWORD)).await;
    let b = Browser::start().await;
    b.open(&app, &format!("/links/{id}?tz=UTC")).await;
    b.sign_in(&app, &viewer.email, PASSWORD).await;
    b.open(&app, &format!("/links/{id}?tz=UTC")).await;
    b.wait_for_text("Statistics").await;
    let text = b.text().await;
    assert!(
        text.contains("Dark social") && text.contains("Direct"),
        "{text}"
    );
    for (class, key) in [
        ("humans", "clicks"),
        ("visitors", "visitors"),
        ("dark-social", "dark_social"),
        ("direct", "direct"),
        ("shares", "share_events"),
    ] {
        assert_eq!(
            card(&b, class).await,
            totals[key].as_i64().unwrap(),
            "card {class}"
        );
    }
    assert_eq!(
        card(&b, "filtered").await,
        totals["bots"].as_i64().unwrap() + totals["prefetches"].as_i64().unwrap()
    );
    // Every dark-social app of the API is in its table with its count.
    for row in api["dark_social_sources"].as_array().unwrap() {
        let source = row["source"].as_str().unwrap();
        let cell = b
            .client
            .find(Locator::XPath(&format!(
                "//section[@id='dark-social-apps']//tr[th//a[normalize-space()='{source}']]/td[1]"
            )))
            .await
            .unwrap_or_else(|_| panic!("{source} in the dark-social table"))
            .text()
            .await
            .unwrap();
        assert_eq!(number(&cell), row["clicks"].as_i64().unwrap(), "{source}");
    }
    // What visitors and marketers typed is text, never markup.
    assert!(text.contains(XSS), "the campaign is shown as text");
    let pwned = b
        .client
        .execute("return window.pwned === undefined", vec![])
        .await
        .unwrap();
    assert_eq!(pwned, Value::Bool(true), "no script ran");
    assert_eq!(
        b.client
            .find_all(Locator::Css("section.dash script"))
            .await
            .unwrap()
            .len(),
        0
    );
    b.assert_accessible("/links/{id} dashboard").await;
    b.screenshot_full("dashboard-link").await;

    // The Dark social card filters the whole page; the chip removes it.
    b.client
        .find(Locator::Css(".stat.dark-social .stat-label a"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    b.wait_for_text("Filtered by").await;
    let url = b.client.current_url().await.unwrap();
    assert!(
        url.query().unwrap().contains("channel=dark_social"),
        "{url}"
    );
    assert_eq!(
        card(&b, "humans").await,
        totals["dark_social"].as_i64().unwrap()
    );
    assert_eq!(card(&b, "direct").await, 0, "filtered to dark social only");
    let chip = text_of(&b, ".chip").await;
    assert!(chip.contains("Channel: Dark social"), "{chip}");
    // The URL carries the view: opened afresh, it shows the same figures.
    b.client.goto(url.as_str()).await.unwrap();
    assert_eq!(
        card(&b, "humans").await,
        totals["dark_social"].as_i64().unwrap()
    );
    b.client
        .find(Locator::Css(".chip"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    b.wait_for_text("Statistics").await;
    assert!(
        b.client
            .find_all(Locator::Css(".chip"))
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(card(&b, "humans").await, totals["clicks"].as_i64().unwrap());

    // A country row filters too, and combines with a range preset.
    let country = api["countries"][0]["value"].as_str().unwrap().to_owned();
    if country != "unknown" {
        b.click(&country).await;
        b.wait_for_text("Filtered by").await;
        let filtered = api_stats(&app, &format!("link_id={id}&tz=UTC&country={country}")).await;
        assert_eq!(
            card(&b, "humans").await,
            filtered["totals"]["clicks"].as_i64().unwrap()
        );
    }
    b.click("7 days").await;
    b.wait_for_text("Statistics").await;
    let url = b.client.current_url().await.unwrap();
    assert!(url.query().unwrap().contains("range=7d"), "{url}");
    assert_eq!(
        text_of(&b, ".ranges a[aria-current='true']").await,
        "7 days"
    );

    // A bad address says what is wrong and changes nothing.
    b.open(&app, &format!("/links/{id}?tz=Mars/Olympus")).await;
    assert!(b.text().await.contains("tz: unknown time zone"));
    b.close().await;

    // On a phone.
    let phone = Browser::with_size(390, 844).await;
    phone.open(&app, &format!("/links/{id}?tz=UTC")).await;
    phone.sign_in(&app, &viewer.email, PASSWORD).await;
    phone.open(&app, &format!("/links/{id}?tz=UTC")).await;
    phone.wait_for_text("Statistics").await;
    phone.screenshot_full("dashboard-phone").await;
    assert!(phone.fits_width().await, "no sideways scrolling on a phone");
    phone.close().await;
}

#[tokio::test]
async fn the_overview_and_campaign_pages_show_the_whole_scope() {
    let app = spawn().await;
    let a = app
        .new_link(
            json!({"destination": "https://shop.example/a", "utm": {"campaign": "spring sale"}}),
        )
        .await;
    let b_link = app
        .new_link(
            json!({"destination": "https://shop.example/b", "utm": {"campaign": "spring sale"}}),
        )
        .await;
    let other = app
        .new_link(json!({"destination": "https://shop.example/c", "utm": {"campaign": "winter"}}))
        .await;
    send_mix(&app, a["slug"].as_str().unwrap(), true).await;
    for l in [&b_link, &other] {
        hit(
            &app,
            l["slug"].as_str().unwrap(),
            false,
            IPHONE_SAFARI,
            None,
            "203.0.113.30",
        )
        .await;
    }
    app.flush_clicks().await;
    let all = api_stats(&app, "tz=UTC").await;
    let spring = api_stats(&app, "campaign=spring%20sale&tz=UTC").await;
    assert!(all["totals"]["clicks"].as_i64() > spring["totals"]["clicks"].as_i64());

    let editor = app.user(Role::Editor, Some(PASSWORD)).await;
    let b = Browser::start().await;
    b.open(&app, "/?tz=UTC").await;
    b.sign_in(&app, &editor.email, PASSWORD).await;
    b.open(&app, "/?tz=UTC").await;
    b.wait_for_text("Overview").await;
    assert_eq!(
        card(&b, "humans").await,
        all["totals"]["clicks"].as_i64().unwrap()
    );
    assert_eq!(
        card(&b, "dark-social").await,
        all["totals"]["dark_social"].as_i64().unwrap()
    );
    let top = b.text().await;
    assert!(
        top.contains("Top links"),
        "the workspace lists its top links"
    );
    assert!(top.contains("Recent clicks"));
    b.assert_accessible("/ (overview)").await;
    b.screenshot_full("dashboard-overview").await;

    b.open(&app, "/campaigns/spring%20sale?tz=UTC").await;
    b.wait_for_text("spring sale").await;
    assert_eq!(
        card(&b, "humans").await,
        spring["totals"]["clicks"].as_i64().unwrap()
    );
    assert_eq!(
        card(&b, "direct").await,
        spring["totals"]["direct"].as_i64().unwrap()
    );
    b.assert_accessible("/campaigns/{name}").await;
    b.close().await;

    // Signed out, `/` is the served domain's home page.
    let res = app.visit("").await;
    assert_eq!(res.status(), 200);
    assert!(!res.text().await.unwrap().contains("Statistics"));
}
