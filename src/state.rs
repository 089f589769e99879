//! AppState: what every handler may reach — the pool, the link cache, the
//! click sender, the served domains, the settings, the metrics handle and
//! the accounts' throttles.
//! Cheap to clone (one `Arc`); no other shared state exists.

use std::{ops::Deref, sync::Arc};

use axum::{
    extract::FromRef,
    http::{HeaderValue, StatusCode},
};
use metrics_exporter_prometheus::PrometheusHandle;
use sqlx::PgPool;

use crate::{
    clicks::ClickSender,
    config::Settings,
    db_health::DbHealth,
    domains::Domains,
    links::{Links, cache::LinkCache, presets::UtmPresets},
    telemetry::RedirectMetrics,
    users::identity::Accounts,
};

/// The shared application state, passed to handlers as `State<AppState>`.
#[derive(Clone)]
pub struct AppState(Arc<Inner>);

/// The parts of the state.
pub struct Inner {
    /// PostgreSQL pool.
    pub pool: PgPool,
    /// Validated settings.
    pub settings: Settings,
    /// Served domains.
    pub domains: Domains,
    /// Our own hosts (destinations may not point at them).
    pub served_hosts: Vec<String>,
    /// Link caches.
    pub cache: Arc<LinkCache>,
    /// The link desk (create, change, list links) of the API and the pages.
    pub links: Links,
    /// Click queue.
    pub clicks: ClickSender,
    /// Prometheus exposition.
    pub metrics: PrometheusHandle,
    /// `Cache-Control` of a redirect, built once from the settings.
    pub redirect_cache_control: HeaderValue,
    /// Redirect status as configured.
    pub redirect_status: StatusCode,
    /// Pre-registered redirect metrics.
    pub redirect_metrics: RedirectMetrics,
    /// Session settings and this instance's sign-in and token throttles.
    pub accounts: Accounts,
    /// Whether the database answers (the API's gate).
    pub db_health: DbHealth,
}

impl AppState {
    /// Wraps the parts.
    pub fn new(inner: Inner) -> AppState {
        AppState(Arc::new(inner))
    }
}

impl Deref for AppState {
    type Target = Inner;
    fn deref(&self) -> &Inner {
        &self.0
    }
}

impl FromRef<AppState> for UtmPresets {
    fn from_ref(state: &AppState) -> UtmPresets {
        UtmPresets::new(state.pool.clone())
    }
}

impl FromRef<AppState> for Links {
    fn from_ref(state: &AppState) -> Links {
        state.links.clone()
    }
}
