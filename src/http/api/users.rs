//! `/api/v1/users` (admins: list, create, read, change role, disable or
//! enable, language, password reset) and `/api/v1/me` (any active user: read
//! oneself, change one's own language and password). Handlers parse, call
//! `users::accounts`, and map the result; the role guards decide who may call.

use axum::{
    Json,
    extract::{Path, State},
    http::StatusCode,
};
use serde::{Deserialize, Deserializer, Serialize};
use time::OffsetDateTime;
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

use super::openapi::ErrorBody;
use crate::{
    http::{
        auth::{Admin, Identity},
        error::ApiError,
        extract::AppJson,
    },
    state::AppState,
    users::{
        Language, Role, User, UserError, accounts,
        identity::Via,
        input::{NewUser, UserPatch},
        store,
    },
};

/// Routes of the users resource and of `/me`.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_users, create_user))
        .routes(routes!(find_user, update_user))
        .routes(routes!(find_me, update_me))
}

/// A user as the API shows it (never a password hash).
#[derive(Debug, Serialize, ToSchema)]
pub struct UserResponse {
    id: i64,
    email: String,
    role: Role,
    language: Option<Language>,
    disabled: bool,
    #[serde(with = "time::serde::rfc3339::option")]
    disabled_at: Option<OffsetDateTime>,
    has_password: bool,
    #[serde(with = "time::serde::rfc3339")]
    created_at: OffsetDateTime,
}

impl From<User> for UserResponse {
    fn from(u: User) -> UserResponse {
        UserResponse {
            id: u.id,
            disabled: u.disabled_at.is_some(),
            email: u.email,
            role: u.role,
            language: u.language,
            disabled_at: u.disabled_at,
            has_password: u.has_password,
            created_at: u.created_at,
        }
    }
}

/// `{"data": [...]}` of `GET /api/v1/users`.
#[derive(Debug, Serialize, ToSchema)]
pub struct UserListResponse {
    data: Vec<UserResponse>,
}

/// Body of `POST /api/v1/users`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateUserRequest {
    email: Option<String>,
    role: Option<String>,
    password: Option<String>,
    language: Option<String>,
}

/// Body of `PATCH /api/v1/users/{id}`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateUserRequest {
    role: Option<String>,
    disabled: Option<bool>,
    #[serde(default, deserialize_with = "present")]
    language: Option<Option<String>>,
    password: Option<String>,
}

/// Body of `PATCH /api/v1/me`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateMeRequest {
    #[serde(default, deserialize_with = "present")]
    language: Option<Option<String>>,
    password: Option<String>,
    current_password: Option<String>,
}

/// A present field (even `null`) becomes `Some(..)`; an absent one stays `None`.
fn present<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
    d: D,
) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(d).map(Some)
}

/// Lists every user (admins).
#[utoipa::path(get, path = "/users", tag = "users",
    responses(
        (status = 200, description = "Every user", body = UserListResponse),
        (status = 401, description = "No or bad credential", body = ErrorBody),
        (status = 403, description = "Admins only", body = ErrorBody),
    ))]
async fn list_users(
    State(state): State<AppState>,
    _: Admin,
) -> Result<Json<UserListResponse>, ApiError> {
    let users = store::list(&state.pool).await?;
    let data = users.into_iter().map(UserResponse::from).collect();
    Ok(Json(UserListResponse { data }))
}

/// Creates a user (admins); without a password, the user signs in once an admin sets one.
#[utoipa::path(post, path = "/users", tag = "users",
    request_body = CreateUserRequest,
    responses(
        (status = 201, description = "The user created", body = UserResponse),
        (status = 400, description = "Malformed JSON", body = ErrorBody),
        (status = 401, description = "No or bad credential", body = ErrorBody),
        (status = 403, description = "Admins only", body = ErrorBody),
        (status = 409, description = "The e-mail address is taken", body = ErrorBody),
        (status = 422, description = "A refused field, named in `field`", body = ErrorBody),
    ))]
async fn create_user(
    State(state): State<AppState>,
    _: Admin,
    AppJson(req): AppJson<CreateUserRequest>,
) -> Result<(StatusCode, Json<UserResponse>), ApiError> {
    let new = NewUser::parse(
        req.email.as_deref().unwrap_or_default(),
        req.role.as_deref().unwrap_or_default(),
        req.password.as_deref(),
        req.language.as_deref(),
    )?;
    let user = accounts::create_user(&state.pool, new).await?;
    Ok((StatusCode::CREATED, Json(user.into())))
}

