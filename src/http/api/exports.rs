//! CSV exports: `GET /api/v1/links/{id}/clicks.csv` (a link's human clicks,
//! streamed; `from`/`to`/`tz` as in the stats API, everything by default)
//! and `GET /api/v1/stats/{breakdown}.csv` (one breakdown of the stats view,
//! e.g. `countries.csv`, with the stats API's parameters). Viewers may read.
//! Handlers hold no SQL and no CSV rule: both are in `stats::export`.

use std::collections::HashMap;

use axum::{
    body::Body,
    extract::{Path, State},
    http::{HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use time::OffsetDateTime;
use utoipa_axum::{router::OpenApiRouter, routes};

use super::{
    openapi::{ClicksCsvParams, ErrorBody, StatsParams},
    stats::api_error,
};
use crate::{
    http::{auth::Viewer, error::ApiError, extract::AppQuery},
    state::AppState,
    stats::{self, Bound, Scope, StatsQuery, export, store, view},
};

/// Routes of the exports.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(export_clicks))
        .routes(routes!(export_breakdown))
}

/// `GET /api/v1/links/{id}/clicks.csv?from=&to=&tz=`
#[utoipa::path(get, path = "/links/{id}/clicks.csv", tag = "exports",
    params(("id" = i64, Path, description = "Link id"), ClicksCsvParams),
    responses(
        (status = 200, description = "The link's human clicks, one row each (UTF-8 with BOM, RFC 4180, \
            formulas neutralised), streamed", body = String, content_type = "text/csv"),
        (status = 400, description = "A bad parameter, named in `field`", body = ErrorBody),
        (status = 401, description = "No or bad credential", body = ErrorBody),
        (status = 404, description = "No such link", body = ErrorBody),
    ))]
pub async fn export_clicks(
    State(state): State<AppState>,
    _: Viewer,
    Path(id): Path<i64>,
    AppQuery(mut params): AppQuery<HashMap<String, String>>,
) -> Result<Response, ApiError> {
    params.insert("link_id".into(), id.to_string());
    let mut q = StatsQuery::parse(&params).map_err(api_error)?;
    q.from = q.from.or(Some(Bound::Instant(OffsetDateTime::UNIX_EPOCH)));
    let pool = &state.pool;
    store::scope_links(pool, &Scope::Link(id))
        .await
        .map_err(api_error)?;
    let range = store::resolve_range(pool, q.from, q.to, &q.tz)
        .await
        .map_err(api_error)?;
    let body = Body::from_stream(export::clicks_csv(pool.clone(), id, range));
    Ok(csv_response(body, &format!("link-{id}-clicks.csv")))
}

/// `GET /api/v1/stats/{breakdown}.csv?<stats parameters>`
#[utoipa::path(get, path = "/stats/{file}", tag = "exports",
    params(
        ("file" = String, Path, description = "The breakdown and `.csv`: sources.csv, referrers.csv, \
            countries.csv, regions.csv, cities.csv, devices.csv, browsers.csv, os.csv, \
            utm_sources.csv, utm_mediums.csv or utm_campaigns.csv", example = "countries.csv"),
        StatsParams,
    ),
    responses(
        (status = 200, description = "One breakdown of the stats view (UTF-8 with BOM, RFC 4180, \
            formulas neutralised)", body = String, content_type = "text/csv"),
        (status = 400, description = "A bad parameter, named in `field`", body = ErrorBody),
        (status = 401, description = "No or bad credential", body = ErrorBody),
        (status = 404, description = "No such breakdown, or `link_id` names no link", body = ErrorBody),
        (status = 422, description = "The view is filtered on another dimension over a range too busy to cross it with this one in time (`filters_too_broad`)", body = ErrorBody),
    ))]
pub async fn export_breakdown(
    State(state): State<AppState>,
    _: Viewer,
    Path(file): Path<String>,
    AppQuery(params): AppQuery<HashMap<String, String>>,
) -> Result<Response, ApiError> {
    let name = file.strip_suffix(".csv").unwrap_or("");
    let dimension = view::breakdown(name).ok_or_else(|| ApiError::not_found("breakdown"))?;
    let mut q = StatsQuery::parse(&params).map_err(api_error)?;
    q.raw_budget = state.settings.stats.raw_budget;
    let v = stats::view(&state.pool, &q).await.map_err(api_error)?;
    let filtered = q.filters.iter().any(|(d, _)| *d == dimension);
    if v.partial && !filtered {
        // Left out of a view filtered on another dimension (see `partial`).
        return Err(api_error(stats::StatsError::TooBroad));
    }
    let rows = v
        .breakdowns
        .get(name)
        .map(Vec::as_slice)
        .unwrap_or_default();
    let csv = export::breakdown_csv(dimension.field(), rows).map_err(ApiError::internal)?;
    Ok(csv_response(Body::from(csv), &format!("{name}.csv")))
}

fn csv_response(body: Body, filename: &str) -> Response {
    let disposition = HeaderValue::from_str(&format!("attachment; filename=\"{filename}\""))
        .unwrap_or(HeaderValue::from_static("attachment"));
    (
        StatusCode::OK,
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/csv; charset=utf-8"),
            ),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        body,
    )
        .into_response()
}
