//! Editing links without losing attribution: a partial `utm` merges field by
//! field, every refused field is reported at once, and per-channel variants
//! inherit their parent's destination and UTM fields (and follow its edits
//! where they inherited).

use serde_json::{Value, json};

use crate::harness::{TestApp, location};

async fn json_of(res: reqwest::Response) -> (u16, Value) {
    let status = res.status().as_u16();
    (status, res.json().await.expect("JSON"))
}

async fn winter_link(app: &TestApp) -> i64 {
    let link = app
        .new_link(json!({
            "destination": "https://shop.example/winter",
            "utm": {"source": "newsletter", "medium": "email", "campaign": "winter26", "content": "hero"},
        }))
        .await;
    link["id"].as_i64().unwrap()
}

#[tokio::test]
async fn patching_one_utm_field_keeps_the_others_in_the_redirect() {
    let app = TestApp::spawn().await;
    let id = winter_link(&app).await;
    let (status, link) = json_of(
        app.update_link(id, json!({"utm": {"campaign": "winter26b"}}))
            .await,
    )
    .await;
    assert_eq!(status, 200, "{link}");
    assert_eq!(
        link["utm"],
        json!({"source": "newsletter", "medium": "email", "campaign": "winter26b", "content": "hero"})
    );
    let res = app.visit(link["slug"].as_str().unwrap()).await;
    assert_eq!(
        location(&res),
        "https://shop.example/winter?utm_source=newsletter&utm_medium=email&utm_campaign=winter26b&utm_content=hero",
        "the redirect still carries source, medium and content"
    );
}

#[tokio::test]
async fn null_clears_one_utm_field_and_an_empty_utm_object_changes_nothing() {
    let app = TestApp::spawn().await;
    let id = winter_link(&app).await;
    let (_, link) = json_of(app.update_link(id, json!({"utm": {"content": null}})).await).await;
    assert_eq!(
        link["utm"],
        json!({"source": "newsletter", "medium": "email", "campaign": "winter26"}),
        "null clears content alone"
    );
    let (_, link) = json_of(app.update_link(id, json!({"utm": {"medium": ""}})).await).await;
    assert_eq!(
        link["utm"],
        json!({"source": "newsletter", "campaign": "winter26"}),
        "an empty value clears too"
    );
    let (status, same) = json_of(app.update_link(id, json!({"utm": {}})).await).await;
    assert_eq!(status, 200);
    assert_eq!(same["utm"], link["utm"], "an empty object changes nothing");
    let (status, same) = json_of(app.update_link(id, json!({"title": "T"})).await).await;
    assert_eq!(status, 200);
    assert_eq!(same["utm"], link["utm"], "no utm key changes nothing");
}

