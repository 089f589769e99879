//! A link as a person or a program submits it — `LinkInput` to create one,
//! `LinkPatchInput` to change one — and the one parse that turns either into
//! values the store can write, reporting every refused field at once. The
//! API deserialises these types from JSON; the pages fill them from a form.
//! Nothing here reads the database: the caller looks the parent up first.

use serde::{Deserialize, Deserializer};
use time::OffsetDateTime;

use super::{
    Destination, Link, LinkPatch, NewLink, Preview, PreviewPatch, Slug, Utm, UtmPatch,
    fields::{self, Collect, InvalidLink, Problem},
    present, preview,
};
use crate::{config::SlugSettings, domains::Domains};

/// A link to create, as submitted (every field untrusted).
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LinkInput {
    /// Absolute http(s) URL; a variant may leave it out to take its parent's.
    pub destination: Option<String>,
    /// Custom slug; absent or empty to generate one.
    pub slug: Option<String>,
    /// Served domain; absent for the default one (a variant: its parent's).
    pub domain: Option<String>,
    /// UTM fields; a variant takes each one it leaves out from its parent.
    #[serde(default)]
    pub utm: Utm,
    /// Tags.
    #[serde(default)]
    pub tags: Vec<String>,
    /// Title.
    pub title: Option<String>,
    /// Declared channel (see `DECLARED_CHANNELS`).
    pub channel: Option<String>,
    /// The link this one is a per-channel variant of.
    pub parent_id: Option<i64>,
    /// Preview card; a variant takes each field it leaves out from its parent.
    pub preview: Option<Preview>,
    /// Expiry (RFC 3339 in JSON).
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub expires_at: Option<OffsetDateTime>,
    /// Enabled flag (default true).
    pub enabled: Option<bool>,
}

/// Changes to a link, as submitted: absent fields are left alone, `null` clears
/// (and is refused, naming the field, for those that cannot be cleared: the
/// slug, the destination, the tags and the enabled flag; `Some(None)` is
/// such a `null`).
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LinkPatchInput {
    /// New slug.
    #[serde(default, deserialize_with = "present")]
    pub slug: Option<Option<String>>,
    /// New destination.
    #[serde(default, deserialize_with = "present")]
    pub destination: Option<Option<String>>,
    /// UTM fields to change, each on its own.
    pub utm: Option<UtmPatch>,
    /// New tags (the whole list; `[]` for none).
    #[serde(default, deserialize_with = "present")]
    pub tags: Option<Option<Vec<String>>>,
    /// New or cleared title.
    #[serde(default, deserialize_with = "present")]
    pub title: Option<Option<String>>,
    /// New or cleared channel.
    #[serde(default, deserialize_with = "present")]
    pub channel: Option<Option<String>>,
    /// New or cleared parent.
    #[serde(default, deserialize_with = "present")]
    pub parent_id: Option<Option<i64>>,
    /// Card fields to change, each on its own; `null` clears the whole card.
    #[serde(default, deserialize_with = "present")]
    pub preview: Option<Option<PreviewPatch>>,
    /// New or cleared expiry.
    #[serde(default, deserialize_with = "present_time")]
    pub expires_at: Option<Option<OffsetDateTime>>,
    /// Enable or disable.
    #[serde(default, deserialize_with = "present")]
    pub enabled: Option<Option<bool>>,
}

fn present_time<'de, D: Deserializer<'de>>(
    d: D,
) -> Result<Option<Option<OffsetDateTime>>, D::Error> {
    time::serde::rfc3339::option::deserialize(d).map(Some)
}

/// What the parse needs to know besides the input.
#[derive(Debug, Clone, Copy)]
pub struct Rules<'a> {
    /// Served domains.
    pub domains: &'a Domains,
    /// Hosts a destination may not point at.
    pub served_hosts: &'a [String],
    /// Slug bounds.
    pub slugs: &'a SlugSettings,
    /// The time expiries are checked against.
    pub now: OffsetDateTime,
}

/// The parent named by an input, as the caller found it.
#[derive(Debug, Clone, Copy)]
pub enum Parent<'a> {
    /// No parent named.
    None,
    /// A parent was named but no live link has that id.
    Missing,
    /// The live parent link.
    Found(&'a Link),
}

