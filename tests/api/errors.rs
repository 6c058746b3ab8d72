//! Malformed, wrong and oversized input: a clear problem, the field named, nothing written.

use actix_web::http::Method;
use kakehashi_domain::OrganizationKind;
use serde_json::json;

use crate::helpers::{assert_problem, spawn_app};

#[actix_web::test]
async fn bad_bodies_get_problems_naming_the_field() {
    let app = spawn_app().await;
    let (_, admin) = app.admin().await;
    let org = app.organization("大学", OrganizationKind::Academia).await;

    let res = app.raw(Method::POST, "/api/v1/auth/register", "application/json", b"{\"email\": ".to_vec()).await;
    assert_problem(&res, 400, "bad_request");
    assert!(res.body["detail"].as_str().unwrap().starts_with("malformed JSON"));

    let res = app
        .post(
            "/api/v1/auth/register",
            None,
            json!({ "password": "long enough password", "name": "n", "organization_id": org }),
        )
        .await;
    assert_problem(&res, 422, "validation_failed");
    assert_eq!(res.body["errors"][0]["field"], "email");

    let res = app
        .post(
            "/api/v1/auth/register",
            None,
            json!({ "email": "a@example.org", "password": "long enough password", "name": "n", "organization_id": 42 }),
        )
        .await;
    assert_problem(&res, 422, "validation_failed");
    assert_eq!(res.body["errors"][0]["field"], "organization_id");

    let res = app
        .post("/api/v1/admin/organizations", Some(&admin), json!({ "name": "x", "name_en": "x", "kind": "government" }))
        .await;
    assert_problem(&res, 422, "validation_failed");
    assert_eq!(res.body["errors"][0]["field"], "kind");

    let res = app
        .post(
            "/api/v1/auth/register",
            None,
            json!({ "email": "a@example.org", "password": "short", "name": "", "organization_id": org }),
        )
        .await;
    assert_problem(&res, 422, "validation_failed");
    let fields: Vec<&str> =
        res.body["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap()).collect();
    assert_eq!(fields, ["name", "password"]);

    let res = app.raw(Method::POST, "/api/v1/auth/login", "text/plain", b"email=a".to_vec()).await;
    assert_problem(&res, 415, "unsupported_media_type");

    let huge =
        json!({ "email": "a@example.org", "password": "x".repeat(300_000), "name": "n", "organization_id": org });
    let res = app.post("/api/v1/auth/register", None, huge).await;
    assert_problem(&res, 413, "payload_too_large");

    // None of the refused registrations left a member behind.
    let members = app.get("/api/v1/admin/members", Some(&admin)).await;
    assert_eq!(members.body["total"], 1, "{}", members.text);
    assert!(app.mails_to("a@example.org").is_empty());
}

#[actix_web::test]
async fn clients_cannot_set_fields_they_do_not_own() {
    let app = spawn_app().await;
    let org = app.organization("大学", OrganizationKind::Academia).await;
    for (field, value) in [("role", json!("admin")), ("status", json!("active")), ("id", json!(uuid::Uuid::new_v4()))] {
        let mut body = json!({ "email": "sneaky@example.org", "password": "long enough password", "name": "n", "organization_id": org });
        body[field] = value;
        let res = app.post("/api/v1/auth/register", None, body).await;
        assert_problem(&res, 422, "validation_failed");
        assert!(res.body["detail"].as_str().unwrap().contains(&format!("unknown field `{field}`")), "{}", res.text);
    }
    assert!(app.mails_to("sneaky@example.org").is_empty());
}

#[actix_web::test]
async fn internal_details_do_not_leak() {
    let app = spawn_app().await;
    let res =
        app.post("/api/v1/auth/verify-email", None, json!({ "token": "kke_".to_owned() + &"A".repeat(43) })).await;
    assert_problem(&res, 400, "invalid_token");
    for word in ["sqlx", "sea_orm", "SELECT", "panicked", "backtrace"] {
        assert!(!res.text.contains(word));
    }
}
