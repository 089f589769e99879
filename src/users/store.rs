//! SQL of the `users` and `api_tokens` tables. Each function is one
//! statement or one explicit transaction; the last-admin rule is checked
//! here, under row locks, so that two admins demoting each other at once
//! cannot both succeed.

use sqlx::{PgPool, Postgres, Transaction};
use time::OffsetDateTime;

use super::{Language, NewToken, Role, User, UserError};

/// The columns of a [`User`], from `users u`.
macro_rules! user_columns {
    () => {
        "u.id, u.email, u.role, u.language, u.disabled_at, \
         u.password_hash is not null as has_password, u.created_at"
    };
}
pub(crate) use user_columns;

/// A `users` row as selected by [`user_columns`].
#[derive(sqlx::FromRow)]
pub(crate) struct UserRow {
    id: i64,
    email: String,
    role: String,
    language: Option<String>,
    disabled_at: Option<OffsetDateTime>,
    has_password: bool,
    created_at: OffsetDateTime,
}

impl From<UserRow> for User {
    fn from(r: UserRow) -> User {
        User {
            id: r.id,
            email: r.email,
            // The check constraints guarantee known spellings.
            role: r.role.parse().unwrap_or(Role::Viewer),
            language: r.language.and_then(|l| l.parse().ok()),
            disabled_at: r.disabled_at,
            has_password: r.has_password,
            created_at: r.created_at,
        }
    }
}

fn email_taken(e: sqlx::Error) -> UserError {
    match &e {
        sqlx::Error::Database(db) if db.constraint() == Some("users_email_key") => {
            UserError::EmailTaken
        }
        _ => UserError::Database(e),
    }
}

/// Creates a user; a duplicate e-mail (any case) is `EmailTaken`.
#[tracing::instrument(skip_all)]
pub async fn create(
    pool: &PgPool,
    email: &str,
    role: Role,
    password_hash: Option<&str>,
) -> Result<User, UserError> {
    insert(pool, email, role, password_hash, None).await
}

/// Creates a user with a language; a duplicate e-mail is `EmailTaken`.
#[tracing::instrument(skip_all)]
pub async fn insert(
    pool: &PgPool,
    email: &str,
    role: Role,
    password_hash: Option<&str>,
    language: Option<Language>,
) -> Result<User, UserError> {
    sqlx::query_as::<_, UserRow>(concat!(
        "insert into users as u (email, role, password_hash, language) values ($1, $2, $3, $4) \
         returning ",
        user_columns!()
    ))
    .bind(email)
    .bind(role.as_str())
    .bind(password_hash)
    .bind(language.map(Language::as_str))
    .fetch_one(pool)
    .await
    .map(User::from)
    .map_err(email_taken)
}

/// A user by id.
#[tracing::instrument(skip_all, fields(user.id = id))]
pub async fn find(pool: &PgPool, id: i64) -> Result<User, UserError> {
    sqlx::query_as::<_, UserRow>(concat!(
        "select ",
        user_columns!(),
        " from users u where id = $1"
    ))
    .bind(id)
    .fetch_optional(pool)
    .await?
    .map(User::from)
    .ok_or(UserError::NotFound)
}

/// A user by e-mail (any case).
#[tracing::instrument(skip_all)]
pub async fn find_by_email(pool: &PgPool, email: &str) -> Result<User, UserError> {
    credentials(pool, email)
        .await?
        .map(|(u, _)| u)
        .ok_or(UserError::NotFound)
}

/// A user by e-mail (any case) with its password hash, for sign-in.
#[tracing::instrument(skip_all)]
pub async fn credentials(
    pool: &PgPool,
    email: &str,
) -> Result<Option<(User, Option<String>)>, UserError> {
    #[derive(sqlx::FromRow)]
    struct Row {
        #[sqlx(flatten)]
        user: UserRow,
        password_hash: Option<String>,
    }
    Ok(sqlx::query_as::<_, Row>(concat!(
        "select ",
        user_columns!(),
        ", u.password_hash from users u where lower(email) = lower($1)"
    ))
    .bind(email.trim())
    .fetch_optional(pool)
    .await?
    .map(|r| (User::from(r.user), r.password_hash)))
}

/// Every user, oldest first.
#[tracing::instrument(skip_all)]
pub async fn list(pool: &PgPool) -> Result<Vec<User>, UserError> {
    Ok(sqlx::query_as::<_, UserRow>(concat!(
        "select ",
        user_columns!(),
        " from users u order by id"
    ))
    .fetch_all(pool)
    .await?
    .into_iter()
    .map(User::from)
    .collect())
}

/// How many users exist (zero on a first start).
#[tracing::instrument(skip_all)]
pub async fn count(pool: &PgPool) -> Result<i64, UserError> {
    Ok(sqlx::query_scalar("select count(*) from users")
        .fetch_one(pool)
        .await?)
}

/// A change to a user, as the store applies it. `None`: unchanged.
#[derive(Debug, Default)]
pub struct UserChange {
    /// New role.
    pub role: Option<Role>,
    /// Disable or enable.
    pub disabled: Option<bool>,
    /// New language (`Some(None)` clears it).
    pub language: Option<Option<Language>>,
    /// New Argon2id hash.
    pub password_hash: Option<String>,
    /// With a new password or a disable, every session of the user ends
    /// except this one (the one that changed its own password).
    pub keep_session: Option<i64>,
}

