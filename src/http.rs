//! The HTTP layer: the route table, the middleware stack and the fallback.
//! Handlers live in the submodules and never hold SQL.

pub mod api;
pub mod assets;
pub mod auth;
pub mod error;
pub mod extract;
pub mod front;
pub mod guard;
pub mod ops;
pub mod pages;
pub mod redirect;
pub mod serve;

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
        .layer(middleware::from_fn_with_state(
            state.clone(),
            guard::database_gate,
        ))
        // Bodies are only read through AppJson, which applies this limit and
        // answers 413 in the API's envelope.
        .layer(DefaultBodyLimit::max(max_body));
    // The redirect gets a lean stack of its own (it records its metrics and
    // checks the header size itself, and logs nothing per request): every
    // layer costs on the hot path. A GET or HEAD of a slug does not even come
    // through this router (see `front.rs`); the route answers the rest (405
    // to other methods, and reserved words as unknown slugs).
    let redirect = get(redirect::redirect).layer(CatchPanicLayer::new());
    let own = Routes::new()
        .merge(pages::router())
        .route("/healthz", get(ops::healthz))
        .route("/readyz", get(ops::readyz))
        .nest("/api", api);
    // With a metrics listener of its own, /metrics is served only there.
    let own = if state.settings.metrics.address().is_none() {
        own.route("/metrics", get(ops::metrics))
    } else {
        own
    }
    .into_router();
    own.fallback(not_found)
        // Cross-site form posts are refused (Origin / Sec-Fetch-Site, see
        // tower-http's csrf module): a page posted from another site with
        // a signed-in user's cookie changes nothing. Requests without
        // either header (curl, API clients) pass.
        .layer(csrf(&state))
        .layer(
            tower_http::set_header::SetResponseHeaderLayer::if_not_present(
                axum::http::header::X_CONTENT_TYPE_OPTIONS,
                axum::http::HeaderValue::from_static("nosniff"),
            ),
        )
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
        .layer(middleware::from_fn_with_state(
            state.clone(),
            guard::refuse_early,
        ))
        .layer(PropagateRequestIdLayer::new(REQUEST_ID))
        .layer(SetRequestIdLayer::new(REQUEST_ID, MakeRequestUuid))
        .layer(SetSensitiveRequestHeadersLayer::new([
            axum::http::header::AUTHORIZATION,
        ]))
        .route("/{slug}", redirect)
        .with_state(state)
}

/// The router of the separate metrics listener (`metrics.bind`).
pub fn metrics_router(state: AppState) -> Router {
    Router::new()
        .route("/metrics", get(ops::metrics))
        .with_state(state)
}

/// A route table that refuses, as it is built, a route the front door
/// would send to the redirect instead: every route's first path segment
/// must be one of `slug::RESERVED` (which no slug can be). The table and
/// the reserved words are thus checked against each other at every start
/// and by every test that builds the app (see the test below).
pub struct Routes(Router<AppState>);

impl Routes {
    /// An empty table.
    pub fn new() -> Routes {
        Routes(Router::new())
    }

    /// Adds a route; panics if the redirect would shadow it.
    pub fn route(self, path: &str, method: axum::routing::MethodRouter<AppState>) -> Routes {
        assert_not_a_slug(path);
        Routes(self.0.route(path, method))
    }

    /// Nests a router under a prefix; panics if the redirect would shadow it.
    pub fn nest(self, path: &str, router: Router<AppState>) -> Routes {
        assert_not_a_slug(path);
        Routes(self.0.nest(path, router))
    }

    /// Adds a router built with `Routes` (so already checked).
    pub fn merge(self, router: Router<AppState>) -> Routes {
        Routes(self.0.merge(router))
    }

    /// The router.
    pub fn into_router(self) -> Router<AppState> {
        self.0
    }
}

impl Default for Routes {
    fn default() -> Routes {
        Routes::new()
    }
}

fn assert_not_a_slug(path: &str) {
    let first = path.trim_start_matches('/').split('/').next().unwrap_or("");
    assert!(
        first.is_empty()
            || crate::links::slug::is_reserved(first)
            || !crate::links::slug::can_be_slug(first),
        "the route {path} would be taken for a slug: add {first:?} to links::slug::RESERVED"
    );
}

/// The cross-site request forgery check, trusting the public origin too
/// (a proxy may rewrite `Host`).
fn csrf(state: &AppState) -> tower_http::csrf::CsrfLayer {
    let origin = state
        .settings
        .server
        .public_base_url
        .origin()
        .ascii_serialization();
    tower_http::csrf::CsrfLayer::new()
        .add_trusted_origin(&origin)
        .unwrap_or_else(|_| tower_http::csrf::CsrfLayer::new())
}

async fn not_found() -> Response {
    templates::error_page(StatusCode::NOT_FOUND, templates::NotFoundPage)
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_route_of_the_table_is_out_of_the_redirects_way() {
        // Builds the whole table: a route under a word that is not reserved panics.
        let _ = Routes::new()
            .merge(pages::router())
            .nest("/api", api::router());
        for word in [
            "links", "login", "logout", "assets", "account", "admin", "api",
        ] {
            assert!(crate::links::slug::is_reserved(word), "{word}");
        }
    }

    #[test]
    #[should_panic(expected = "would be taken for a slug")]
    fn a_route_under_an_unreserved_word_is_refused() {
        let _ = Routes::new().route("/pricing", get(|| async { "" }));
    }
}
