//! `/api/v1/saved-searches`: a member's saved queries, alerted on when new records match.

use actix_web::{HttpResponse, delete, get, post, web};
use chrono::{DateTime, Utc};
use kakehashi_search::Kind;
use kakehashi_service::Services;
use kakehashi_service::saved_searches::SavedSearch;
use kakehashi_service::saved_searches::StoredQuery;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;
use validator::Validate;

use crate::error::{ApiError, Problem};
use crate::extract::{CurrentMember, Valid};

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SavedSearchRequest {
    #[validate(length(min = 1, max = 200))]
    #[schema(min_length = 1, max_length = 200)]
    pub name: String,
    /// Words, as for `GET /api/v1/search?q=`.
    #[serde(default)]
    #[validate(length(max = 500))]
    #[schema(max_length = 500)]
    pub q: String,
    /// `seed` or `need`; both when absent.
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub kind: Option<Kind>,
    #[serde(default)]
    #[validate(length(max = 50))]
    #[schema(max_items = 50)]
    pub modality: Vec<String>,
    #[serde(default)]
    #[validate(length(max = 50))]
    #[schema(max_items = 50)]
    pub disease_area: Vec<String>,
    #[serde(default)]
    #[validate(length(max = 50))]
    #[schema(max_items = 50)]
    pub stage: Vec<String>,
    #[serde(default)]
    #[validate(length(max = 50))]
    #[schema(max_items = 50)]
    pub ip_status: Vec<String>,
    #[serde(default)]
    #[validate(length(max = 50))]
    #[schema(max_items = 50)]
    pub deal_type: Vec<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SavedSearchView {
    pub id: Uuid,
    pub name: String,
    #[schema(value_type = Object)]
    pub query: serde_json::Value,
    pub created_at: DateTime<Utc>,
}

impl From<SavedSearch> for SavedSearchView {
    fn from(s: SavedSearch) -> Self {
        SavedSearchView { id: s.id, name: s.name, query: s.query, created_at: s.created_at }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SavedSearchList {
    pub items: Vec<SavedSearchView>,
}

/// Save a search; its owner is told when a newly published record matches it.
#[utoipa::path(
    tag = "search",
    request_body = SavedSearchRequest,
    responses((status = 201, body = SavedSearchView), (status = 422, body = Problem, content_type = "application/problem+json")),
    security(("bearer" = []))
)]
#[post("/saved-searches")]
pub async fn create(
    svc: web::Data<Services>,
    member: CurrentMember,
    body: Valid<SavedSearchRequest>,
) -> Result<HttpResponse, ApiError> {
    let b = body.into_inner()?;
    let query = StoredQuery {
        q: b.q,
        kind: b.kind,
        modality: b.modality,
        disease_area: b.disease_area,
        stage: b.stage,
        ip_status: b.ip_status,
        deal_type: b.deal_type,
    };
    let saved = svc.create_saved_search(&member, b.name, query).await?;
    Ok(HttpResponse::Created().json(SavedSearchView::from(saved)))
}

/// The caller's saved searches.
#[utoipa::path(tag = "search", responses((status = 200, body = SavedSearchList)), security(("bearer" = [])))]
#[get("/saved-searches")]
pub async fn list(svc: web::Data<Services>, member: CurrentMember) -> Result<HttpResponse, ApiError> {
    let items = svc.saved_searches(&member).await?.into_iter().map(SavedSearchView::from).collect();
    Ok(HttpResponse::Ok().json(SavedSearchList { items }))
}

/// Delete one of the caller's saved searches.
#[utoipa::path(
    tag = "search",
    params(("id" = Uuid, Path)),
    responses((status = 204), (status = 404, body = Problem, content_type = "application/problem+json")),
    security(("bearer" = []))
)]
#[delete("/saved-searches/{id}")]
pub async fn remove(
    svc: web::Data<Services>,
    member: CurrentMember,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    svc.delete_saved_search(&member, id.into_inner()).await?;
    Ok(HttpResponse::NoContent().finish())
}
