//! `/api/v1/seeds`, `/api/v1/taxonomy` and seed import. Views are built from what the service
//! disclosed: a field the service left out cannot appear here.

use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, HttpResponse, delete, get, patch, post, web};
use chrono::{DateTime, Utc};
use kakehashi_domain::introduction::DeclineReason;
use kakehashi_domain::{
    Access, ConfidentialSection, ImportRefusal, Locale, RecordStatus, SeedInput, Taxonomy, Term, Visibility,
};
use kakehashi_service::Services;
use kakehashi_service::import::{self, Format, Options};
use kakehashi_service::seeds::Grant;
use kakehashi_service::seeds::{SeedPatch, VisibleSeed};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;
use validator::Validate;

use crate::error::{ApiError, Code, Problem};
use crate::extract::{Ctx, CurrentMember, Valid};
use crate::routes::records::{
    self, Answer, ListQuery, NewRecordRequest, PatchRequest, RecordRequest, RecordView, answer, move_to,
};
use crate::routes::views::{ListOf, OrganizationView, PageQuery};

type Svc = web::Data<Services>;

/// The taxonomies, plus the reasons an introduction can be declined for. Spelt out rather than
/// a flattened [`Taxonomy`], whose schema admits no other field.
#[derive(Debug, Serialize, ToSchema)]
pub struct TaxonomyView<'a> {
    pub modalities: &'a [Term],
    pub disease_areas: &'a [Term],
    pub stages: &'a [kakehashi_domain::taxonomy::StageTerm],
    pub ip_statuses: &'a [Term],
    pub deal_types: &'a [Term],
    pub decline_reasons: Vec<Term>,
}

/// The taxonomies with Japanese and English labels.
#[utoipa::path(
    tag = "records",
    responses((status = 200, body = TaxonomyView), (status = 401, body = Problem, content_type = "application/problem+json")),
    security(("bearer" = []))
)]
#[get("/taxonomy")]
pub async fn taxonomy(svc: Svc, _member: CurrentMember) -> HttpResponse {
    let decline_reasons = DeclineReason::ALL
        .iter()
        .map(|r| {
            let (label_ja, label_en) = r.labels();
            Term { value: r.as_str().to_owned(), label_ja: label_ja.to_owned(), label_en: label_en.to_owned() }
        })
        .collect();
    let t: &Taxonomy = svc.taxonomy.as_ref();
    HttpResponse::Ok().json(TaxonomyView {
        modalities: &t.modalities,
        disease_areas: &t.disease_areas,
        stages: &t.stages,
        ip_statuses: &t.ip_statuses,
        deal_types: &t.deal_types,
        decline_reasons,
    })
}

/// A seed as the caller may see it.
#[derive(Debug, Serialize, ToSchema)]
pub struct SeedView {
    pub id: Uuid,
    pub title: String,
    pub summary: String,
    pub modalities: Vec<String>,
    pub disease_areas: Vec<String>,
    pub stage: String,
    pub ip_status: String,
    pub deal_types: Vec<String>,
    pub keywords: Vec<String>,
    pub language: Locale,
    pub visibility: Visibility,
    pub status: RecordStatus,
    pub version: i32,
    /// What the caller may see: `summary`, `confidential` or `owner`.
    pub access: Access,
    pub organization: OrganizationView,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub owner_id: Option<Uuid>,
    /// Present only when `access` is `confidential` or `owner` (and never in lists).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub confidential: Option<ConfidentialSection>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub published_at: Option<DateTime<Utc>>,
    /// The organisation's own reference; present only for members of the seed's organisation.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub external_ref: Option<String>,
}

impl From<VisibleSeed> for SeedView {
    fn from(s: VisibleSeed) -> Self {
        let c = s.content;
        SeedView {
            id: s.id,
            title: c.title,
            summary: c.summary,
            modalities: c.modalities,
            disease_areas: c.disease_areas,
            stage: c.stage,
            ip_status: c.ip_status,
            deal_types: c.deal_types,
            keywords: c.keywords,
            language: c.language,
            visibility: c.visibility,
            status: s.status,
            version: s.version,
            access: s.access,
            organization: s.organization.into(),
            owner_id: s.owner_id,
            confidential: s.confidential,
            created_at: s.created_at,
            updated_at: s.updated_at,
            published_at: s.published_at,
            external_ref: s.external_ref,
        }
    }
}

impl RecordView for SeedView {
    fn version(&self) -> i32 {
        self.version
    }
}

