//! Operations: liveness and readiness.

use actix_web::{HttpResponse, get, web};
use kakehashi_service::Services;
use serde::Serialize;
use utoipa::ToSchema;

use crate::error::{ApiError, Code, Problem};

#[derive(Debug, Serialize, ToSchema)]
pub struct Health {
    pub status: &'static str,
}

/// The process is up.
#[utoipa::path(tag = "operations", responses((status = 200, body = Health)))]
#[get("/healthz")]
pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(Health { status: "ok" })
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Readiness {
    pub status: &'static str,
    pub database: &'static str,
    /// Published records searchable in this process's index.
    pub search_documents: u64,
}

/// The database answers, its schema is current, and the search index is open.
#[utoipa::path(
    tag = "operations",
    responses((status = 200, body = Readiness), (status = 503, body = Problem, content_type = "application/problem+json"))
)]
#[get("/readyz")]
pub async fn readyz(svc: web::Data<Services>) -> Result<HttpResponse, ApiError> {
    let unavailable = |what: &str| ApiError::new(Code::Unavailable).detail(what.to_owned());
    kakehashi_service::store::ping(&svc.db).await.map_err(|err| {
        tracing::warn!(error = %err, "readiness: database unreachable");
        unavailable("the database does not answer")
    })?;
    let pending =
        kakehashi_service::store::pending_migrations(&svc.db).await.map_err(|_| unavailable("migrations unknown"))?;
    if !pending.is_empty() {
        return Err(unavailable("database migrations are pending"));
    }
    Ok(HttpResponse::Ok().json(Readiness {
        status: "ready",
        database: kakehashi_service::store::backend_name(&svc.db),
        search_documents: svc.search.num_docs(),
    }))
}
