//! Application start-up and shutdown. `App::build` connects, migrates,
//! loads the domains, warms the link cache, binds the listener (port 0
//! works) and spawns the background tasks; `run_until_stopped` serves until
//! the shutdown future resolves, then drains the click pipeline.

use std::{future::Future, str::FromStr, sync::Arc, time::Duration};

use anyhow::Context;
use axum::http::{HeaderValue, StatusCode};
use secrecy::ExposeSecret;
use sqlx::{
    PgPool,
    postgres::{PgConnectOptions, PgPoolOptions},
};
use time::OffsetDateTime;
use tokio::{
    net::TcpListener,
    sync::{mpsc, watch},
    task::JoinHandle,
};

use crate::{
    asn::{self, AsnDb},
    attribution::{Classifier, ClassifierConfig},
    clicks::{
        ClickSender, enrich::Enricher, journal::Journal, previews, spool::Spool,
        store as click_store, visitor, visitor::Salts, writer::Writer, writer::WriterReport,
    },
    config::{ClickDurability, Settings},
    db_health::DbHealth,
    domains::{self, Domains},
    geo::{self, GeoDb},
    http,
    links::cache::{self, LinkCache},
    migrate,
    state::{AppState, Inner},
    telemetry,
    users::identity::Accounts,
};

/// A built application, bound and ready to serve.
pub struct App {
    listener: TcpListener,
    // The separate /metrics listener (`metrics.bind`), if any.
    metrics_listener: Option<TcpListener>,
    state: AppState,
    writer: JoinHandle<WriterReport>,
    writer_stop: watch::Sender<Option<tokio::time::Instant>>,
    background: Vec<JoinHandle<()>>,
}

/// Opens the connection pool described by the settings.
pub async fn connect(settings: &Settings) -> anyhow::Result<PgPool> {
    let options = PgConnectOptions::from_str(settings.database.url.expose_secret())
        .context("database.url (or DATABASE_URL) is not a PostgreSQL connection string")?
        // PostgreSQL's NOTICEs are chatter: sqlx logs each one, e.g. the
        // `relation "_sqlx_migrations" already exists, skipping` of every
        // start. Warnings and errors still come through.
        .options([("client_min_messages", "warning")]);
    PgPoolOptions::new()
        .max_connections(settings.database.max_connections)
        .acquire_timeout(settings.database.acquire_timeout)
        .connect_with(options)
        .await
        .context("cannot connect to the database (check DATABASE_URL / database.url)")
}

impl App {
    /// Builds the application and binds `server.bind`.
    pub async fn build(settings: Settings) -> anyhow::Result<App> {
        let listener = TcpListener::bind(settings.server.bind)
            .await
            .with_context(|| format!("cannot listen on {}", settings.server.bind))?;
        App::build_with_listener(settings, listener).await
    }

