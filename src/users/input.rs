//! Parsing of account input from the API, the pages and the CLI into checked
//! values. Every parse returns all the field errors at once (a form shows
//! them beside each field); nothing here hashes or touches the database.

use super::{Language, Role, UserError};

/// Shortest password accepted.
pub const MIN_PASSWORD: usize = 10;
/// Longest password accepted (bounds the hashing work a request can ask for).
pub const MAX_PASSWORD: usize = 256;
/// Longest token name.
const MAX_TOKEN_NAME: usize = 100;

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

/// Checks a new password's length.
pub fn check_password(password: &str) -> Result<(), UserError> {
    let n = password.chars().count();
    if (MIN_PASSWORD..=MAX_PASSWORD).contains(&n) {
        Ok(())
    } else {
        Err(UserError::WeakPassword)
    }
}

/// Checks a token name (trimmed; may be empty).
pub fn parse_token_name(raw: &str) -> Result<String, UserError> {
    let name = raw.trim();
    if name.chars().count() > MAX_TOKEN_NAME || name.chars().any(char::is_control) {
        return Err(UserError::InvalidTokenName);
    }
    Ok(name.to_owned())
}

/// A checked new account (the password not yet hashed).
#[derive(Debug, Clone)]
pub struct NewUser {
    /// E-mail.
    pub email: String,
    /// Role.
    pub role: Role,
    /// Password; `None`: the account signs in with tokens only.
    pub password: Option<String>,
    /// UI language; `None`: from the browser.
    pub language: Option<Language>,
}

impl NewUser {
    /// Parses the fields of a new account, reporting every bad one.
    pub fn parse(
        email: &str,
        role: &str,
        password: Option<&str>,
        language: Option<&str>,
    ) -> Result<NewUser, Vec<UserError>> {
        let mut errors = Vec::new();
        let email = parse_email(email).map_err(|e| errors.push(e)).ok();
        let role = role.parse::<Role>().map_err(|e| errors.push(e)).ok();
        if let Some(Err(e)) = password.map(check_password) {
            errors.push(e);
        }
        let language = language
            .map(str::parse::<Language>)
            .transpose()
            .map_err(|e| errors.push(e))
            .ok()
            .flatten();
        match (email, role) {
            (Some(email), Some(role)) if errors.is_empty() => Ok(NewUser {
                email,
                role,
                password: password.map(str::to_owned),
                language,
            }),
            _ => Err(errors),
        }
    }
}

/// A checked change to an account, by an admin. `None`: unchanged.
#[derive(Debug, Clone, Default)]
pub struct UserPatch {
    /// New role.
    pub role: Option<Role>,
    /// Disable (`true`) or enable (`false`).
    pub disabled: Option<bool>,
    /// New language; `Some(None)` clears it (back to the browser's).
    pub language: Option<Option<Language>>,
    /// New password (an admin's reset).
    pub password: Option<String>,
}

impl UserPatch {
    /// Parses the fields of a change, reporting every bad one.
    pub fn parse(
        role: Option<&str>,
        disabled: Option<bool>,
        language: Option<Option<&str>>,
        password: Option<&str>,
    ) -> Result<UserPatch, Vec<UserError>> {
        let mut errors = Vec::new();
        let role = role
            .map(str::parse::<Role>)
            .transpose()
            .map_err(|e| errors.push(e))
            .ok()
            .flatten();
        let language = match language {
            None => None,
            Some(None) => Some(None),
            Some(Some(l)) => l
                .parse::<Language>()
                .map(Some)
                .map_err(|e| errors.push(e))
                .ok(),
        };
        if let Some(Err(e)) = password.map(check_password) {
            errors.push(e);
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        Ok(UserPatch {
            role,
            disabled,
            language,
            password: password.map(str::to_owned),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_checked_for_shape() {
        assert!(parse_email("ana@example.com").is_ok());
        assert!(parse_email("admin@localhost").is_ok());
        for bad in ["", "ana", "@example.com", "ana @example.com", "ana@example"] {
            assert!(parse_email(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn a_new_user_with_several_bad_fields_reports_each_of_them() {
        let errors = NewUser::parse("nope", "root", Some("short"), Some("de")).unwrap_err();
        let fields: Vec<_> = errors.iter().filter_map(UserError::field).collect();
        assert_eq!(fields, ["email", "role", "password", "language"]);
        let ok = NewUser::parse(" ana@example.com ", "editor", None, Some("fr")).unwrap();
        assert_eq!(ok.email, "ana@example.com");
        assert_eq!(ok.language, Some(Language::Fr));
    }

    #[test]
    fn a_patch_can_clear_the_language_and_refuses_bad_values() {
        let p = UserPatch::parse(None, Some(true), Some(None), None).unwrap();
        assert_eq!(p.language, Some(None));
        assert_eq!(p.disabled, Some(true));
        let errors =
            UserPatch::parse(Some("boss"), None, Some(Some("xx")), Some("123")).unwrap_err();
        assert_eq!(errors.len(), 3);
        assert!(check_password(&"x".repeat(MAX_PASSWORD + 1)).is_err());
    }

    #[test]
    fn token_names_are_trimmed_and_bounded() {
        assert_eq!(parse_token_name("  ci  ").unwrap(), "ci");
        assert!(parse_token_name(&"n".repeat(101)).is_err());
        assert!(parse_token_name("a\nb").is_err());
    }
}