/// Applies a change in one transaction. Refuses (`LastAdmin`) to demote or
/// disable the last active admin; ends sessions on disable or new password.
#[tracing::instrument(skip_all, fields(user.id = id))]
pub async fn update(pool: &PgPool, id: i64, change: &UserChange) -> Result<User, UserError> {
    let mut tx = pool.begin().await?;
    // Locking every active admin serialises concurrent demotions: the second
    // waits, then sees the first's result.
    let admins: Vec<i64> = sqlx::query_scalar(
        "select id from users where role = 'admin' and disabled_at is null order by id for update",
    )
    .fetch_all(&mut *tx)
    .await?;
    if admins == [id] {
        if change.role.is_some_and(|r| r != Role::Admin) {
            return Err(UserError::LastAdmin { field: "role" });
        }
        if change.disabled == Some(true) {
            return Err(UserError::LastAdmin { field: "disabled" });
        }
    }
    let user = sqlx::query_as::<_, UserRow>(concat!(
        "update users as u set role = coalesce($2, role), \
         disabled_at = case when $3::bool is null then disabled_at \
                            when $3 then coalesce(disabled_at, now()) else null end, \
         language = case when $4 then $5 else language end, \
         password_hash = coalesce($6, password_hash) \
         where id = $1 returning ",
        user_columns!()
    ))
    .bind(id)
    .bind(change.role.map(Role::as_str))
    .bind(change.disabled)
    .bind(change.language.is_some())
    .bind(change.language.flatten().map(Language::as_str))
    .bind(change.password_hash.as_deref())
    .fetch_optional(&mut *tx)
    .await?
    .map(User::from)
    .ok_or(UserError::NotFound)?;
    if change.disabled == Some(true) || change.password_hash.is_some() {
        end_sessions(&mut tx, id, change.keep_session).await?;
    }
    tx.commit().await?;
    Ok(user)
}

async fn end_sessions(
    tx: &mut Transaction<'_, Postgres>,
    user_id: i64,
    keep: Option<i64>,
) -> Result<(), sqlx::Error> {
    sqlx::query("delete from sessions where user_id = $1 and id is distinct from $2")
        .bind(user_id)
        .bind(keep)
        .execute(&mut **tx)
        .await?;
    Ok(())
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

/// The user of a live (unrevoked) token and the token's id, disabled or
/// not. `last_used_at` is written at most once a minute, so that checking a
/// token is a read.
#[tracing::instrument(skip_all)]
pub async fn authenticate(
    pool: &PgPool,
    token_hash: &[u8],
) -> Result<Option<(User, i64)>, UserError> {
    #[derive(sqlx::FromRow)]
    struct Row {
        #[sqlx(flatten)]
        user: UserRow,
        token_id: i64,
    }
    // A data-modifying CTE runs even though nothing reads it.
    Ok(sqlx::query_as::<_, Row>(concat!(
        "with t as (select id, user_id from api_tokens \
                    where token_hash = $1 and revoked_at is null), \
              touched as (update api_tokens set last_used_at = now() \
                    where id = (select id from t) \
                      and (last_used_at is null or last_used_at < now() - interval '1 minute')) \
         select ",
        user_columns!(),
        ", t.id as token_id from t join users u on u.id = t.user_id"
    ))
    .bind(token_hash)
    .fetch_optional(pool)
    .await?
    .map(|r| (User::from(r.user), r.token_id)))
}

/// A token as listed (never the secret).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct TokenInfo {
    /// Token id.
    pub id: i64,
    /// Owner.
    pub user_id: i64,
    /// Name given at creation.
    pub name: String,
    /// First characters of the secret.
    pub prefix: String,
    /// Creation time.
    pub created_at: OffsetDateTime,
    /// Last use, to the minute.
    pub last_used_at: Option<OffsetDateTime>,
    /// When it was revoked.
    pub revoked_at: Option<OffsetDateTime>,
    /// Whether it was revoked.
    pub revoked: bool,
}

const TOKEN_COLUMNS: &str = "id, user_id, name, prefix, created_at, last_used_at, revoked_at, \
     revoked_at is not null as revoked";

/// The tokens of one user, newest first.
#[tracing::instrument(skip_all, fields(user.id = user_id))]
pub async fn list_tokens(pool: &PgPool, user_id: i64) -> Result<Vec<TokenInfo>, UserError> {
    list_tokens_of(pool, Some(user_id)).await
}

/// The tokens of one user, or of everyone with `None`, newest first.
#[tracing::instrument(skip_all)]
pub async fn list_tokens_of(
    pool: &PgPool,
    user_id: Option<i64>,
) -> Result<Vec<TokenInfo>, UserError> {
    let sql = sqlx::AssertSqlSafe(format!(
        "select {TOKEN_COLUMNS} from api_tokens \
         where $1::bigint is null or user_id = $1 order by id desc"
    ));
    Ok(sqlx::query_as(sql).bind(user_id).fetch_all(pool).await?)
}

/// One token by id, revoked or not.
#[tracing::instrument(skip_all, fields(token.id = id))]
pub async fn find_token(pool: &PgPool, id: i64) -> Result<TokenInfo, UserError> {
    let sql = sqlx::AssertSqlSafe(format!(
        "select {TOKEN_COLUMNS} from api_tokens where id = $1"
    ));
    sqlx::query_as(sql)
        .bind(id)
        .fetch_optional(pool)
        .await?
        .ok_or(UserError::TokenNotFound)
}

/// Revokes a live token (of `owner` only, when given); it stops
/// authenticating at once. Anything else is `TokenNotFound`.
#[tracing::instrument(skip_all, fields(token.id = id))]
pub async fn revoke_token(pool: &PgPool, id: i64, owner: Option<i64>) -> Result<(), UserError> {
    let done = sqlx::query(
        "update api_tokens set revoked_at = now() \
         where id = $1 and revoked_at is null and ($2::bigint is null or user_id = $2)",
    )
    .bind(id)
    .bind(owner)
    .execute(pool)
    .await?;
    if done.rows_affected() == 0 {
        return Err(UserError::TokenNotFound);
    }
    Ok(())
}
