//! Invitations, registration with verification and approval, admin-only endpoints, coverage and
//! the audit trail.

use actix_web::http::Method;
use kakehashi_domain::{OrganizationKind, Role};
use serde_json::json;
use uuid::Uuid;

use crate::helpers::{PASSWORD, assert_problem, spawn_app};

#[actix_web::test]
async fn an_invited_member_sets_a_password_and_logs_in() {
    let app = spawn_app().await;
    let (admin_id, admin) = app.admin().await;
    let org = app
        .post(
            "/api/v1/admin/organizations",
            Some(&admin),
            json!({ "name": "東都医科大学", "name_en": "Toto Medical University", "kind": "academia" }),
        )
        .await;
    assert_eq!(org.status, 201, "{}", org.text);
    let org_id = org.body["id"].as_str().unwrap().to_owned();

    let res = app
        .post(
            "/api/v1/admin/members",
            Some(&admin),
            json!({ "email": "tto@toto.ac.jp", "name": "知財 担当", "role": "tto", "organization_id": org_id }),
        )
        .await;
    assert_eq!(res.status, 201, "{}", res.text);
    assert_eq!(res.body["status"], "invited");
    let member_id = res.body["id"].as_str().unwrap().to_owned();

    let mail = app.mails_to("tto@toto.ac.jp").pop().expect("an invitation e-mail");
    assert!(mail.contains("http://kakehashi.test/accept-invite?token="), "{mail}");
    assert!(mail.contains("知財 担当"));
    let token = app.token_from_mail("tto@toto.ac.jp");

    assert_problem(&app.login("tto@toto.ac.jp", PASSWORD).await, 401, "invalid_credentials");
    let res = app.post("/api/v1/auth/accept-invite", None, json!({ "token": token, "password": PASSWORD })).await;
    assert_eq!(res.status, 200, "{}", res.text);
    assert_eq!(res.body["status"], "active");
    let access = app.token("tto@toto.ac.jp").await;
    let me = app.get("/api/v1/me", Some(&access)).await;
    assert_eq!(me.body["role"], "tto");
    assert_eq!(me.body["organization"]["name_en"], "Toto Medical University");

    assert_problem(
        &app.post("/api/v1/auth/accept-invite", None, json!({ "token": token, "password": PASSWORD })).await,
        400,
        "invalid_token",
    );

    let audit =
        app.get(&format!("/api/v1/admin/audit?action=member.invited&object_id={member_id}"), Some(&admin)).await;
    assert_eq!(audit.body["total"], 1, "{}", audit.text);
    assert_eq!(audit.body["items"][0]["actor_id"], admin_id.to_string());
    assert!(audit.body["items"][0]["request_id"].is_string());
}

#[actix_web::test]
async fn invitations_are_checked() {
    let app = spawn_app().await;
    let (_, admin) = app.admin().await;
    let company = app.organization("製薬", OrganizationKind::Company).await;
    let res = app
        .post(
            "/api/v1/admin/members",
            Some(&admin),
            json!({ "email": "x@example.org", "name": "X", "role": "researcher", "organization_id": company }),
        )
        .await;
    assert_problem(&res, 422, "validation_failed");
    assert_eq!(res.body["errors"][0]["field"], "role");
    let res = app
        .post(
            "/api/v1/admin/members",
            Some(&admin),
            json!({ "email": "x@example.org", "name": "X", "role": "company", "organization_id": Uuid::new_v4() }),
        )
        .await;
    assert_problem(&res, 422, "validation_failed");
    assert_eq!(res.body["errors"][0]["field"], "organization_id");
    let res = app
        .post(
            "/api/v1/admin/members",
            Some(&admin),
            json!({ "email": "not-an-address", "name": "X", "role": "company", "organization_id": company }),
        )
        .await;
    assert_problem(&res, 422, "validation_failed");
    assert_eq!(res.body["errors"][0]["field"], "email");
    let res = app
        .post(
            "/api/v1/admin/members",
            Some(&admin),
            json!({ "email": "admin@example.org", "name": "X", "role": "company", "organization_id": company }),
        )
        .await;
    assert_problem(&res, 409, "conflict");
    let res = app
        .post(
            "/api/v1/admin/organizations",
            Some(&admin),
            json!({ "name": "製薬", "name_en": "Pharma", "kind": "company" }),
        )
        .await;
    assert_problem(&res, 409, "conflict");
}

