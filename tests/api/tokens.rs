//! Attacks on access and refresh tokens.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::Utc;
use jsonwebtoken::{Algorithm, EncodingKey, Header, encode};
use kakehashi_domain::{OrganizationKind, Role};
use serde_json::{Value, json};

use crate::helpers::{JWT_SECRET, TestApp, assert_problem, spawn_app};

async fn member(app: &TestApp) -> (uuid::Uuid, uuid::Uuid) {
    let org = app.organization("大学", OrganizationKind::Academia).await;
    (app.member("r@example.org", Role::Researcher, org).await, org)
}

fn claims(app: &TestApp, sub: uuid::Uuid, org: uuid::Uuid, sid: &Value) -> Value {
    let now = Utc::now().timestamp();
    json!({
        "iss": app.settings.auth.issuer, "aud": app.settings.auth.audience, "sub": sub,
        "exp": now + 600, "nbf": now - 1, "iat": now, "jti": uuid::Uuid::new_v4(),
        "typ": "access", "role": "researcher", "org": org, "sid": sid,
    })
}

/// The claims of a token, read without checking it.
fn payload(token: &str) -> Value {
    let payload = token.split('.').nth(1).unwrap();
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap()
}

fn sign(claims: &Value, secret: &str) -> String {
    encode(&Header::new(Algorithm::HS256), claims, &EncodingKey::from_secret(secret.as_bytes())).unwrap()
}

async fn assert_refused(app: &TestApp, token: &str, what: &str) {
    let res = app.get("/api/v1/me", Some(token)).await;
    assert_eq!(res.status, 401, "{what} was accepted: {}", res.text);
    assert_eq!(res.body["code"], "unauthorized", "{what}");
    assert_eq!(res.headers.get("www-authenticate").unwrap(), "Bearer");
}

#[actix_web::test]
async fn a_well_formed_token_works_and_every_forgery_fails() {
    let app = spawn_app().await;
    let (sub, org) = member(&app).await;
    let real = app.token("r@example.org").await;
    let good = claims(&app, sub, org, &payload(&real)["sid"]);
    assert_eq!(
        app.get("/api/v1/me", Some(&sign(&good, JWT_SECRET))).await.status,
        200,
        "control: a correct token works"
    );

    let (head, rest) = real.split_once('.').unwrap();
    let (payload, signature) = rest.split_once('.').unwrap();

    // Tampered payload, original signature: promote to admin.
    let mut forged: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap();
    forged["role"] = json!("admin");
    let tampered = format!("{head}.{}.{signature}", URL_SAFE_NO_PAD.encode(forged.to_string()));
    assert_refused(&app, &tampered, "a tampered payload").await;

    // Flipped signature.
    let mut sig = signature.to_owned();
    sig.replace_range(0..1, if sig.starts_with('A') { "B" } else { "A" });
    assert_refused(&app, &format!("{head}.{payload}.{sig}"), "a bad signature").await;

    // alg: none, with and without a signature.
    let none_header = URL_SAFE_NO_PAD.encode(r#"{"alg":"none","typ":"JWT"}"#);
    let body = URL_SAFE_NO_PAD.encode(good.to_string());
    assert_refused(&app, &format!("{none_header}.{body}."), "alg none").await;
    assert_refused(&app, &format!("{none_header}.{body}.{signature}"), "alg none with a signature").await;

    // HS512 with the right secret is still outside the allowlist.
    let hs512 =
        encode(&Header::new(Algorithm::HS512), &good, &EncodingKey::from_secret(JWT_SECRET.as_bytes())).unwrap();
    assert_refused(&app, &hs512, "an algorithm outside the allowlist").await;

    assert_refused(&app, &sign(&good, "another-secret-another-secret-another-secret"), "another key").await;

    let now = Utc::now().timestamp();
    let variants: Vec<(&str, Value)> = vec![
        ("expired", json!({ "exp": now - 120 })),
        ("exp as a string", json!({ "exp": (now + 600).to_string() })),
        ("not yet valid", json!({ "nbf": now + 600 })),
        ("wrong audience", json!({ "aud": "someone-else" })),
        ("wrong issuer", json!({ "iss": "evil" })),
        ("typ refresh", json!({ "typ": "refresh" })),
        ("unknown member", json!({ "sub": uuid::Uuid::new_v4() })),
        ("an invented session", json!({ "sid": uuid::Uuid::new_v4() })),
        ("no session", json!({ "sid": null })),
    ];
    for (what, change) in variants {
        let mut c = good.clone();
        for (k, v) in change.as_object().unwrap() {
            c[k] = v.clone();
        }
        assert_refused(&app, &sign(&c, JWT_SECRET), what).await;
    }
    for missing in ["exp", "nbf", "aud", "iss", "sub"] {
        let mut c = good.clone();
        c.as_object_mut().unwrap().remove(missing);
        assert_refused(&app, &sign(&c, JWT_SECRET), &format!("no {missing}")).await;
    }
    assert_refused(&app, "not-a-jwt", "garbage").await;
    let res = app
        .client
        .get(format!("{}/api/v1/me", app.base))
        .insert_header(("authorization", format!("Basic {real}")))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401, "another scheme");
}

