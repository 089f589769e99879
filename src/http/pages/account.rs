//! `/account`: what every signed-in user may change about their own
//! account — the password (current, new, confirmation), the UI language
//! (English, French or the browser's) and their own API tokens (list,
//! create — the secret shown once —, revoke). The rules are
//! `users::accounts`'s; this module holds no SQL and never touches another
//! user's account.

use askama::Template;
use askama_web::WebTemplate;
use axum::{
    extract::{Path, State},
    http::StatusCode,
    response::{IntoResponse, Response},
};
use serde::Deserialize;

use super::{
    Chrome, PageForm, SignedIn,
    admin::{
        field_error, field_errors, parse_id,
        tokens::{TokenRow, created_page},
    },
    flash,
};
use crate::{
    http::error::page::PageError,
    i18n::Tr,
    state::AppState,
    users::{
        Language, User, UserError, accounts,
        identity::{Identity, Via},
        store,
    },
};

/// The account page.
#[derive(Template, WebTemplate)]
#[template(path = "account.html")]
pub struct AccountPage {
    t: Tr,
    chrome: Chrome,
    user: User,
    tokens: Vec<TokenRow>,
    errors: Vec<(&'static str, &'static str)>,
}

impl AccountPage {
    /// The message beside a field, if it was refused.
    pub fn error(&self, id: &str) -> Option<&'static str> {
        field_error(&self.errors, id)
    }

    /// The stored language code (`""`: the browser's).
    pub fn language(&self) -> &'static str {
        self.user.language.map(Language::as_str).unwrap_or("")
    }
}

async fn account_page(
    state: &AppState,
    page: SignedIn,
    errors: Vec<(&'static str, &'static str)>,
) -> Result<AccountPage, PageError> {
    let tokens = store::list_tokens(&state.pool, page.user.id).await?;
    let owner = std::slice::from_ref(&page.user);
    Ok(AccountPage {
        t: page.chrome.t,
        tokens: tokens.iter().map(|i| TokenRow::new(i, owner)).collect(),
        chrome: page.chrome.at("account"),
        user: page.user,
        errors,
    })
}

/// `GET /account`.
pub async fn show(State(state): State<AppState>, page: SignedIn) -> Result<AccountPage, PageError> {
    account_page(&state, page, Vec::new()).await
}

/// Body of `POST /account/password`.
#[derive(Debug, Deserialize)]
pub struct PasswordForm {
    #[serde(default)]
    current_password: String,
    new_password: String,
    confirm_password: String,
}

/// `POST /account/password`: this session stays, every other one ends.
pub async fn change_password(
    State(state): State<AppState>,
    page: SignedIn,
    me: Identity,
    PageForm(form): PageForm<PasswordForm>,
) -> Result<Response, PageError> {
    let keep = match me.via {
        Via::Session(id) => Some(id),
        Via::Token(_) => None,
    };
    let t = page.chrome.t;
    let errors = if form.new_password != form.confirm_password {
        vec![("confirm_password", t.get("account.error_confirm"))]
    } else {
        let current = Some(form.current_password.as_str());
        match accounts::change_own_password(
            &state.pool,
            &page.user,
            current,
            &form.new_password,
            keep,
        )
        .await
        {
            Ok(_) => {
                return Ok(flash::redirect(
                    "/account",
                    "flash.account.password_changed",
                    "",
                ));
            }
            Err(UserError::WeakPassword) => vec![("new_password", t.get("admin.error_password"))],
            Err(e) => field_errors(t, vec![e])?,
        }
    };
    let page = account_page(&state, page, errors).await?;
    Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
}

/// Body of `POST /account/language`.
#[derive(Debug, Deserialize)]
pub struct LanguageForm {
    #[serde(default)]
    language: String,
}

/// `POST /account/language`: `en`, `fr` or empty (the browser's).
pub async fn set_language(
    State(state): State<AppState>,
    page: SignedIn,
    PageForm(form): PageForm<LanguageForm>,
) -> Result<Response, PageError> {
    let language = match form.language.as_str() {
        "" => None,
        code => Some(
            code.parse::<Language>()
                .map_err(|_| PageError::BadRequest)?,
        ),
    };
    accounts::set_language(&state.pool, page.user.id, language).await?;
    Ok(flash::redirect(
        "/account",
        "flash.account.language_changed",
        "",
    ))
}

/// Body of `POST /account/tokens`.
#[derive(Debug, Deserialize)]
pub struct TokenForm {
    #[serde(default)]
    name: String,
}

/// `POST /account/tokens`: a token of one's own, its secret shown once.
pub async fn create_token(
    State(state): State<AppState>,
    page: SignedIn,
    PageForm(form): PageForm<TokenForm>,
) -> Result<Response, PageError> {
    match accounts::create_token(&state.pool, &page.user, &form.name).await {
        Ok(created) => Ok(created_page(
            page.chrome.at("account"),
            &page.user,
            created,
            "/account",
        )),
        Err(e @ UserError::InvalidTokenName) => {
            let errors = field_errors(page.chrome.t, vec![e])?;
            let page = account_page(&state, page, errors).await?;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
        }
        Err(e) => Err(e.into()),
    }
}

/// `POST /account/tokens/{id}/revoke`: one's own tokens only.
pub async fn revoke_token(
    State(state): State<AppState>,
    page: SignedIn,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let id = parse_id(&id)?;
    match store::revoke_token(&state.pool, id, Some(page.user.id)).await {
        Ok(()) => Ok(flash::redirect(
            "/account",
            "flash.account.token_revoked",
            "",
        )),
        Err(UserError::TokenNotFound) => Err(PageError::NotFound),
        Err(e) => Err(e.into()),
    }
}
