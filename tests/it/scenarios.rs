//! Real-browser scenarios through the real redirect: a headless Chromium
//! (Debian's `chromium`, see `browser.rs`) opens short links the way
//! people do — typed into a new tab, clicked on another site's page, from
//! `target=_blank` and `window.open`, after a prefetch, in an emulated
//! in-app browser, after a messaging app's preview — and each test reads
//! what the writer stored in PostgreSQL (`clicks`, `filtered_requests`,
//! `share_events`). The other sites are pages served by the test itself on
//! another port under made-up host names (`news.example.org`,
//! `shop.example.org`) that Chromium resolves to 127.0.0.1
//! (`--host-resolver-rules`); Lanterne is reached at 127.0.0.1, a
//! potentially trustworthy origin, so Chromium sends it `Sec-Fetch-*` as it
//! would over HTTPS. The table of results is in docs/attribution.md
//! ("Real-browser scenarios"); `SCENARIO_TABLE=1` prints it.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::Duration,
};

use axum::{
    Router,
    extract::{Path, State},
    http::HeaderMap,
    response::Html,
    routing::get,
};
use fantoccini::Locator;
use serde_json::{Value, json};

use crate::{
    browser::Browser,
    harness::{Options, TestApp},
};

/// A desktop Chrome on Linux, the build's major version, as Chrome itself
/// sends it (reduced UA: minor versions are zeros). Headless Chromium's own
/// User-Agent says `HeadlessChrome`, which is (rightly) a bot.
fn desktop_chrome(major: &str) -> String {
    format!(
        "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/{major}.0.0.0 Safari/537.36"
    )
}

/// Instagram's in-app browser on iOS (uap-core tests/test_ua.yaml, family Instagram).
const INSTAGRAM_IOS: &str = "Mozilla/5.0 (iPhone; CPU iPhone OS 16_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 Instagram 302.0.0.23.114 (iPhone14,5; iOS 16_6; fr_FR; fr; scale=3.00; 1170x2532; 523314183)";
/// Facebook's in-app browser on Android (uap-core tests/test_ua.yaml shape
/// `[FB_IAB/FB4A;FBAV/…]`, with a current WebView).
const FACEBOOK_ANDROID: &str = "Mozilla/5.0 (Linux; Android 14; Pixel 8 Build/AP1A.240405.002; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/124.0.6367.82 Mobile Safari/537.36 [FB_IAB/FB4A;FBAV/460.0.0.48.109;]";
/// LINE's in-app browser on iOS (uap-core tests/test_ua.yaml, family LINE).
const LINE_IOS: &str = "Mozilla/5.0 (iPhone; CPU iPhone OS 11_0 like Mac OS X) AppleWebKit/604.1.38 (KHTML, like Gecko) Mobile/15A372 Safari Line/7.12.0";
/// An Android System WebView (`; wv)`), which names its app only in
/// `X-Requested-With` (Chrome for Developers, "User-Agent reduction" and the
/// Android WebView `X-Requested-With` deprecation trial).
const ANDROID_WEBVIEW: &str = "Mozilla/5.0 (Linux; Android 13; SM-S911B Build/TP1A.220624.014; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/124.0.6367.82 Mobile Safari/537.36";
/// Googlebot (developers.google.com/search/docs/crawling-indexing/overview-google-crawlers).
const GOOGLEBOT: &str = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)";
/// WhatsApp's link-preview fetcher (crawler-user-agents, "WhatsApp").
const WHATSAPP_PREVIEW: &str = "WhatsApp/2.23.20.0 A";

/// The pages of the "other sites", by name, and what their visitors' requests
/// to `/echo` carried.
#[derive(Clone, Default)]
struct Pages(Arc<Mutex<HashMap<String, String>>>);

async fn page(State(pages): State<Pages>, Path(name): Path<String>) -> Html<String> {
    Html(
        pages
            .0
            .lock()
            .unwrap()
            .get(&name)
            .cloned()
            .unwrap_or_default(),
    )
}

async fn landing() -> Html<&'static str> {
    Html("<!doctype html><title>Landing</title><main><h1>Landed</h1></main>")
}

/// Serves the other sites on 127.0.0.1; returns the port.
async fn other_sites(pages: Pages) -> u16 {
    let router = Router::new()
        .route("/page/{name}", get(page))
        .route("/landing", get(landing))
        .route("/favicon.ico", get(|| async { "" }))
        .route(
            "/echo",
            get(|h: HeaderMap| async move {
                let v: HashMap<String, String> = h
                    .iter()
                    .map(|(k, v)| (k.to_string(), v.to_str().unwrap_or("").to_owned()))
                    .collect();
                axum::Json(v)
            }),
        )
        .with_state(pages);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move { axum::serve(listener, router).await });
    port
}

