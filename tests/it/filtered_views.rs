//! Filtered views stay fast at any volume: a filter on one dimension (the
//! channel aside) is counted exactly from that dimension's rollup rows —
//! totals, channels, series and its own breakdown — and the other
//! breakdowns come from raw clicks within `stats.raw_budget`, or are left
//! out with `partial: true` (the page says so). Several such filters need
//! raw clicks for everything: past the budget, a 422. The budget is cut to
//! 1 ms here so that 20,000 clicks exceed it on any machine.

use std::time::Duration;

use serde_json::{Value, json};

use crate::harness::{Options, TestApp};
use lanterne::{clicks, users::Role};

async fn spawn(budget: Duration) -> TestApp {
    TestApp::spawn_with(Options {
        tweak: Box::new(move |s| s.stats.raw_budget = budget),
        ..Options::default()
    })
    .await
}

async fn seeded(app: &TestApp, count: u64) -> i64 {
    let link = app
        .new_link(json!({"destination": "https://shop.example/f"}))
        .await;
    let id = link["id"].as_i64().unwrap();
    clicks::store::ensure_partitions_from(&app.db, 30)
        .await
        .unwrap();
    clicks::seed::seed(&app.db, &[(id, [None, None, None])], (count, 30, 5))
        .await
        .unwrap();
    id
}

async fn stats(app: &TestApp, query: &str) -> (u16, Value) {
    let res = app
        .api_get(&format!(
            "/api/v1/stats?from=2000-01-01&to=2100-01-01&{query}"
        ))
        .await;
    (res.status().as_u16(), res.json().await.unwrap())
}

/// The clicks of a list of rows, summed.
fn clicks_in(rows: &Value) -> i64 {
    rows.as_array()
        .unwrap()
        .iter()
        .map(|r| r["clicks"].as_i64().unwrap())
        .sum()
}

fn row<'a>(rows: &'a Value, value: &str) -> &'a Value {
    rows.as_array()
        .unwrap()
        .iter()
        .find(|r| r["value"] == value)
        .unwrap_or_else(|| panic!("no {value} in {rows}"))
}

#[tokio::test]
async fn one_filter_over_a_busy_range_is_exact_from_the_rollups_and_says_what_it_leaves_out() {
    let app = spawn(Duration::from_millis(1)).await;
    let id = seeded(&app, 20_000).await;
    let (status, all) = stats(&app, &format!("link_id={id}")).await;
    assert_eq!(status, 200);
    assert_eq!(all["partial"], false, "no filter: nothing left out");
    let fr = row(&all["countries"], "FR");

    let (status, only) = stats(&app, &format!("link_id={id}&country=FR")).await;
    assert_eq!(status, 200, "{only}");
    assert_eq!(only["partial"], true, "the 1 ms budget is exceeded");
    assert_eq!(only["totals"]["clicks"], fr["clicks"], "exact clicks");
    assert_eq!(only["totals"]["visitors"], fr["visitors"], "and visitors");
    let by_channel = clicks_in(&only["channels"]);
    assert_eq!(by_channel, fr["clicks"].as_i64().unwrap());
    let in_series: i64 = only["timeseries"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|b| b["channels"].as_object().unwrap().values())
        .map(|v| v.as_i64().unwrap())
        .sum();
    assert_eq!(in_series, fr["clicks"].as_i64().unwrap(), "the series too");
    assert_eq!(only["countries"], json!([fr]), "its own breakdown");
    assert_eq!(only["sources"], json!([]), "the others are left out");
    assert_eq!(
        only["totals"]["bots"], all["totals"]["bots"],
        "bots are not broken down by country"
    );

    // The same filter with a budget large enough: nothing left out.
    let roomy = spawn_beside_with_budget(&app, Duration::from_secs(30)).await;
    let (status, full) = stats(&roomy, &format!("link_id={id}&country=FR")).await;
    assert_eq!(status, 200);
    assert_eq!(full["partial"], false);
    assert_eq!(full["totals"], only["totals"], "raw and rollups agree");
    assert_eq!(full["channels"], only["channels"]);
    let sources = clicks_in(&full["sources"]);
    assert_eq!(
        sources,
        fr["clicks"].as_i64().unwrap(),
        "every FR click has a source row"
    );

    // Several filters need raw clicks for everything: refused past the budget.
    let (status, body) = stats(&app, &format!("link_id={id}&country=FR&device=mobile")).await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["error"]["code"], "filters_too_broad", "{body}");
    let (status, both) = stats(&roomy, &format!("link_id={id}&country=FR&device=mobile")).await;
    assert_eq!(status, 200, "{both}");
    assert!(both["totals"]["clicks"].as_i64() < fr["clicks"].as_i64());

    // A breakdown left out cannot be downloaded either; the filtered one can.
    let csv = |name: &str| {
        format!("/api/v1/stats/{name}.csv?link_id={id}&from=2000-01-01&to=2100-01-01&country=FR")
    };
    assert_eq!(app.api_get(&csv("sources")).await.status(), 422);
    let countries = app.api_get(&csv("countries")).await;
    assert_eq!(countries.status(), 200);
    assert!(countries.text().await.unwrap().contains("FR,"));

    // The page says what it leaves out.
    let user = app.user(Role::Viewer, Some("a long password 1")).await;
    let secret = app
        .sign_in(&user.email, "a long password 1", "127.0.0.1")
        .await
        .unwrap();
    let page = app
        .get_with_session(
            &format!("/links/{id}?range=custom&from=2000-01-01&to=2099-12-31&country=FR"),
            &secret,
        )
        .await;
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(
        html.contains("the tables of the other dimensions would take too long"),
        "the page says the other tables are left out"
    );
}

