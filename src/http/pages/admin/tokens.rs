//! `/admin/tokens`: every API token (owner, name, prefix, state), creating
//! one for any user and revoking any. The secret of a new token is shown
//! once, on the page that answers the creation (never in a flash cookie,
//! never stored). The account page reuses the token rows and that page for
//! a user's own tokens. Rules are `users::accounts`'s; no SQL here.

use askama::Template;
use askama_web::WebTemplate;
use axum::{
    extract::{Path, State},
    http::{HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use serde::Deserialize;
use sqlx::PgPool;
use time::macros::format_description;

use super::{field_error, field_errors, parse_id};
use crate::{
    http::{
        error::page::PageError,
        pages::{AdminPage, Chrome, PageForm, flash},
    },
    i18n::Tr,
    state::AppState,
    users::{
        User, UserError,
        accounts::{self, CreatedToken},
        store::{self, TokenInfo},
    },
};

/// A token as a row of a table.
#[derive(Debug, Clone)]
pub struct TokenRow {
    /// Token id.
    pub id: i64,
    /// The owner's e-mail.
    pub owner: String,
    /// Name given at creation.
    pub name: String,
    /// First characters of the secret.
    pub prefix: String,
    /// Creation day.
    pub created: String,
    /// Whether it was revoked.
    pub revoked: bool,
}

impl TokenRow {
    /// The row of `info`, owned by one of `users`.
    pub fn new(info: &TokenInfo, users: &[User]) -> TokenRow {
        let day = format_description!("[year]-[month]-[day]");
        TokenRow {
            id: info.id,
            owner: users
                .iter()
                .find(|u| u.id == info.user_id)
                .map(|u| u.email.clone())
                .unwrap_or_default(),
            name: info.name.clone(),
            prefix: info.prefix.clone(),
            created: info.created_at.format(day).unwrap_or_default(),
            revoked: info.revoked,
        }
    }
}

/// Every token, and the form to create one.
#[derive(Template, WebTemplate)]
#[template(path = "admin/tokens.html")]
pub struct TokensPage {
    t: Tr,
    chrome: Chrome,
    users: Vec<User>,
    tokens: Vec<TokenRow>,
    name: String,
    errors: Vec<(&'static str, &'static str)>,
}

impl TokensPage {
    /// The message beside a field, if it was refused.
    pub fn error(&self, id: &str) -> Option<&'static str> {
        field_error(&self.errors, id)
    }
}

/// `GET /admin/tokens`.
pub async fn list(
    State(state): State<AppState>,
    AdminPage(page): AdminPage,
) -> Result<TokensPage, PageError> {
    tokens_page(&state.pool, page.chrome, String::new(), Vec::new()).await
}

async fn tokens_page(
    pool: &PgPool,
    chrome: Chrome,
    name: String,
    errors: Vec<(&'static str, &'static str)>,
) -> Result<TokensPage, PageError> {
    let users = store::list(pool).await?;
    let tokens = store::list_tokens_of(pool, None).await?;
    Ok(TokensPage {
        t: chrome.t,
        chrome: chrome.at("admin"),
        tokens: tokens.iter().map(|i| TokenRow::new(i, &users)).collect(),
        users,
        name,
        errors,
    })
}

/// Body of `POST /admin/tokens`.
#[derive(Debug, Deserialize)]
pub struct NewTokenForm {
    user_id: i64,
    #[serde(default)]
    name: String,
}

/// `POST /admin/tokens`: creates a token for a user and shows its secret once.
pub async fn create(
    State(state): State<AppState>,
    AdminPage(page): AdminPage,
    PageForm(form): PageForm<NewTokenForm>,
) -> Result<Response, PageError> {
    let owner = store::find(&state.pool, form.user_id).await?;
    match accounts::create_token(&state.pool, &owner, &form.name).await {
        Ok(created) => Ok(created_page(
            page.chrome.at("admin"),
            &owner,
            created,
            "/admin/tokens",
        )),
        Err(e @ UserError::InvalidTokenName) => {
            let errors = field_errors(page.chrome.t, vec![e])?;
            let page = tokens_page(&state.pool, page.chrome, form.name, errors).await?;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
        }
        Err(e) => Err(e.into()),
    }
}

/// `POST /admin/tokens/{id}/revoke`.
pub async fn revoke(
    State(state): State<AppState>,
    AdminPage(_): AdminPage,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let id = parse_id(&id)?;
    let info = store::find_token(&state.pool, id)
        .await
        .map_err(|_| PageError::NotFound)?;
    match store::revoke_token(&state.pool, id, None).await {
        Ok(()) | Err(UserError::TokenNotFound) => Ok(flash::redirect(
            "/admin/tokens",
            "flash.admin.token_revoked",
            &info.name,
        )),
        Err(e) => Err(e.into()),
    }
}

/// The page that shows a new token's secret, this once.
#[derive(Template, WebTemplate)]
#[template(path = "admin/token_created.html")]
pub struct TokenCreatedPage {
    t: Tr,
    chrome: Chrome,
    owner: String,
    name: String,
    secret: String,
    /// Where "Done" goes.
    back: &'static str,
}

/// The secret's page, never cached.
pub fn created_page(
    chrome: Chrome,
    owner: &User,
    created: CreatedToken,
    back: &'static str,
) -> Response {
    let page = TokenCreatedPage {
        t: chrome.t,
        chrome,
        owner: owner.email.clone(),
        name: created.info.name,
        secret: created.secret,
        back,
    };
    let mut res = page.into_response();
    res.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    res
}
