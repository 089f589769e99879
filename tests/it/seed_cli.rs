//! `lanterne seed-clicks` and `lanterne rollups rebuild`: synthetic traffic
//! through the writer's storage path, counted by the stats API exactly as
//! written, and rollups that a rebuild from raw rows reproduces.

use std::process::Command;

use serde_json::{Value, json};

use crate::harness::{TestApp, database_url};

fn run(db: &str, args: &[&str]) -> std::process::Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_lanterne"));
    for (k, _) in std::env::vars().filter(|(k, _)| k.starts_with("LANTERNE_")) {
        cmd.env_remove(k);
    }
    cmd.env("DATABASE_URL", database_url(db))
        .env("RUST_LOG", "warn")
        .args(args)
        .output()
        .expect("the binary runs")
}

fn lanterne(db: &str, args: &[&str]) -> String {
    let out = run(db, args);
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "{args:?}: {stderr}");
    stderr
}

async fn workspace_of(app: &TestApp) -> Value {
    let res = app
        .api_get("/api/v1/stats?from=2000-01-01&to=2100-01-01")
        .await;
    assert_eq!(res.status(), 200);
    res.json().await.unwrap()
}

async fn stats_of(app: &TestApp, id: &Value) -> Value {
    let res = app
        .api_get(&format!(
            "/api/v1/stats?link_id={id}&from=2000-01-01&to=2100-01-01"
        ))
        .await;
    assert_eq!(res.status(), 200);
    res.json().await.unwrap()
}

#[tokio::test]
async fn seeded_requests_are_all_counted_the_same_seed_gives_the_same_mix_and_a_rebuild_changes_nothing()
 {
    let app = TestApp::spawn().await;
    let a = app
        .new_link(json!({"destination": "https://shop.example/a", "utm": {"campaign": "spring"}}))
        .await;
    let b = app
        .new_link(json!({"destination": "https://shop.example/b"}))
        .await;
    for link in [&a, &b] {
        let said = lanterne(
            &app.database,
            &[
                "seed-clicks",
                "--link-id",
                &link["id"].to_string(),
                "--count",
                "12000",
                "--days",
                "90",
                "--seed",
                "7",
            ],
        );
        assert!(said.contains("seeded 12000 requests"), "{said}");
    }
    let (sa, sb) = (
        stats_of(&app, &a["id"]).await,
        stats_of(&app, &b["id"]).await,
    );
    let t = &sa["totals"];
    let all = ["clicks", "share_events", "bots", "prefetches"].map(|k| t[k].as_i64().unwrap());
    assert_eq!(
        all.iter().sum::<i64>(),
        12_000,
        "every request counted once: {t}"
    );
    assert!(
        t["dark_social"].as_i64().unwrap() > t["direct"].as_i64().unwrap(),
        "{t}"
    );
    assert!(t["visitors"].as_i64().unwrap() > 0 && t["visitors"].as_i64().unwrap() < all[0]);
    assert_eq!(
        sa["totals"], sb["totals"],
        "the same seed writes the same mix"
    );
    assert_eq!(sa["channels"], sb["channels"]);
    assert_eq!(
        sa["utm_campaigns"][0]["value"], "spring",
        "clicks carry the link's UTM fields"
    );
    let human: i64 = app.clicks_of(a["id"].as_i64().unwrap()).await;
    assert_eq!(human, all[0], "human clicks are stored rows");

    let said = lanterne(&app.database, &["rollups", "rebuild"]);
    assert!(said.contains("rollups rebuilt"), "{said}");
    assert_eq!(
        stats_of(&app, &a["id"]).await,
        sa,
        "the rebuild reproduces the writer's rollups"
    );
}

#[tokio::test]
async fn several_links_share_one_seeding_run_evenly_and_the_workspace_counts_every_request() {
    let app = TestApp::spawn().await;
    let c = app
        .new_link(json!({"destination": "https://shop.example/c", "utm": {"campaign": "autumn"}}))
        .await;
    let d = app
        .new_link(json!({"destination": "https://shop.example/d"}))
        .await;
    let ids = format!("{},{}", c["id"], d["id"]);
    let said = lanterne(
        &app.database,
        &[
            "seed-clicks",
            "--link-id",
            &ids,
            "--count",
            "9001",
            "--days",
            "30",
        ],
    );
    assert!(said.contains("seeded 9001 requests for 2 links"), "{said}");
    let requests = |s: &Value| {
        ["clicks", "share_events", "bots", "prefetches"]
            .map(|k| s["totals"][k].as_i64().unwrap())
            .iter()
            .sum::<i64>()
    };
    let (sc, sd) = (
        stats_of(&app, &c["id"]).await,
        stats_of(&app, &d["id"]).await,
    );
    assert_eq!(
        (requests(&sc), requests(&sd)),
        (4501, 4500),
        "shared evenly"
    );
    assert_eq!(sc["utm_campaigns"][0]["value"], "autumn", "{sc}");
    assert!(
        !sd["utm_campaigns"].to_string().contains("autumn"),
        "each link's own UTM fields: {}",
        sd["utm_campaigns"]
    );
    let before = workspace_of(&app).await;
    assert_eq!(requests(&before), 9001, "{}", before["totals"]);

    lanterne(&app.database, &["rollups", "rebuild"]);
    assert_eq!(
        workspace_of(&app).await,
        before,
        "a rebuild reproduces them"
    );
    assert_eq!(stats_of(&app, &d["id"]).await, sd);

    // A link given twice is refused before anything is written.
    let twice = format!("{},{}", c["id"], c["id"]);
    let out = run(
        &app.database,
        &["seed-clicks", "--link-id", &twice, "--count", "10"],
    );
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("each link may be given once"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(requests(&workspace_of(&app).await), 9001);
}
