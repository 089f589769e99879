//! The OpenAPI 3.1 document of the API, served at `GET /api/v1/openapi.json`
//! without a credential (it holds nothing secret; see docs/api.md). Each
//! operation is described by the `#[utoipa::path]` attribute of its handler,
//! and the API's router is built from those same handlers
//! (`utoipa_axum::routes!`, see `api.rs`), so a route cannot be served
//! undocumented. This file holds what no handler owns: the document's info
//! and security schemes, the error envelope, the stats view's shape and the
//! stats parameters (both read from maps by the handlers, so described here).

use std::sync::OnceLock;

use axum::{
    http::{HeaderValue, header},
    response::{IntoResponse, Response},
};
use time::OffsetDateTime;
use utoipa::{
    IntoParams, ToSchema,
    openapi::{
        self, Components, ContentBuilder, Info, License, Object, Ref, ResponseBuilder, Tag, Type,
        header::Header,
        security::{
            ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityRequirement, SecurityScheme,
        },
    },
};

use crate::{
    stats::{
        Interval,
        view::{
            Bucket, ChannelRow, EvidenceRow, KindRow, LinkRow, Row, ShareRow, SourceRow, Totals,
        },
    },
    users::identity::SESSION_COOKIE,
};

/// Where the document is served.
pub const PATH: &str = "/api/v1/openapi.json";

/// The name of the Bearer token scheme in the document.
pub const BEARER: &str = "bearer_token";
/// The name of the session cookie scheme in the document.
pub const SESSION: &str = "session_cookie";

/// The answer to every refused request: `{"error": {...}}`.
#[derive(ToSchema)]
#[allow(dead_code)] // a description of JSON written by `ApiError`
pub struct ErrorBody {
    error: ErrorDetail,
}

/// What went wrong.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct ErrorDetail {
    /// Stable code for programs (`not_found`, `invalid_slug`, `slug_taken`,
    /// `invalid_parameter`, `unauthorized`, `forbidden`, ...).
    code: String,
    /// A sentence for people.
    message: String,
    /// The request field or parameter at fault (`utm.source` for a nested
    /// one), `null` when the error is about no field.
    #[schema(required = true)]
    field: Option<String>,
    /// Every refused field, when a whole link was checked (the first one is
    /// also in `code`, `message` and `field`).
    #[schema(nullable = false)]
    fields: Option<Vec<FieldProblem>>,
}

/// One refused field of a link.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct FieldProblem {
    /// The field (`slug`, `utm.campaign`, ...).
    field: String,
    /// Stable code of the problem.
    code: String,
    /// A sentence for people.
    message: String,
}

/// Everything the dashboard shows for a scope and range (`GET /api/v1/stats`).
/// Clicks are human clicks; visitors are unique per link and day, summed over days.
#[derive(ToSchema)]
#[allow(dead_code)] // the shape of `stats::StatsView`, whose breakdowns are a map
pub struct StatsView {
    /// Range start (included).
    from: OffsetDateTime,
    /// Range end (excluded).
    to: OffsetDateTime,
    /// Bucket width of `timeseries`.
    interval: Interval,
    /// Time zone of the buckets.
    tz: String,
    /// Headline figures.
    totals: Totals,
    /// The same for the previous period of equal length.
    previous: Totals,
    /// Clicks per bucket and channel (dark social and direct apart).
    timeseries: Vec<Bucket>,
    /// Clicks per channel.
    channels: Vec<ChannelRow>,
    /// Dark-social clicks per app.
    dark_social_sources: Vec<SourceRow>,
    /// Dark-social clicks per deciding signal, with the strength of the claim.
    dark_social_evidence: Vec<EvidenceRow>,
    /// Previews per app with the clicks that followed.
    share_events: Vec<ShareRow>,
    /// Clicks per app or site.
    sources: Vec<Row>,
    /// Clicks per referrer host.
    referrers: Vec<Row>,
    /// Clicks per country (ISO code).
    countries: Vec<Row>,
    /// Clicks per region.
    regions: Vec<Row>,
    /// Clicks per city.
    cities: Vec<Row>,
    /// Clicks per device class.
    devices: Vec<Row>,
    /// Clicks per browser family.
    browsers: Vec<Row>,
    /// Clicks per OS family.
    os: Vec<Row>,
    /// Clicks per utm_source.
    utm_sources: Vec<Row>,
    /// Clicks per utm_medium.
    utm_mediums: Vec<Row>,
    /// Clicks per utm_campaign.
    utm_campaigns: Vec<Row>,
    /// Top links.
    links: Vec<LinkRow>,
    /// Requests per kind (humans, previews, bots, prefetches).
    kinds: Vec<KindRow>,
    /// True when breakdowns are left out: with a filter on one dimension
    /// (the channel aside) over a busy scope, the totals, channels, series
    /// and that dimension's breakdown are exact, but the other breakdowns
    /// would take longer to count from raw clicks than the 150 ms budget.
    partial: bool,
}

