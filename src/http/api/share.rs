//! `/api/v1/links/{id}/variants`, `/share` and `/qr.{svg,png}`: a link's
//! per-channel variants, its share kit and its QR codes. Handlers
//! deserialise, call the link desk (`links::Links`, whose `variants`,
//! `share` and `qr` files hold every rule) and map the result.

use axum::{
    Json,
    extract::{Path, State},
    http::StatusCode,
    http::header,
    response::{IntoResponse, Response},
};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::{router::OpenApiRouter, routes};

use super::{
    links::{LinkResponse, parse_id},
    openapi::ErrorBody,
};
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
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_variants))
        .routes(routes!(share_kit))
        .routes(routes!(qr_svg))
        .routes(routes!(qr_png))
}

/// Body of `POST /api/v1/links/{id}/variants`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateVariantsRequest {
    /// Channels wanted (see `links::variants::VARIANT_CHANNELS`).
    channels: Vec<String>,
}

/// Every variant of a link.
#[derive(Debug, Serialize, ToSchema)]
pub struct VariantsResponse {
    data: Vec<LinkResponse>,
}

/// Query of `GET /api/v1/links/{id}/share`.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ShareQuery {
    /// The message; default: the link's title, else its destination.
    text: Option<String>,
}

/// The share kit of a link's variants.
#[derive(Debug, Serialize, ToSchema)]
pub struct ShareKitResponse {
    /// The message the share addresses carry.
    text: String,
    channels: Vec<ShareChannel>,
}

/// Makes the variants of a link for some channels, in one action (editors
/// and admins): 201 when a variant was created, 200 when all existed already.
#[utoipa::path(post, path = "/links/{id}/variants", tag = "share",
    params(("id" = i64, Path, description = "Id of the parent link")),
    request_body = CreateVariantsRequest,
    responses(
        (status = 200, description = "Every variant existed already: all of them", body = VariantsResponse),
        (status = 201, description = "Variants created: all of them", body = VariantsResponse),
        (status = 400, description = "Malformed JSON", body = ErrorBody),
        (status = 401, description = "No or bad credential", body = ErrorBody),
        (status = 403, description = "A viewer may not create variants", body = ErrorBody),
        (status = 404, description = "No such link", body = ErrorBody),
        (status = 422, description = "Refused channels (unknown, or not one a variant can be made for)", body = ErrorBody),
    ))]
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

/// The share kit of a link: per variant, the address that opens the app ready to send.
#[utoipa::path(get, path = "/links/{id}/share", tag = "share",
    params(("id" = i64, Path, description = "Link id"), ShareQuery),
    responses(
        (status = 200, description = "The share kit", body = ShareKitResponse),
        (status = 400, description = "An unknown parameter", body = ErrorBody),
        (status = 401, description = "No or bad credential", body = ErrorBody),
        (status = 404, description = "No such link", body = ErrorBody),
    ))]
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
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
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

/// The QR code of a link's short URL, as SVG.
#[utoipa::path(get, path = "/links/{id}/qr.svg", tag = "share",
    params(("id" = i64, Path, description = "Link id"), QrQuery),
    responses(
        (status = 200, description = "The QR code", body = String, content_type = "image/svg+xml"),
        (status = 400, description = "A size out of range", body = ErrorBody),
        (status = 401, description = "No or bad credential", body = ErrorBody),
        (status = 404, description = "No such link", body = ErrorBody),
    ))]
async fn qr_svg(
    State(links): State<Links>,
    _: Viewer,
    Path(id): Path<String>,
    AppQuery(q): AppQuery<QrQuery>,
) -> Result<Response, ApiError> {
    let (url, size) = qr_target(&links, &id, q.size).await?;
    Ok(image("image/svg+xml", qr::svg(&url, size)?))
}

/// The QR code of a link's short URL, as PNG.
#[utoipa::path(get, path = "/links/{id}/qr.png", tag = "share",
    params(("id" = i64, Path, description = "Link id"), QrQuery),
    responses(
        (status = 200, description = "The QR code", body = inline(super::openapi::Binary), content_type = "image/png"),
        (status = 400, description = "A size out of range", body = ErrorBody),
        (status = 401, description = "No or bad credential", body = ErrorBody),
        (status = 404, description = "No such link", body = ErrorBody),
    ))]
async fn qr_png(
    State(links): State<Links>,
    _: Viewer,
    Path(id): Path<String>,
    AppQuery(q): AppQuery<QrQuery>,
) -> Result<Response, ApiError> {
    let (url, size) = qr_target(&links, &id, q.size).await?;
    Ok(image("image/png", qr::png(&url, size)?))
}
