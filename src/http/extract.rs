//! Extractors that turn raw request parts into checked values: `AppJson` and
//! `AppQuery` (rejections in the API's own envelope) and the client IP
//! (socket peer, or a trusted proxy's `X-Forwarded-For`).

use std::net::{IpAddr, SocketAddr};

use axum::{
    extract::{FromRequest, FromRequestParts, Query, Request},
    http::{HeaderMap, request::Parts},
};
use ipnet::IpNet;
use serde::de::DeserializeOwned;

use super::error::ApiError;

pub mod json;

/// `Json<T>` whose rejections use the API error envelope (see `json.rs`).
#[derive(Debug, Clone, Copy, Default)]
pub struct AppJson<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for AppJson<T> {
    type Rejection = ApiError;
    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        json::read(req, state).await.map(AppJson)
    }
}

/// `Query<T>` whose rejections use the API error envelope.
#[derive(Debug, Clone, Copy, Default)]
pub struct AppQuery<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for AppQuery<T> {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let Query(v) = Query::<T>::from_request_parts(parts, state).await?;
        Ok(AppQuery(v))
    }
}

/// The client's IP: the socket peer, unless the peer is a trusted proxy, in
/// which case the right-most untrusted address of `X-Forwarded-For` (the
/// left part of that header is whatever the client chose to send).
pub fn client_ip(peer: SocketAddr, headers: &HeaderMap, trusted: &[IpNet]) -> IpAddr {
    let peer = peer.ip().to_canonical();
    if trusted.is_empty() || !trusted.iter().any(|n| n.contains(&peer)) {
        return peer;
    }
    let mut candidate = peer;
    let hops = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .collect::<Vec<_>>();
    for hop in hops.into_iter().rev() {
        let Ok(ip) = hop.trim().parse::<IpAddr>() else {
            break;
        };
        let ip = ip.to_canonical();
        candidate = ip;
        if !trusted.iter().any(|n| n.contains(&ip)) {
            break;
        }
    }
    candidate
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(xff: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert("x-forwarded-for", HeaderValue::from_str(xff).unwrap());
        h
    }

    #[test]
    fn forwarded_for_is_believed_only_from_trusted_proxies() {
        let trusted: Vec<IpNet> = vec!["10.0.0.0/8".parse().unwrap()];
        let proxy: SocketAddr = "10.0.0.2:5000".parse().unwrap();
        let stranger: SocketAddr = "203.0.113.9:5000".parse().unwrap();
        let cases = [
            (proxy, "198.51.100.7", "198.51.100.7", "one hop"),
            (
                proxy,
                "1.1.1.1, 198.51.100.7, 10.0.0.3",
                "198.51.100.7",
                "spoofed left part ignored",
            ),
            (
                stranger,
                "198.51.100.7",
                "203.0.113.9",
                "untrusted peer: header ignored",
            ),
            (
                proxy,
                "garbage",
                "10.0.0.2",
                "unparseable hop: stop at the proxy",
            ),
            (proxy, "10.0.0.5", "10.0.0.5", "all trusted: left-most"),
        ];
        for (peer, xff, want, why) in cases {
            assert_eq!(
                client_ip(peer, &headers(xff), &trusted).to_string(),
                want,
                "{why}"
            );
        }
        assert_eq!(
            client_ip(proxy, &headers("198.51.100.7"), &[]).to_string(),
            "10.0.0.2",
            "no trusted proxies"
        );
    }
}
