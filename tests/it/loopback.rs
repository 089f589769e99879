//! The first run: with the default `public_base_url` (a loopback name), a
//! link made at `localhost` opens at every name of the local machine, and a
//! request to a host that is not served says, to this machine only, which
//! hosts are.

use serde_json::json;

use crate::harness::{Options, TestApp, location};

/// An app configured as out of the box: the default domain is `localhost`
/// (on the test's port), plus one branded domain.
async fn spawn_on_localhost() -> TestApp {
    TestApp::spawn_with(Options {
        tweak: Box::new(|s| {
            let port = s.server.public_base_url.port().expect("the test port");
            s.server.public_base_url = format!("http://localhost:{port}").parse().unwrap();
            s.server.domains = vec!["go.example.com".into()];
        }),
        ..Options::default()
    })
    .await
}

/// The port of the app's address.
fn port(app: &TestApp) -> &str {
    app.address.rsplit(':').next().unwrap()
}

/// `GET /{path}` with the given `Host` header.
async fn get_as(app: &TestApp, host: &str, path: &str) -> reqwest::Response {
    app.client
        .get(format!("{}/{path}", app.address))
        .header("host", host)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn a_link_made_at_localhost_opens_at_every_loopback_name() {
    let app = spawn_on_localhost().await;
    let link = app
        .new_link(json!({"destination": "https://shop.example/winter", "slug": "winter"}))
        .await;
    let port = port(&app);
    assert_eq!(link["short_url"], format!("http://localhost:{port}/winter"));
    for host in [
        format!("localhost:{port}"),
        format!("127.0.0.1:{port}"),
        format!("[::1]:{port}"),
        "LocalHost".to_owned(),
    ] {
        let res = get_as(&app, &host, "winter").await;
        assert_eq!(res.status(), 302, "{host}");
        assert_eq!(location(&res), "https://shop.example/winter", "{host}");
    }
    // One domain, not three: the aliases made no rows.
    let domains: Vec<String> = sqlx::query_scalar("select host from domains order by id")
        .fetch_all(&app.db)
        .await
        .unwrap();
    assert_eq!(domains, vec!["localhost", "go.example.com"]);
}

#[tokio::test]
async fn a_loopback_alias_names_the_default_domain_and_cannot_be_a_destination() {
    let app = spawn_on_localhost().await;
    let link = app
        .new_link(json!({"destination": "https://shop.example/", "domain": "127.0.0.1"}))
        .await;
    assert_eq!(link["domain"], "localhost", "{link}");
    assert!(
        link["short_url"]
            .as_str()
            .unwrap()
            .starts_with("http://localhost:"),
        "{link}"
    );
    for destination in [
        "http://127.0.0.1:9/x",
        "http://[::1]/x",
        "http://LOCALHOST/x",
    ] {
        let res = app.create_link(json!({ "destination": destination })).await;
        assert_eq!(res.status(), 422, "{destination}");
        let body: serde_json::Value = res.json().await.unwrap();
        assert_eq!(
            body["error"]["code"], "invalid_destination",
            "{destination}"
        );
    }
}

#[tokio::test]
async fn an_unserved_host_asked_from_this_machine_gets_the_served_hosts() {
    let app = spawn_on_localhost().await;
    app.new_link(json!({"destination": "https://shop.example/", "slug": "promo"}))
        .await;
    let res = get_as(&app, "<b>shop</b>.example:8080", "promo").await;
    assert_eq!(res.status(), 404);
    assert_eq!(res.headers()["cache-control"], "no-store");
    let html = res.text().await.unwrap();
    assert!(html.contains("This link does not exist"), "{html}");
    for served in ["localhost", "127.0.0.1", "[::1]", "go.example.com"] {
        assert!(
            html.contains(&format!("<code>{served}</code>")),
            "{served}: {html}"
        );
    }
    assert!(
        html.contains("&#60;b&#62;shop&#60;/b&#62;.example:8080"),
        "the asked host is shown escaped: {html}"
    );
    assert!(!html.contains("<b>"), "{html}");
}

#[tokio::test]
async fn an_unserved_host_asked_through_a_proxy_gets_the_plain_404() {
    let app = TestApp::spawn_with(Options {
        tweak: Box::new(|s| s.server.trusted_proxies = vec!["127.0.0.0/8".parse().unwrap()]),
        ..Options::default()
    })
    .await;
    let res = app
        .client
        .get(format!("{}/promo", app.address))
        .header("host", "shop.example")
        .header("x-forwarded-for", "203.0.113.9")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 404);
    let html = res.text().await.unwrap();
    assert!(html.contains("This link does not exist"), "{html}");
    assert!(
        !html.contains("go.example.com") && !html.contains("shop.example"),
        "a visitor learns nothing of the configuration: {html}"
    );
}
