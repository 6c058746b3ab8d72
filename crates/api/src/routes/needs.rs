//! `/api/v1/needs`. An anonymous need answers `organization: null` to those who may not know
//! the company.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, delete, get, patch, post, web};
use chrono::{DateTime, Utc};
use kakehashi_domain::{Access, Locale, NeedInput, RecordStatus, Visibility};
use kakehashi_service::Services;
use kakehashi_service::needs::{NeedPatch, VisibleNeed};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;
use validator::Validate;

use crate::error::{ApiError, Problem};
use crate::extract::{Ctx, CurrentMember, Valid};
use crate::routes::seeds::{ListQuery, expected_version, versioned};
use crate::routes::views::{ListOf, OrganizationView, PageQuery};

type Svc = web::Data<Services>;

/// A need as the caller may see it.
#[derive(Debug, Serialize, ToSchema)]
pub struct NeedView {
    pub id: Uuid,
    pub title: String,
    pub description: String,
    pub modalities: Vec<String>,
    pub disease_areas: Vec<String>,
    pub stages: Vec<String>,
    pub deal_types: Vec<String>,
    pub keywords: Vec<String>,
    pub anonymous: bool,
    pub language: Locale,
    pub visibility: Visibility,
    pub status: RecordStatus,
    pub version: i32,
    pub access: Access,
    /// `null` when the need is anonymous to the caller.
    pub organization: Option<OrganizationView>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub owner_id: Option<Uuid>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub published_at: Option<DateTime<Utc>>,
    /// The company's own reference; present only for members of the need's company.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub external_ref: Option<String>,
}

impl From<VisibleNeed> for NeedView {
    fn from(n: VisibleNeed) -> Self {
        let c = n.content;
        NeedView {
            id: n.id,
            title: c.title,
            description: c.description,
            modalities: c.modalities,
            disease_areas: c.disease_areas,
            stages: c.stages,
            deal_types: c.deal_types,
            keywords: c.keywords,
            anonymous: c.anonymous,
            language: c.language,
            visibility: c.visibility,
            status: n.status,
            version: n.version,
            access: n.access,
            organization: n.organization.map(Into::into),
            owner_id: n.owner_id,
            created_at: n.created_at,
            updated_at: n.updated_at,
            published_at: n.published_at,
            external_ref: n.external_ref,
        }
    }
}

/// The create body; its rules live in the domain (`NeedContent::normalize_and_validate`).
#[derive(Debug, Deserialize)]
#[serde(transparent)]
pub struct NewNeedRequest(pub NeedInput);

impl Validate for NewNeedRequest {
    fn validate(&self) -> Result<(), validator::ValidationErrors> {
        Ok(())
    }
}

/// Register a need (company members); it starts as a draft.
#[utoipa::path(
    tag = "records",
    request_body = NeedInput,
    responses(
        (status = 201, body = NeedView),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Another need of the company carries the `external_ref`", body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[post("/needs")]
pub async fn create(
    svc: Svc,
    member: CurrentMember,
    ctx: Ctx,
    body: Valid<NewNeedRequest>,
) -> Result<HttpResponse, ApiError> {
    let input = body.into_inner()?.0;
    let external_ref = input.external_ref.clone();
    let need = svc.create_need_with_ref(&member, input.into_content(), external_ref, &ctx).await?;
    Ok(versioned(StatusCode::CREATED, need.version, NeedView::from(need)))
}

/// A need as the caller may see it; hidden needs answer 404 like missing ones.
#[utoipa::path(
    tag = "records",
    params(("id" = Uuid, Path)),
    responses((status = 200, body = NeedView), (status = 404, body = Problem, content_type = "application/problem+json")),
    security(("bearer" = []))
)]
#[get("/needs/{id}")]
pub async fn get_one(svc: Svc, member: CurrentMember, id: web::Path<Uuid>) -> Result<HttpResponse, ApiError> {
    let need = svc.need(&member, id.into_inner()).await?;
    Ok(versioned(StatusCode::OK, need.version, NeedView::from(need)))
}