#[actix_web::test]
async fn registration_needs_verification_then_approval() {
    let app = spawn_app().await;
    let (_, admin) = app.admin().await;
    let org = app.organization("浪速理工大学", OrganizationKind::Academia).await;
    let body = json!({ "email": "new@naniwa.ac.jp", "password": PASSWORD, "name": "新人 研究者", "organization_id": org, "locale": "en" });
    let res = app.post("/api/v1/auth/register", None, body.clone()).await;
    assert_eq!(res.status, 202, "{}", res.text);
    assert_problem(&app.login("new@naniwa.ac.jp", PASSWORD).await, 403, "account_not_active");

    let mail = app.mails_to("new@naniwa.ac.jp").pop().unwrap();
    assert!(mail.contains("Confirm your e-mail address"), "English template for locale en: {mail}");
    let token = app.token_from_mail("new@naniwa.ac.jp");

    // Registering the same address again changes nothing and sends nothing.
    let again = app.post("/api/v1/auth/register", None, body).await;
    assert_eq!(again.status, 202);
    assert_eq!(again.body, res.body);
    assert_eq!(app.mails_to("new@naniwa.ac.jp").len(), 1);

    let res = app.post("/api/v1/auth/verify-email", None, json!({ "token": token })).await;
    assert_eq!(res.status, 200, "{}", res.text);
    assert_eq!(res.body["status"], "pending_approval");
    assert_problem(&app.login("new@naniwa.ac.jp", PASSWORD).await, 403, "account_not_active");

    let pending = app.get("/api/v1/admin/members?status=pending_approval", Some(&admin)).await;
    assert_eq!(pending.body["total"], 1, "{}", pending.text);
    let id = pending.body["items"][0]["id"].as_str().unwrap().to_owned();
    assert_eq!(pending.body["items"][0]["role"], "researcher");

    // Approving an active member is a conflict that names what approve applies to.
    let res = app.post(&format!("/api/v1/admin/members/{id}/approve"), Some(&admin), json!({ "role": "tto" })).await;
    assert_eq!(res.status, 200, "{}", res.text);
    assert_eq!(res.body["role"], "tto");
    let res = app.post(&format!("/api/v1/admin/members/{id}/approve"), Some(&admin), json!({})).await;
    assert_problem(&res, 409, "conflict");
    assert!(res.body["detail"].as_str().unwrap().contains("pending approval"));
    assert_eq!(app.login("new@naniwa.ac.jp", PASSWORD).await.status, 200);
}

#[actix_web::test]
async fn rejected_registrations_stay_out() {
    let app = spawn_app().await;
    let (_, admin) = app.admin().await;
    let org = app.organization("大学", OrganizationKind::Academia).await;
    app.post(
        "/api/v1/auth/register",
        None,
        json!({ "email": "spam@example.org", "password": PASSWORD, "name": "S", "organization_id": org }),
    )
    .await;
    let list = app.get("/api/v1/admin/members?status=pending_verification", Some(&admin)).await;
    let id = list.body["items"][0]["id"].as_str().unwrap().to_owned();
    let res = app.post(&format!("/api/v1/admin/members/{id}/reject"), Some(&admin), json!({})).await;
    assert_eq!(res.body["status"], "rejected");
    let token = app.token_from_mail("spam@example.org");
    assert_problem(&app.post("/api/v1/auth/verify-email", None, json!({ "token": token })).await, 400, "invalid_token");
    assert_problem(&app.login("spam@example.org", PASSWORD).await, 403, "account_not_active");
}

#[actix_web::test]
async fn only_admins_reach_admin_endpoints() {
    let app = spawn_app().await;
    let (admin_id, _) = app.admin().await;
    let academia = app.organization("大学", OrganizationKind::Academia).await;
    let company = app.organization("製薬", OrganizationKind::Company).await;
    let funder = app.organization("事務局", OrganizationKind::Funder).await;
    let mut tokens = Vec::new();
    for (email, role, org) in [
        ("r@example.org", Role::Researcher, academia),
        ("t@example.org", Role::Tto, academia),
        ("c@example.org", Role::Company, company),
        ("l@example.org", Role::Liaison, funder),
    ] {
        app.member(email, role, org).await;
        tokens.push((role, app.token(email).await));
    }
    let id = admin_id.to_string();
    let endpoints: Vec<(Method, String)> = vec![
        (Method::POST, "/api/v1/admin/organizations".into()),
        (Method::GET, "/api/v1/admin/organizations".into()),
        (Method::POST, "/api/v1/admin/members".into()),
        (Method::GET, "/api/v1/admin/members".into()),
        (Method::POST, format!("/api/v1/admin/members/{id}/approve")),
        (Method::POST, format!("/api/v1/admin/members/{id}/reject")),
        (Method::POST, format!("/api/v1/admin/members/{id}/suspend")),
        (Method::PUT, format!("/api/v1/admin/liaisons/{id}/coverage")),
        (Method::GET, format!("/api/v1/admin/liaisons/{id}/coverage")),
        (Method::GET, "/api/v1/admin/audit".into()),
    ];
    for (method, path) in &endpoints {
        let body = Some(json!({ "name": "x", "name_en": "x", "kind": "funder", "organization_ids": [] }));
        let res = app.request(method.clone(), path, None, body.clone()).await;
        assert_problem(&res, 401, "unauthorized");
        for (role, token) in &tokens {
            let res = app.request(method.clone(), path, Some(token), body.clone()).await;
            assert_eq!(res.status, 403, "{role:?} reached {method} {path}: {}", res.text);
            assert_eq!(res.body["code"], "forbidden");
        }
    }
    // Nothing was written by the refused calls.
    let (_, admin) = (0, app.token("admin@example.org").await);
    let orgs = app.get("/api/v1/admin/organizations", Some(&admin)).await;
    assert_eq!(orgs.body["total"], 3);
}

