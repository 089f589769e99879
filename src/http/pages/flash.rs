//! Flash messages: after an action, the redirect sets a short-lived cookie
//! naming a catalogue string (and one value for it, e.g. a slug); the next
//! page shows it once and the cookie is cleared. The cookie holds a key, not
//! text: only strings of the catalogue's `flash` section can be shown, and
//! the value is escaped like everything else.

use axum::{
    extract::Request,
    http::{HeaderMap, HeaderValue, header},
    middleware::Next,
    response::{IntoResponse, Redirect, Response},
};

/// The cookie's name.
pub const COOKIE: &str = "lanterne_flash";
/// Longest value carried.
const MAX_VALUE: usize = 200;

/// A message to show once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Flash {
    /// Catalogue key, always under `flash.`.
    pub key: String,
    /// The value of its `{value}` placeholder.
    pub value: String,
    /// `ok` or `error` (the message's style).
    pub tone: &'static str,
}

/// A redirect (303, post/redirect/get) that shows `key` on the next page.
pub fn redirect(to: &str, key: &str, value: &str) -> Response {
    let mut encoded = url::form_urlencoded::Serializer::new(String::new());
    encoded.append_pair("k", key);
    encoded.append_pair("v", &value.chars().take(MAX_VALUE).collect::<String>());
    let cookie = format!(
        "{COOKIE}={}; HttpOnly; SameSite=Lax; Path=/; Max-Age=60",
        encoded.finish()
    );
    let mut res = Redirect::to(to).into_response();
    if let Ok(v) = HeaderValue::from_str(&cookie) {
        res.headers_mut().append(header::SET_COOKIE, v);
    }
    res
}

/// The flash of a request, if it carries one of ours.
pub fn read(headers: &HeaderMap) -> Option<Flash> {
    let raw = cookie_value(headers)?;
    let mut key = None;
    let mut value = String::new();
    for (k, v) in url::form_urlencoded::parse(raw.as_bytes()) {
        match &*k {
            "k" => key = Some(v.into_owned()),
            "v" => value = v.chars().take(MAX_VALUE).collect(),
            _ => {}
        }
    }
    let key = key
        .filter(|k| k.starts_with("flash.") && k.len() < 64 && crate::i18n::Tr::default().has(k))?;
    let tone = if key.starts_with("flash.error") {
        "error"
    } else {
        "ok"
    };
    Some(Flash { key, value, tone })
}

fn cookie_value(headers: &HeaderMap) -> Option<&str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == COOKIE)
        .map(|(_, v)| v)
}

/// Clears the flash cookie once a page (not a redirect) has shown it.
pub async fn clear_after_showing(req: Request, next: Next) -> Response {
    let had = cookie_value(req.headers()).is_some();
    let mut res = next.run(req).await;
    if had && !res.status().is_redirection() {
        res.headers_mut().append(
            header::SET_COOKIE,
            HeaderValue::from_static("lanterne_flash=; HttpOnly; SameSite=Lax; Path=/; Max-Age=0"),
        );
    }
    res
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_flash_round_trips_and_only_catalogue_keys_are_shown() {
        let res = redirect("/links", "flash.link_created", "summer <b>");
        let cookie = res.headers()[header::SET_COOKIE].to_str().unwrap();
        let pair = cookie.split(';').next().unwrap();
        let mut h = HeaderMap::new();
        h.insert(header::COOKIE, HeaderValue::from_str(pair).unwrap());
        let f = read(&h).expect("a flash");
        assert_eq!(f.key, "flash.link_created");
        assert_eq!(f.value, "summer <b>");
        assert_eq!(f.tone, "ok");

        for forged in [
            "lanterne_flash=k=error.500",
            "lanterne_flash=k=flash.nope",
            "lanterne_flash=%%%",
        ] {
            let mut h = HeaderMap::new();
            h.insert(header::COOKIE, HeaderValue::from_static(forged));
            assert_eq!(read(&h), None, "{forged}");
        }
    }
}
