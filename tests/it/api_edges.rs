//! The API's rough edges, as a hostile or unlucky client finds them: NUL
//! characters, `null` for fields that cannot be cleared, oversized headers
//! and bodies, bodies of the wrong shape, and a database outage.

use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::{Value, json};
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpStream,
};

use crate::{
    chaos::{ChaosProxy, upstream},
    harness::{Options, TestApp, create_database},
};

async fn error_of(res: reqwest::Response) -> (u16, Value) {
    let status = res.status().as_u16();
    let ct = res.headers()["content-type"].to_str().unwrap().to_owned();
    assert!(ct.starts_with("application/json"), "{status}: {ct}");
    (status, res.json::<Value>().await.unwrap()["error"].clone())
}

#[tokio::test]
async fn a_nul_in_a_filter_or_a_text_field_is_a_400_naming_the_field() {
    let app = TestApp::spawn().await;
    for (query, field) in [
        ("q=%00", "q"),
        ("tag=a%00", "tag"),
        ("campaign=%00x", "campaign"),
        ("limit=5&cursor=%00", "cursor"),
    ] {
        let (status, e) = error_of(app.api_get(&format!("/api/v1/links?{query}")).await).await;
        assert_eq!(status, 400, "{query}: {e}");
        assert_eq!(e["field"], field, "{query}: {e}");
    }
    let (status, e) = error_of(app.api_get("/api/v1/stats?link_id=%00").await).await;
    assert_eq!((status, e["field"].as_str()), (400, Some("link_id")));

    for (body, field) in [
        (
            json!({"destination": "https://a.example/\u{0}"}),
            "destination",
        ),
        (
            json!({"destination": "https://a.example/", "title": "x\u{0}"}),
            "title",
        ),
        (
            json!({"destination": "https://a.example/", "tags": ["ok", "\u{0}"]}),
            "tags[1]",
        ),
        (
            json!({"destination": "https://a.example/", "utm": {"campaign": "\u{0}"}}),
            "utm.campaign",
        ),
    ] {
        let (status, e) = error_of(app.create_link(body.clone()).await).await;
        assert_eq!(status, 400, "{body}: {e}");
        assert_eq!(e["field"], field, "{body}: {e}");
    }
    let count: i64 = sqlx::query_scalar("select count(*) from links")
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(count, 0, "nothing was created");
    let res = app
        .api(
            Method::POST,
            "/api/v1/users",
            &app.token.clone(),
            Some(json!({"email": "a\u{0}@example.com", "role": "viewer"})),
        )
        .await;
    let (status, e) = error_of(res).await;
    assert_eq!((status, e["field"].as_str()), (400, Some("email")));
}