/// A binary body (a PNG image).
#[derive(ToSchema)]
#[schema(format = Binary)]
#[allow(dead_code)]
pub struct Binary(String);

/// The parameters of `GET /api/v1/stats` and of the breakdown exports (see
/// `stats::StatsQuery`, which refuses any other). A filter is a list of
/// comma-separated values to keep, with `!value` to leave one out:
/// `channel=dark_social,direct`, `country=!FR`.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub struct StatsParams {
    /// One link (at most one of `link_id`, `campaign` and `tag`; none: the whole workspace).
    link_id: Option<i64>,
    /// The links whose utm_campaign is this.
    campaign: Option<String>,
    /// The links carrying this tag.
    tag: Option<String>,
    /// Range start: a date (`2026-01-31`, that day's start in `tz`) or an
    /// RFC 3339 timestamp. Default: 30 days before `to`.
    from: Option<String>,
    /// Range end, excluded: a date (included: the next day's start) or an
    /// RFC 3339 timestamp. Default: now.
    to: Option<String>,
    /// Bucket width of `timeseries`. Default: chosen from the range.
    interval: Option<Interval>,
    /// IANA time zone of dates and buckets (e.g. `Europe/Paris`). Default: `UTC`.
    tz: Option<String>,
    /// Filter on the channel (`dark_social`, `direct`, `social`, `search`,
    /// `email`, `referral`, `qr`, `internal`).
    channel: Option<String>,
    /// Filter on the app or site.
    source: Option<String>,
    /// Filter on the kind of the deciding evidence.
    evidence: Option<String>,
    /// Filter on the country (ISO code).
    country: Option<String>,
    /// Filter on the region.
    region: Option<String>,
    /// Filter on the city.
    city: Option<String>,
    /// Filter on the device class.
    device: Option<String>,
    /// Filter on the browser family.
    browser: Option<String>,
    /// Filter on the OS family.
    os: Option<String>,
    /// Filter on the referrer host.
    referrer_host: Option<String>,
    /// Filter on the link's utm_source at click time.
    utm_source: Option<String>,
    /// Filter on the link's utm_medium at click time.
    utm_medium: Option<String>,
    /// Filter on the link's utm_campaign at click time.
    utm_campaign: Option<String>,
}

/// The parameters of `GET /api/v1/links/{id}/clicks.csv`.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub struct ClicksCsvParams {
    /// Range start (date or RFC 3339 timestamp). Default: every click.
    from: Option<String>,
    /// Range end, excluded (date or RFC 3339 timestamp). Default: now.
    to: Option<String>,
    /// IANA time zone of dates. Default: `UTC`.
    tz: Option<String>,
}

/// This document (OpenAPI 3.1). Served without a credential.
#[utoipa::path(get, path = "/openapi.json", tag = "meta",
    responses(
        (status = 200, description = "The OpenAPI 3.1 document of the API", body = Object),
    ))]
pub async fn openapi_json() -> Response {
    static JSON: OnceLock<String> = OnceLock::new();
    let json = JSON.get_or_init(|| {
        super::openapi()
            .to_json()
            .unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"))
    });
    (
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            ),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-cache")),
        ],
        json.as_str(),
    )
        .into_response()
}

/// The 429 of a client IP with too many failed authentications.
fn throttled() -> openapi::Response {
    let mut retry_after = Header::new(Object::with_type(Type::Integer));
    retry_after.description = Some("Seconds to wait before trying again.".to_owned());
    ResponseBuilder::new()
        .description(
            "Too many failed authentications from this client IP: refused without asking \
             the database until `Retry-After` seconds have passed",
        )
        .header("Retry-After", retry_after)
        .content(
            "application/json",
            ContentBuilder::new()
                .schema(Some(Ref::from_schema_name("ErrorBody")))
                .build(),
        )
        .build()
}

