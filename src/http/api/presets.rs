//! `/api/v1/utm-presets`: the workspace's saved UTM presets. Everyone
//! signed in lists them; editors and admins create and delete them. The
//! rules are `links::presets`' (shared with the link form).

use axum::{
    Json, Router,
    extract::{Path, State},
    http::StatusCode,
    response::IntoResponse,
    routing::{delete, get},
};
use serde::Serialize;
use time::OffsetDateTime;

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
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/utm-presets", get(list_presets).post(create_preset))
        .route("/utm-presets/{id}", delete(delete_preset))
}

/// A preset as the API shows it.
#[derive(Debug, Serialize)]
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
#[derive(Debug, Serialize)]
pub struct PresetListResponse {
    data: Vec<PresetResponse>,
}

async fn list_presets(
    State(presets): State<UtmPresets>,
    _: Viewer,
) -> Result<Json<PresetListResponse>, ApiError> {
    let data = presets.list().await?.into_iter().map(Into::into).collect();
    Ok(Json(PresetListResponse { data }))
}

async fn create_preset(
    State(presets): State<UtmPresets>,
    Editor(user): Editor,
    AppJson(input): AppJson<PresetInput>,
) -> Result<impl IntoResponse, ApiError> {
    let preset = presets.create(input, Some(user.id)).await?;
    Ok((StatusCode::CREATED, Json(PresetResponse::from(preset))))
}

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
