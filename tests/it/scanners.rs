//! E-mail security scanners through the real pipeline: with an ASN database
//! configured (`attribution.asn_database`, a small GeoLite2-ASN-shaped file
//! built here with `mmdb-writer`), a request from a security vendor's network
//! or from a cloud with no sign of a person is stored as a bot named by its
//! network, never as a click; people beside them stay clicks; a new file is
//! picked up without a restart; and the redirect is answered the same way.

use std::{path::PathBuf, time::Duration};

use mmdb_writer::{Value, ipnet::IpNet};
use serde_json::json;

use crate::harness::{Options, TestApp};

const CHROME: &str = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36";

/// A GeoLite2-ASN-shaped database of (CIDR, number, organisation).
fn asn_db(networks: &[(&str, u32, &str)]) -> Vec<u8> {
    let mut writer = mmdb_writer::Writer::new("GeoLite2-ASN");
    for (net, number, org) in networks {
        let record = Value::map([
            ("autonomous_system_number", Value::from(*number)),
            ("autonomous_system_organization", Value::from(*org)),
        ]);
        writer
            .insert_value(net.parse::<IpNet>().unwrap(), record)
            .unwrap();
    }
    writer.to_bytes().unwrap()
}

/// Replaces the file and moves its mtime ahead, so the reload sees it.
fn write(path: &PathBuf, bytes: &[u8], secs: u64) {
    std::fs::write(path, bytes).unwrap();
    std::fs::File::options()
        .write(true)
        .open(path)
        .unwrap()
        .set_modified(std::time::SystemTime::now() + Duration::from_secs(secs))
        .unwrap();
}

async fn get(app: &TestApp, slug: &str, ip: &str, headers: &[(&str, &str)]) -> u16 {
    let mut req = app
        .client
        .get(format!("{}/{slug}", app.address))
        .header("x-forwarded-for", ip);
    // A browser's navigation headers, each replaced by the one given.
    let defaults = [
        ("user-agent", CHROME),
        ("accept-language", "en-US,en;q=0.9"),
        ("sec-fetch-site", "none"),
        ("sec-fetch-mode", "navigate"),
    ];
    for (k, v) in defaults {
        if !headers.iter().any(|(name, _)| *name == k) {
            req = req.header(k, v);
        }
    }
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    req.send().await.unwrap().status().as_u16()
}

#[tokio::test]
async fn scanner_networks_are_bots_named_by_their_network_and_people_stay_clicks() {
    let path = std::env::temp_dir().join(format!("lanterne-it-asn-{}.mmdb", uuid::Uuid::new_v4()));
    write(
        &path,
        &asn_db(&[
            ("198.51.100.0/24", 22843, "Proofpoint, Inc."),
            ("192.0.2.0/24", 8075, "MICROSOFT-CORP-MSN-AS-BLOCK"),
        ]),
        0,
    );
    let file = path.clone();
    let app = TestApp::spawn_with(Options {
        tweak: Box::new(move |s| {
            s.server.trusted_proxies = vec!["127.0.0.1/32".parse().unwrap()];
            s.attribution.asn_database = file;
            s.attribution.geo_reload_interval = Duration::from_secs(1);
        }),
        ..Options::default()
    })
    .await;
    let link = app
        .new_link(json!({"destination": "https://shop.example/"}))
        .await;
    let slug = link["slug"].as_str().unwrap();
    let id = link["id"].as_i64().unwrap();

    // The scanners: answered like anyone (a redirect), stored as bots.
    assert_eq!(get(&app, slug, "198.51.100.7", &[]).await, 302);
    assert_eq!(get(&app, slug, "192.0.2.9", &[]).await, 302);
    // A Proofpoint sandbox with a Referer is still a scanner.
    let referer = [("referer", "https://urldefense.com/")];
    assert_eq!(get(&app, slug, "198.51.100.8", &referer).await, 302);
    // People: an eyeball address, and someone on Microsoft's network clicking on a page.
    assert_eq!(get(&app, slug, "203.0.113.7", &[]).await, 302);
    let from_page = [
        ("referer", "https://news.example.org/"),
        ("sec-fetch-site", "cross-site"),
    ];
    assert_eq!(get(&app, slug, "192.0.2.10", &from_page).await, 302);
    app.flush_clicks().await;

    let filtered: Vec<(String, Option<String>)> = sqlx::query_as(
        "select kind, source from filtered_requests where link_id = $1 order by source",
    )
    .bind(id)
    .fetch_all(&app.db)
    .await
    .unwrap();
    assert_eq!(
        filtered,
        vec![
            ("bot".to_owned(), Some("microsoft".to_owned())),
            ("bot".to_owned(), Some("proofpoint".to_owned())),
            ("bot".to_owned(), Some("proofpoint".to_owned())),
        ]
    );
    let clicks: Vec<(Option<String>, Vec<String>)> =
        sqlx::query_as("select channel, evidence from clicks where link_id = $1 order by channel")
            .bind(id)
            .fetch_all(&app.db)
            .await
            .unwrap();
    assert_eq!(
        clicks,
        vec![
            (
                Some("dark_social".to_owned()),
                vec!["sec_fetch_site_none+generated_slug".to_owned()]
            ),
            (
                Some("referral".to_owned()),
                vec!["referer:referral".to_owned()]
            ),
        ]
    );
    // The bots' rollups name the network and the signal.
    let rolled: Vec<(String, String, i64)> = sqlx::query_as(
        "select dimension, value, sum(events)::int8 from click_rollups \
         where link_id = $1 and kind = 'bot' and dimension in ('source', 'all') \
         group by 1, 2 order by 1, 2",
    )
    .bind(id)
    .fetch_all(&app.db)
    .await
    .unwrap();
    assert_eq!(
        rolled,
        vec![
            ("all".to_owned(), String::new(), 3),
            ("source".to_owned(), "microsoft".to_owned(), 1),
            ("source".to_owned(), "proofpoint".to_owned(), 2),
        ]
    );

    // A new file (203.0.113.0/24 moves to a cloud) is picked up without a restart.
    write(
        &path,
        &asn_db(&[("203.0.113.0/24", 16509, "AMAZON-02")]),
        10,
    );
    let mut moved = false;
    for _ in 0..100 {
        let before = app.clicks_of(id).await;
        assert_eq!(get(&app, slug, "203.0.113.7", &[]).await, 302);
        app.flush_clicks().await;
        if app.clicks_of(id).await == before {
            moved = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(moved, "the reloaded ASN database was never used");
    let amazon: i64 = sqlx::query_scalar(
        "select count(*) from filtered_requests where link_id = $1 and source = 'amazon'",
    )
    .bind(id)
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert_eq!(amazon, 1);
    let _ = std::fs::remove_file(path);
}
