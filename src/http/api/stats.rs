//! `GET /api/v1/stats`: the statistics of a link, a campaign, a tag or the
//! whole workspace over a range (see `stats::StatsQuery` for the
//! parameters). Viewers may read. The handler parses, calls the stats read
//! side and maps its errors; it holds no SQL.

use std::collections::HashMap;

use axum::{Json, extract::State, http::StatusCode};
use utoipa_axum::{router::OpenApiRouter, routes};

use super::openapi::{ErrorBody, StatsParams};
use crate::{
    http::{auth::Viewer, error::ApiError, extract::AppQuery},
    state::AppState,
    stats::{self, StatsError, StatsQuery, StatsView},
};

/// Routes of the stats resource.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(find_stats))
}

/// `GET /api/v1/stats?link_id=|campaign=|tag=&from=&to=&interval=&tz=&<dimension>=a,b,!c`
#[utoipa::path(get, path = "/stats", tag = "stats",
    params(StatsParams),
    responses(
        (status = 200, description = "The statistics of the scope and range",
            body = super::openapi::StatsView),
        (status = 400, description = "A bad parameter, named in `field`", body = ErrorBody),
        (status = 401, description = "No or bad credential", body = ErrorBody),
        (status = 404, description = "`link_id` names no link", body = ErrorBody),
        (status = 422, description = "Filters on several dimensions (the channel aside) over a range too busy to count in time (`filters_too_broad`)", body = ErrorBody),
    ))]
pub async fn find_stats(
    State(state): State<AppState>,
    _: Viewer,
    AppQuery(params): AppQuery<HashMap<String, String>>,
) -> Result<Json<StatsView>, ApiError> {
    let mut query = StatsQuery::parse(&params).map_err(api_error)?;
    query.raw_budget = state.settings.stats.raw_budget;
    let view = stats::view(&state.pool, &query).await.map_err(api_error)?;
    Ok(Json(view))
}

/// The API's answer to a stats error: 400 naming the parameter, 404, or 500.
pub fn api_error(e: StatsError) -> ApiError {
    match e {
        StatsError::Invalid { field, message } => ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid_parameter",
            format!("{field}: {message}"),
        )
        .field(field),
        StatsError::UnknownLink => ApiError::not_found("link"),
        e @ StatsError::TooBroad => ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "filters_too_broad",
            e.to_string(),
        ),
        StatsError::Database(e) => ApiError::database(&e),
    }
}