/// Published needs the caller may see (academia, liaisons, admins), or with `mine=true` the
/// caller's (companies: their organisation's).
#[utoipa::path(
    tag = "records",
    params(ListQuery),
    responses((status = 200, body = ListOf<NeedView>)),
    security(("bearer" = []))
)]
#[get("/needs")]
pub async fn list(svc: Svc, member: CurrentMember, query: web::Query<ListQuery>) -> Result<HttpResponse, ApiError> {
    let page = PageQuery { page: query.page, per_page: query.per_page }.page()?;
    let listed = svc.list_needs(&member, query.mine, query.status, page).await?;
    Ok(HttpResponse::Ok().json(ListOf::from_listed(listed, NeedView::from)))
}

#[derive(Debug, Default, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NeedPatchRequest {
    pub title: Option<String>,
    pub description: Option<String>,
    pub modalities: Option<Vec<String>>,
    pub disease_areas: Option<Vec<String>>,
    pub stages: Option<Vec<String>>,
    pub deal_types: Option<Vec<String>>,
    pub keywords: Option<Vec<String>>,
    pub anonymous: Option<bool>,
    pub visibility: Option<Visibility>,
    pub language: Option<Locale>,
    /// The company's own reference, unique within it; `null` removes it.
    #[serde(default, deserialize_with = "crate::extract::nullable")]
    #[schema(value_type = Option<String>, max_length = 200)]
    pub external_ref: Option<Option<String>>,
    pub version: Option<i32>,
}

/// Edit a need (its owner, admins).
#[utoipa::path(
    tag = "records",
    params(("id" = Uuid, Path), ("If-Match" = Option<String>, Header)),
    request_body = NeedPatchRequest,
    responses(
        (status = 200, body = NeedView),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[patch("/needs/{id}")]
pub async fn update(
    svc: Svc,
    member: CurrentMember,
    ctx: Ctx,
    req: HttpRequest,
    id: web::Path<Uuid>,
    body: Valid<NeedPatchRequest>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner()?;
    let expected = expected_version(&req, body.version)?;
    let patch = NeedPatch {
        title: body.title,
        description: body.description,
        modalities: body.modalities,
        disease_areas: body.disease_areas,
        stages: body.stages,
        deal_types: body.deal_types,
        keywords: body.keywords,
        anonymous: body.anonymous,
        visibility: body.visibility,
        language: body.language,
        external_ref: body.external_ref,
    };
    let need = svc.update_need(&member, id.into_inner(), patch, expected, &ctx).await?;
    Ok(versioned(StatusCode::OK, need.version, NeedView::from(need)))
}

/// Publish a draft (or archived) need.
#[utoipa::path(
    tag = "records",
    params(("id" = Uuid, Path), ("If-Match" = Option<String>, Header)),
    responses(
        (status = 200, body = NeedView),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[post("/needs/{id}/publish")]
pub async fn publish(
    svc: Svc,
    member: CurrentMember,
    ctx: Ctx,
    req: HttpRequest,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let expected = expected_version(&req, None)?;
    let need = svc.set_need_status(&member, id.into_inner(), RecordStatus::Published, expected, &ctx).await?;
    Ok(versioned(StatusCode::OK, need.version, NeedView::from(need)))
}

/// Archive a need.
#[utoipa::path(
    tag = "records",
    params(("id" = Uuid, Path), ("If-Match" = Option<String>, Header)),
    responses(
        (status = 200, body = NeedView),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[delete("/needs/{id}")]
pub async fn archive(
    svc: Svc,
    member: CurrentMember,
    ctx: Ctx,
    req: HttpRequest,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let expected = expected_version(&req, None)?;
    let need = svc.set_need_status(&member, id.into_inner(), RecordStatus::Archived, expected, &ctx).await?;
    Ok(versioned(StatusCode::OK, need.version, NeedView::from(need)))
}

/// Restore an archived need (its owner): it becomes a draft again, to be edited and published.
#[utoipa::path(
    tag = "records",
    params(("id" = Uuid, Path), ("If-Match" = Option<String>, Header)),
    responses(
        (status = 200, body = NeedView),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[post("/needs/{id}/restore")]
pub async fn restore(
    svc: Svc,
    member: CurrentMember,
    ctx: Ctx,
    req: HttpRequest,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let expected = expected_version(&req, None)?;
    let need = svc.set_need_status(&member, id.into_inner(), RecordStatus::Draft, expected, &ctx).await?;
    Ok(versioned(actix_web::http::StatusCode::OK, need.version, NeedView::from(need)))
}
