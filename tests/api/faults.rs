//! Faults an operator meets: a database that does not answer, storage that cannot be written.
//! Each answers quickly and truthfully, and the service recovers by itself.

use std::time::{Duration, Instant};

use actix_web::http::Method;
use sea_orm::TransactionTrait as _;
use serde_json::json;

use crate::helpers::{assert_problem, spawn_app_with};

#[actix_web::test]
async fn a_database_that_does_not_answer_is_a_quick_503_and_recovery_is_by_itself() {
    let app = spawn_app_with(|s| {
        s.database.max_connections = 1;
        s.database.acquire_timeout_ms = 300;
    })
    .await;
    let (_, admin) = app.admin().await;
    assert_eq!(app.get("/api/v1/me", Some(&admin)).await.status, 200);

    // The only connection taken: to every request the database is gone.
    let held = app.services.db.begin().await.unwrap();
    let started = Instant::now();
    let res = app.get("/api/v1/me", Some(&admin)).await;
    let waited = started.elapsed();
    assert_problem(&res, 503, "unavailable");
    assert!(res.headers.get("retry-after").is_some(), "a 503 says when to retry");
    assert!(waited < Duration::from_secs(2), "answered after {waited:?}");
    let res = app
        .request(
            Method::POST,
            "/api/v1/admin/organizations",
            Some(&admin),
            Some(json!({ "name": "x", "kind": "company" })),
        )
        .await;
    assert_eq!(res.status, 503, "{}", res.text);

    let started = Instant::now();
    let ready = app.get("/readyz", None).await;
    assert_problem(&ready, 503, "unavailable");
    assert!(started.elapsed() < Duration::from_secs(1), "readiness answered after {:?}", started.elapsed());

    // The database is back: so is the service, with nothing to do for anyone.
    held.rollback().await.unwrap();
    assert_eq!(app.get("/api/v1/me", Some(&admin)).await.status, 200);
    assert_eq!(app.get("/readyz", None).await.status, 200);
}
