//! `/api/v1/utm-presets`: the workspace's saved UTM presets. Everyone
//! signed in lists them; editors and admins create and delete them. The
//! rules are `links::presets`' (shared with the link form).

use axum::{
    Json,
    extract::{Path, State},
    http::StatusCode,
    response::IntoResponse,
};
use serde::Serialize;
use time::OffsetDateTime;
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

use super::openapi::ErrorBody;

use crate::{
    http::{
        auth::{Editor, Viewer},
        error::ApiError,
        extract::AppJson,
    },
    links::{
        Utm,
        presets::{PresetInput, UtmPreset, UtmPresets},
    },
    state::AppState,
};

/// Routes of the presets resource.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_presets, create_preset))
        .routes(routes!(delete_preset))
}

/// A preset as the API shows it.
#[derive(Debug, Serialize, ToSchema)]
pub struct PresetResponse {
    id: i64,
    name: String,
    utm: Utm,
    created_by: Option<i64>,
    #[serde(with = "time::serde::rfc3339")]
    created_at: OffsetDateTime,
}

impl From<UtmPreset> for PresetResponse {
    fn from(p: UtmPreset) -> PresetResponse {
        PresetResponse {
            id: p.id,
            name: p.name,
            utm: p.utm,
            created_by: p.created_by,
            created_at: p.created_at,
        }
    }
}

/// `{"data": [...]}`, by name.
#[derive(Debug, Serialize, ToSchema)]
pub struct PresetListResponse {
    data: Vec<PresetResponse>,
}

/// The workspace's saved UTM presets, by name.
#[utoipa::path(get, path = "/utm-presets", tag = "utm-presets",
    responses(
        (status = 200, description = "The presets", body = PresetListResponse),
        (status = 401, description = "No or bad credential", body = ErrorBody),
    ))]
async fn list_presets(
    State(presets): State<UtmPresets>,
    _: Viewer,
) -> Result<Json<PresetListResponse>, ApiError> {
    let data = presets.list().await?.into_iter().map(Into::into).collect();
    Ok(Json(PresetListResponse { data }))
}

/// Saves a UTM preset (editors and admins).
#[utoipa::path(post, path = "/utm-presets", tag = "utm-presets",
    request_body = PresetInput,
    responses(
        (status = 201, description = "The preset", body = PresetResponse),
        (status = 400, description = "Malformed JSON", body = ErrorBody),
        (status = 401, description = "No or bad credential", body = ErrorBody),
        (status = 403, description = "Viewers may not save presets", body = ErrorBody),
        (status = 409, description = "A preset has that name", body = ErrorBody),
        (status = 422, description = "Refused fields, each named in `fields`", body = ErrorBody),
    ))]
async fn create_preset(
    State(presets): State<UtmPresets>,
    Editor(user): Editor,
    AppJson(input): AppJson<PresetInput>,
) -> Result<impl IntoResponse, ApiError> {
    let preset = presets.create(input, Some(user.id)).await?;
    Ok((StatusCode::CREATED, Json(PresetResponse::from(preset))))
}

/// Deletes a UTM preset (editors and admins).
#[utoipa::path(delete, path = "/utm-presets/{id}", tag = "utm-presets",
    params(("id" = i64, Path, description = "Preset id")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 401, description = "No or bad credential", body = ErrorBody),
        (status = 403, description = "Viewers may not delete presets", body = ErrorBody),
        (status = 404, description = "No such preset", body = ErrorBody),
    ))]
async fn delete_preset(
    State(presets): State<UtmPresets>,
    _: Editor,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let id = id
        .parse::<i64>()
        .ok()
        .filter(|id| *id > 0)
        .ok_or_else(|| ApiError::not_found("preset"))?;
    presets.delete(id).await?;
    Ok(StatusCode::NO_CONTENT)
}
