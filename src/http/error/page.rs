//! PageError: the pages' error type, beside the API's `ApiError` and made
//! from the same domain errors. A 401 becomes a redirect to the sign-in
//! page (back to the page that asked, afterwards); other failures carry
//! their kind in a response extension and `render_failures` — a middleware
//! of the pages, which knows the request's language — renders the page.

use axum::{
    extract::Request,
    http::{HeaderValue, StatusCode, header},
    middleware::Next,
    response::{IntoResponse, Redirect, Response},
};

use super::InternalCause;
use crate::{
    http::pages::ErrorPage,
    i18n::{Lang, Tr},
    links::{LinkError, presets::PresetError},
    users::{UserError, identity::AuthError},
};

/// Why a page could not be shown.
#[derive(Debug)]
pub enum PageError {
    /// Not signed in: go to the sign-in page, then back to `next`.
    SignIn {
        /// The path and query to return to.
        next: String,
    },
    /// Signed in, but the role does not allow it.
    Forbidden,
    /// No such thing.
    NotFound,
    /// A form that is not even a form (missing fields, wrong types).
    BadRequest,
    /// Too many failed attempts.
    TooManyAttempts {
        /// Seconds until the next attempt may succeed.
        retry_after: u64,
    },
    /// Anything else; the cause is logged, not shown.
    Internal(String),
}

/// What `render_failures` renders, left in the response by `PageError`.
#[derive(Debug, Clone, Copy)]
struct PageFailure(StatusCode);

impl PageError {
    /// The HTTP status of the error.
    pub fn status(&self) -> StatusCode {
        match self {
            PageError::SignIn { .. } => StatusCode::SEE_OTHER,
            PageError::Forbidden => StatusCode::FORBIDDEN,
            PageError::NotFound => StatusCode::NOT_FOUND,
            PageError::BadRequest => StatusCode::BAD_REQUEST,
            PageError::TooManyAttempts { .. } => StatusCode::TOO_MANY_REQUESTS,
            PageError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        let status = self.status();
        let mut res = match self {
            PageError::SignIn { next } => {
                let mut to = url::form_urlencoded::Serializer::new("/login?".to_owned());
                to.append_pair("next", &next);
                return Redirect::to(&to.finish()).into_response();
            }
            PageError::TooManyAttempts { retry_after } => {
                let mut res = status.into_response();
                res.headers_mut()
                    .insert(header::RETRY_AFTER, retry_after.into());
                res
            }
            PageError::Internal(cause) => {
                let mut res = status.into_response();
                res.extensions_mut().insert(InternalCause(cause));
                res
            }
            _ => status.into_response(),
        };
        res.extensions_mut().insert(PageFailure(status));
        res
    }
}

impl From<AuthError> for PageError {
    fn from(e: AuthError) -> PageError {
        match e {
            // The guards replace this with the page's own path (see pages.rs).
            AuthError::Missing | AuthError::Invalid | AuthError::Disabled => PageError::SignIn {
                next: "/links".into(),
            },
            AuthError::Forbidden { .. } => PageError::Forbidden,
            AuthError::RateLimited { retry_after } => PageError::TooManyAttempts {
                retry_after: retry_after.as_secs().max(1),
            },
            AuthError::Store(e) => PageError::Internal(e.to_string()),
        }
    }
}

impl From<LinkError> for PageError {
    fn from(e: LinkError) -> PageError {
        match e {
            LinkError::NotFound => PageError::NotFound,
            // Forms show refused fields themselves; one reaching here is a bug.
            other => PageError::Internal(other.to_string()),
        }
    }
}

impl From<PresetError> for PageError {
    fn from(e: PresetError) -> PageError {
        match e {
            PresetError::NotFound => PageError::NotFound,
            // Forms show refused fields themselves; one reaching here is a bug.
            other => PageError::Internal(other.to_string()),
        }
    }
}

impl From<UserError> for PageError {
    fn from(e: UserError) -> PageError {
        match e {
            UserError::NotFound => PageError::NotFound,
            other => PageError::Internal(other.to_string()),
        }
    }
}

/// Renders the error page of a `PageError` in the request's language.
pub async fn render_failures(req: Request, next: Next) -> Response {
    let lang = Lang::negotiate(
        req.headers()
            .get(header::ACCEPT_LANGUAGE)
            .and_then(|v| v.to_str().ok()),
    );
    let mut res = next.run(req).await;
    let Some(PageFailure(status)) = res.extensions().get::<PageFailure>().copied() else {
        return res;
    };
    let page = ErrorPage::new(Tr(lang), status);
    let mut rendered = (status, page).into_response();
    // Keep what the failure set (Retry-After, the logged cause).
    if let Some(retry) = res.headers_mut().remove(header::RETRY_AFTER) {
        rendered.headers_mut().insert(header::RETRY_AFTER, retry);
    }
    if let Some(cause) = res.extensions_mut().remove::<InternalCause>() {
        rendered.extensions_mut().insert(cause);
    }
    rendered
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    rendered
}
