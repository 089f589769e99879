//! Referer privacy: a stored click keeps the Referer's host and its address
//! without the query and fragment (they carry e-mail addresses, tokens and
//! search terms), unless `attribution.keep_referrer_query` keeps it whole;
//! the classification is the same either way.

use serde_json::json;

use crate::harness::{IPHONE_SAFARI, Options, TestApp};

/// Referers with private queries, and the address stored by default.
const REFERERS: [(&str, &str); 3] = [
    (
        "https://example.org/private/page?email=jane@example.org",
        "https://example.org/private/page",
    ),
    (
        "https://www.google.com/search?q=jane+doe+diagnosis#results",
        "https://www.google.com/search",
    ),
    (
        "https://mail.google.com/mail/u/0/?token=s3cr3t#inbox/FMfcgz",
        "https://mail.google.com/mail/u/0/",
    ),
];

/// (referer, referrer_host, channel, source, evidence) of a link's clicks, in order.
type Stored = (
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    Vec<String>,
);

async fn click_through_each_referer(app: &TestApp) -> Vec<Stored> {
    let link = app
        .new_link(json!({"destination": "https://shop.example/"}))
        .await;
    let slug = link["slug"].as_str().unwrap();
    for (referer, _) in REFERERS {
        let res = app
            .client
            .get(format!("{}/{slug}", app.address))
            .header("user-agent", IPHONE_SAFARI)
            .header("referer", referer)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 302, "{referer}");
    }
    app.flush_clicks().await;
    sqlx::query_as(
        "select referer, referrer_host, channel, source, evidence from clicks \
         where link_id = $1 order by occurred_at",
    )
    .bind(link["id"].as_i64())
    .fetch_all(&app.db)
    .await
    .unwrap()
}

#[tokio::test]
async fn a_referer_is_stored_without_its_query_unless_the_setting_keeps_it_and_classification_is_the_same()
 {
    let private = TestApp::spawn().await;
    let stripped = click_through_each_referer(&private).await;
    let keeping = TestApp::spawn_with(Options {
        tweak: Box::new(|s| s.attribution.keep_referrer_query = true),
        ..Options::default()
    })
    .await;
    let whole = click_through_each_referer(&keeping).await;

    assert_eq!(stripped.len(), REFERERS.len());
    assert_eq!(whole.len(), REFERERS.len());
    for (i, (full, cut)) in REFERERS.iter().enumerate() {
        assert_eq!(stripped[i].0.as_deref(), Some(*cut), "stored by default");
        assert_eq!(
            whole[i].0.as_deref(),
            Some(*full),
            "kept whole by the setting"
        );
        assert_eq!(
            (
                &stripped[i].1,
                &stripped[i].2,
                &stripped[i].3,
                &stripped[i].4
            ),
            (&whole[i].1, &whole[i].2, &whole[i].3, &whole[i].4),
            "host, channel, source and evidence do not depend on the setting: {full}"
        );
    }
    assert_eq!(stripped[0].1.as_deref(), Some("example.org"));
    assert_eq!(stripped[0].2.as_deref(), Some("referral"));
    assert_eq!(stripped[1].2.as_deref(), Some("search"));
    assert_eq!(stripped[1].3.as_deref(), Some("google"));
    let leaked: i64 = sqlx::query_scalar(
        "select count(*) from clicks where referer like '%jane%' or referer like '%s3cr3t%'",
    )
    .fetch_one(&private.db)
    .await
    .unwrap();
    assert_eq!(leaked, 0, "no query survives in the stored clicks");
}
