//! CSV exports: the clicks export round-trips (every stored field but the
//! visitor hash, one row per human click), neutralises formulas, and the
//! breakdown exports carry the stats API's figures.

use serde_json::json;

use crate::{
    harness::IPHONE_SAFARI,
    stats_api::{hit, send_mix, spawn},
};

#[tokio::test]
async fn the_clicks_export_round_trips_every_human_click_and_neutralises_formulas() {
    let app = spawn().await;
    let link = app
        .new_link(json!({"destination": "https://shop.example/", "utm": {"campaign": "=HYPERLINK(\"http://evil.example\")"}}))
        .await;
    let slug = link["slug"].as_str().unwrap();
    send_mix(&app, slug, true).await;
    hit(
        &app,
        slug,
        false,
        IPHONE_SAFARI,
        Some("@SUM(1+1)"),
        "203.0.113.30",
    )
    .await;
    app.flush_clicks().await;

    let res = app
        .api_get(&format!("/api/v1/links/{}/clicks.csv", link["id"]))
        .await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["content-type"], "text/csv; charset=utf-8");
    let bytes = res.bytes().await.unwrap();
    assert!(bytes.starts_with("\u{feff}".as_bytes()), "UTF-8 with a BOM");
    assert!(bytes.windows(2).any(|w| w == b"\r\n"), "CRLF line ends");
    let mut reader = csv::Reader::from_reader(&bytes[3..]);
    let header = reader.headers().unwrap().clone();
    assert!(header.iter().all(|h| h != "visitor_hash"), "{header:?}");
    let col = |name: &str| header.iter().position(|h| h == name).unwrap();
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(
        rows.len(),
        11,
        "the mix's 10 human clicks and one more; no bot, preview or HEAD"
    );

    let stored: Vec<(String, Option<String>, Option<String>)> = sqlx::query_as(
        "select id::text, channel, source from clicks where link_id = $1 order by occurred_at",
    )
    .bind(link["id"].as_i64())
    .fetch_all(&app.db)
    .await
    .unwrap();
    for (row, (id, channel, source)) in rows.iter().zip(&stored) {
        assert_eq!(&row[col("id")], id);
        assert_eq!(&row[col("channel")], channel.as_deref().unwrap_or(""));
        assert_eq!(&row[col("source")], source.as_deref().unwrap_or(""));
        assert_eq!(
            &row[col("link_id")],
            link["id"].to_string(),
            "numbers stay numbers"
        );
        assert_eq!(
            &row[col("utm_campaign")],
            "'=HYPERLINK(\"http://evil.example\")"
        );
    }
    let last = rows.last().unwrap();
    assert_eq!(
        &last[col("referer")],
        "'@SUM(1+1)",
        "a formula in a Referer is neutralised"
    );
    assert!(
        rows.iter().all(|r| r
            .iter()
            .all(|cell| !cell.starts_with(['=', '+', '-', '@', '\t', '\r']))),
        "no cell starts a formula"
    );
}

#[tokio::test]
async fn a_breakdown_export_carries_the_stats_figures_and_unknown_breakdowns_are_404() {
    let app = spawn().await;
    let link = app
        .new_link(json!({"destination": "https://shop.example/"}))
        .await;
    send_mix(&app, link["slug"].as_str().unwrap(), true).await;
    let res = app
        .api_get(&format!("/api/v1/stats/sources.csv?link_id={}", link["id"]))
        .await;
    assert_eq!(res.status(), 200);
    let text = res.text().await.unwrap();
    let mut reader = csv::Reader::from_reader(text.trim_start_matches('\u{feff}').as_bytes());
    assert_eq!(
        reader.headers().unwrap(),
        vec!["source", "clicks", "visitors"]
    );
    let rows: Vec<(String, i64, i64)> = reader.deserialize().map(Result::unwrap).collect();
    assert!(rows.contains(&("instagram".into(), 3, 2)), "{rows:?}");
    assert!(rows.contains(&("whatsapp".into(), 2, 1)), "{rows:?}");
    assert_eq!(app.api_get("/api/v1/stats/colours.csv").await.status(), 404);
    assert_eq!(
        app.api_get(&format!(
            "/api/v1/links/{}/clicks.csv?from=soon",
            link["id"]
        ))
        .await
        .status(),
        400
    );
    assert_eq!(
        app.api_get("/api/v1/links/987654/clicks.csv")
            .await
            .status(),
        404
    );
}
