use actix_web::http::Method;

use crate::helpers::{assert_problem, spawn_app};

#[actix_web::test]
async fn health_and_readiness() {
    let app = spawn_app().await;
    let res = app.get("/healthz", None).await;
    assert_eq!(res.status, 200);
    assert_eq!(res.body["status"], "ok");
    let res = app.get("/readyz", None).await;
    assert_eq!(res.status, 200);
    let expected = if std::env::var("KAKEHASHI_TEST_DATABASE_URL").is_ok() { "postgresql" } else { "sqlite" };
    assert_eq!(res.body["database"], expected);
    assert!(res.headers.contains_key("x-request-id"));
}

#[actix_web::test]
async fn openapi_describes_every_route() {
    let app = spawn_app().await;
    let res = app.get("/api/openapi.json", None).await;
    assert_eq!(res.status, 200);
    let paths = res.body["paths"].as_object().unwrap();
    let expected = [
        ("/healthz", "get"),
        ("/readyz", "get"),
        ("/api/v1/auth/register", "post"),
        ("/api/v1/auth/verify-email", "post"),
        ("/api/v1/auth/accept-invite", "post"),
        ("/api/v1/auth/login", "post"),
        ("/api/v1/auth/refresh", "post"),
        ("/api/v1/auth/logout", "post"),
        ("/api/v1/auth/password-reset", "post"),
        ("/api/v1/auth/password-reset/confirm", "post"),
        ("/api/v1/me", "get"),
        ("/api/v1/admin/organizations", "post"),
        ("/api/v1/admin/organizations", "get"),
        ("/api/v1/admin/members", "post"),
        ("/api/v1/admin/members", "get"),
        ("/api/v1/admin/members/{id}/approve", "post"),
        ("/api/v1/admin/members/{id}/reject", "post"),
        ("/api/v1/admin/members/{id}/suspend", "post"),
        ("/api/v1/admin/liaisons/{user_id}/coverage", "put"),
        ("/api/v1/admin/liaisons/{user_id}/coverage", "get"),
        ("/api/v1/admin/audit", "get"),
        ("/api/v1/admin/reports/funnel", "get"),
        ("/api/v1/me", "patch"),
        ("/api/v1/introductions", "post"),
        ("/api/v1/introductions", "get"),
        ("/api/v1/introductions/{id}", "get"),
        ("/api/v1/introductions/{id}/forward", "post"),
        ("/api/v1/introductions/{id}/accept", "post"),
        ("/api/v1/introductions/{id}/decline", "post"),
        ("/api/v1/introductions/{id}/withdraw", "post"),
        ("/api/v1/introductions/{id}/cda", "post"),
        ("/api/v1/introductions/{id}/outcome", "post"),
        ("/api/v1/introductions/{id}/messages", "get"),
        ("/api/v1/introductions/{id}/messages", "post"),
        ("/api/v1/taxonomy", "get"),
        ("/api/v1/search", "get"),
        ("/api/v1/matches", "get"),
        ("/api/v1/matches/{id}/dismiss", "post"),
        ("/api/v1/notifications", "get"),
        ("/api/v1/notifications/{id}/read", "post"),
        ("/api/v1/saved-searches", "post"),
        ("/api/v1/saved-searches", "get"),
        ("/api/v1/saved-searches/{id}", "delete"),
        ("/api/v1/seeds", "post"),
        ("/api/v1/seeds", "get"),
        ("/api/v1/seeds/{id}", "get"),
        ("/api/v1/seeds/{id}", "patch"),
        ("/api/v1/seeds/{id}", "delete"),
        ("/api/v1/seeds/{id}/publish", "post"),
        ("/api/v1/seeds/{id}/restore", "post"),
        ("/api/v1/seeds/{id}/grants", "post"),
        ("/api/v1/seeds/{id}/grants", "get"),
        ("/api/v1/seeds/{id}/grants/{organization_id}", "delete"),
        ("/api/v1/seeds/import", "post"),
        ("/api/v1/needs", "post"),
        ("/api/v1/needs", "get"),
        ("/api/v1/needs/{id}", "get"),
        ("/api/v1/needs/{id}", "patch"),
        ("/api/v1/needs/{id}", "delete"),
        ("/api/v1/needs/{id}/publish", "post"),
        ("/api/v1/needs/{id}/restore", "post"),
    ];
    for (path, method) in expected {
        assert!(
            paths.get(path).and_then(|p| p.get(method)).is_some(),
            "{method} {path} missing from the OpenAPI document"
        );
    }
    let documented: usize = paths.values().map(|p| p.as_object().unwrap().len()).sum();
    assert_eq!(
        documented,
        expected.len(),
        "the document lists routes the test does not know: {:?}",
        paths.keys().collect::<Vec<_>>()
    );
    // Every documented route answers something other than "no such route".
    for (path, method) in expected {
        let concrete =
            path.replace("{id}", &uuid::Uuid::nil().to_string()).replace("{user_id}", &uuid::Uuid::nil().to_string());
        let res = app.request(method.to_uppercase().parse().unwrap(), &concrete, None, None).await;
        assert!(res.status != 404 && res.status != 405, "{method} {path} is not routed: {}", res.status);
    }
}

#[actix_web::test]
async fn docs_work_offline() {
    let app = spawn_app().await;
    let res = app.get("/api/docs/", None).await;
    assert_eq!(res.status, 200);
    assert!(res.text.contains("swagger-ui"));
    for line in res.text.lines() {
        assert!(!line.contains("src=\"http"), "the docs page loads a remote script: {line}");
        assert!(!line.contains("href=\"http"), "the docs page loads a remote stylesheet: {line}");
    }
    let res = app.get("/api/docs/swagger-ui-bundle.js", None).await;
    assert_eq!(res.status, 200, "the UI's script is served locally");
}

#[actix_web::test]
async fn metrics_are_prometheus_text() {
    let app = spawn_app().await;
    app.get("/healthz", None).await;
    app.get("/probe-a1b2c3", None).await;
    let res = app.get("/metrics", None).await;
    assert_eq!(res.status, 200);
    assert!(res.text.contains("kakehashi_http_requests_total"), "{}", res.text);
    assert!(!res.text.contains("probe-a1b2c3"), "unknown paths must not become metric labels");
}

#[actix_web::test]
async fn unknown_routes_and_methods_are_problems() {
    let app = spawn_app().await;
    assert_problem(&app.get("/api/v1/nothing-here", None).await, 404, "not_found");
    let res = app.request(Method::DELETE, "/api/v1/auth/login", None, None).await;
    assert!(res.status == 404 || res.status == 405, "{}", res.status);
    assert_eq!(res.headers.get("content-type").unwrap(), "application/problem+json");
}
