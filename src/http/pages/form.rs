//! The link form as a page sees it: `LinkForm` (the posted fields, kept as
//! typed so that a refused form shows them again), its conversion to the
//! link desk's `LinkInput`/`LinkPatchInput`, and `FormView`, which the
//! template renders with each refused field's message beside it, in the
//! user's language.

use time::{
    OffsetDateTime, PrimitiveDateTime, format_description::FormatItem, macros::format_description,
};

use super::{
    card::CardView,
    presets::{self, PresetChoice},
};
use crate::{
    i18n::Tr,
    links::{
        Destination, DestinationError, FieldError, InvalidLink, Link, Links, Preview, PreviewPatch,
        Problem, SlugError, Utm, UtmPatch,
        input::{LinkInput, LinkPatchInput},
        presets::UtmPreset,
    },
};

/// `datetime-local` as browsers send it (UTC here, as the form says).
const LOCAL: &[FormatItem<'static>] = format_description!("[year]-[month]-[day]T[hour]:[minute]");

/// The posted link form; every field as typed.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(default)]
pub struct LinkForm {
    /// Destination URL.
    pub destination: String,
    /// Served domain (create only).
    pub domain: String,
    /// Custom slug.
    pub slug: String,
    /// The slug before the edit (edit only: an unchanged slug stays as it was).
    pub original_slug: String,
    /// Title.
    pub title: String,
    /// Tags, separated by commas.
    pub tags: String,
    /// Expiry, `YYYY-MM-DDTHH:MM` in UTC, or empty.
    pub expires_at: String,
    /// utm_source
    pub utm_source: String,
    /// utm_medium
    pub utm_medium: String,
    /// utm_campaign
    pub utm_campaign: String,
    /// utm_term
    pub utm_term: String,
    /// utm_content
    pub utm_content: String,
    /// Preview card title.
    pub preview_title: String,
    /// Preview card description.
    pub preview_description: String,
    /// Preview card image URL (https).
    pub preview_image_url: String,
    /// The preset chosen in the menu (`b0`, `s12`), or empty.
    pub preset: String,
    /// The name to save the UTM fields under.
    pub preset_name: String,
    /// `apply`, `save` or `delete` when a preset button sent the form.
    pub preset_action: String,
}

impl LinkForm {
    /// The form filled with a link's values (the edit form).
    pub fn from_link(link: &Link) -> LinkForm {
        let utm = link.utm();
        let s = |v: Option<String>| v.unwrap_or_default();
        LinkForm {
            destination: link.destination.clone(),
            domain: link.domain.clone(),
            slug: link.slug.clone(),
            original_slug: link.slug.clone(),
            title: link.title.clone().unwrap_or_default(),
            tags: link.tags.join(", "),
            expires_at: link
                .expires_at
                .and_then(|e| e.format(LOCAL).ok())
                .unwrap_or_default(),
            utm_source: s(utm.source),
            utm_medium: s(utm.medium),
            utm_campaign: s(utm.campaign),
            utm_term: s(utm.term),
            utm_content: s(utm.content),
            preview_title: s(link.preview_title.clone()),
            preview_description: s(link.preview_description.clone()),
            preview_image_url: s(link.preview_image_url.clone()),
            ..LinkForm::default()
        }
    }

    /// The UTM fields as typed (the parse trims them; empty is none).
    pub fn utm_typed(&self) -> Utm {
        let v = |s: &str| Some(s.to_owned()).filter(|s| !s.trim().is_empty());
        Utm {
            source: v(&self.utm_source),
            medium: v(&self.utm_medium),
            campaign: v(&self.utm_campaign),
            term: v(&self.utm_term),
            content: v(&self.utm_content),
        }
    }

    fn card(&self) -> Preview {
        let v = |s: &str| Some(s.to_owned());
        Preview {
            title: v(&self.preview_title),
            description: v(&self.preview_description),
            image_url: v(&self.preview_image_url),
        }
    }

    fn tag_list(&self) -> Vec<String> {
        self.tags.split(',').map(|t| t.trim().to_owned()).collect()
    }

    fn expiry(&self) -> Result<Option<OffsetDateTime>, FieldError> {
        let raw = self.expires_at.trim();
        if raw.is_empty() {
            return Ok(None);
        }
        PrimitiveDateTime::parse(raw, LOCAL)
            .map(|t| Some(t.assume_utc()))
            .map_err(|_| FieldError::new("expires_at", Problem::InvalidTime))
    }

    /// The input of a create, and the form's own error if the date is unreadable.
    pub fn to_input(&self) -> (LinkInput, Option<FieldError>) {
        let (expires_at, error) = split(self.expiry());
        let input = LinkInput {
            destination: Some(self.destination.clone()),
            slug: Some(self.slug.clone()),
            domain: Some(self.domain.clone()).filter(|d| !d.is_empty()),
            utm: self.utm_typed(),
            tags: self.tag_list(),
            title: Some(self.title.clone()),
            preview: Some(self.card()),
            expires_at,
            ..LinkInput::default()
        };
        (input, error)
    }

    /// The changes of an edit, and the form's own error if the date is unreadable.
    pub fn to_patch(&self) -> (LinkPatchInput, Option<FieldError>) {
        let (expires_at, error) = split(self.expiry());
        let slug = self.slug.trim();
        let patch = LinkPatchInput {
            slug: (!slug.is_empty() && slug != self.original_slug).then(|| Some(slug.to_owned())),
            destination: Some(Some(self.destination.clone())),
            utm: Some(UtmPatch::replace_all(self.utm_typed())),
            tags: Some(Some(self.tag_list())),
            title: Some(Some(self.title.clone())),
            preview: Some(Some(PreviewPatch::replace_all(self.card()))),
            expires_at: Some(expires_at),
            ..LinkPatchInput::default()
        };
        (patch, error)
    }
}

fn split(
    r: Result<Option<OffsetDateTime>, FieldError>,
) -> (Option<OffsetDateTime>, Option<FieldError>) {
    match r {
        Ok(v) => (v, None),
        Err(e) => (None, Some(e)),
    }
}

/// What the form template renders.
#[derive(Debug, Clone)]
pub struct FormView {
    /// The values to show.
    pub values: LinkForm,
    /// `(field id, message)` of each refused field, in the order found.
    pub errors: Vec<(String, String)>,
    /// The domains a link can be made on, the default first, each with
    /// its short URLs' prefix (`https://go.example/`, for the card's mock).
    pub domains: Vec<(String, String)>,
    /// The destination as the redirect will send it (UTM merged), if it parses.
    pub final_url: String,
    /// The built-in presets of the menu.
    pub built_in: Vec<PresetChoice>,
    /// The workspace's saved presets.
    pub saved: Vec<PresetChoice>,
    /// What the last preset action did.
    pub notice: Option<String>,
    /// The preview card as a chat will show it.
    pub card: CardView,
    /// The short URLs' prefix on the link's domain (the mock's script).
    pub short_prefix: String,
}

impl FormView {
    /// The view of a form, with the messages of `invalid` in the user's
    /// language and the workspace's saved presets.
    pub fn new(
        links: &Links,
        t: Tr,
        values: LinkForm,
        invalid: Option<&InvalidLink>,
        saved: &[UtmPreset],
    ) -> FormView {
        let errors = invalid
            .map(|inv| {
                inv.0
                    .iter()
                    .map(|e| {
                        let id = presets::field_id(e.field)
                            .map_or_else(|| field_id(e.field), str::to_owned);
                        (id, problem_text(t, &e.problem))
                    })
                    .collect()
            })
            .unwrap_or_default();
        let final_url = Destination::from_stored(values.destination.trim())
            .filter(|_| values.destination.trim().starts_with("http"))
            .map(|d| d.with_utm(&values.utm_typed()))
            .unwrap_or_default();
        let domains: Vec<(String, String)> = links
            .domains()
            .choices()
            .into_iter()
            .map(|d| {
                let prefix = links.domains().short_url(&d, "");
                (d, prefix)
            })
            .collect();
        let host = Some(values.domain.clone())
            .filter(|d| !d.is_empty())
            .or_else(|| domains.first().map(|(d, _)| d.clone()))
            .unwrap_or_default();
        let slug = Some(values.slug.trim())
            .filter(|s| !s.is_empty())
            .unwrap_or("…");
        let card = CardView::new(
            Some(&values.preview_title),
            Some(&values.title),
            &values.destination,
            Some(&values.preview_description),
            Some(&values.preview_image_url),
            &host,
            links.domains().short_url(&host, slug),
        );
        let (built_in, saved) = presets::choices(t, saved);
        let short_prefix = links.domains().short_url(&host, "");
        FormView {
            short_prefix,
            domains,
            values,
            errors,
            final_url,
            built_in,
            saved,
            notice: None,
            card,
        }
    }

    /// Adds a message of the form's own beside field `id`.
    pub fn push_error(&mut self, id: &str, message: String) {
        self.errors.push((id.to_owned(), message));
    }

    /// Whether `value` is the chosen preset (`selected` on its option).
    pub fn is_chosen(&self, value: &str) -> bool {
        self.values.preset == value
    }

    /// The message of a refused field, by its id.
    pub fn error(&self, id: &str) -> Option<&str> {
        self.errors
            .iter()
            .find(|(f, _)| f == id)
            .map(|(_, m)| m.as_str())
    }

    /// ` has-error` when the field was refused (its wrapper's class).
    pub fn class(&self, id: &str) -> &'static str {
        if self.error(id).is_some() {
            " has-error"
        } else {
            ""
        }
    }

    /// `aria-describedby` of a field: its hint and, when refused, its error.
    pub fn described(&self, id: &str) -> String {
        if self.error(id).is_some() {
            format!("{id}-hint {id}-error")
        } else {
            format!("{id}-hint")
        }
    }
}