#[tokio::test]
async fn null_for_a_field_that_cannot_be_cleared_is_a_422_naming_it() {
    let app = TestApp::spawn().await;
    let link = app
        .new_link(json!({"destination": "https://a.example/", "slug": "keep-me"}))
        .await;
    let id = link["id"].as_i64().unwrap();
    for field in ["destination", "slug", "enabled", "tags"] {
        let res = app.update_link(id, json!({ field: null })).await;
        let (status, e) = error_of(res).await;
        assert_eq!(status, 422, "{field}: {e}");
        assert_eq!(e["field"], field, "{e}");
        assert_eq!(e["code"], "not_clearable", "{e}");
    }
    let now: Value = app
        .api_get(&format!("/api/v1/links/{id}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(now["destination"], "https://a.example/");
    assert_eq!(now["slug"], "keep-me");
    assert_eq!(now["enabled"], true);
    // What can be cleared still is.
    let res = app.update_link(id, json!({"title": null})).await;
    assert_eq!(res.status(), 200);
}

#[tokio::test]
async fn bodies_of_the_wrong_shape_are_told_without_rust_type_names() {
    let app = TestApp::spawn().await;
    for (body, field) in [
        (json!("a string"), Value::Null),
        (json!([1, 2]), Value::Null),
        (json!({"destination": 5}), json!("destination")),
        (
            json!({"destination": "https://a.example/", "utm": "x"}),
            json!("utm"),
        ),
        (
            json!({"destination": "https://a.example/", "x": 1}),
            json!("x"),
        ),
        (
            json!({"destination": "https://a.example/", "expires_at": "soon"}),
            json!("expires_at"),
        ),
    ] {
        let (status, e) = error_of(app.create_link(body.clone()).await).await;
        assert_eq!(status, 422, "{body}: {e}");
        assert_eq!(e["field"], field, "{body}: {e}");
        let message = e["message"].as_str().unwrap();
        for rust in ["struct", "LinkInput", "Utm", "OffsetDateTime", " at line "] {
            assert!(!message.contains(rust), "{body}: {message}");
        }
    }
    let res = app
        .api(
            Method::POST,
            "/api/v1/users",
            &app.token.clone(),
            Some(json!(["x"])),
        )
        .await;
    let (_, e) = error_of(res).await;
    assert!(
        !e["message"].as_str().unwrap().contains("CreateUserRequest"),
        "{e}"
    );
}

#[tokio::test]
async fn oversized_headers_on_the_api_get_the_json_envelope() {
    let app = TestApp::spawn().await;
    let res = app
        .client
        .get(format!("{}/api/v1/links", app.address))
        .bearer_auth(&app.token)
        .header("x-padding", "a".repeat(20_000))
        .send()
        .await
        .unwrap();
    let (status, e) = error_of(res).await;
    assert_eq!(status, 431);
    assert_eq!(e["code"], "headers_too_large");
}

/// Sends raw bytes, returns what the server answered before closing or `wait`.
async fn raw(addr: &str, request: &[u8], wait: Duration) -> String {
    let mut s = TcpStream::connect(addr.trim_start_matches("http://"))
        .await
        .unwrap();
    s.write_all(request).await.unwrap();
    let mut got = Vec::new();
    let mut buf = [0; 4096];
    let until = tokio::time::Instant::now() + wait;
    while let Ok(Ok(n)) = tokio::time::timeout_at(until, s.read(&mut buf)).await {
        if n == 0 {
            break;
        }
        got.extend_from_slice(&buf[..n]);
        if got.windows(4).any(|w| w == b"\r\n\r\n") && got.ends_with(b"}") {
            break;
        }
    }
    String::from_utf8_lossy(&got).into_owned()
}

#[tokio::test]
async fn a_body_announced_larger_than_the_limit_is_refused_at_once() {
    let app = TestApp::spawn().await;
    let started = Instant::now();
    let request = format!(
        "POST /api/v1/links HTTP/1.1\r\nhost: 127.0.0.1\r\nauthorization: Bearer {}\r\n\
         content-type: application/json\r\ncontent-length: 100000000\r\n\r\n{{\"destin",
        app.token
    );
    let answer = raw(&app.address, request.as_bytes(), Duration::from_secs(5)).await;
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    assert!(answer.contains("\"body_too_large\""), "{answer}");
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "answered at once, not at the request timeout: {:?}",
        started.elapsed()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_api_answers_503_with_retry_after_while_the_database_is_down() {
    let proxy = ChaosProxy::start(upstream()).await;
    let db = create_database().await;
    let app = TestApp::spawn_with(Options {
        database_url: Some(proxy.url(&db)),
        database: Some(db),
        ..Options::default()
    })
    .await;
    assert_eq!(app.api_get("/api/v1/links").await.status(), 200);
    proxy.cut();
    // The first request finds out (authentication itself needs the
    // database); the next ones are answered at once.
    let (status, e) = {
        let res = app.api_get("/api/v1/links").await;
        let retry = res.headers().get("retry-after").cloned();
        let answer = error_of(res).await;
        assert_eq!(
            retry.as_ref().map(|v| v.to_str().unwrap()),
            Some("5"),
            "{answer:?}"
        );
        answer
    };
    assert_eq!(
        (status, e["code"].as_str()),
        (503, Some("database_unavailable"))
    );
    for path in ["/api/v1/links", "/api/v1/me", "/api/v1/links/1"] {
        let started = Instant::now();
        let res = app.api_get(path).await;
        assert_eq!(res.status(), 503, "{path}");
        assert_eq!(res.headers()["retry-after"], "5");
        assert!(
            started.elapsed() < Duration::from_millis(500),
            "{path}: answered at once, took {:?}",
            started.elapsed()
        );
    }
    // A session cookie too (the session lookup is the database's).
    let res = app.get_with_session("/api/v1/links", "nope").await;
    assert_eq!(res.status(), 503);

    proxy.restore();
    let mut back = false;
    for _ in 0..100 {
        if app.api_get("/api/v1/links").await.status() == 200 {
            back = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(back, "the API answers again once the database is back");
}
