//! The link form's preview card (fields, the chat mock kept in step as one
//! types, markup shown as text, the card on the link page), saved UTM
//! presets (save, apply in place and without JavaScript, delete; viewers
//! cannot save), and the link list's clicks column and sort — in a real
//! browser, with axe-core on every page and phone-sized screenshots.

use fantoccini::Locator;
use lanterne::users::Role;
use serde_json::{Value, json};

use crate::{browser::Browser, harness::TestApp};

const PASSWORD: &str = "correct horse battery";

async fn count(app: &TestApp, table: &str) -> i64 {
    sqlx::query_scalar(sqlx::AssertSqlSafe(format!("select count(*) from {table}")))
        .fetch_one(&app.db)
        .await
        .unwrap()
}

async fn text_of(b: &Browser, css: &str) -> String {
    b.client
        .find(Locator::Css(css))
        .await
        .unwrap_or_else(|_| panic!("an element {css}"))
        .text()
        .await
        .unwrap()
}

async fn session(b: &Browser) -> String {
    b.client
        .get_named_cookie("lanterne_session")
        .await
        .unwrap()
        .value()
        .to_owned()
}

/// Scrolls the page so that `css` is at the top.
async fn scroll_to(b: &Browser, css: &str) {
    b.client
        .execute(
            "document.querySelector(arguments[0]).scrollIntoView({block: 'start'}); window.scrollBy(0, -110);",
            vec![json!(css)],
        )
        .await
        .unwrap();
}

