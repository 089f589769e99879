//! The rules each link field obeys, and the typed problems a refused field
//! has. A parse of a whole link (see `input.rs`) collects one
//! [`FieldError`] per bad field, so that a form can show every message at
//! once; the API and the pages render the same problems in their own way.

use time::OffsetDateTime;

use super::{DestinationError, SlugError, Utm, UtmPatch};

/// Declared channels a link (or a per-channel variant) may be made for.
/// Private ones (whatsapp, sms, email...) make a referrer-less click dark social.
pub const DECLARED_CHANNELS: &[&str] = &[
    "whatsapp",
    "sms",
    "email",
    "messenger",
    "telegram",
    "signal",
    "wechat",
    "line",
    "viber",
    "kakaotalk",
    "imessage",
    "slack",
    "discord",
    "teams",
    "skype",
    "snapchat",
    "facebook",
    "instagram",
    "twitter",
    "linkedin",
    "tiktok",
    "pinterest",
    "reddit",
    "mastodon",
    "bluesky",
    "qr",
    "print",
    "other",
];

/// Longest UTM value accepted (characters).
pub const MAX_UTM_LENGTH: usize = 256;
/// Most tags on one link.
pub const MAX_TAGS: usize = 20;
/// Longest tag.
pub const MAX_TAG_LENGTH: usize = 64;
/// Longest title.
pub const MAX_TITLE_LENGTH: usize = 200;

/// What is wrong with one field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Problem {
    /// The slug breaks a slug rule.
    #[error(transparent)]
    Slug(#[from] SlugError),
    /// The slug is in use on this domain.
    #[error("this slug is already used on this domain")]
    SlugTaken,
    /// The destination breaks a destination rule.
    #[error(transparent)]
    Destination(#[from] DestinationError),
    /// No destination, and no parent to take it from.
    #[error("the destination is required")]
    DestinationRequired,
    /// A domain this Lanterne does not serve.
    #[error("this Lanterne does not serve that domain (add it to server.domains)")]
    UnknownDomain,
    /// Longer than allowed.
    #[error("at most {0} characters")]
    TooLong(usize),
    /// Control characters (they would break logs and CSV exports).
    #[error("control characters are not allowed")]
    ControlCharacter,
    /// More tags than allowed.
    #[error("at most {MAX_TAGS} tags")]
    TooManyTags,
    /// Not one of [`DECLARED_CHANNELS`].
    #[error("unknown channel; use one of {}", DECLARED_CHANNELS.join(", "))]
    UnknownChannel,
    /// Not one of the channels a variant can be made for.
    #[error("unknown channel; use one of {}", crate::links::variants::VARIANT_CHANNELS.iter().map(|c| c.channel).collect::<Vec<_>>().join(", "))]
    UnknownVariantChannel,
    /// A preview image that is not an absolute https URL.
    #[error("must be an absolute https URL")]
    ImageNotHttps,
    /// An expiry that has already passed.
    #[error("must be in the future")]
    ExpiryInPast,
    /// Not a date and time (forms).
    #[error("not a valid date and time")]
    InvalidTime,
    /// The parent link does not exist.
    #[error("the parent link does not exist")]
    ParentMissing,
    /// A link named as its own parent.
    #[error("a link cannot be its own parent")]
    ParentIsSelf,
    /// Variants have no variants of their own.
    #[error("the parent is itself a variant; use its parent")]
    ParentIsVariant,
    /// A UTM preset without a name.
    #[error("a name is required")]
    NameRequired,
    /// A UTM preset name in use (ignoring case).
    #[error("a preset with this name exists already")]
    NameTaken,
    /// A UTM preset that sets no field.
    #[error("set at least one UTM field")]
    PresetEmpty,
    /// `null` for a field that cannot be cleared.
    #[error("cannot be null; leave the field out to keep its value")]
    NotClearable,
}

/// One refused field: its name as the API spells it (`utm.source`) and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    /// Field name, dotted for nested ones.
    pub field: &'static str,
    /// What is wrong.
    pub problem: Problem,
}

impl FieldError {
    /// A problem with a field.
    pub fn new(field: &'static str, problem: impl Into<Problem>) -> FieldError {
        FieldError {
            field,
            problem: problem.into(),
        }
    }

