//! `/admin/users`: an admin's page of the accounts — the users table, a form
//! to add a user, and per user a page to change the role, disable or enable
//! the account and reset its password. Every rule (the last active admin,
//! sessions ending on a disable or a new password) is `users::accounts`'s;
//! this module only reads forms, calls it and renders. It holds no SQL.

pub mod tokens;

use askama::Template;
use askama_web::WebTemplate;
use axum::{
    extract::{Path, State},
    http::StatusCode,
    response::{IntoResponse, Response},
};
use serde::Deserialize;
use sqlx::PgPool;

use super::{AdminPage, Chrome, PageForm, flash};
use crate::{
    http::error::page::PageError,
    i18n::Tr,
    state::AppState,
    users::{
        Role, User, UserError, accounts,
        input::{NewUser, UserPatch},
        store,
    },
};

/// The users table and the form to add one.
#[derive(Template, WebTemplate)]
#[template(path = "admin/users.html")]
pub struct UsersPage {
    t: Tr,
    chrome: Chrome,
    users: Vec<UserRow>,
    form: NewUserForm,
    /// Refused fields: (field id, message).
    errors: Vec<(&'static str, &'static str)>,
}

impl UsersPage {
    /// The message beside a field, if it was refused.
    pub fn error(&self, id: &str) -> Option<&'static str> {
        field_error(&self.errors, id)
    }

    /// The role menu: (value, label), least power first.
    pub fn roles(&self) -> [(&'static str, &'static str); 3] {
        roles(self.t)
    }
}

/// A user as a row of the table.
#[derive(Debug, Clone)]
pub struct UserRow {
    /// User id.
    pub id: i64,
    /// E-mail.
    pub email: String,
    /// The role's name in the page's language.
    pub role: &'static str,
    /// Not disabled.
    pub active: bool,
    /// Signs in with a password.
    pub has_password: bool,
    /// Creation day.
    pub created: String,
}

impl UserRow {
    fn new(u: &User, t: Tr) -> UserRow {
        let day = time::macros::format_description!("[year]-[month]-[day]");
        UserRow {
            id: u.id,
            email: u.email.clone(),
            role: role_name(t, u.role),
            active: u.is_active(),
            has_password: u.has_password,
            created: u.created_at.format(day).unwrap_or_default(),
        }
    }
}

/// A role's name in the page's language.
pub fn role_name(t: Tr, role: Role) -> &'static str {
    match role {
        Role::Viewer => t.get("admin.role_viewer"),
        Role::Editor => t.get("admin.role_editor"),
        Role::Admin => t.get("admin.role_admin"),
    }
}

fn roles(t: Tr) -> [(&'static str, &'static str); 3] {
    [Role::Viewer, Role::Editor, Role::Admin].map(|r| (r.as_str(), role_name(t, r)))
}

/// Body of `POST /admin/users`.
#[derive(Debug, Default, Deserialize)]
pub struct NewUserForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    role: String,
    #[serde(default)]
    password: String,
}

/// `GET /admin/users`.
pub async fn users(
    State(state): State<AppState>,
    AdminPage(page): AdminPage,
) -> Result<UsersPage, PageError> {
    users_page(&state.pool, page.chrome, NewUserForm::default(), Vec::new()).await
}

/// `POST /admin/users`: adds the user, or shows the form with every error.
pub async fn create_user(
    State(state): State<AppState>,
    AdminPage(page): AdminPage,
    PageForm(form): PageForm<NewUserForm>,
) -> Result<Response, PageError> {
    let password = Some(form.password.as_str()).filter(|p| !p.is_empty());
    let created = match NewUser::parse(&form.email, &form.role, password, None) {
        Ok(new) => accounts::create_user(&state.pool, new)
            .await
            .map_err(|e| vec![e]),
        Err(errors) => Err(errors),
    };
    match created {
        Ok(user) => Ok(flash::redirect(
            "/admin/users",
            "flash.admin.user_added",
            &user.email,
        )),
        Err(errors) => {
            let errors = field_errors(page.chrome.t, errors)?;
            let page = users_page(&state.pool, page.chrome, form, errors).await?;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
        }
    }
}

async fn users_page(
    pool: &PgPool,
    chrome: Chrome,
    form: NewUserForm,
    errors: Vec<(&'static str, &'static str)>,
) -> Result<UsersPage, PageError> {
    let t = chrome.t;
    Ok(UsersPage {
        t,
        chrome: chrome.at("admin"),
        users: store::list(pool)
            .await?
            .iter()
            .map(|u| UserRow::new(u, t))
            .collect(),
        form,
        errors,
    })
}

