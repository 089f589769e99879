//! The walk of the users, `/me`, tokens and document operations (see
//! `openapi.rs`).

use reqwest::Method as M;
use serde_json::json;

use super::{Body, Callers, Checker};

/// Calls each of these operations, successes and refusals.
pub async fn walk(c: &mut Checker<'_>, who: Callers<'_>) {
    let Callers {
        a, e, v, s, none, ..
    } = who;
    // Users and the caller.
    let me = c
        .call(M::GET, "/api/v1/me", "/api/v1/me", a, Body::None, 200)
        .await;
    let admin_id = me["id"].as_i64().unwrap();
    let t = "/api/v1/users";
    c.call(M::GET, t, t, a, Body::None, 200).await;
    c.call(M::GET, t, t, none, Body::None, 401).await;
    c.call(M::GET, t, t, e, Body::None, 403).await;
    let new_user =
        || Body::Json(json!({"email": "oa-new@example.com", "role": "editor", "language": "fr"}));
    let created = c.call(M::POST, t, t, a, new_user(), 201).await;
    c.call(M::POST, t, t, a, new_user(), 409).await;
    c.call(
        M::POST,
        t,
        t,
        a,
        Body::Json(json!({"email": "not-an-address", "role": "editor"})),
        422,
    )
    .await;
    c.call(M::POST, t, t, a, Body::Raw("{"), 400).await;
    c.call(M::POST, t, t, none, new_user(), 401).await;
    c.call(M::POST, t, t, v, new_user(), 403).await;
    let t = "/api/v1/users/{id}";
    let user = format!("/api/v1/users/{}", created["id"]);
    c.call(M::GET, t, &user, a, Body::None, 200).await;
    c.call(M::GET, t, "/api/v1/users/999999", a, Body::None, 404)
        .await;
    c.call(M::GET, t, &user, none, Body::None, 401).await;
    c.call(M::GET, t, &user, v, Body::None, 403).await;
    c.call(
        M::PATCH,
        t,
        &user,
        a,
        Body::Json(json!({"language": null, "disabled": true})),
        200,
    )
    .await;
    c.call(
        M::PATCH,
        t,
        &user,
        a,
        Body::Json(json!({"role": "overlord"})),
        422,
    )
    .await;
    c.call(M::PATCH, t, &user, a, Body::Raw("{"), 400).await;
    c.call(M::PATCH, t, &user, none, Body::Json(json!({})), 401)
        .await;
    c.call(M::PATCH, t, &user, e, Body::Json(json!({})), 403)
        .await;
    c.call(
        M::PATCH,
        t,
        "/api/v1/users/999999",
        a,
        Body::Json(json!({"language": "en"})),
        404,
    )
    .await;
    let last_admin = format!("/api/v1/users/{admin_id}");
    c.call(
        M::PATCH,
        t,
        &last_admin,
        a,
        Body::Json(json!({"role": "viewer"})),
        409,
    )
    .await;
    let t = "/api/v1/me";
    c.call(M::GET, t, t, s, Body::None, 200).await;
    c.call(M::GET, t, t, none, Body::None, 401).await;
    c.call(
        M::PATCH,
        t,
        t,
        s,
        Body::Json(json!({"language": "fr"})),
        200,
    )
    .await;
    c.call(
        M::PATCH,
        t,
        t,
        s,
        Body::Json(json!({"password": "another-long-password", "current_password": "wrong"})),
        422,
    )
    .await;
    c.call(M::PATCH, t, t, s, Body::Raw("{"), 400).await;
    c.call(M::PATCH, t, t, none, Body::Json(json!({})), 401)
        .await;

    // Tokens.
    let t = "/api/v1/tokens";
    let listed = c.call(M::GET, t, t, v, Body::None, 200).await;
    assert_eq!(listed["data"].as_array().unwrap().len(), 1);
    c.call(
        M::GET,
        t,
        &format!("{t}?user_id={admin_id}"),
        v,
        Body::None,
        403,
    )
    .await;
    c.call(M::GET, t, &format!("{t}?user_id=abc"), v, Body::None, 400)
        .await;
    c.call(M::GET, t, t, none, Body::None, 401).await;
    let token = c
        .call(M::POST, t, t, v, Body::Json(json!({"name": "ci"})), 201)
        .await;
    assert!(token["secret"].as_str().unwrap().starts_with("lnt_"));
    c.call(
        M::POST,
        t,
        t,
        v,
        Body::Json(json!({"name": "x", "user_id": admin_id})),
        403,
    )
    .await;
    c.call(
        M::POST,
        t,
        t,
        a,
        Body::Json(json!({"name": "x", "user_id": 999999})),
        422,
    )
    .await;
    c.call(M::POST, t, t, v, Body::Raw("{"), 400).await;
    c.call(M::POST, t, t, none, Body::Json(json!({})), 401)
        .await;
    let t = "/api/v1/tokens/{id}";
    let tok = format!("/api/v1/tokens/{}", token["id"]);
    c.call(M::DELETE, t, &tok, none, Body::None, 401).await;
    c.call(M::DELETE, t, &tok, v, Body::None, 204).await;
    c.call(M::DELETE, t, "/api/v1/tokens/999999", v, Body::None, 404)
        .await;

    // Saved UTM presets.
    let t = "/api/v1/utm-presets";
    c.call(M::GET, t, t, v, Body::None, 200).await;
    c.call(M::GET, t, t, none, Body::None, 401).await;
    let preset = || {
        Body::Json(
            json!({"name": "Newsletter", "utm": {"source": "newsletter", "medium": "email"}}),
        )
    };
    let saved = c.call(M::POST, t, t, e, preset(), 201).await;
    c.call(M::POST, t, t, e, preset(), 409).await;
    c.call(M::POST, t, t, v, preset(), 403).await;
    c.call(M::POST, t, t, e, Body::Json(json!({"name": ""})), 422)
        .await;
    c.call(M::POST, t, t, e, Body::Raw("{"), 400).await;
    c.call(M::POST, t, t, none, preset(), 401).await;
    let t = "/api/v1/utm-presets/{id}";
    let one = format!("/api/v1/utm-presets/{}", saved["id"]);
    c.call(M::DELETE, t, &one, v, Body::None, 403).await;
    c.call(M::DELETE, t, &one, none, Body::None, 401).await;
    c.call(M::DELETE, t, &one, e, Body::None, 204).await;
    c.call(M::DELETE, t, &one, e, Body::None, 404).await;

    // The document itself.
    let t = "/api/v1/openapi.json";
    c.call(M::GET, t, t, none, Body::None, 200).await;
}