/// Asserts that no element is wider than the viewport.
async fn fits(b: &Browser, page: &str) {
    let wide: Value = b
        .client
        .execute(
            "return [...document.querySelectorAll('body *')]
               .filter(e => e.getBoundingClientRect().right > document.documentElement.clientWidth + 1)
               .map(e => e.tagName + '.' + e.className);",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(wide, json!([]), "nothing wider than a phone on {page}");
}

#[tokio::test]
async fn the_preview_card_is_made_in_the_form_with_a_live_mock_and_shown_as_text() {
    let app = TestApp::spawn().await;
    let editor = app.user(Role::Editor, Some(PASSWORD)).await;
    let b = Browser::start().await;
    b.sign_in(&app, &editor.email, PASSWORD).await;
    b.open(&app, "/links/new").await;
    b.wait_for_text("Preview card").await;
    b.fill("Destination", "https://shop.example/winter").await;
    b.fill("Campaign", "winter26").await;
    b.fill("Title (optional)", "Winter sale").await;
    assert_eq!(
        text_of(&b, "[data-card-title]").await,
        "Winter sale",
        "the mock takes the link's title while the card has none"
    );
    let evil = "<script>window.pwned=1</script><b>Soldes</b>";
    b.fill("Card title (optional)", evil).await;
    b.fill(
        "Card description (optional)",
        "Tout à -50 % jusqu'à dimanche",
    )
    .await;
    b.fill("Image URL (optional)", "http://cdn.example/winter.png")
        .await;
    assert_eq!(
        text_of(&b, "[data-card-title]").await,
        evil,
        "as typed, as text"
    );
    assert_eq!(
        text_of(&b, "[data-card-desc]").await,
        "Tout à -50 % jusqu'à dimanche"
    );
    let shown: Value = b
        .client
        .execute(
            "return !document.querySelector('[data-card-image-box]').hidden;",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(shown, Value::Bool(false), "no image from plain http");
    b.click("Create link").await;
    b.wait_for_text("There is a problem").await;
    let error = text_of(&b, "#preview_image_url-error").await;
    assert!(
        error.contains("https://"),
        "beside the image field: {error}"
    );
    assert_eq!(count(&app, "links").await, 0, "nothing written");
    assert_eq!(
        text_of(&b, "[data-card-title]").await,
        evil,
        "the server's mock, with the typed values"
    );
    b.assert_accessible("/links (refused card)").await;

    b.fill("Image URL (optional)", "https://cdn.example/winter.png")
        .await;
    let src: Value = b
        .client
        .execute(
            "return document.querySelector('[data-card-image]').getAttribute('src');",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(
        src, "https://cdn.example/winter.png",
        "the mock shows https images"
    );
    b.fill("Slug (optional)", "winter-card").await;
    assert!(
        text_of(&b, "[data-card-message]")
            .await
            .ends_with("/winter-card")
    );
    b.assert_accessible("/links/new with a card").await;
    scroll_to(&b, "#card-heading").await;
    b.screenshot("form-preview").await;
    b.click("Create link").await;
    b.wait_for_text("Link created").await;
    let id: i64 = b
        .path()
        .await
        .trim_start_matches("/links/")
        .parse()
        .unwrap();
    let link: Value = app
        .api_get(&format!("/api/v1/links/{id}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        link["preview"],
        json!({"title": evil, "description": "Tout à -50 % jusqu'à dimanche", "image_url": "https://cdn.example/winter.png"})
    );
    let text = b.text().await;
    assert!(
        text.contains("<script>window.pwned=1</script>"),
        "shown as text: {text}"
    );
    let pwned = b
        .client
        .execute("return window.pwned === 1;", vec![])
        .await
        .unwrap();
    assert_eq!(pwned, Value::Bool(false), "no script ran");
    assert!(
        b.client
            .find_all(Locator::Css("main b"))
            .await
            .unwrap()
            .is_empty()
    );
    b.assert_accessible("/links/{id} with its card").await;
    let hidden: Value = b
        .client
        .execute(
            "return document.querySelector('[data-card-image-box]').hidden;",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(
        hidden,
        Value::Bool(true),
        "an image that cannot load leaves no broken icon"
    );
    scroll_to(&b, "#card-heading").await;
    b.screenshot("link-card").await;

    // The edit form clears the card when its three fields are emptied.
    b.click("Edit").await;
    b.wait_for_text("Edit link").await;
    for label in [
        "Card title (optional)",
        "Card description (optional)",
        "Image URL (optional)",
    ] {
        b.fill(label, "").await;
    }
    b.click("Save changes").await;
    b.wait_for_text("Changes saved").await;
    assert!(b.text().await.contains("no preview card"));
    let link: Value = app
        .api_get(&format!("/api/v1/links/{id}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(link["preview"], Value::Null);
    b.close().await;
}

#[tokio::test]
async fn utm_presets_are_saved_applied_and_deleted_from_the_form() {
    let app = TestApp::spawn().await;
    let editor = app.user(Role::Editor, Some(PASSWORD)).await;
    let b = Browser::start().await;
    b.sign_in(&app, &editor.email, PASSWORD).await;
    b.open(&app, "/links/new").await;
    b.wait_for_text("UTM builder").await;
    b.fill("Destination", "https://shop.example/winter").await;
    b.fill("Source", "newsletter").await;
    b.fill("Medium", "email").await;
    b.fill("Content (optional)", "footer").await;
    b.fill(
        "Save these UTM fields as a preset (optional)",
        "Team newsletter",
    )
    .await;
    b.click("Save as preset").await;
    b.wait_for_text("saved for everyone").await;
    assert_eq!(count(&app, "utm_presets").await, 1);
    assert_eq!(count(&app, "links").await, 0, "no link made");
    let dest = b.field("Destination").await.prop("value").await.unwrap();
    assert_eq!(dest.as_deref(), Some("https://shop.example/winter"), "kept");
    let id: i64 = sqlx::query_scalar("select id from utm_presets")
        .fetch_one(&app.db)
        .await
        .unwrap();
    b.assert_accessible("/links (preset saved)").await;

    // The same name again is refused beside the name field.
    b.fill(
        "Save these UTM fields as a preset (optional)",
        "TEAM NEWSLETTER",
    )
    .await;
    b.click("Save as preset").await;
    b.wait_for_text("There is a problem").await;
    assert!(
        text_of(&b, "#preset_name-error")
            .await
            .contains("exists already")
    );
    assert_eq!(count(&app, "utm_presets").await, 1);

    // Applied in place by the script: the fields it sets, the others kept.
    b.fill("Source", "").await;
    b.fill("Medium", "").await;
    b.fill("Content (optional)", "").await;
    b.fill("Campaign", "winter26").await;
    // The saved preset is the chosen one after saving: choose another first.
    b.field("Preset").await.select_by_value("").await.unwrap();
    b.field("Preset")
        .await
        .select_by_value(&format!("s{id}"))
        .await
        .unwrap();
    for (label, want) in [
        ("Source", "newsletter"),
        ("Medium", "email"),
        ("Content (optional)", "footer"),
        ("Campaign", "winter26"),
    ] {
        let v = b.field(label).await.prop("value").await.unwrap();
        assert_eq!(v.as_deref(), Some(want), "{label}");
    }
    assert!(
        text_of(&b, "[data-utm-preview]")
            .await
            .contains("utm_content=footer")
    );
    scroll_to(&b, "#preset").await;
    b.screenshot("form-presets").await;

    // Without the script: the Apply button posts the form, which comes back filled.
    let secret = session(&b).await;
    let res = app
        .client
        .post(format!("{}/links", app.address))
        .header("cookie", format!("lanterne_session={secret}"))
        .form(&[
            ("destination", "https://shop.example/typed"),
            ("utm_campaign", "spring"),
            ("utm_source", "old"),
            ("preset", "b0"),
            ("preset_action", "apply"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let html = res.text().await.unwrap();
    assert!(
        html.contains(r#"name="utm_source" type="text" value="newsletter""#),
        "applied"
    );
    assert!(html.contains(r#"name="utm_medium" type="text" value="email""#));
    assert!(html.contains(r#"value="spring""#), "the campaign is kept");
    assert!(
        html.contains(r#"value="https://shop.example/typed""#),
        "the destination is kept"
    );
    assert_eq!(count(&app, "links").await, 0, "applying writes nothing");

    // Deleted from the form.
    b.field("Preset")
        .await
        .select_by_value(&format!("s{id}"))
        .await
        .unwrap();
    b.click("Delete preset").await;
    b.wait_for_text("deleted").await;
    assert_eq!(count(&app, "utm_presets").await, 0);
    let campaign = b.field("Campaign").await.prop("value").await.unwrap();
    assert_eq!(campaign.as_deref(), Some("winter26"), "typed values kept");
    b.assert_accessible("/links (preset deleted)").await;
    b.close().await;
}

#[tokio::test]
async fn a_viewer_cannot_save_presets() {
    let app = TestApp::spawn().await;
    let viewer = app.user(Role::Viewer, Some(PASSWORD)).await;
    let b = Browser::start().await;
    b.sign_in(&app, &viewer.email, PASSWORD).await;
    let secret = session(&b).await;
    let res = app
        .client
        .post(format!("{}/links", app.address))
        .header("cookie", format!("lanterne_session={secret}"))
        .form(&[
            ("utm_source", "newsletter"),
            ("preset_name", "Mine"),
            ("preset_action", "save"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
    let res = app
        .client
        .post(format!("{}/api/v1/utm-presets", app.address))
        .header("cookie", format!("lanterne_session={secret}"))
        .json(&json!({"name": "Mine", "utm": {"source": "x"}}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403, "nor over the API with the session");
    assert_eq!(count(&app, "utm_presets").await, 0);
    b.close().await;
}

/// Adds human clicks to a link's daily rollups `days_ago` days ago.
async fn rollup(app: &TestApp, link: i64, days_ago: i32, kind: &str, dimension: &str, events: i64) {
    sqlx::query(
        "insert into click_rollups_daily (link_id, day, kind, channel, dimension, value, events) \
         values ($1, (now() at time zone 'UTC')::date - $2, $3, '', $4, $5, $6)",
    )
    .bind(link)
    .bind(days_ago)
    .bind(kind)
    .bind(dimension)
    .bind(if dimension == "all" { "" } else { "x" })
    .bind(events)
    .execute(&app.db)
    .await
    .unwrap();
}

async fn row_titles(b: &Browser) -> Vec<String> {
    let mut out = vec![];
    for e in b
        .client
        .find_all(Locator::Css(".link-title a"))
        .await
        .unwrap()
    {
        out.push(e.text().await.unwrap());
    }
    out
}

#[tokio::test]
async fn the_list_shows_human_clicks_of_30_days_and_sorts_by_them() {
    let app = TestApp::spawn().await;
    let editor = app.user(Role::Editor, Some(PASSWORD)).await;
    let mut ids = vec![];
    for title in ["Alpha", "Bravo", "Charlie"] {
        let l = app
            .new_link(
                json!({"destination": format!("https://shop.example/abc-{title}"), "title": title}),
            )
            .await;
        ids.push(l["id"].as_i64().unwrap());
    }
    let (alpha, bravo, charlie) = (ids[0], ids[1], ids[2]);
    rollup(&app, alpha, 0, "human", "all", 5).await;
    rollup(&app, bravo, 0, "human", "all", 7).await;
    rollup(&app, bravo, 29, "human", "all", 5).await;
    rollup(&app, bravo, 30, "human", "all", 100).await; // outside the window
    rollup(&app, charlie, 1, "bot", "all", 50).await; // not a person
    rollup(&app, charlie, 1, "human", "country", 40).await; // a breakdown row
    for i in 0..20 {
        app.new_link(
            json!({"destination": "https://shop.example/", "title": format!("Quiet {i:02}")}),
        )
        .await;
    }
    let b = Browser::with_size(390, 844).await;
    b.sign_in(&app, &editor.email, PASSWORD).await;
    b.open(&app, "/links").await;
    b.wait_for_text("Most clicks").await;
    let titles = row_titles(&b).await;
    assert_eq!(titles.len(), 20);
    assert_eq!(titles[0], "Quiet 19", "newest first by default");
    assert!(!titles.contains(&"Bravo".to_owned()), "Bravo is on page 2");

    b.click("Most clicks (30 days)").await;
    b.wait_for_text("Bravo").await;
    assert!(
        b.path().await.contains("sort=clicks"),
        "the sort is in the URL"
    );
    let titles = row_titles(&b).await;
    assert_eq!(&titles[..2], ["Bravo", "Alpha"], "{titles:?}");
    let figures: Vec<String> = {
        let mut v = vec![];
        for e in b
            .client
            .find_all(Locator::Css(".link-row .clicks"))
            .await
            .unwrap()
        {
            v.push(e.text().await.unwrap());
        }
        v
    };
    assert_eq!(
        &figures[..3],
        ["12", "5", "0"],
        "human 'all' rows of 30 days only"
    );
    b.assert_accessible("/links?sort=clicks (phone)").await;
    fits(&b, "/links?sort=clicks").await;
    b.screenshot("links-clicks-phone").await;

    b.click("Next page →").await;
    b.wait_for_text("First page").await;
    assert!(
        b.path().await.contains("sort=clicks"),
        "the next page keeps the sort"
    );
    let rest = row_titles(&b).await;
    assert_eq!(rest.len(), 3, "{rest:?}");
    let mut all = titles.clone();
    all.extend(rest);
    all.sort();
    all.dedup();
    assert_eq!(all.len(), 23, "every link once across the pages");

    // Filters keep the sort, and the sort keeps the filters.
    b.open(&app, "/links?sort=clicks&q=abc").await;
    let titles = row_titles(&b).await;
    assert_eq!(titles, ["Bravo", "Alpha", "Charlie"], "filtered, by clicks");
    b.click("Filter").await;
    b.wait_for_text("Bravo").await;
    assert!(b.path().await.contains("sort=clicks"));
    let bad = app
        .get_with_session("/links?sort=colour", &session(&b).await)
        .await;
    assert_eq!(bad.status(), 400);
    b.close().await;

    let wide = Browser::start().await;
    wide.sign_in(&app, &editor.email, PASSWORD).await;
    wide.open(&app, "/links?sort=clicks").await;
    wide.wait_for_text("Bravo").await;
    wide.screenshot("links-clicks").await;
    wide.close().await;
}

#[tokio::test]
async fn the_form_with_its_card_and_presets_fits_a_phone() {
    let app = TestApp::spawn().await;
    let editor = app.user(Role::Editor, Some(PASSWORD)).await;
    let b = Browser::with_size(390, 844).await;
    b.sign_in(&app, &editor.email, PASSWORD).await;
    b.open(&app, "/links/new").await;
    b.wait_for_text("Preview card").await;
    b.fill("Destination", "https://shop.example/winter").await;
    b.fill(
        "Card title (optional)",
        "Winter sale: everything at half price",
    )
    .await;
    b.fill(
        "Card description (optional)",
        "Until Sunday, in every shop and online.",
    )
    .await;
    fits(&b, "/links/new").await;
    b.assert_accessible("/links/new (phone)").await;
    scroll_to(&b, "[data-card-mock]").await;
    b.screenshot("form-preview-phone").await;
    b.close().await;

    // The same, wide, for the README.
    let b = Browser::start().await;
    b.sign_in(&app, &editor.email, PASSWORD).await;
    b.open(&app, "/links/new").await;
    b.wait_for_text("Preview card").await;
    b.fill("Destination", "https://shop.example/winter").await;
    b.fill("Slug (optional)", "winter").await;
    b.fill("Title (optional)", "Winter sale").await;
    b.fill(
        "Card title (optional)",
        "Winter sale: everything at half price",
    )
    .await;
    b.fill(
        "Card description (optional)",
        "Until Sunday, in every shop and online.",
    )
    .await;
    scroll_to(&b, "#card-heading").await;
    b.screenshot("form-preview-clean").await;
    b.close().await;
}
