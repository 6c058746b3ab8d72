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
    assert_problem(&res, 405, "method_not_allowed");
    assert_eq!(res.headers.get("allow").unwrap(), "POST");
}

#[actix_web::test]
async fn a_known_path_asked_with_another_method_is_405_naming_the_methods_it_takes() {
    let app = spawn_app().await;
    let id = uuid::Uuid::nil();
    let cases = [
        (Method::PUT, format!("/api/v1/seeds/{id}"), "GET, PATCH, DELETE"),
        (Method::DELETE, "/api/v1/seeds/import".to_owned(), "POST"),
        (Method::PUT, "/api/v1/seeds/import".to_owned(), "POST"),
        (Method::TRACE, "/api/v1/me".to_owned(), "GET, PATCH"),
        (Method::POST, "/api/v1/taxonomy".to_owned(), "GET"),
        (Method::PATCH, "/api/v1/admin/organizations".to_owned(), "GET, POST"),
        (Method::DELETE, "/healthz".to_owned(), "GET"),
    ];
    for (method, path, allow) in cases {
        // Without a token too: the method is wrong whoever asks.
        let res = app.request(method.clone(), &path, None, None).await;
        assert_problem(&res, 405, "method_not_allowed");
        assert_eq!(res.headers.get("allow").map(|v| v.to_str().unwrap()), Some(allow), "{method} {path}");
    }
    // A path that does not exist stays "not found", whatever the method.
    for method in [Method::GET, Method::PUT] {
        let res = app.request(method, "/api/v1/seeds/a/b/c", None, None).await;
        assert_problem(&res, 404, "not_found");
        assert!(res.headers.get("allow").is_none());
    }
}

/// The schema a `$ref` points at, or the value itself.
fn resolve<'a>(doc: &'a serde_json::Value, value: &'a serde_json::Value) -> &'a serde_json::Value {
    match value.get("$ref").and_then(|r| r.as_str()) {
        Some(reference) => {
            let pointer = reference.trim_start_matches('#');
            resolve(doc, doc.pointer(pointer).unwrap_or_else(|| panic!("{reference} does not resolve")))
        }
        None => value,
    }
}

#[actix_web::test]
async fn openapi_lists_problem_answers_and_the_limits_the_server_enforces() {
    let app = spawn_app().await;
    let doc = app.get("/api/openapi.json", None).await.body;
    let operation = |path: &str, method: &str| doc["paths"][path][method].clone();
    let problem_statuses = |path: &str, method: &str| -> Vec<String> {
        let op = operation(path, method);
        let responses = op["responses"].as_object().unwrap_or_else(|| panic!("{method} {path}"));
        responses
            .iter()
            .filter(|(status, _)| status.starts_with('4') || status.starts_with('5'))
            .map(|(status, response)| {
                let response = resolve(&doc, response);
                let schema = &response["content"]["application/problem+json"]["schema"];
                assert_eq!(resolve(&doc, schema)["properties"]["code"]["type"], "string", "{method} {path} {status}");
                status.clone()
            })
            .collect()
    };
    for (path, method, expected) in [
        ("/api/v1/seeds/{id}", "patch", &["400", "401", "403", "404", "409", "413", "414", "415", "422", "503"][..]),
        ("/api/v1/seeds", "get", &["401", "403", "414", "422", "503"]),
        ("/api/v1/auth/login", "post", &["400", "401", "403", "413", "415", "422", "429", "503"]),
        ("/api/v1/auth/verify-email", "post", &["400", "413", "415", "422", "429", "503"]),
        ("/api/v1/seeds/import", "post", &["400", "401", "403", "413", "414", "415", "422", "503"]),
        ("/api/v1/taxonomy", "get", &["401", "403", "503"]),
        ("/readyz", "get", &["503"]),
    ] {
        assert_eq!(problem_statuses(path, method), expected, "{method} {path}");
    }
    assert!(operation("/healthz", "get")["responses"].get("503").is_none(), "liveness needs no database");

    let param = |path: &str, method: &str, name: &str| {
        let op = operation(path, method);
        let found = op["parameters"].as_array().unwrap().iter().find(|p| p["name"] == name).cloned();
        resolve(&doc, &found.unwrap_or_else(|| panic!("{name} of {method} {path}"))["schema"]).clone()
    };
    assert_eq!(param("/api/v1/search", "get", "q")["maxLength"], 500);
    assert_eq!(param("/api/v1/search", "get", "modality")["maxItems"], 50);
    assert_eq!(param("/api/v1/seeds", "get", "page")["maximum"], 1_000_000);
    assert_eq!(param("/api/v1/seeds", "get", "per_page")["maximum"], 100);
    assert_eq!(param("/api/v1/notifications", "get", "per_page")["minimum"], 1);
    let if_match = param("/api/v1/seeds/{id}", "patch", "If-Match");
    assert_eq!(if_match["pattern"], r#"^(W/)?"[0-9]{1,9}"$|^[0-9]{1,9}$"#);

    let schema = |name: &str| doc["components"]["schemas"][name].clone();
    assert_eq!(schema("RegisterRequest")["properties"]["password"]["minLength"], 12);
    assert_eq!(schema("RegisterRequest")["properties"]["password"]["maxLength"], 128);
    assert_eq!(schema("RegisterRequest")["properties"]["email"]["format"], "email");
    assert_eq!(schema("NewMessage")["properties"]["body"]["maxLength"], 5000);
    assert_eq!(schema("Preferences")["minProperties"], 1, "PATCH /me wants something to change");
    assert!(schema("Preferences").get("maxProperties").is_none());
    let import = &operation("/api/v1/seeds/import", "post")["responses"]["200"]["content"]["application/json"];
    let report = resolve(&doc, &import["schema"]);
    assert!(report["required"].as_array().unwrap().contains(&"outcomes".into()), "{report}");
    let row = resolve(&doc, &report["properties"]["outcomes"]["items"]);
    let outcome = resolve(&doc, &row["properties"]["outcome"]);
    assert_eq!(outcome["enum"], serde_json::json!(["created", "updated", "valid", "failed"]), "{row}");

    let funnel = &operation("/api/v1/admin/reports/funnel", "get")["responses"]["200"]["content"];
    assert_eq!(funnel["application/json"]["schema"]["$ref"], "#/components/schemas/Funnel");
    assert_eq!(funnel["text/csv"]["schema"]["type"], "string");
}
