//! `/api/v1/utm-presets`: everyone lists the workspace's presets, editors
//! save and delete them; refused input uses the usual error envelope,
//! names every bad field and writes nothing.

use lanterne::users::Role;
use reqwest::Method;
use serde_json::{Value, json};

use crate::harness::TestApp;

async fn presets_in_db(app: &TestApp) -> i64 {
    sqlx::query_scalar("select count(*) from utm_presets")
        .fetch_one(&app.db)
        .await
        .unwrap()
}

async fn call(
    app: &TestApp,
    method: Method,
    path: &str,
    token: &str,
    body: Option<Value>,
) -> (u16, Value) {
    let res = app.api(method, path, token, body).await;
    let status = res.status().as_u16();
    let body = res.json().await.unwrap_or(Value::Null);
    (status, body)
}

#[tokio::test]
async fn editors_save_and_delete_presets_and_viewers_only_list_them() {
    let app = TestApp::spawn().await;
    let editor = app.user(Role::Editor, None).await;
    let viewer = app.user(Role::Viewer, None).await;
    let (status, created) = call(
        &app,
        Method::POST,
        "/api/v1/utm-presets",
        &editor.token,
        Some(json!({"name": " Newsletter ", "utm": {"source": "newsletter", "medium": "email"}})),
    )
    .await;
    assert_eq!(status, 201, "{created}");
    assert_eq!(created["name"], "Newsletter", "trimmed");
    assert_eq!(
        created["utm"],
        json!({"source": "newsletter", "medium": "email"})
    );
    assert_eq!(created["created_by"], editor.id);
    let id = created["id"].as_i64().unwrap();

    let (status, list) = call(
        &app,
        Method::GET,
        "/api/v1/utm-presets",
        &viewer.token,
        None,
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(list["data"].as_array().unwrap().len(), 1);
    assert_eq!(list["data"][0]["id"], id);

    let (status, err) = call(
        &app,
        Method::POST,
        "/api/v1/utm-presets",
        &viewer.token,
        Some(json!({"name": "Mine", "utm": {"source": "x"}})),
    )
    .await;
    assert_eq!(status, 403, "{err}");
    assert_eq!(err["error"]["code"], "forbidden");
    let path = format!("/api/v1/utm-presets/{id}");
    let (status, _) = call(&app, Method::DELETE, &path, &viewer.token, None).await;
    assert_eq!(status, 403);
    assert_eq!(presets_in_db(&app).await, 1, "the viewer changed nothing");

    let (status, _) = call(&app, Method::DELETE, &path, &editor.token, None).await;
    assert_eq!(status, 204);
    assert_eq!(presets_in_db(&app).await, 0);
    let (status, err) = call(&app, Method::DELETE, &path, &editor.token, None).await;
    assert_eq!(status, 404);
    assert_eq!(err["error"]["code"], "not_found");
    let (status, _) = call(
        &app,
        Method::DELETE,
        "/api/v1/utm-presets/x",
        &editor.token,
        None,
    )
    .await;
    assert_eq!(status, 404);
    let res = app
        .client
        .get(format!("{}/api/v1/utm-presets", app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401, "signed-out callers see nothing");
}

#[tokio::test]
async fn refused_presets_name_every_bad_field_and_write_nothing() {
    let app = TestApp::spawn().await;
    let editor = app.user(Role::Editor, None).await;
    let post = |body: Value| {
        let app = &app;
        let token = editor.token.clone();
        async move { call(app, Method::POST, "/api/v1/utm-presets", &token, Some(body)).await }
    };
    let (status, err) =
        post(json!({"name": "", "utm": {"source": "a\nb", "medium": "x".repeat(257)}})).await;
    assert_eq!(status, 422, "{err}");
    let fields: Vec<&str> = err["error"]["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["name", "utm.source", "utm.medium"], "{err}");
    assert_eq!(err["error"]["field"], "name");

    let (status, err) = post(json!({"name": "x".repeat(61), "utm": {"source": "a"}})).await;
    assert_eq!(status, 422);
    assert_eq!(err["error"]["field"], "name");
    assert!(
        err["error"]["message"].as_str().unwrap().contains("60"),
        "{err}"
    );
    let (status, _) = post(json!({"name": "é".repeat(60), "utm": {"source": "a"}})).await;
    assert_eq!(status, 201, "60 characters (not bytes) are fine");

    let (status, err) = post(json!({"name": "Empty", "utm": {"source": "  "}})).await;
    assert_eq!(status, 422);
    assert_eq!(err["error"]["field"], "utm");

    let (status, err) =
        post(json!({"name": "Newsletter", "utm": {"source": "n"}, "colour": "red"})).await;
    assert_eq!(status, 422, "unknown fields are refused: {err}");

    let (status, _) = post(json!({"name": "Newsletter", "utm": {"source": "newsletter"}})).await;
    assert_eq!(status, 201);
    let (status, err) = post(json!({"name": "NEWSLETTER", "utm": {"source": "other"}})).await;
    assert_eq!(status, 409, "{err}");
    assert_eq!(err["error"]["code"], "name_taken");
    assert_eq!(err["error"]["field"], "name");
    assert_eq!(presets_in_db(&app).await, 2, "only the two good ones");
}
