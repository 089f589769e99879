//! ApiError: the one place where domain errors become an HTTP status, a
//! stable `code` and an optional `field`, rendered as
//! `{"error": {"code", "message", "field"}}`. For a 5xx the client gets an
//! opaque message; the cause travels in a response extension and is logged
//! once by `log_server_errors`.

use std::borrow::Cow;

use axum::{
    Json,
    extract::{Request, rejection::JsonRejection, rejection::QueryRejection},
    http::StatusCode,
    middleware::Next,
    response::{IntoResponse, Response},
};
use serde_json::json;

pub mod page;

use crate::{
    links::{
        InvalidLink, LinkError, Problem, paging::PagingError, presets::PresetError,
        store::StoreError,
    },
    users::{UserError, identity::AuthError},
};

/// An API error response.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    code: &'static str,
    message: String,
    field: Option<Cow<'static, str>>,
    // Every refused field, when a whole input was checked.
    // Boxed: rare, and it keeps `Result<_, ApiError>` small.
    fields: Option<Box<[serde_json::Value]>>,
    cause: Option<Box<str>>,
    retry_after: Option<u64>,
    // A database outage was seen (the gate closes on it).
    unavailable: bool,
}

/// The hidden cause of a 5xx, for the logging middleware.
#[derive(Debug, Clone)]
struct InternalCause(String);

impl ApiError {
    /// An error with a status, a stable code and a message.
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            code,
            message: message.into(),
            field: None,
            fields: None,
            cause: None,
            retry_after: None,
            unavailable: false,
        }
    }

    /// Adds `Retry-After` (seconds) to the response.
    pub fn retry_after(mut self, seconds: u64) -> ApiError {
        self.retry_after = Some(seconds);
        self
    }

    /// Names the request field at fault.
    pub fn field(mut self, field: impl Into<Cow<'static, str>>) -> ApiError {
        self.field = Some(field.into());
        self
    }

    /// A database error: 503 with `Retry-After` when the database cannot be
    /// reached (the client may retry; the API's gate then answers at once
    /// until the database is back, see `db_gate.rs`), else a 500.
    pub fn database(e: &sqlx::Error) -> ApiError {
        if crate::db_health::is_unavailable(e) {
            ApiError {
                cause: Some(e.to_string().into()),
                unavailable: true,
                ..ApiError::unavailable()
            }
        } else {
            ApiError::internal(e)
        }
    }

    /// 503: the database is unreachable; retry in a few seconds.
    pub fn unavailable() -> ApiError {
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "database_unavailable",
            "the database is unreachable; retry shortly",
        )
        .retry_after(crate::db_health::RETRY_AFTER_SECS)
    }

    /// A 500 whose cause is logged, not shown.
    pub fn internal(cause: impl std::fmt::Display) -> ApiError {
        ApiError {
            cause: Some(cause.to_string().into()),
            ..ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                "internal server error",
            )
        }
    }

    /// 401 for a missing or bad token.
    pub fn unauthorized(code: &'static str, message: &str) -> ApiError {
        ApiError::new(StatusCode::UNAUTHORIZED, code, message)
    }

    /// 404 for an unknown resource.
    pub fn not_found(what: &str) -> ApiError {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "not_found",
            format!("{what} not found"),
        )
    }

    /// 422 for a field that parsed but is not acceptable.
    pub fn invalid(
        field: &'static str,
        code: &'static str,
        message: impl Into<String>,
    ) -> ApiError {
        ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, code, message).field(field)
    }

    /// The status (tests).
    pub fn status(&self) -> StatusCode {
        self.status
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut error = json!({"code": self.code, "message": self.message, "field": self.field});
        if let Some(fields) = self.fields {
            error["fields"] = serde_json::Value::Array(fields.into_vec());
        }
        let body = json!({ "error": error });
        let mut res = (self.status, Json(body)).into_response();
        if let Some(seconds) = self.retry_after {
            res.headers_mut()
                .insert(axum::http::header::RETRY_AFTER, seconds.into());
        }
        if let Some(cause) = self.cause {
            res.extensions_mut().insert(InternalCause(cause.into()));
        }
        if self.unavailable {
            res.extensions_mut()
                .insert(crate::db_health::DatabaseUnavailable);
        }
        res
    }
}

/// Logs the cause of every 5xx once, without request data (a database
/// outage as a warning: it is not a fault of the request, and the gate
/// keeps it from being logged for every request).
pub async fn log_server_errors(req: Request, next: Next) -> Response {
    let res = next.run(req).await;
    if let Some(InternalCause(cause)) = res.extensions().get::<InternalCause>() {
        if res.status() == StatusCode::SERVICE_UNAVAILABLE {
            tracing::warn!(error = %cause, "database unreachable; answering 503");
        } else {
            tracing::error!(error = %cause, status = res.status().as_u16(), "request failed");
        }
    }
    res
}

/// The first refused field gives the status, code, message and field; the
/// `fields` list names every one (a client can show them all at once).
impl From<InvalidLink> for ApiError {
    fn from(e: InvalidLink) -> ApiError {
        let fields =
            e.0.iter()
                .map(|f| json!({"field": f.field, "code": f.code(), "message": f.to_string()}))
                .collect();
        let first = &e.0[0];
        let status = if matches!(first.problem, Problem::SlugTaken | Problem::NameTaken) {
            StatusCode::CONFLICT
        } else {
            StatusCode::UNPROCESSABLE_ENTITY
        };
        ApiError {
            fields: Some(fields),
            ..ApiError::new(status, first.code(), first.to_string()).field(first.field)
        }
    }
}