    /// Builds the application on an already bound listener.
    pub async fn build_with_listener(
        settings: Settings,
        listener: TcpListener,
    ) -> anyhow::Result<App> {
        let metrics_listener = match settings.metrics.address() {
            Some(addr) => Some(
                TcpListener::bind(addr)
                    .await
                    .with_context(|| format!("cannot listen on {addr} (metrics.bind)"))?,
            ),
            None => None,
        };
        let pool = connect(&settings).await?;
        migrate::run(&pool)
            .await
            .context("cannot apply database migrations")?;
        click_store::ensure_partitions(&pool, settings.clicks.partitions_ahead).await?;

        let hosts =
            Domains::hosts_from_config(&settings.server.public_base_url, &settings.server.domains);
        let rows = domains::store::upsert(&pool, &hosts).await?;
        let domains = Domains::new(settings.server.public_base_url.clone(), rows);

        let link_cache = Arc::new(LinkCache::new(&settings.cache));
        let subscribed = cache::subscribe(&pool)
            .await
            .context("cannot LISTEN for link changes")?;
        let warmed = cache::warm(&link_cache, &pool, settings.cache.links_capacity).await?;
        tracing::info!(links.cached = warmed, "link cache warmed");

        let spool = Spool::open(&settings.clicks.spool_dir).with_context(|| {
            format!(
                "cannot open the spool directory {}",
                settings.clicks.spool_dir.display()
            )
        })?;
        if spool.events() > 0 {
            tracing::info!(
                spool.events = spool.events(),
                "replaying clicks spooled by an earlier run"
            );
        }
        let attribution = &settings.attribution;
        let classifier = Arc::new(Classifier::new(ClassifierConfig {
            preview_window: attribution.preview_window,
            own_hosts: domains.hosts(),
        }));
        let geo = Arc::new(GeoDb::open(geo_path(&settings)));
        let asn = Arc::new(AsnDb::open(asn_path(&settings)));
        let salts = Salts::local();
        if let Err(e) = visitor::refresh(&pool, &salts).await {
            tracing::warn!(error = %e, "cannot load today's visitor salt; using a local one");
        }
        let enricher = Enricher::new(
            classifier,
            geo.clone(),
            salts.clone(),
            attribution.preview_window,
        )
        .keep_referrer_query(attribution.keep_referrer_query)
        .with_asn(asn.clone())
        .with_bursts(attribution.burst_window, attribution.burst_links);

        let db_health = DbHealth::new();
        let (clicks, receiver) = ClickSender::channel(settings.clicks.queue_capacity);
        let (writer_stop, stop_rx) = watch::channel(None);
        // Previews stored by every instance reach this one's enricher.
        let (previews_tx, previews_rx) = mpsc::channel(PREVIEW_HAND_OFFS);
        let writer = Writer::new(
            pool.clone(),
            receiver,
            spool,
            enricher,
            settings.clicks.clone(),
        )
        .with_stored_previews(previews_rx);
        let writer = match settings.clicks.durability {
            ClickDurability::Batch => writer,
            ClickDurability::Spool => writer.with_journal(
                Journal::open(&settings.clicks.spool_dir).with_context(|| {
                    format!(
                        "cannot open the click journal in {}",
                        settings.clicks.spool_dir.display()
                    )
                })?,
            ),
        };
        let writer = tokio::spawn(writer.run(stop_rx, settings.server.shutdown_deadline));

        let metrics = telemetry::metrics_handle();
        let background = vec![
            tokio::spawn(cache::listen(link_cache.clone(), pool.clone(), subscribed)),
            tokio::spawn(previews::listen(
                pool.clone(),
                attribution.preview_window,
                previews_tx,
            )),
            tokio::spawn(maintain(pool.clone(), settings.clone())),
            tokio::spawn(upkeep_metrics(metrics.clone())),
            tokio::spawn(visitor::keep_fresh(pool.clone(), salts)),
            tokio::spawn(geo::watch(geo, settings.attribution.geo_reload_interval)),
            tokio::spawn(asn::watch(asn, settings.attribution.geo_reload_interval)),
        ];
        let links = crate::links::Links::new(
            pool.clone(),
            link_cache.clone(),
            domains.clone(),
            settings.slugs.clone(),
        );
        let state = AppState::new(Inner {
            links,
            redirect_cache_control: redirect_cache_control(&settings),
            redirect_status: StatusCode::from_u16(settings.redirect.status)
                .expect("validated status"),
            redirect_metrics: telemetry::RedirectMetrics::register(),
            accounts: Accounts::new(&settings),
            db_health: db_health.clone(),
            served_hosts: domains.hosts(),
            pool,
            settings,
            domains,
            cache: link_cache,
            clicks,
            metrics,
        });
        Ok(App {
            listener,
            metrics_listener,
            state,
            writer,
            writer_stop,
            background,
        })
    }

    /// The bound port.
    pub fn port(&self) -> u16 {
        self.listener.local_addr().map(|a| a.port()).unwrap_or(0)
    }

    /// The shared state (tests reach the pool and the click sender through it).
    pub fn state(&self) -> AppState {
        self.state.clone()
    }

