//! `/api/v1/links`: create, list, read, update and delete links. Handlers
//! parse the request into domain values, call the link store, update this
//! instance's cache at once, and map the result to a response.

use axum::{
    Json, Router,
    extract::{Path, State},
    http::StatusCode,
    response::IntoResponse,
    routing::get,
};
use serde::{Deserialize, Deserializer, Serialize};
use time::OffsetDateTime;

use crate::{
    http::{
        auth::{Editor, Viewer},
        error::ApiError,
        extract::{AppJson, AppQuery},
    },
    links::{
        self, Destination, Link, LinkPatch, NewLink, Slug, Utm, cache,
        store::{self, ListFilter},
    },
    state::AppState,
};

/// Routes of the links resource.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/links", get(list_links).post(create_link))
        .route(
            "/links/{id}",
            get(find_link).patch(update_link).delete(delete_link),
        )
}

/// Body of `POST /api/v1/links`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateLinkRequest {
    destination: String,
    slug: Option<String>,
    domain: Option<String>,
    #[serde(default)]
    utm: Utm,
    #[serde(default)]
    tags: Vec<String>,
    title: Option<String>,
    channel: Option<String>,
    parent_id: Option<i64>,
    #[serde(default, with = "time::serde::rfc3339::option")]
    expires_at: Option<OffsetDateTime>,
    enabled: Option<bool>,
}

/// Body of `PATCH /api/v1/links/{id}`: absent fields are left alone, `null` clears.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UpdateLinkRequest {
    slug: Option<String>,
    destination: Option<String>,
    utm: Option<Utm>,
    tags: Option<Vec<String>>,
    #[serde(default, deserialize_with = "present")]
    title: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    channel: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    parent_id: Option<Option<i64>>,
    #[serde(default, deserialize_with = "present_time")]
    expires_at: Option<Option<OffsetDateTime>>,
    enabled: Option<bool>,
}

/// A present field (even `null`) becomes `Some(..)`; an absent one stays `None` via `default`.
fn present<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
    d: D,
) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(d).map(Some)
}

fn present_time<'de, D: Deserializer<'de>>(
    d: D,
) -> Result<Option<Option<OffsetDateTime>>, D::Error> {
    time::serde::rfc3339::option::deserialize(d).map(Some)
}

/// Query of `GET /api/v1/links`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListLinksQuery {
    tag: Option<String>,
    q: Option<String>,
    limit: Option<i64>,
    cursor: Option<String>,
}

/// A link as the API shows it.
#[derive(Debug, Serialize)]
pub struct LinkResponse {
    id: i64,
    domain: String,
    slug: String,
    short_url: String,
    destination: String,
    /// The destination with the UTM fields merged: where the redirect goes.
    redirect_url: String,
    utm: Utm,
    tags: Vec<String>,
    title: Option<String>,
    channel: Option<String>,
    parent_id: Option<i64>,
    #[serde(with = "time::serde::rfc3339::option")]
    expires_at: Option<OffsetDateTime>,
    enabled: bool,
    slug_kind: links::SlugKind,
    created_by: Option<i64>,
    #[serde(with = "time::serde::rfc3339")]
    created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    updated_at: OffsetDateTime,
}

/// A page of links.
#[derive(Debug, Serialize)]
pub struct LinkListResponse {
    data: Vec<LinkResponse>,
    /// Pass as `cursor` to get the next page; `null` on the last page.
    next_cursor: Option<String>,
}

impl LinkResponse {
    fn new(state: &AppState, link: Link) -> LinkResponse {
        let cached = cache::CachedLink::from_link(&link);
        LinkResponse {
            short_url: state.domains.short_url(&link.domain, &link.slug),
            redirect_url: cached.target,
            utm: link.utm(),
            slug_kind: link.slug_kind(),
            id: link.id,
            domain: link.domain,
            slug: link.slug,
            destination: link.destination,
            tags: link.tags,
            title: link.title,
            channel: link.channel,
            parent_id: link.parent_id,
            expires_at: link.expires_at,
            enabled: link.enabled,
            created_by: link.created_by,
            created_at: link.created_at,
            updated_at: link.updated_at,
        }
    }
}

async fn create_link(
    State(state): State<AppState>,
    Editor(user): Editor,
    AppJson(req): AppJson<CreateLinkRequest>,
) -> Result<impl IntoResponse, ApiError> {
    let new = parse_new_link(&state, req, user.id)?;
    if let Some(parent) = new.parent_id {
        check_parent(&state, parent, None).await?;
    }
    let link = store::create(&state.pool, &new, &state.settings.slugs).await?;
    state.cache.put(&link);
    Ok((StatusCode::CREATED, Json(LinkResponse::new(&state, link))))
}

fn parse_new_link(
    state: &AppState,
    req: CreateLinkRequest,
    user_id: i64,
) -> Result<NewLink, ApiError> {
    let domain = state
        .domains
        .by_name(req.domain.as_deref())
        .ok_or_else(|| {
            ApiError::invalid(
                "domain",
                "unknown_domain",
                "this Lanterne does not serve that domain",
            )
        })?;
    let slug = match req.slug.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(s) => Some(Slug::parse(s, &state.settings.slugs).map_err(links::LinkError::from)?),
    };
    Ok(NewLink {
        domain_id: domain.id,
        slug,
        destination: Destination::parse(&req.destination, &state.served_hosts)
            .map_err(links::LinkError::from)?,
        utm: Utm::parse(req.utm)?,
        tags: links::parse_tags(req.tags)?,
        title: links::parse_title(req.title)?,
        channel: links::parse_channel(req.channel)?,
        parent_id: req.parent_id,
        expires_at: links::parse_expiry(req.expires_at, OffsetDateTime::now_utc())?,
        enabled: req.enabled.unwrap_or(true),
        created_by: Some(user_id),
    })
}