/// What the writer stored for one link.
#[derive(Debug, Default, Clone, PartialEq)]
struct Stored {
    /// One row per click (see [`Click`]).
    clicks: Vec<Click>,
    /// (kind, source) per bot or prefetch.
    filtered: Vec<(String, Option<String>)>,
    /// app per share event.
    shares: Vec<String>,
}

impl Stored {
    fn rows(&self) -> usize {
        self.clicks.len() + self.filtered.len() + self.shares.len()
    }

    /// One line of the table: what was stored, in words.
    fn describe(&self) -> String {
        let mut parts = Vec::new();
        for (channel, source, inapp, evidence, ..) in &self.clicks {
            let mut s = format!("click `{}`", channel.as_deref().unwrap_or("?"));
            if let Some(source) = source {
                s += &format!(", source `{source}`");
            }
            if let Some(inapp) = inapp {
                s += &format!(", in-app `{inapp}`");
            }
            s += &format!(", evidence `{}`", evidence.join(" "));
            parts.push(s);
        }
        for (kind, source) in &self.filtered {
            parts.push(match source {
                Some(source) => format!("`{kind}` (`{source}`), not a click"),
                None => format!("`{kind}`, not a click"),
            });
        }
        for app in &self.shares {
            parts.push(format!("share event `{app}`"));
        }
        parts.join("; ")
    }
}

struct World {
    app: TestApp,
    browser: Browser,
    pages: Pages,
    sites: u16,
    table: Vec<(String, String, String)>,
}

impl World {
    async fn start() -> World {
        // `localhost` is not one of Lanterne's hosts here, so that a page on
        // `news.localhost` is another site.
        let app = TestApp::spawn_with(Options {
            tweak: Box::new(|s| s.server.domains = vec!["go.example.com".into()]),
            ..Options::default()
        })
        .await;
        let pages = Pages::default();
        let sites = other_sites(pages.clone()).await;
        let major = chromium_major();
        let browser = Browser::with_args(
            1280,
            900,
            &[
                "--host-resolver-rules=MAP news.example.org 127.0.0.1, MAP shop.example.org 127.0.0.1, MAP news.localhost 127.0.0.1".into(),
                format!("--user-agent={}", desktop_chrome(&major)),
                // The other sites are plain http on a high port: no upgrade attempt.
                "--disable-features=HttpsUpgrades,HttpsFirstBalancedModeAutoEnable".into(),
            ],
        )
        .await;
        World {
            app,
            browser,
            pages,
            sites,
            table: Vec::new(),
        }
    }

    /// A link to the landing page of shop.example.org; `slug` makes it a vanity link.
    async fn link(&self, slug: Option<&str>) -> (i64, String) {
        let mut body =
            json!({"destination": format!("http://shop.example.org:{}/landing", self.sites)});
        if let Some(slug) = slug {
            body["slug"] = json!(slug);
        }
        let link = self.app.new_link(body).await;
        let id = link["id"].as_i64().unwrap();
        let slug = link["slug"].as_str().unwrap();
        (id, format!("{}/{slug}", self.app.address))
    }

    /// Puts a page on news.example.org and returns its URL.
    fn news_page(&self, name: &str, body: &str) -> String {
        self.page_on("news.example.org", name, body)
    }

    /// Puts a page on the other sites and returns its URL on `host`.
    fn page_on(&self, host: &str, name: &str, body: &str) -> String {
        self.pages.0.lock().unwrap().insert(
            name.to_owned(),
            format!("<!doctype html><title>{name}</title><main>{body}</main>"),
        );
        format!("http://{host}:{}/page/{name}", self.sites)
    }

    async fn stored(&self, link: i64) -> Stored {
        let db = &self.app.db;
        Stored {
            clicks: sqlx::query_as(
                "select channel, source, inapp, evidence, sec_fetch_site, referer from clicks \
                 where link_id = $1 order by occurred_at",
            )
            .bind(link)
            .fetch_all(db)
            .await
            .unwrap(),
            filtered: sqlx::query_as(
                "select kind, source from filtered_requests where link_id = $1 order by occurred_at",
            )
            .bind(link)
            .fetch_all(db)
            .await
            .unwrap(),
            shares: sqlx::query_scalar(
                "select app from share_events where link_id = $1 order by occurred_at",
            )
            .bind(link)
            .fetch_all(db)
            .await
            .unwrap(),
        }
    }

