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

/// 404 for a `Host` this Lanterne does not serve, shown only to a client on
/// the same machine: it names the hosts that are served.
#[derive(Template, WebTemplate)]
#[template(path = "errors/404_unserved_host.html")]
pub struct UnservedHostPage {
    /// The `Host` asked for (untrusted: capped here, escaped by askama).
    host: String,
    /// Every served host, the default domain's first.
    served: Vec<String>,
}

impl UnservedHostPage {
    /// Longest `Host` shown (a DNS name is at most 253 bytes, plus a port).
    const MAX_HOST: usize = 260;

    /// The page for a request to `host`.
    pub fn new(host: &str, served: Vec<String>) -> UnservedHostPage {
        let mut end = host.len().min(Self::MAX_HOST);
        while !host.is_char_boundary(end) {
            end -= 1;
        }
        UnservedHostPage {
            host: host[..end].to_owned(),
            served,
        }
    }
}

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
            UnservedHostPage::new("x", vec!["localhost".into()])
                .render()
                .unwrap(),
        ] {
            assert!(html.starts_with("<!doctype html>"), "{html}");
            assert!(html.contains("Lanterne"));
        }
    }

    #[test]
    fn the_unserved_host_page_names_the_served_hosts_and_escapes_the_asked_one() {
        let html = UnservedHostPage::new(
            "<script>x</script>:8080",
            vec!["localhost".into(), "go.example.com".into()],
        )
        .render()
        .unwrap();
        assert!(html.contains("This link does not exist"), "{html}");
        assert!(html.contains("<code>go.example.com</code>"), "{html}");
        assert!(
            html.contains("&#60;script&#62;x&#60;/script&#62;:8080"),
            "{html}"
        );
        assert!(!html.contains("<script>"), "{html}");
        let long = "é".repeat(200);
        assert!(UnservedHostPage::new(&long, vec![]).host.len() <= 260);
    }
}
