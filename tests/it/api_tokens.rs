//! `/api/v1/tokens` and token authentication over real HTTP: a secret shown
//! once, revocation, ownership (users manage their own, admins all), the
//! Bearer scheme in any case, and the failed-authentication throttle.

use reqwest::{Method, Response, StatusCode};
use serde_json::{Value, json};

use crate::harness::{Options, TestApp};
use lanterne::users::Role;

async fn body(res: Response) -> (StatusCode, Value) {
    let status = res.status();
    (status, res.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn a_token_is_shown_once_works_and_stops_working_when_revoked() {
    let app = TestApp::spawn().await;
    let viewer = app.user(Role::Viewer, None).await;
    let (status, created) = body(
        app.api(
            Method::POST,
            "/api/v1/tokens",
            &viewer.token,
            Some(json!({"name": " ci "})),
        )
        .await,
    )
    .await;
    assert_eq!(status, 201, "{created}");
    assert_eq!(created["name"], "ci");
    assert_eq!(created["user_id"], viewer.id);
    let secret = created["secret"].as_str().unwrap().to_owned();
    assert!(secret.starts_with("lnt_"));
    assert_eq!(
        app.api(Method::GET, "/api/v1/links", &secret, None)
            .await
            .status(),
        200
    );

    let (_, list) = body(
        app.api(Method::GET, "/api/v1/tokens", &viewer.token, None)
            .await,
    )
    .await;
    let listed = list.to_string();
    assert!(!listed.contains(&secret), "listings never show a secret");
    assert_eq!(
        list["data"].as_array().unwrap().len(),
        2,
        "only the viewer's own tokens"
    );

    let path = format!("/api/v1/tokens/{}", created["id"]);
    assert_eq!(
        app.api(Method::DELETE, &path, &viewer.token, None)
            .await
            .status(),
        204
    );
    let (status, err) = body(app.api(Method::GET, "/api/v1/links", &secret, None).await).await;
    assert_eq!(
        (status, err["error"]["code"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("invalid_token"))
    );
    assert_eq!(
        app.api(Method::DELETE, &path, &viewer.token, None)
            .await
            .status(),
        404,
        "already revoked"
    );
}

#[tokio::test]
async fn users_manage_only_their_own_tokens_and_admins_manage_all() {
    let app = TestApp::spawn().await;
    let ana = app.user(Role::Editor, None).await;
    let bo = app.user(Role::Viewer, None).await;
    let (_, bo_tokens) = body(
        app.api(Method::GET, "/api/v1/tokens", &bo.token, None)
            .await,
    )
    .await;
    let bo_token_id = bo_tokens["data"][0]["id"].as_i64().unwrap();

    let other = format!("/api/v1/tokens/{bo_token_id}");
    assert_eq!(
        app.api(Method::DELETE, &other, &ana.token, None)
            .await
            .status(),
        404,
        "another user's token is not found"
    );
    assert_eq!(
        app.api(Method::GET, "/api/v1/me", &bo.token, None)
            .await
            .status(),
        200
    );
    let res = app
        .api(
            Method::POST,
            "/api/v1/tokens",
            &ana.token,
            Some(json!({"user_id": bo.id})),
        )
        .await;
    assert_eq!(res.status(), 403);
    let listing = format!("/api/v1/tokens?user_id={}", bo.id);
    assert_eq!(
        app.api(Method::GET, &listing, &ana.token, None)
            .await
            .status(),
        403
    );

    let (_, all) = body(
        app.api(Method::GET, "/api/v1/tokens", &app.token, None)
            .await,
    )
    .await;
    assert_eq!(
        all["data"].as_array().unwrap().len(),
        3,
        "admin sees every token"
    );
    let (status, made) = body(
        app.api(
            Method::POST,
            "/api/v1/tokens",
            &app.token,
            Some(json!({"user_id": bo.id, "name": "for bo"})),
        )
        .await,
    )
    .await;
    assert_eq!(
        (status, made["user_id"].as_i64()),
        (StatusCode::CREATED, Some(bo.id))
    );
    assert_eq!(
        app.api(Method::DELETE, &other, &app.token, None)
            .await
            .status(),
        204
    );
    assert_eq!(
        app.api(Method::GET, "/api/v1/me", &bo.token, None)
            .await
            .status(),
        401
    );
}

#[tokio::test]
async fn the_bearer_scheme_is_accepted_in_any_case() {
    let app = TestApp::spawn().await;
    for scheme in ["Bearer", "bearer", "BEARER"] {
        let res = app
            .client
            .get(format!("{}/api/v1/links", app.address))
            .header("authorization", format!("{scheme} {}", app.token))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200, "{scheme}");
    }
    let res = app
        .client
        .get(format!("{}/api/v1/links", app.address))
        .header("authorization", format!("Basic {}", app.token))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401, "another scheme is no credential");
}

#[tokio::test]
async fn a_flood_of_bad_tokens_from_one_client_is_refused_429_before_the_database() {
    let app = TestApp::spawn_with(Options {
        tweak: Box::new(|s| s.server.trusted_proxies = vec!["127.0.0.1/32".parse().unwrap()]),
        ..Options::default()
    })
    .await;
    let from = |ip: &'static str, token: String| {
        app.client
            .get(format!("{}/api/v1/links", app.address))
            .header("x-forwarded-for", ip)
            .bearer_auth(token)
            .send()
    };
    for i in 0..20 {
        let res = from("198.51.100.7", format!("lnt_guess{i}")).await.unwrap();
        assert_eq!(res.status(), 401, "attempt {i} is within the free budget");
    }
    let res = from("198.51.100.7", "lnt_guess20".into()).await.unwrap();
    assert_eq!(res.status(), 401, "the 21st failure is answered, and locks");
    let res = from("198.51.100.7", "lnt_guess21".into()).await.unwrap();
    assert_eq!(res.status(), 429);
    let retry: u64 = res.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=300).contains(&retry), "Retry-After {retry}");
    let (_, err) = body(res).await;
    assert_eq!(err["error"]["code"], "rate_limited");
    assert_eq!(
        from("198.51.100.7", app.token.clone())
            .await
            .unwrap()
            .status(),
        429,
        "while locked even a valid token is not looked up"
    );
    assert_eq!(
        from("198.51.100.8", app.token.clone())
            .await
            .unwrap()
            .status(),
        200,
        "other clients are not affected"
    );
}