/// Parses a new link; a variant takes its parent's domain, destination and
/// UTM fields where it gives none.
pub fn parse_new(
    input: LinkInput,
    rules: Rules<'_>,
    parent: Parent<'_>,
    created_by: Option<i64>,
) -> Result<NewLink, InvalidLink> {
    let mut errors = Collect::default();
    let found = check_parent(&mut errors, parent, None);
    let domain = match (input.domain.as_deref(), found) {
        (None, Some(p)) => Some(p.domain_id),
        (name, _) => rules.domains.by_name(name).map(|d| d.id),
    };
    if domain.is_none() {
        errors.push("domain", Problem::UnknownDomain);
    }
    let slug = parse_slug(&mut errors, input.slug.as_deref(), rules);
    let destination = match (non_empty(input.destination.as_deref()), found) {
        (Some(d), _) => errors.take("destination", Destination::parse(d, rules.served_hosts)),
        (None, Some(p)) => Destination::from_stored(&p.destination),
        (None, None) => {
            // A missing parent is the error to show, not the destination.
            if !matches!(parent, Parent::Missing) {
                errors.push("destination", Problem::DestinationRequired);
            }
            None
        }
    };
    let mut utm = fields::parse_utm(input.utm, &mut errors);
    if let Some(p) = found {
        utm = utm.or(&p.utm());
    }
    let mut card = preview::parse_preview(input.preview.unwrap_or_default(), &mut errors);
    if let Some(p) = found {
        card = card.or(&p.preview_fields());
    }
    let tags = errors.take("tags", fields::parse_tags(input.tags));
    let title = errors.take("title", fields::parse_title(input.title));
    let channel = errors.take("channel", fields::parse_channel(input.channel));
    let expires_at = errors.take(
        "expires_at",
        fields::parse_expiry(input.expires_at, rules.now),
    );
    errors.finish()?;
    // Every `None` above noted an error, so `finish` returned.
    let missing = || InvalidLink::one("destination", Problem::DestinationRequired);
    Ok(NewLink {
        domain_id: domain.ok_or_else(missing)?,
        slug: slug.flatten(),
        destination: destination.ok_or_else(missing)?,
        utm,
        tags: tags.unwrap_or_default(),
        title: title.flatten(),
        channel: channel.flatten(),
        parent_id: found.map(|p| p.id),
        preview: card,
        expires_at: expires_at.flatten(),
        enabled: input.enabled.unwrap_or(true),
        created_by,
    })
}

/// Parses changes to link `id`; `parent` is the lookup of a new parent.
pub fn parse_patch(
    input: LinkPatchInput,
    id: i64,
    rules: Rules<'_>,
    parent: Parent<'_>,
) -> Result<LinkPatch, InvalidLink> {
    let mut errors = Collect::default();
    check_parent(&mut errors, parent, Some(id));
    let slug = match not_null(&mut errors, "slug", input.slug) {
        None => None,
        Some(s) => errors.take("slug", Slug::parse(s.trim(), rules.slugs)),
    };
    let destination = not_null(&mut errors, "destination", input.destination)
        .and_then(|d| errors.take("destination", Destination::parse(&d, rules.served_hosts)));
    let enabled = not_null(&mut errors, "enabled", input.enabled);
    let utm = input
        .utm
        .map(|u| fields::parse_utm_patch(u, &mut errors))
        .unwrap_or_default();
    let tags = not_null(&mut errors, "tags", input.tags)
        .and_then(|t| errors.take("tags", fields::parse_tags(t)));
    let title = input
        .title
        .and_then(|t| errors.take("title", fields::parse_title(t)));
    let channel = input
        .channel
        .and_then(|c| errors.take("channel", fields::parse_channel(c)));
    let expires_at = input
        .expires_at
        .and_then(|e| errors.take("expires_at", fields::parse_expiry(e, rules.now)));
    let card = match input.preview {
        None => PreviewPatch::default(),
        Some(None) => PreviewPatch::clear(),
        Some(Some(p)) => preview::parse_preview_patch(p, &mut errors),
    };
    errors.finish()?;
    Ok(LinkPatch {
        slug,
        destination,
        utm,
        tags,
        title,
        channel,
        parent_id: input.parent_id,
        preview: card,
        expires_at,
        enabled,
    })
}

/// The new value of a field that cannot be cleared; a `null` is refused.
fn not_null<T>(errors: &mut Collect, field: &'static str, value: Option<Option<T>>) -> Option<T> {
    match value {
        Some(None) => {
            errors.push(field, Problem::NotClearable);
            None
        }
        other => other.flatten(),
    }
}

/// Notes what is wrong with the parent, and returns it when it may be one.
fn check_parent<'a>(
    errors: &mut Collect,
    parent: Parent<'a>,
    child: Option<i64>,
) -> Option<&'a Link> {
    match parent {
        Parent::None => None,
        Parent::Missing => {
            errors.push("parent_id", Problem::ParentMissing);
            None
        }
        Parent::Found(p) if Some(p.id) == child => {
            errors.push("parent_id", Problem::ParentIsSelf);
            None
        }
        Parent::Found(p) if p.parent_id.is_some() => {
            errors.push("parent_id", Problem::ParentIsVariant);
            None
        }
        Parent::Found(p) => Some(p),
    }
}

/// A custom slug, `Some(None)` when none was chosen, `None` after an error.
fn parse_slug(errors: &mut Collect, raw: Option<&str>, rules: Rules<'_>) -> Option<Option<Slug>> {
    match non_empty(raw) {
        None => Some(None),
        Some(s) => errors.take("slug", Slug::parse(s, rules.slugs)).map(Some),
    }
}

fn non_empty(s: Option<&str>) -> Option<&str> {
    s.map(str::trim).filter(|s| !s.is_empty())
}
