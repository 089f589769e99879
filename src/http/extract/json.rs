//! The API's JSON bodies: `Content-Type` checked, size limited (413), a
//! NUL character in any string refused (400 naming the field: PostgreSQL
//! refuses NUL in text), and deserialisation errors told in the client's
//! terms — the field's path (`utm.source`, `tags[2]`) and what was
//! expected, never a Rust type name.

use std::sync::LazyLock;

use axum::{
    body::Bytes,
    extract::{FromRequest, Request},
    http::{HeaderMap, StatusCode, header},
};
use regex::Regex;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::http::error::ApiError;

/// Reads and parses a JSON body (see the module docs).
pub async fn read<S: Send + Sync, T: DeserializeOwned>(
    req: Request,
    state: &S,
) -> Result<T, ApiError> {
    if !is_json(req.headers()) {
        return Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "send the body as JSON with Content-Type: application/json",
        ));
    }
    let bytes = Bytes::from_request(req, state).await.map_err(|e| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "body_too_large",
                "the request body is too large",
            )
        } else {
            ApiError::new(
                e.status(),
                "bad_request",
                "the request body could not be read",
            )
        }
    })?;
    parse(&bytes)
}

/// `application/json`, or `application/<anything>+json`.
fn is_json(headers: &HeaderMap) -> bool {
    let Some(value) = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
    else {
        return false;
    };
    let essence = value.split(';').next().unwrap_or("").trim();
    let Some((kind, sub)) = essence.split_once('/') else {
        return false;
    };
    kind.eq_ignore_ascii_case("application")
        && (sub.eq_ignore_ascii_case("json") || sub.to_ascii_lowercase().ends_with("+json"))
}

/// Parses a JSON document into `T` (the testable core of [`read`]).
pub fn parse<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    if let Some(field) = nul_field(bytes) {
        let message = match &field {
            Some(f) => format!("{f}: must not contain a NUL character"),
            None => "strings must not contain a NUL character".to_owned(),
        };
        let e = ApiError::new(StatusCode::BAD_REQUEST, "invalid_text", message);
        return Err(match field {
            Some(f) => e.field(f),
            None => e,
        });
    }
    // Every body of the API is an object (serde would take a list for one).
    let first = bytes.iter().find(|b| !b.is_ascii_whitespace());
    if first.is_some_and(|b| *b != b'{') && serde_json::from_slice::<Value>(bytes).is_ok() {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_body",
            "the body must be a JSON object",
        ));
    }
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let value = serde_path_to_error::deserialize::<_, T>(&mut de).map_err(refusal)?;
    de.end().map_err(|e| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "malformed_json",
            format!("malformed JSON: {}", tidy(&e.to_string())),
        )
    })?;
    Ok(value)
}

/// The refusal of a body that did not deserialise.
fn refusal(e: serde_path_to_error::Error<serde_json::Error>) -> ApiError {
    let path = e.path().to_string();
    let inner = e.into_inner();
    let message = tidy(&inner.to_string());
    if !inner.is_data() {
        return ApiError::new(
            StatusCode::BAD_REQUEST,
            "malformed_json",
            format!("malformed JSON: {message}"),
        );
    }
    // A missing field is reported at its parent's path (an unknown one at
    // its own); either message names it already.
    static NAMED: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r"^(?:missing|unknown) field `([^`]*)`").expect("valid regex"));
    let parent = (path != ".").then_some(path);
    let missing = message.starts_with("missing field");
    let field = match NAMED.captures(&message).filter(|_| missing) {
        Some(c) => Some(match &parent {
            Some(p) => format!("{p}.{}", &c[1]),
            None => c[1].to_owned(),
        }),
        None => parent,
    };
    let text = match (&field, NAMED.is_match(&message)) {
        (Some(_), true) | (None, _) => message,
        (Some(f), false) => format!("{f}: {message}"),
    };
    let e = ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_body", text);
    match field {
        Some(f) => e.field(f),
        None => e,
    }
}

/// serde's message without its position and with the Rust type names
/// replaced by what a client sends.
fn tidy(message: &str) -> String {
    static POSITION: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r" at line \d+ column \d+$").expect("valid regex"));
    static TYPE: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"\b(?:struct|enum|tuple struct|unit struct) `?[A-Za-z_][A-Za-z0-9_]*`?")
            .expect("valid regex")
    });
    static WORDS: &[(&str, &str)] = &[
        ("expected i64", "expected an integer"),
        ("expected i32", "expected an integer"),
        ("expected u64", "expected a non-negative integer"),
        ("expected u32", "expected a non-negative integer"),
        ("expected u16", "expected a non-negative integer"),
        ("expected f64", "expected a number"),
        ("expected a sequence", "expected a list"),
        ("expected a map", "expected an object"),
        ("expected a borrowed string", "expected a string"),
        ("`OffsetDateTime`", "date and time"),
        ("OffsetDateTime", "date and time"),
    ];
    let trimmed = POSITION.replace(message, "");
    let mut out = TYPE
        .replace_all(&trimmed, |c: &regex::Captures<'_>| {
            if c[0].starts_with("enum") {
                "one of the allowed values".to_owned()
            } else {
                "an object".to_owned()
            }
        })
        .into_owned();
    for (from, to) in WORDS {
        out = out.replace(from, to);
    }
    out
}

