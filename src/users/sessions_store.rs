//! SQL of the `sessions` table: sign-in sessions shared by every instance.
//! Only the SHA-256 of a session secret is stored. A session is live while
//! both its idle and its absolute expiry are ahead; using it pushes the idle
//! expiry back, written at most once a minute so that a page view is a read.

use std::time::Duration;

use sqlx::PgPool;
use time::OffsetDateTime;

use super::{
    User, UserError,
    store::{UserRow, user_columns},
};

/// A stored session, as created.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SessionRow {
    /// Session id (not the secret).
    pub id: i64,
    /// Absolute expiry.
    pub expires_at: OffsetDateTime,
}

/// Stores a new session of a user, and forgets that user's expired ones.
#[tracing::instrument(skip_all, fields(user.id = user_id))]
pub async fn insert(
    pool: &PgPool,
    user_id: i64,
    secret_hash: &[u8],
    idle: Duration,
    absolute: Duration,
) -> Result<SessionRow, UserError> {
    // One statement: the purge is a CTE over the user's own rows (indexed),
    // so sessions never pile up without a background task.
    Ok(sqlx::query_as(
        "with purged as (delete from sessions where user_id = $2 \
                         and (expires_at <= now() or idle_expires_at <= now())) \
         insert into sessions (secret_hash, user_id, idle_expires_at, expires_at) \
         values ($1, $2, now() + make_interval(secs => least($3, $4)), \
                 now() + make_interval(secs => $4)) \
         returning id, expires_at",
    )
    .bind(secret_hash)
    .bind(user_id)
    .bind(idle.as_secs_f64())
    .bind(absolute.as_secs_f64())
    .fetch_one(pool)
    .await?)
}

/// The user of a live session and the session's id (disabled or not),
/// extending its idle expiry when it was last seen over a minute ago.
#[tracing::instrument(skip_all)]
pub async fn find(
    pool: &PgPool,
    secret_hash: &[u8],
    idle: Duration,
) -> Result<Option<(User, i64)>, UserError> {
    #[derive(sqlx::FromRow)]
    struct Row {
        #[sqlx(flatten)]
        user: UserRow,
        session_id: i64,
    }
    Ok(sqlx::query_as::<_, Row>(concat!(
        "with s as (select id, user_id from sessions where secret_hash = $1 \
                    and idle_expires_at > now() and expires_at > now()), \
              touched as (update sessions \
                    set last_seen_at = now(), \
                        idle_expires_at = least(now() + make_interval(secs => $2), expires_at) \
                    where id = (select id from s) and last_seen_at < now() - interval '1 minute') \
         select ",
        user_columns!(),
        ", s.id as session_id from s join users u on u.id = s.user_id"
    ))
    .bind(secret_hash)
    .bind(idle.as_secs_f64())
    .fetch_optional(pool)
    .await?
    .map(|r| (User::from(r.user), r.session_id)))
}

/// Ends the session with this secret (signing out); true if one existed.
#[tracing::instrument(skip_all)]
pub async fn delete(pool: &PgPool, secret_hash: &[u8]) -> Result<bool, UserError> {
    let done = sqlx::query("delete from sessions where secret_hash = $1")
        .bind(secret_hash)
        .execute(pool)
        .await?;
    Ok(done.rows_affected() > 0)
}

/// How many live sessions a user has (admin views, tests).
#[tracing::instrument(skip_all, fields(user.id = user_id))]
pub async fn count_live(pool: &PgPool, user_id: i64) -> Result<i64, UserError> {
    Ok(sqlx::query_scalar(
        "select count(*) from sessions where user_id = $1 \
         and idle_expires_at > now() and expires_at > now()",
    )
    .bind(user_id)
    .fetch_one(pool)
    .await?)
}
