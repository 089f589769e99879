//! The OpenAPI document against the real server: it is served without a
//! credential; every documented operation is called with real requests, and
//! each answer's status must be documented for its path and method and its
//! body must validate against the schema the document declares (objects
//! closed: a field the document does not name fails); every documented
//! status must have been seen; and the routes the router serves are exactly
//! the documented ones.

use std::collections::{BTreeMap, BTreeSet};

use lanterne::users::Role;
use reqwest::Method;
use serde_json::{Value, json};

use crate::harness::TestApp;

mod accounts;
mod links;

/// Who calls.
#[derive(Clone, Copy)]
enum Auth<'a> {
    None,
    Token(&'a str),
    Session(&'a str),
}

/// The callers of the walk: an admin, an editor, a viewer (tokens), a
/// viewer signed in (session cookie), nobody, and a bad token.
#[derive(Clone, Copy)]
struct Callers<'a> {
    a: Auth<'a>,
    e: Auth<'a>,
    v: Auth<'a>,
    s: Auth<'a>,
    none: Auth<'a>,
    bad: Auth<'a>,
}

/// What is sent.
enum Body {
    None,
    Json(Value),
    Raw(&'static str),
}

/// Calls the API and checks each answer against the document.
struct Checker<'a> {
    app: &'a TestApp,
    doc: Value,
    /// The document's schemas, closed (see [`close`]).
    components: Value,
    /// (path template, method, status) seen and checked.
    seen: BTreeSet<(String, String, u16)>,
}

impl<'a> Checker<'a> {
    async fn new(app: &'a TestApp) -> Checker<'a> {
        let res = app
            .client
            .get(format!("{}/api/v1/openapi.json", app.address))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200, "served without a credential");
        assert!(
            res.headers()["content-type"]
                .to_str()
                .unwrap()
                .starts_with("application/json")
        );
        let doc: Value = res.json().await.unwrap();
        assert_eq!(doc["openapi"], "3.1.0");
        assert_eq!(
            doc,
            serde_json::to_value(lanterne::http::api::openapi()).unwrap(),
            "the served document is the one the code builds"
        );
        let mut components = json!({ "schemas": doc["components"]["schemas"].clone() });
        close(&mut components);
        Checker {
            app,
            doc,
            components,
            seen: BTreeSet::new(),
        }
    }

    /// Sends `method path` (matching the document's `template`) and checks
    /// the answer: its status is `expected` and documented, its content type
    /// the documented one, its JSON body valid. Returns the JSON body
    /// (`Null` when not JSON or empty).
    async fn call(
        &mut self,
        method: Method,
        template: &str,
        path: &str,
        auth: Auth<'_>,
        body: Body,
        expected: u16,
    ) -> Value {
        let mut req = self
            .app
            .client
            .request(method.clone(), format!("{}{path}", self.app.address));
        req = match auth {
            Auth::None => req,
            Auth::Token(t) => req.bearer_auth(t),
            Auth::Session(s) => req.header("cookie", format!("lanterne_session={s}")),
        };
        req = match body {
            Body::None => req,
            Body::Json(v) => req.json(&v),
            Body::Raw(text) => req.header("content-type", "application/json").body(text),
        };
        let res = req.send().await.unwrap();
        let status = res.status().as_u16();
        let content_type = res
            .headers()
            .get("content-type")
            .map(|v| v.to_str().unwrap().to_owned());
        let bytes = res.bytes().await.unwrap();
        let what = format!("{method} {path}");
        assert_eq!(
            status,
            expected,
            "{what}: {}",
            String::from_utf8_lossy(&bytes)
        );
        let m = method.as_str().to_lowercase();
        let operation = &self.doc["paths"][template][&m];
        assert!(
            operation.is_object(),
            "{what}: {template} {m} is documented"
        );
        let response = &operation["responses"][status.to_string()];
        assert!(
            response.is_object(),
            "{what}: status {status} is documented"
        );
        self.seen.insert((template.to_owned(), m, status));
        let Some(content) = response.get("content").and_then(Value::as_object) else {
            assert!(bytes.is_empty(), "{what}: no body documented, none sent");
            return Value::Null;
        };
        let content_type = content_type.expect("a content type");
        let media = content_type.split(';').next().unwrap().trim();
        let Some(declared) = content.get(media) else {
            panic!("{what}: {media} is not a documented media type of {status}");
        };
        if media != "application/json" {
            assert!(!bytes.is_empty(), "{what}: a body");
            return Value::Null;
        }
        let value: Value = serde_json::from_slice(&bytes).unwrap();
        self.validate(&what, &declared["schema"], &value);
        value
    }

    /// Validates `value` against `schema`, whose `#/components/...` refs
    /// resolve in the (closed) document schemas.
    fn validate(&self, what: &str, schema: &Value, value: &Value) {
        let errors = schema_errors(&self.components, schema, value);
        assert!(
            errors.is_empty(),
            "{what}: the answer fits its schema: {errors:#?}\n{value:#}"
        );
    }