    /// The stable API error code of the problem.
    pub fn code(&self) -> &'static str {
        match self.problem {
            Problem::Slug(_) => "invalid_slug",
            Problem::SlugTaken => "slug_taken",
            Problem::Destination(_) | Problem::DestinationRequired => "invalid_destination",
            Problem::UnknownDomain => "unknown_domain",
            Problem::NotClearable => "not_clearable",
            Problem::ParentMissing | Problem::ParentIsSelf | Problem::ParentIsVariant => {
                "invalid_parent"
            }
            Problem::NameTaken => "name_taken",
            _ => "invalid_field",
        }
    }
}

impl std::fmt::Display for FieldError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.code() {
            // These messages name their field already.
            "invalid_field" => write!(f, "{}: {}", self.field, self.problem),
            _ => write!(f, "{}", self.problem),
        }
    }
}

/// Every refused field of one input (never empty).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "))]
pub struct InvalidLink(pub Vec<FieldError>);

impl InvalidLink {
    /// One refused field.
    pub fn one(field: &'static str, problem: impl Into<Problem>) -> InvalidLink {
        InvalidLink(vec![FieldError::new(field, problem)])
    }

    /// The problem of a field, if it was refused.
    pub fn of(&self, field: &str) -> Option<&Problem> {
        self.0.iter().find(|e| e.field == field).map(|e| &e.problem)
    }
}

/// Collects field errors while a whole input is parsed.
#[derive(Debug, Default)]
pub(crate) struct Collect(Vec<FieldError>);

impl Collect {
    /// The value of a field's parse, or `None` after noting its error.
    pub(crate) fn take<T, P: Into<Problem>>(
        &mut self,
        field: &'static str,
        parsed: Result<T, P>,
    ) -> Option<T> {
        match parsed {
            Ok(v) => Some(v),
            Err(p) => {
                self.0.push(FieldError::new(field, p));
                None
            }
        }
    }

    /// Notes an error found otherwise.
    pub(crate) fn push(&mut self, field: &'static str, problem: impl Into<Problem>) {
        self.0.push(FieldError::new(field, problem));
    }

    /// Whether no field was refused so far.
    pub(crate) fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// `Ok(())` when no field was refused.
    pub(crate) fn finish(self) -> Result<(), InvalidLink> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(InvalidLink(self.0))
        }
    }
}

/// Checks one UTM value: trimmed, empty means absent, bounded, no control characters.
pub fn parse_utm_value(raw: Option<String>) -> Result<Option<String>, Problem> {
    match raw.map(|s| s.trim().to_owned()) {
        None => Ok(None),
        Some(s) if s.is_empty() => Ok(None),
        Some(s) => check_text(&s, MAX_UTM_LENGTH).map(|()| Some(s)),
    }
}

/// The UTM field names as the API spells them, in the canonical order.
pub const UTM_FIELDS: [&str; 5] = [
    "utm.source",
    "utm.medium",
    "utm.campaign",
    "utm.term",
    "utm.content",
];

/// Checks the five fields of a UTM block.
pub(crate) fn parse_utm(raw: Utm, errors: &mut Collect) -> Utm {
    let [s, m, c, t, n] = raw.into_array();
    let mut check = |i: usize, v| errors.take(UTM_FIELDS[i], parse_utm_value(v)).flatten();
    Utm::from_array([
        check(0, s),
        check(1, m),
        check(2, c),
        check(3, t),
        check(4, n),
    ])
}

/// Checks the fields given in a UTM patch (`null` or empty clears a field).
pub(crate) fn parse_utm_patch(raw: UtmPatch, errors: &mut Collect) -> UtmPatch {
    let mut out = UtmPatch::default();
    for (i, value) in raw.into_array().into_iter().enumerate() {
        let parsed = match value {
            None => None,
            Some(v) => errors.take(UTM_FIELDS[i], parse_utm_value(v)),
        };
        out.set(i, parsed);
    }
    out
}

/// Trims, drops empties and duplicates, and bounds the tags.
pub fn parse_tags(raw: Vec<String>) -> Result<Vec<String>, Problem> {
    let mut tags: Vec<String> = Vec::with_capacity(raw.len());
    for t in raw {
        let t = t.trim().to_owned();
        if t.is_empty() || tags.contains(&t) {
            continue;
        }
        check_text(&t, MAX_TAG_LENGTH)?;
        tags.push(t);
    }
    if tags.len() > MAX_TAGS {
        return Err(Problem::TooManyTags);
    }
    Ok(tags)
}

/// Trims the title; empty means none.
pub fn parse_title(raw: Option<String>) -> Result<Option<String>, Problem> {
    let Some(t) = raw.map(|t| t.trim().to_owned()).filter(|t| !t.is_empty()) else {
        return Ok(None);
    };
    check_text(&t, MAX_TITLE_LENGTH)?;
    Ok(Some(t))
}

