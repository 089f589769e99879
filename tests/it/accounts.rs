//! The sign-in service (the core of the sign-in page) and sessions, against
//! a real server and database: rotation, sign-out, one error for every
//! refusal, throttling per account and per IP, expiry, writes at most once a
//! minute, and sessions shared by instances.

use lanterne::users::{Role, identity::AuthError};

use crate::harness::TestApp;

const PASSWORD: &str = "correct horse battery";

#[tokio::test]
async fn each_sign_in_makes_a_new_session_and_signing_out_ends_it() {
    let app = TestApp::spawn().await;
    let ana = app.user(Role::Editor, Some(PASSWORD)).await;
    let first = app
        .sign_in(&ana.email, PASSWORD, "192.0.2.1")
        .await
        .unwrap();
    let second = app
        .sign_in(&ana.email.to_uppercase(), PASSWORD, "192.0.2.1")
        .await
        .unwrap();
    assert_ne!(first, second, "a new session id at every sign-in");
    let stored: Vec<Vec<u8>> =
        sqlx::query_scalar("select secret_hash from sessions where user_id = $1")
            .bind(ana.id)
            .fetch_all(&app.db)
            .await
            .unwrap();
    assert_eq!(stored.len(), 2);
    assert!(
        stored.contains(&lanterne::users::token_hash(&first)),
        "only the secret's hash is stored"
    );
    let res = app.get_with_session("/api/v1/me", &first).await;
    assert_eq!(res.status(), 200);
    let me: serde_json::Value = res.json().await.unwrap();
    assert_eq!(me["email"], ana.email.as_str());

    app.state.accounts.sign_out(&app.db, &first).await.unwrap();
    assert_eq!(
        app.get_with_session("/api/v1/me", &first).await.status(),
        401
    );
    assert_eq!(
        app.get_with_session("/api/v1/me", &second).await.status(),
        200,
        "only that session ended"
    );
}

#[tokio::test]
async fn sign_in_gives_the_same_error_whatever_the_cause() {
    let app = TestApp::spawn().await;
    let ana = app.user(Role::Viewer, Some(PASSWORD)).await;
    let tokens_only = app.user(Role::Viewer, None).await;
    let disabled = app.user(Role::Viewer, Some(PASSWORD)).await;
    sqlx::query("update users set disabled_at = now() where id = $1")
        .bind(disabled.id)
        .execute(&app.db)
        .await
        .unwrap();
    let cases = [
        ("nobody@example.com", PASSWORD, "unknown e-mail"),
        (ana.email.as_str(), "wrong horse battery", "wrong password"),
        (tokens_only.email.as_str(), PASSWORD, "no password"),
        (disabled.email.as_str(), PASSWORD, "disabled"),
        (ana.email.as_str(), "", "empty password"),
    ];
    for (i, (email, password, why)) in cases.into_iter().enumerate() {
        // A different IP each time: the IP throttle stays out of the way.
        let ip = format!("192.0.2.{}", 10 + i);
        let err = app.sign_in(email, password, &ip).await.unwrap_err();
        assert!(matches!(err, AuthError::Invalid), "{why}: {err:?}");
    }
}

#[tokio::test]
async fn repeated_failures_lock_the_account_and_the_client_with_backoff() {
    let app = TestApp::spawn().await;
    let ana = app.user(Role::Viewer, Some(PASSWORD)).await;
    for i in 0..6 {
        let err = app
            .sign_in(&ana.email, "wrong horse battery", &format!("192.0.2.{i}"))
            .await
            .unwrap_err();
        assert!(matches!(err, AuthError::Invalid), "failure {i}: {err:?}");
    }
    let err = app
        .sign_in(&ana.email, PASSWORD, "192.0.2.99")
        .await
        .unwrap_err();
    assert!(
        matches!(err, AuthError::RateLimited { .. }),
        "the account is locked, from any IP, even with the right password: {err:?}"
    );

    // One client trying many accounts.
    let bo = app.user(Role::Viewer, Some(PASSWORD)).await;
    for i in 0..11 {
        let email = format!("guess{i}@example.com");
        let err = app
            .sign_in(&email, PASSWORD, "203.0.113.5")
            .await
            .unwrap_err();
        assert!(matches!(err, AuthError::Invalid), "guess {i}");
    }
    let err = app
        .sign_in(&bo.email, PASSWORD, "203.0.113.5")
        .await
        .unwrap_err();
    assert!(matches!(err, AuthError::RateLimited { retry_after } if retry_after.as_secs() <= 1));
    assert!(
        app.sign_in(&bo.email, PASSWORD, "203.0.113.6")
            .await
            .is_ok(),
        "another client signs in"
    );
}

#[tokio::test]
async fn idle_and_absolute_expiry_end_a_session() {
    let app = TestApp::spawn().await;
    let ana = app.user(Role::Viewer, Some(PASSWORD)).await;
    // The absolute expiry passing drags the idle one along (a check
    // constraint keeps idle <= absolute).
    let cases = [
        ("idle", "idle_expires_at = now() - interval '1 second'"),
        (
            "absolute (caps the idle one)",
            "idle_expires_at = now() - interval '1 second', expires_at = now() - interval '1 second'",
        ),
    ];
    for (column, set) in cases {
        let secret = app
            .sign_in(&ana.email, PASSWORD, "192.0.2.1")
            .await
            .unwrap();
        assert_eq!(
            app.get_with_session("/api/v1/me", &secret).await.status(),
            200
        );
        let sql = format!("update sessions set {set} where secret_hash = $1");
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(lanterne::users::token_hash(&secret))
            .execute(&app.db)
            .await
            .unwrap();
        assert_eq!(
            app.get_with_session("/api/v1/me", &secret).await.status(),
            401,
            "{column} passed"
        );
    }
}