    /// Every (path, method, status) the document declares.
    fn documented(&self) -> BTreeSet<(String, String, u16)> {
        let mut all = BTreeSet::new();
        for (path, item) in self.doc["paths"].as_object().unwrap() {
            for (method, op) in item.as_object().unwrap() {
                for status in op["responses"].as_object().unwrap().keys() {
                    all.insert((path.clone(), method.clone(), status.parse().unwrap()));
                }
            }
        }
        all
    }
}

/// What is wrong with `value` against `schema`, whose `#/components/...`
/// refs resolve in `components` (draft 2020-12, formats checked).
fn schema_errors(components: &Value, schema: &Value, value: &Value) -> Vec<String> {
    let mut root = schema.as_object().cloned().unwrap_or_default();
    root.insert("components".into(), components.clone());
    let validator = jsonschema::draft202012::options()
        .should_validate_formats(true)
        .build(&Value::Object(root))
        .unwrap_or_else(|e| panic!("the schema compiles: {e}"));
    validator
        .iter_errors(value)
        .map(|e| format!("{e} at {}", e.instance_path()))
        .collect()
}

#[test]
fn the_check_refuses_answers_the_document_does_not_describe() {
    let doc = serde_json::to_value(lanterne::http::api::openapi()).unwrap();
    let mut components = json!({ "schemas": doc["components"]["schemas"].clone() });
    close(&mut components);
    let schema = |name: &str| json!({ "$ref": format!("#/components/schemas/{name}") });
    let ok = |name: &str, v: Value| schema_errors(&components, &schema(name), &v).is_empty();
    let error = |extra: Value| {
        let mut e = json!({"code": "not_found", "message": "link not found", "field": null});
        e.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        json!({ "error": e })
    };
    assert!(ok("ErrorBody", error(json!({}))));
    assert!(ok(
        "ErrorBody",
        error(json!({"fields": [{"field": "slug", "code": "c", "message": "m"}]}))
    ));
    assert!(
        !ok("ErrorBody", error(json!({"colour": "red"}))),
        "an undocumented field"
    );
    assert!(
        !ok("ErrorBody", json!({"error": {"code": "x", "message": "y"}})),
        "field is always there"
    );
    assert!(
        !ok("ErrorBody", error(json!({"fields": null}))),
        "fields is a list when present"
    );
    let token = json!({
        "id": 1, "user_id": 1, "name": "ci", "prefix": "lnt_abcd", "revoked": false,
        "created_at": "2026-12-01T00:00:00Z", "last_used_at": null, "revoked_at": null,
    });
    assert!(ok("TokenResponse", token.clone()));
    let mut created = token.clone();
    created["secret"] = json!("lnt_secret");
    assert!(
        ok("CreatedTokenResponse", created.clone()),
        "allOf extends the listing"
    );
    assert!(
        !ok("CreatedTokenResponse", token.clone()),
        "the secret is required"
    );
    created["colour"] = json!("red");
    assert!(
        !ok("CreatedTokenResponse", created),
        "closed through allOf too"
    );
    let mut bad_time = token;
    bad_time["created_at"] = json!("yesterday");
    assert!(!ok("TokenResponse", bad_time), "formats are checked");
}

/// Closes every object schema that names its properties
/// (`additionalProperties: false`, unless it says otherwise), so that an
/// answer with a field the document does not describe fails. A schema that
/// a composition (`allOf`) extends stays open there, and the composition is
/// closed with `unevaluatedProperties` instead.
fn close(components: &mut Value) {
    let mut extended = BTreeSet::new();
    collect_all_of_refs(components, &mut extended);
    let schemas = components["schemas"].as_object_mut().unwrap();
    for (name, schema) in schemas.iter_mut() {
        let open = extended.contains(&format!("#/components/schemas/{name}"));
        close_schema(schema, open);
    }
}

fn collect_all_of_refs(v: &Value, out: &mut BTreeSet<String>) {
    match v {
        Value::Object(m) => {
            if let Some(Value::Array(parts)) = m.get("allOf") {
                for p in parts {
                    if let Some(r) = p.get("$ref").and_then(Value::as_str) {
                        out.insert(r.to_owned());
                    }
                }
            }
            m.values().for_each(|c| collect_all_of_refs(c, out));
        }
        Value::Array(a) => a.iter().for_each(|c| collect_all_of_refs(c, out)),
        _ => {}
    }
}

fn close_schema(v: &mut Value, open: bool) {
    match v {
        Value::Object(m) => {
            if m.contains_key("allOf") {
                m.entry("unevaluatedProperties")
                    .or_insert(Value::Bool(false));
                if let Some(Value::Array(parts)) = m.get_mut("allOf") {
                    parts.iter_mut().for_each(|p| close_schema(p, true));
                }
            } else if m.contains_key("properties") && !open {
                m.entry("additionalProperties")
                    .or_insert(Value::Bool(false));
            }
            for (k, c) in m.iter_mut() {
                if k != "allOf" {
                    close_schema(c, false);
                }
            }
        }
        Value::Array(a) => a.iter_mut().for_each(|c| close_schema(c, false)),
        _ => {}
    }
}

