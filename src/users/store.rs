//! SQL of the `users` and `api_tokens` tables.

use sqlx::PgPool;

use super::{NewToken, Role, User, UserError};

type UserRow = (i64, String, String);

fn to_user((id, email, role): UserRow) -> User {
    // The check constraint on users.role guarantees a known role.
    let role = role.parse().unwrap_or(Role::Viewer);
    User { id, email, role }
}

/// Creates a user; a duplicate e-mail (any case) is `EmailTaken`.
#[tracing::instrument(skip_all)]
pub async fn create(
    pool: &PgPool,
    email: &str,
    role: Role,
    password_hash: Option<&str>,
) -> Result<User, UserError> {
    sqlx::query_as::<_, UserRow>(
        "insert into users (email, role, password_hash) values ($1, $2, $3) returning id, email, role",
    )
    .bind(email)
    .bind(role.as_str())
    .bind(password_hash)
    .fetch_one(pool)
    .await
    .map(to_user)
    .map_err(|e| match &e {
        sqlx::Error::Database(db) if db.constraint() == Some("users_email_key") => UserError::EmailTaken,
        _ => UserError::Database(e),
    })
}

/// A user by e-mail (any case).
#[tracing::instrument(skip_all)]
pub async fn find_by_email(pool: &PgPool, email: &str) -> Result<User, UserError> {
    sqlx::query_as::<_, UserRow>("select id, email, role from users where lower(email) = lower($1)")
        .bind(email)
        .fetch_optional(pool)
        .await?
        .map(to_user)
        .ok_or(UserError::NotFound)
}

/// How many users exist (zero on a first start).
#[tracing::instrument(skip_all)]
pub async fn count(pool: &PgPool) -> Result<i64, UserError> {
    Ok(sqlx::query_scalar("select count(*) from users")
        .fetch_one(pool)
        .await?)
}

/// Stores a new token for a user; returns its id.
#[tracing::instrument(skip_all, fields(user.id = user_id))]
pub async fn insert_token(
    pool: &PgPool,
    user_id: i64,
    name: &str,
    token: &NewToken,
) -> Result<i64, UserError> {
    Ok(sqlx::query_scalar(
        "insert into api_tokens (user_id, name, token_hash, prefix) values ($1, $2, $3, $4) returning id",
    )
    .bind(user_id)
    .bind(name)
    .bind(&token.hash)
    .bind(&token.prefix)
    .fetch_one(pool)
    .await?)
}

/// The user a live token belongs to, marking the token as used.
#[tracing::instrument(skip_all)]
pub async fn authenticate(pool: &PgPool, token_hash: &[u8]) -> Result<Option<User>, UserError> {
    Ok(sqlx::query_as::<_, UserRow>(
        "with t as (update api_tokens set last_used_at = now() \
                    where token_hash = $1 and revoked_at is null returning user_id) \
         select u.id, u.email, u.role from users u join t on t.user_id = u.id",
    )
    .bind(token_hash)
    .fetch_optional(pool)
    .await?
    .map(to_user))
}

/// One token of a user, as listed (never the secret).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct TokenInfo {
    /// Token id.
    pub id: i64,
    /// Name given at creation.
    pub name: String,
    /// First characters of the secret.
    pub prefix: String,
    /// Whether it was revoked.
    pub revoked: bool,
}

/// The tokens of a user, newest first.
#[tracing::instrument(skip_all, fields(user.id = user_id))]
pub async fn list_tokens(pool: &PgPool, user_id: i64) -> Result<Vec<TokenInfo>, UserError> {
    Ok(sqlx::query_as(
        "select id, name, prefix, revoked_at is not null as revoked from api_tokens \
         where user_id = $1 order by id desc",
    )
    .bind(user_id)
    .fetch_all(pool)
    .await?)
}

/// Revokes a token; it stops authenticating at once.
#[tracing::instrument(skip_all, fields(token.id = id))]
pub async fn revoke_token(pool: &PgPool, id: i64) -> Result<(), UserError> {
    let done = sqlx::query(
        "update api_tokens set revoked_at = now() where id = $1 and revoked_at is null",
    )
    .bind(id)
    .execute(pool)
    .await?;
    if done.rows_affected() == 0 {
        return Err(UserError::NotFound);
    }
    Ok(())
}