impl From<LinkError> for ApiError {
    fn from(e: LinkError) -> ApiError {
        match e {
            LinkError::Invalid(invalid) => invalid.into(),
            LinkError::NotFound => ApiError::not_found("link"),
            LinkError::Database(db) => ApiError::database(&db),
            other => ApiError::internal(other),
        }
    }
}

impl From<PresetError> for ApiError {
    fn from(e: PresetError) -> ApiError {
        match e {
            PresetError::Invalid(invalid) => invalid.into(),
            PresetError::NotFound => ApiError::not_found("preset"),
            PresetError::Database(db) => ApiError::internal(db),
        }
    }
}

impl From<PagingError> for ApiError {
    fn from(e: PagingError) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, "invalid_query", e.to_string()).field(e.field())
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> ApiError {
        match e {
            StoreError::SlugTaken => {
                ApiError::new(StatusCode::CONFLICT, "slug_taken", e.to_string()).field("slug")
            }
            StoreError::NotFound => ApiError::not_found("link"),
            StoreError::SlugSpaceExhausted => ApiError::internal(e),
            StoreError::Database(db) => ApiError::database(&db),
        }
    }
}

impl From<UserError> for ApiError {
    fn from(e: UserError) -> ApiError {
        let message = e.to_string();
        let field = e.field();
        let (status, code) = match e {
            UserError::InvalidEmail(_) => (StatusCode::UNPROCESSABLE_ENTITY, "invalid_email"),
            UserError::InvalidRole(_) => (StatusCode::UNPROCESSABLE_ENTITY, "invalid_role"),
            UserError::InvalidLanguage(_) => (StatusCode::UNPROCESSABLE_ENTITY, "invalid_language"),
            UserError::WeakPassword => (StatusCode::UNPROCESSABLE_ENTITY, "weak_password"),
            UserError::WrongPassword => (StatusCode::UNPROCESSABLE_ENTITY, "wrong_password"),
            UserError::InvalidTokenName => (StatusCode::UNPROCESSABLE_ENTITY, "invalid_name"),
            UserError::EmailTaken => (StatusCode::CONFLICT, "email_taken"),
            UserError::LastAdmin { .. } => (StatusCode::CONFLICT, "last_admin"),
            UserError::NotFound => return ApiError::not_found("user"),
            UserError::TokenNotFound => return ApiError::not_found("token"),
            UserError::Database(db) => return ApiError::database(&db),
            UserError::Hash(_) => return ApiError::internal(e),
        };
        let err = ApiError::new(status, code, message);
        match field {
            Some(f) => err.field(f),
            None => err,
        }
    }
}

/// Several input errors (a form shows them all): the API reports the first.
impl From<Vec<UserError>> for ApiError {
    fn from(errors: Vec<UserError>) -> ApiError {
        errors.into_iter().next().map_or_else(
            || ApiError::internal("an empty list of errors"),
            ApiError::from,
        )
    }
}

impl From<AuthError> for ApiError {
    fn from(e: AuthError) -> ApiError {
        let message = e.to_string();
        match e {
            AuthError::Missing => ApiError::unauthorized("unauthorized", &message),
            AuthError::Invalid => ApiError::unauthorized("invalid_token", &message),
            AuthError::Disabled => ApiError::unauthorized("account_disabled", &message),
            AuthError::Forbidden { .. } => {
                ApiError::new(StatusCode::FORBIDDEN, "forbidden", message)
            }
            AuthError::RateLimited { retry_after } => {
                ApiError::new(StatusCode::TOO_MANY_REQUESTS, "rate_limited", message)
                    // Rounded up: retrying early would only be refused again.
                    .retry_after(retry_after.as_secs() + u64::from(retry_after.subsec_nanos() > 0))
            }
            AuthError::Store(e) => ApiError::from(e),
        }
    }
}

impl From<JsonRejection> for ApiError {
    fn from(r: JsonRejection) -> ApiError {
        match r {
            JsonRejection::JsonDataError(e) => ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_body",
                // serde's message names the field and the expected type.
                e.body_text(),
            ),
            JsonRejection::JsonSyntaxError(e) => {
                ApiError::new(StatusCode::BAD_REQUEST, "malformed_json", e.body_text())
            }
            JsonRejection::MissingJsonContentType(_) => ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                "send the body as JSON with Content-Type: application/json",
            ),
            JsonRejection::BytesRejection(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                ApiError::new(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    "body_too_large",
                    "the request body is too large",
                )
            }
            other => ApiError::new(other.status(), "bad_request", other.body_text()),
        }
    }
}

impl From<QueryRejection> for ApiError {
    fn from(r: QueryRejection) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, "invalid_query", r.body_text())
    }
}

/// The fallback of `/api`: unknown endpoint, JSON envelope.
pub async fn api_not_found() -> ApiError {
    ApiError::not_found("endpoint")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn store_errors_map_to_stable_statuses() {
        assert_eq!(
            ApiError::from(StoreError::SlugTaken).status(),
            StatusCode::CONFLICT
        );
        assert_eq!(
            ApiError::from(StoreError::NotFound).status(),
            StatusCode::NOT_FOUND
        );
        let e = ApiError::from(StoreError::Database(sqlx::Error::PoolTimedOut));
        assert_eq!(
            e.status(),
            StatusCode::SERVICE_UNAVAILABLE,
            "an unreachable database is a 503 the client may retry"
        );
        assert_eq!(e.retry_after, Some(crate::db_health::RETRY_AFTER_SECS));
        let e = ApiError::from(StoreError::Database(sqlx::Error::RowNotFound));
        assert_eq!(e.status(), StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(
            e.message, "internal server error",
            "database details never reach the client"
        );
    }
}
