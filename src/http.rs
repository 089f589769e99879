//! The HTTP layer: the route table, the middleware stack and the fallback.
//! Handlers live in the submodules and never hold SQL.

pub mod api;
pub mod auth;
pub mod error;
pub mod extract;
pub mod front;
pub mod ops;
pub mod redirect;

use std::time::Instant;

use axum::{
    Router,
    extract::{DefaultBodyLimit, MatchedPath, Request},
    http::{HeaderName, StatusCode},
    middleware::{self, Next},
    response::{IntoResponse, Response},
    routing::get,
};
use tower_http::{
    catch_panic::CatchPanicLayer,
    request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer},
    sensitive_headers::SetSensitiveRequestHeadersLayer,
    timeout::TimeoutLayer,
    trace::TraceLayer,
};

use crate::{state::AppState, templates};

/// Largest total size of request headers accepted (431 beyond).
pub const MAX_HEADER_BYTES: usize = 16 * 1024;

const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// The whole application router.
pub fn router(state: AppState) -> Router {
    let max_body = state.settings.server.max_body_bytes;
    let timeout = state.settings.server.request_timeout;
    let api = Router::new()
        .nest("/v1", api::router())
        .fallback(error::api_not_found)
        // Bodies are only read through AppJson, which applies this limit and
        // answers 413 in the API's envelope.
        .layer(DefaultBodyLimit::max(max_body));
    // The redirect gets a lean stack of its own (it records its metrics and
    // checks the header size itself, and logs nothing per request): every
    // layer costs on the hot path. A GET or HEAD of a slug does not even come
    // through this router (see `front.rs`); the route answers the rest (405
    // to other methods, and reserved words as unknown slugs).
    let redirect = get(redirect::redirect).layer(CatchPanicLayer::new());
    Router::new()
        .route("/", get(home))
        .route("/healthz", get(ops::healthz))
        .route("/readyz", get(ops::readyz))
        .route("/metrics", get(ops::metrics))
        .nest("/api", api)
        .fallback(not_found)
        .layer(middleware::from_fn(error::log_server_errors))
        .layer(middleware::from_fn(record_request))
        .layer(TraceLayer::new_for_http().make_span_with(|req: &Request| {
            let route = req
                .extensions()
                .get::<MatchedPath>()
                .map(MatchedPath::as_str);
            let id = req.headers().get(&REQUEST_ID).and_then(|v| v.to_str().ok());
            // Never the full URI: query strings may carry personal data.
            tracing::debug_span!("request", method = %req.method(), route, request.id = id)
        }))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            timeout,
        ))
        .layer(CatchPanicLayer::new())
        .layer(middleware::from_fn(limit_header_size))
        .layer(PropagateRequestIdLayer::new(REQUEST_ID))
        .layer(SetRequestIdLayer::new(REQUEST_ID, MakeRequestUuid))
        .layer(SetSensitiveRequestHeadersLayer::new([
            axum::http::header::AUTHORIZATION,
        ]))
        .route("/{slug}", redirect)
        .with_state(state)
}

async fn home() -> Response {
    templates::HomePage.into_response()
}

async fn not_found() -> Response {
    templates::error_page(StatusCode::NOT_FOUND, templates::NotFoundPage)
}

/// Refuses requests whose headers add up to more than [`MAX_HEADER_BYTES`].
async fn limit_header_size(req: Request, next: Next) -> Response {
    match headers_too_large(req.headers()) {
        Some(refusal) => refusal,
        None => next.run(req).await,
    }
}

/// The 431 answer, if headers add up to more than [`MAX_HEADER_BYTES`].
pub(crate) fn headers_too_large(headers: &axum::http::HeaderMap) -> Option<Response> {
    let size: usize = headers
        .iter()
        .map(|(k, v)| k.as_str().len() + v.len() + 4)
        .sum();
    (size > MAX_HEADER_BYTES).then(|| {
        (
            StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            "request headers too large",
        )
            .into_response()
    })
}

/// Request latency histogram by route.
async fn record_request(req: Request, next: Next) -> Response {
    let route = match req
        .extensions()
        .get::<MatchedPath>()
        .map(MatchedPath::as_str)
    {
        Some("/{slug}") => "redirect",
        Some(p) if p.starts_with("/api/") => "api",
        Some("/metrics" | "/healthz" | "/readyz") => "ops",
        _ => "other",
    };
    let start = Instant::now();
    let res = next.run(req).await;
    metrics::histogram!("lanterne_http_request_duration_seconds", "route" => route)
        .record(start.elapsed().as_secs_f64());
    res
}
