//! The workspace's pages: server-rendered HTML (askama, auto-escaped), one
//! layout, post/redirect/get with flash messages, and the page guards
//! (`SignedIn`, `EditorPage`, `AdminPage`) that send a visitor who is not
//! signed in to the sign-in page. Page handlers call the same domain code
//! as the API (`links::Links`, `users::accounts`) and hold no SQL.
//! Security headers (strict CSP, no framing, nosniff, referrer policy) are
//! set on every page here; cross-site form posts are refused in `http.rs`.

pub mod account;
pub mod admin;
pub mod card;
pub mod dashboard;
pub mod flash;
pub mod form;
pub mod link_list;
pub mod link_view;
pub mod links;
pub mod login;
pub mod presets;
pub mod share;

use askama::Template;
use askama_web::WebTemplate;
use axum::{
    Router,
    extract::FromRequestParts,
    http::{HeaderName, HeaderValue, StatusCode, header, request::Parts},
    middleware,
    routing::{get, post},
};
use tower_http::set_header::SetResponseHeaderLayer;

use super::{assets, error::page::PageError};
use crate::{
    i18n::{Lang, Tr},
    state::AppState,
    users::{Language, Role, User, identity::Identity},
};

/// The page routes, with the pages' layers (error pages, flash, security
/// headers). Built with `Routes`, so each first segment is checked.
pub fn router() -> Router<AppState> {
    super::Routes::new()
        .route("/", get(dashboard::home))
        .route("/campaigns/{name}", get(dashboard::campaign))
        .route("/tags/{name}", get(dashboard::tag))
        .route("/login", get(login::show).post(login::submit))
        .route("/logout", post(login::sign_out))
        .route("/links", get(link_list::list).post(links::create))
        .route("/links/new", get(links::new_form))
        .route("/links/slug-check", get(links::slug_check))
        .route("/links/{id}", get(links::show).post(links::update))
        .route("/links/{id}/edit", get(links::edit_form))
        .route("/links/{id}/enabled", post(links::set_enabled))
        .route(
            "/links/{id}/delete",
            get(links::confirm_delete).post(links::delete),
        )
        .route("/links/{id}/variants", post(share::create_variants))
        .route("/admin/users", get(admin::users).post(admin::create_user))
        .route(
            "/admin/users/{id}",
            get(admin::user).post(admin::change_user),
        )
        .route(
            "/admin/tokens",
            get(admin::tokens::list).post(admin::tokens::create),
        )
        .route("/admin/tokens/{id}/revoke", post(admin::tokens::revoke))
        .route("/account", get(account::show))
        .route("/account/password", post(account::change_password))
        .route("/account/language", post(account::set_language))
        .route("/account/tokens", post(account::create_token))
        .route("/account/tokens/{id}/revoke", post(account::revoke_token))
        .route("/assets/{name}", get(assets::serve))
        .into_router()
        .layer(middleware::from_fn(super::error::page::render_failures))
        .layer(middleware::from_fn(flash::clear_after_showing))
        .layer(header_layer(header::CONTENT_SECURITY_POLICY, CSP))
        .layer(header_layer(header::X_FRAME_OPTIONS, "DENY"))
        .layer(header_layer(header::REFERRER_POLICY, "same-origin"))
        .layer(header_layer(
            HeaderName::from_static("cross-origin-opener-policy"),
            "same-origin",
        ))
}

/// No inline script or style, nothing from another host; images may come
/// from https hosts (a link's preview card image is shown as it will look).
pub const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
    img-src 'self' data: https:; connect-src 'self'; form-action 'self'; \
    frame-ancestors 'none'; base-uri 'none'";

fn header_layer(name: HeaderName, value: &'static str) -> SetResponseHeaderLayer<HeaderValue> {
    SetResponseHeaderLayer::overriding(name, HeaderValue::from_static(value))
}

/// What the layout shows around every page.
#[derive(Debug, Clone)]
pub struct Chrome {
    /// The strings of the page's language.
    pub t: Tr,
    /// The signed-in user, if any.
    pub user: Option<User>,
    /// The message of the last action, shown once.
    pub flash: Option<flash::Flash>,
    /// Which navigation entry is current (`links`, `new`, `admin`, `account`).
    pub section: &'static str,
    /// Stylesheet URL (content-hashed).
    pub css: String,
    /// Script URL (content-hashed).
    pub js: String,
    /// Icon URL (content-hashed).
    pub icon: String,
}

impl Chrome {
    fn new(t: Tr, user: Option<User>, flash: Option<flash::Flash>) -> Chrome {
        Chrome {
            t,
            user,
            flash,
            section: "",
            css: assets::url("app.css"),
            js: assets::url("app.js"),
            icon: assets::url("icon.svg"),
        }
    }

    /// The same chrome with `section` current in the navigation.
    pub fn at(mut self, section: &'static str) -> Chrome {
        self.section = section;
        self
    }

    /// The dashboard's stylesheet URL (content-hashed).
    pub fn dashboard_css(&self) -> String {
        assets::url("dashboard.css")
    }

    /// The dashboard's script URL (content-hashed).
    pub fn dashboard_js(&self) -> String {
        assets::url("dashboard.js")
    }

    /// Whether the signed-in user may change links.
    pub fn can_edit(&self) -> bool {
        self.user.as_ref().is_some_and(|u| u.role >= Role::Editor)
    }

