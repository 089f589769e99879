//! `/api/v1/tokens`: API tokens. Every active user lists, creates and
//! revokes their own; an admin sees and revokes everyone's and may create
//! one for another user (`user_id`). A token's secret appears once, in the
//! creation response. Another user's token is "not found" to a non-admin.

use axum::{
    Json,
    extract::{Path, State},
    http::StatusCode,
};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::{router::OpenApiRouter, routes};

use super::openapi::ErrorBody;
use crate::{
    http::{
        auth::Viewer,
        error::ApiError,
        extract::{AppJson, AppQuery},
    },
    state::AppState,
    users::{
        Role, User, UserError, accounts,
        store::{self, TokenInfo},
    },
};

/// Routes of the tokens resource.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_tokens, create_token))
        .routes(routes!(delete_token))
}

/// A token as listed (never the secret).
#[derive(Debug, Serialize, ToSchema)]
pub struct TokenResponse {
    id: i64,
    user_id: i64,
    name: String,
    prefix: String,
    revoked: bool,
    #[serde(with = "time::serde::rfc3339")]
    created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339::option")]
    last_used_at: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339::option")]
    revoked_at: Option<OffsetDateTime>,
}

impl From<TokenInfo> for TokenResponse {
    fn from(t: TokenInfo) -> TokenResponse {
        TokenResponse {
            id: t.id,
            user_id: t.user_id,
            name: t.name,
            prefix: t.prefix,
            revoked: t.revoked,
            created_at: t.created_at,
            last_used_at: t.last_used_at,
            revoked_at: t.revoked_at,
        }
    }
}

/// `{"data": [...]}` of `GET /api/v1/tokens`.
#[derive(Debug, Serialize, ToSchema)]
pub struct TokenListResponse {
    data: Vec<TokenResponse>,
}

/// The answer to a creation: the listing plus the secret, shown once.
#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedTokenResponse {
    #[serde(flatten)]
    token: TokenResponse,
    secret: String,
}

/// Query of `GET /api/v1/tokens`.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListTokensQuery {
    /// Admins: one user's tokens (default: everyone's). Others: only their own id.
    user_id: Option<i64>,
}

/// Body of `POST /api/v1/tokens`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateTokenRequest {
    #[serde(default)]
    name: String,
    /// Admins only: the owner (default: the caller).
    user_id: Option<i64>,
}

/// Lists tokens: one's own, or (admins) everyone's or one user's. Never a secret.
#[utoipa::path(get, path = "/tokens", tag = "tokens",
    params(ListTokensQuery),
    responses(
        (status = 200, description = "The tokens", body = TokenListResponse),
        (status = 400, description = "A bad or unknown parameter", body = ErrorBody),
        (status = 401, description = "No or bad credential", body = ErrorBody),
        (status = 403, description = "Only an admin may list another user's tokens", body = ErrorBody),
    ))]
async fn list_tokens(
    State(state): State<AppState>,
    Viewer(me): Viewer,
    AppQuery(q): AppQuery<ListTokensQuery>,
) -> Result<Json<TokenListResponse>, ApiError> {
    let of = match (me.role, q.user_id) {
        (Role::Admin, any) => any,
        (_, None) => Some(me.id),
        (_, Some(id)) if id == me.id => Some(id),
        (_, Some(_)) => return Err(forbidden_other_user()),
    };
    let tokens = store::list_tokens_of(&state.pool, of).await?;
    let data = tokens.into_iter().map(TokenResponse::from).collect();
    Ok(Json(TokenListResponse { data }))
}

/// Creates a token, for oneself or (admins) another user; the secret is shown this once.
#[utoipa::path(post, path = "/tokens", tag = "tokens",
    request_body = CreateTokenRequest,
    responses(
        (status = 201, description = "The token, with its secret", body = CreatedTokenResponse),
        (status = 400, description = "Malformed JSON", body = ErrorBody),
        (status = 401, description = "No or bad credential", body = ErrorBody),
        (status = 403, description = "Only an admin may create a token for another user", body = ErrorBody),
        (status = 422, description = "A bad name or an unknown user, named in `field`", body = ErrorBody),
    ))]
async fn create_token(
    State(state): State<AppState>,
    Viewer(me): Viewer,
    AppJson(req): AppJson<CreateTokenRequest>,
) -> Result<(StatusCode, Json<CreatedTokenResponse>), ApiError> {
    let owner = owner_for(&state, &me, req.user_id).await?;
    let created = accounts::create_token(&state.pool, &owner, &req.name).await?;
    let body = CreatedTokenResponse {
        token: created.info.into(),
        secret: created.secret,
    };
    Ok((StatusCode::CREATED, Json(body)))
}

/// Revokes a token: one's own, or (admins) anyone's.
#[utoipa::path(delete, path = "/tokens/{id}", tag = "tokens",
    params(("id" = i64, Path, description = "Token id")),
    responses(
        (status = 204, description = "Revoked"),
        (status = 401, description = "No or bad credential", body = ErrorBody),
        (status = 404, description = "No such token (another user's, to a non-admin)", body = ErrorBody),
    ))]
async fn delete_token(
    State(state): State<AppState>,
    Viewer(me): Viewer,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let id = id
        .parse::<i64>()
        .ok()
        .filter(|id| *id > 0)
        .ok_or_else(|| ApiError::not_found("token"))?;
    let owner = (me.role != Role::Admin).then_some(me.id);
    store::revoke_token(&state.pool, id, owner).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The caller, or (admins only) the user named by `user_id`.
async fn owner_for(state: &AppState, me: &User, user_id: Option<i64>) -> Result<User, ApiError> {
    match user_id {
        None => Ok(me.clone()),
        Some(id) if id == me.id => Ok(me.clone()),
        Some(_) if me.role != Role::Admin => Err(forbidden_other_user()),
        Some(id) => match store::find(&state.pool, id).await {
            Err(UserError::NotFound) => Err(ApiError::invalid(
                "user_id",
                "unknown_user",
                "no user with this id",
            )),
            found => Ok(found?),
        },
    }
}

fn forbidden_other_user() -> ApiError {
    ApiError::new(
        StatusCode::FORBIDDEN,
        "forbidden",
        "only an admin may manage another user's tokens",
    )
    .field("user_id")
}
