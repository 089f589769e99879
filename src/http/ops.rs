//! Operations endpoints: `/healthz` (the process answers), `/readyz` (the
//! database answers and every migration is applied) and `/metrics`
//! (Prometheus text format).

use axum::{
    extract::State,
    http::{StatusCode, header},
    response::IntoResponse,
};

use crate::{migrate, state::AppState};

/// Liveness: the process is up.
pub async fn healthz() -> &'static str {
    "ok"
}

/// Readiness: database reachable and migrations applied.
pub async fn readyz(State(state): State<AppState>) -> impl IntoResponse {
    match migrate::pending(&state.pool).await {
        Ok(0) => (StatusCode::OK, "ready".to_owned()),
        Ok(n) => (
            StatusCode::SERVICE_UNAVAILABLE,
            format!("{n} migrations not applied"),
        ),
        Err(e) => {
            tracing::warn!(error = %e, "readiness check failed");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                "database unreachable".to_owned(),
            )
        }
    }
}

/// Prometheus metrics.
pub async fn metrics(State(state): State<AppState>) -> impl IntoResponse {
    metrics::gauge!("lanterne_link_cache_entries").set(state.cache.len() as f64);
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        state.metrics.render(),
    )
}
