//! The dashboard's "recent clicks": the newest 50 human clicks of a scope
//! and its filters, newest first, read link by link and merged — the same
//! rows as a plain sort of every click, for the workspace, one link and a
//! filter, including when the first window (the last hour) holds too few.

use std::collections::HashMap;

use serde_json::json;
use time::{Duration, OffsetDateTime};

use crate::harness::TestApp;
use lanterne::{
    clicks::seed,
    stats::{self, StatsQuery},
};

async fn newest(app: &TestApp, condition: &str) -> Vec<(OffsetDateTime, i64)> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "select occurred_at, link_id from clicks where {condition} \
         order by occurred_at desc limit 50"
    )))
    .fetch_all(&app.db)
    .await
    .unwrap()
}

async fn listed(app: &TestApp, params: &[(&str, String)]) -> Vec<(OffsetDateTime, i64)> {
    let params: HashMap<String, String> = params
        .iter()
        .map(|(k, v)| ((*k).to_owned(), v.clone()))
        .collect();
    let q = StatsQuery::parse(&params).unwrap();
    let now = OffsetDateTime::now_utc();
    let rows = stats::recent_clicks(&app.db, &q, (now - Duration::days(3), now))
        .await
        .unwrap();
    for pair in rows.windows(2) {
        assert!(pair[0].occurred_at >= pair[1].occurred_at, "newest first");
    }
    rows.into_iter()
        .map(|r| (r.occurred_at, r.link_id))
        .collect()
}

#[tokio::test]
async fn the_newest_clicks_of_the_workspace_a_link_and_a_filter_are_those_a_sort_gives() {
    let app = TestApp::spawn().await;
    let mut ids = Vec::new();
    for name in ["a", "b", "quiet"] {
        let link = app
            .new_link(json!({"destination": format!("https://shop.example/{name}")}))
            .await;
        ids.push(link["id"].as_i64().unwrap());
    }
    // 600 requests over the last day, shared by the first two links: about
    // 12 clicks in the last hour, so the list widens to the day.
    let links = [(ids[0], [None, None, None]), (ids[1], [None, None, None])];
    seed::seed(&app.db, &links, (600, 1, 3)).await.unwrap();

    let all = listed(&app, &[]).await;
    assert_eq!(all.len(), 50);
    assert_eq!(all, newest(&app, "true").await, "the workspace's newest");
    assert!(
        all.iter().any(|r| r.1 == ids[0]) && all.iter().any(|r| r.1 == ids[1]),
        "both links' clicks, merged"
    );

    let b = listed(&app, &[("link_id", ids[1].to_string())]).await;
    assert_eq!(b, newest(&app, &format!("link_id = {}", ids[1])).await);
    assert!(b.iter().all(|r| r.1 == ids[1]));

    let fr = listed(&app, &[("country", "FR".to_owned())]).await;
    assert_eq!(fr, newest(&app, "country = 'FR'").await, "a filter");

    let quiet = listed(&app, &[("link_id", ids[2].to_string())]).await;
    assert!(quiet.is_empty(), "a link without clicks lists none");
}
