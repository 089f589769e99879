//! The analyst's dashboard: the same view at every scope — a link (below
//! its management controls on `/links/{id}`), a campaign
//! (`/campaigns/{name}`), a tag (`/tags/{name}`) and the whole workspace
//! (`/` when signed in). It reads one `stats::view`, the stats API's own
//! answer, plus the bucket grid and the recent clicks; the URL carries the
//! whole state (`state.rs`). Handlers hold no SQL.

mod chart;
mod format;
mod panel;
mod state;

use std::collections::HashMap;

use askama::Template;
use askama_web::WebTemplate;
use axum::{
    extract::{Path, Query, State},
    http::HeaderMap,
};
use sqlx::PgPool;
use time::{Duration, OffsetDateTime, format_description::well_known::Rfc3339};

pub use self::{
    chart::Chart,
    panel::{Card, Chip, Preset, RecentRow, Table},
    state::{Range, ViewState},
};
use super::{Chrome, SignedIn};
use crate::{
    http::error::page::PageError,
    i18n::Tr,
    state::AppState,
    stats::{self, StatsError, StatsQuery, calendar},
};

/// The cookie in which the page's script keeps the browser's time zone.
pub const TZ_COOKIE: &str = "lanterne_tz";

/// Time zones offered in the range form (the current one is added when it
/// is not among them).
const ZONES: &[&str] = &[
    "UTC",
    "Europe/Paris",
    "Europe/Brussels",
    "Europe/Zurich",
    "Europe/London",
    "Europe/Berlin",
    "Europe/Madrid",
    "America/Montreal",
    "America/New_York",
    "America/Chicago",
    "America/Los_Angeles",
    "America/Sao_Paulo",
    "Africa/Casablanca",
    "Africa/Dakar",
    "Indian/Reunion",
    "Asia/Tokyo",
    "Australia/Sydney",
];

/// Everything the dashboard template shows.
pub struct Dashboard {
    /// The page's path.
    pub base: String,
    /// The URL state.
    pub state: ViewState,
    /// What is wrong with the view's address, if anything.
    pub error: Option<String>,
    /// Range presets.
    pub presets: Vec<Preset>,
    /// Applied filters.
    pub chips: Vec<Chip>,
    /// Headline cards.
    pub cards: Vec<Card>,
    /// The time chart.
    pub chart: Option<Chart>,
    /// Tables.
    pub tables: Vec<Table>,
    /// Recent clicks.
    pub recent: Vec<RecentRow>,
    /// Whether the scope holds several links.
    pub many_links: bool,
    /// Whether the range has no request at all.
    pub empty: bool,
    /// Whether the tables of the dimensions not filtered on are left out
    /// (see `StatsView::partial`).
    pub partial: bool,
    /// The range as resolved, in the view's zone (`2026-11-03 → 2026-12-02`).
    pub range_label: String,
    /// Time zones of the range form, with the current one marked.
    pub zones: Vec<(String, bool)>,
    /// The filters, as hidden fields of the range form.
    pub hidden: Vec<(String, String)>,
    /// CSV of the link's clicks (link scope only).
    pub clicks_csv: Option<String>,
}