/// Reads a user (admins).
#[utoipa::path(get, path = "/users/{id}", tag = "users",
    params(("id" = i64, Path, description = "User id")),
    responses(
        (status = 200, description = "The user", body = UserResponse),
        (status = 401, description = "No or bad credential", body = ErrorBody),
        (status = 403, description = "Admins only", body = ErrorBody),
        (status = 404, description = "No such user", body = ErrorBody),
    ))]
async fn find_user(
    State(state): State<AppState>,
    _: Admin,
    Path(id): Path<String>,
) -> Result<Json<UserResponse>, ApiError> {
    let user = store::find(&state.pool, parse_id(&id)?).await?;
    Ok(Json(user.into()))
}

/// Changes a user's role, language or password, or disables or enables them (admins).
#[utoipa::path(patch, path = "/users/{id}", tag = "users",
    params(("id" = i64, Path, description = "User id")),
    request_body = UpdateUserRequest,
    responses(
        (status = 200, description = "The user changed", body = UserResponse),
        (status = 400, description = "Malformed JSON", body = ErrorBody),
        (status = 401, description = "No or bad credential", body = ErrorBody),
        (status = 403, description = "Admins only", body = ErrorBody),
        (status = 404, description = "No such user", body = ErrorBody),
        (status = 409, description = "The last active admin cannot be demoted or disabled", body = ErrorBody),
        (status = 422, description = "A refused field, named in `field`", body = ErrorBody),
    ))]
async fn update_user(
    State(state): State<AppState>,
    _: Admin,
    Path(id): Path<String>,
    AppJson(req): AppJson<UpdateUserRequest>,
) -> Result<Json<UserResponse>, ApiError> {
    let id = parse_id(&id)?;
    let patch = UserPatch::parse(
        req.role.as_deref(),
        req.disabled,
        req.language.as_ref().map(Option::as_deref),
        req.password.as_deref(),
    )?;
    let user = accounts::update_user(&state.pool, id, patch).await?;
    Ok(Json(user.into()))
}

/// The caller.
#[utoipa::path(get, path = "/me", tag = "me",
    responses(
        (status = 200, description = "The caller", body = UserResponse),
        (status = 401, description = "No or bad credential", body = ErrorBody),
    ))]
async fn find_me(me: Identity) -> Json<UserResponse> {
    Json(me.user.into())
}

/// Changes the caller's language, or password (with the current one).
#[utoipa::path(patch, path = "/me", tag = "me",
    request_body = UpdateMeRequest,
    responses(
        (status = 200, description = "The caller changed", body = UserResponse),
        (status = 400, description = "Malformed JSON", body = ErrorBody),
        (status = 401, description = "No or bad credential", body = ErrorBody),
        (status = 422, description = "A refused field (a wrong current password included), named in `field`", body = ErrorBody),
    ))]
async fn update_me(
    State(state): State<AppState>,
    me: Identity,
    AppJson(req): AppJson<UpdateMeRequest>,
) -> Result<Json<UserResponse>, ApiError> {
    let patch = UserPatch::parse(
        None,
        None,
        req.language.as_ref().map(Option::as_deref),
        None,
    )?;
    let mut user = me.user;
    // The password first: a wrong current password changes nothing.
    if let Some(password) = req.password {
        let keep = match me.via {
            Via::Session(id) => Some(id),
            Via::Token(_) => None,
        };
        let current = req.current_password.as_deref();
        user = accounts::change_own_password(&state.pool, &user, current, &password, keep).await?;
    } else if req.current_password.is_some() {
        return Err(UserError::WeakPassword.into());
    }
    if let Some(language) = patch.language {
        user = accounts::set_language(&state.pool, user.id, language).await?;
    }
    Ok(Json(user.into()))
}

/// User ids are positive integers; anything else cannot exist.
fn parse_id(raw: &str) -> Result<i64, ApiError> {
    raw.parse::<i64>()
        .ok()
        .filter(|id| *id > 0)
        .ok_or_else(|| ApiError::not_found("user"))
}
