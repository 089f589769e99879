//! The admin, account and token pages in a real browser: an admin adds a
//! user who then signs in, changes their role and disables them (their
//! session stops working); the last admin cannot be disabled; a token is
//! shown once, works with the API and stops when revoked; a user changes
//! their password (the old one is refused after) and language (the page is
//! then French); editors and viewers get 403 and their posts change
//! nothing; a token name with markup is shown as text; axe-core finds no
//! serious violation on any of these pages.

use fantoccini::Locator;
use lanterne::users::Role;

use crate::{browser::Browser, harness::TestApp};

const PASSWORD: &str = "correct horse battery";

/// Picks the `<option value=…>` of the `<select id=…>`.
async fn choose(b: &Browser, select_id: &str, value: &str) {
    let css = format!("#{select_id} option[value='{value}']");
    b.client
        .find(Locator::Css(&css))
        .await
        .unwrap_or_else(|_| panic!("an option {css}"))
        .click()
        .await
        .unwrap();
}

async fn role_of(app: &TestApp, email: &str) -> (String, bool) {
    sqlx::query_as("select role::text, disabled_at is not null from users where email = $1")
        .bind(email)
        .fetch_one(&app.db)
        .await
        .unwrap()
}

async fn api_status(app: &TestApp, token: &str) -> u16 {
    app.client
        .get(format!("{}/api/v1/links", app.address))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

#[tokio::test]
async fn an_admin_adds_a_user_changes_their_role_disables_them_and_keeps_the_last_admin() {
    let app = TestApp::spawn().await;
    let admin = app.user(Role::Admin, Some(PASSWORD)).await;
    let b = Browser::start().await;
    b.sign_in(&app, &admin.email, PASSWORD).await;
    b.click("Users & tokens").await;
    b.wait_for_text("Add a user").await;
    assert_eq!(b.path().await, "/admin/users");
    b.assert_accessible("/admin/users").await;

    // Refused fields come back beside their fields, with what was typed.
    b.fill("Email", "not-an-email").await;
    b.fill("Password (optional)", "short").await;
    b.click("Add user").await;
    b.wait_for_text("There is a problem").await;
    let text = b.text().await;
    assert!(text.contains("Enter an e-mail address"), "{text}");
    assert!(text.contains("at least 10 characters"), "{text}");
    b.assert_accessible("/admin/users (refused)").await;

    let email = "ana@example.com";
    b.fill("Email", email).await;
    choose(&b, "role", "editor").await;
    b.fill("Password (optional)", PASSWORD).await;
    b.click("Add user").await;
    b.wait_for_text("User added").await;
    b.screenshot("admin-users").await;
    assert_eq!(role_of(&app, email).await, ("editor".into(), false));

    // The new user signs in, in a browser of their own.
    let ana = Browser::start().await;
    ana.sign_in(&app, email, PASSWORD).await;
    assert_eq!(ana.path().await, "/links", "signed in");

    b.click(email).await;
    b.wait_for_text("Reset password").await;
    b.assert_accessible("/admin/users/{id}").await;
    b.screenshot("admin-user").await;
    choose(&b, "role", "viewer").await;
    b.click("Change role").await;
    b.wait_for_text("Role changed").await;
    assert_eq!(role_of(&app, email).await, ("viewer".into(), false));

    b.click("Disable user").await;
    b.wait_for_text("User disabled").await;
    assert_eq!(role_of(&app, email).await, ("viewer".into(), true));
    ana.open(&app, "/links").await;
    assert!(
        ana.path().await.starts_with("/login"),
        "their session ended"
    );
    ana.close().await;

    // The harness's admin is disabled; then this admin is the last one.
    let other: i64 = sqlx::query_scalar("select id from users where role = 'admin' and id <> $1")
        .bind(admin.id)
        .fetch_one(&app.db)
        .await
        .unwrap();
    b.open(&app, &format!("/admin/users/{other}")).await;
    b.click("Disable user").await;
    b.wait_for_text("User disabled").await;
    b.open(&app, &format!("/admin/users/{}", admin.id)).await;
    b.click("Disable user").await;
    b.wait_for_text("There is a problem").await;
    assert!(b.text().await.contains("This is the last active admin"));
    b.assert_accessible("/admin/users/{id} (last admin)").await;
    choose(&b, "role", "editor").await;
    b.click("Change role").await;
    b.wait_for_text("There is a problem").await;
    assert!(b.text().await.contains("before changing this role"));
    assert_eq!(role_of(&app, &admin.email).await, ("admin".into(), false));
    b.close().await;
}

#[tokio::test]
async fn a_token_is_shown_once_works_with_the_api_and_stops_when_revoked() {
    let app = TestApp::spawn().await;
    let admin = app.user(Role::Admin, Some(PASSWORD)).await;
    let editor = app.user(Role::Editor, None).await;
    let b = Browser::start().await;
    b.sign_in(&app, &admin.email, PASSWORD).await;
    b.open(&app, "/admin/users").await;
    b.click("API tokens").await;
    b.wait_for_text("Create a token").await;
    b.assert_accessible("/admin/tokens").await;

    let name = "<script>alert(1)</script> CI";
    choose(&b, "user_id", &editor.id.to_string()).await;
    b.fill("Token name", name).await;
    b.click("Create token").await;
    b.wait_for_text("Token created").await;
    b.assert_accessible("token created").await;
    b.screenshot("admin-token-created").await;
    let secret = b
        .client
        .find(Locator::Id("token-secret"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(secret.starts_with("lnt_"), "{secret}");
    assert!(b.text().await.contains(&editor.email), "its owner");
    assert_eq!(api_status(&app, &secret).await, 200, "the token works");

    b.click("Done").await;
    b.wait_for_text("Create a token").await;
    let text = b.text().await;
    assert!(text.contains(name), "markup shown as text: {text}");
    let html = b.client.source().await.unwrap();
    assert!(!html.contains(&secret), "the secret is shown only once");
    assert!(!html.contains("<script>alert"), "escaped");
    b.screenshot("admin-tokens").await;

    let prefix: String = sqlx::query_scalar("select prefix from api_tokens where name = $1")
        .bind(name)
        .fetch_one(&app.db)
        .await
        .unwrap();
    b.click(&format!("Revoke {prefix}")).await;
    b.wait_for_text("Token revoked").await;
    assert_eq!(api_status(&app, &secret).await, 401, "revoked");
    assert_eq!(
        api_status(&app, &editor.token).await,
        200,
        "others still work"
    );
    b.close().await;
}

#[tokio::test]
async fn a_user_changes_their_password_and_language_and_makes_a_token_of_their_own() {
    let app = TestApp::spawn().await;
    let viewer = app.user(Role::Viewer, Some(PASSWORD)).await;
    let b = Browser::with_size(390, 844).await;
    b.sign_in(&app, &viewer.email, PASSWORD).await;
    b.click("Account").await;
    b.wait_for_text("Your API tokens").await;
    b.assert_accessible("/account").await;
    b.screenshot("account-phone").await;

    let new = "a much longer secret";
    b.fill("Current password", "not the password").await;
    b.fill("New password", new).await;
    b.fill("Confirm the new password", "something else").await;
    b.click("Change password").await;
    b.wait_for_text("are not the same").await;
    // Password fields are never sent back: type them again.
    b.fill("Current password", "not the password").await;
    b.fill("New password", new).await;
    b.fill("Confirm the new password", new).await;
    b.click("Change password").await;
    b.wait_for_text("current password is not right").await;
    b.assert_accessible("/account (refused)").await;
    b.fill("Current password", PASSWORD).await;
    b.fill("New password", new).await;
    b.fill("Confirm the new password", new).await;
    b.click("Change password").await;
    b.wait_for_text("Your password is changed").await;
    assert_eq!(b.path().await, "/account", "this session stays");
    assert!(
        app.sign_in(&viewer.email, PASSWORD, "127.0.0.2")
            .await
            .is_err()
    );
    assert!(app.sign_in(&viewer.email, new, "127.0.0.2").await.is_ok());

    b.fill("Token name", "my script").await;
    b.click("Create token").await;
    b.wait_for_text("Token created").await;
    let secret = b.client.find(Locator::Id("token-secret")).await.unwrap();
    let secret = secret.text().await.unwrap();
    assert_eq!(api_status(&app, &secret).await, 200);

    b.open(&app, "/account").await;
    choose(&b, "language", "fr").await;
    b.click("Save language").await;
    b.wait_for_text("Langue enregistrée").await;
    let html = b.client.source().await.unwrap();
    assert!(html.contains("<html lang=\"fr\""), "the page is French");
    assert!(b.text().await.contains("Vos jetons d’API"));
    b.assert_accessible("/account (fr)").await;
    b.screenshot("account-fr-phone").await;
    b.close().await;
}

#[tokio::test]
async fn editors_and_viewers_get_403_on_admin_pages_and_their_posts_change_nothing() {
    let app = TestApp::spawn().await;
    let editor = app.user(Role::Editor, Some(PASSWORD)).await;
    let viewer = app.user(Role::Viewer, Some(PASSWORD)).await;
    let b = Browser::start().await;
    b.sign_in(&app, &editor.email, PASSWORD).await;
    let html = b.client.source().await.unwrap();
    assert!(
        !html.contains("/admin/users"),
        "no admin entry for an editor"
    );
    b.open(&app, "/admin/users").await;
    b.wait_for_text("You cannot do this").await;
    b.close().await;

    let users: i64 = sqlx::query_scalar("select count(*) from users")
        .fetch_one(&app.db)
        .await
        .unwrap();
    for who in [&editor, &viewer] {
        let session = app
            .sign_in(&who.email, PASSWORD, "127.0.0.1")
            .await
            .unwrap();
        let cookie = format!("lanterne_session={session}");
        for path in [
            "/admin/users",
            "/admin/tokens",
            &format!("/admin/users/{}", who.id),
        ] {
            let res = app
                .client
                .get(format!("{}{path}", app.address))
                .header("cookie", &cookie)
                .send()
                .await
                .unwrap();
            assert_eq!(res.status(), 403, "GET {path}");
        }
        let posts: [(String, Vec<(&str, String)>); 3] = [
            (
                "/admin/users".into(),
                vec![("email", "x@example.com".into()), ("role", "admin".into())],
            ),
            (
                format!("/admin/users/{}", who.id),
                vec![("role", "admin".into())],
            ),
            (
                "/admin/tokens".into(),
                vec![("user_id", who.id.to_string()), ("name", "x".into())],
            ),
        ];
        for (path, form) in posts {
            let res = app
                .client
                .post(format!("{}{path}", app.address))
                .header("cookie", &cookie)
                .form(&form)
                .send()
                .await
                .unwrap();
            assert_eq!(res.status(), 403, "POST {path}");
        }
        assert_ne!(role_of(&app, &who.email).await.0, "admin");
    }
    let after: i64 = sqlx::query_scalar("select count(*) from users")
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(after, users, "no user added");
    let named_x: i64 = sqlx::query_scalar("select count(*) from api_tokens where name = 'x'")
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(named_x, 0, "no token created");
}
