//! `/api/v1/links/{id}/variants`, `/share` and `/qr.{svg,png}`: a link's
//! per-channel variants, its share kit and its QR codes. Handlers
//! deserialise, call the link desk (`links::Links`, whose `variants`,
//! `share` and `qr` files hold every rule) and map the result.

use axum::{
    Json, Router,
    extract::{Path, State},
    http::StatusCode,
    http::header,
    response::{IntoResponse, Response},
    routing::{get, post},
};
use serde::{Deserialize, Serialize};

use super::links::{LinkResponse, parse_id};
use crate::{
    http::{
        auth::{Editor, Viewer},
        error::ApiError,
        extract::{AppJson, AppQuery},
    },
    links::{
        Links,
        qr::{self, QrError, QrSize},
        share::ShareChannel,
    },
    state::AppState,
};

/// Routes of variants, share kit and QR codes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/links/{id}/variants", post(create_variants))
        .route("/links/{id}/share", get(share_kit))
        .route("/links/{id}/qr.svg", get(qr_svg))
        .route("/links/{id}/qr.png", get(qr_png))
}

/// Body of `POST /api/v1/links/{id}/variants`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateVariantsRequest {
    /// Channels wanted (see `links::variants::VARIANT_CHANNELS`).
    channels: Vec<String>,
}

/// Every variant of a link.
#[derive(Debug, Serialize)]
pub struct VariantsResponse {
    data: Vec<LinkResponse>,
}

/// Query of `GET /api/v1/links/{id}/share`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ShareQuery {
    /// The message; default: the link's title, else its destination.
    text: Option<String>,
}

/// The share kit of a link's variants.
#[derive(Debug, Serialize)]
pub struct ShareKitResponse {
    /// The message the share addresses carry.
    text: String,
    channels: Vec<ShareChannel>,
}

/// 201 when a variant was created, 200 when all existed already.
async fn create_variants(
    State(links): State<Links>,
    Editor(user): Editor,
    Path(id): Path<String>,
    AppJson(body): AppJson<CreateVariantsRequest>,
) -> Result<impl IntoResponse, ApiError> {
    let id = parse_id(&id)?;
    let before = links.variants(id).await?.len();
    let variants = links
        .create_variants(id, &body.channels, Some(user.id))
        .await?;
    let status = if variants.len() > before {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    let data = variants
        .into_iter()
        .map(|l| LinkResponse::new(&links, l))
        .collect();
    Ok((status, Json(VariantsResponse { data })))
}

async fn share_kit(
    State(links): State<Links>,
    _: Viewer,
    Path(id): Path<String>,
    AppQuery(q): AppQuery<ShareQuery>,
) -> Result<Json<ShareKitResponse>, ApiError> {
    let (channels, text) = links.share_kit(parse_id(&id)?, q.text).await?;
    Ok(Json(ShareKitResponse { text, channels }))
}

/// Query of `GET /api/v1/links/{id}/qr.{svg,png}`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QrQuery {
    /// Width and height in pixels (128–2048, default 512).
    size: Option<u32>,
}

impl From<QrError> for ApiError {
    fn from(e: QrError) -> ApiError {
        match e {
            QrError::SizeOutOfRange => {
                ApiError::new(StatusCode::BAD_REQUEST, "invalid_query", e.to_string()).field("size")
            }
            other => ApiError::internal(other),
        }
    }
}

/// The short URL of link `id` and the size asked for (the size first: a
/// bad one is refused before the database is asked).
async fn qr_target(
    links: &Links,
    id: &str,
    size: Option<u32>,
) -> Result<(String, QrSize), ApiError> {
    let size = QrSize::parse(size)?;
    let link = links.find(parse_id(id)?).await?;
    Ok((links.short_url(&link), size))
}

/// A QR image; private caching, as the API's other answers need a token.
fn image(content_type: &'static str, body: impl IntoResponse) -> Response {
    (
        [
            (header::CONTENT_TYPE, content_type),
            (header::CACHE_CONTROL, "private, max-age=300"),
        ],
        body,
    )
        .into_response()
}

async fn qr_svg(
    State(links): State<Links>,
    _: Viewer,
    Path(id): Path<String>,
    AppQuery(q): AppQuery<QrQuery>,
) -> Result<Response, ApiError> {
    let (url, size) = qr_target(&links, &id, q.size).await?;
    Ok(image("image/svg+xml", qr::svg(&url, size)?))
}

async fn qr_png(
    State(links): State<Links>,
    _: Viewer,
    Path(id): Path<String>,
    AppQuery(q): AppQuery<QrQuery>,
) -> Result<Response, ApiError> {
    let (url, size) = qr_target(&links, &id, q.size).await?;
    Ok(image("image/png", qr::png(&url, size)?))
}
