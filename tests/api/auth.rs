//! Login, lockout, rate limits, suspension and password reset.

use kakehashi_domain::{OrganizationKind, Role};
use serde_json::json;

use crate::helpers::{PASSWORD, assert_problem, spawn_app, spawn_app_with};

#[actix_web::test]
async fn login_gives_a_token_pair_and_me_describes_the_member() {
    let app = spawn_app().await;
    let org = app.organization("東都医科大学", OrganizationKind::Academia).await;
    let id = app.member("Researcher@Example.org", Role::Researcher, org).await;
    let res = app.login("  researcher@example.ORG ", PASSWORD).await;
    assert_eq!(res.status, 200, "{}", res.text);
    assert_eq!(res.body["token_type"], "Bearer");
    assert_eq!(res.body["expires_in"], 900);
    let me = app.get("/api/v1/me", res.body["access_token"].as_str()).await;
    assert_eq!(me.status, 200);
    assert_eq!(me.body["id"], id.to_string());
    assert_eq!(me.body["email"], "researcher@example.org");
    assert_eq!(me.body["role"], "researcher");
    assert_eq!(me.body["organization"]["id"], org.to_string());
    assert_eq!(me.body["organization"]["name"], "東都医科大学");
    assert_eq!(me.body["organization"]["kind"], "academia");
    assert!(!me.text.contains("argon2"), "no password hash in responses");
}

#[actix_web::test]
async fn wrong_password_and_unknown_address_look_the_same() {
    let app = spawn_app().await;
    let org = app.organization("大学", OrganizationKind::Academia).await;
    app.member("a@example.org", Role::Researcher, org).await;
    let wrong = app.login("a@example.org", "not the password at all").await;
    let unknown = app.login("nobody@example.org", "not the password at all").await;
    assert_problem(&wrong, 401, "invalid_credentials");
    assert_problem(&unknown, 401, "invalid_credentials");
    assert_eq!(wrong.body, unknown.body);
    assert_problem(&app.get("/api/v1/me", None).await, 401, "unauthorized");
}

#[actix_web::test]
async fn brute_force_is_rate_limited_per_account() {
    let app = spawn_app().await;
    let org = app.organization("大学", OrganizationKind::Academia).await;
    app.member("victim@example.org", Role::Researcher, org).await;
    let budget = app.settings.auth.login_per_account.burst;
    for _ in 0..budget {
        assert_problem(&app.login("victim@example.org", "guess guess guess").await, 401, "invalid_credentials");
    }
    let res = app.login("victim@example.org", "guess guess guess").await;
    assert_problem(&res, 429, "rate_limited");
    assert!(res.headers.get("retry-after").is_some());
    // Even the right password waits: the limiter does not tell guesses apart.
    assert_problem(&app.login("victim@example.org", PASSWORD).await, 429, "rate_limited");
    // Addresses that do not exist are limited the same way (no account enumeration).
    for _ in 0..budget {
        app.login("ghost@example.org", "guess guess guess").await;
    }
    assert_problem(&app.login("ghost@example.org", "guess guess guess").await, 429, "rate_limited");
}

#[actix_web::test]
async fn brute_force_is_rate_limited_per_address() {
    let app = spawn_app_with(|s| s.auth.login_per_ip = kakehashi_service::RateSpec { burst: 4, per_secs: 600 }).await;
    for i in 0..4 {
        app.login(&format!("spray{i}@example.org"), "guess guess guess").await;
    }
    assert_problem(&app.login("spray-last@example.org", "guess guess guess").await, 429, "rate_limited");
}

#[actix_web::test]
async fn repeated_failures_lock_the_account() {
    let app = spawn_app_with(|s| {
        s.auth.lockout_threshold = 3;
        s.auth.login_per_account = kakehashi_service::RateSpec { burst: 100, per_secs: 60 };
    })
    .await;
    let org = app.organization("大学", OrganizationKind::Academia).await;
    app.member("locked@example.org", Role::Researcher, org).await;
    for _ in 0..3 {
        assert_problem(&app.login("locked@example.org", "guess guess guess").await, 401, "invalid_credentials");
    }
    // Even the right password is refused, and the answer is the one an unknown address gets.
    let locked = app.login("locked@example.org", PASSWORD).await;
    assert_problem(&locked, 401, "invalid_credentials");
    assert_eq!(locked.body, app.login("nobody@example.org", "guess guess guess").await.body);
    // A password reset lifts the lock.
    app.post("/api/v1/auth/password-reset", None, json!({ "email": "locked@example.org" })).await;
    let token = app.await_token_from_mail("locked@example.org").await;
    let res = app
        .post(
            "/api/v1/auth/password-reset/confirm",
            None,
            json!({ "token": token, "password": "a brand new password" }),
        )
        .await;
    assert_eq!(res.status, 204, "{}", res.text);
    assert_eq!(app.login("locked@example.org", "a brand new password").await.status, 200);
}

