//! The REST API under `/api/v1`: JSON in and out, Bearer tokens (or the
//! session cookie), role guards from `auth.rs`. This file is the route list.
//! Routes are registered only through `utoipa_axum::routes!` with handlers
//! carrying `#[utoipa::path]`: the router and the OpenAPI document
//! (`openapi.rs`, served at `/api/v1/openapi.json`) come from one list.

pub mod exports;
pub mod links;
pub mod openapi;
pub mod presets;
pub mod share;
pub mod stats;
pub mod tokens;
pub mod users;

use axum::Router;
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::state::AppState;

/// Every documented route of `/api/v1`, with its documentation.
fn documented() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .merge(links::router())
        .merge(share::router())
        .merge(presets::router())
        .merge(users::router())
        .merge(tokens::router())
        .merge(stats::router())
        .merge(exports::router())
        .routes(routes!(openapi::openapi_json))
}

/// Routes of `/api/v1`.
pub fn router() -> Router<AppState> {
    documented().into()
}

/// The OpenAPI 3.1 document of `/api/v1` (paths in full, `/api/v1/...`).
pub fn openapi() -> utoipa::openapi::OpenApi {
    let doc = OpenApiRouter::<AppState>::new()
        .nest("/api/v1", documented())
        .into_openapi();
    openapi::complete(doc)
}
