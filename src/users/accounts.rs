//! The account services that the API, the admin pages and the CLI share:
//! create and change users (an admin's acts), change one's own password and
//! language, and create, list and revoke API tokens. Who may call what is
//! decided by the callers' role guards; the rules about the accounts
//! themselves (the last admin, sessions ending on a new password) live here
//! and in the store. Passwords are hashed off the async threads.

use sqlx::PgPool;

use super::{
    Language, User, UserError,
    input::{self, NewUser, UserPatch},
    secrets,
    store::{self, TokenInfo, UserChange},
};

/// Argon2id on a blocking thread (tens of milliseconds of CPU).
pub async fn hash_password(password: String) -> Result<String, UserError> {
    tokio::task::spawn_blocking(move || secrets::hash_password(&password))
        .await
        .map_err(|e| UserError::Hash(e.to_string()))?
}

/// Creates an account.
pub async fn create_user(pool: &PgPool, new: NewUser) -> Result<User, UserError> {
    let hash = match new.password {
        Some(p) => Some(hash_password(p).await?),
        None => None,
    };
    store::insert(pool, &new.email, new.role, hash.as_deref(), new.language).await
}

/// An admin's change to an account: role, disabled, language, password.
/// Disabling ends its sessions (its tokens stop working while disabled); a
/// new password ends every session of the account.
pub async fn update_user(pool: &PgPool, id: i64, patch: UserPatch) -> Result<User, UserError> {
    let password_hash = match patch.password {
        Some(p) => Some(hash_password(p).await?),
        None => None,
    };
    let change = UserChange {
        role: patch.role,
        disabled: patch.disabled,
        language: patch.language,
        password_hash,
        keep_session: None,
    };
    store::update(pool, id, &change).await
}

/// A user's change of their own password: the current one must match when
/// the account has one. Every other session of the account ends.
pub async fn change_own_password(
    pool: &PgPool,
    user: &User,
    current: Option<&str>,
    new: &str,
    keep_session: Option<i64>,
) -> Result<User, UserError> {
    input::check_password(new)?;
    if user.has_password {
        let (_, phc) = store::credentials(pool, &user.email)
            .await?
            .ok_or(UserError::NotFound)?;
        let (given, phc) = (
            current.unwrap_or_default().to_owned(),
            phc.unwrap_or_default(),
        );
        let ok = tokio::task::spawn_blocking(move || secrets::verify_password(&given, &phc))
            .await
            .map_err(|e| UserError::Hash(e.to_string()))?;
        if !ok {
            return Err(UserError::WrongPassword);
        }
    }
    let change = UserChange {
        password_hash: Some(hash_password(new.to_owned()).await?),
        keep_session,
        ..UserChange::default()
    };
    store::update(pool, user.id, &change).await
}

/// A user's choice of UI language (`None`: the browser's).
pub async fn set_language(
    pool: &PgPool,
    user_id: i64,
    language: Option<Language>,
) -> Result<User, UserError> {
    let change = UserChange {
        language: Some(language),
        ..UserChange::default()
    };
    store::update(pool, user_id, &change).await
}

/// A token just created: its listing and the secret, shown this once.
#[derive(Debug)]
pub struct CreatedToken {
    /// As listed from now on.
    pub info: TokenInfo,
    /// The secret (never stored, never shown again).
    pub secret: String,
}

/// Creates an API token for a user.
pub async fn create_token(
    pool: &PgPool,
    owner: &User,
    name: &str,
) -> Result<CreatedToken, UserError> {
    let name = input::parse_token_name(name)?;
    let token = secrets::new_token();
    let id = store::insert_token(pool, owner.id, &name, &token).await?;
    let info = store::find_token(pool, id).await?;
    Ok(CreatedToken {
        info,
        secret: token.secret,
    })
}
