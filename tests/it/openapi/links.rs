//! The walk of the links, variants, share kit, QR codes, stats and exports
//! operations (see `openapi.rs`).

use reqwest::Method as M;
use serde_json::{Value, json};

use super::{Body, Callers, Checker};
use crate::harness::IPHONE_SAFARI;

/// Calls each of these operations, successes and refusals.
pub async fn walk(c: &mut Checker<'_>, who: Callers<'_>) {
    let Callers {
        a,
        e,
        v,
        s,
        none,
        bad,
    } = who;
    let app = c.app;
    // Links.
    let t = "/api/v1/links";
    let first = c
        .call(
            M::POST,
            t,
            t,
            e,
            Body::Json(json!({
                "destination": "https://example.com/winter?ref=1",
                "slug": "oa-first",
                "utm": {"source": "newsletter", "campaign": "winter"},
                "tags": ["winter"],
                "title": "Winter sale",
                "preview": {"title": "Winter", "image_url": "https://example.com/a.png"},
                "expires_at": "2099-01-01T00:00:00Z",
            })),
            201,
        )
        .await;
    let id = first["id"].as_i64().unwrap();
    c.call(M::POST, t, t, e, Body::Raw("{"), 400).await;
    c.call(
        M::POST,
        t,
        t,
        none,
        Body::Json(json!({"destination": "https://example.com"})),
        401,
    )
    .await;
    c.call(
        M::POST,
        t,
        t,
        v,
        Body::Json(json!({"destination": "https://example.com"})),
        403,
    )
    .await;
    let taken = json!({"destination": "https://example.com", "slug": "oa-first"});
    c.call(M::POST, t, t, e, Body::Json(taken), 409).await;
    let refused = c
        .call(
            M::POST,
            t,
            t,
            e,
            Body::Json(json!({"destination": "ftp://x", "title": "a\u{7}"})),
            422,
        )
        .await;
    assert_eq!(refused["error"]["fields"].as_array().unwrap().len(), 2);
    let second = c
        .call(
            M::POST,
            t,
            t,
            a,
            Body::Json(json!({"destination": "https://example.org"})),
            201,
        )
        .await;
    let page = c.call(M::GET, t, t, s, Body::None, 200).await;
    assert_eq!(page["data"].as_array().unwrap().len(), 2);
    c.call(
        M::GET,
        t,
        "/api/v1/links?limit=1&tag=winter",
        v,
        Body::None,
        200,
    )
    .await;
    c.call(M::GET, t, "/api/v1/links?limit=0", v, Body::None, 400)
        .await;
    c.call(M::GET, t, t, bad, Body::None, 401).await;

    let t = "/api/v1/links/{id}";
    let link = format!("/api/v1/links/{id}");
    c.call(M::GET, t, &link, v, Body::None, 200).await;
    c.call(M::GET, t, "/api/v1/links/999999", v, Body::None, 404)
        .await;
    c.call(M::GET, t, &link, none, Body::None, 401).await;
    let changed = c
        .call(
            M::PATCH,
            t,
            &link,
            e,
            Body::Json(json!({"title": null, "utm": {"medium": "email"}, "preview": null})),
            200,
        )
        .await;
    assert_eq!(changed["title"], Value::Null);
    c.call(M::PATCH, t, &link, e, Body::Raw("{\"title\":"), 400)
        .await;
    c.call(M::PATCH, t, &link, none, Body::Json(json!({})), 401)
        .await;
    c.call(M::PATCH, t, &link, v, Body::Json(json!({})), 403)
        .await;
    c.call(
        M::PATCH,
        t,
        "/api/v1/links/999999",
        e,
        Body::Json(json!({"title": "x"})),
        404,
    )
    .await;
    let second_slug = second["slug"].as_str().unwrap();
    c.call(
        M::PATCH,
        t,
        &link,
        e,
        Body::Json(json!({"slug": second_slug})),
        409,
    )
    .await;
    c.call(
        M::PATCH,
        t,
        &link,
        e,
        Body::Json(json!({"destination": "nope"})),
        422,
    )
    .await;
    let doomed = format!("/api/v1/links/{}", second["id"]);
    c.call(M::DELETE, t, &doomed, none, Body::None, 401).await;
    c.call(M::DELETE, t, &doomed, v, Body::None, 403).await;
    c.call(M::DELETE, t, &doomed, e, Body::None, 204).await;
    c.call(M::DELETE, t, &doomed, e, Body::None, 404).await;

    // Variants, share kit, QR codes.
    let t = "/api/v1/links/{id}/variants";
    let p = format!("{link}/variants");
    let wanted = || Body::Json(json!({"channels": ["whatsapp", "qr"]}));
    let made = c.call(M::POST, t, &p, e, wanted(), 201).await;
    assert_eq!(made["data"].as_array().unwrap().len(), 2);
    c.call(M::POST, t, &p, e, wanted(), 200).await;
    c.call(M::POST, t, &p, e, Body::Raw("{\"channels\": ["), 400)
        .await;
    c.call(M::POST, t, &p, none, wanted(), 401).await;
    c.call(M::POST, t, &p, v, wanted(), 403).await;
    c.call(
        M::POST,
        t,
        "/api/v1/links/999999/variants",
        e,
        wanted(),
        404,
    )
    .await;
    c.call(
        M::POST,
        t,
        &p,
        e,
        Body::Json(json!({"channels": ["carrier_pigeon"]})),
        422,
    )
    .await;
    let t = "/api/v1/links/{id}/share";
    let kit = c
        .call(
            M::GET,
            t,
            &format!("{link}/share?text=Hello"),
            v,
            Body::None,
            200,
        )
        .await;
    assert!(kit["channels"].as_array().unwrap().len() >= 2);
    c.call(
        M::GET,
        t,
        &format!("{link}/share?colour=red"),
        v,
        Body::None,
        400,
    )
    .await;
    c.call(M::GET, t, &format!("{link}/share"), none, Body::None, 401)
        .await;
    c.call(M::GET, t, "/api/v1/links/999999/share", v, Body::None, 404)
        .await;
    for ext in ["svg", "png"] {
        let t = format!("/api/v1/links/{{id}}/qr.{ext}");
        let t = t.as_str();
        c.call(
            M::GET,
            t,
            &format!("{link}/qr.{ext}?size=256"),
            v,
            Body::None,
            200,
        )
        .await;
        c.call(
            M::GET,
            t,
            &format!("{link}/qr.{ext}?size=5"),
            v,
            Body::None,
            400,
        )
        .await;
        c.call(
            M::GET,
            t,
            &format!("{link}/qr.{ext}"),
            none,
            Body::None,
            401,
        )
        .await;
        c.call(
            M::GET,
            t,
            &format!("/api/v1/links/999999/qr.{ext}"),
            v,
            Body::None,
            404,
        )
        .await;
    }

    // Clicks for the stats: humans, a preview, a bot.
    for _ in 0..3 {
        app.visit("oa-first").await;
    }
    for ua in [
        "WhatsApp/2.23.20.0 A",
        "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
    ] {
        app.client
            .get(format!("{}/oa-first", app.address))
            .header("user-agent", ua)
            .send()
            .await
            .unwrap();
    }
    app.client
        .get(format!("{}/oa-first", app.address))
        .header("user-agent", IPHONE_SAFARI)
        .header("referer", "https://www.google.com/")
        .send()
        .await
        .unwrap();
    app.flush_clicks().await;

    // Stats and exports.
    let t = "/api/v1/stats";
    let stats = c
        .call(
            M::GET,
            t,
            &format!("/api/v1/stats?link_id={id}&from=2020-01-01&tz=Europe/Paris"),
            v,
            Body::None,
            200,
        )
        .await;
    assert_eq!(stats["totals"]["clicks"], 4, "{stats:#}");
    assert_eq!(stats["totals"]["share_events"], 1);
    c.call(
        M::GET,
        t,
        "/api/v1/stats?channel=dark_social,direct&country=!FR",
        s,
        Body::None,
        200,
    )
    .await;
    c.call(
        M::GET,
        t,
        "/api/v1/stats?interval=fortnight",
        v,
        Body::None,
        400,
    )
    .await;
    c.call(M::GET, t, t, none, Body::None, 401).await;
    c.call(
        M::GET,
        t,
        "/api/v1/stats?link_id=999999",
        v,
        Body::None,
        404,
    )
    .await;
    let t = "/api/v1/links/{id}/clicks.csv";
    c.call(M::GET, t, &format!("{link}/clicks.csv"), v, Body::None, 200)
        .await;
    c.call(
        M::GET,
        t,
        &format!("{link}/clicks.csv?from=yesterday"),
        v,
        Body::None,
        400,
    )
    .await;
    c.call(
        M::GET,
        t,
        &format!("{link}/clicks.csv"),
        none,
        Body::None,
        401,
    )
    .await;
    c.call(
        M::GET,
        t,
        "/api/v1/links/999999/clicks.csv",
        v,
        Body::None,
        404,
    )
    .await;
    let t = "/api/v1/stats/{file}";
    c.call(
        M::GET,
        t,
        &format!("/api/v1/stats/countries.csv?link_id={id}"),
        v,
        Body::None,
        200,
    )
    .await;
    c.call(
        M::GET,
        t,
        "/api/v1/stats/sources.csv?tz=Europe/Paris;x",
        v,
        Body::None,
        400,
    )
    .await;
    c.call(
        M::GET,
        t,
        "/api/v1/stats/sources.csv",
        none,
        Body::None,
        401,
    )
    .await;
    c.call(M::GET, t, "/api/v1/stats/colours.csv", v, Body::None, 404)
        .await;
}
