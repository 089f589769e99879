//! Users: accounts, roles, UI languages, passwords, API tokens and sign-in
//! sessions. This module owns every rule about who may act and what an
//! account may become (there is always an active admin); the API, the pages
//! and the CLI call the same functions. It never speaks HTTP, and its SQL
//! lives only in `store.rs` and `sessions_store.rs`.

pub mod accounts;
pub mod identity;
pub mod input;
pub mod secrets;
pub mod sessions_store;
pub mod sign_in;
pub mod store;
pub mod throttle;

use std::{fmt, str::FromStr};

use time::OffsetDateTime;

pub use input::{MAX_PASSWORD, MIN_PASSWORD, parse_email};
pub use secrets::{NewToken, hash_password, new_token, token_hash, verify_password};

/// What a user may do.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize, utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Read links and statistics.
    Viewer,
    /// Viewer, plus create, change and delete links.
    Editor,
    /// Editor, plus manage users and every token.
    Admin,
}

impl Role {
    /// Database spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Editor => "editor",
            Role::Viewer => "viewer",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Role {
    type Err = UserError;
    fn from_str(s: &str) -> Result<Role, UserError> {
        match s {
            "admin" => Ok(Role::Admin),
            "editor" => Ok(Role::Editor),
            "viewer" => Ok(Role::Viewer),
            _ => Err(UserError::InvalidRole(s.to_owned())),
        }
    }
}

/// The language of the pages for a user.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Language {
    /// English.
    En,
    /// French.
    Fr,
}

impl Language {
    /// Database and API spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Language::En => "en",
            Language::Fr => "fr",
        }
    }
}

impl FromStr for Language {
    type Err = UserError;
    fn from_str(s: &str) -> Result<Language, UserError> {
        match s {
            "en" => Ok(Language::En),
            "fr" => Ok(Language::Fr),
            _ => Err(UserError::InvalidLanguage(s.to_owned())),
        }
    }
}

/// A user account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    /// Database id.
    pub id: i64,
    /// E-mail (the sign-in name).
    pub email: String,
    /// Role.
    pub role: Role,
    /// Chosen UI language; `None`: from `Accept-Language`.
    pub language: Option<Language>,
    /// When an admin disabled the account (it then cannot act at all).
    pub disabled_at: Option<OffsetDateTime>,
    /// Whether the account can sign in with a password.
    pub has_password: bool,
    /// Creation time.
    pub created_at: OffsetDateTime,
}

impl User {
    /// Whether the account may act (not disabled).
    pub fn is_active(&self) -> bool {
        self.disabled_at.is_none()
    }
}

/// Why a user operation failed.
#[derive(Debug, thiserror::Error)]
pub enum UserError {
    /// Not an e-mail address.
    #[error("{0:?} is not an e-mail address")]
    InvalidEmail(String),
    /// Unknown role.
    #[error("unknown role {0:?}; use admin, editor or viewer")]
    InvalidRole(String),
    /// Unknown language.
    #[error("unknown language {0:?}; use en or fr (or null for the browser's)")]
    InvalidLanguage(String),
    /// Too short or too long a password.
    #[error("the password must have at least {MIN_PASSWORD} characters (at most {MAX_PASSWORD})")]
    WeakPassword,
    /// The current password given to change it is wrong.
    #[error("the current password is not correct")]
    WrongPassword,
    /// A token name that is too long or holds control characters.
    #[error("a token name has at most 100 characters and no control characters")]
    InvalidTokenName,
    /// `users_email_key`.
    #[error("a user with this e-mail already exists")]
    EmailTaken,
    /// The change would leave no active admin.
    #[error("this is the last active admin: make another user admin first")]
    LastAdmin {
        /// `role` (a demotion) or `disabled`.
        field: &'static str,
    },
    /// No such user.
    #[error("no such user")]
    NotFound,
    /// No such active token (or not one of the caller's).
    #[error("no such active token")]
    TokenNotFound,
    /// Hashing failed (out of memory, in practice).
    #[error("password hashing failed: {0}")]
    Hash(String),
    /// The database.
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

impl UserError {
    /// The request field at fault, for input errors.
    pub fn field(&self) -> Option<&'static str> {
        match self {
            UserError::InvalidEmail(_) | UserError::EmailTaken => Some("email"),
            UserError::InvalidRole(_) => Some("role"),
            UserError::LastAdmin { field } => Some(field),
            UserError::InvalidLanguage(_) => Some("language"),
            UserError::WeakPassword => Some("password"),
            UserError::WrongPassword => Some("current_password"),
            UserError::InvalidTokenName => Some("name"),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_and_languages_parse_only_their_spellings() {
        assert_eq!("editor".parse::<Role>().unwrap(), Role::Editor);
        assert!("root".parse::<Role>().is_err());
        assert!("Admin".parse::<Role>().is_err(), "case matters");
        assert!(Role::Admin > Role::Editor && Role::Editor > Role::Viewer);
        assert_eq!("fr".parse::<Language>().unwrap(), Language::Fr);
        assert!("de".parse::<Language>().is_err());
    }

    #[test]
    fn input_errors_name_their_field() {
        let cases = [
            (UserError::InvalidEmail("x".into()), "email"),
            (UserError::InvalidRole("x".into()), "role"),
            (UserError::LastAdmin { field: "role" }, "role"),
            (UserError::InvalidLanguage("x".into()), "language"),
            (UserError::WeakPassword, "password"),
            (UserError::WrongPassword, "current_password"),
            (UserError::InvalidTokenName, "name"),
        ];
        for (e, field) in cases {
            assert_eq!(e.field(), Some(field), "{e}");
        }
        assert_eq!(UserError::NotFound.field(), None);
    }
}
