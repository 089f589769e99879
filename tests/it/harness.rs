//! `TestApp`: the real `App::build` on 127.0.0.1:0 with its own database,
//! its own spool directory, an admin token, and a client that does not
//! follow redirects; one helper per endpoint.

use std::{path::PathBuf, time::Duration};

use lanterne::{
    app::App,
    clicks::writer::WriterReport,
    config::{self, Settings},
    state::AppState,
    users::{self, Role},
};
use reqwest::{Client, Response, redirect::Policy};
use secrecy::SecretString;
use serde_json::Value;
use sqlx::{Connection, PgConnection, PgPool};
use tokio::{sync::oneshot, task::JoinHandle};
use uuid::Uuid;

/// The server URL the tests create their databases from.
pub fn base_database_url() -> String {
    std::env::var("DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

/// `base` with another database name.
pub fn database_url(db: &str) -> String {
    let base = base_database_url();
    let (server, _) = base
        .rsplit_once('/')
        .expect("DATABASE_URL has a database part");
    format!("{server}/{db}")
}

/// Creates an empty database and returns its name.
pub async fn create_database() -> String {
    let name = format!("lanterne_test_{}", Uuid::new_v4().simple());
    let mut conn = PgConnection::connect(&base_database_url())
        .await
        .expect("PostgreSQL answers at DATABASE_URL");
    sqlx::query(sqlx::AssertSqlSafe(format!("create database \"{name}\"")))
        .execute(&mut conn)
        .await
        .expect("the DATABASE_URL role may create databases");
    name
}

/// How a test app differs from the defaults.
pub struct Options {
    /// Database to use (default: a new one).
    pub database: Option<String>,
    /// Connection URL override (e.g. through the chaos proxy).
    pub database_url: Option<String>,
    /// Spool directory (default: a new temporary one).
    pub spool_dir: Option<PathBuf>,
    /// Any other setting.
    pub tweak: Box<dyn FnOnce(&mut Settings) + Send>,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            database: None,
            database_url: None,
            spool_dir: None,
            tweak: Box::new(|_| {}),
        }
    }
}

/// A running Lanterne for one test.
pub struct TestApp {
    /// `http://127.0.0.1:<port>`
    pub address: String,
    /// Database name.
    pub database: String,
    /// A pool straight to the database (not through any proxy).
    pub db: PgPool,
    /// The app's state.
    pub state: AppState,
    /// Client that does not follow redirects.
    pub client: Client,
    /// An admin's API token.
    pub token: String,
    /// The spool directory.
    pub spool_dir: PathBuf,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<anyhow::Result<WriterReport>>>,
}

impl TestApp {
    /// A fresh app on a fresh database.
    pub async fn spawn() -> TestApp {
        TestApp::spawn_with(Options::default()).await
    }

    /// Another instance, with default settings, on this one's database.
    pub async fn spawn_beside(&self) -> TestApp {
        TestApp::spawn_with(Options {
            database: Some(self.database.clone()),
            ..Options::default()
        })
        .await
    }

    /// An app built with the given options.
    pub async fn spawn_with(opts: Options) -> TestApp {
        if std::env::var_os("TEST_LOG").is_some() {
            lanterne::telemetry::init_tracing(&config::LogSettings {
                format: config::LogFormat::Text,
                level: "info,lanterne=debug".into(),
            });
        }
        let database = match opts.database {
            Some(d) => d,
            None => create_database().await,
        };
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let spool_dir = opts.spool_dir.unwrap_or_else(|| {
            std::env::temp_dir().join(format!("lanterne-it-{}", Uuid::now_v7().simple()))
        });

        let mut settings = config::load_from(&[]).expect("default settings");
        settings.database.url =
            SecretString::from(opts.database_url.unwrap_or_else(|| database_url(&database)));
        settings.server.public_base_url = format!("http://127.0.0.1:{port}").parse().unwrap();
        settings.server.domains = vec!["go.example.com".into(), "localhost".into()];
        settings.clicks.spool_dir = spool_dir.clone();
        settings.clicks.flush_interval = Duration::from_millis(50);
        settings.clicks.retry_min = Duration::from_millis(50);
        settings.clicks.retry_max = Duration::from_millis(500);
        settings.database.acquire_timeout = Duration::from_secs(2);
        (opts.tweak)(&mut settings);
        settings.validate().expect("test settings are valid");

        let app = App::build_with_listener(settings, listener)
            .await
            .expect("app builds");
        let state = app.state();
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(app.run_until_stopped(async {
            let _ = stopped.await;
        }));
        let db = PgPool::connect(&database_url(&database)).await.unwrap();
        let token = token_for(&db, Role::Admin).await;
        TestApp {
            address: format!("http://127.0.0.1:{port}"),
            database,
            db,
            state,
            client: Client::builder().redirect(Policy::none()).build().unwrap(),
            token,
            spool_dir,
            stop: Some(stop),
            task: Some(task),
        }
    }

    /// Waits until every click redirected so far is in the database.
    pub async fn flush_clicks(&self) {
        self.state
            .clicks
            .flush()
            .await
            .expect("clicks flushed to the database");
    }