    /// Serves until `shutdown` resolves; then stops accepting, lets in-flight
    /// requests finish, closes the connections left at the deadline, and
    /// drains the click queue (writing what the time left allows, spooling
    /// the rest): the whole within `server.shutdown_deadline`, plus the time
    /// to spool.
    pub async fn run_until_stopped(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<WriterReport> {
        let server = &self.state.settings.server;
        let nofile = http::serve::raise_open_files_limit();
        let limits = http::serve::Limits {
            header_read_timeout: server.header_read_timeout,
            max_connections: http::serve::effective_max_connections(server.max_connections, nofile),
        };
        if limits.max_connections < server.max_connections {
            tracing::warn!(
                server.max_connections = server.max_connections,
                connections.cap = limits.max_connections,
                "the open-file limit cannot hold server.max_connections; lowered"
            );
        }
        let deadline = server.shutdown_deadline;
        let metrics_server = self.metrics_listener.map(|listener| {
            let router = http::metrics_router(self.state.clone());
            tokio::spawn(async move {
                if let Err(e) = axum::serve(listener, router).await {
                    tracing::error!(error = %e, "the metrics listener failed");
                }
            })
        });
        let router = http::router(self.state.clone());
        let (served, signalled) = http::serve::serve(
            self.listener,
            http::front::MakeFront::new(router, self.state.clone()),
            limits,
            shutdown,
            deadline,
        )
        .await;
        let until = signalled + deadline;
        tracing::info!(
            connections.cut = served.cut,
            "stopped serving requests; draining clicks"
        );
        let _ = self.writer_stop.send(Some(until));
        let report = self.writer.await.context("the click writer panicked")?;
        for task in self.background.into_iter().chain(metrics_server) {
            task.abort();
        }
        // Closing says goodbye to each connection; a database that stopped
        // answering must not hold the exit (the clicks are safe by now).
        let close_by = (tokio::time::Instant::now() + POOL_CLOSE_TIMEOUT).min(until);
        if tokio::time::timeout_at(close_by, self.state.pool.close())
            .await
            .is_err()
        {
            tracing::warn!("database connections did not close in time; leaving them");
        }
        Ok(report)
    }
}

/// Hand-offs of stored previews waiting for the click writer (each holds
/// one notification's previews, or a reload of the window).
const PREVIEW_HAND_OFFS: usize = 1024;

/// Longest wait for the database connections to close at shutdown.
const POOL_CLOSE_TIMEOUT: Duration = Duration::from_secs(2);

/// The configured geography database, if any.
pub fn geo_path(settings: &Settings) -> Option<&std::path::Path> {
    let path = settings.attribution.geo_database.as_path();
    (!path.as_os_str().is_empty()).then_some(path)
}

/// The configured ASN database, if any.
pub fn asn_path(settings: &Settings) -> Option<&std::path::Path> {
    let path = settings.attribution.asn_database.as_path();
    (!path.as_os_str().is_empty()).then_some(path)
}

/// `Cache-Control` of redirects: never cached for 302/307 (each click must
/// reach us); a short private lifetime for a configured permanent status.
/// `no-store` alone forbids every cache to keep the response (RFC 9111
/// §5.2.2.5); `private`, `no-cache` or `max-age=0` beside it would add
/// nothing but bytes to every redirect.
fn redirect_cache_control(settings: &Settings) -> HeaderValue {
    let r = &settings.redirect;
    let value = if matches!(r.status, 301 | 308) {
        format!("private, max-age={}", r.permanent_max_age.as_secs())
    } else {
        "no-store".to_owned()
    };
    HeaderValue::from_str(&value).expect("ASCII header value")
}

/// Daily upkeep of the clicks table: partitions ahead, retention behind.
async fn maintain(pool: PgPool, settings: Settings) {
    let mut every = tokio::time::interval(Duration::from_secs(6 * 3600));
    loop {
        every.tick().await;
        if let Err(e) =
            click_store::ensure_partitions(&pool, settings.clicks.partitions_ahead).await
        {
            tracing::warn!(error = %e, "cannot create click partitions");
        }
        let ledger_cutoff = OffsetDateTime::now_utc() - settings.attribution.filtered_retention;
        if let Err(e) = click_store::prune_filtered(&pool, ledger_cutoff).await {
            tracing::warn!(error = %e, "cannot prune the bot/prefetch ledger");
        }
        // Visitor hashes of days whose salt is gone can match no new click.
        let visitor_cutoff = OffsetDateTime::now_utc().date() - time::Duration::days(2);
        if let Err(e) = click_store::rollups::prune_visitor_days(&pool, visitor_cutoff).await {
            tracing::warn!(error = %e, "cannot prune the daily visitor ledger");
        }
        let batch_cutoff = OffsetDateTime::now_utc() - settings.clicks.ledger_retention;
        if let Err(e) = click_store::prune_batches(&pool, batch_cutoff).await {
            tracing::warn!(error = %e, "cannot prune the click batch ledger");
        }
        let retention = settings.clicks.retention;
        if !retention.is_zero() {
            let cutoff = OffsetDateTime::now_utc() - retention;
            match click_store::drop_partitions_before(&pool, cutoff).await {
                Ok(dropped) if !dropped.is_empty() => {
                    tracing::info!(partitions = ?dropped, "old click partitions dropped")
                }
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "cannot apply click retention"),
            }
        }
    }
}

/// Histograms need periodic upkeep in metrics-exporter-prometheus.
async fn upkeep_metrics(handle: metrics_exporter_prometheus::PrometheusHandle) {
    let mut every = tokio::time::interval(Duration::from_secs(5));
    loop {
        every.tick().await;
        handle.run_upkeep();
    }
}

/// Resolves on SIGINT or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
    tracing::info!("shutdown signal received");
}