#[actix_web::test]
async fn liaison_coverage() {
    let app = spawn_app().await;
    let (admin_id, admin) = app.admin().await;
    let funder = app.organization("事務局", OrganizationKind::Funder).await;
    let a = app.organization("大学A", OrganizationKind::Academia).await;
    let b = app.organization("大学B", OrganizationKind::Academia).await;
    let liaison = app.member("l@example.org", Role::Liaison, funder).await;
    let path = format!("/api/v1/admin/liaisons/{liaison}/coverage");
    assert_eq!(app.get(&path, Some(&admin)).await.body["organization_ids"], json!([]));
    let res = app.request(Method::PUT, &path, Some(&admin), Some(json!({ "organization_ids": [a, b, a] }))).await;
    assert_eq!(res.status, 200, "{}", res.text);
    let mut expected = vec![a.to_string(), b.to_string()];
    expected.sort();
    assert_eq!(app.get(&path, Some(&admin)).await.body["organization_ids"], json!(expected));
    let res =
        app.request(Method::PUT, &path, Some(&admin), Some(json!({ "organization_ids": [Uuid::new_v4()] }))).await;
    assert_problem(&res, 422, "validation_failed");
    assert_eq!(res.body["errors"][0]["field"], "organization_ids");
    assert_eq!(
        app.get(&path, Some(&admin)).await.body["organization_ids"],
        json!(expected),
        "a refused update changes nothing"
    );
    let res = app
        .request(
            Method::PUT,
            &format!("/api/v1/admin/liaisons/{admin_id}/coverage"),
            Some(&admin),
            Some(json!({ "organization_ids": [] })),
        )
        .await;
    assert_problem(&res, 404, "not_found");
}

#[actix_web::test]
async fn member_lists_paginate_and_never_show_secrets() {
    let app = spawn_app().await;
    let (_, admin) = app.admin().await;
    let org = app.organization("大学", OrganizationKind::Academia).await;
    for i in 0..5 {
        app.member(&format!("m{i}@example.org"), Role::Researcher, org).await;
    }
    let page = app.get("/api/v1/admin/members?per_page=2&page=2", Some(&admin)).await;
    assert_eq!(page.status, 200);
    assert_eq!(page.body["total"], 6);
    assert_eq!(page.body["page"], 2);
    assert_eq!(page.body["per_page"], 2);
    assert_eq!(page.body["items"].as_array().unwrap().len(), 2);
    assert!(!page.text.contains("argon2") && !page.text.contains("password"), "{}", page.text);
    let res = app.get("/api/v1/admin/members?per_page=101", Some(&admin)).await;
    assert_problem(&res, 422, "validation_failed");
    assert_eq!(res.body["errors"][0]["field"], "per_page");
    assert_problem(&app.get("/api/v1/admin/members?status=nonsense", Some(&admin)).await, 422, "validation_failed");
}

#[actix_web::test]
async fn admins_cannot_suspend_themselves() {
    let app = spawn_app().await;
    let (admin_id, admin) = app.admin().await;
    let res = app.post(&format!("/api/v1/admin/members/{admin_id}/suspend"), Some(&admin), json!({})).await;
    assert_problem(&res, 409, "conflict");
    assert_problem(
        &app.post(&format!("/api/v1/admin/members/{}/suspend", Uuid::new_v4()), Some(&admin), json!({})).await,
        404,
        "not_found",
    );
    assert_problem(
        &app.post("/api/v1/admin/members/not-a-uuid/suspend", Some(&admin), json!({})).await,
        404,
        "not_found",
    );
}
