//! `GET|HEAD /{slug}`: the hot path. Finds the link in memory (the database
//! is read only on a cache miss), answers the redirect, and hands one
//! `ClickEvent` to the click queue with a non-blocking send. It never awaits
//! a database write.

use std::net::SocketAddr;

use axum::{
    extract::{ConnectInfo, Path, State},
    http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header},
    response::{IntoResponse, Response},
};
use time::OffsetDateTime;

use super::extract::client_ip;
use crate::{
    clicks::ClickEvent,
    links::{
        cache::{self, Lookup},
        destination, slug,
    },
    state::AppState,
    templates::{GonePage, NotFoundPage, UnavailablePage, error_page},
};

/// Answers a short link.
pub async fn redirect(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Path(segment): Path<String>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("");
    let (Some(domain_id), Some(slug_key)) = (
        state.domains.for_host_header(host),
        slug::lookup_key(&segment),
    ) else {
        return answered(error_page(StatusCode::NOT_FOUND, NotFoundPage));
    };
    let key = cache::key(domain_id, &slug_key);
    let link = match state.cache.get(&key) {
        Lookup::Hit(link) => {
            metrics::counter!("lanterne_link_cache_total", "result" => "hit").increment(1);
            link
        }
        Lookup::KnownMissing => {
            metrics::counter!("lanterne_link_cache_total", "result" => "negative_hit").increment(1);
            return answered(error_page(StatusCode::NOT_FOUND, NotFoundPage));
        }
        Lookup::Miss => {
            metrics::counter!("lanterne_link_cache_total", "result" => "miss").increment(1);
            match state.cache.load(&state.pool, domain_id, &slug_key).await {
                Ok(Some(link)) => link,
                Ok(None) => return answered(error_page(StatusCode::NOT_FOUND, NotFoundPage)),
                Err(e) => {
                    tracing::warn!(error = %e, "link lookup failed on a cache miss");
                    let mut res = error_page(StatusCode::SERVICE_UNAVAILABLE, UnavailablePage);
                    res.headers_mut()
                        .insert(header::RETRY_AFTER, HeaderValue::from_static("5"));
                    return answered(res);
                }
            }
        }
    };
    if !link.is_live(OffsetDateTime::now_utc()) {
        return answered(error_page(StatusCode::GONE, GonePage));
    }
    let passthrough = uri.query().and_then(|q| {
        destination::with_passthrough(
            &link.target,
            q,
            state.settings.redirect.max_passthrough_query,
        )
    });
    let location = match passthrough.as_deref().map(HeaderValue::from_str) {
        Some(Ok(v)) => v,
        _ => match HeaderValue::from_str(&link.target) {
            Ok(v) => v,
            Err(_) => return answered(error_page(StatusCode::NOT_FOUND, NotFoundPage)),
        },
    };
    let ip = client_ip(peer, &headers, &state.settings.server.trusted_proxies);
    state
        .clicks
        .send(ClickEvent::capture(link, &method, &headers, Some(ip)));

    let status = StatusCode::from_u16(state.settings.redirect.status).unwrap_or(StatusCode::FOUND);
    let mut res = status.into_response();
    let h = res.headers_mut();
    h.insert(header::LOCATION, location);
    h.insert(header::CACHE_CONTROL, state.redirect_cache_control.clone());
    h.insert("x-robots-tag", HeaderValue::from_static("noindex"));
    answered(res)
}

/// Counts the answer by status.
fn answered(res: Response) -> Response {
    let status = match res.status().as_u16() {
        301 => "301",
        302 => "302",
        307 => "307",
        308 => "308",
        404 => "404",
        410 => "410",
        503 => "503",
        _ => "other",
    };
    metrics::counter!("lanterne_redirects_total", "status" => status).increment(1);
    res
}
