//! A real headless Chromium for page tests, driven over W3C WebDriver
//! (Debian's `chromium` and `chromedriver`; `scripts/ensure-browser.sh`
//! installs them and axe-core). Each `Browser` has its own chromedriver
//! and profile. Elements are found by their accessible names (labels,
//! button and link text), not by CSS classes; `axe()` runs axe-core in the
//! page; screenshots go to `target/screenshots/`.

use std::{
    path::PathBuf,
    process::{Child, Command, Stdio},
    time::Duration,
};

use fantoccini::{Client, ClientBuilder, Locator, elements::Element};
use serde_json::{Value, json};

use crate::harness::TestApp;

/// A headless Chromium session.
pub struct Browser {
    /// The WebDriver client.
    pub client: Client,
    driver: Child,
    driver_url: String,
    profile: PathBuf,
}

impl Browser {
    /// Starts chromedriver and a headless Chromium (phone-sized when `phone`).
    pub async fn start() -> Browser {
        Browser::with_size(1280, 900).await
    }

    /// A session whose window is `width` × `height` CSS pixels.
    pub async fn with_size(width: u32, height: u32) -> Browser {
        Browser::with_args(width, height, &[]).await
    }

    /// A session with extra Chromium switches (`--host-resolver-rules=…`,
    /// `--user-agent=…`).
    pub async fn with_args(width: u32, height: u32, extra: &[String]) -> Browser {
        let port = {
            let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            l.local_addr().unwrap().port()
        };
        let driver = Command::new(driver_path())
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver runs (scripts/ensure-browser.sh installs it)");
        let profile =
            std::env::temp_dir().join(format!("lanterne-chromium-{}", uuid::Uuid::new_v4()));
        let mut args: Vec<String> = [
            "--headless=new",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            "--disable-quic",
            "--lang=en-US",
        ]
        .map(String::from)
        .into();
        args.push(format!("--window-size={width},{height}"));
        args.push(format!("--user-data-dir={}", profile.display()));
        args.extend(extra.iter().cloned());
        let caps = json!({
            "goog:chromeOptions": {
                "binary": chromium_path(),
                "args": args,
                "prefs": {"intl.accept_languages": "en-US,en"},
            }
        });
        let caps = match caps {
            Value::Object(m) => m,
            _ => unreachable!(),
        };
        let url = format!("http://127.0.0.1:{port}");
        // chromedriver takes a moment to listen: retry the session for up to 20 s.
        let mut last = None;
        for _ in 0..100 {
            match ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
                .capabilities(caps.clone())
                .connect(&url)
                .await
            {
                Ok(client) => {
                    return Browser {
                        client,
                        driver,
                        driver_url: url,
                        profile,
                    };
                }
                Err(e) => last = Some(e),
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        panic!("no WebDriver session: {last:?}");
    }

    /// Runs a Chrome DevTools Protocol command through chromedriver
    /// (`Network.setExtraHTTPHeaders`, `Network.setUserAgentOverride`…).
    pub async fn cdp(&self, cmd: &str, params: Value) -> Value {
        let session = self.client.session_id().await.unwrap().expect("a session");
        let res = reqwest::Client::new()
            .post(format!(
                "{}/session/{session}/goog/cdp/execute",
                self.driver_url
            ))
            .json(&json!({"cmd": cmd, "params": params}))
            .send()
            .await
            .expect("chromedriver answers");
        let status = res.status();
        let body: Value = res.json().await.unwrap_or_default();
        assert!(status.is_success(), "CDP {cmd}: {status} {body}");
        body["value"].clone()
    }

    /// Opens a path of the app.
    pub async fn open(&self, app: &TestApp, path: &str) {
        self.client
            .goto(&format!("{}{path}", app.address))
            .await
            .expect("page opens");
    }

    /// The form control whose label is `label` (exact text of the `<label>`).
    pub async fn field(&self, label: &str) -> Element {
        let xpath = format!("//label[normalize-space(.)={}]", xpath_literal(label));
        let label_el = self
            .client
            .find(Locator::XPath(&xpath))
            .await
            .unwrap_or_else(|_| panic!("a label {label:?}"));
        let id = label_el.attr("for").await.unwrap().expect("label has for=");
        self.client.find(Locator::Id(&id)).await.unwrap()
    }

    /// Types into the field labelled `label` (replacing its value).
    pub async fn fill(&self, label: &str, value: &str) {
        let f = self.field(label).await;
        f.clear().await.unwrap();
        f.send_keys(value).await.unwrap();
    }

    /// Clicks the button or link whose text is `name`.
    pub async fn click(&self, name: &str) {
        let lit = xpath_literal(name);
        let xpath = format!(
            "(//button[normalize-space(.)={lit}] | //a[normalize-space(.)={lit}] | //input[@type='submit' and @value={lit}])[1]"
        );
        self.client
            .find(Locator::XPath(&xpath))
            .await
            .unwrap_or_else(|_| panic!("a button or link {name:?}"))
            .click()
            .await
            .unwrap();
    }

    /// The visible text of the page's `<main>` (waiting for a page to be there).
    pub async fn text(&self) -> String {
        self.client
            .wait()
            .at_most(Duration::from_secs(10))
            .for_element(Locator::Css("main"))
            .await
            .expect("a page with a <main>")
            .text()
            .await
            .unwrap_or_default()
    }

    /// The text of the first element matching `css`.
    pub async fn text_of(&self, css: &str) -> String {
        self.client
            .find(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("{css}: {e}"))
            .text()
            .await
            .unwrap()
    }

    /// Whether the page fits the window's width (no sideways scrolling).
    pub async fn fits_width(&self) -> bool {
        self.client
            .execute(
                "return document.documentElement.scrollWidth <= window.innerWidth + 1",
                vec![],
            )
            .await
            .unwrap()
            == serde_json::Value::Bool(true)
    }

    /// Waits (up to 10 s) until the page's `<main>` shows `text`: a click on
    /// a submit button returns before the next page has loaded.
    pub async fn wait_for_text(&self, text: &str) {
        let xpath = format!(
            "//main[contains(normalize-space(.), {})]",
            xpath_literal(text)
        );
        self.client
            .wait()
            .at_most(Duration::from_secs(10))
            .for_element(Locator::XPath(&xpath))
            .await
            .unwrap_or_else(|_| panic!("the page never showed {text:?}"));
    }

    /// The path of the current page.
    pub async fn path(&self) -> String {
        let url = self.client.current_url().await.unwrap();
        match url.query() {
            Some(q) => format!("{}?{q}", url.path()),
            None => url.path().to_owned(),
        }
    }

    /// Signs in through `/login` by the form's labels.
    pub async fn sign_in(&self, app: &TestApp, email: &str, password: &str) {
        self.open(app, "/login").await;
        self.fill("Email", email).await;
        self.fill("Password", password).await;
        self.click("Sign in").await;
        // Signed in (another page), or refused (the form with its error).
        for _ in 0..100 {
            let path = self.path().await;
            if !path.starts_with("/login") {
                return;
            }
            if self
                .client
                .find(Locator::Css(".error-summary"))
                .await
                .is_ok()
            {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("signing in neither succeeded nor failed");
    }

    /// The serious and critical axe-core violations of the current page.
    pub async fn axe(&self) -> Vec<Value> {
        let source = std::fs::read_to_string(axe_path())
            .expect("axe-core is installed (scripts/ensure-browser.sh)");
        self.client
            .execute(&source, vec![])
            .await
            .expect("axe loads");
        let found = self
            .client
            .execute_async(
                "const done = arguments[arguments.length - 1];
                 axe.run(document, {resultTypes: ['violations']})
                   .then(r => done(r.violations
                     .filter(v => v.impact === 'serious' || v.impact === 'critical')
                     .map(v => ({id: v.id, impact: v.impact, help: v.help,
                                 nodes: v.nodes.map(n => n.target.join(' '))}))))
                   .catch(e => done([{id: 'axe-error', help: String(e)}]));",
                vec![],
            )
            .await
            .expect("axe runs");
        found.as_array().cloned().unwrap_or_default()
    }

    /// Asserts that axe-core finds no serious or critical violation.
    pub async fn assert_accessible(&self, page: &str) {
        let v = self.axe().await;
        assert!(v.is_empty(), "axe-core on {page}: {v:#?}");
    }

    /// Saves a screenshot as `target/screenshots/<name>.png`.
    pub async fn screenshot(&self, name: &str) {
        let png = self.client.screenshot().await.expect("a screenshot");
        let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/screenshots");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join(format!("{name}.png")), png).unwrap();
    }

    /// A screenshot of the whole page: the window grows to the page's
    /// height for it, then gets its size back.
    pub async fn screenshot_full(&self, name: &str) {
        let (w, h) = self.client.get_window_size().await.unwrap();
        let height = self
            .client
            .execute("return document.documentElement.scrollHeight", vec![])
            .await
            .unwrap()
            .as_u64()
            .unwrap_or(u64::from(h as u32)) as u32;
        let chrome = h as u32 - self.inner_height().await;
        self.client
            .set_window_size(w as u32, (height + chrome).min(8000))
            .await
            .unwrap();
        self.screenshot(name).await;
        self.client
            .set_window_size(w as u32, h as u32)
            .await
            .unwrap();
    }

    async fn inner_height(&self) -> u32 {
        self.client
            .execute("return window.innerHeight", vec![])
            .await
            .unwrap()
            .as_u64()
            .unwrap_or(0) as u32
    }

    /// Ends the session and the driver.
    pub async fn close(mut self) {
        let _ = self.client.clone().close().await;
        let _ = self.driver.kill();
        let _ = self.driver.wait();
        let _ = std::fs::remove_dir_all(&self.profile);
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.driver.kill();
    }
}

fn chromium_path() -> String {
    std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into())
}

fn driver_path() -> String {
    std::env::var("CHROMEDRIVER").unwrap_or_else(|_| "/usr/bin/chromedriver".into())
}

fn axe_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/browser/node_modules/axe-core/axe.min.js")
}

/// An XPath string literal of any text (quotes included).
fn xpath_literal(s: &str) -> String {
    if !s.contains('\'') {
        format!("'{s}'")
    } else if !s.contains('"') {
        format!("\"{s}\"")
    } else {
        let parts: Vec<String> = s.split('\'').map(|p| format!("'{p}'")).collect();
        format!("concat({})", parts.join(", \"'\", "))
    }
}
