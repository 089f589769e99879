//! Secrets: Argon2id password hashes, API tokens and session secrets. Tokens
//! and session secrets are random 258-bit values shown once and stored as
//! SHA-256 hashes (nothing to guess from, so no slow hash is needed);
//! passwords are Argon2id PHC strings. Nothing here touches the database or
//! ever logs a secret.

use sha2::{Digest, Sha256};

use super::{UserError, input};

/// Argon2id PHC string of a password (checked against the length rules).
/// Slow on purpose (tens of ms): async callers use `spawn_blocking`.
pub fn hash_password(password: &str) -> Result<String, UserError> {
    use argon2::{Argon2, password_hash::PasswordHasher};
    input::check_password(password)?;
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

/// SHA-256 of a presented token or session secret.
pub fn token_hash(secret: &str) -> Vec<u8> {
    Sha256::digest(secret.as_bytes()).to_vec()
}

/// A new session secret (the cookie value): `lns_` and 43 random characters.
pub fn new_session_secret() -> String {
    format!("lns_{}", nanoid::nanoid!(43))
}

/// A password for the first admin: 24 characters of an alphabet without
/// look-alikes (about 140 bits), easy to copy from a terminal.
pub fn generate_password() -> String {
    const ALPHABET: [char; 54] = [
        'a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j', 'k', 'm', 'n', 'p', 'q', 'r', 's', 't',
        'u', 'v', 'w', 'x', 'y', 'z', 'A', 'B', 'C', 'D', 'E', 'F', 'G', 'H', 'J', 'K', 'L', 'M',
        'N', 'P', 'Q', 'R', 'S', 'T', 'U', 'V', 'W', 'X', 'Y', 'Z', '2', '3', '4', '5', '6', '7',
    ];
    nanoid::nanoid!(24, &ALPHABET)
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
        let s = new_session_secret();
        assert!(s.starts_with("lns_") && s.len() == 47);
    }

    #[test]
    fn passwords_verify_only_themselves() {
        let h = hash_password("correct horse battery").unwrap();
        assert!(h.starts_with("$argon2id$"), "{h}");
        assert!(verify_password("correct horse battery", &h));
        assert!(!verify_password("wrong horse battery", &h));
        assert!(!verify_password(
            "correct horse battery",
            "not a phc string"
        ));
        assert!(matches!(
            hash_password("short"),
            Err(UserError::WeakPassword)
        ));
    }

    #[test]
    fn generated_passwords_are_long_random_and_acceptable() {
        let (a, b) = (generate_password(), generate_password());
        assert_ne!(a, b);
        assert_eq!(a.chars().count(), 24);
        assert!(input::check_password(&a).is_ok());
    }
}