#[tokio::test]
async fn every_operation_answers_as_the_document_says() {
    let app = TestApp::spawn().await;
    let mut c = Checker::new(&app).await;
    let admin = app.token.clone();
    let editor = app.user(Role::Editor, None).await;
    let viewer = app.user(Role::Viewer, None).await;
    let password = "openapi-test-password";
    let reader = app.user(Role::Viewer, Some(password)).await;
    let session = app
        .sign_in(&reader.email, password, "127.0.0.1")
        .await
        .unwrap();
    let (a, e, v, s) = (
        Auth::Token(&admin),
        Auth::Token(&editor.token),
        Auth::Token(&viewer.token),
        Auth::Session(&session),
    );
    let who = Callers {
        a,
        e,
        v,
        s,
        none: Auth::None,
        bad: Auth::Token("lnt_not_a_token"),
    };
    links::walk(&mut c, who).await;
    accounts::walk(&mut c, who).await;

    // 429s have a test of their own (below), and so do the stats' 422s
    // (filtered_views.rs: they need a busy range or a cut budget).
    let missing: Vec<_> = c
        .documented()
        .difference(&c.seen)
        .filter(|(path, _, status)| {
            *status != 429 && !(*status == 422 && path.starts_with("/api/v1/stats"))
        })
        .cloned()
        .collect();
    assert!(
        missing.is_empty(),
        "documented but never checked: {missing:#?}"
    );
}

#[tokio::test]
async fn a_throttled_client_is_refused_as_documented_everywhere() {
    let app = TestApp::spawn().await;
    let mut c = Checker::new(&app).await;
    let bad = Auth::Token("lnt_not_a_token");
    for _ in 0..25 {
        app.client
            .get(format!("{}/api/v1/me", app.address))
            .bearer_auth("lnt_not_a_token")
            .send()
            .await
            .unwrap();
    }
    let throttled: Vec<_> = c
        .documented()
        .into_iter()
        .filter(|(_, _, status)| *status == 429)
        .collect();
    assert!(throttled.len() > 20, "every authenticated operation");
    for (template, method, _) in &throttled {
        let path = template
            .replace("{id}", "1")
            .replace("{file}", "sources.csv");
        let method = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
        let body = if method == Method::POST || method == Method::PATCH {
            Body::Json(json!({}))
        } else {
            Body::None
        };
        c.call(method, template, &path, bad, body, 429).await;
    }
    assert_eq!(c.seen, throttled.into_iter().collect());
    let res = app.api_get("/api/v1/me").await;
    assert_eq!(res.status(), 429, "even a good token, from that IP");
    assert!(res.headers().contains_key("retry-after"));
}

/// The paths of the API's router, read from its `Debug` form (axum lists
/// its route table there), as `/api/v1/...`.
fn served_paths() -> BTreeSet<String> {
    let debug = format!("{:?}", lanterne::http::api::router());
    // The routes, not the fallback router's catch-all.
    let (table, _) = debug
        .split_once("fallback_router")
        .expect("axum's Debug names the fallback router");
    let re = regex::Regex::new(r#"RouteId\(\d+\): "([^"]+)""#).unwrap();
    let paths: BTreeSet<String> = re
        .captures_iter(table)
        .map(|c| format!("/api/v1{}", &c[1]))
        .collect();
    assert!(paths.len() > 10, "axum's Debug lists the routes: {table}");
    paths
}

#[tokio::test]
async fn the_router_serves_exactly_the_documented_routes() {
    let app = TestApp::spawn().await;
    let doc = serde_json::to_value(lanterne::http::api::openapi()).unwrap();
    let documented: BTreeMap<String, BTreeSet<String>> = doc["paths"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(p, item)| {
            let methods = item.as_object().unwrap().keys().cloned().collect();
            (p.clone(), methods)
        })
        .collect();
    let paths = served_paths();
    assert_eq!(
        paths,
        documented.keys().cloned().collect::<BTreeSet<_>>(),
        "served paths = documented paths"
    );
    // Which methods each path answers: anything but 405 (and not the API's
    // unknown-endpoint answer) means the router serves it.
    for path in paths {
        let concrete = path.replace("{id}", "1").replace("{file}", "sources.csv");
        let mut served = BTreeSet::new();
        for method in [
            Method::GET,
            Method::POST,
            Method::PUT,
            Method::PATCH,
            Method::DELETE,
            Method::OPTIONS,
        ] {
            let res = app
                .client
                .request(method.clone(), format!("{}{concrete}", app.address))
                .send()
                .await
                .unwrap();
            let status = res.status().as_u16();
            let body = res.text().await.unwrap();
            if status != 405 && !body.contains("endpoint not found") {
                served.insert(method.as_str().to_lowercase());
            }
        }
        assert_eq!(
            served, documented[&path],
            "{path}: the methods served are the documented ones"
        );
    }
}