    /// Waits (up to 15 s) until `rows` requests of the link are stored, then
    /// a little longer, so that a request too many would be seen too.
    async fn settle(&self, link: i64, rows: usize) -> Stored {
        for _ in 0..150 {
            self.app.flush_clicks().await;
            if self.stored(link).await.rows() >= rows {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        tokio::time::sleep(Duration::from_millis(700)).await;
        self.app.flush_clicks().await;
        self.stored(link).await
    }

    fn record(&mut self, scenario: &str, sent: &str, stored: &Stored) {
        self.table
            .push((scenario.to_owned(), sent.to_owned(), stored.describe()));
    }

    /// Opens a new tab, makes it current, and (with `ua`) overrides its User-Agent.
    async fn new_tab(&self, ua: Option<&str>) {
        let tab = self.browser.client.new_window(true).await.unwrap();
        self.browser
            .client
            .switch_to_window(tab.handle)
            .await
            .unwrap();
        if let Some(ua) = ua {
            self.browser
                .cdp("Network.setUserAgentOverride", json!({"userAgent": ua}))
                .await;
        }
    }

    /// Clicks the element with `id` on the current page.
    async fn click_id(&self, id: &str) {
        self.browser
            .client
            .wait()
            .at_most(Duration::from_secs(10))
            .for_element(Locator::Id(id))
            .await
            .unwrap_or_else(|_| panic!("an element #{id}"))
            .click()
            .await
            .unwrap();
    }

    fn print_table(&self) {
        let mut out =
            String::from("| scenario | what Chromium sent | what was stored |\n|---|---|---|\n");
        for (a, b, c) in &self.table {
            out += &format!("| {a} | {b} | {c} |\n");
        }
        if std::env::var_os("SCENARIO_TABLE").is_some() {
            eprintln!("{out}");
        }
    }
}

fn chromium_major() -> String {
    let out = std::process::Command::new(
        std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into()),
    )
    .arg("--version")
    .output()
    .expect("chromium --version");
    let text = String::from_utf8_lossy(&out.stdout);
    text.split_whitespace()
        .find_map(|w| w.split('.').next().filter(|m| m.parse::<u32>().is_ok()))
        .expect("a version in chromium --version")
        .to_owned()
}

/// (channel, source, inapp, evidence, sec_fetch_site, referer) of a stored click.
type Click = (
    Option<String>,
    Option<String>,
    Option<String>,
    Vec<String>,
    Option<String>,
    Option<String>,
);

fn one_click<'a>(scenario: &str, s: &'a Stored) -> &'a Click {
    assert!(
        s.filtered.is_empty() && s.shares.is_empty() && s.clicks.len() == 1,
        "{scenario}: exactly one click and nothing else, got {s:?}"
    );
    &s.clicks[0]
}

