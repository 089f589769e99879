//! `/links`: the create and edit forms (with the UTM builder, its presets
//! and the preview card) and the link's page (the list is `link_list.rs`). Every rule is the link desk's
//! (`links::Links`); refused fields come back all at once and are shown
//! beside their fields, with what the user typed kept.

use askama::Template;
use askama_web::WebTemplate;
use axum::{
    Json,
    extract::{Path, Query, State},
    http::{HeaderMap, StatusCode},
    response::{IntoResponse, Response},
};
use std::collections::HashMap;

use serde::Deserialize;

use super::{
    Chrome, EditorPage, PageForm, SignedIn, card::CardView, flash, form::FormView,
    link_view::LinkView, presets::Action,
};
use crate::{
    http::error::page::PageError,
    i18n::Tr,
    links::{InvalidLink, LinkError, Links, input::LinkPatchInput, presets::UtmPresets},
    state::AppState,
};

pub use super::form::LinkForm;

/// The create and edit forms.
#[derive(Template, WebTemplate)]
#[template(path = "links/form.html")]
pub struct FormPage {
    t: Tr,
    chrome: Chrome,
    form: FormView,
    /// `None` when creating.
    link_id: Option<i64>,
}

fn form_page(chrome: Chrome, form: FormView, link_id: Option<i64>) -> FormPage {
    FormPage {
        t: chrome.t,
        chrome: chrome.at(if link_id.is_some() { "links" } else { "new" }),
        form,
        link_id,
    }
}

/// The form's view, with the workspace's saved presets.
async fn form_view(
    links: &Links,
    presets: &UtmPresets,
    t: Tr,
    values: LinkForm,
    invalid: Option<&InvalidLink>,
) -> Result<FormView, PageError> {
    let saved = presets.list().await?;
    Ok(FormView::new(links, t, values, invalid, &saved))
}

/// `GET /links/new`.
pub async fn new_form(
    State(links): State<Links>,
    State(presets): State<UtmPresets>,
    EditorPage(page): EditorPage,
) -> Result<FormPage, PageError> {
    let form = form_view(&links, &presets, page.chrome.t, LinkForm::default(), None).await?;
    Ok(form_page(page.chrome, form, None))
}

/// `POST /links`: creates the link and shows its page, or the form with
/// every error; a preset button shows the form again after its action.
pub async fn create(
    State(links): State<Links>,
    State(presets): State<UtmPresets>,
    EditorPage(page): EditorPage,
    PageForm(form): PageForm<LinkForm>,
) -> Result<Response, PageError> {
    if let Some(action) = Action::of(&form) {
        return preset_action(&links, &presets, page, action, form, None).await;
    }
    let (input, time_error) = form.to_input();
    let created = match time_error {
        Some(e) => Err(LinkError::Invalid(merge(e, links.check_new(input)))),
        None => links.create(input, Some(page.user.id)).await,
    };
    match created {
        Ok(link) => Ok(flash::redirect(
            &format!("/links/{}", link.id),
            "flash.link_created",
            &links.short_url(&link),
        )),
        Err(LinkError::Invalid(invalid)) => {
            refused(&links, &presets, page.chrome, form, invalid, None).await
        }
        Err(e) => Err(e.into()),
    }
}

/// The form again after a preset action, with every typed value kept.
async fn preset_action(
    links: &Links,
    presets: &UtmPresets,
    page: super::SignedIn,
    action: Action,
    form: LinkForm,
    link_id: Option<i64>,
) -> Result<Response, PageError> {
    let t = page.chrome.t;
    let out = super::presets::act(presets, t, action, form, page.user.id).await?;
    let mut view = form_view(links, presets, t, out.values, out.invalid.as_ref()).await?;
    view.notice = out.notice;
    if let Some((id, message)) = out.error {
        view.push_error(id, message);
    }
    let status = if view.errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    Ok((status, form_page(page.chrome, view, link_id)).into_response())
}

/// The form again, with every refused field and what the user typed.
async fn refused(
    links: &Links,
    presets: &UtmPresets,
    chrome: Chrome,
    form: LinkForm,
    invalid: InvalidLink,
    link_id: Option<i64>,
) -> Result<Response, PageError> {
    let view = form_view(links, presets, chrome.t, form, Some(&invalid)).await?;
    Ok((
        StatusCode::UNPROCESSABLE_ENTITY,
        form_page(chrome, view, link_id),
    )
        .into_response())
}

/// A form's own error (a date it could not read) beside the domain's.
fn merge(first: crate::links::FieldError, rest: Option<InvalidLink>) -> InvalidLink {
    let mut all = vec![first];
    all.extend(rest.map(|r| r.0).unwrap_or_default());
    InvalidLink(all)
}

/// The link's page.
#[derive(Template, WebTemplate)]
#[template(path = "links/show.html")]
pub struct ShowPage {
    t: Tr,
    chrome: Chrome,
    link: LinkView,
    share: super::share::ShareView,
    card: CardView,
    dash: super::dashboard::Dashboard,
}