/// One user's page: role, state, password reset.
#[derive(Template, WebTemplate)]
#[template(path = "admin/user.html")]
pub struct UserPage {
    t: Tr,
    chrome: Chrome,
    user: User,
    errors: Vec<(&'static str, &'static str)>,
}

impl UserPage {
    /// The message beside a field, if it was refused.
    pub fn error(&self, id: &str) -> Option<&'static str> {
        field_error(&self.errors, id)
    }

    /// The role menu: (value, label), least power first.
    pub fn roles(&self) -> [(&'static str, &'static str); 3] {
        roles(self.t)
    }
}

/// `GET /admin/users/{id}`.
pub async fn user(
    State(state): State<AppState>,
    AdminPage(page): AdminPage,
    Path(id): Path<String>,
) -> Result<UserPage, PageError> {
    let user = store::find(&state.pool, parse_id(&id)?).await?;
    Ok(user_page(page.chrome, user, Vec::new()))
}

fn user_page(chrome: Chrome, user: User, errors: Vec<(&'static str, &'static str)>) -> UserPage {
    UserPage {
        t: chrome.t,
        chrome: chrome.at("admin"),
        user,
        errors,
    }
}

/// Body of the forms of a user's page (each sends one of the fields).
#[derive(Debug, Deserialize)]
pub struct ChangeForm {
    role: Option<String>,
    enabled: Option<bool>,
    password: Option<String>,
}

/// `POST /admin/users/{id}`: one change (role, enabled or password), then
/// back to the user's page with a flash, or the page with the refusal.
pub async fn change_user(
    State(state): State<AppState>,
    AdminPage(page): AdminPage,
    Path(id): Path<String>,
    PageForm(form): PageForm<ChangeForm>,
) -> Result<Response, PageError> {
    let id = parse_id(&id)?;
    let flash_key = match (&form.role, form.enabled, &form.password) {
        (Some(_), _, _) => "flash.admin.role_changed",
        (_, Some(true), _) => "flash.admin.enabled",
        (_, Some(false), _) => "flash.admin.disabled",
        (_, _, Some(_)) => "flash.admin.password_reset",
        _ => return Err(PageError::BadRequest),
    };
    let disabled = form.enabled.map(|e| !e);
    let changed = match UserPatch::parse(
        form.role.as_deref(),
        disabled,
        None,
        form.password.as_deref(),
    ) {
        Ok(patch) => accounts::update_user(&state.pool, id, patch)
            .await
            .map_err(|e| vec![e]),
        Err(errors) => Err(errors),
    };
    match changed {
        Ok(user) => Ok(flash::redirect(
            &format!("/admin/users/{id}"),
            flash_key,
            &user.email,
        )),
        Err(errors) => {
            let errors = field_errors(page.chrome.t, errors)?;
            let user = store::find(&state.pool, id).await?;
            let page = user_page(page.chrome, user, errors);
            Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
        }
    }
}

/// The field and message of each refusal; anything that is not about a
/// field (the database, a missing user) is the page's error instead.
pub fn field_errors(
    t: Tr,
    errors: Vec<UserError>,
) -> Result<Vec<(&'static str, &'static str)>, PageError> {
    errors
        .into_iter()
        .map(|e| {
            let message = match &e {
                UserError::InvalidEmail(_) => t.get("admin.error_email"),
                UserError::EmailTaken => t.get("admin.error_email_taken"),
                UserError::InvalidRole(_) => t.get("admin.error_role"),
                UserError::WeakPassword => t.get("admin.error_password"),
                UserError::WrongPassword => t.get("admin.error_current_password"),
                UserError::InvalidTokenName => t.get("admin.error_token_name"),
                UserError::InvalidLanguage(_) => t.get("admin.error_language"),
                UserError::LastAdmin { field: "role" } => t.get("admin.error_last_admin_role"),
                UserError::LastAdmin { .. } => t.get("admin.error_last_admin_disabled"),
                _ => return Err(PageError::from(e)),
            };
            Ok((e.field().unwrap_or("form"), message))
        })
        .collect()
}

/// The message of `id` among refused fields.
pub fn field_error(errors: &[(&'static str, &'static str)], id: &str) -> Option<&'static str> {
    errors.iter().find(|(f, _)| *f == id).map(|(_, m)| *m)
}

/// Ids are positive integers; anything else cannot exist.
pub fn parse_id(raw: &str) -> Result<i64, PageError> {
    raw.parse::<i64>()
        .ok()
        .filter(|id| *id > 0)
        .ok_or(PageError::NotFound)
}