/// Register a seed (researchers and TTO staff); it starts as a draft of the caller's organisation.
#[utoipa::path(
    tag = "records",
    request_body = SeedInput,
    responses(
        (status = 201, body = SeedView),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Another seed of the organisation carries the `external_ref`", body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[post("/seeds")]
pub async fn create(svc: Svc, member: CurrentMember, ctx: Ctx, body: Valid<NewRecordRequest<SeedInput>>) -> Answer {
    let input = body.into_inner()?.0;
    let external_ref = input.external_ref.clone();
    let seed = svc.create_seed_with_ref(&member, input.into_content(), external_ref, &ctx).await?;
    Ok(answer(StatusCode::CREATED, SeedView::from(seed)))
}

/// A seed as the caller may see it; hidden seeds answer 404 like missing ones.
#[utoipa::path(
    tag = "records",
    params(("id" = Uuid, Path)),
    responses((status = 200, body = SeedView), (status = 404, body = Problem, content_type = "application/problem+json")),
    security(("bearer" = []))
)]
#[get("/seeds/{id}")]
pub async fn get_one(svc: Svc, member: CurrentMember, ctx: Ctx, id: web::Path<Uuid>) -> Result<HttpResponse, ApiError> {
    let seed = svc.seed(&member, id.into_inner(), &ctx).await?;
    Ok(answer(StatusCode::OK, SeedView::from(seed)))
}

/// Published seeds the caller may find, or with `mine=true` their own. Summaries only.
#[utoipa::path(
    tag = "records",
    params(ListQuery),
    responses((status = 200, body = ListOf<SeedView>)),
    security(("bearer" = []))
)]
#[get("/seeds")]
pub async fn list(svc: Svc, member: CurrentMember, query: web::Query<ListQuery>) -> Result<HttpResponse, ApiError> {
    let page = PageQuery { page: query.page, per_page: query.per_page }.page()?;
    let listed = svc.list_seeds(&member, query.mine, query.status, page).await?;
    Ok(HttpResponse::Ok().json(ListOf::from_listed(listed, SeedView::from)))
}

/// Fields to change; absent fields stay. `version` (or `If-Match`) guards against lost updates.
#[derive(Debug, Default, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SeedPatchRequest {
    pub title: Option<String>,
    pub summary: Option<String>,
    pub confidential: Option<ConfidentialSection>,
    pub modalities: Option<Vec<String>>,
    pub disease_areas: Option<Vec<String>>,
    pub stage: Option<String>,
    pub ip_status: Option<String>,
    pub deal_types: Option<Vec<String>>,
    pub keywords: Option<Vec<String>>,
    pub visibility: Option<Visibility>,
    pub language: Option<Locale>,
    /// The organisation's own reference, unique within it; `null` removes it.
    #[serde(default, deserialize_with = "crate::extract::nullable")]
    #[schema(value_type = Option<String>, max_length = 200)]
    pub external_ref: Option<Option<String>>,
    /// The version the change is based on; 409 when it is no longer current.
    pub version: Option<i32>,
}