    /// Flushes, retrying while the database comes back after an outage.
    pub async fn flush_clicks_after_outage(&self) {
        for _ in 0..200 {
            if self.state.clicks.flush().await.is_ok() {
                return;
            }
            // Waiting for real reconnection, not for a background task.
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("clicks were not flushed within 10 s of the database coming back");
    }

    /// Graceful shutdown, as on SIGTERM; returns the writer's report.
    pub async fn stop(mut self) -> WriterReport {
        let _ = self.stop.take().unwrap().send(());
        self.task
            .take()
            .unwrap()
            .await
            .unwrap()
            .expect("clean shutdown")
    }

    /// Clicks stored for a link.
    pub async fn clicks_of(&self, link_id: i64) -> i64 {
        sqlx::query_scalar("select count(*) from clicks where link_id = $1")
            .bind(link_id)
            .fetch_one(&self.db)
            .await
            .unwrap()
    }

    /// Clicks stored for a link and how many distinct event ids they have.
    pub async fn clicks_and_ids(&self, link_id: i64) -> (i64, i64) {
        sqlx::query_as("select count(*), count(distinct id) from clicks where link_id = $1")
            .bind(link_id)
            .fetch_one(&self.db)
            .await
            .unwrap()
    }

    /// A new token of a new user with `role`.
    pub async fn token(&self, role: Role) -> String {
        token_for(&self.db, role).await
    }

    /// `POST /api/v1/links` with the admin token.
    pub async fn create_link(&self, body: Value) -> Response {
        self.client
            .post(format!("{}/api/v1/links", self.address))
            .bearer_auth(&self.token)
            .json(&body)
            .send()
            .await
            .unwrap()
    }

    /// Creates a link and returns its JSON (panics unless 201).
    pub async fn new_link(&self, body: Value) -> Value {
        let res = self.create_link(body).await;
        assert_eq!(res.status(), 201, "link created");
        res.json().await.unwrap()
    }

    /// `PATCH /api/v1/links/{id}`.
    pub async fn update_link(&self, id: i64, body: Value) -> Response {
        self.client
            .patch(format!("{}/api/v1/links/{id}", self.address))
            .bearer_auth(&self.token)
            .json(&body)
            .send()
            .await
            .unwrap()
    }

    /// `GET` a path with the admin token.
    pub async fn api_get(&self, path: &str) -> Response {
        self.client
            .get(format!("{}{path}", self.address))
            .bearer_auth(&self.token)
            .send()
            .await
            .unwrap()
    }

    /// `GET /{slug}` as a phone browser would.
    pub async fn visit(&self, path: &str) -> Response {
        self.client
            .get(format!("{}/{path}", self.address))
            .header("user-agent", IPHONE_SAFARI)
            .send()
            .await
            .unwrap()
    }
}

/// A user made for a test, with one API token.
pub struct TestUser {
    /// Database id.
    pub id: i64,
    /// E-mail.
    pub email: String,
    /// An API token.
    pub token: String,
}

impl TestApp {
    /// A new user with `role`, an optional password and a token.
    pub async fn user(&self, role: Role, password: Option<&str>) -> TestUser {
        let email = format!("{}-{}@example.com", role, Uuid::new_v4().simple());
        let hash = password.map(|p| users::hash_password(p).unwrap());
        let user = users::store::create(&self.db, &email, role, hash.as_deref())
            .await
            .unwrap();
        let token = users::new_token();
        users::store::insert_token(&self.db, user.id, "test", &token)
            .await
            .unwrap();
        TestUser {
            id: user.id,
            email,
            token: token.secret,
        }
    }

    /// Any request to the API with a Bearer token (and a JSON body, if any).
    pub async fn api(
        &self,
        method: reqwest::Method,
        path: &str,
        token: &str,
        body: Option<Value>,
    ) -> Response {
        let mut req = self
            .client
            .request(method, format!("{}{path}", self.address))
            .bearer_auth(token);
        if let Some(body) = body {
            req = req.json(&body);
        }
        req.send().await.unwrap()
    }

    /// `GET` a path with a session cookie.
    pub async fn get_with_session(&self, path: &str, secret: &str) -> Response {
        self.client
            .get(format!("{}{path}", self.address))
            .header("cookie", format!("lanterne_session={secret}"))
            .send()
            .await
            .unwrap()
    }

    /// Signs in through the accounts service (the sign-in page's core) from
    /// `ip`; returns the session secret (the cookie value).
    pub async fn sign_in(
        &self,
        email: &str,
        password: &str,
        ip: &str,
    ) -> Result<String, users::identity::AuthError> {
        let ip = ip.parse().unwrap();
        self.state
            .accounts
            .sign_in(&self.db, email, password, ip)
            .await
            .map(|s| s.secret)
    }
}

/// A real iPhone Safari User-Agent.
pub const IPHONE_SAFARI: &str = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1";

async fn token_for(db: &PgPool, role: Role) -> String {
    let email = format!("{}-{}@example.com", role, Uuid::new_v4().simple());
    let user = users::store::create(db, &email, role, None).await.unwrap();
    let token = users::new_token();
    users::store::insert_token(db, user.id, "test", &token)
        .await
        .unwrap();
    token.secret
}

/// The `Location` header of a response.
pub fn location(res: &Response) -> &str {
    res.headers()
        .get("location")
        .expect("a Location header")
        .to_str()
        .unwrap()
}
