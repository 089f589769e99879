//! The REST API under `/api/v1`: JSON in and out, Bearer tokens (or the
//! session cookie), role guards from `auth.rs`. This file is the route list.

pub mod exports;
pub mod links;
pub mod presets;
pub mod share;
pub mod stats;
pub mod tokens;
pub mod users;

use axum::Router;

use crate::state::AppState;

/// Routes of `/api/v1`.
pub fn router() -> Router<AppState> {
    Router::new()
        .merge(links::router())
        .merge(share::router())
        .merge(presets::router())
        .merge(users::router())
        .merge(tokens::router())
        .merge(stats::router())
        .merge(exports::router())
}