#[tokio::test]
async fn a_refused_utm_patch_names_the_field_and_changes_nothing() {
    let app = TestApp::spawn().await;
    let id = winter_link(&app).await;
    let (status, body) = json_of(
        app.update_link(
            id,
            json!({"utm": {"campaign": "ok", "term": "x".repeat(300)}}),
        )
        .await,
    )
    .await;
    assert_eq!(status, 422);
    assert_eq!(body["error"]["field"], "utm.term");
    let (status, body) = json_of(
        app.update_link(id, json!({"utm": {"campain": "typo"}}))
            .await,
    )
    .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (422, Some("invalid_body"))
    );
    let link: Value = app
        .api_get(&format!("/api/v1/links/{id}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(link["utm"]["campaign"], "winter26", "nothing changed");
}

#[tokio::test]
async fn every_refused_field_is_reported_at_once() {
    let app = TestApp::spawn().await;
    let (status, body) = json_of(
        app.create_link(json!({
            "destination": "ftp://shop.example/",
            "slug": "a b",
            "channel": "pigeon",
            "utm": {"source": "x".repeat(300)},
            "expires_at": "2001-01-01T00:00:00Z",
        }))
        .await,
    )
    .await;
    assert_eq!(status, 422);
    let fields: Vec<&str> = body["error"]["fields"]
        .as_array()
        .expect("a list of field errors")
        .iter()
        .map(|f| f["field"].as_str().unwrap())
        .collect();
    for f in ["destination", "slug", "channel", "utm.source", "expires_at"] {
        assert!(fields.contains(&f), "{f} reported in {fields:?}");
    }
    assert_eq!(body["error"]["field"], fields[0], "the first one leads");
}

#[tokio::test]
async fn a_variant_inherits_destination_utm_and_domain_unless_given() {
    let app = TestApp::spawn().await;
    let parent = app
        .new_link(json!({
            "destination": "https://shop.example/winter", "domain": "go.example.com",
            "utm": {"source": "newsletter", "medium": "email", "campaign": "winter26"},
        }))
        .await;
    let pid = parent["id"].as_i64().unwrap();
    let variant = app
        .new_link(json!({"parent_id": pid, "channel": "whatsapp", "utm": {"source": "whatsapp", "medium": "social"}}))
        .await;
    assert_eq!(variant["destination"], "https://shop.example/winter");
    assert_eq!(variant["domain"], "go.example.com");
    assert_eq!(
        variant["utm"],
        json!({"source": "whatsapp", "medium": "social", "campaign": "winter26"})
    );
    let own = app
        .new_link(json!({"parent_id": pid, "destination": "https://shop.example/other", "channel": "sms"}))
        .await;
    assert_eq!(
        own["destination"], "https://shop.example/other",
        "given wins"
    );

    let (status, list) =
        json_of(app.api_get(&format!("/api/v1/links?parent_id={pid}")).await).await;
    assert_eq!(status, 200);
    let mut ids: Vec<i64> = list["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["id"].as_i64().unwrap())
        .collect();
    ids.sort();
    assert_eq!(
        ids,
        vec![variant["id"].as_i64().unwrap(), own["id"].as_i64().unwrap()]
    );

    let (status, body) = json_of(
        app.create_link(json!({"parent_id": variant["id"], "channel": "email"}))
            .await,
    )
    .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (422, Some("invalid_parent")),
        "no variants of variants"
    );
}

#[tokio::test]
async fn variants_follow_their_parent_where_they_inherited() {
    let app = TestApp::spawn().await;
    let parent = app
        .new_link(json!({
            "destination": "https://shop.example/winter",
            "utm": {"source": "newsletter", "campaign": "winter26"},
        }))
        .await;
    let pid = parent["id"].as_i64().unwrap();
    let inherited = app
        .new_link(json!({"parent_id": pid, "channel": "whatsapp", "utm": {"source": "whatsapp"}}))
        .await;
    let own = app
        .new_link(json!({"parent_id": pid, "destination": "https://shop.example/sms", "utm": {"campaign": "sms-only"}}))
        .await;
    let slug = inherited["slug"].as_str().unwrap().to_owned();
    assert_eq!(
        location(&app.visit(&slug).await),
        "https://shop.example/winter?utm_source=whatsapp&utm_campaign=winter26"
    );

    let res = app
        .update_link(
            pid,
            json!({"destination": "https://shop.example/winter-sale", "utm": {"campaign": "winter26b"}}),
        )
        .await;
    assert_eq!(res.status(), 200);
    assert_eq!(
        location(&app.visit(&slug).await),
        "https://shop.example/winter-sale?utm_source=whatsapp&utm_campaign=winter26b",
        "the variant followed at once on this instance"
    );
    let own: Value = app
        .api_get(&format!("/api/v1/links/{}", own["id"]))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        own["destination"], "https://shop.example/sms",
        "its own kept"
    );
    assert_eq!(own["utm"]["campaign"], "sms-only");
    assert_eq!(
        own["utm"]["source"], "newsletter",
        "a field the parent did not change stays"
    );
}