#[actix_web::test]
async fn a_suspended_member_is_shut_out_at_once() {
    let app = spawn_app().await;
    let (_, admin) = app.admin().await;
    let org = app.organization("製薬", OrganizationKind::Company).await;
    let id = app.member("bd@example.org", Role::Company, org).await;
    let pair = app.login("bd@example.org", PASSWORD).await.body;
    let access = pair["access_token"].as_str().unwrap();
    assert_eq!(app.get("/api/v1/me", Some(access)).await.status, 200);

    let res = app.post(&format!("/api/v1/admin/members/{id}/suspend"), Some(&admin), json!({})).await;
    assert_eq!(res.status, 200, "{}", res.text);
    assert_eq!(res.body["status"], "suspended");

    assert_problem(&app.get("/api/v1/me", Some(access)).await, 401, "unauthorized");
    assert_problem(
        &app.post("/api/v1/auth/refresh", None, json!({ "refresh_token": pair["refresh_token"] })).await,
        401,
        "unauthorized",
    );
    assert_problem(&app.login("bd@example.org", PASSWORD).await, 403, "account_suspended");
    // A wrong password still says only "wrong".
    assert_problem(&app.login("bd@example.org", "not the password").await, 401, "invalid_credentials");

    let res = app.post(&format!("/api/v1/admin/members/{id}/approve"), Some(&admin), json!({})).await;
    assert_eq!(res.body["status"], "active");
    assert_eq!(app.login("bd@example.org", PASSWORD).await.status, 200);
}

#[actix_web::test]
async fn password_reset_by_email() {
    let app = spawn_app().await;
    let org = app.organization("大学", OrganizationKind::Academia).await;
    app.member("forgetful@example.org", Role::Researcher, org).await;
    let old_session = app.login("forgetful@example.org", PASSWORD).await.body;

    let res = app.post("/api/v1/auth/password-reset", None, json!({ "email": "forgetful@example.org" })).await;
    assert_eq!(res.status, 202);
    let unknown = app.post("/api/v1/auth/password-reset", None, json!({ "email": "stranger@example.org" })).await;
    assert_eq!(unknown.status, 202);
    assert_eq!(unknown.body, res.body, "the answer does not reveal membership");
    let mail = app.await_mail("forgetful@example.org").await;
    assert!(app.mails_to("stranger@example.org").is_empty());
    assert!(mail.contains("http://kakehashi.test/reset-password?token="), "{mail}");
    let token = app.token_from_mail("forgetful@example.org");

    let weak =
        app.post("/api/v1/auth/password-reset/confirm", None, json!({ "token": token, "password": "short" })).await;
    assert_problem(&weak, 422, "validation_failed");
    assert_eq!(weak.body["errors"][0]["field"], "password");

    let res = app
        .post(
            "/api/v1/auth/password-reset/confirm",
            None,
            json!({ "token": token, "password": "another good password" }),
        )
        .await;
    assert_eq!(res.status, 204, "{}", res.text);
    assert_problem(&app.login("forgetful@example.org", PASSWORD).await, 401, "invalid_credentials");
    assert_eq!(app.login("forgetful@example.org", "another good password").await.status, 200);
    // Single use, and every earlier session is over.
    let again = app
        .post(
            "/api/v1/auth/password-reset/confirm",
            None,
            json!({ "token": token, "password": "yet another password" }),
        )
        .await;
    assert_problem(&again, 400, "invalid_token");
    let res = app.post("/api/v1/auth/refresh", None, json!({ "refresh_token": old_session["refresh_token"] })).await;
    assert_problem(&res, 401, "unauthorized");
    let forged = app
        .post(
            "/api/v1/auth/password-reset/confirm",
            None,
            json!({ "token": "kke_forged", "password": "yet another password" }),
        )
        .await;
    assert_problem(&forged, 400, "invalid_token");
}