    /// Whether the signed-in user is an admin.
    pub fn is_admin(&self) -> bool {
        self.user.as_ref().is_some_and(|u| u.role >= Role::Admin)
    }

    /// `aria-current` value of a navigation entry.
    pub fn current(&self, section: &str) -> &'static str {
        if self.section == section {
            "page"
        } else {
            "false"
        }
    }
}

/// The language of a request: the user's choice, else `Accept-Language`.
pub fn language(parts: &Parts, user: Option<&User>) -> Lang {
    match user.and_then(|u| u.language) {
        Some(Language::Fr) => Lang::Fr,
        Some(Language::En) => Lang::En,
        None => Lang::negotiate(
            parts
                .headers
                .get(header::ACCEPT_LANGUAGE)
                .and_then(|v| v.to_str().ok()),
        ),
    }
}

/// A visitor who may not be signed in (the sign-in page).
pub struct Guest {
    /// The layout's parts.
    pub chrome: Chrome,
}

impl FromRequestParts<AppState> for Guest {
    type Rejection = PageError;

    async fn from_request_parts(parts: &mut Parts, _: &AppState) -> Result<Self, PageError> {
        let t = Tr(language(parts, None));
        Ok(Guest {
            chrome: Chrome::new(t, None, flash::read(&parts.headers)),
        })
    }
}

/// A signed-in user of any role, with the layout's parts.
pub struct SignedIn {
    /// The user.
    pub user: User,
    /// The layout's parts.
    pub chrome: Chrome,
}

impl FromRequestParts<AppState> for SignedIn {
    type Rejection = PageError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, PageError> {
        // Pages sign in with the session cookie only: a page is never
        // opened with an API token.
        parts.headers.remove(header::AUTHORIZATION);
        let id = Identity::from_request_parts(parts, state).await.map_err(
            |e| match PageError::from(e) {
                PageError::SignIn { .. } => PageError::SignIn {
                    next: return_path(parts),
                },
                other => other,
            },
        )?;
        let t = Tr(language(parts, Some(&id.user)));
        let chrome = Chrome::new(t, Some(id.user.clone()), flash::read(&parts.headers));
        Ok(SignedIn {
            user: id.user,
            chrome,
        })
    }
}

/// The path (and query) of a GET to come back to after signing in; the
/// link list for anything else.
fn return_path(parts: &Parts) -> String {
    if parts.method != axum::http::Method::GET {
        return "/links".into();
    }
    parts
        .uri
        .path_and_query()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_else(|| "/links".into())
}

/// Declares a page guard: a signed-in user with at least that role.
macro_rules! page_guard {
    ($(#[$doc:meta])* $name:ident, $role:expr) => {
        $(#[$doc])*
        pub struct $name(pub SignedIn);

        impl FromRequestParts<AppState> for $name {
            type Rejection = PageError;

            async fn from_request_parts(
                parts: &mut Parts,
                state: &AppState,
            ) -> Result<Self, PageError> {
                let signed = SignedIn::from_request_parts(parts, state).await?;
                if signed.user.role < $role {
                    return Err(PageError::Forbidden);
                }
                Ok($name(signed))
            }
        }
    };
}

page_guard!(
    /// An editor or admin: may change links.
    EditorPage,
    Role::Editor
);
page_guard!(
    /// An admin: may manage users and tokens.
    AdminPage,
    Role::Admin
);

/// `Form<T>` whose rejection (not a form, a field missing, a NUL character)
/// is a 400 page.
pub struct PageForm<T>(pub T);

impl<S: Send + Sync, T: serde::de::DeserializeOwned> axum::extract::FromRequest<S> for PageForm<T> {
    type Rejection = PageError;

    async fn from_request(req: axum::extract::Request, state: &S) -> Result<Self, PageError> {
        // A NUL would reach PostgreSQL, which refuses it in text.
        let (parts, body) = req.into_parts();
        let read = axum::extract::Request::from_parts(parts.clone(), body);
        let bytes = axum::body::Bytes::from_request(read, state)
            .await
            .map_err(|_| PageError::BadRequest)?;
        if super::guard::nul_in_query(&String::from_utf8_lossy(&bytes)).is_some() {
            return Err(PageError::BadRequest);
        }
        let req = axum::extract::Request::from_parts(parts, axum::body::Body::from(bytes));
        axum::Form::<T>::from_request(req, state)
            .await
            .map(|axum::Form(v)| PageForm(v))
            .map_err(|_| PageError::BadRequest)
    }
}

/// 401/403/404/429/500 pages of the workspace.
#[derive(Template, WebTemplate)]
#[template(path = "errors/page.html")]
pub struct ErrorPage {
    t: Tr,
    chrome: Chrome,
    /// The status code shown.
    code: u16,
    /// Catalogue key prefix of the title and text (`error.404`).
    key: &'static str,
}

impl ErrorPage {
    /// The error page of a status.
    pub fn new(t: Tr, status: StatusCode) -> ErrorPage {
        let key = match status.as_u16() {
            403 => "error.403",
            404 => "error.404",
            400 => "error.400",
            429 => "error.429",
            _ => "error.500",
        };
        ErrorPage {
            t,
            chrome: Chrome::new(t, None, None),
            code: status.as_u16(),
            key,
        }
    }

    /// The page's title.
    pub fn title(&self) -> &'static str {
        self.t.get(&format!("{}.title", self.key))
    }

    /// The page's text.
    pub fn text(&self) -> &'static str {
        self.t.get(&format!("{}.text", self.key))
    }
}
