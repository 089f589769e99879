//! `GET|HEAD /{slug}`: the hot path. Finds the link in memory (the database
//! is read only on a cache miss), answers the redirect, and hands one
//! `ClickEvent` to the click queue with a non-blocking send. It never awaits
//! a database write. It takes the raw request (no extractor copies the
//! headers); the click copies only the few values attribution reads.
//! A link with a preview card answers a link-preview fetcher (WhatsApp,
//! Telegram, Slack…) with a small page of Open Graph tags instead of the
//! redirect, and its share event is captured the same way; only those
//! links pay for the User-Agent check.

use std::{net::SocketAddr, sync::Arc, time::Instant};

use askama::Template;
use askama_web::WebTemplate;
use axum::{
    extract::{ConnectInfo, Request, State},
    http::{HeaderValue, StatusCode, header, request::Parts},
    response::{IntoResponse, Response},
};

use super::extract::client_ip;
use crate::{
    attribution,
    clicks::{self, ClickEvent},
    links::{
        cache::{self, CachedLink, Card, Lookup},
        destination, slug,
    },
    state::AppState,
    templates::{GonePage, NotFoundPage, UnavailablePage, UnservedHostPage, error_page},
};

/// Answers a short link.
pub async fn redirect(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    req: Request,
) -> Response {
    let start = Instant::now();
    let (parts, _) = req.into_parts();
    // From memory, without awaiting anything; only a cache miss reads the
    // database. That path is boxed: its future is large, and inline it would
    // size (and move) every redirect's future.
    let res = match from_memory(&state, &parts) {
        Found::Link(link) => respond(&state, peer, &parts, link),
        Found::Answer(res) => res,
        Found::UnservedHost => unserved_host(&state, peer, &parts),
        Found::Miss { domain_id, key } => match Box::pin(load(&state, domain_id, &key)).await {
            Ok(Some(link)) => respond(&state, peer, &parts, link),
            Ok(None) => error_page(StatusCode::NOT_FOUND, NotFoundPage),
            Err(res) => *res,
        },
    };
    state
        .redirect_metrics
        .answered(res.status().as_u16(), start.elapsed());
    res
}

/// What memory says about a request.
enum Found {
    Link(Arc<CachedLink>),
    /// Answered already (refused, unknown, known missing).
    Answer(Response),
    /// The `Host` is none of ours.
    UnservedHost,
    /// Not in memory: the database must be asked.
    Miss {
        domain_id: i32,
        key: String,
    },
}

fn from_memory(state: &AppState, parts: &Parts) -> Found {
    if let Some(refusal) = super::headers_too_large(&parts.headers) {
        return Found::Answer(refusal);
    }
    let host = parts
        .headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("");
    let segment = parts.uri.path().trim_start_matches('/');
    let Some(domain_id) = state.domains.for_host_header(host) else {
        return Found::UnservedHost;
    };
    if !slug::can_be_slug(segment) {
        return Found::Answer(error_page(StatusCode::NOT_FOUND, NotFoundPage));
    }
    let m = &state.redirect_metrics;
    // The key is built in a buffer of the thread's; only a miss copies it.
    cache::with_key(domain_id, segment, |key| match state.cache.get(key) {
        Lookup::Hit(link) => {
            m.cache_hit.increment(1);
            Found::Link(link)
        }
        Lookup::KnownMissing => {
            m.cache_negative_hit.increment(1);
            Found::Answer(error_page(StatusCode::NOT_FOUND, NotFoundPage))
        }
        Lookup::Miss => {
            m.cache_miss.increment(1);
            Found::Miss {
                domain_id,
                key: key.to_owned(),
            }
        }
    })
}

