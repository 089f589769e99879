//! Spooling: clicks that cannot reach the database are written to disk
//! (when the memory buffer is full, and at shutdown), replayed at the next
//! start, and a second replay of the same file adds nothing.

use std::{fs, path::Path, time::Duration};

use serde_json::json;

use crate::{
    chaos::{ChaosProxy, upstream},
    harness::{Options, TestApp, create_database},
};

fn spool_files(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut files: Vec<_> = fs::read_dir(dir)
        .map(|d| d.filter_map(|e| e.ok().map(|e| e.path())).collect())
        .unwrap_or_default();
    files.retain(|p| p.extension().is_some_and(|e| e == "jsonl" || e == "open"));
    files
}

/// A new instance on `db` and an existing spool directory, once it has
/// written everything (the spool is replayed at start).
async fn restart_on(db: String, spool_dir: &Path) -> TestApp {
    let app = TestApp::spawn_with(Options {
        database: Some(db),
        spool_dir: Some(spool_dir.to_owned()),
        ..Options::default()
    })
    .await;
    app.flush_clicks().await;
    app
}

/// An app that reaches its own database through a chaos proxy, with one link.
struct BehindProxy {
    proxy: ChaosProxy,
    db: String,
    app: TestApp,
    link_id: i64,
    slug: String,
}

async fn behind_proxy(
    tweak: impl FnOnce(&mut lanterne::config::Settings) + Send + 'static,
) -> BehindProxy {
    let proxy = ChaosProxy::start(upstream()).await;
    let db = create_database().await;
    let app = TestApp::spawn_with(Options {
        database_url: Some(proxy.url(&db)),
        database: Some(db.clone()),
        tweak: Box::new(tweak),
        ..Options::default()
    })
    .await;
    let link = app
        .new_link(json!({"destination": "https://shop.example/"}))
        .await;
    BehindProxy {
        link_id: link["id"].as_i64().unwrap(),
        slug: link["slug"].as_str().unwrap().to_owned(),
        proxy,
        db,
        app,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clicks_spooled_during_an_outage_are_replayed_once_after_a_restart() {
    let BehindProxy {
        proxy,
        db,
        app,
        link_id: id,
        slug,
    } = behind_proxy(|s| {
        s.clicks.batch_size = 10;
        s.clicks.memory_buffer = 20;
        s.server.shutdown_deadline = Duration::from_secs(1);
    })
    .await;
    let spool_dir = app.spool_dir.clone();

    proxy.cut();
    for _ in 0..300 {
        assert_eq!(app.visit(&slug).await.status(), 302);
    }
    let db_pool = app.db.clone();
    let report = app.stop().await;
    assert_eq!(report.written, 0, "nothing reached the database");
    assert_eq!(report.spooled, 300, "everything is on disk");
    let files = spool_files(&spool_dir);
    assert!(!files.is_empty());
    assert!(
        files.iter().all(|p| p.extension().unwrap() == "jsonl"),
        "segments are sealed at shutdown"
    );
    let spooled_text: String = files
        .iter()
        .map(|p| fs::read_to_string(p).unwrap())
        .collect();
    assert!(
        !spooled_text.contains("127.0.0.1"),
        "no IP address reaches the disk"
    );
    let backup =
        std::env::temp_dir().join(format!("lanterne-spool-backup-{}", uuid::Uuid::now_v7()));
    fs::create_dir_all(&backup).unwrap();
    for f in &files {
        fs::copy(f, backup.join(f.file_name().unwrap())).unwrap();
    }

    // The database is back; a new instance starts on the same spool directory.
    proxy.restore();
    let restarted = restart_on(db.clone(), &spool_dir).await;
    assert_eq!(
        restarted.clicks_of(id).await,
        300,
        "every spooled click replayed"
    );
    assert!(
        spool_files(&spool_dir).is_empty(),
        "replayed segments are deleted"
    );
    restarted.stop().await;

    // The same segments replayed again (a crash before the delete): no duplicate.
    for f in fs::read_dir(&backup).unwrap() {
        let f = f.unwrap().path();
        fs::copy(&f, spool_dir.join(f.file_name().unwrap())).unwrap();
    }
    let _again = restart_on(db, &spool_dir).await;
    let count: i64 = sqlx::query_scalar("select count(*) from clicks where link_id = $1")
        .bind(id)
        .fetch_one(&db_pool)
        .await
        .unwrap();
    assert_eq!(count, 300, "a second replay adds nothing");
    assert!(spool_files(&spool_dir).is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_write_still_hanging_at_the_shutdown_deadline_is_spooled_and_stored_once() {
    let BehindProxy {
        proxy,
        db,
        app,
        link_id: id,
        slug,
    } = behind_proxy(|s| s.server.shutdown_deadline = Duration::from_millis(500)).await;
    let spool_dir = app.spool_dir.clone();
    // The database stops answering without closing anything: the writer's
    // next batch hangs in flight.
    proxy.stall();
    for _ in 0..50 {
        assert_eq!(app.visit(&slug).await.status(), 302);
    }
    tokio::time::sleep(Duration::from_millis(600)).await;
    let report = app.stop().await;
    assert_eq!(report.written, 0);
    assert_eq!(
        report.spooled, 50,
        "the batch cut by the deadline is on disk, not lost"
    );
    drop(proxy);

    let restarted = restart_on(db, &spool_dir).await;
    assert_eq!(restarted.clicks_and_ids(id).await, (50, 50), "each once");
    assert!(spool_files(&spool_dir).is_empty());
}

#[tokio::test]
async fn events_the_database_refuses_are_set_aside_and_the_others_stored() {
    use lanterne::clicks::{CapturedHeaders, ClickRecord, StoredAttribution, now_micros};
    let first = TestApp::spawn().await;
    let link = first
        .new_link(json!({"destination": "https://shop.example/"}))
        .await;
    let id = link["id"].as_i64().unwrap();
    let record = |ua: &str| ClickRecord {
        id: uuid::Uuid::now_v7(),
        occurred_at: now_micros(),
        link_id: id,
        method: "GET".into(),
        headers: CapturedHeaders {
            user_agent: Some(ua.into()),
            ..CapturedHeaders::default()
        },
        attribution: StoredAttribution {
            kind: "human".into(),
            ..StoredAttribution::default()
        },
    };
    // A NUL byte: PostgreSQL refuses it in text (SQLSTATE 22021); retrying cannot help.
    let records = [
        record("Mozilla/5.0 good 1"),
        record("bad\u{0}agent"),
        record("Mozilla/5.0 good 2"),
    ];
    let (db, spool_dir) = (first.database.clone(), first.spool_dir.clone());
    first.stop().await;
    let lines: String = records
        .iter()
        .map(|r| serde_json::to_string(r).unwrap() + "\n")
        .collect();
    fs::write(
        spool_dir.join(format!("clicks-{}.jsonl", uuid::Uuid::now_v7().simple())),
        lines,
    )
    .unwrap();

    let app = restart_on(db, &spool_dir).await;
    assert_eq!(app.clicks_of(id).await, 2, "the good events are stored");
    assert!(spool_files(&spool_dir).is_empty(), "the segment is done");
    let rejected: Vec<_> = fs::read_dir(&spool_dir)
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "rejected"))
        .collect();
    assert_eq!(rejected.len(), 1, "the refused event is set aside");
    let kept = fs::read_to_string(&rejected[0]).unwrap();
    assert_eq!(kept.lines().count(), 1);
    assert!(kept.contains(&records[1].id.to_string()));
}
