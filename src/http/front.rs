//! The server's front door: the service each connection talks to. A request
//! that can only be a redirect (`GET` or `HEAD` of one path segment that is
//! a possible, unreserved slug) goes straight to the redirect handler; every
//! other request goes through the router and its middleware.
//!
//! Why not a `/{slug}` route: axum's router, for every request, looks the
//! path up, copies the URI, decodes the path parameters into a new
//! allocation and stores them, the matched path and the peer address in the
//! request's extensions, and boxes the handler's future behind a cloned
//! service. The redirect reads none of that, and on the hot path it was
//! about a third of the redirect's time in
//! `cargo bench --bench redirect_handler`. Reserved words (`api`, `healthz`,
//! `metrics`, …) can never be slugs, so no route of the router is shadowed.

use std::{
    convert::Infallible,
    future::{Ready, ready},
    net::SocketAddr,
    panic::AssertUnwindSafe,
    task::{Context, Poll},
};

use axum::{
    Router,
    extract::{ConnectInfo, Request, State},
    http::{Method, StatusCode},
    response::{IntoResponse, Response},
    serve::IncomingStream,
};
use futures_util::{FutureExt, future::BoxFuture};
use tokio::net::TcpListener;
use tower::Service;

use super::redirect;
use crate::{links::slug, state::AppState};

/// One connection's service.
#[derive(Clone)]
pub struct Front {
    router: Router,
    state: AppState,
    peer: SocketAddr,
}

impl Front {
    /// The service for a connection from `peer`.
    pub fn new(router: Router, state: AppState, peer: SocketAddr) -> Front {
        Front {
            router,
            state,
            peer,
        }
    }
}

/// Whether a request can only be a redirect.
pub fn is_redirect(method: &Method, path: &str) -> bool {
    (method == Method::GET || method == Method::HEAD)
        && path
            .strip_prefix('/')
            .is_some_and(|segment| slug::can_be_slug(segment) && !slug::is_reserved(segment))
}

impl Service<Request> for Front {
    type Response = Response;
    type Error = Infallible;
    type Future = BoxFuture<'static, Result<Response, Infallible>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, mut req: Request) -> Self::Future {
        if is_redirect(req.method(), req.uri().path()) {
            let answer = redirect::redirect(State(self.state.clone()), ConnectInfo(self.peer), req);
            // As the router's routes are (tower-http's CatchPanicLayer): a
            // panic is a 500 for this request, not a lost connection.
            return AssertUnwindSafe(answer)
                .catch_unwind()
                .map(|answered| {
                    Ok(answered.unwrap_or_else(|_| {
                        tracing::error!("the redirect handler panicked");
                        StatusCode::INTERNAL_SERVER_ERROR.into_response()
                    }))
                })
                .boxed();
        }
        req.extensions_mut().insert(ConnectInfo(self.peer));
        self.router.call(req).boxed()
    }
}

/// Makes each accepted connection's [`Front`] (for `axum::serve`).
#[derive(Clone)]
pub struct MakeFront {
    router: Router,
    state: AppState,
}

impl MakeFront {
    /// The front door of `router`, with the redirect handler's state.
    pub fn new(router: Router, state: AppState) -> MakeFront {
        MakeFront { router, state }
    }

    /// The service of a connection from `peer`.
    pub fn front(&self, peer: SocketAddr) -> Front {
        Front::new(self.router.clone(), self.state.clone(), peer)
    }
}

impl Service<IncomingStream<'_, TcpListener>> for MakeFront {
    type Response = Front;
    type Error = Infallible;
    type Future = Ready<Result<Front, Infallible>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, conn: IncomingStream<'_, TcpListener>) -> Self::Future {
        ready(Ok(Front::new(
            self.router.clone(),
            self.state.clone(),
            *conn.remote_addr(),
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_get_or_head_of_one_unreserved_slug_is_a_redirect() {
        assert!(is_redirect(&Method::GET, "/Y3nsu8t"));
        assert!(is_redirect(&Method::HEAD, "/summer-sale"));
        for path in [
            "/",
            "",
            "/healthz",
            "/METRICS",
            "/api",
            "/a/b",
            "/a.b",
            "/caf%C3%A9",
        ] {
            assert!(!is_redirect(&Method::GET, path), "{path}");
        }
        assert!(!is_redirect(&Method::POST, "/Y3nsu8t"));
        assert!(!is_redirect(&Method::OPTIONS, "/Y3nsu8t"));
    }
}