/// Edit a seed (its owner, its organisation's TTO, admins).
#[utoipa::path(
    tag = "records",
    params(("id" = Uuid, Path), ("If-Match" = Option<String>, Header, description = "the version the change is based on")),
    request_body = SeedPatchRequest,
    responses(
        (status = 200, body = SeedView),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[patch("/seeds/{id}")]
pub async fn update(request: RecordRequest, body: Valid<SeedPatchRequest>) -> Answer {
    records::update(request, body.into_inner()?, Services::update_seed, SeedView::from).await
}

impl PatchRequest for SeedPatchRequest {
    type Patch = SeedPatch;
    fn into_patch(self) -> (SeedPatch, Option<i32>) {
        let patch = SeedPatch {
            title: self.title,
            summary: self.summary,
            confidential: self.confidential,
            modalities: self.modalities,
            disease_areas: self.disease_areas,
            stage: self.stage,
            ip_status: self.ip_status,
            deal_types: self.deal_types,
            keywords: self.keywords,
            visibility: self.visibility,
            language: self.language,
            external_ref: self.external_ref,
        };
        (patch, self.version)
    }
}

/// Publish a draft seed (an archived one is restored first).
#[utoipa::path(
    tag = "records",
    params(("id" = Uuid, Path), ("If-Match" = Option<String>, Header)),
    responses(
        (status = 200, body = SeedView),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[post("/seeds/{id}/publish")]
pub async fn publish(request: RecordRequest) -> Answer {
    move_to(request, RecordStatus::Published, Services::set_seed_status, SeedView::from).await
}

/// Archive a seed (it leaves search and lists; grants keep working for their holders).
#[utoipa::path(
    tag = "records",
    params(("id" = Uuid, Path), ("If-Match" = Option<String>, Header)),
    responses(
        (status = 200, body = SeedView),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[delete("/seeds/{id}")]
pub async fn archive(request: RecordRequest) -> Answer {
    move_to(request, RecordStatus::Archived, Services::set_seed_status, SeedView::from).await
}

/// Restore an archived seed (its owner): it becomes a draft again, to be edited and published.
#[utoipa::path(
    tag = "records",
    params(("id" = Uuid, Path), ("If-Match" = Option<String>, Header)),
    responses(
        (status = 200, body = SeedView),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[post("/seeds/{id}/restore")]
pub async fn restore(request: RecordRequest) -> Answer {
    move_to(request, RecordStatus::Draft, Services::set_seed_status, SeedView::from).await
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct GrantRequest {
    pub organization_id: Uuid,
    /// Access ends at this time; absent: until revoked.
    pub expires_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct GrantView {
    pub seed_id: Uuid,
    pub organization_id: Uuid,
    pub granted_by: Option<Uuid>,
    pub granted_at: DateTime<Utc>,
    pub expires_at: Option<DateTime<Utc>>,
    pub introduction_id: Option<Uuid>,
}

impl From<Grant> for GrantView {
    fn from(g: Grant) -> Self {
        GrantView {
            seed_id: g.seed_id,
            organization_id: g.organization_id,
            granted_by: g.granted_by,
            granted_at: g.granted_at,
            expires_at: g.expires_at,
            introduction_id: g.introduction_id,
        }
    }
}

/// Open the seed's confidential tier to an organisation (owner, TTO, liaison, admin).
#[utoipa::path(
    tag = "records",
    params(("id" = Uuid, Path)),
    request_body = GrantRequest,
    responses(
        (status = 201, body = GrantView),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[post("/seeds/{id}/grants")]
pub async fn grant(
    svc: Svc,
    member: CurrentMember,
    ctx: Ctx,
    id: web::Path<Uuid>,
    body: Valid<GrantRequest>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner()?;
    let grant = svc.grant_seed_access(&member, id.into_inner(), body.organization_id, body.expires_at, &ctx).await?;
    Ok(HttpResponse::Created().json(GrantView::from(grant)))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct GrantList {
    pub items: Vec<GrantView>,
}

/// The grants in force on a seed (owner, TTO, liaison, admin).
#[utoipa::path(
    tag = "records",
    params(("id" = Uuid, Path)),
    responses((status = 200, body = GrantList), (status = 404, body = Problem, content_type = "application/problem+json")),
    security(("bearer" = []))
)]
#[get("/seeds/{id}/grants")]
pub async fn grants(svc: Svc, member: CurrentMember, id: web::Path<Uuid>) -> Result<HttpResponse, ApiError> {
    let grants = svc.seed_grants(&member, id.into_inner()).await?;
    Ok(HttpResponse::Ok().json(GrantList { items: grants.into_iter().map(GrantView::from).collect() }))
}

/// Revoke an organisation's access; it takes effect on its next request.
#[utoipa::path(
    tag = "records",
    params(("id" = Uuid, Path), ("organization_id" = Uuid, Path)),
    responses((status = 204), (status = 404, body = Problem, content_type = "application/problem+json")),
    security(("bearer" = []))
)]
#[delete("/seeds/{id}/grants/{organization_id}")]
pub async fn revoke(
    svc: Svc,
    member: CurrentMember,
    ctx: Ctx,
    path: web::Path<(Uuid, Uuid)>,
) -> Result<HttpResponse, ApiError> {
    let (seed_id, organization_id) = path.into_inner();
    svc.revoke_seed_access(&member, seed_id, organization_id, &ctx).await?;
    Ok(HttpResponse::NoContent().finish())
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ImportQuery {
    /// The academic organisation the seeds belong to (admins; TTO staff import into their own).
    pub organization_id: Option<Uuid>,
    /// Validate and report without writing anything.
    #[serde(default)]
    pub dry_run: bool,
    /// Publish the imported seeds at once (default: drafts).
    #[serde(default)]
    pub publish: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ImportRowError {
    pub line: usize,
    pub field: String,
    pub message: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ImportReport {
    pub rows: usize,
    pub imported: usize,
    pub failed: usize,
    pub dry_run: bool,
    /// Of `imported`, the seeds updated because they already carried the row's `external_ref`.
    pub updated: usize,
    pub errors: Vec<ImportRowError>,
    /// What became of every row, by line.
    pub outcomes: Vec<ImportRowOutcome>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ImportRowOutcome {
    pub line: usize,
    pub outcome: ImportOutcome,
}

/// What became of one row of an import.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ImportOutcome {
    /// A new seed was added.
    Created,
    /// The seed already carrying the row's `external_ref` was updated.
    Updated,
    /// A dry run found nothing wrong with the row.
    Valid,
    /// Nothing of the row was written; `errors` says why.
    Failed,
}

impl From<import::RowOutcome> for ImportRowOutcome {
    fn from(row: import::RowOutcome) -> Self {
        let outcome = match row.outcome {
            import::Outcome::Created => ImportOutcome::Created,
            import::Outcome::Updated => ImportOutcome::Updated,
            import::Outcome::Valid => ImportOutcome::Valid,
            import::Outcome::Failed => ImportOutcome::Failed,
        };
        ImportRowOutcome { line: row.line, outcome }
    }
}

fn import_format(req: &HttpRequest) -> Result<Format, ApiError> {
    let content_type = req.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
    let essence = content_type.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
    match essence.as_str() {
        "text/csv" => Ok(Format::Csv),
        "application/x-ndjson" | "application/jsonl" | "application/json-lines" | "application/jsonlines" => {
            Ok(Format::JsonLines)
        }
        _ => {
            Err(ApiError::new(Code::UnsupportedMediaType).detail("send text/csv or application/x-ndjson (JSON lines)"))
        }
    }
}

/// Bulk import of seeds from CSV or JSON lines: admins for any academic organisation, TTO staff
/// for their own. Bad rows are reported by line and field; good rows are written whole.
///
/// # Errors
/// A problem document: 403 for a member who may not import, 415 for a body that is neither CSV
/// nor JSON lines, 422 for an empty file or an unknown organisation.
#[utoipa::path(
    post,
    path = "/seeds/import",
    tag = "records",
    params(ImportQuery),
    request_body(content = String, content_type = "text/csv", description = "CSV with a header row, or JSON lines (application/x-ndjson) with one seed object per line"),
    responses(
        (status = 200, body = ImportReport),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 415, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn import(
    svc: Svc,
    member: CurrentMember,
    ctx: Ctx,
    req: HttpRequest,
    query: web::Query<ImportQuery>,
    mut payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let organization_id = member.role.seed_import_target(member.organization_id, query.organization_id).map_err(
        |refusal| match refusal {
            ImportRefusal::OrganizationRequired => {
                ApiError::field(Code::ValidationFailed, "organization_id", refusal.to_string())
            }
            ImportRefusal::OwnOrganizationOnly | ImportRefusal::NotAllowed => {
                ApiError::new(Code::Forbidden).detail(refusal.to_string())
            }
        },
    )?;
    let format = import_format(&req)?;
    // The body is read only now, after the role check: nobody else makes the server buffer a file.
    let limit = req.app_data::<web::Data<crate::ApiSettings>>().map_or(1024 * 1024, |s| s.import_limit);
    let mut body = web::BytesMut::new();
    while let Some(chunk) = futures_util::StreamExt::next(&mut payload).await {
        let chunk = chunk.map_err(|_| ApiError::new(Code::BadRequest).detail("the request body could not be read"))?;
        if body.len() + chunk.len() > limit {
            return Err(
                ApiError::new(Code::PayloadTooLarge).detail(format!("import files are limited to {limit} bytes"))
            );
        }
        body.extend_from_slice(&chunk);
    }
    let rows = web::block(move || import::parse(&body, format)).await.map_err(|_| ApiError::new(Code::Internal))?;
    let options = Options {
        organization_id,
        owner_id: None,
        actor_id: Some(member.id),
        dry_run: query.dry_run,
        publish: query.publish,
    };
    let report = svc.import_seeds(rows, &options, &ctx, &|_| {}).await?;
    Ok(HttpResponse::Ok().json(ImportReport {
        rows: report.rows,
        imported: report.imported,
        failed: report.failed,
        dry_run: report.dry_run,
        updated: report.updated,
        errors: report
            .errors
            .into_iter()
            .map(|e| ImportRowError { line: e.line, field: e.field, message: e.message })
            .collect(),
        outcomes: report.outcomes.into_iter().map(ImportRowOutcome::from).collect(),
    }))
}