/// Lowercases and checks a declared channel against [`DECLARED_CHANNELS`].
pub fn parse_channel(raw: Option<String>) -> Result<Option<String>, Problem> {
    let Some(c) = raw
        .map(|c| c.trim().to_ascii_lowercase())
        .filter(|c| !c.is_empty())
    else {
        return Ok(None);
    };
    if DECLARED_CHANNELS.contains(&c.as_str()) {
        Ok(Some(c))
    } else {
        Err(Problem::UnknownChannel)
    }
}

/// Refuses an expiry in the past (a link that would be born dead).
pub fn parse_expiry(
    raw: Option<OffsetDateTime>,
    now: OffsetDateTime,
) -> Result<Option<OffsetDateTime>, Problem> {
    match raw {
        Some(t) if t <= now => Err(Problem::ExpiryInPast),
        other => Ok(other),
    }
}

/// Length bound and no control characters.
pub(crate) fn check_text(s: &str, max: usize) -> Result<(), Problem> {
    if s.chars().count() > max {
        return Err(Problem::TooLong(max));
    }
    if s.chars().any(char::is_control) {
        return Err(Problem::ControlCharacter);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utm_fields_are_trimmed_bounded_and_every_bad_one_is_named() {
        let mut errors = Collect::default();
        let ok = parse_utm(
            Utm {
                source: Some(" newsletter ".into()),
                medium: Some("".into()),
                ..Utm::default()
            },
            &mut errors,
        );
        assert!(errors.finish().is_ok());
        assert_eq!(ok.source.as_deref(), Some("newsletter"));
        assert_eq!(ok.medium, None, "empty means absent");

        let mut errors = Collect::default();
        parse_utm(
            Utm {
                campaign: Some("x".repeat(MAX_UTM_LENGTH + 1)),
                term: Some("a\nb".into()),
                ..Utm::default()
            },
            &mut errors,
        );
        let err = errors.finish().unwrap_err();
        assert_eq!(
            err.of("utm.campaign"),
            Some(&Problem::TooLong(MAX_UTM_LENGTH))
        );
        assert_eq!(err.of("utm.term"), Some(&Problem::ControlCharacter));
        assert_eq!(err.0.len(), 2, "both fields reported: {err}");
    }

    #[test]
    fn a_utm_patch_keeps_absent_fields_and_clears_null_or_empty_ones() {
        let mut errors = Collect::default();
        let patch = parse_utm_patch(
            UtmPatch {
                campaign: Some(Some(" winter ".into())),
                source: Some(None),
                medium: Some(Some("  ".into())),
                ..UtmPatch::default()
            },
            &mut errors,
        );
        assert!(errors.finish().is_ok());
        assert_eq!(patch.campaign, Some(Some("winter".into())));
        assert_eq!(patch.source, Some(None), "null clears");
        assert_eq!(patch.medium, Some(None), "empty clears");
        assert_eq!(patch.term, None, "absent is left alone");
    }

    #[test]
    fn tags_channel_title_and_expiry_rules() {
        assert_eq!(
            parse_tags(vec![" a ".into(), "a".into(), "".into(), "b".into()]).unwrap(),
            vec!["a", "b"]
        );
        assert_eq!(
            parse_tags((0..21).map(|i| i.to_string()).collect()),
            Err(Problem::TooManyTags)
        );
        assert_eq!(
            parse_channel(Some("WhatsApp".into())).unwrap().as_deref(),
            Some("whatsapp")
        );
        assert_eq!(
            parse_channel(Some("carrier-pigeon".into())),
            Err(Problem::UnknownChannel)
        );
        assert_eq!(parse_title(Some("  ".into())).unwrap(), None);
        let now = OffsetDateTime::now_utc();
        assert_eq!(
            parse_expiry(Some(now - time::Duration::hours(1)), now),
            Err(Problem::ExpiryInPast)
        );
        assert!(parse_expiry(Some(now + time::Duration::hours(1)), now).is_ok());
    }

    #[test]
    fn codes_and_messages_are_stable() {
        let e = FieldError::new("utm.source", Problem::TooLong(256));
        assert_eq!(e.code(), "invalid_field");
        assert_eq!(e.to_string(), "utm.source: at most 256 characters");
        let e = FieldError::new("parent_id", Problem::ParentMissing);
        assert_eq!(e.code(), "invalid_parent");
        assert_eq!(e.to_string(), "the parent link does not exist");
    }
}