impl Dashboard {
    /// Loads the view of `scope` (`("link_id", "7")`, or `None` for the
    /// workspace) for a page at `base` with query `params`. A bad address
    /// (unknown zone, bad date or filter) gives a dashboard that says what
    /// is wrong and offers the default view.
    pub async fn load(
        (pool, raw_budget): (&PgPool, std::time::Duration),
        t: Tr,
        base: &str,
        scope: Option<(&str, &str)>,
        params: &HashMap<String, String>,
        headers: &HeaderMap,
    ) -> Result<Dashboard, PageError> {
        let cookie_tz = tz_cookie(headers);
        let mut state = ViewState::from_query(params, cookie_tz.as_deref().unwrap_or("UTC"));
        let today = match calendar::today(pool, &state.tz).await {
            Ok(d) => d,
            // A stale or bad cookie falls back to UTC; a bad `tz` in the
            // address is shown.
            Err(StatsError::Invalid { .. }) if !params.contains_key("tz") => {
                state.tz = "UTC".into();
                calendar::today(pool, "UTC").await.map_err(internal)?
            }
            Err(e) => return Dashboard::failed(t, base, state, e),
        };
        let now = OffsetDateTime::now_utc();
        let fmt = |at: OffsetDateTime| at.format(&Rfc3339).unwrap_or_default();
        let api = state.api_params(scope, today, &fmt(now), &fmt(now - Duration::hours(24)));
        let query = match StatsQuery::parse(&api) {
            Ok(q) => StatsQuery { raw_budget, ..q },
            Err(e) => return Dashboard::failed(t, base, state, e),
        };
        let view = match stats::view(pool, &query).await {
            Ok(v) => v,
            Err(StatsError::UnknownLink) => return Err(PageError::NotFound),
            Err(e @ (StatsError::Invalid { .. } | StatsError::TooBroad)) => {
                return Dashboard::failed(t, base, state, e);
            }
            Err(e) => return Err(internal(e)),
        };
        let (grid, recent) = tokio::join!(
            calendar::buckets(pool, (view.from, view.to), view.interval, &view.tz),
            stats::recent_clicks(pool, &query, (view.from, view.to)),
        );
        let (grid, recent) = (grid.map_err(internal)?, recent.map_err(internal)?);
        // Downloads get the range as resolved, so that they match the page.
        let mut csv_params = api.clone();
        csv_params.insert("from".into(), fmt(view.from));
        csv_params.insert("to".into(), fmt(view.to));
        csv_params.remove("interval");
        let csv_query = ViewState::resolved_query(&csv_params);
        let many_links = scope.is_none_or(|(k, _)| k != "link_id");
        let parts = panel::Parts {
            t,
            base,
            state: &state,
            many_links,
            csv_query: &csv_query,
        };
        let totals = &view.totals;
        let empty = totals.clicks + totals.share_events + totals.bots + totals.prefetches == 0;
        let clicks_csv = scope.filter(|(k, _)| *k == "link_id").map(|(_, id)| {
            let mut p = csv_params.clone();
            p.remove("link_id");
            p.retain(|k, _| matches!(k.as_str(), "from" | "to" | "tz"));
            format!(
                "/api/v1/links/{id}/clicks.csv?{}",
                ViewState::resolved_query(&p)
            )
        });
        Ok(Dashboard {
            presets: parts.presets(),
            chips: parts.chips(),
            cards: parts.cards(&view.totals, &view.previous),
            chart: Chart::new(t, &grid, &view.timeseries, view.interval),
            tables: parts.tables(&view),
            recent: parts.recent(&recent),
            range_label: range_label(t, &state, &grid, &view.tz),
            zones: zones(&state.tz),
            hidden: hidden(&state),
            base: base.to_owned(),
            error: None,
            many_links,
            empty,
            partial: view.partial,
            clicks_csv,
            state,
        })
    }

    fn failed(t: Tr, base: &str, state: ViewState, e: StatsError) -> Result<Dashboard, PageError> {
        let error = match e {
            StatsError::Invalid { field, message } => format!("{field}: {message}"),
            StatsError::TooBroad => t.get("dash.too_broad").to_owned(),
            other => return Err(internal(other)),
        };
        let parts = panel::Parts {
            t,
            base,
            state: &state,
            many_links: false,
            csv_query: "",
        };
        Ok(Dashboard {
            presets: parts.presets(),
            chips: parts.chips(),
            cards: Vec::new(),
            chart: None,
            tables: Vec::new(),
            recent: Vec::new(),
            range_label: String::new(),
            zones: zones(&state.tz),
            hidden: hidden(&state),
            base: base.to_owned(),
            error: Some(t.with("dash.bad_address", "error", error)),
            many_links: false,
            empty: true,
            partial: false,
            clicks_csv: None,
            state,
        })
    }

    /// The bar of a table row, as an SVG width (out of 100).
    pub fn bar_width(&self, bar: &u32) -> u32 {
        (*bar).max(1)
    }
}

fn internal(e: StatsError) -> PageError {
    PageError::Internal(e.to_string())
}

/// The browser's time zone, as the page's script stored it.
fn tz_cookie(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(axum::http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|c| c.trim().split_once('='))
        .find(|(k, _)| *k == TZ_COOKIE)
        .map(|(_, v)| v.replace("%2F", "/"))
        .filter(|v| {
            !v.is_empty()
                && v.len() <= 64
                && v.chars()
                    .all(|c| c.is_ascii_alphanumeric() || "/_-+".contains(c))
        })
}

