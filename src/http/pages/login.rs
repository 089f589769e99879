//! `/login` and `/logout`: the sign-in form (labelled **Email** and
//! **Password**, button **Sign in**), signing in through `Accounts::sign_in`
//! (throttled, one error for every cause) and signing out. After signing in
//! the user goes back to the page that asked (a local path only), else to
//! `/links`.

use std::net::SocketAddr;

use askama::Template;
use askama_web::WebTemplate;
use axum::{
    extract::{ConnectInfo, Query, State},
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{IntoResponse, Redirect, Response},
};
use serde::Deserialize;

use super::{Chrome, Guest, PageForm, flash};
use crate::{
    http::{auth::session_secret, error::page::PageError, extract::client_ip},
    i18n::Tr,
    state::AppState,
    users::identity::AuthError,
};

/// The sign-in page.
#[derive(Template, WebTemplate)]
#[template(path = "login.html")]
pub struct LoginPage {
    t: Tr,
    chrome: Chrome,
    email: String,
    next: String,
    /// Catalogue key of the error shown, if any.
    error: Option<&'static str>,
    retry_after: u64,
}

/// Query of `GET /login`.
#[derive(Debug, Deserialize)]
pub struct LoginQuery {
    next: Option<String>,
}

/// Body of `POST /login`.
#[derive(Debug, Deserialize)]
pub struct LoginForm {
    email: String,
    password: String,
    #[serde(default)]
    next: String,
}

/// `GET /login`: the form; signed-in users go straight on.
pub async fn show(
    State(state): State<AppState>,
    guest: Guest,
    headers: HeaderMap,
    Query(q): Query<LoginQuery>,
) -> Response {
    let next = safe_next(q.next.as_deref());
    let page = LoginPage {
        t: guest.chrome.t,
        chrome: guest.chrome,
        email: String::new(),
        next,
        error: None,
        retry_after: 0,
    };
    let mut res = page.into_response();
    if session_secret(&headers).is_some() {
        // A stale cookie would count as a failed check on every request.
        let clear = state.accounts.clear_session_cookie();
        if let Ok(v) = HeaderValue::from_str(&clear) {
            res.headers_mut().append(header::SET_COOKIE, v);
        }
    }
    res
}

/// `POST /login`: signs in and goes on, or shows the form again.
pub async fn submit(
    State(state): State<AppState>,
    guest: Guest,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    PageForm(form): PageForm<LoginForm>,
) -> Result<Response, PageError> {
    let ip = client_ip(peer, &headers, &state.settings.server.trusted_proxies);
    let next = safe_next(Some(&form.next));
    let (status, error, retry_after) = match state
        .accounts
        .sign_in(&state.pool, &form.email, &form.password, ip)
        .await
    {
        Ok(session) => {
            let mut res = Redirect::to(&next).into_response();
            let cookie = state.accounts.session_cookie(&session.secret);
            let v =
                HeaderValue::from_str(&cookie).map_err(|e| PageError::Internal(e.to_string()))?;
            res.headers_mut().append(header::SET_COOKIE, v);
            return Ok(res);
        }
        Err(AuthError::Invalid) => (StatusCode::UNPROCESSABLE_ENTITY, "login.error", 0),
        Err(AuthError::RateLimited { retry_after }) => (
            StatusCode::TOO_MANY_REQUESTS,
            "login.locked",
            retry_after.as_secs().max(1),
        ),
        Err(other) => return Err(other.into()),
    };
    let page = LoginPage {
        t: guest.chrome.t,
        chrome: guest.chrome,
        email: form.email.chars().take(254).collect(),
        next,
        error: Some(error),
        retry_after,
    };
    Ok((status, page).into_response())
}

/// `POST /logout`: ends the session everywhere and shows the sign-in page.
pub async fn sign_out(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Response, PageError> {
    if let Some(secret) = session_secret(&headers) {
        state.accounts.sign_out(&state.pool, secret).await?;
    }
    let mut res = flash::redirect("/login", "flash.signed_out", "");
    let clear = state.accounts.clear_session_cookie();
    if let Ok(v) = HeaderValue::from_str(&clear) {
        res.headers_mut().append(header::SET_COOKIE, v);
    }
    Ok(res)
}

/// A path of ours to go to after signing in: local (`/…`, not `//…` or
/// `/\…`, which browsers read as another host), else `/links`.
pub fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(n)
            if n.starts_with('/')
                && !n.starts_with("//")
                && !n.starts_with("/\\")
                && !n.starts_with("/login")
                && n.len() <= 2048
                && !n.chars().any(char::is_control) =>
        {
            n.to_owned()
        }
        _ => "/links".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_local_paths_are_followed_after_signing_in() {
        assert_eq!(safe_next(Some("/links/7?x=1")), "/links/7?x=1");
        for bad in [
            "https://evil.example/",
            "//evil.example/",
            "/\\evil.example",
            "javascript:alert(1)",
            "/login?next=/x",
            "",
            "/a\nb",
        ] {
            assert_eq!(safe_next(Some(bad)), "/links", "{bad:?}");
        }
        assert_eq!(safe_next(None), "/links");
    }
}