#[tokio::test]
async fn real_browser_scenarios_are_classified_as_documented() {
    let mut w = World::start().await;
    let news_host = "news.example.org";

    // 1. A generated short link typed (or pasted) into a new tab.
    let (id, short) = w.link(None).await;
    w.new_tab(None).await;
    w.browser.client.goto(&short).await.unwrap();
    let s = w.settle(id, 1).await;
    let (channel, source, _, evidence, site, referer) = one_click("typed generated", &s);
    assert_eq!(channel.as_deref(), Some("dark_social"));
    assert_eq!(source, &None);
    assert_eq!(evidence, &["sec_fetch_site_none+generated_slug"]);
    assert_eq!((site.as_deref(), referer), (Some("none"), &None));
    w.record(
        "generated slug typed into a new tab",
        "`Sec-Fetch-Site: none`, no Referer",
        &s,
    );

    // 2. A vanity slug typed into a new tab: people type those from memory.
    let (id, short) = w.link(Some("spring-sale")).await;
    w.new_tab(None).await;
    w.browser.client.goto(&short).await.unwrap();
    let s = w.settle(id, 1).await;
    let (channel, _, _, evidence, site, _) = one_click("typed vanity", &s);
    assert_eq!(channel.as_deref(), Some("direct"));
    assert_eq!(evidence, &["no_referer"]);
    assert_eq!(site.as_deref(), Some("none"));
    w.record(
        "vanity slug typed into a new tab",
        "`Sec-Fetch-Site: none`, no Referer",
        &s,
    );

    // 3. A link on a page of another site.
    let (id, short) = w.link(None).await;
    let url = w.news_page("article", &format!(r#"<a id="go" href="{short}">Read</a>"#));
    w.browser.client.goto(&url).await.unwrap();
    w.click_id("go").await;
    let s = w.settle(id, 1).await;
    let (channel, source, _, evidence, site, referer) = one_click("link on another site", &s);
    assert_eq!(channel.as_deref(), Some("referral"));
    assert_eq!(source.as_deref(), Some(news_host));
    assert_eq!(evidence, &["referer:referral"]);
    assert_eq!(site.as_deref(), Some("cross-site"));
    // strict-origin-when-cross-origin: the origin only.
    assert_eq!(
        referer.as_deref(),
        Some(format!("http://{news_host}:{}/", w.sites).as_str())
    );
    w.record(
        "link on a page of another site",
        "`Sec-Fetch-Site: cross-site`, Referer = that page's origin",
        &s,
    );

    // 4. The same link with referrerpolicy="no-referrer".
    let (id, short) = w.link(None).await;
    let url = w.news_page(
        "hidden",
        &format!(r#"<a id="go" referrerpolicy="no-referrer" href="{short}">Read</a>"#),
    );
    w.browser.client.goto(&url).await.unwrap();
    w.click_id("go").await;
    let s = w.settle(id, 1).await;
    let (channel, source, _, evidence, site, referer) = one_click("no-referrer", &s);
    assert_eq!((channel.as_deref(), source), (Some("direct"), &None));
    assert_eq!(evidence, &["referer_withheld"]);
    assert_eq!((site.as_deref(), referer), (Some("cross-site"), &None));
    w.record(
        "link with `referrerpolicy=\"no-referrer\"` on another site",
        "`Sec-Fetch-Site: cross-site`, no Referer",
        &s,
    );

    // 5. target=_blank (implies noopener, keeps the referrer).
    let (id, short) = w.link(None).await;
    let url = w.news_page(
        "blank",
        &format!(r#"<a id="go" target="_blank" href="{short}">Read</a>"#),
    );
    w.browser.client.goto(&url).await.unwrap();
    w.click_id("go").await;
    let s = w.settle(id, 1).await;
    let (channel, source, _, _, site, _) = one_click("target=_blank", &s);
    assert_eq!(channel.as_deref(), Some("referral"));
    assert_eq!(source.as_deref(), Some(news_host));
    assert_eq!(site.as_deref(), Some("cross-site"));
    w.record(
        "`target=_blank` link on another site",
        "`Sec-Fetch-Site: cross-site`, Referer = origin",
        &s,
    );

    // 6. window.open from a button of another site.
    let (id, short) = w.link(None).await;
    let url = w.news_page(
        "popup",
        &format!(r#"<button id="go" onclick="window.open('{short}')">Open</button>"#),
    );
    w.browser.client.goto(&url).await.unwrap();
    w.click_id("go").await;
    let s = w.settle(id, 1).await;
    let (channel, source, _, _, site, _) = one_click("window.open", &s);
    assert_eq!(channel.as_deref(), Some("referral"));
    assert_eq!(source.as_deref(), Some(news_host));
    assert_eq!(site.as_deref(), Some("cross-site"));
    w.record(
        "`window.open` from a button on another site",
        "`Sec-Fetch-Site: cross-site`, Referer = origin",
        &s,
    );

    // 7. <link rel=prefetch>, then the click: the prefetch is not a click,
    // the navigation is counted once.
    let (id, short) = w.link(None).await;
    let url = w.news_page(
        "prefetch",
        &format!(r#"<link rel="prefetch" href="{short}"><a id="go" href="{short}">Read</a>"#),
    );
    w.browser.client.goto(&url).await.unwrap();
    let s = w.settle(id, 1).await;
    assert_eq!(
        (s.clicks.len(), s.filtered.clone()),
        (0, vec![("prefetch".to_owned(), None)]),
        "the prefetch alone: {s:?}"
    );
    w.click_id("go").await;
    let s = w.settle(id, 2).await;
    assert_eq!(s.clicks.len(), 1, "one click after the prefetch: {s:?}");
    assert_eq!(s.filtered.len(), 1, "one prefetch: {s:?}");
    assert_eq!(s.clicks[0].0.as_deref(), Some("referral"));
    w.record(
        "`<link rel=prefetch>` of the short link, then a click on it",
        "prefetch: `Sec-Purpose: prefetch`; click: `Sec-Fetch-Site: cross-site`, Referer",
        &s,
    );

    // 8. Speculation Rules prefetch, then the click. Chromium runs
    // speculation rules only in a visible page: a new tab, in front.
    let (id, short) = w.link(None).await;
    let rules =
        json!({"prefetch": [{"source": "list", "urls": [short], "eagerness": "immediate"}]});
    let url = w.news_page(
        "speculation",
        &format!(
            r#"<script type="speculationrules">{rules}</script><a id="go" href="{short}">Read</a>"#
        ),
    );
    w.new_tab(None).await;
    w.browser.client.goto(&url).await.unwrap();
    let before = w.settle(id, 1).await;
    assert_eq!(
        (before.clicks.len(), before.filtered.clone()),
        (0, vec![("prefetch".to_owned(), None)]),
        "the speculative prefetch alone: {before:?}"
    );
    w.click_id("go").await;
    let s = w.settle(id, 2).await;
    w.record(
        "Speculation Rules prefetch of the short link, then a click on it",
        "prefetch: `Sec-Purpose: prefetch`, `Sec-Fetch-Site: none`; click: `Sec-Fetch-Site: cross-site`, Referer",
        &s,
    );
    assert_eq!(s.filtered.len(), 1, "one prefetch: {s:?}");
    assert_eq!(s.clicks.len(), 1, "the navigation counted once: {s:?}");
    assert_eq!(s.clicks[0].1.as_deref(), Some(news_host), "{s:?}");

    // 9–12. In-app browsers, emulated by User-Agent (and X-Requested-With).
    let (id, short) = w.link(None).await;
    w.new_tab(Some(INSTAGRAM_IOS)).await;
    w.browser.client.goto(&short).await.unwrap();
    let s = w.settle(id, 1).await;
    let (channel, source, inapp, evidence, ..) = one_click("instagram", &s);
    assert_eq!(channel.as_deref(), Some("dark_social"));
    assert_eq!(source.as_deref(), Some("instagram"));
    assert_eq!(inapp.as_deref(), Some("instagram"));
    assert_eq!(evidence[0], "inapp_ua:instagram");
    w.record(
        "Instagram in-app browser (iOS UA), link opened from a DM",
        "Instagram UA, `Sec-Fetch-Site: none`, no Referer",
        &s,
    );

    let (id, short) = w.link(None).await;
    w.new_tab(Some(FACEBOOK_ANDROID)).await;
    w.browser.cdp("Network.enable", json!({})).await;
    w.browser
        .cdp(
            "Network.setExtraHTTPHeaders",
            json!({"headers": {"X-Requested-With": "com.facebook.katana"}}),
        )
        .await;
    w.browser
        .cdp(
            "Page.navigate",
            // http: Lanterne is plain http here, and an https page's referrer
            // would be dropped on the downgrade (strict-origin-when-cross-origin).
            json!({"url": short, "referrer": "http://m.facebook.com/"}),
        )
        .await;
    let s = w.settle(id, 1).await;
    let (channel, source, inapp, evidence, ..) = one_click("facebook", &s);
    assert_eq!(channel.as_deref(), Some("social"), "{s:?}");
    assert_eq!(source.as_deref(), Some("facebook"));
    assert_eq!(inapp.as_deref(), Some("facebook"));
    assert_eq!(evidence[0], "referer:social:facebook");
    w.record(
        "Facebook in-app browser (Android UA, `X-Requested-With: com.facebook.katana`), link in a post",
        "FB_IAB UA, `X-Requested-With`, Referer `http://m.facebook.com/` (given to `Page.navigate`, hence also `Sec-Fetch-Site: none`)",
        &s,
    );

    let (id, short) = w.link(None).await;
    w.new_tab(Some(LINE_IOS)).await;
    w.browser.client.goto(&short).await.unwrap();
    let s = w.settle(id, 1).await;
    let (channel, source, inapp, evidence, ..) = one_click("line", &s);
    assert_eq!(channel.as_deref(), Some("dark_social"));
    assert_eq!(source.as_deref(), Some("line"));
    assert_eq!(inapp.as_deref(), Some("line"));
    assert_eq!(evidence[0], "inapp_ua:line");
    w.record(
        "LINE in-app browser (iOS UA), link opened from a chat",
        "LINE UA, `Sec-Fetch-Site: none`, no Referer",
        &s,
    );

    let (id, short) = w.link(None).await;
    w.new_tab(Some(ANDROID_WEBVIEW)).await;
    w.browser.cdp("Network.enable", json!({})).await;
    w.browser
        .cdp(
            "Network.setExtraHTTPHeaders",
            json!({"headers": {"X-Requested-With": "org.telegram.messenger"}}),
        )
        .await;
    w.browser.client.goto(&short).await.unwrap();
    let s = w.settle(id, 1).await;
    let (channel, source, inapp, evidence, ..) = one_click("webview", &s);
    assert_eq!(channel.as_deref(), Some("dark_social"));
    assert_eq!(source.as_deref(), Some("telegram"));
    assert_eq!(inapp.as_deref(), Some("telegram"));
    assert_eq!(evidence[0], "x_requested_with:telegram");
    w.record(
        "Android WebView with `X-Requested-With: org.telegram.messenger`",
        "WebView UA (`; wv)`), `X-Requested-With`, `Sec-Fetch-Site: none`",
        &s,
    );

    // 13. A messaging preview, then the recipient opens the link.
    let (id, short) = w.link(Some("recipe")).await;
    let res = w
        .app
        .client
        .get(&short)
        .header("user-agent", WHATSAPP_PREVIEW)
        .send()
        .await
        .unwrap();
    assert!(res.status().is_success() || res.status().is_redirection());
    let preview = w.settle(id, 1).await;
    assert_eq!(preview.shares, vec!["whatsapp".to_owned()], "{preview:?}");
    w.new_tab(None).await;
    w.browser.client.goto(&short).await.unwrap();
    let s = w.settle(id, 2).await;
    assert_eq!(s.shares.len(), 1, "{s:?}");
    assert_eq!(s.clicks.len(), 1, "{s:?}");
    let (channel, source, _, evidence, ..) = &s.clicks[0];
    assert_eq!(channel.as_deref(), Some("dark_social"));
    assert_eq!(source.as_deref(), Some("whatsapp"));
    assert_eq!(evidence[0], "recent_preview:whatsapp");
    w.record(
        "WhatsApp preview of a vanity link, then the recipient opens it in the browser",
        "preview: `WhatsApp/2…` GET; click: `Sec-Fetch-Site: none`, no Referer",
        &s,
    );

    // 14. A HEAD request made by the browser (fetch from another site's page).
    let (id, short) = w.link(None).await;
    let url = w.news_page("head", "<p>head</p>");
    w.new_tab(None).await;
    w.browser.client.goto(&url).await.unwrap();
    w.browser
        .client
        .execute(
            "fetch(arguments[0], {method: 'HEAD', mode: 'no-cors'}).catch(() => {});",
            vec![Value::String(short.clone())],
        )
        .await
        .unwrap();
    let s = w.settle(id, 1).await;
    assert_eq!(s.clicks.len(), 0, "{s:?}");
    assert_eq!(s.filtered, vec![("prefetch".to_owned(), None)], "{s:?}");
    w.record(
        "HEAD request (`fetch(…, {method: 'HEAD'})` on another site)",
        "`HEAD`, `Sec-Fetch-Mode: no-cors`",
        &s,
    );

    // 15–16. Crawlers: Googlebot's UA, and headless Chromium as it comes.
    let (id, short) = w.link(None).await;
    w.new_tab(Some(GOOGLEBOT)).await;
    w.browser.client.goto(&short).await.unwrap();
    let s = w.settle(id, 1).await;
    assert_eq!(s.clicks.len(), 0, "{s:?}");
    assert_eq!(s.filtered.len(), 1, "{s:?}");
    assert_eq!(s.filtered[0].0, "bot");
    w.record(
        "crawler: a rendering crawler with Googlebot's User-Agent",
        "Googlebot UA, `Sec-Fetch-Site: none`",
        &s,
    );

    let (id, short) = w.link(None).await;
    let headless = desktop_chrome(&chromium_major()).replace("Chrome/", "HeadlessChrome/");
    w.new_tab(Some(&headless)).await;
    w.browser.client.goto(&short).await.unwrap();
    let s = w.settle(id, 1).await;
    assert_eq!(s.clicks.len(), 0, "{s:?}");
    assert_eq!(s.filtered.len(), 1, "{s:?}");
    assert_eq!(s.filtered[0].0, "bot");
    w.record(
        "crawler: headless Chromium with its own User-Agent (Puppeteer-style)",
        "`HeadlessChrome/…` UA",
        &s,
    );

    w.print_table();
    w.browser.close().await;
}