/// `GET /links/{id}`.
pub async fn show(
    State(links): State<Links>,
    State(state): State<AppState>,
    page: SignedIn,
    Path(id): Path<String>,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Result<ShowPage, PageError> {
    let link = links.find(parse_id(&id)?).await?;
    let t = page.chrome.t;
    let variants = links.variants(link.id).await?;
    let text = crate::links::share::parse_text(q.get("text").cloned())
        .map_err(|_| PageError::BadRequest)?;
    let share = super::share::ShareView::new(&links, &link, &variants, text);
    let (base, id) = (format!("/links/{}", link.id), link.id.to_string());
    let dash = super::dashboard::Dashboard::load(
        (&state.pool, state.settings.stats.raw_budget),
        t,
        &base,
        Some(("link_id", &id)),
        &q,
        &headers,
    )
    .await?;
    Ok(ShowPage {
        t,
        chrome: page.chrome.at("links"),
        link: LinkView::new(&links, &link, t),
        card: CardView::of_link(&links, &link),
        share,
        dash,
    })
}

/// `GET /links/{id}/edit`.
pub async fn edit_form(
    State(links): State<Links>,
    State(presets): State<UtmPresets>,
    EditorPage(page): EditorPage,
    Path(id): Path<String>,
) -> Result<FormPage, PageError> {
    let link = links.find(parse_id(&id)?).await?;
    let values = LinkForm::from_link(&link);
    let form = form_view(&links, &presets, page.chrome.t, values, None).await?;
    Ok(form_page(page.chrome, form, Some(link.id)))
}

/// `POST /links/{id}`: saves the edit form.
pub async fn update(
    State(links): State<Links>,
    State(presets): State<UtmPresets>,
    EditorPage(page): EditorPage,
    Path(id): Path<String>,
    PageForm(form): PageForm<LinkForm>,
) -> Result<Response, PageError> {
    let id = parse_id(&id)?;
    if let Some(action) = Action::of(&form) {
        let link = links.find(id).await?;
        return preset_action(&links, &presets, page, action, form, Some(link.id)).await;
    }
    let (patch, time_error) = form.to_patch();
    let updated = match time_error {
        Some(e) => Err(LinkError::Invalid(InvalidLink(vec![e]))),
        None => links.update(id, patch).await,
    };
    match updated {
        Ok(link) => Ok(flash::redirect(
            &format!("/links/{}", link.id),
            "flash.link_saved",
            &links.short_url(&link),
        )),
        Err(LinkError::Invalid(invalid)) => {
            refused(&links, &presets, page.chrome, form, invalid, Some(id)).await
        }
        Err(e) => Err(e.into()),
    }
}

/// Body of `POST /links/{id}/enabled`.
#[derive(Debug, Deserialize)]
pub struct EnabledForm {
    enabled: String,
}

/// `POST /links/{id}/enabled`: turns the link on or off.
pub async fn set_enabled(
    State(links): State<Links>,
    _: EditorPage,
    Path(id): Path<String>,
    PageForm(form): PageForm<EnabledForm>,
) -> Result<Response, PageError> {
    let enabled = form.enabled == "true";
    let patch = LinkPatchInput {
        enabled: Some(Some(enabled)),
        ..LinkPatchInput::default()
    };
    let link = links.update(parse_id(&id)?, patch).await?;
    let key = if enabled {
        "flash.link_enabled"
    } else {
        "flash.link_disabled"
    };
    Ok(flash::redirect(
        &format!("/links/{}", link.id),
        key,
        &links.short_url(&link),
    ))
}

/// The confirmation before a delete (works without JavaScript).
#[derive(Template, WebTemplate)]
#[template(path = "links/delete.html")]
pub struct DeletePage {
    t: Tr,
    chrome: Chrome,
    link: LinkView,
}

/// `GET /links/{id}/delete`.
pub async fn confirm_delete(
    State(links): State<Links>,
    EditorPage(page): EditorPage,
    Path(id): Path<String>,
) -> Result<DeletePage, PageError> {
    let link = links.find(parse_id(&id)?).await?;
    let t = page.chrome.t;
    Ok(DeletePage {
        t,
        chrome: page.chrome.at("links"),
        link: LinkView::new(&links, &link, t),
    })
}

/// `POST /links/{id}/delete`.
pub async fn delete(
    State(links): State<Links>,
    _: EditorPage,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let id = parse_id(&id)?;
    let link = links.find(id).await?;
    links.delete(id).await?;
    Ok(flash::redirect(
        "/links",
        "flash.link_deleted",
        &links.short_url(&link),
    ))
}

/// Query of the live slug check.
#[derive(Debug, Deserialize)]
pub struct SlugQuery {
    slug: String,
    domain: Option<String>,
}

/// `GET /links/slug-check?slug=&domain=`: `{"available", "message"}` for the form's script.
pub async fn slug_check(
    State(links): State<Links>,
    EditorPage(page): EditorPage,
    Query(q): Query<SlugQuery>,
) -> Result<Json<serde_json::Value>, PageError> {
    let t = page.chrome.t;
    let domain = q.domain.as_deref().filter(|d| !d.is_empty());
    let answer = match links.slug_available(domain, &q.slug).await? {
        Ok(()) => serde_json::json!({"available": true, "message": t.get("form.slug_free")}),
        Err(problem) => serde_json::json!({
            "available": false,
            "message": super::form::problem_text(t, &problem),
        }),
    };
    Ok(Json(answer))
}

/// Link ids are positive integers; anything else cannot exist.
pub fn parse_id(raw: &str) -> Result<i64, PageError> {
    raw.parse::<i64>()
        .ok()
        .filter(|id| *id > 0)
        .ok_or(PageError::NotFound)
}