/// `Some(path)` when a string (or an object key) of the document holds a
/// NUL; `Some(None)` when the NUL is at the top level. JSON can only carry
/// one escaped, so documents without `\u0000` are not parsed twice.
fn nul_field(bytes: &[u8]) -> Option<Option<String>> {
    const ESCAPE: &[u8] = b"\\u0000";
    if !bytes.windows(ESCAPE.len()).any(|w| w == ESCAPE) {
        return None;
    }
    let value: Value = serde_json::from_slice(bytes).ok()?;
    find_nul(&value, String::new()).map(|p| (!p.is_empty()).then_some(p))
}

fn find_nul(value: &Value, path: String) -> Option<String> {
    match value {
        Value::String(s) => s.contains('\0').then_some(path),
        Value::Array(items) => items
            .iter()
            .enumerate()
            .find_map(|(i, v)| find_nul(v, format!("{path}[{i}]"))),
        Value::Object(map) => map.iter().find_map(|(k, v)| {
            let here = if path.is_empty() {
                k.replace('\0', "\u{FFFD}")
            } else {
                format!("{path}.{}", k.replace('\0', "\u{FFFD}"))
            };
            if k.contains('\0') {
                Some(here)
            } else {
                find_nul(v, here)
            }
        }),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::links::input::{LinkInput, LinkPatchInput};

    fn refused<T: DeserializeOwned + std::fmt::Debug>(body: &str) -> serde_json::Value {
        let e = parse::<T>(body.as_bytes()).expect_err(body);
        let res = axum::response::IntoResponse::into_response(e);
        let status = res.status().as_u16();
        let body = futures_util::FutureExt::now_or_never(axum::body::to_bytes(
            res.into_body(),
            usize::MAX,
        ))
        .unwrap()
        .unwrap();
        let mut v: Value = serde_json::from_slice(&body).unwrap();
        v["status"] = status.into();
        v
    }

    #[test]
    fn a_nul_in_any_string_is_refused_naming_its_field() {
        let v = refused::<LinkInput>(r#"{"destination":"https://a.example/","title":"a\u0000"}"#);
        assert_eq!(v["status"], 400);
        assert_eq!(v["error"]["field"], "title");
        let v = refused::<LinkInput>(r#"{"utm":{"source":"\u0000"}}"#);
        assert_eq!(v["error"]["field"], "utm.source");
        let v = refused::<LinkInput>(r#"{"tags":["ok","x\u0000"]}"#);
        assert_eq!(v["error"]["field"], "tags[1]");
        // An escaped backslash before `u0000` is text, not a NUL.
        assert!(parse::<LinkInput>(br#"{"title":"\\u0000"}"#).is_ok());
    }

    #[test]
    fn deserialisation_errors_name_the_field_and_no_rust_type() {
        for (body, field) in [
            (r#""just a string""#, Value::Null),
            (r#"[1,2]"#, Value::Null),
            (r#"{"utm":"x"}"#, "utm".into()),
            (r#"{"enabled":"yes"}"#, "enabled".into()),
            (r#"{"parent_id":"x"}"#, "parent_id".into()),
            (r#"{"tags":"a"}"#, "tags".into()),
            (r#"{"nope":1}"#, "nope".into()),
            (r#"{"expires_at":"tomorrow"}"#, "expires_at".into()),
            (r#"{"preview":{"title":5}}"#, "preview.title".into()),
        ] {
            let v = refused::<LinkInput>(body);
            let message = v["error"]["message"].as_str().unwrap();
            assert_eq!(v["status"], 422, "{body}: {v}");
            assert_eq!(v["error"]["field"], field, "{body}: {v}");
            for rust in [
                "struct",
                "enum",
                "LinkInput",
                "Utm",
                "OffsetDateTime",
                "i64",
                "line 1",
            ] {
                assert!(!message.contains(rust), "{body}: {message}");
            }
        }
        let v = refused::<LinkPatchInput>(r#"{"slug": "#);
        assert_eq!(v["status"], 400, "{v}");
        assert_eq!(v["error"]["code"], "malformed_json");
    }
}