fn zones(current: &str) -> Vec<(String, bool)> {
    let mut out: Vec<(String, bool)> = ZONES
        .iter()
        .map(|z| ((*z).to_owned(), *z == current))
        .collect();
    if !ZONES.contains(&current) {
        out.insert(0, (current.to_owned(), true));
    }
    out
}

fn hidden(state: &ViewState) -> Vec<(String, String)> {
    let mut h: Vec<(String, String)> = state
        .filters
        .iter()
        .map(|(d, v)| (d.field().to_owned(), v.clone()))
        .collect();
    if !state.interval.is_empty() {
        h.push(("interval".into(), state.interval.clone()));
    }
    h
}

fn range_label(
    t: Tr,
    state: &ViewState,
    grid: &[(OffsetDateTime, time::PrimitiveDateTime)],
    tz: &str,
) -> String {
    let preset = (state.range != Range::Custom)
        .then(|| t.get(&format!("dash.range_{}", state.range.as_str())));
    let span = match (grid.first(), grid.last()) {
        (Some((_, a)), Some((_, b))) => format!("{} → {}", a.date(), b.date()),
        _ => String::new(),
    };
    match preset {
        Some(p) => format!("{p} · {span} · {tz}"),
        None => format!("{span} · {tz}"),
    }
}

/// A dashboard page of its own (overview, campaign, tag).
#[derive(Template, WebTemplate)]
#[template(path = "dashboard/page.html")]
pub struct DashboardPage {
    t: Tr,
    chrome: Chrome,
    /// Heading.
    title: String,
    /// Line above the heading.
    kicker: &'static str,
    dash: Dashboard,
}

async fn scope_page(
    state: &AppState,
    page: SignedIn,
    headers: &HeaderMap,
    params: &HashMap<String, String>,
    (base, scope): (String, Option<(&str, &str)>),
    (kicker, title): (&'static str, String),
) -> Result<DashboardPage, PageError> {
    let t = page.chrome.t;
    let budget = state.settings.stats.raw_budget;
    let dash = Dashboard::load((&state.pool, budget), t, &base, scope, params, headers).await?;
    Ok(DashboardPage {
        t,
        chrome: page.chrome.at("overview"),
        title,
        kicker: t.get(kicker),
        dash,
    })
}

/// `GET /`: the whole workspace's dashboard for a signed-in user, the
/// served domain's home page for anyone else.
pub async fn home(
    State(state): State<AppState>,
    page: Result<SignedIn, PageError>,
    headers: HeaderMap,
    Query(params): Query<HashMap<String, String>>,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    match page {
        Ok(page) => overview(&state, page, &headers, &params)
            .await
            .into_response(),
        Err(_) => crate::templates::HomePage.into_response(),
    }
}

async fn overview(
    state: &AppState,
    page: SignedIn,
    headers: &HeaderMap,
    params: &HashMap<String, String>,
) -> Result<DashboardPage, PageError> {
    let title = page.chrome.t.get("dash.overview").to_owned();
    scope_page(
        state,
        page,
        headers,
        params,
        ("/".into(), None),
        ("dash.workspace", title),
    )
    .await
}

/// `GET /campaigns/{name}`: the links whose UTM campaign is `name`.
pub async fn campaign(
    State(state): State<AppState>,
    page: SignedIn,
    headers: HeaderMap,
    Path(name): Path<String>,
    Query(params): Query<HashMap<String, String>>,
) -> Result<DashboardPage, PageError> {
    let base = format!("/campaigns/{}", encode_segment(&name));
    scope_page(
        &state,
        page,
        &headers,
        &params,
        (base, Some(("campaign", &name))),
        ("dash.campaign", name.clone()),
    )
    .await
}

/// `GET /tags/{name}`: the links carrying tag `name`.
pub async fn tag(
    State(state): State<AppState>,
    page: SignedIn,
    headers: HeaderMap,
    Path(name): Path<String>,
    Query(params): Query<HashMap<String, String>>,
) -> Result<DashboardPage, PageError> {
    let base = format!("/tags/{}", encode_segment(&name));
    scope_page(
        &state,
        page,
        &headers,
        &params,
        (base, Some(("tag", &name))),
        ("dash.tag", name.clone()),
    )
    .await
}

/// A path segment, percent-encoded.
pub fn encode_segment(s: &str) -> String {
    percent_encoding::utf8_percent_encode(s, percent_encoding::NON_ALPHANUMERIC).to_string()
}
