//! Refusals made before a handler runs, each in the API's JSON envelope on
//! `/api` and as plain text elsewhere: headers too large (431), a body
//! announced larger than `server.max_body_bytes` (413 at once, instead of
//! waiting for a body that may never come), a NUL character in the query
//! string (400 naming the parameter: PostgreSQL refuses NUL in text), and,
//! on `/api`, the database gate (503 at once while the database is known
//! to be unreachable, see `db_health.rs`).

use axum::{
    extract::{Request, State},
    http::{StatusCode, header},
    middleware::Next,
    response::{IntoResponse, Response},
};

use super::{MAX_HEADER_BYTES, error::ApiError};
use crate::{db_health::DatabaseUnavailable, state::AppState};

/// Whether a path is the API's (refusals there use the JSON envelope).
fn is_api(req: &Request) -> bool {
    let path = req.uri().path();
    path == "/api" || path.starts_with("/api/")
}

/// A refusal: the API's envelope on `/api`, plain text elsewhere.
fn refuse(api: bool, error: ApiError, text: &'static str) -> Response {
    if api {
        error.into_response()
    } else {
        (error.status(), text).into_response()
    }
}

/// 431, 413 and 400 before anything reads the request (see the module docs).
pub async fn refuse_early(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let api = is_api(&req);
    let size: usize = req
        .headers()
        .iter()
        .map(|(k, v)| k.as_str().len() + v.len() + 4)
        .sum();
    if size > MAX_HEADER_BYTES {
        let e = ApiError::new(
            StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            "headers_too_large",
            format!("the request headers add up to more than {MAX_HEADER_BYTES} bytes"),
        );
        return refuse(api, e, "request headers too large");
    }
    let limit = state.settings.server.max_body_bytes;
    let announced = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    if announced.is_some_and(|n| n > limit as u64) {
        let e = body_too_large(limit);
        let mut res = refuse(api, e, "request body too large");
        // The body is not read: the connection cannot be reused.
        res.headers_mut().insert(
            header::CONNECTION,
            header::HeaderValue::from_static("close"),
        );
        return res;
    }
    if let Some(field) = req.uri().query().and_then(nul_in_query) {
        let e = ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid_query",
            format!("{field}: must not contain a NUL character"),
        )
        .field(field);
        return refuse(api, e, "a query parameter contains a NUL character");
    }
    next.run(req).await
}

/// The 413 of the API.
pub fn body_too_large(limit: usize) -> ApiError {
    ApiError::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        "body_too_large",
        format!("the request body is larger than {limit} bytes"),
    )
}

/// The name of the first query parameter whose name or value holds a NUL.
pub fn nul_in_query(query: &str) -> Option<String> {
    if !query.contains("%00") {
        return None;
    }
    url::form_urlencoded::parse(query.as_bytes())
        .find(|(k, v)| k.contains('\0') || v.contains('\0'))
        .map(|(k, _)| k.replace('\0', "\u{FFFD}"))
}

/// The database gate of `/api`: 503 at once while the database is known to
/// be unreachable; an answer that finds it unreachable closes the gate.
pub async fn database_gate(State(state): State<AppState>, req: Request, next: Next) -> Response {
    if state.db_health.is_down() {
        return ApiError::unavailable().into_response();
    }
    let res = next.run(req).await;
    if res.extensions().get::<DatabaseUnavailable>().is_some() {
        state.db_health.mark_down(&state.pool);
    }
    res
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_nul_anywhere_in_the_query_names_its_parameter() {
        assert_eq!(nul_in_query("q=%00"), Some("q".into()));
        assert_eq!(nul_in_query("limit=5&tag=a%00b"), Some("tag".into()));
        assert_eq!(nul_in_query("q=caf%C3%A9&tag=x"), None);
        assert_eq!(nul_in_query("q=%2500"), None, "an escaped percent sign");
        assert_eq!(nul_in_query("a%00=1"), Some("a\u{FFFD}".into()));
    }
}
