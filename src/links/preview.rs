//! Preview cards: the title, description and image a chat app shows when a
//! link is pasted into it, the rules each field obeys, and the partial
//! change of a card. A card is any of the three set; an empty one is none.
//! The redirect answers preview fetchers of a link with a card with it (see
//! `http/redirect.rs`); nothing here does I/O.

use serde::{Deserialize, Serialize};

use super::{
    fields::{Collect, Problem, check_text},
    present,
};

/// Longest card title (characters; chat apps cut well before).
pub const MAX_PREVIEW_TITLE: usize = 200;
/// Longest card description.
pub const MAX_PREVIEW_DESCRIPTION: usize = 600;
/// Longest image URL.
pub const MAX_IMAGE_URL: usize = 2048;

/// A link's preview card (each field optional).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Preview {
    /// og:title (the link's title, else its destination, when absent).
    #[serde(default)]
    pub title: Option<String>,
    /// og:description.
    #[serde(default)]
    pub description: Option<String>,
    /// og:image: an https URL.
    #[serde(default)]
    pub image_url: Option<String>,
}

impl Preview {
    /// Whether no field is set (no card).
    pub fn is_empty(&self) -> bool {
        self.title.is_none() && self.description.is_none() && self.image_url.is_none()
    }

    /// The fields of `self`, each replaced by `base`'s where `self` has none
    /// (a variant's card over its parent's).
    pub fn or(self, base: &Preview) -> Preview {
        Preview {
            title: self.title.or_else(|| base.title.clone()),
            description: self.description.or_else(|| base.description.clone()),
            image_url: self.image_url.or_else(|| base.image_url.clone()),
        }
    }
}

/// Changes to a card: an absent field is left alone, `null` clears it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PreviewPatch {
    /// og:title
    #[serde(default, deserialize_with = "present")]
    pub title: Option<Option<String>>,
    /// og:description
    #[serde(default, deserialize_with = "present")]
    pub description: Option<Option<String>>,
    /// og:image
    #[serde(default, deserialize_with = "present")]
    pub image_url: Option<Option<String>>,
}

impl PreviewPatch {
    /// A patch that clears the whole card (`"preview": null`).
    pub fn clear() -> PreviewPatch {
        PreviewPatch {
            title: Some(None),
            description: Some(None),
            image_url: Some(None),
        }
    }

    /// A patch that sets the whole card to `card` (a form's whole block).
    pub fn replace_all(card: Preview) -> PreviewPatch {
        PreviewPatch {
            title: Some(card.title),
            description: Some(card.description),
            image_url: Some(card.image_url),
        }
    }

    /// `card` with these changes applied.
    pub fn apply(&self, card: &Preview) -> Preview {
        let pick = |c: &Option<Option<String>>, old: &Option<String>| match c {
            Some(v) => v.clone(),
            None => old.clone(),
        };
        Preview {
            title: pick(&self.title, &card.title),
            description: pick(&self.description, &card.description),
            image_url: pick(&self.image_url, &card.image_url),
        }
    }
}

/// Trims a text field; empty means absent.
fn text(raw: Option<String>, max: usize) -> Result<Option<String>, Problem> {
    match raw.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty()) {
        None => Ok(None),
        Some(s) => check_text(&s, max).map(|()| Some(s)),
    }
}

/// Checks an image URL: absolute, https, bounded, no control characters.
pub fn parse_image_url(raw: Option<String>) -> Result<Option<String>, Problem> {
    let Some(s) = text(raw, MAX_IMAGE_URL)? else {
        return Ok(None);
    };
    match url::Url::parse(&s) {
        Ok(u) if u.scheme() == "https" && u.host().is_some() => Ok(Some(u.to_string())),
        _ => Err(Problem::ImageNotHttps),
    }
}

/// Checks every field of a card.
pub(crate) fn parse_preview(raw: Preview, errors: &mut Collect) -> Preview {
    Preview {
        title: errors
            .take("preview.title", text(raw.title, MAX_PREVIEW_TITLE))
            .flatten(),
        description: errors
            .take(
                "preview.description",
                text(raw.description, MAX_PREVIEW_DESCRIPTION),
            )
            .flatten(),
        image_url: errors
            .take("preview.image_url", parse_image_url(raw.image_url))
            .flatten(),
    }
}

/// Checks the fields given in a card patch (`null` or empty clears one).
pub(crate) fn parse_preview_patch(raw: PreviewPatch, errors: &mut Collect) -> PreviewPatch {
    PreviewPatch {
        title: raw
            .title
            .and_then(|v| errors.take("preview.title", text(v, MAX_PREVIEW_TITLE))),
        description: raw
            .description
            .and_then(|v| errors.take("preview.description", text(v, MAX_PREVIEW_DESCRIPTION))),
        image_url: raw
            .image_url
            .and_then(|v| errors.take("preview.image_url", parse_image_url(v))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_card_refuses_plain_http_images_long_titles_and_control_characters_naming_each_field() {
        let mut errors = Collect::default();
        parse_preview(
            Preview {
                title: Some("x".repeat(MAX_PREVIEW_TITLE + 1)),
                description: Some("a\u{0}b".into()),
                image_url: Some("http://cdn.example/a.png".into()),
            },
            &mut errors,
        );
        let err = errors.finish().unwrap_err();
        assert_eq!(
            err.of("preview.title"),
            Some(&Problem::TooLong(MAX_PREVIEW_TITLE))
        );
        assert_eq!(
            err.of("preview.description"),
            Some(&Problem::ControlCharacter)
        );
        assert_eq!(err.of("preview.image_url"), Some(&Problem::ImageNotHttps));
        assert!(parse_image_url(Some("javascript:alert(1)".into())).is_err());
        assert!(parse_image_url(Some("cdn.example/a.png".into())).is_err());
        assert_eq!(
            parse_image_url(Some(" https://cdn.example/a.png ".into())).unwrap(),
            Some("https://cdn.example/a.png".into())
        );
    }

    #[test]
    fn a_card_patch_keeps_absent_fields_and_clears_null_ones() {
        let card = Preview {
            title: Some("Sale".into()),
            description: Some("All at half price".into()),
            image_url: None,
        };
        let patch: PreviewPatch = serde_json::from_str(r#"{"title": "Soldes"}"#).unwrap();
        let got = patch.apply(&card);
        assert_eq!(got.title.as_deref(), Some("Soldes"));
        assert_eq!(got.description, card.description, "kept");
        let patch: PreviewPatch = serde_json::from_str(r#"{"description": null}"#).unwrap();
        assert_eq!(patch.apply(&card).description, None, "null clears");
        assert!(PreviewPatch::clear().apply(&card).is_empty());
        let mine = Preview {
            title: Some("WhatsApp title".into()),
            ..Preview::default()
        };
        assert_eq!(mine.or(&card).description, card.description, "inherited");
    }
}
