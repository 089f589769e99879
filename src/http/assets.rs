//! Static assets (stylesheet, script, icon), embedded in the binary and
//! served under content-hashed names (`app.3f9c2a1b.css`) with a one-year
//! immutable cache lifetime: a new release changes the name, so browsers
//! never keep a stale copy. Nothing is loaded from any other host.

use std::sync::OnceLock;

use axum::{
    extract::Path,
    http::{HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use sha2::{Digest, Sha256};

/// One embedded file.
struct Asset {
    /// Name before hashing, e.g. `app.css`.
    name: &'static str,
    content_type: &'static str,
    bytes: &'static [u8],
}

const FILES: &[Asset] = &[
    Asset {
        name: "app.css",
        content_type: "text/css; charset=utf-8",
        bytes: include_bytes!("../../assets/app.css"),
    },
    Asset {
        name: "app.js",
        content_type: "text/javascript; charset=utf-8",
        bytes: include_bytes!("../../assets/app.js"),
    },
    Asset {
        name: "dashboard.css",
        content_type: "text/css; charset=utf-8",
        bytes: include_bytes!("../../assets/dashboard.css"),
    },
    Asset {
        name: "dashboard.js",
        content_type: "text/javascript; charset=utf-8",
        bytes: include_bytes!("../../assets/dashboard.js"),
    },
    Asset {
        name: "icon.svg",
        content_type: "image/svg+xml",
        bytes: include_bytes!("../../assets/icon.svg"),
    },
];

/// `(hashed name, asset)` of every file, computed once.
fn hashed() -> &'static [(String, &'static Asset)] {
    static HASHED: OnceLock<Vec<(String, &'static Asset)>> = OnceLock::new();
    HASHED.get_or_init(|| {
        FILES
            .iter()
            .map(|a| {
                let digest = Sha256::digest(a.bytes);
                let short: String = digest[..4].iter().map(|b| format!("{b:02x}")).collect();
                let (stem, ext) = a
                    .name
                    .rsplit_once('.')
                    .expect("asset names have an extension");
                (format!("{stem}.{short}.{ext}"), a)
            })
            .collect()
    })
}

/// The URL path of an asset by its plain name (`url("app.css")` →
/// `/assets/app.3f9c2a1b.css`).
pub fn url(name: &str) -> String {
    hashed()
        .iter()
        .find(|(_, a)| a.name == name)
        .map(|(h, _)| format!("/assets/{h}"))
        .unwrap_or_else(|| panic!("no asset named {name}"))
}

/// `GET /assets/{name}`: an embedded file by its hashed name, cached for a year.
pub async fn serve(Path(name): Path<String>) -> Response {
    let Some((_, asset)) = hashed().iter().find(|(h, _)| *h == name) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let mut res = asset.bytes.into_response();
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(asset.content_type),
    );
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=31536000, immutable"),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    res
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_carry_the_content_hash() {
        let css = url("app.css");
        assert!(
            css.starts_with("/assets/app.") && css.ends_with(".css"),
            "{css}"
        );
        assert_eq!(css.len(), "/assets/app.12345678.css".len());
        assert_ne!(url("app.css"), url("app.js"));
    }
}
