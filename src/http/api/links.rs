//! `/api/v1/links`: create, list, read, update and delete links. Handlers
//! deserialise the request, call the link desk (`links::Links`, shared with
//! the pages) and map the result to a response; no rule is checked here.

use axum::{
    Json,
    extract::{Path, State},
    http::StatusCode,
    response::IntoResponse,
};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::{router::OpenApiRouter, routes};

use super::openapi::ErrorBody;

use crate::{
    http::{
        auth::{Editor, Viewer},
        error::ApiError,
        extract::{AppJson, AppQuery},
    },
    links::{
        Link, Links, Preview, Utm, cache,
        input::{LinkInput, LinkPatchInput},
        paging::PageRequest,
        store::ListFilter,
    },
    state::AppState,
};

/// Routes of the links resource.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_links, create_link))
        .routes(routes!(find_link, update_link, delete_link))
}

/// Query of `GET /api/v1/links`.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListLinksQuery {
    /// Only links carrying this tag.
    tag: Option<String>,
    /// Only links whose utm_campaign is this.
    campaign: Option<String>,
    /// Text searched in the slug, destination and title.
    q: Option<String>,
    /// Only the variants of this link.
    parent_id: Option<i64>,
    /// Page size (1-100, default 20).
    limit: Option<i64>,
    /// The `next_cursor` of the previous page.
    cursor: Option<String>,
}

/// A link as the API shows it.
#[derive(Debug, Serialize, ToSchema)]
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
    /// The preview card; `null` when the link has none.
    preview: Option<Preview>,
    #[serde(with = "time::serde::rfc3339::option")]
    expires_at: Option<OffsetDateTime>,
    enabled: bool,
    slug_kind: crate::links::SlugKind,
    created_by: Option<i64>,
    #[serde(with = "time::serde::rfc3339")]
    created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    updated_at: OffsetDateTime,
}

/// A page of links.
#[derive(Debug, Serialize, ToSchema)]
pub struct LinkListResponse {
    data: Vec<LinkResponse>,
    /// Pass as `cursor` to get the next page; `null` on the last page.
    next_cursor: Option<String>,
}

impl LinkResponse {
    /// The API's view of a link.
    pub fn new(links: &Links, link: Link) -> LinkResponse {
        let cached = cache::CachedLink::from_link(&link);
        LinkResponse {
            short_url: links.short_url(&link),
            redirect_url: cached.target,
            utm: link.utm(),
            preview: link.preview(),
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

/// Creates a link (editors and admins).
#[utoipa::path(post, path = "/links", tag = "links",
    request_body = LinkInput,
    responses(
        (status = 201, description = "The link created", body = LinkResponse),
        (status = 400, description = "Malformed JSON", body = ErrorBody),
        (status = 401, description = "No or bad credential", body = ErrorBody),
        (status = 403, description = "A viewer may not create links", body = ErrorBody),
        (status = 409, description = "The slug is taken on this domain", body = ErrorBody),
        (status = 422, description = "Refused fields (every one in `fields`)", body = ErrorBody),
    ))]
async fn create_link(
    State(links): State<Links>,
    Editor(user): Editor,
    AppJson(input): AppJson<LinkInput>,
) -> Result<impl IntoResponse, ApiError> {
    let link = links.create(input, Some(user.id)).await?;
    Ok((StatusCode::CREATED, Json(LinkResponse::new(&links, link))))
}

/// Lists links, newest first, a page at a time.
#[utoipa::path(get, path = "/links", tag = "links",
    params(ListLinksQuery),
    responses(
        (status = 200, description = "A page of links", body = LinkListResponse),
        (status = 400, description = "A bad limit, cursor or unknown parameter", body = ErrorBody),
        (status = 401, description = "No or bad credential", body = ErrorBody),
    ))]
async fn list_links(
    State(links): State<Links>,
    _: Viewer,
    AppQuery(q): AppQuery<ListLinksQuery>,
) -> Result<Json<LinkListResponse>, ApiError> {
    let page = PageRequest::parse(q.limit, q.cursor.as_deref())?;
    let filter = ListFilter {
        tag: q.tag.filter(|t| !t.is_empty()),
        campaign: q.campaign.filter(|t| !t.is_empty()),
        text: q.q.filter(|t| !t.is_empty()),
        parent_id: q.parent_id,
        ..ListFilter::default()
    };
    let found = links.list(filter, page).await?;
    let data = found
        .links
        .into_iter()
        .map(|l| LinkResponse::new(&links, l))
        .collect();
    Ok(Json(LinkListResponse {
        data,
        next_cursor: found.next_cursor,
    }))
}

/// Reads a link.
#[utoipa::path(get, path = "/links/{id}", tag = "links",
    params(("id" = i64, Path, description = "Link id")),
    responses(
        (status = 200, description = "The link", body = LinkResponse),
        (status = 401, description = "No or bad credential", body = ErrorBody),
        (status = 404, description = "No such link", body = ErrorBody),
    ))]
async fn find_link(
    State(links): State<Links>,
    _: Viewer,
    Path(id): Path<String>,
) -> Result<Json<LinkResponse>, ApiError> {
    let link = links.find(parse_id(&id)?).await?;
    Ok(Json(LinkResponse::new(&links, link)))
}

/// Changes a link: absent fields are left alone, `null` clears (editors and admins).
#[utoipa::path(patch, path = "/links/{id}", tag = "links",
    params(("id" = i64, Path, description = "Link id")),
    request_body = LinkPatchInput,
    responses(
        (status = 200, description = "The link changed", body = LinkResponse),
        (status = 400, description = "Malformed JSON", body = ErrorBody),
        (status = 401, description = "No or bad credential", body = ErrorBody),
        (status = 403, description = "A viewer may not change links", body = ErrorBody),
        (status = 404, description = "No such link", body = ErrorBody),
        (status = 409, description = "The slug is taken on this domain", body = ErrorBody),
        (status = 422, description = "Refused fields (every one in `fields`)", body = ErrorBody),
    ))]
async fn update_link(
    State(links): State<Links>,
    _: Editor,
    Path(id): Path<String>,
    AppJson(input): AppJson<LinkPatchInput>,
) -> Result<Json<LinkResponse>, ApiError> {
    let link = links.update(parse_id(&id)?, input).await?;
    Ok(Json(LinkResponse::new(&links, link)))
}

/// Deletes a link (editors and admins); its short URL stops redirecting.
#[utoipa::path(delete, path = "/links/{id}", tag = "links",
    params(("id" = i64, Path, description = "Link id")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 401, description = "No or bad credential", body = ErrorBody),
        (status = 403, description = "A viewer may not delete links", body = ErrorBody),
        (status = 404, description = "No such link", body = ErrorBody),
    ))]
async fn delete_link(
    State(links): State<Links>,
    _: Editor,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    links.delete(parse_id(&id)?).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Link ids are positive integers; anything else cannot exist.
pub fn parse_id(raw: &str) -> Result<i64, ApiError> {
    raw.parse::<i64>()
        .ok()
        .filter(|id| *id > 0)
        .ok_or_else(|| ApiError::not_found("link"))
}
