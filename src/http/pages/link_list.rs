//! `/links`: the marketer's list of links — search, filters by tag and
//! campaign, newest first or by clicks (the sort is in the URL, so it works
//! without JavaScript), pages of 20 — each row with its human clicks of the
//! last 30 days, read for the whole page at once (`stats::link_clicks`).

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Query, State};
use serde::Deserialize;
use time::OffsetDateTime;

use super::{Chrome, SignedIn, link_view::LinkView};
use crate::{
    http::error::page::PageError,
    i18n::Tr,
    links::{
        Links,
        paging::{self, PageRequest},
        store::{ListFilter, ListOrder},
    },
    state::AppState,
    stats::link_clicks,
};

/// The list of links.
#[derive(Template, WebTemplate)]
#[template(path = "links/list.html")]
pub struct ListPage {
    t: Tr,
    chrome: Chrome,
    links: Vec<LinkView>,
    q: String,
    tag: String,
    campaign: String,
    /// `clicks` when sorted by clicks, empty for newest first.
    sort: &'static str,
    next: Option<String>,
    first_page: bool,
    filtered: bool,
}

impl ListPage {
    /// The list's URL with its filters, `sort` and, if any, a cursor.
    pub fn url(&self, sort: &str, cursor: Option<&str>) -> String {
        let mut q = url::form_urlencoded::Serializer::new(String::new());
        for (k, v) in [
            ("q", &self.q),
            ("tag", &self.tag),
            ("campaign", &self.campaign),
        ] {
            if !v.is_empty() {
                q.append_pair(k, v);
            }
        }
        if !sort.is_empty() {
            q.append_pair("sort", sort);
        }
        if let Some(c) = cursor {
            q.append_pair("cursor", c);
        }
        let q = q.finish();
        if q.is_empty() {
            "/links".into()
        } else {
            format!("/links?{q}")
        }
    }
}

/// Query of `GET /links`.
#[derive(Debug, Default, Deserialize)]
pub struct ListQuery {
    #[serde(default)]
    q: String,
    #[serde(default)]
    tag: String,
    #[serde(default)]
    campaign: String,
    /// `clicks` (most human clicks of the last 30 days first) or `newest` (default).
    #[serde(default)]
    sort: String,
    cursor: Option<String>,
}

/// `GET /links`: newest first or by clicks, with search and filters; each
/// row shows its human clicks of the last 30 days (one read for the page).
pub async fn list(
    State(links): State<Links>,
    State(state): State<AppState>,
    page: SignedIn,
    Query(q): Query<ListQuery>,
) -> Result<ListPage, PageError> {
    let since = link_clicks::window_start(OffsetDateTime::now_utc());
    let by_clicks = match q.sort.as_str() {
        "" | "newest" => false,
        "clicks" => true,
        _ => return Err(PageError::BadRequest),
    };
    let cursor = q.cursor.as_deref().filter(|c| !c.is_empty());
    let (request, order) = if by_clicks {
        let after = match cursor {
            None => None,
            Some(c) => Some(paging::parse_clicks_cursor(c).ok_or(PageError::BadRequest)?),
        };
        let request = PageRequest::parse(None, None).map_err(|_| PageError::BadRequest)?;
        (request, ListOrder::Clicks { since, after })
    } else {
        let request = PageRequest::parse(None, cursor).map_err(|_| PageError::BadRequest)?;
        (request, ListOrder::Newest)
    };
    let nonempty = |s: &str| Some(s.trim().to_owned()).filter(|s| !s.is_empty());
    let filter = ListFilter {
        text: nonempty(&q.q),
        tag: nonempty(&q.tag),
        campaign: nonempty(&q.campaign),
        top_level: true,
        order,
        ..ListFilter::default()
    };
    let found = links.list(filter, request).await?;
    let ids: Vec<i64> = found.links.iter().map(|l| l.id).collect();
    let clicks = link_clicks::human_clicks(&state.pool, &ids, since)
        .await
        .map_err(|e| PageError::Internal(e.to_string()))?;
    let t = page.chrome.t;
    let views: Vec<LinkView> = found
        .links
        .iter()
        .map(|l| {
            let mut v = LinkView::new(&links, l, t);
            v.clicks_30d = Some(clicks.get(&l.id).copied().unwrap_or(0));
            v
        })
        .collect();
    let next = if by_clicks {
        found
            .next_cursor
            .as_ref()
            .and(views.last())
            .map(|v| paging::clicks_cursor(v.clicks_30d.unwrap_or(0), v.id))
    } else {
        found.next_cursor
    };
    Ok(ListPage {
        t,
        chrome: page.chrome.at("links"),
        links: views,
        filtered: !(q.q.is_empty() && q.tag.is_empty() && q.campaign.is_empty()),
        first_page: cursor.is_none(),
        sort: if by_clicks { "clicks" } else { "" },
        next,
        q: q.q,
        tag: q.tag,
        campaign: q.campaign,
    })
}
