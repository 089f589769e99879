//! `/api/v1/links`: create, list, read, update and delete links. Handlers
//! deserialise the request, call the link desk (`links::Links`, shared with
//! the pages) and map the result to a response; no rule is checked here.

use axum::{
    Json, Router,
    extract::{Path, State},
    http::StatusCode,
    response::IntoResponse,
    routing::get,
};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

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
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/links", get(list_links).post(create_link))
        .route(
            "/links/{id}",
            get(find_link).patch(update_link).delete(delete_link),
        )
}

/// Query of `GET /api/v1/links`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListLinksQuery {
    tag: Option<String>,
    campaign: Option<String>,
    q: Option<String>,
    parent_id: Option<i64>,
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
#[derive(Debug, Serialize)]
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

async fn create_link(
    State(links): State<Links>,
    Editor(user): Editor,
    AppJson(input): AppJson<LinkInput>,
) -> Result<impl IntoResponse, ApiError> {
    let link = links.create(input, Some(user.id)).await?;
    Ok((StatusCode::CREATED, Json(LinkResponse::new(&links, link))))
}

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

async fn find_link(
    State(links): State<Links>,
    _: Viewer,
    Path(id): Path<String>,
) -> Result<Json<LinkResponse>, ApiError> {
    let link = links.find(parse_id(&id)?).await?;
    Ok(Json(LinkResponse::new(&links, link)))
}

async fn update_link(
    State(links): State<Links>,
    _: Editor,
    Path(id): Path<String>,
    AppJson(input): AppJson<LinkPatchInput>,
) -> Result<Json<LinkResponse>, ApiError> {
    let link = links.update(parse_id(&id)?, input).await?;
    Ok(Json(LinkResponse::new(&links, link)))
}

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
