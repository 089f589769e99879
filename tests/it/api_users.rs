//! `/api/v1/users` and `/api/v1/me` over real HTTP: every endpoint, the role
//! guards (refusals change nothing), the last-admin rule (also under
//! concurrent demotions), disabled accounts, input errors named by field.

use reqwest::{Method, Response, StatusCode};
use serde_json::{Value, json};

use crate::harness::TestApp;
use lanterne::users::Role;

async fn body(res: Response) -> (StatusCode, Value) {
    let status = res.status();
    (status, res.json().await.unwrap_or(Value::Null))
}

async fn role_of(app: &TestApp, id: i64) -> String {
    sqlx::query_scalar("select role from users where id = $1")
        .bind(id)
        .fetch_one(&app.db)
        .await
        .unwrap()
}

async fn user_count(app: &TestApp) -> i64 {
    sqlx::query_scalar("select count(*) from users")
        .fetch_one(&app.db)
        .await
        .unwrap()
}

#[tokio::test]
async fn an_admin_creates_lists_reads_and_changes_users() {
    let app = TestApp::spawn().await;
    let (status, created) = body(
        app.api(
            Method::POST,
            "/api/v1/users",
            &app.token,
            Some(json!({"email": "ana@example.com", "role": "editor",
                        "password": "correct horse battery", "language": "fr"})),
        )
        .await,
    )
    .await;
    assert_eq!(status, 201, "{created}");
    assert_eq!(created["email"], "ana@example.com");
    assert_eq!(created["role"], "editor");
    assert_eq!(created["language"], "fr");
    assert_eq!(created["disabled"], false);
    assert_eq!(created["has_password"], true);
    assert!(created.get("password_hash").is_none(), "never the hash");
    let id = created["id"].as_i64().unwrap();

    let (status, list) = body(
        app.api(Method::GET, "/api/v1/users", &app.token, None)
            .await,
    )
    .await;
    assert_eq!(status, 200);
    let emails: Vec<&str> = list["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["email"].as_str().unwrap())
        .collect();
    assert_eq!(emails.len(), 2, "the test admin and ana: {emails:?}");
    assert!(emails.contains(&"ana@example.com"));

    let path = format!("/api/v1/users/{id}");
    let (status, one) = body(app.api(Method::GET, &path, &app.token, None).await).await;
    assert_eq!((status, one["id"].as_i64()), (StatusCode::OK, Some(id)));

    let patch = json!({"role": "viewer", "language": null, "disabled": true});
    let (status, changed) =
        body(app.api(Method::PATCH, &path, &app.token, Some(patch)).await).await;
    assert_eq!(status, 200, "{changed}");
    assert_eq!(changed["role"], "viewer");
    assert_eq!(changed["language"], Value::Null, "null clears the language");
    assert_eq!(changed["disabled"], true);
    assert!(changed["disabled_at"].is_string());
    assert_eq!(role_of(&app, id).await, "viewer");

    let (status, enabled) = body(
        app.api(
            Method::PATCH,
            &path,
            &app.token,
            Some(json!({"disabled": false})),
        )
        .await,
    )
    .await;
    assert_eq!(
        (status, &enabled["disabled"]),
        (StatusCode::OK, &json!(false))
    );
    assert_eq!(enabled["role"], "viewer", "an absent field is unchanged");
}

#[tokio::test]
async fn viewers_and_editors_are_refused_user_management_and_nothing_changes() {
    let app = TestApp::spawn().await;
    let target = app.user(Role::Viewer, None).await;
    for role in [Role::Viewer, Role::Editor] {
        let caller = app.user(role, None).await;
        let before = user_count(&app).await;
        let target_path = format!("/api/v1/users/{}", target.id);
        let attempts = [
            (Method::GET, "/api/v1/users".to_owned(), None),
            (
                Method::POST,
                "/api/v1/users".to_owned(),
                Some(json!({"email": "eve@example.com", "role": "admin"})),
            ),
            (Method::GET, target_path.clone(), None),
            (
                Method::PATCH,
                target_path.clone(),
                Some(json!({"role": "admin"})),
            ),
            (
                Method::PATCH,
                format!("/api/v1/users/{}", caller.id),
                Some(json!({"role": "admin"})),
            ),
        ];
        for (method, path, req) in attempts {
            let (status, err) =
                body(app.api(method.clone(), &path, &caller.token, req).await).await;
            assert_eq!(status, 403, "{role} {method} {path}: {err}");
            assert_eq!(err["error"]["code"], "forbidden");
        }
        assert_eq!(user_count(&app).await, before, "{role}: no user created");
        assert_eq!(
            role_of(&app, target.id).await,
            "viewer",
            "{role}: target unchanged"
        );
        assert_eq!(
            role_of(&app, caller.id).await,
            role.as_str(),
            "no self-promotion"
        );
    }
}

#[tokio::test]
async fn the_last_active_admin_cannot_be_demoted_or_disabled() {
    let app = TestApp::spawn().await;
    let (_, me) = body(app.api(Method::GET, "/api/v1/me", &app.token, None).await).await;
    let admin_path = format!("/api/v1/users/{}", me["id"]);
    for (patch, field) in [
        (json!({"role": "editor"}), "role"),
        (json!({"disabled": true}), "disabled"),
    ] {
        let (status, err) = body(
            app.api(Method::PATCH, &admin_path, &app.token, Some(patch))
                .await,
        )
        .await;
        assert_eq!(status, 409, "{err}");
        assert_eq!(err["error"]["code"], "last_admin");
        assert_eq!(err["error"]["field"], field);
    }
    assert_eq!(role_of(&app, me["id"].as_i64().unwrap()).await, "admin");

    // A second admin makes the first one removable, and then is the last.
    let other = app.user(Role::Admin, None).await;
    let res = app
        .api(
            Method::PATCH,
            &admin_path,
            &app.token,
            Some(json!({"role": "editor"})),
        )
        .await;
    assert_eq!(res.status(), 200);
    let res = app
        .api(
            Method::PATCH,
            &format!("/api/v1/users/{}", other.id),
            &other.token,
            Some(json!({"disabled": true})),
        )
        .await;
    assert_eq!(res.status(), 409, "the other admin is now the last one");
    assert_eq!(role_of(&app, other.id).await, "admin");
}

#[tokio::test]
async fn two_admins_demoting_each_other_at_once_leave_one_admin() {
    let app = TestApp::spawn().await;
    let (_, me) = body(app.api(Method::GET, "/api/v1/me", &app.token, None).await).await;
    let first = me["id"].as_i64().unwrap();
    let other = app.user(Role::Admin, None).await;
    let demote = |id: i64, token: String| {
        let app = &app;
        async move {
            let path = format!("/api/v1/users/{id}");
            app.api(
                Method::PATCH,
                &path,
                &token,
                Some(json!({"role": "viewer"})),
            )
            .await
            .status()
        }
    };
    let (a, b) = tokio::join!(
        demote(other.id, app.token.clone()),
        demote(first, other.token.clone())
    );
    let mut statuses = [a.as_u16(), b.as_u16()];
    statuses.sort();
    assert!(
        statuses == [200, 409] || statuses == [200, 401] || statuses == [200, 403],
        "one demotion wins, the other is refused: {statuses:?}"
    );
    let admins: i64 = sqlx::query_scalar(
        "select count(*) from users where role = 'admin' and disabled_at is null",
    )
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert_eq!(admins, 1, "exactly one active admin remains");
}

#[tokio::test]
async fn a_disabled_users_token_and_session_stop_working_at_once() {
    let app = TestApp::spawn().await;
    let ana = app.user(Role::Editor, Some("correct horse battery")).await;
    let session = app
        .sign_in(&ana.email, "correct horse battery", "192.0.2.1")
        .await
        .unwrap();
    assert_eq!(
        app.api(Method::GET, "/api/v1/me", &ana.token, None)
            .await
            .status(),
        200
    );
    assert_eq!(
        app.get_with_session("/api/v1/me", &session).await.status(),
        200
    );

    let path = format!("/api/v1/users/{}", ana.id);
    let res = app
        .api(
            Method::PATCH,
            &path,
            &app.token,
            Some(json!({"disabled": true})),
        )
        .await;
    assert_eq!(res.status(), 200);
    let (status, err) = body(
        app.api(Method::GET, "/api/v1/links", &ana.token, None)
            .await,
    )
    .await;
    assert_eq!(
        (status, err["error"]["code"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("account_disabled"))
    );
    assert_eq!(
        app.get_with_session("/api/v1/me", &session).await.status(),
        401
    );
    assert!(
        app.sign_in(&ana.email, "correct horse battery", "192.0.2.1")
            .await
            .is_err(),
        "a disabled user cannot sign in"
    );

    let res = app
        .api(
            Method::PATCH,
            &path,
            &app.token,
            Some(json!({"disabled": false})),
        )
        .await;
    assert_eq!(res.status(), 200);
    assert_eq!(
        app.api(Method::GET, "/api/v1/me", &ana.token, None)
            .await
            .status(),
        200,
        "enabled again: the token works again"
    );
    assert_eq!(
        app.get_with_session("/api/v1/me", &session).await.status(),
        401,
        "the sessions ended for good at the disable"
    );
}

#[tokio::test]
async fn bad_user_input_is_refused_naming_the_field_and_writes_nothing() {
    let app = TestApp::spawn().await;
    let existing = app.user(Role::Viewer, None).await;
    let before = user_count(&app).await;
    let ok = |extra: Value| {
        let mut v = json!({"email": "new@example.com", "role": "viewer"});
        v.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        v
    };
    let cases = [
        (json!({"role": "viewer"}), 422, "invalid_email", "email"),
        (ok(json!({"email": "nope"})), 422, "invalid_email", "email"),
        (ok(json!({"role": "root"})), 422, "invalid_role", "role"),
        (
            json!({"email": "new@example.com"}),
            422,
            "invalid_role",
            "role",
        ),
        (
            ok(json!({"password": "short"})),
            422,
            "weak_password",
            "password",
        ),
        (
            ok(json!({"language": "de"})),
            422,
            "invalid_language",
            "language",
        ),
        (
            ok(json!({"email": existing.email.to_uppercase()})),
            409,
            "email_taken",
            "email",
        ),
    ];
    for (req, status, code, field) in cases {
        let (got, err) = body(
            app.api(Method::POST, "/api/v1/users", &app.token, Some(req.clone()))
                .await,
        )
        .await;
        assert_eq!(got.as_u16(), status, "{req}: {err}");
        assert_eq!(err["error"]["code"], code, "{req}");
        assert_eq!(err["error"]["field"], field, "{req}");
    }
    let (got, _) = body(
        app.api(
            Method::POST,
            "/api/v1/users",
            &app.token,
            Some(ok(json!({"admin": true}))),
        )
        .await,
    )
    .await;
    assert_eq!(got, 422, "unknown fields are refused");
    assert_eq!(user_count(&app).await, before, "nothing was created");

    let path = format!("/api/v1/users/{}", existing.id);
    for (req, code, field) in [
        (json!({"role": "boss"}), "invalid_role", "role"),
        (json!({"language": "xx"}), "invalid_language", "language"),
        (json!({"password": "123"}), "weak_password", "password"),
    ] {
        let (got, err) = body(
            app.api(Method::PATCH, &path, &app.token, Some(req.clone()))
                .await,
        )
        .await;
        assert_eq!(
            (
                got.as_u16(),
                err["error"]["code"].as_str(),
                err["error"]["field"].as_str()
            ),
            (422, Some(code), Some(field)),
            "{req}"
        );
    }
    assert_eq!(role_of(&app, existing.id).await, "viewer");
    for bad in [
        "/api/v1/users/999999",
        "/api/v1/users/abc",
        "/api/v1/users/-1",
    ] {
        let res = app
            .api(
                Method::PATCH,
                bad,
                &app.token,
                Some(json!({"role": "editor"})),
            )
            .await;
        assert_eq!(res.status(), 404, "{bad}");
    }
    let long = "n".repeat(101);
    let (got, err) = body(
        app.api(
            Method::POST,
            "/api/v1/tokens",
            &app.token,
            Some(json!({"name": long})),
        )
        .await,
    )
    .await;
    assert_eq!(
        (got.as_u16(), err["error"]["field"].as_str()),
        (422, Some("name"))
    );
}

#[tokio::test]
async fn users_change_their_own_language_and_password_with_the_current_one() {
    let app = TestApp::spawn().await;
    let ana = app.user(Role::Viewer, Some("correct horse battery")).await;
    let other_session = app
        .sign_in(&ana.email, "correct horse battery", "192.0.2.1")
        .await
        .unwrap();
    let (status, me) = body(
        app.api(
            Method::PATCH,
            "/api/v1/me",
            &ana.token,
            Some(json!({"language": "fr"})),
        )
        .await,
    )
    .await;
    assert_eq!(
        (status, me["language"].as_str()),
        (StatusCode::OK, Some("fr"))
    );

    let wrong =
        json!({"password": "a brand new secret", "current_password": "nope", "language": "en"});
    let (status, err) = body(
        app.api(Method::PATCH, "/api/v1/me", &ana.token, Some(wrong))
            .await,
    )
    .await;
    assert_eq!(status, 422);
    assert_eq!(err["error"]["field"], "current_password");
    let (_, me) = body(app.api(Method::GET, "/api/v1/me", &ana.token, None).await).await;
    assert_eq!(me["language"], "fr", "a refused change changes nothing");

    let right =
        json!({"password": "a brand new secret", "current_password": "correct horse battery"});
    assert_eq!(
        app.api(Method::PATCH, "/api/v1/me", &ana.token, Some(right))
            .await
            .status(),
        200
    );
    assert!(
        app.sign_in(&ana.email, "correct horse battery", "192.0.2.2")
            .await
            .is_err()
    );
    assert!(
        app.sign_in(&ana.email, "a brand new secret", "192.0.2.2")
            .await
            .is_ok()
    );
    assert_eq!(
        app.get_with_session("/api/v1/me", &other_session)
            .await
            .status(),
        401,
        "a new password ends the other sessions"
    );
}
