//! Slugs: the path part of a short URL. `Slug::parse` checks a user's choice,
//! `Slug::generate` draws one with nanoid. Slugs match case-insensitively:
//! the stored `slug_key` is the lowercase form.

use crate::config::SlugSettings;

/// Paths Lanterne itself uses or may use; no link can take them (any case).
/// The router refuses to start with a route whose first segment is not
/// here (see `http::route`): the front door would send it to the redirect.
pub const RESERVED: &[&str] = &[
    "about",
    "account",
    "admin",
    "api",
    "app",
    "assets",
    "auth",
    "campaigns",
    "dashboard",
    "docs",
    "favicon",
    "health",
    "healthz",
    "help",
    "links",
    "login",
    "logo",
    "logout",
    "me",
    "metrics",
    "openapi",
    "qr",
    "readyz",
    "register",
    "robots",
    "settings",
    "share",
    "signin",
    "signout",
    "signup",
    "sitemap",
    "static",
    "stats",
    "status",
    "swagger",
    "tags",
    "tokens",
    "ui",
    "users",
    "well-known",
];

/// A valid slug, as written by its author.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Slug(String);

/// Why a custom slug was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SlugError {
    /// Nothing was given.
    #[error("the slug is empty")]
    Empty,
    /// Fewer characters than allowed.
    #[error("the slug must have at least {min} characters")]
    TooShort {
        /// Configured minimum.
        min: usize,
    },
    /// More characters than allowed.
    #[error("the slug must have at most {max} characters")]
    TooLong {
        /// Configured maximum.
        max: usize,
    },
    /// A character outside A-Z, a-z, 0-9, '-' and '_'.
    #[error("the slug may only contain letters A-Z, digits, '-' and '_' (found {0:?})")]
    InvalidChar(char),
    /// One of Lanterne's own paths.
    #[error("the slug {0:?} is reserved")]
    Reserved(String),
}

impl Slug {
    /// Checks a slug chosen by a user against the configured bounds.
    pub fn parse(input: &str, rules: &SlugSettings) -> Result<Slug, SlugError> {
        if input.is_empty() {
            return Err(SlugError::Empty);
        }
        if let Some(c) = input.chars().find(|c| !is_slug_char(*c)) {
            return Err(SlugError::InvalidChar(c));
        }
        // Only ASCII is left, so len() counts characters.
        if input.len() < rules.min_custom_length {
            return Err(SlugError::TooShort {
                min: rules.min_custom_length,
            });
        }
        if input.len() > rules.max_custom_length {
            return Err(SlugError::TooLong {
                max: rules.max_custom_length,
            });
        }
        if is_reserved(input) {
            return Err(SlugError::Reserved(input.to_owned()));
        }
        Ok(Slug(input.to_owned()))
    }

    /// Draws a random slug from the configured alphabet and length.
    pub fn generate(rules: &SlugSettings) -> Slug {
        let alphabet: Vec<char> = rules.alphabet.chars().collect();
        loop {
            let slug = nanoid::nanoid!(rules.length, &alphabet);
            // A generated slug could spell a reserved word; draw again.
            if !is_reserved(&slug) {
                return Slug(slug);
            }
        }
    }

    /// The slug as written.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The key the slug is matched by (lowercase).
    pub fn key(&self) -> String {
        self.0.to_ascii_lowercase()
    }
}

/// Characters allowed in any slug (unreserved URL characters minus '.' and '~',
/// which look like file names and are easy to mistype).
pub fn is_slug_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '-' || c == '_'
}

/// Whether a slug collides with one of Lanterne's paths: one of the
/// [`RESERVED`] words, in any case.
pub fn is_reserved(slug: &str) -> bool {
    RESERVED.iter().any(|r| r.eq_ignore_ascii_case(slug))
}

/// Whether a request path segment can be a slug at all (if not, the redirect
/// answers 404 without touching any cache or database).
pub fn can_be_slug(segment: &str) -> bool {
    !segment.is_empty() && segment.len() <= 128 && segment.chars().all(is_slug_char)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn rules() -> SlugSettings {
        SlugSettings {
            length: 7,
            alphabet: "23456789abcdefghijkmnpqrstuvwxyz".into(),
            min_custom_length: 2,
            max_custom_length: 64,
        }
    }

    #[test]
    fn custom_slugs_are_checked() {
        let long = "a".repeat(65);
        let cases: &[(&str, Result<&str, SlugError>)] = &[
            ("Summer-Sale_2026", Ok("Summer-Sale_2026")),
            ("ab", Ok("ab")),
            ("", Err(SlugError::Empty)),
            ("a", Err(SlugError::TooShort { min: 2 })),
            (&long, Err(SlugError::TooLong { max: 64 })),
            ("promo code", Err(SlugError::InvalidChar(' '))),
            ("promo/x", Err(SlugError::InvalidChar('/'))),
            ("promo.html", Err(SlugError::InvalidChar('.'))),
            ("café", Err(SlugError::InvalidChar('é'))),
            ("%2e%2e", Err(SlugError::InvalidChar('%'))),
            ("API", Err(SlugError::Reserved("API".into()))),
            ("healthz", Err(SlugError::Reserved("healthz".into()))),
            ("Static", Err(SlugError::Reserved("Static".into()))),
        ];
        for (input, expected) in cases {
            let got = Slug::parse(input, &rules());
            assert_eq!(
                got.as_ref().map(Slug::as_str).map_err(Clone::clone),
                expected.clone(),
                "input {input:?}"
            );
        }
    }

    #[test]
    fn generated_slugs_use_the_alphabet_and_length() {
        let r = rules();
        for _ in 0..200 {
            let s = Slug::generate(&r);
            assert_eq!(s.as_str().len(), 7);
            assert!(s.as_str().chars().all(|c| r.alphabet.contains(c)), "{s:?}");
            assert!(Slug::parse(s.as_str(), &r).is_ok());
        }
    }

    #[test]
    fn impossible_paths_are_refused_before_any_lookup() {
        assert!(can_be_slug("AbC-9_x"));
        assert!(!can_be_slug("a.b"));
        assert!(!can_be_slug(""));
        assert!(!can_be_slug(&"a".repeat(129)));
    }

    proptest! {
        #[test]
        fn parse_never_panics_and_accepts_only_slug_chars(s in "\\PC{0,80}") {
            if let Ok(slug) = Slug::parse(&s, &rules()) {
                prop_assert!(slug.as_str().chars().all(is_slug_char));
            }
        }
    }
}