#[actix_web::test]
async fn refresh_and_access_tokens_are_not_interchangeable() {
    let app = spawn_app().await;
    member(&app).await;
    let pair = app.login("r@example.org", crate::helpers::PASSWORD).await.body;
    let access = pair["access_token"].as_str().unwrap();
    let refresh = pair["refresh_token"].as_str().unwrap();
    assert_refused(&app, refresh, "a refresh token as bearer").await;
    let res = app.post("/api/v1/auth/refresh", None, json!({ "refresh_token": access })).await;
    assert_problem(&res, 401, "unauthorized");
}

#[actix_web::test]
async fn refresh_rotates_and_reuse_revokes_the_family() {
    let app = spawn_app().await;
    member(&app).await;
    let first = app.login("r@example.org", crate::helpers::PASSWORD).await.body;
    let r1 = first["refresh_token"].as_str().unwrap().to_owned();

    let second = app.post("/api/v1/auth/refresh", None, json!({ "refresh_token": r1 })).await;
    assert_eq!(second.status, 200, "{}", second.text);
    assert_eq!(second.body["token_type"], "Bearer");
    let r2 = second.body["refresh_token"].as_str().unwrap().to_owned();
    assert_ne!(r1, r2);
    assert_eq!(app.get("/api/v1/me", second.body["access_token"].as_str()).await.status, 200);

    // The old token again: refused, and the thief's use ends the legitimate session too.
    assert_problem(&app.post("/api/v1/auth/refresh", None, json!({ "refresh_token": r1 })).await, 401, "unauthorized");
    assert_problem(&app.post("/api/v1/auth/refresh", None, json!({ "refresh_token": r2 })).await, 401, "unauthorized");

    let audit = app
        .services
        .audit_log(
            kakehashi_service::members::AuditFilter {
                action: Some("auth.refresh_reuse_detected".into()),
                ..Default::default()
            },
            kakehashi_domain::Page::default(),
        )
        .await
        .unwrap();
    assert_eq!(audit.total, 1);

    // Another login opens an independent session.
    let fresh = app.login("r@example.org", crate::helpers::PASSWORD).await.body;
    let res = app.post("/api/v1/auth/refresh", None, json!({ "refresh_token": fresh["refresh_token"] })).await;
    assert_eq!(res.status, 200);
}

#[actix_web::test]
async fn logout_ends_the_session() {
    let app = spawn_app().await;
    member(&app).await;
    let pair = app.login("r@example.org", crate::helpers::PASSWORD).await.body;
    let other = app.login("r@example.org", crate::helpers::PASSWORD).await.body;
    let res = app
        .post("/api/v1/auth/logout", pair["access_token"].as_str(), json!({ "refresh_token": pair["refresh_token"] }))
        .await;
    assert_eq!(res.status, 204, "{}", res.text);
    assert_problem(
        &app.post("/api/v1/auth/refresh", None, json!({ "refresh_token": pair["refresh_token"] })).await,
        401,
        "unauthorized",
    );
    // The other session lives until a logout without a token ends them all.
    let other_refresh =
        app.post("/api/v1/auth/refresh", None, json!({ "refresh_token": other["refresh_token"] })).await.body;
    let res = app
        .request(actix_web::http::Method::POST, "/api/v1/auth/logout", other_refresh["access_token"].as_str(), None)
        .await;
    assert_eq!(res.status, 204, "{}", res.text);
    assert_problem(
        &app.post("/api/v1/auth/refresh", None, json!({ "refresh_token": other_refresh["refresh_token"] })).await,
        401,
        "unauthorized",
    );
    assert_problem(&app.post("/api/v1/auth/logout", None, json!({})).await, 401, "unauthorized");
}
