//! Preview cards: set over the API (PATCH merges per field), inherited by
//! variants, answered to preview fetchers as Open Graph tags while people
//! still get the redirect, and the share event still stored.

use serde_json::{Value, json};

use crate::harness::{IPHONE_SAFARI, TestApp, location};

const WHATSAPP: &str = "WhatsApp/2.23.20.0 A";

async fn fetch(app: &TestApp, slug: &str, ua: &str) -> reqwest::Response {
    app.client
        .get(format!("{}/{slug}", app.address))
        .header("user-agent", ua)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn a_preview_fetcher_gets_the_card_escaped_and_a_person_gets_the_redirect() {
    let app = TestApp::spawn().await;
    let link = app
        .new_link(json!({
            "destination": "https://shop.example/sale",
            "slug": "Card",
            "preview": {
                "title": "<script>alert(1)</script> Soldes & co",
                "description": "Tout à moitié prix \"ce week-end\"",
                "image_url": "https://cdn.example/sale.png",
            },
        }))
        .await;
    assert_eq!(link["preview"]["image_url"], "https://cdn.example/sale.png");

    let res = fetch(&app, "Card", WHATSAPP).await;
    assert_eq!(res.status(), 200);
    assert!(
        res.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html"),
        "{:?}",
        res.headers()
    );
    let html = res.text().await.unwrap();
    assert!(!html.contains("<script"), "escaped: {html}");
    assert!(
        html.contains(r#"<meta property="og:title" content="&#60;script&#62;alert(1)&#60;/script&#62; Soldes &#38; co">"#),
        "{html}"
    );
    assert!(
        html.contains(
            r#"<meta property="og:description" content="Tout à moitié prix &#34;ce week-end&#34;">"#
        ),
        "{html}"
    );
    assert!(
        html.contains(r#"<meta property="og:image" content="https://cdn.example/sale.png">"#),
        "{html}"
    );
    assert!(
        html.contains(&format!(
            r#"<meta property="og:url" content="{}">"#,
            link["short_url"].as_str().unwrap()
        )),
        "{html}"
    );
    assert!(
        html.contains(r#"<meta name="twitter:card" content="summary_large_image">"#),
        "{html}"
    );

    let res = fetch(&app, "Card", IPHONE_SAFARI).await;
    assert_eq!(res.status(), 302, "people still get the redirect");
    assert_eq!(location(&res), "https://shop.example/sale");

    app.flush_clicks().await;
    let shares: Vec<(String,)> = sqlx::query_as("select app from share_events where link_id = $1")
        .bind(link["id"].as_i64())
        .fetch_all(&app.db)
        .await
        .unwrap();
    assert_eq!(
        shares,
        [("whatsapp".to_owned(),)],
        "the share event is stored"
    );
    assert_eq!(
        app.clicks_of(link["id"].as_i64().unwrap()).await,
        1,
        "one human click"
    );
}

#[tokio::test]
async fn a_link_without_a_card_gives_a_preview_fetcher_the_redirect_as_before() {
    let app = TestApp::spawn().await;
    let link = app
        .new_link(json!({"destination": "https://shop.example/", "slug": "Plain"}))
        .await;
    assert_eq!(link["preview"], Value::Null);
    let res = fetch(&app, "Plain", WHATSAPP).await;
    assert_eq!(res.status(), 302);
    assert_eq!(location(&res), "https://shop.example/");
}

#[tokio::test]
async fn a_card_is_patched_field_by_field_checked_and_inherited_by_variants() {
    let app = TestApp::spawn().await;
    let link = app
        .new_link(json!({
            "destination": "https://shop.example/",
            "title": "Winter sale",
            "preview": {"title": "Sale", "description": "Half price"},
        }))
        .await;
    let id = link["id"].as_i64().unwrap();

    let res = app
        .update_link(
            id,
            json!({"preview": {"image_url": "http://cdn.example/a.png", "title": "x\u{1}"}}),
        )
        .await;
    assert_eq!(res.status(), 422);
    let body: Value = res.json().await.unwrap();
    let fields: Vec<&str> = body["error"]["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["preview.title", "preview.image_url"]);

    let res = app
        .update_link(
            id,
            json!({"preview": {"image_url": "https://cdn.example/a.png"}}),
        )
        .await;
    assert_eq!(res.status(), 200);
    let got: Value = res.json().await.unwrap();
    assert_eq!(
        got["preview"],
        json!({"title": "Sale", "description": "Half price", "image_url": "https://cdn.example/a.png"}),
        "absent fields are kept"
    );

    let res = app
        .api(
            reqwest::Method::POST,
            &format!("/api/v1/links/{id}/variants"),
            &app.token,
            Some(json!({"channels": ["whatsapp"]})),
        )
        .await;
    let variants: Value = res.json().await.unwrap();
    let variant = &variants["data"][0];
    assert_eq!(
        variant["preview"], got["preview"],
        "the variant inherits the card"
    );

    // The parent's change reaches the variant that inherited it, and its card answer.
    let res = app
        .update_link(id, json!({"preview": {"description": null}}))
        .await;
    let got: Value = res.json().await.unwrap();
    assert_eq!(got["preview"]["description"], Value::Null, "null clears");
    let vid = variant["id"].as_i64().unwrap();
    let v: Value = app
        .api_get(&format!("/api/v1/links/{vid}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        v["preview"]["description"],
        Value::Null,
        "followed the parent"
    );
    let res = fetch(
        &app,
        v["slug"].as_str().unwrap(),
        "TelegramBot (like TwitterBot)",
    )
    .await;
    assert_eq!(res.status(), 200);
    let html = res.text().await.unwrap();
    assert!(html.contains(r#"content="Sale""#), "{html}");
    assert!(!html.contains("og:description"), "{html}");

    let res = app.update_link(id, json!({"preview": null})).await;
    let got: Value = res.json().await.unwrap();
    assert_eq!(got["preview"], Value::Null, "the whole card cleared");
    let res = fetch(&app, got["slug"].as_str().unwrap(), WHATSAPP).await;
    assert_eq!(res.status(), 302, "no card: the redirect again");
}
