//! The REST API under `/api/v1`: JSON in and out, Bearer tokens, roles.

pub mod exports;
pub mod links;
pub mod stats;

use axum::Router;

use crate::state::AppState;

/// Routes of `/api/v1`.
pub fn router() -> Router<AppState> {
    Router::new()
        .merge(links::router())
        .merge(stats::router())
        .merge(exports::router())
}
