//! `GET|HEAD /{slug}`: the hot path. Finds the link in memory (the database
//! is read only on a cache miss), answers the redirect, and hands one
//! `ClickEvent` to the click queue with a non-blocking send. It never awaits
//! a database write. It takes the raw request to avoid copying headers.

use std::{net::SocketAddr, time::Instant};

use axum::{
    extract::{ConnectInfo, Request, State},
    http::{HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};

use super::extract::client_ip;
use crate::{
    clicks::{self, ClickEvent},
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
    req: Request,
) -> Response {
    let start = Instant::now();
    let res = answer(&state, peer, req).await;
    state
        .redirect_metrics
        .answered(res.status().as_u16(), start.elapsed());
    res
}

async fn answer(state: &AppState, peer: SocketAddr, req: Request) -> Response {
    let (parts, _) = req.into_parts();
    if let Some(refusal) = super::headers_too_large(&parts.headers) {
        return refusal;
    }
    let host = parts
        .headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("");
    let segment = parts.uri.path().trim_start_matches('/');
    let Some(domain_id) = state
        .domains
        .for_host_header(host)
        .filter(|_| slug::can_be_slug(segment))
    else {
        return error_page(StatusCode::NOT_FOUND, NotFoundPage);
    };
    let key = cache::key(domain_id, segment);
    let m = &state.redirect_metrics;
    let link = match state.cache.get(&key) {
        Lookup::Hit(link) => {
            m.cache_hit.increment(1);
            link
        }
        Lookup::KnownMissing => {
            m.cache_negative_hit.increment(1);
            return error_page(StatusCode::NOT_FOUND, NotFoundPage);
        }
        Lookup::Miss => {
            m.cache_miss.increment(1);
            match state
                .cache
                .load(&state.pool, domain_id, cache::slug_key(&key))
                .await
            {
                Ok(Some(link)) => link,
                Ok(None) => return error_page(StatusCode::NOT_FOUND, NotFoundPage),
                Err(e) => {
                    tracing::warn!(error = %e, "link lookup failed on a cache miss");
                    let mut res = error_page(StatusCode::SERVICE_UNAVAILABLE, UnavailablePage);
                    res.headers_mut()
                        .insert(header::RETRY_AFTER, HeaderValue::from_static("5"));
                    return res;
                }
            }
        }
    };
    // One clock read: the expiry check and the click's time.
    let now = clicks::now_micros();
    if !link.is_live(now) {
        return error_page(StatusCode::GONE, GonePage);
    }
    let passthrough = parts.uri.query().and_then(|q| {
        destination::with_passthrough(
            &link.target,
            q,
            state.settings.redirect.max_passthrough_query,
        )
    });
    let location = match passthrough.as_deref().map(HeaderValue::from_str) {
        Some(Ok(v)) => v,
        _ => match &link.location {
            Some(v) => v.clone(),
            None => return error_page(StatusCode::NOT_FOUND, NotFoundPage),
        },
    };
    let ip = client_ip(peer, &parts.headers, &state.settings.server.trusted_proxies);
    state.clicks.send(ClickEvent::capture(
        link,
        now,
        &parts.method,
        &parts.headers,
        Some(ip),
    ));

    let mut res = state.redirect_status.into_response();
    let h = res.headers_mut();
    h.insert(header::LOCATION, location);
    h.insert(header::CACHE_CONTROL, state.redirect_cache_control.clone());
    h.insert("x-robots-tag", HeaderValue::from_static("noindex"));
    res
}
