//! `/api/v1/links`: CRUD, every validation error, roles and pagination.

use lanterne::users::Role;
use serde_json::{Value, json};

use crate::harness::TestApp;

async fn links_in_db(app: &TestApp) -> i64 {
    sqlx::query_scalar("select count(*) from links")
        .fetch_one(&app.db)
        .await
        .unwrap()
}

async fn error_of(res: reqwest::Response) -> (u16, Value) {
    let status = res.status().as_u16();
    let body: Value = res.json().await.expect("errors are JSON");
    (status, body["error"].clone())
}

#[tokio::test]
async fn creating_a_link_returns_it_with_its_short_url_and_merged_target() {
    let app = TestApp::spawn().await;
    let link = app
        .new_link(json!({
            "destination": "https://shop.example/p?id=7",
            "utm": {"source": "whatsapp", "medium": "social", "campaign": "summer"},
            "tags": ["summer", "summer", " launch "],
            "title": "Summer sale",
            "channel": "WhatsApp",
        }))
        .await;
    let slug = link["slug"].as_str().unwrap();
    assert_eq!(slug.len(), 7, "generated slugs have the configured length");
    assert_eq!(link["short_url"], format!("{}/{slug}", app.address));
    assert_eq!(link["destination"], "https://shop.example/p?id=7");
    assert_eq!(
        link["redirect_url"],
        "https://shop.example/p?id=7&utm_source=whatsapp&utm_medium=social&utm_campaign=summer"
    );
    assert_eq!(link["utm"]["campaign"], "summer");
    assert_eq!(link["tags"], json!(["summer", "launch"]));
    assert_eq!(link["channel"], "whatsapp");
    assert_eq!(link["slug_kind"], "generated");
    assert_eq!(link["enabled"], true);

    let id = link["id"].as_i64().unwrap();
    let found: Value = app
        .api_get(&format!("/api/v1/links/{id}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(found, link, "GET returns what POST returned");
}

#[tokio::test]
async fn a_custom_slug_on_a_branded_domain_is_kept_as_written() {
    let app = TestApp::spawn().await;
    let link = app
        .new_link(json!({"destination": "https://shop.example/", "slug": "Summer-Sale", "domain": "GO.example.com"}))
        .await;
    assert_eq!(link["slug"], "Summer-Sale");
    assert_eq!(link["domain"], "go.example.com");
    assert_eq!(link["short_url"], "http://go.example.com/Summer-Sale");
    assert_eq!(link["slug_kind"], "custom");
}

#[tokio::test]
async fn invalid_links_are_refused_with_a_clear_error_and_nothing_is_written() {
    let app = TestApp::spawn().await;
    app.new_link(json!({"destination": "https://shop.example/", "slug": "taken"}))
        .await;
    let before = links_in_db(&app).await;
    let long_slug = "a".repeat(65);
    let cases: Vec<(Value, u16, &str, Option<&str>)> = vec![
        (
            json!({"destination": "shop.example/p"}),
            422,
            "invalid_destination",
            Some("destination"),
        ),
        (
            json!({"destination": "javascript:alert(1)"}),
            422,
            "invalid_destination",
            Some("destination"),
        ),
        (
            json!({"destination": "ftp://shop.example/f"}),
            422,
            "invalid_destination",
            Some("destination"),
        ),
        (
            json!({"destination": "https://u:p@shop.example/"}),
            422,
            "invalid_destination",
            Some("destination"),
        ),
        (
            json!({"destination": "http://127.0.0.1/x"}),
            422,
            "invalid_destination",
            Some("destination"),
        ),
        (
            json!({"destination": "https://go.example.com/loop"}),
            422,
            "invalid_destination",
            Some("destination"),
        ),
        (
            json!({"destination": ""}),
            422,
            "invalid_destination",
            Some("destination"),
        ),
        (
            json!({"destination": format!("https://shop.example/{}", "a".repeat(5000))}),
            422,
            "invalid_destination",
            Some("destination"),
        ),
        (
            json!({"destination": "https://shop.example/", "slug": "api"}),
            422,
            "invalid_slug",
            Some("slug"),
        ),
        (
            json!({"destination": "https://shop.example/", "slug": "METRICS"}),
            422,
            "invalid_slug",
            Some("slug"),
        ),
        (
            json!({"destination": "https://shop.example/", "slug": "a b"}),
            422,
            "invalid_slug",
            Some("slug"),
        ),
        (
            json!({"destination": "https://shop.example/", "slug": "x"}),
            422,
            "invalid_slug",
            Some("slug"),
        ),
        (
            json!({"destination": "https://shop.example/", "slug": long_slug}),
            422,
            "invalid_slug",
            Some("slug"),
        ),
        (
            json!({"destination": "https://shop.example/", "slug": "TAKEN"}),
            409,
            "slug_taken",
            Some("slug"),
        ),
        (
            json!({"destination": "https://shop.example/", "domain": "evil.example"}),
            422,
            "unknown_domain",
            Some("domain"),
        ),
        (
            json!({"destination": "https://shop.example/", "channel": "pigeon"}),
            422,
            "invalid_field",
            Some("channel"),
        ),
        (
            json!({"destination": "https://shop.example/", "utm": {"source": "x".repeat(300)}}),
            422,
            "invalid_field",
            Some("utm.source"),
        ),
        (
            json!({"destination": "https://shop.example/", "expires_at": "2001-01-01T00:00:00Z"}),
            422,
            "invalid_field",
            Some("expires_at"),
        ),
        (
            json!({"destination": "https://shop.example/", "parent_id": 999999}),
            422,
            "invalid_parent",
            Some("parent_id"),
        ),
        (
            json!({"destination": "https://shop.example/", "tags": "not-a-list"}),
            422,
            "invalid_body",
            Some("tags"),
        ),
        (
            json!({"destination": "https://shop.example/", "colour": "red"}),
            422,
            "invalid_body",
            Some("colour"),
        ),
        (
            json!({"slug": "nodest"}),
            422,
            "invalid_destination",
            Some("destination"),
        ),
    ];
    for (body, status, code, field) in cases {
        let (got_status, err) = error_of(app.create_link(body.clone()).await).await;
        assert_eq!(got_status, status, "status for {body}: {err}");
        assert_eq!(err["code"], code, "code for {body}");
        assert_eq!(err["field"].as_str(), field, "field for {body}");
        assert!(
            !err["message"].as_str().unwrap().is_empty(),
            "a message for {body}"
        );
    }
    assert_eq!(
        links_in_db(&app).await,
        before,
        "no refused link was written"
    );
}

#[tokio::test]
async fn malformed_oversized_and_untyped_bodies_get_the_error_envelope() {
    let app = TestApp::spawn().await;
    let post = |body: String, ctype: &'static str| {
        app.client
            .post(format!("{}/api/v1/links", app.address))
            .bearer_auth(&app.token)
            .header("content-type", ctype)
            .body(body)
            .send()
    };
    let (s, e) = error_of(
        post("{\"destination\": ".into(), "application/json")
            .await
            .unwrap(),
    )
    .await;
    assert_eq!((s, e["code"].as_str()), (400, Some("malformed_json")));
    let huge = format!(
        "{{\"destination\": \"https://shop.example/\", \"title\": \"{}\"}}",
        "x".repeat(100_000)
    );
    let (s, e) = error_of(post(huge, "application/json").await.unwrap()).await;
    assert_eq!((s, e["code"].as_str()), (413, Some("body_too_large")));
    let (s, e) = error_of(post("destination=x".into(), "text/plain").await.unwrap()).await;
    assert_eq!(
        (s, e["code"].as_str()),
        (415, Some("unsupported_media_type"))
    );
    assert_eq!(links_in_db(&app).await, 0);
}

#[tokio::test]
async fn tokens_are_required_and_roles_are_enforced() {
    let app = TestApp::spawn().await;
    let url = format!("{}/api/v1/links", app.address);
    let body = json!({"destination": "https://shop.example/"});

    let res = app.client.post(&url).json(&body).send().await.unwrap();
    assert_eq!(error_of(res).await.1["code"], "unauthorized");
    let res = app
        .client
        .post(&url)
        .bearer_auth("lnt_forged")
        .json(&body)
        .send()
        .await
        .unwrap();
    let (status, err) = error_of(res).await;
    assert_eq!((status, err["code"].as_str()), (401, Some("invalid_token")));

    let viewer = app.token(Role::Viewer).await;
    let res = app
        .client
        .post(&url)
        .bearer_auth(&viewer)
        .json(&body)
        .send()
        .await
        .unwrap();
    let (status, err) = error_of(res).await;
    assert_eq!((status, err["code"].as_str()), (403, Some("forbidden")));
    let res = app
        .client
        .get(&url)
        .bearer_auth(&viewer)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200, "viewers may read");

    let editor = app.token(Role::Editor).await;
    let res = app
        .client
        .post(&url)
        .bearer_auth(&editor)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201, "editors may create");
    assert_eq!(links_in_db(&app).await, 1);
}