/// A parent must be a live link, and a link cannot be its own parent.
async fn check_parent(state: &AppState, parent: i64, child: Option<i64>) -> Result<(), ApiError> {
    if Some(parent) == child {
        return Err(ApiError::invalid(
            "parent_id",
            "invalid_parent",
            "a link cannot be its own parent",
        ));
    }
    match store::find(&state.pool, parent).await {
        Ok(_) => Ok(()),
        Err(store::StoreError::NotFound) => Err(ApiError::invalid(
            "parent_id",
            "invalid_parent",
            "the parent link does not exist",
        )),
        Err(e) => Err(e.into()),
    }
}

async fn list_links(
    State(state): State<AppState>,
    _: Viewer,
    AppQuery(q): AppQuery<ListLinksQuery>,
) -> Result<Json<LinkListResponse>, ApiError> {
    let limit = q.limit.unwrap_or(20);
    if !(1..=100).contains(&limit) {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid_query",
            "limit must be between 1 and 100",
        )
        .field("limit"));
    }
    let before = q.cursor.as_deref().map(parse_cursor).transpose()?;
    let filter = ListFilter {
        tag: q.tag.filter(|t| !t.is_empty()),
        text: q.q.filter(|t| !t.is_empty()),
        before,
        limit,
    };
    let links = store::list(&state.pool, &filter).await?;
    let next_cursor = (links.len() as i64 == limit)
        .then(|| {
            links
                .last()
                .map(|l| format!("{}.{}", l.created_at.unix_timestamp_nanos(), l.id))
        })
        .flatten();
    let data = links
        .into_iter()
        .map(|l| LinkResponse::new(&state, l))
        .collect();
    Ok(Json(LinkListResponse { data, next_cursor }))
}

/// `<unix nanos>.<id>` of the last link of the previous page.
fn parse_cursor(c: &str) -> Result<(OffsetDateTime, i64), ApiError> {
    let bad = || {
        ApiError::new(StatusCode::BAD_REQUEST, "invalid_query", "malformed cursor").field("cursor")
    };
    let (nanos, id) = c.split_once('.').ok_or_else(bad)?;
    let nanos: i128 = nanos.parse().map_err(|_| bad())?;
    let at = OffsetDateTime::from_unix_timestamp_nanos(nanos).map_err(|_| bad())?;
    Ok((at, id.parse().map_err(|_| bad())?))
}

async fn find_link(
    State(state): State<AppState>,
    _: Viewer,
    Path(id): Path<String>,
) -> Result<Json<LinkResponse>, ApiError> {
    let link = store::find(&state.pool, parse_id(&id)?).await?;
    Ok(Json(LinkResponse::new(&state, link)))
}

async fn update_link(
    State(state): State<AppState>,
    _: Editor,
    Path(id): Path<String>,
    AppJson(req): AppJson<UpdateLinkRequest>,
) -> Result<Json<LinkResponse>, ApiError> {
    let id = parse_id(&id)?;
    let patch = parse_patch(&state, req)?;
    if let Some(Some(parent)) = patch.parent_id {
        check_parent(&state, parent, Some(id)).await?;
    }
    let before = store::find(&state.pool, id).await?;
    let link = store::update(&state.pool, id, &patch).await?;
    // The trigger's NOTIFY tells the other instances; this one changes now.
    state.cache.invalidate(&cache::key(
        before.domain_id,
        &before.slug.to_ascii_lowercase(),
    ));
    state.cache.put(&link);
    Ok(Json(LinkResponse::new(&state, link)))
}

fn parse_patch(state: &AppState, req: UpdateLinkRequest) -> Result<LinkPatch, ApiError> {
    let rules = &state.settings.slugs;
    Ok(LinkPatch {
        slug: req
            .slug
            .map(|s| Slug::parse(s.trim(), rules))
            .transpose()
            .map_err(links::LinkError::from)?,
        destination: req
            .destination
            .map(|d| Destination::parse(&d, &state.served_hosts))
            .transpose()
            .map_err(links::LinkError::from)?,
        utm: req.utm.map(Utm::parse).transpose()?,
        tags: req.tags.map(links::parse_tags).transpose()?,
        title: req.title.map(links::parse_title).transpose()?,
        channel: req.channel.map(links::parse_channel).transpose()?,
        parent_id: req.parent_id,
        expires_at: req
            .expires_at
            .map(|e| links::parse_expiry(e, OffsetDateTime::now_utc()))
            .transpose()?,
        enabled: req.enabled,
    })
}

async fn delete_link(
    State(state): State<AppState>,
    _: Editor,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let link = store::find(&state.pool, parse_id(&id)?).await?;
    store::delete(&state.pool, link.id).await?;
    state
        .cache
        .invalidate(&cache::key(link.domain_id, &link.slug));
    Ok(StatusCode::NO_CONTENT)
}

/// Link ids are positive integers; anything else cannot exist.
fn parse_id(raw: &str) -> Result<i64, ApiError> {
    raw.parse::<i64>()
        .ok()
        .filter(|id| *id > 0)
        .ok_or_else(|| ApiError::not_found("link"))
}
