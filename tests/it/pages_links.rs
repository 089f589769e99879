//! The workspace in a real browser: sign in by the form's labels, create a
//! link with its UTM fields from the form, see every refused field beside
//! its field, edit, disable and delete; viewers get no controls and their
//! posts are refused; a cross-site post changes nothing; what marketers type
//! is shown as text; axe-core finds no serious violation on any page.

use fantoccini::Locator;
use lanterne::users::Role;
use serde_json::Value;

use crate::{browser::Browser, harness::TestApp};

const PASSWORD: &str = "correct horse battery";

async fn links_in_db(app: &TestApp) -> i64 {
    sqlx::query_scalar("select count(*) from links")
        .fetch_one(&app.db)
        .await
        .unwrap()
}

#[tokio::test]
async fn a_marketer_signs_in_creates_a_link_with_utm_fields_and_signs_out() {
    let app = TestApp::spawn().await;
    let editor = app.user(Role::Editor, Some(PASSWORD)).await;
    let b = Browser::start().await;

    b.open(&app, "/links").await;
    assert!(b.path().await.starts_with("/login"), "sign-in first");
    b.assert_accessible("/login").await;
    b.screenshot("login").await;

    b.sign_in(&app, &editor.email, PASSWORD).await;
    b.wait_for_text("No links yet").await;
    assert_eq!(b.path().await, "/links", "back to the page that asked");
    assert!(b.text().await.contains("No links yet"), "the empty state");
    b.assert_accessible("/links (empty)").await;
    b.screenshot("links-empty").await;

    b.click("New link").await;
    b.wait_for_text("UTM builder").await;
    b.fill("Destination", "https://shop.example/winter").await;
    b.fill("Campaign", "winter26").await;
    b.fill("Source", "newsletter").await;
    b.fill("Medium", "email").await;
    b.fill("Title (optional)", "Winter sale").await;
    b.fill("Tags (optional)", "winter, sale").await;
    b.assert_accessible("/links/new").await;
    b.screenshot("link-new").await;
    b.click("Create link").await;
    b.wait_for_text("Link created").await;

    let text = b.text().await;
    assert!(text.contains("Link created"), "a flash message: {text}");
    assert!(text.contains("utm_campaign=winter26"), "{text}");
    b.assert_accessible("/links/{id}").await;
    b.screenshot("link-page").await;
    let id: i64 = b
        .path()
        .await
        .trim_start_matches("/links/")
        .parse()
        .unwrap();
    let link: Value = app
        .api_get(&format!("/api/v1/links/{id}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(link["utm"]["campaign"], "winter26");
    assert_eq!(link["utm"]["source"], "newsletter");
    assert_eq!(link["title"], "Winter sale");
    assert_eq!(link["tags"], serde_json::json!(["winter", "sale"]));
    assert_eq!(link["created_by"], editor.id);

    b.open(&app, "/links").await;
    assert!(b.text().await.contains("Winter sale"));
    b.assert_accessible("/links").await;
    b.screenshot("links").await;

    b.click("Sign out").await;
    b.wait_for_text("You are signed out").await;
    b.open(&app, "/links").await;
    assert!(b.path().await.starts_with("/login"), "the session is over");
    b.close().await;
}

#[tokio::test]
async fn a_wrong_password_is_refused_without_saying_which_part_was_wrong() {
    let app = TestApp::spawn().await;
    let editor = app.user(Role::Editor, Some(PASSWORD)).await;
    let b = Browser::start().await;
    b.sign_in(&app, &editor.email, "not the password").await;
    b.wait_for_text("is not right").await;
    let text = b.text().await;
    assert!(
        text.contains("The e-mail or password is not right"),
        "{text}"
    );
    assert!(b.path().await.starts_with("/login"));
    b.sign_in(&app, "nobody@example.com", PASSWORD).await;
    b.wait_for_text("The e-mail or password is not right").await;
    b.assert_accessible("/login (refused)").await;
    b.close().await;
}

#[tokio::test]
async fn refused_fields_are_shown_beside_their_fields_and_nothing_is_written() {
    let app = TestApp::spawn().await;
    let editor = app.user(Role::Editor, Some(PASSWORD)).await;
    app.new_link(serde_json::json!({"destination": "https://shop.example/", "slug": "taken"}))
        .await;
    let before = links_in_db(&app).await;
    let b = Browser::start().await;
    b.sign_in(&app, &editor.email, PASSWORD).await;
    b.open(&app, "/links/new").await;
    b.fill("Destination", "ftp://shop.example/file").await;
    b.fill("Slug (optional)", "taken").await;
    b.fill("Expiry (optional)", "").await;
    b.fill("Campaign", "kept as typed").await;
    b.click("Create link").await;
    b.wait_for_text("There is a problem").await;
    let summary = b
        .client
        .find(Locator::Css(".error-summary"))
        .await
        .expect("an error summary")
        .text()
        .await
        .unwrap();
    assert!(summary.contains("http:// or https://"), "{summary}");
    let dest_error = b
        .client
        .find(Locator::Id("destination-error"))
        .await
        .unwrap();
    assert!(dest_error.text().await.unwrap().contains("https://"));
    let campaign = b.field("Campaign").await.prop("value").await.unwrap();
    assert_eq!(
        campaign.as_deref(),
        Some("kept as typed"),
        "what was typed stays"
    );
    b.assert_accessible("/links (refused form)").await;
    b.screenshot("link-new-errors").await;

    b.fill("Destination", "https://shop.example/ok").await;
    b.click("Create link").await;
    b.wait_for_text("already used").await;
    let slug_error = b.client.find(Locator::Id("slug-error")).await.unwrap();
    assert!(slug_error.text().await.unwrap().contains("already used"));
    assert_eq!(links_in_db(&app).await, before, "nothing was written");
    b.close().await;
}

#[tokio::test]
async fn a_link_is_edited_disabled_and_deleted_from_its_page() {
    let app = TestApp::spawn().await;
    let editor = app.user(Role::Editor, Some(PASSWORD)).await;
    let link = app
        .new_link(serde_json::json!({"destination": "https://shop.example/a", "utm": {"source": "newsletter", "campaign": "a"}}))
        .await;
    let id = link["id"].as_i64().unwrap();
    let slug = link["slug"].as_str().unwrap().to_owned();
    let b = Browser::start().await;
    b.sign_in(&app, &editor.email, PASSWORD).await;
    b.open(&app, &format!("/links/{id}")).await;
    b.click("Edit").await;
    b.wait_for_text("Edit link").await;
    b.fill("Campaign", "b").await;
    b.assert_accessible("/links/{id}/edit").await;
    b.click("Save changes").await;
    b.wait_for_text("Changes saved").await;
    let now: Value = app
        .api_get(&format!("/api/v1/links/{id}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(now["utm"]["campaign"], "b");
    assert_eq!(now["utm"]["source"], "newsletter", "the other fields kept");
    assert_eq!(now["slug"], slug, "the slug is unchanged");
    assert_eq!(
        now["slug_kind"], "generated",
        "and still counts as generated"
    );

    b.click("Disable").await;
    b.wait_for_text("Link disabled").await;
    assert_eq!(app.visit(&slug).await.status(), 410);
    b.click("Enable").await;
    b.wait_for_text("Link enabled").await;
    assert_eq!(app.visit(&slug).await.status(), 302);

    b.click("Delete").await;
    b.wait_for_text("Delete this link?").await;
    b.assert_accessible("/links/{id}/delete").await;
    b.click("Delete the link").await;
    b.wait_for_text("Link deleted").await;
    assert_eq!(app.visit(&slug).await.status(), 404);
    b.close().await;
}

#[tokio::test]
async fn a_viewer_sees_no_controls_and_their_posts_change_nothing() {
    let app = TestApp::spawn().await;
    let viewer = app.user(Role::Viewer, Some(PASSWORD)).await;
    let link = app
        .new_link(serde_json::json!({"destination": "https://shop.example/a"}))
        .await;
    let id = link["id"].as_i64().unwrap();
    let b = Browser::start().await;
    b.sign_in(&app, &viewer.email, PASSWORD).await;
    b.open(&app, &format!("/links/{id}")).await;
    let html = b.client.source().await.unwrap();
    for control in ["New link", ">Edit<", ">Disable<", ">Delete<"] {
        assert!(!html.contains(control), "a viewer sees no {control}");
    }
    b.open(&app, "/links/new").await;
    b.wait_for_text("You cannot do this").await;
    b.assert_accessible("403 page").await;

    // The viewer's own session, posting straight to the server.
    let secret = b
        .client
        .get_named_cookie("lanterne_session")
        .await
        .unwrap()
        .value()
        .to_owned();
    let res = app
        .client
        .post(format!("{}/links/{id}/delete", app.address))
        .header("cookie", format!("lanterne_session={secret}"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
    assert_eq!(
        app.api_get(&format!("/api/v1/links/{id}")).await.status(),
        200,
        "still there"
    );
    b.close().await;
}

#[tokio::test]
async fn a_form_posted_from_another_site_changes_nothing() {
    let app = TestApp::spawn().await;
    let editor = app.user(Role::Editor, Some(PASSWORD)).await;
    let session = app
        .sign_in(&editor.email, PASSWORD, "127.0.0.1")
        .await
        .unwrap();
    let before = links_in_db(&app).await;
    let res = app
        .client
        .post(format!("{}/links", app.address))
        .header("cookie", format!("lanterne_session={session}"))
        .header("origin", "https://evil.example")
        .header("sec-fetch-site", "cross-site")
        .form(&[
            ("destination", "https://evil.example/"),
            ("utm_campaign", "x"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
    assert_eq!(links_in_db(&app).await, before);
    let same_site = app
        .client
        .post(format!("{}/links", app.address))
        .header("cookie", format!("lanterne_session={session}"))
        .header("origin", &app.address)
        .header("sec-fetch-site", "same-origin")
        .form(&[
            ("destination", "https://shop.example/"),
            ("utm_campaign", "x"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(
        same_site.status(),
        303,
        "the same form from our own page works"
    );
    assert_eq!(links_in_db(&app).await, before + 1);
}

#[tokio::test]
async fn markup_typed_by_marketers_is_shown_as_text() {
    let app = TestApp::spawn().await;
    let editor = app.user(Role::Editor, Some(PASSWORD)).await;
    let evil = "<script>window.pwned=1</script><b>bold</b>";
    let link = app
        .new_link(serde_json::json!({
            "destination": "https://shop.example/",
            "title": evil, "tags": [evil], "utm": {"campaign": evil},
        }))
        .await;
    let b = Browser::start().await;
    b.sign_in(&app, &editor.email, PASSWORD).await;
    for path in [
        "/links".to_owned(),
        format!("/links/{}", link["id"]),
        format!("/links/{}/edit", link["id"]),
    ] {
        b.open(&app, &path).await;
        let pwned = b
            .client
            .execute("return window.pwned === 1;", vec![])
            .await
            .unwrap();
        assert_eq!(pwned, Value::Bool(false), "no script ran on {path}");
        let bolds = b.client.find_all(Locator::Css("main b")).await.unwrap();
        assert!(bolds.is_empty(), "no markup rendered on {path}");
        if !path.ends_with("/edit") {
            assert!(
                b.text().await.contains("<script>"),
                "shown as text on {path}"
            );
        }
    }
    b.close().await;
}

#[tokio::test]
async fn the_workspace_works_on_a_phone_and_in_french() {
    let app = TestApp::spawn().await;
    let editor = app.user(Role::Editor, Some(PASSWORD)).await;
    sqlx::query("update users set language = 'fr' where id = $1")
        .bind(editor.id)
        .execute(&app.db)
        .await
        .unwrap();
    app.new_link(serde_json::json!({"destination": "https://boutique.example/soldes", "title": "Soldes d'hiver", "tags": ["hiver"], "utm": {"campaign": "hiver26"}}))
        .await;
    let b = Browser::with_size(390, 844).await;
    b.sign_in(&app, &editor.email, PASSWORD).await;
    b.wait_for_text("Soldes d'hiver").await;
    let text = b.text().await;
    assert!(text.contains("Étiquette"), "French after sign-in: {text}");
    b.screenshot("links-phone-fr").await;
    let wide: Value = b
        .client
        .execute(
            "return [...document.querySelectorAll('body *')]
               .filter(e => e.getBoundingClientRect().right > document.documentElement.clientWidth + 1)
               .map(e => e.tagName + '.' + e.className);",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(wide, serde_json::json!([]), "nothing wider than a phone");
    b.assert_accessible("/links (phone, fr)").await;
    b.click("Nouveau lien").await;
    b.wait_for_text("Générateur d'UTM").await;
    b.assert_accessible("/links/new (phone, fr)").await;
    b.screenshot("link-new-phone-fr").await;
    b.close().await;
}

#[tokio::test]
async fn variants_share_buttons_and_the_qr_code_are_made_from_the_link_page() {
    let app = TestApp::spawn().await;
    let editor = app.user(Role::Editor, Some(PASSWORD)).await;
    let link = app
        .new_link(serde_json::json!({"destination": "https://shop.example/winter", "title": "Winter <sale>", "utm": {"campaign": "winter26"}}))
        .await;
    let id = link["id"].as_i64().unwrap();
    let b = Browser::start().await;
    b.sign_in(&app, &editor.email, PASSWORD).await;
    b.open(&app, &format!("/links/{id}")).await;
    b.wait_for_text("Share kit").await;
    b.click("Create the variants").await;
    b.wait_for_text("channel variants").await;
    let whatsapp = b
        .client
        .find(Locator::XPath("//a[normalize-space(.)='Send on WhatsApp']"))
        .await
        .expect("a WhatsApp button")
        .attr("href")
        .await
        .unwrap()
        .unwrap();
    assert!(whatsapp.starts_with("https://wa.me/?text="), "{whatsapp}");
    let variants: Value = app
        .api_get(&format!("/api/v1/links?parent_id={id}&limit=100"))
        .await
        .json()
        .await
        .unwrap();
    let channels: Vec<&str> = variants["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["channel"].as_str().unwrap())
        .collect();
    assert!(
        channels.contains(&"whatsapp") && channels.contains(&"qr"),
        "{channels:?}"
    );
    assert!(
        variants["data"]
            .as_array()
            .unwrap()
            .iter()
            .all(|v| v["utm"]["campaign"] == "winter26"),
        "variants inherit the campaign"
    );
    let qr_loaded: Value = b
        .client
        .execute(
            "const i = document.querySelector('#qr-title ~ .qr img'); return i.complete && i.naturalWidth > 0;",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(
        qr_loaded,
        Value::Bool(true),
        "the QR code image loads with the session"
    );
    let snippet = b
        .client
        .find(Locator::Css("pre.snippet"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        snippet.contains("Winter &#60;sale&#62;") && !snippet.contains("<sale>"),
        "the snippet escapes the title: {snippet}"
    );
    b.assert_accessible("/links/{id} with its share kit").await;
    b.screenshot("link-share-kit").await;
    b.close().await;
}
