//! Users, their roles, passwords and API tokens. Tokens are random 256-bit
//! values shown once and stored as SHA-256 hashes; passwords as Argon2id.

pub mod store;

use std::{fmt, str::FromStr};

use sha2::{Digest, Sha256};

/// What a user may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Read links and statistics.
    Viewer,
    /// Viewer, plus create, change and delete links.
    Editor,
    /// Editor, plus manage users.
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

/// An authenticated user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    /// Database id.
    pub id: i64,
    /// E-mail.
    pub email: String,
    /// Role.
    pub role: Role,
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
    /// Too short a password.
    #[error("the password must have at least {MIN_PASSWORD} characters")]
    WeakPassword,
    /// `users_email_key`.
    #[error("a user with this e-mail already exists")]
    EmailTaken,
    /// No such user or token.
    #[error("no such user")]
    NotFound,
    /// Hashing failed (out of memory, in practice).
    #[error("password hashing failed: {0}")]
    Hash(String),
    /// The database.
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

/// Shortest password accepted.
pub const MIN_PASSWORD: usize = 10;

/// Checks the shape of an e-mail address (delivery is not our business).
pub fn parse_email(raw: &str) -> Result<String, UserError> {
    let e = raw.trim();
    let ok = e.len() <= 254
        && e.split_once('@')
            .is_some_and(|(l, d)| !l.is_empty() && (d.contains('.') || d == "localhost"))
        && !e.chars().any(|c| c.is_whitespace() || c.is_control());
    if ok {
        Ok(e.to_owned())
    } else {
        Err(UserError::InvalidEmail(raw.to_owned()))
    }
}

/// Argon2id PHC string of a password.
pub fn hash_password(password: &str) -> Result<String, UserError> {
    use argon2::{Argon2, password_hash::PasswordHasher};
    if password.chars().count() < MIN_PASSWORD {
        return Err(UserError::WeakPassword);
    }
    Argon2::default()
        .hash_password(password.as_bytes())
        .map(|h| h.to_string())
        .map_err(|e| UserError::Hash(e.to_string()))
}

/// Whether a password matches a stored PHC string.
pub fn verify_password(password: &str, phc: &str) -> bool {
    use argon2::{
        Argon2,
        password_hash::{PasswordVerifier, phc::PasswordHash},
    };
    PasswordHash::new(phc).is_ok_and(|h| {
        Argon2::default()
            .verify_password(password.as_bytes(), &h)
            .is_ok()
    })
}

/// A new API token: the secret (shown once), its hash and its display prefix.
pub struct NewToken {
    /// `lnt_` followed by 43 random URL-safe characters (258 bits).
    pub secret: String,
    /// SHA-256 of the secret.
    pub hash: Vec<u8>,
    /// First characters, to tell tokens apart.
    pub prefix: String,
}

/// Draws a new API token.
pub fn new_token() -> NewToken {
    let secret = format!("lnt_{}", nanoid::nanoid!(43));
    NewToken {
        hash: token_hash(&secret),
        prefix: secret[..10].to_owned(),
        secret,
    }
}

/// SHA-256 of a presented token (random tokens need no slow hash).
pub fn token_hash(secret: &str) -> Vec<u8> {
    Sha256::digest(secret.as_bytes()).to_vec()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_random_and_hashed() {
        let a = new_token();
        let b = new_token();
        assert_ne!(a.secret, b.secret);
        assert!(a.secret.starts_with("lnt_") && a.secret.len() == 47);
        assert_eq!(a.hash, token_hash(&a.secret));
        assert_ne!(a.hash, token_hash(&b.secret));
    }

    #[test]
    fn passwords_verify_only_themselves() {
        let h = hash_password("correct horse battery").unwrap();
        assert!(verify_password("correct horse battery", &h));
        assert!(!verify_password("wrong horse battery", &h));
        assert!(matches!(
            hash_password("short"),
            Err(UserError::WeakPassword)
        ));
    }

    #[test]
    fn emails_and_roles_are_checked() {
        assert!(parse_email("ana@example.com").is_ok());
        assert!(parse_email("admin@localhost").is_ok());
        for bad in ["", "ana", "@example.com", "ana @example.com", "ana@example"] {
            assert!(parse_email(bad).is_err(), "{bad:?}");
        }
        assert_eq!("editor".parse::<Role>().unwrap(), Role::Editor);
        assert!("root".parse::<Role>().is_err());
        assert!(Role::Admin > Role::Editor && Role::Editor > Role::Viewer);
    }
}
