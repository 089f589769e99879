//! Server-rendered pages (askama, auto-escaped). Every HTML response of
//! Lanterne is one of these structs; nothing builds HTML from strings.

use askama::Template;
use askama_web::WebTemplate;
use axum::{
    http::{HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};

/// 404: no link behind this address.
#[derive(Template, WebTemplate)]
#[template(path = "errors/404.html")]
pub struct NotFoundPage;

/// 410: the link was disabled or has expired.
#[derive(Template, WebTemplate)]
#[template(path = "errors/410.html")]
pub struct GonePage;

/// 503: the link is not in memory and the database cannot be reached.
#[derive(Template, WebTemplate)]
#[template(path = "errors/503.html")]
pub struct UnavailablePage;

/// The home page of a served domain.
#[derive(Template, WebTemplate)]
#[template(path = "home.html")]
pub struct HomePage;

/// An error page with its status, never cached (a link created a second
/// later must not stay hidden behind a cached 404).
pub fn error_page(status: StatusCode, page: impl IntoResponse) -> Response {
    let mut res = (status, page).into_response();
    res.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    res
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_page_renders() {
        for html in [
            NotFoundPage.render().unwrap(),
            GonePage.render().unwrap(),
            UnavailablePage.render().unwrap(),
            HomePage.render().unwrap(),
        ] {
            assert!(html.starts_with("<!doctype html>"), "{html}");
            assert!(html.contains("Lanterne"));
        }
    }
}