/// 404 for a `Host` we do not serve. Asked from this machine (someone
/// trying Lanterne out, or a proxy in front of it sending the wrong `Host`),
/// the page names the served hosts; anyone else gets the plain 404, which
/// says nothing about the configuration.
fn unserved_host(state: &AppState, peer: SocketAddr, parts: &Parts) -> Response {
    let client = client_ip(peer, &parts.headers, &state.settings.server.trusted_proxies);
    if !client.is_loopback() {
        return error_page(StatusCode::NOT_FOUND, NotFoundPage);
    }
    let host = parts
        .headers
        .get(header::HOST)
        .map(|h| String::from_utf8_lossy(h.as_bytes()).into_owned())
        .unwrap_or_default();
    error_page(
        StatusCode::NOT_FOUND,
        UnservedHostPage::new(&host, state.domains.hosts()),
    )
}

/// The link from the database (and into the cache); `Err` is the answer to
/// give when the database cannot say.
async fn load(
    state: &AppState,
    domain_id: i32,
    key: &str,
) -> Result<Option<Arc<CachedLink>>, Box<Response>> {
    state
        .cache
        .fetch(&state.pool, domain_id, key)
        .await
        .map_err(|e| {
            tracing::warn!(error = %e, "link lookup failed on a cache miss");
            let mut res = error_page(StatusCode::SERVICE_UNAVAILABLE, UnavailablePage);
            res.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from_static("5"));
            Box::new(res)
        })
}

/// The redirect to a live link (and its click), or 410.
fn respond(state: &AppState, peer: SocketAddr, parts: &Parts, link: Arc<CachedLink>) -> Response {
    // One clock read: the expiry check and the click's time.
    let now = clicks::now_micros();
    if !link.is_live(now) {
        return error_page(StatusCode::GONE, GonePage);
    }
    if let Some(card) = link.card.as_deref()
        && is_preview_fetch(parts)
    {
        let res = card_answer(state, parts, card, &link.target);
        capture(state, peer, parts, link, now);
        return res;
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
    capture(state, peer, parts, link, now);

    let mut res = state.redirect_status.into_response();
    let h = res.headers_mut();
    h.insert(header::LOCATION, location);
    h.insert(header::CACHE_CONTROL, state.redirect_cache_control.clone());
    h.insert("x-robots-tag", HeaderValue::from_static("noindex"));
    res
}

/// Hands the request's click (or share event) to the queue.
fn capture(
    state: &AppState,
    peer: SocketAddr,
    parts: &Parts,
    link: Arc<CachedLink>,
    now: time::OffsetDateTime,
) {
    let ip = client_ip(peer, &parts.headers, &state.settings.server.trusted_proxies);
    state.clicks.send(ClickEvent::capture(
        link,
        now,
        &parts.method,
        &parts.headers,
        Some(ip),
    ));
}

/// Whether a link-preview fetcher sent the request (the classifier's rule).
fn is_preview_fetch(parts: &Parts) -> bool {
    parts
        .headers
        .get(header::USER_AGENT)
        .and_then(|ua| ua.to_str().ok())
        .and_then(attribution::preview_app)
        .is_some()
}

/// The page a preview fetcher gets for a link with a card (every value
/// escaped by askama; no script).
#[derive(Template, WebTemplate)]
#[template(path = "preview_card.html")]
struct CardPage<'a> {
    card: &'a Card,
    /// og:url: the short URL itself, so that an app that follows og:url
    /// reads this card again rather than the destination's own tags.
    url: String,
    /// Where people go (a plain link, for a person who lands here).
    target: &'a str,
}

fn card_answer(state: &AppState, parts: &Parts, card: &Card, target: &str) -> Response {
    let host = parts
        .headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("");
    let host = match host.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or(""),
        None => host.split(':').next().unwrap_or(""),
    };
    let slug = parts.uri.path().trim_start_matches('/');
    let url = state.domains.short_url(&host.to_ascii_lowercase(), slug);
    let mut res = CardPage { card, url, target }.into_response();
    let h = res.headers_mut();
    h.insert(header::CACHE_CONTROL, state.redirect_cache_control.clone());
    h.insert("x-robots-tag", HeaderValue::from_static("noindex"));
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("default-src 'none'; img-src https:"),
    );
    res
}