/// The form's id of a field named as the API names it (`utm.source` → `utm_source`).
pub fn field_id(field: &str) -> String {
    field.replace('.', "_")
}

/// A refused field's message in the user's language.
pub fn problem_text(t: Tr, problem: &Problem) -> String {
    match problem {
        Problem::Slug(SlugError::Empty) => t.get("problem.slug_empty").into(),
        Problem::Slug(SlugError::TooShort { min }) => t.with("problem.slug_short", "n", min),
        Problem::Slug(SlugError::TooLong { max }) => t.with("problem.slug_long", "n", max),
        Problem::Slug(SlugError::InvalidChar(c)) => t.with("problem.slug_char", "char", c),
        Problem::Slug(SlugError::Reserved(_)) => t.get("problem.slug_reserved").into(),
        Problem::SlugTaken => t.get("problem.slug_taken").into(),
        Problem::Destination(DestinationError::Scheme(_)) => t.get("problem.dest_scheme").into(),
        Problem::Destination(DestinationError::TooLong) => t.get("problem.dest_long").into(),
        Problem::Destination(DestinationError::Credentials) => {
            t.get("problem.dest_credentials").into()
        }
        Problem::Destination(DestinationError::SelfReferential(h)) => {
            t.with("problem.dest_self", "host", h)
        }
        Problem::Destination(_) | Problem::DestinationRequired => {
            t.get("problem.dest_invalid").into()
        }
        Problem::UnknownDomain => t.get("problem.domain").into(),
        Problem::TooLong(n) => t.with("problem.too_long", "n", n),
        Problem::ControlCharacter => t.get("problem.control").into(),
        Problem::TooManyTags => t.get("problem.tags").into(),
        Problem::UnknownChannel | Problem::UnknownVariantChannel => t.get("problem.channel").into(),
        Problem::ExpiryInPast => t.get("problem.expiry_past").into(),
        Problem::InvalidTime => t.get("problem.time").into(),
        Problem::ImageNotHttps => t.get("problem.image_https").into(),
        Problem::ParentMissing | Problem::ParentIsSelf | Problem::ParentIsVariant => {
            t.get("problem.parent").into()
        }
        Problem::NameRequired => t.get("problem.preset_name").into(),
        Problem::NameTaken => t.get("problem.preset_taken").into(),
        Problem::PresetEmpty => t.get("problem.preset_empty").into(),
        Problem::NotClearable => t.get("problem.not_clearable").into(),
    }
}
