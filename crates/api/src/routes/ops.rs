//! Operations: liveness and readiness.

use std::path::Path;
use std::time::Duration;

use actix_web::{HttpResponse, get, web};
use kakehashi_service::Services;
use serde::Serialize;
use utoipa::ToSchema;

use crate::ApiSettings;
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

/// How long readiness waits for the database before it says it does not answer.
const DATABASE_PATIENCE: Duration = Duration::from_millis(800);

/// Writes, syncs and removes a small file in `dir`: a full disk or a read-only mount fails it.
fn probe_writable(dir: &Path) -> std::io::Result<()> {
    use std::io::Write as _;
    let path = dir.join(".kakehashi-ready-probe");
    let mut file = std::fs::File::create(&path)?;
    let written = file.write_all(&[0u8; 4096]).and_then(|()| file.sync_all());
    let removed = std::fs::remove_file(&path);
    written.and(removed)
}

/// The database answers within a second, its schema is current, the directories the service
/// writes to can be written, and the search index is open.
#[utoipa::path(
    tag = "operations",
    responses((status = 200, body = Readiness), (status = 503, body = Problem, content_type = "application/problem+json"))
)]
#[get("/readyz")]
pub async fn readyz(svc: web::Data<Services>, settings: web::Data<ApiSettings>) -> Result<HttpResponse, ApiError> {
    let unavailable = |what: String| ApiError {
        retry_after: Some(crate::error::UNAVAILABLE_RETRY_SECS),
        ..ApiError::new(Code::Unavailable).detail(what)
    };
    let pending = match actix_web::rt::time::timeout(DATABASE_PATIENCE, svc.pending_migrations()).await {
        Ok(Ok(pending)) => pending,
        Ok(Err(err)) => {
            tracing::warn!(error = %kakehashi_service::error_chain(&err), "readiness: database unreachable");
            return Err(unavailable("the database does not answer".into()));
        }
        Err(_) => return Err(unavailable("the database does not answer in time".into())),
    };
    if !pending.is_empty() {
        return Err(unavailable("database migrations are pending".into()));
    }
    for dir in settings.writable_dirs.clone() {
        let probe = actix_web::rt::task::spawn_blocking({
            let dir = dir.clone();
            move || probe_writable(&dir)
        });
        let outcome = match actix_web::rt::time::timeout(DATABASE_PATIENCE, probe).await {
            Ok(Ok(outcome)) => outcome,
            Ok(Err(join)) => Err(std::io::Error::other(join)),
            Err(_) => Err(std::io::Error::other("no answer in time")),
        };
        if let Err(err) = outcome {
            tracing::warn!(dir = %dir.display(), error = %err, "readiness: storage cannot be written");
            return Err(unavailable(format!("storage cannot be written: {}: {err}", dir.display())));
        }
    }
    // A rebuilding index would answer searches incompletely: they answer 503 meanwhile, and so
    // does readiness (a balancer sends searches elsewhere; the rebuild needs nobody).
    if svc.search.health() != kakehashi_search::Health::Serving {
        return Err(unavailable("the search index is damaged and being rebuilt from the database".into()));
    }
    Ok(HttpResponse::Ok().json(Readiness {
        status: "ready",
        database: svc.database_backend(),
        search_documents: svc.search.num_docs(),
    }))
}
