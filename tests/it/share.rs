//! Per-channel variants in one action and the share kit of a link.

use lanterne::users::Role;
use reqwest::Method;
use serde_json::{Value, json};

use crate::harness::TestApp;

async fn post_variants(app: &TestApp, id: i64, token: &str, channels: Value) -> reqwest::Response {
    app.api(
        Method::POST,
        &format!("/api/v1/links/{id}/variants"),
        token,
        Some(json!({ "channels": channels })),
    )
    .await
}

#[tokio::test]
async fn variants_are_created_once_per_channel_with_presets_and_the_parents_destination() {
    let app = TestApp::spawn().await;
    let parent = app
        .new_link(json!({
            "destination": "https://shop.example/sale",
            "utm": {"campaign": "winter26", "source": "site"},
            "title": "Winter sale",
        }))
        .await;
    let id = parent["id"].as_i64().unwrap();

    let res = post_variants(&app, id, &app.token, json!(["whatsapp", "sms", "X"])).await;
    assert_eq!(res.status(), 201);
    let body: Value = res.json().await.unwrap();
    let data = body["data"].as_array().unwrap();
    let channels: Vec<&str> = data
        .iter()
        .map(|v| v["channel"].as_str().unwrap())
        .collect();
    assert_eq!(channels, ["whatsapp", "sms", "twitter"]);
    let wa = &data[0];
    assert_eq!(wa["parent_id"], id);
    assert_eq!(wa["destination"], "https://shop.example/sale");
    assert_eq!(
        wa["utm"]["source"], "whatsapp",
        "the preset wins over the parent's"
    );
    assert_eq!(wa["utm"]["medium"], "social");
    assert_eq!(wa["utm"]["campaign"], "winter26", "inherited");
    assert_eq!(wa["slug_kind"], "generated");
    assert_ne!(wa["slug"], parent["slug"]);
    assert_eq!(data[1]["utm"]["medium"], "sms");

    // Again, with one more: only the missing one is created; all come back.
    let res = post_variants(&app, id, &app.token, json!(["sms", "email"])).await;
    assert_eq!(res.status(), 201);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["data"].as_array().unwrap().len(), 4);
    assert_eq!(
        body["data"][0]["id"], wa["id"],
        "the old variants are the same links"
    );
    let res = post_variants(&app, id, &app.token, json!(["whatsapp"])).await;
    assert_eq!(res.status(), 200, "nothing new");
    let count: i64 = sqlx::query_scalar("select count(*) from links where parent_id = $1")
        .bind(id)
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(count, 4);
}

#[tokio::test]
async fn an_unknown_channel_or_a_viewer_or_a_variant_as_parent_creates_nothing() {
    let app = TestApp::spawn().await;
    let parent = app
        .new_link(json!({"destination": "https://shop.example/"}))
        .await;
    let id = parent["id"].as_i64().unwrap();

    let res = post_variants(&app, id, &app.token, json!(["sms", "pigeon"])).await;
    assert_eq!(res.status(), 422);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["error"]["field"], "channels");

    let viewer = app.token(Role::Viewer).await;
    let res = post_variants(&app, id, &viewer, json!(["sms"])).await;
    assert_eq!(res.status(), 403);

    let res = post_variants(&app, 999_999, &app.token, json!(["sms"])).await;
    assert_eq!(res.status(), 404);

    let count: i64 = sqlx::query_scalar("select count(*) from links where parent_id = $1")
        .bind(id)
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(count, 0, "nothing was written");

    let res = post_variants(&app, id, &app.token, json!(["sms"])).await;
    let body: Value = res.json().await.unwrap();
    let variant = body["data"][0]["id"].as_i64().unwrap();
    let res = post_variants(&app, variant, &app.token, json!(["email"])).await;
    assert_eq!(res.status(), 422, "variants have no variants");
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["error"]["field"], "parent_id");
}

#[tokio::test]
async fn the_share_kit_gives_each_variant_its_ready_to_send_address() {
    let app = TestApp::spawn().await;
    let parent = app
        .new_link(json!({"destination": "https://shop.example/", "title": "Soldes & <b>"}))
        .await;
    let id = parent["id"].as_i64().unwrap();
    let res = post_variants(
        &app,
        id,
        &app.token,
        json!(["whatsapp", "email", "telegram", "signal"]),
    )
    .await;
    let variants: Value = res.json().await.unwrap();
    let short = |i: usize| {
        variants["data"][i]["short_url"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    let enc = |s: &str| {
        s.bytes()
            .map(|b| match b {
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                    (b as char).to_string()
                }
                _ => format!("%{b:02X}"),
            })
            .collect::<String>()
    };

    let viewer = app.token(Role::Viewer).await;
    let res = app
        .api(
            Method::GET,
            &format!("/api/v1/links/{id}/share"),
            &viewer,
            None,
        )
        .await;
    assert_eq!(res.status(), 200);
    let kit: Value = res.json().await.unwrap();
    assert_eq!(kit["text"], "Soldes & <b>", "the title by default");
    let ch = &kit["channels"];
    assert_eq!(ch.as_array().unwrap().len(), 4);
    assert_eq!(ch[0]["channel"], "whatsapp");
    assert_eq!(ch[0]["link_id"], variants["data"][0]["id"]);
    assert_eq!(ch[0]["short_url"], short(0));
    assert_eq!(
        ch[0]["share_url"],
        format!(
            "https://wa.me/?text=Soldes%20%26%20%3Cb%3E%20{}",
            enc(&short(0))
        )
    );
    assert_eq!(
        ch[1]["share_url"],
        format!(
            "mailto:?subject=Soldes%20%26%20%3Cb%3E&body=Soldes%20%26%20%3Cb%3E%0A%0A{}",
            enc(&short(1))
        )
    );
    assert_eq!(
        ch[2]["share_url"],
        format!(
            "https://t.me/share/url?url={}&text=Soldes%20%26%20%3Cb%3E",
            enc(&short(2))
        )
    );
    assert_eq!(
        ch[3]["share_url"],
        Value::Null,
        "Signal has no share address"
    );

    let res = app
        .api_get(&format!("/api/v1/links/{id}/share?text=Hello%20there"))
        .await;
    let kit: Value = res.json().await.unwrap();
    assert_eq!(
        kit["channels"][0]["share_url"],
        format!("https://wa.me/?text=Hello%20there%20{}", enc(&short(0)))
    );
    let res = app
        .api_get(&format!(
            "/api/v1/links/{id}/share?text={}",
            "x".repeat(1001)
        ))
        .await;
    assert_eq!(res.status(), 422);
}