#[tokio::test]
async fn using_a_session_never_extends_it_past_its_absolute_expiry() {
    let app = TestApp::spawn().await;
    let ana = app.user(Role::Viewer, Some(PASSWORD)).await;
    let secret = app
        .sign_in(&ana.email, PASSWORD, "192.0.2.1")
        .await
        .unwrap();
    let hash = lanterne::users::token_hash(&secret);
    sqlx::query(
        "update sessions set last_seen_at = now() - interval '2 minutes', \
         idle_expires_at = now() + interval '30 seconds', expires_at = now() + interval '30 seconds' \
         where secret_hash = $1",
    )
    .bind(&hash)
    .execute(&app.db)
    .await
    .unwrap();
    assert_eq!(
        app.get_with_session("/api/v1/me", &secret).await.status(),
        200
    );
    let (refreshed, capped): (bool, bool) = sqlx::query_as(
        "select last_seen_at > now() - interval '1 minute', idle_expires_at <= expires_at \
         from sessions where secret_hash = $1",
    )
    .bind(&hash)
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert!(refreshed, "the use was recorded");
    assert!(
        capped,
        "the idle expiry stays within the absolute one (not now + 12h)"
    );
}

#[tokio::test]
async fn sessions_and_tokens_record_their_use_at_most_once_a_minute() {
    let app = TestApp::spawn().await;
    let ana = app.user(Role::Viewer, Some(PASSWORD)).await;
    let secret = app
        .sign_in(&ana.email, PASSWORD, "192.0.2.1")
        .await
        .unwrap();
    let hash = lanterne::users::token_hash(&secret);
    let seen = || async {
        sqlx::query_scalar::<_, time::OffsetDateTime>(
            "select last_seen_at from sessions where secret_hash = $1",
        )
        .bind(&hash)
        .fetch_one(&app.db)
        .await
        .unwrap()
    };
    let at_sign_in = seen().await;
    for _ in 0..3 {
        assert_eq!(
            app.get_with_session("/api/v1/me", &secret).await.status(),
            200
        );
    }
    assert_eq!(seen().await, at_sign_in, "no write within the minute");
    sqlx::query("update sessions set last_seen_at = last_seen_at - interval '2 minutes' where secret_hash = $1")
        .bind(&hash)
        .execute(&app.db)
        .await
        .unwrap();
    app.get_with_session("/api/v1/me", &secret).await;
    assert!(
        seen().await >= at_sign_in,
        "a stale last_seen_at is refreshed"
    );

    let used = || async {
        sqlx::query_scalar::<_, Option<time::OffsetDateTime>>(
            "select last_used_at from api_tokens where user_id = $1",
        )
        .bind(ana.id)
        .fetch_one(&app.db)
        .await
        .unwrap()
    };
    assert_eq!(used().await, None);
    app.api(reqwest::Method::GET, "/api/v1/me", &ana.token, None)
        .await;
    let first = used().await.expect("the first use is recorded");
    app.api(reqwest::Method::GET, "/api/v1/me", &ana.token, None)
        .await;
    assert_eq!(
        used().await,
        Some(first),
        "the second use within the minute writes nothing"
    );
}

#[tokio::test]
async fn a_session_works_on_another_instance_of_the_same_database() {
    let app = TestApp::spawn().await;
    let ana = app.user(Role::Viewer, Some(PASSWORD)).await;
    let secret = app
        .sign_in(&ana.email, PASSWORD, "192.0.2.1")
        .await
        .unwrap();
    let other = app.spawn_beside().await;
    assert_eq!(
        other.get_with_session("/api/v1/me", &secret).await.status(),
        200
    );
    other
        .state
        .accounts
        .sign_out(&other.db, &secret)
        .await
        .unwrap();
    assert_eq!(
        app.get_with_session("/api/v1/me", &secret).await.status(),
        401,
        "signed out everywhere"
    );
}

#[tokio::test]
async fn parallel_guesses_at_one_account_cannot_all_slip_past_the_lock() {
    let app = TestApp::spawn().await;
    let ana = app.user(Role::Viewer, Some(PASSWORD)).await;
    let guesses = (0..20).map(|i| {
        let (app, email) = (&app, ana.email.clone());
        async move {
            app.sign_in(
                &email,
                &format!("guess number {i}"),
                &format!("192.0.2.{i}"),
            )
            .await
        }
    });
    let results = futures_util::future::join_all(guesses).await;
    let checked = results
        .iter()
        .filter(|r| matches!(r, Err(AuthError::Invalid)))
        .count();
    let limited = results
        .iter()
        .filter(|r| matches!(r, Err(AuthError::RateLimited { .. })))
        .count();
    assert_eq!(
        (checked, limited),
        (6, 14),
        "only the free attempts reach Argon2"
    );
}
