//! `/healthz`, `/readyz`, `/metrics`.

use serde_json::json;

use crate::harness::TestApp;

#[tokio::test]
async fn health_readiness_and_metrics_answer() {
    let app = TestApp::spawn().await;
    let get = |p: &'static str| app.client.get(format!("{}{p}", app.address)).send();
    assert_eq!(get("/healthz").await.unwrap().status(), 200);
    let ready = get("/readyz").await.unwrap();
    assert_eq!(ready.status(), 200);
    assert_eq!(ready.text().await.unwrap(), "ready");

    let link = app
        .new_link(json!({"destination": "https://shop.example/"}))
        .await;
    app.visit(link["slug"].as_str().unwrap()).await;
    app.visit("missing-one").await;
    app.flush_clicks().await;
    let metrics = get("/metrics").await.unwrap().text().await.unwrap();
    for name in [
        "lanterne_redirects_total{status=\"302\"}",
        "lanterne_redirects_total{status=\"404\"}",
        "lanterne_click_rows_written_total",
        "lanterne_click_batches_written_total",
        "lanterne_link_cache_total{result=\"hit\"}",
        "lanterne_http_request_duration_seconds_bucket{route=\"redirect\"",
    ] {
        assert!(metrics.contains(name), "/metrics lacks {name}");
    }
}

#[tokio::test]
async fn readiness_fails_when_a_migration_is_missing() {
    let app = TestApp::spawn().await;
    sqlx::query(
        "delete from _sqlx_migrations where version = (select max(version) from _sqlx_migrations)",
    )
    .execute(&app.db)
    .await
    .unwrap();
    let res = app
        .client
        .get(format!("{}/readyz", app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 503);
    assert!(
        res.text()
            .await
            .unwrap()
            .contains("1 migrations not applied")
    );
}

#[tokio::test]
async fn unknown_api_paths_get_a_json_404() {
    let app = TestApp::spawn().await;
    let res = app.api_get("/api/v1/nothing").await;
    assert_eq!(res.status(), 404);
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(body["error"]["code"], "not_found");
}

#[tokio::test]
async fn with_metrics_bind_metrics_are_served_only_on_their_own_listener() {
    let port = crate::server_process::free_port();
    let app = crate::harness::TestApp::spawn_with(crate::harness::Options {
        tweak: Box::new(move |s| s.metrics.bind = format!("127.0.0.1:{port}")),
        ..crate::harness::Options::default()
    })
    .await;
    let public = app
        .client
        .get(format!("{}/metrics", app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(public.status(), 404, "not on the public listener");
    let own = app
        .client
        .get(format!("http://127.0.0.1:{port}/metrics"))
        .send()
        .await
        .unwrap();
    assert_eq!(own.status(), 200);
    assert!(own.text().await.unwrap().contains("lanterne_"));
}
