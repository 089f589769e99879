//! The redirect: target building, status pages, caching headers, domains.

use serde_json::json;

use crate::harness::{TestApp, location};

#[tokio::test]
async fn a_redirect_merges_utm_fields_and_passes_short_url_parameters_through() {
    let app = TestApp::spawn().await;
    let link = app
        .new_link(json!({
            "destination": "https://shop.example/p?id=7&utm_source=old#reviews",
            "utm": {"source": "newsletter", "medium": "email"},
        }))
        .await;
    let slug = link["slug"].as_str().unwrap();

    let res = app.visit(slug).await;
    assert_eq!(res.status(), 302);
    assert_eq!(
        location(&res),
        "https://shop.example/p?id=7&utm_source=newsletter&utm_medium=email#reviews"
    );
    let cache = res.headers()["cache-control"].to_str().unwrap();
    assert!(
        cache.contains("no-store"),
        "a counted redirect is never cached: {cache}"
    );

    let res = app
        .visit(&format!("{slug}?gclid=abc&utm_source=spoof&id=1"))
        .await;
    assert_eq!(
        location(&res),
        "https://shop.example/p?id=7&utm_source=newsletter&utm_medium=email&gclid=abc#reviews",
        "new parameters are appended; the link's own ones win"
    );
}

#[tokio::test]
async fn slugs_match_whatever_their_case_and_head_is_answered_too() {
    let app = TestApp::spawn().await;
    app.new_link(json!({"destination": "https://shop.example/", "slug": "Promo"}))
        .await;
    for path in ["Promo", "promo", "PROMO"] {
        let res = app.visit(path).await;
        assert_eq!(res.status(), 302, "{path}");
        assert_eq!(location(&res), "https://shop.example/");
    }
    let head = app
        .client
        .head(format!("{}/promo", app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(head.status(), 302);

    // Only GET and HEAD redirect (src/http/front.rs sends the rest to the
    // router); reserved words never reach a link; a HEAD answer has no body.
    let post = app
        .client
        .post(format!("{}/promo", app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(post.status(), 405);
    assert_eq!(app.visit("metrics/x").await.status(), 404);
    assert_eq!(app.visit("Login").await.status(), 404);
    assert_eq!(app.visit("healthz").await.status(), 200);
    let head_missing = app
        .client
        .head(format!("{}/no-such-link", app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(head_missing.status(), 404);
    assert!(head_missing.bytes().await.unwrap().is_empty());
}

#[tokio::test]
async fn unknown_disabled_and_expired_links_get_their_pages_and_no_click() {
    let app = TestApp::spawn().await;
    let off = app
        .new_link(json!({"destination": "https://shop.example/", "enabled": false}))
        .await;
    let soon = app
        .new_link(
            json!({"destination": "https://shop.example/", "expires_at": "2099-01-01T00:00:00Z"}),
        )
        .await;

    let res = app.visit("no-such-link").await;
    assert_eq!(res.status(), 404);
    assert_eq!(res.headers()["cache-control"], "no-store");
    assert!(
        res.text()
            .await
            .unwrap()
            .contains("This link does not exist")
    );

    let res = app.visit(off["slug"].as_str().unwrap()).await;
    assert_eq!(res.status(), 410);
    assert!(res.text().await.unwrap().contains("no longer available"));

    // Expire it in the database directly: the NOTIFY trigger drops the cached copy.
    sqlx::query("update links set expires_at = now() - interval '1 second' where id = $1")
        .bind(soon["id"].as_i64())
        .execute(&app.db)
        .await
        .unwrap();
    let slug = soon["slug"].as_str().unwrap();
    let (mut status, mut redirects) = (0, 0);
    for _ in 0..100 {
        status = app.visit(slug).await.status().as_u16();
        // Until the notification lands, the cached copy still redirects.
        redirects += i64::from(status == 302);
        if status == 410 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    assert_eq!(status, 410, "expired links answer 410 within a second");

    for path in ["a.b", "bad%20slug", "x/y", "caf%C3%A9"] {
        assert_eq!(app.visit(path).await.status(), 404, "{path}");
    }
    app.flush_clicks().await;
    let clicks: i64 = sqlx::query_scalar("select count(*) from clicks")
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(clicks, redirects, "only redirects count");
}

#[tokio::test]
async fn the_host_header_selects_the_domain() {
    let app = TestApp::spawn().await;
    app.new_link(json!({"destination": "https://a.example/", "slug": "same"}))
        .await;
    app.new_link(
        json!({"destination": "https://b.example/", "slug": "same", "domain": "go.example.com"}),
    )
    .await;
    let get = |host: &'static str| {
        app.client
            .get(format!("{}/same", app.address))
            .header("host", host)
            .send()
    };
    assert_eq!(
        location(&get("go.example.com").await.unwrap()),
        "https://b.example/"
    );
    assert_eq!(
        location(&get("GO.EXAMPLE.COM:8080").await.unwrap()),
        "https://b.example/"
    );
    assert_eq!(location(&app.visit("same").await), "https://a.example/");
    assert_eq!(get("unknown.example").await.unwrap().status(), 404);
}

#[tokio::test]
async fn a_permanent_status_is_cacheable_for_a_short_while() {
    use crate::harness::Options;
    let app = TestApp::spawn_with(Options {
        tweak: Box::new(|s| s.redirect.status = 308),
        ..Options::default()
    })
    .await;
    let link = app
        .new_link(json!({"destination": "https://shop.example/"}))
        .await;
    let res = app.visit(link["slug"].as_str().unwrap()).await;
    assert_eq!(res.status(), 308);
    assert_eq!(res.headers()["cache-control"], "private, max-age=30");
}

#[tokio::test]
async fn oversized_headers_are_refused() {
    let app = TestApp::spawn().await;
    let link = app
        .new_link(json!({"destination": "https://shop.example/"}))
        .await;
    let res = app
        .client
        .get(format!(
            "{}/{}",
            app.address,
            link["slug"].as_str().unwrap()
        ))
        .header("user-agent", "x".repeat(20_000))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 431);
    app.flush_clicks().await;
    assert_eq!(app.clicks_of(link["id"].as_i64().unwrap()).await, 0);
}

#[tokio::test]
async fn a_click_stores_the_signals_attribution_needs_and_no_ip() {
    let app = TestApp::spawn().await;
    let link = app
        .new_link(json!({"destination": "https://shop.example/"}))
        .await;
    let res = app
        .client
        .get(format!(
            "{}/{}",
            app.address,
            link["slug"].as_str().unwrap()
        ))
        .header("user-agent", crate::harness::IPHONE_SAFARI)
        .header("referer", "https://l.facebook.com/")
        .header("sec-fetch-site", "cross-site")
        .header("sec-fetch-mode", "navigate")
        .header("accept-language", "fr-FR,fr;q=0.9")
        .header("sec-gpc", "1")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 302);
    app.flush_clicks().await;
    type Row = (
        String,
        Option<String>,
        Option<String>,
        Option<String>,
        Option<String>,
        Option<String>,
        bool,
    );
    let row: Row =
        sqlx::query_as(
            "select method, user_agent, referer, sec_fetch_site, sec_fetch_mode, accept_language, gpc from clicks where link_id = $1",
        )
        .bind(link["id"].as_i64())
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(row.0, "GET");
    assert_eq!(row.1.as_deref(), Some(crate::harness::IPHONE_SAFARI));
    assert_eq!(row.2.as_deref(), Some("https://l.facebook.com/"));
    assert_eq!(row.3.as_deref(), Some("cross-site"));
    assert_eq!(row.4.as_deref(), Some("navigate"));
    assert_eq!(row.5.as_deref(), Some("fr-FR,fr;q=0.9"));
    assert!(row.6);
    let ip_columns: i64 = sqlx::query_scalar(
        "select count(*) from information_schema.columns where table_name like 'clicks%' and data_type in ('inet', 'cidr')",
    )
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert_eq!(ip_columns, 0, "no column can hold an IP address");
}