async fn spawn_beside_with_budget(app: &TestApp, budget: Duration) -> TestApp {
    TestApp::spawn_with(Options {
        database: Some(app.database.clone()),
        tweak: Box::new(move |s| s.stats.raw_budget = budget),
        ..Options::default()
    })
    .await
}

#[tokio::test]
async fn a_page_left_partial_says_so_in_a_real_browser_and_stays_accessible() {
    let app = spawn(Duration::from_millis(1)).await;
    let id = seeded(&app, 20_000).await;
    let (_, only) = stats(&app, &format!("link_id={id}&country=FR")).await;
    let password = "correct horse battery";
    let viewer = app.user(Role::Viewer, Some(password)).await;
    let b = crate::browser::Browser::start().await;
    let path = format!("/links/{id}?range=90d&country=FR&tz=UTC");
    b.open(&app, &path).await;
    b.sign_in(&app, &viewer.email, password).await;
    b.open(&app, &path).await;
    b.wait_for_text("the tables of the other dimensions would take too long")
        .await;
    let text = b.text().await;
    assert!(text.contains("Dark social") && text.contains("Direct"));
    assert!(
        text.contains("Left out for this filter over this range"),
        "the left-out tables say so rather than \"nothing in this period\""
    );
    let countries = b.text_of("#countries").await;
    assert!(
        countries.contains("FR"),
        "the filtered dimension's table: {countries}"
    );
    assert!(
        text.contains(&format_thousands(
            only["totals"]["clicks"].as_i64().unwrap()
        )),
        "the exact total is shown"
    );
    b.assert_accessible("/links/{id} (filtered, partial)").await;
    b.screenshot_full("dashboard-filtered-partial").await;
    b.close().await;

    let phone = crate::browser::Browser::with_size(390, 844).await;
    phone.open(&app, &path).await;
    phone.sign_in(&app, &viewer.email, password).await;
    phone.open(&app, &path).await;
    phone
        .wait_for_text("the tables of the other dimensions would take too long")
        .await;
    phone
        .screenshot_full("dashboard-filtered-partial-phone")
        .await;
    assert!(phone.fits_width().await, "no sideways scrolling on a phone");
    phone.close().await;
}

/// `12345` as the page writes it (`12,345`).
fn format_thousands(n: i64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}
