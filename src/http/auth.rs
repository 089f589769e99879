//! Who is calling: the one [`Identity`] extractor (an `Authorization:
//! Bearer` token, the scheme in any case, or else the `lanterne_session`
//! cookie) and the role guards [`Viewer`], [`Editor`] and [`Admin`] that
//! handlers take instead of checking roles themselves. Refusals are
//! [`AuthError`]s: the API renders them through `ApiError`; a page handler
//! takes `Result<Editor, AuthError>` and renders its own. Never logs the
//! credential or the client IP.

use std::net::{Ipv4Addr, SocketAddr};

use axum::{
    extract::{ConnectInfo, FromRequestParts},
    http::{HeaderMap, header, request::Parts},
    response::{IntoResponse, Response},
};

use super::{error::ApiError, extract::client_ip};
use crate::{
    state::AppState,
    users::{
        Role, User,
        identity::{AuthError, Credential, SESSION_COOKIE},
    },
};

pub use crate::users::identity::Identity;

/// The credential of a request: a Bearer token first, else the session
/// cookie. `Err(Missing)` when neither is there or the scheme is not Bearer.
pub fn credential(headers: &HeaderMap) -> Result<Credential<'_>, AuthError> {
    if let Some(value) = headers.get(header::AUTHORIZATION) {
        let value = value.to_str().map_err(|_| AuthError::Invalid)?.trim();
        let (scheme, token) = value.split_once(' ').unwrap_or((value, ""));
        // RFC 9110 §11.1: the scheme is case-insensitive.
        if !scheme.eq_ignore_ascii_case("bearer") {
            return Err(AuthError::Missing);
        }
        return Ok(Credential::Token(token.trim()));
    }
    session_secret(headers)
        .map(Credential::Session)
        .ok_or(AuthError::Missing)
}

/// The value of the `lanterne_session` cookie, if sent.
pub fn session_secret(headers: &HeaderMap) -> Option<&str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == SESSION_COOKIE)
        .map(|(_, value)| value.trim())
}

impl FromRequestParts<AppState> for Identity {
    type Rejection = AuthError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, AuthError> {
        // Several guards in one handler authenticate once.
        if let Some(id) = parts.extensions.get::<Identity>() {
            return Ok(id.clone());
        }
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map_or(SocketAddr::from((Ipv4Addr::UNSPECIFIED, 0)), |c| c.0);
        let ip = client_ip(peer, &parts.headers, &state.settings.server.trusted_proxies);
        let credential = credential(&parts.headers)?;
        let id = state.accounts.identify(&state.pool, credential, ip).await?;
        parts.extensions.insert(id.clone());
        Ok(id)
    }
}

/// Declares a role guard: the active user, who has at least that role.
macro_rules! role_guard {
    ($(#[$doc:meta])* $name:ident, $role:expr) => {
        $(#[$doc])*
        #[derive(Debug, Clone)]
        pub struct $name(pub User);

        impl FromRequestParts<AppState> for $name {
            type Rejection = AuthError;

            async fn from_request_parts(
                parts: &mut Parts,
                state: &AppState,
            ) -> Result<Self, AuthError> {
                let id = Identity::from_request_parts(parts, state).await?;
                id.require($role)?;
                Ok($name(id.user))
            }
        }
    };
}

role_guard!(
    /// Any active user: reads links and statistics.
    Viewer,
    Role::Viewer
);
role_guard!(
    /// An editor or an admin: changes links.
    Editor,
    Role::Editor
);
role_guard!(
    /// An admin: manages users and every token.
    Admin,
    Role::Admin
);

impl IntoResponse for AuthError {
    fn into_response(self) -> Response {
        ApiError::from(self).into_response()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(*k, HeaderValue::from_str(v).unwrap());
        }
        h
    }

    #[test]
    fn the_bearer_scheme_is_read_in_any_case_and_before_the_cookie() {
        for scheme in ["Bearer", "bearer", "BEARER", "bEaReR"] {
            let h = headers(&[("authorization", &format!("{scheme} lnt_abc"))]);
            assert!(
                matches!(credential(&h), Ok(Credential::Token("lnt_abc"))),
                "{scheme}"
            );
        }
        let both = headers(&[
            ("authorization", "Bearer lnt_abc"),
            ("cookie", "lanterne_session=lns_x"),
        ]);
        assert!(matches!(
            credential(&both),
            Ok(Credential::Token("lnt_abc"))
        ));
        let basic = headers(&[("authorization", "Basic dXNlcjpwYXNz")]);
        assert!(matches!(credential(&basic), Err(AuthError::Missing)));
        assert!(matches!(credential(&headers(&[])), Err(AuthError::Missing)));
    }

    #[test]
    fn the_session_cookie_is_found_among_others() {
        let h = headers(&[("cookie", "theme=dark; lanterne_session=lns_x ; other=1")]);
        assert_eq!(session_secret(&h), Some("lns_x"));
        assert!(matches!(credential(&h), Ok(Credential::Session("lns_x"))));
        let none = headers(&[("cookie", "lanterne_sessionx=1")]);
        assert_eq!(session_secret(&none), None);
    }
}