/// Completes the document built from the handlers: info, tags, security
/// schemes (every operation needs one of them but this document's own).
pub fn complete(mut doc: openapi::OpenApi) -> openapi::OpenApi {
    let mut info = Info::new("Lanterne API", env!("CARGO_PKG_VERSION"));
    info.description = Some(
        "The REST API of Lanterne, a self-hosted link shortener with click attribution that \
         separates dark social from direct traffic. JSON in and out; refusals are \
         `{\"error\": {\"code\", \"message\", \"field\"}}`. Authenticate with an API token \
         (`Authorization: Bearer lnt_...`) or the session cookie of a signed-in user."
            .to_owned(),
    );
    info.license = Some(License::new("MIT OR Apache-2.0"));
    doc.info = info;
    let components = doc.components.get_or_insert_with(Components::new);
    let mut bearer = HttpBuilder::new()
        .scheme(HttpAuthScheme::Bearer)
        .bearer_format("lnt_...")
        .build();
    bearer.description = Some(
        "An API token (POST /api/v1/tokens or `lanterne token create`), sent as \
         `Authorization: Bearer <secret>`."
            .to_owned(),
    );
    components.add_security_scheme(BEARER, SecurityScheme::Http(bearer));
    components.add_security_scheme(
        SESSION,
        SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::with_description(
            SESSION_COOKIE,
            "The session cookie set by signing in at /login (the workspace pages).",
        ))),
    );
    doc.security = Some(vec![
        SecurityRequirement::new(BEARER, Vec::<String>::new()),
        SecurityRequirement::new(SESSION, Vec::<String>::new()),
    ]);
    if let Some(op) = doc
        .paths
        .paths
        .get_mut(PATH)
        .and_then(|item| item.get.as_mut())
    {
        // Public: an empty list lifts the document-wide requirement.
        op.security = Some(Vec::new());
    }
    // Every authenticated operation may be throttled (see `users::throttle`).
    let throttled = throttled();
    for item in doc.paths.paths.values_mut() {
        let ops = [
            &mut item.get,
            &mut item.post,
            &mut item.put,
            &mut item.patch,
            &mut item.delete,
        ];
        for op in ops.into_iter().flatten() {
            if op.security.as_ref().is_some_and(Vec::is_empty) {
                continue;
            }
            op.responses
                .responses
                .entry("429".to_owned())
                .or_insert_with(|| throttled.clone().into());
        }
    }
    doc.tags = Some(
        [
            ("links", "Short links: create, list, read, change, delete."),
            ("share", "Per-channel variants, the share kit and QR codes."),
            (
                "stats",
                "Statistics of a link, campaign, tag or the workspace.",
            ),
            (
                "exports",
                "CSV exports of clicks and of the stats breakdowns.",
            ),
            ("users", "User accounts (admins)."),
            ("me", "The caller's own account."),
            ("tokens", "API tokens."),
            ("utm-presets", "The workspace's saved UTM presets."),
            ("meta", "This document."),
        ]
        .into_iter()
        .map(|(name, description)| {
            let mut tag = Tag::new(name);
            tag.description = Some(description.to_owned());
            tag
        })
        .collect(),
    );
    doc
}

#[cfg(test)]
mod tests {
    use std::collections::{BTreeSet, HashMap};

    use utoipa::IntoParams;

    use super::*;
    use crate::stats::{Dimension, StatsQuery};

    #[test]
    fn the_documented_stats_parameters_are_the_parsed_ones() {
        let documented: BTreeSet<String> = StatsParams::into_params(|| None)
            .into_iter()
            .map(|p| p.name)
            .collect();
        let mut parsed: BTreeSet<String> = ["link_id", "campaign", "tag", "from", "to"]
            .into_iter()
            .chain(["interval", "tz"])
            .map(str::to_owned)
            .collect();
        parsed.extend(
            std::iter::once(Dimension::Channel)
                .chain(Dimension::BREAKDOWNS)
                .map(|d| d.field().to_owned()),
        );
        assert_eq!(documented, parsed);
        for name in &documented {
            let value = match name.as_str() {
                "link_id" => "1",
                "from" | "to" => "2026-01-31",
                "interval" => "day",
                "tz" => "Europe/Paris",
                "channel" => "dark_social,!direct",
                _ => "a,!b",
            };
            let params = HashMap::from([(name.clone(), value.to_owned())]);
            assert!(StatsQuery::parse(&params).is_ok(), "{name}={value}");
        }
    }

    #[test]
    fn the_document_is_openapi_3_1_with_both_credentials_and_a_public_self() {
        let doc = serde_json::to_value(crate::http::api::openapi()).unwrap();
        if let Ok(path) = std::env::var("LANTERNE_OPENAPI_DUMP") {
            std::fs::write(path, serde_json::to_string_pretty(&doc).unwrap()).unwrap();
        }
        assert_eq!(doc["openapi"], "3.1.0");
        let schemes = &doc["components"]["securitySchemes"];
        assert_eq!(schemes[BEARER]["scheme"], "bearer");
        assert_eq!(schemes[SESSION]["in"], "cookie");
        assert_eq!(schemes[SESSION]["name"], SESSION_COOKIE);
        assert_eq!(doc["security"].as_array().unwrap().len(), 2);
        assert_eq!(doc["paths"][PATH]["get"]["security"], serde_json::json!([]));
        let error = &doc["components"]["schemas"]["ErrorDetail"];
        assert_eq!(
            error["required"],
            serde_json::json!(["code", "message", "field"])
        );
        for (path, item) in doc["paths"].as_object().unwrap() {
            assert!(path.starts_with("/api/v1/"), "{path}");
            for (method, op) in item.as_object().unwrap() {
                assert!(op["tags"].is_array(), "{method} {path} has a tag");
                assert!(
                    op["description"].is_string() || op["summary"].is_string(),
                    "{method} {path} says what it does"
                );
            }
        }
    }
}
