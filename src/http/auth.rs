//! API authentication: `Authorization: Bearer <token>` → the token's user,
//! and role checks. Tokens are looked up by their SHA-256 hash.

use axum::{extract::FromRequestParts, http::request::Parts};

use super::error::ApiError;
use crate::{
    state::AppState,
    users::{self, Role, User},
};

/// The user behind a valid API token.
#[derive(Debug, Clone)]
pub struct AuthUser(pub User);

impl AuthUser {
    /// Refuses with 403 unless the user has at least `role`.
    pub fn require(&self, role: Role) -> Result<&User, ApiError> {
        if self.0.role >= role {
            Ok(&self.0)
        } else {
            Err(ApiError::new(
                axum::http::StatusCode::FORBIDDEN,
                "forbidden",
                format!("this needs the {role} role; your token has {}", self.0.role),
            ))
        }
    }
}

impl FromRequestParts<AppState> for AuthUser {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let header = parts
            .headers
            .get(axum::http::header::AUTHORIZATION)
            .ok_or_else(|| {
                ApiError::unauthorized("unauthorized", "send Authorization: Bearer <token>")
            })?;
        let token = header
            .to_str()
            .ok()
            .and_then(|h| {
                h.strip_prefix("Bearer ")
                    .or_else(|| h.strip_prefix("bearer "))
            })
            .map(str::trim)
            .filter(|t| !t.is_empty() && t.len() <= 128)
            .ok_or_else(|| {
                ApiError::unauthorized("unauthorized", "send Authorization: Bearer <token>")
            })?;
        let user = users::store::authenticate(&state.pool, &users::token_hash(token))
            .await?
            .ok_or_else(|| {
                ApiError::unauthorized("invalid_token", "this token is unknown or revoked")
            })?;
        Ok(AuthUser(user))
    }
}
