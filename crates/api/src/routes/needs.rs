//! `/api/v1/needs`. An anonymous need answers `organization: null` to those who may not know
//! the company.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, delete, get, patch, post, web};
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
use crate::routes::records::{
    self, Answer, ListQuery, NewRecordRequest, PatchRequest, RecordRequest, RecordView, answer, move_to,
};
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

impl RecordView for NeedView {
    fn version(&self) -> i32 {
        self.version
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
pub async fn create(svc: Svc, member: CurrentMember, ctx: Ctx, body: Valid<NewRecordRequest<NeedInput>>) -> Answer {
    let input = body.into_inner()?.0;
    let external_ref = input.external_ref.clone();
    let need = svc.create_need_with_ref(&member, input.into_content(), external_ref, &ctx).await?;
    Ok(answer(StatusCode::CREATED, NeedView::from(need)))
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
    Ok(answer(StatusCode::OK, NeedView::from(need)))
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
pub async fn update(request: RecordRequest, body: Valid<NeedPatchRequest>) -> Answer {
    records::update(request, body.into_inner()?, Services::update_need, NeedView::from).await
}

impl PatchRequest for NeedPatchRequest {
    type Patch = NeedPatch;
    fn into_patch(self) -> (NeedPatch, Option<i32>) {
        let patch = NeedPatch {
            title: self.title,
            description: self.description,
            modalities: self.modalities,
            disease_areas: self.disease_areas,
            stages: self.stages,
            deal_types: self.deal_types,
            keywords: self.keywords,
            anonymous: self.anonymous,
            visibility: self.visibility,
            language: self.language,
            external_ref: self.external_ref,
        };
        (patch, self.version)
    }
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
pub async fn publish(request: RecordRequest) -> Answer {
    move_to(request, RecordStatus::Published, Services::set_need_status, NeedView::from).await
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
pub async fn archive(request: RecordRequest) -> Answer {
    move_to(request, RecordStatus::Archived, Services::set_need_status, NeedView::from).await
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
pub async fn restore(request: RecordRequest) -> Answer {
    move_to(request, RecordStatus::Draft, Services::set_need_status, NeedView::from).await
}
