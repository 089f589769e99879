//! The benchmark's yardstick: a bare axum server that answers every request
//! with a constant 302, no cache, no click capture, no middleware.
//! `bench/redirect.sh` runs it and Lanterne under the same load.

use axum::{
    Router,
    http::{StatusCode, header},
    response::IntoResponse,
    routing::get,
};

#[tokio::main]
async fn main() {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:8180".into());
    let app = Router::new().route(
        "/{slug}",
        get(|| async {
            (
                StatusCode::FOUND,
                [(header::LOCATION, "https://shop.example/p?id=7")],
            )
                .into_response()
        }),
    );
    let listener = tokio::net::TcpListener::bind(&addr).await.expect("bind");
    axum::serve(listener, app).await.expect("serve");
}