#[tokio::test]
async fn a_revoked_token_stops_working_at_once() {
    let app = TestApp::spawn().await;
    let url = format!("{}/api/v1/links", app.address);
    assert_eq!(
        app.client
            .get(&url)
            .bearer_auth(&app.token)
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    sqlx::query("update api_tokens set revoked_at = now()")
        .execute(&app.db)
        .await
        .unwrap();
    assert_eq!(
        app.client
            .get(&url)
            .bearer_auth(&app.token)
            .send()
            .await
            .unwrap()
            .status(),
        401
    );
}

#[tokio::test]
async fn links_are_updated_partially_and_null_clears_a_field() {
    let app = TestApp::spawn().await;
    let link = app
        .new_link(json!({"destination": "https://shop.example/a", "title": "A", "channel": "sms", "tags": ["x"]}))
        .await;
    let id = link["id"].as_i64().unwrap();
    let res = app
        .update_link(
            id,
            json!({"destination": "https://shop.example/b", "title": null, "slug": "New-Slug"}),
        )
        .await;
    assert_eq!(res.status(), 200);
    let updated: Value = res.json().await.unwrap();
    assert_eq!(updated["destination"], "https://shop.example/b");
    assert_eq!(updated["title"], Value::Null, "null clears");
    assert_eq!(updated["channel"], "sms", "absent leaves alone");
    assert_eq!(updated["tags"], json!(["x"]));
    assert_eq!(updated["slug"], "New-Slug");
    assert_eq!(updated["slug_kind"], "custom");

    let (status, err) = error_of(
        app.update_link(id, json!({"destination": "mailto:a@b.c"}))
            .await,
    )
    .await;
    assert_eq!((status, err["field"].as_str()), (422, Some("destination")));
    let (status, err) = error_of(app.update_link(id, json!({"parent_id": id})).await).await;
    assert_eq!(
        (status, err["code"].as_str()),
        (422, Some("invalid_parent"))
    );
    let (status, _) = error_of(app.update_link(424242, json!({"title": "x"})).await).await;
    assert_eq!(status, 404);
    let still: Value = app
        .api_get(&format!("/api/v1/links/{id}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        still["destination"], "https://shop.example/b",
        "refused patches changed nothing"
    );
}

#[tokio::test]
async fn a_deleted_link_is_gone_and_its_slug_is_free_again() {
    let app = TestApp::spawn().await;
    let link = app
        .new_link(json!({"destination": "https://shop.example/", "slug": "reuse-me"}))
        .await;
    let id = link["id"].as_i64().unwrap();
    let del = app
        .client
        .delete(format!("{}/api/v1/links/{id}", app.address))
        .bearer_auth(&app.token)
        .send()
        .await
        .unwrap();
    assert_eq!(del.status(), 204);
    assert_eq!(
        app.api_get(&format!("/api/v1/links/{id}")).await.status(),
        404
    );
    assert_eq!(app.visit("reuse-me").await.status(), 404);
    app.new_link(json!({"destination": "https://other.example/", "slug": "reuse-me"}))
        .await;
    for bad in ["abc", "-1", "0", "99999999999999999999"] {
        assert_eq!(
            app.api_get(&format!("/api/v1/links/{bad}")).await.status(),
            404,
            "{bad}"
        );
    }
}

#[tokio::test]
async fn listing_paginates_newest_first_and_filters_by_tag_and_text() {
    let app = TestApp::spawn().await;
    for i in 0..5 {
        let tag = if i % 2 == 0 { "even" } else { "odd" };
        app.new_link(json!({"destination": format!("https://shop.example/item-{i}"), "tags": [tag], "title": format!("Item {i}")}))
            .await;
    }
    let page1: Value = app
        .api_get("/api/v1/links?limit=2")
        .await
        .json()
        .await
        .unwrap();
    let titles = |v: &Value| -> Vec<String> {
        v["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|l| l["title"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(titles(&page1), ["Item 4", "Item 3"]);
    let cursor = page1["next_cursor"].as_str().unwrap();
    let page2: Value = app
        .api_get(&format!("/api/v1/links?limit=2&cursor={cursor}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(titles(&page2), ["Item 2", "Item 1"]);
    let cursor = page2["next_cursor"].as_str().unwrap();
    let page3: Value = app
        .api_get(&format!("/api/v1/links?limit=2&cursor={cursor}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(titles(&page3), ["Item 0"]);
    assert_eq!(page3["next_cursor"], Value::Null);

    let even: Value = app
        .api_get("/api/v1/links?tag=even")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(titles(&even), ["Item 4", "Item 2", "Item 0"]);
    let text: Value = app
        .api_get("/api/v1/links?q=ITEM-3")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(titles(&text), ["Item 3"]);
    let wildcard: Value = app
        .api_get("/api/v1/links?q=%25")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(titles(&wildcard).len(), 0, "% is matched literally");

    for bad in [
        "limit=0",
        "limit=101",
        "limit=x",
        "cursor=garbage",
        "sort=asc",
    ] {
        let (status, err) = error_of(app.api_get(&format!("/api/v1/links?{bad}")).await).await;
        assert_eq!(
            (status, err["code"].as_str()),
            (400, Some("invalid_query")),
            "{bad}"
        );
    }
}
